// The demo page: makes a PKCE pair and state with the library, builds the authorization URL for
// the local OpenID provider, and keeps what the callback page must check in sessionStorage.
import init, { createPkce, randomState, buildAuthorizeUrl } from "/pkg/index.js";

const $ = (id) => document.getElementById(id);

async function main() {
  const [config] = await Promise.all([fetch("/config.json").then((r) => r.json()), init()]);
  const { issuer, authorizationEndpoint, clientId, redirectUri } = config.oidc;
  $("issuer").textContent = issuer;

  function regenerate() {
    const pkce = createPkce();
    const state = randomState();
    const url = buildAuthorizeUrl(authorizationEndpoint, {
      response_type: "code",
      client_id: clientId,
      redirect_uri: redirectUri,
      scope: ["openid", "profile", "email"],
      state,
      code_challenge: pkce.challenge,
      code_challenge_method: pkce.method,
    });
    $("verifier").textContent = pkce.verifier;
    $("challenge").textContent = pkce.challenge;
    $("state").textContent = state;
    $("authorize-url").textContent = url;
    $("open-provider").href = url;
    // Only what the callback check needs: the expected state and issuer (no verifier).
    sessionStorage.setItem("oauth-connect-demo", JSON.stringify({ state, issuer }));
  }

  $("regenerate").addEventListener("click", regenerate);
  regenerate();
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  $("status").textContent = `Could not start: ${error.code ?? error.name}: ${error.message}`;
});
