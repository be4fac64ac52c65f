// The demo page: one connect button per provider (all local), what each connection gives the
// app, a live event log, the reconnect path, and the primitives underneath.
import init, {
  Connect, buildAuthorizeUrl, createPkce, idempotencyKey, mountConnectButton, randomState, widgetIdentity,
} from "/pkg/index.js";

const $ = (id) => document.getElementById(id);
const card = (name) => $(`card-${name}`);
const field = (name, key) => card(name).querySelector(`[data-field="${key}"]`);
const note = (name, text) => (card(name).querySelector(".note").textContent = text);
const action = (name, key) => card(name).querySelector(`[data-action="${key}"]`);
const TITLES = { oidc: "OpenID Connect", torque: "Torque Connect", turnqey: "Turnqey", liquid: "Liquid" };

/** A secret shown the way a careful app would: a few characters, never the whole. */
const masked = (secret) => (secret ? `${secret.slice(0, 6)}… (${secret.length} chars)` : "none");
const claimsOf = (jwt) => JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));

function logEvent(name, meta) {
  const item = document.createElement("li");
  const time = new Date().toLocaleTimeString([], { hour12: false });
  item.dataset.name = name;
  item.innerHTML = `<time></time> <b></b> <span></span>`;
  item.querySelector("time").textContent = time;
  item.querySelector("b").textContent = name;
  item.querySelector("span").textContent = [meta.provider, meta.mode, meta.code].filter(Boolean).join(" · ");
  $("events").prepend(item);
  while ($("events").children.length > 60) $("events").lastChild.remove();
}

// Live countdowns to each connection's expiry.
const expiries = {};
function tick() {
  for (const [name, at] of Object.entries(expiries)) {
    const seconds = Math.round((at - Date.now()) / 1000);
    field(name, "expiry").textContent = seconds > 0 ? `expires in ${seconds} s` : "expired (accessToken() refreshes it)";
  }
}

const show = {
  oidc(conn) {
    const tokens = conn.tokens();
    if (!tokens) return;
    card("oidc").querySelector(".result").hidden = false;
    const claims = tokens.idToken ? claimsOf(tokens.idToken) : {};
    // The ID token's claims (this provider sends profile claims from userinfo, not in the token).
    field("oidc", "user").textContent = [claims.name ?? claims.sub, claims.email && `<${claims.email}>`].filter(Boolean).join(" ") || "?";
    field("oidc", "scope").textContent = tokens.scope ?? "";
    field("oidc", "token").textContent = masked(tokens.accessToken);
    expiries.oidc = tokens.expiresAt;
    tick();
  },
  torque(result) {
    const { accessToken, expiresIn } = result.exchange ?? {};
    if (!accessToken) return;
    card("torque").querySelector(".result").hidden = false;
    const claims = claimsOf(accessToken);
    field("torque", "claims").textContent = `sub ${claims.sub} · scope ${claims.scope} · aud ${claims.aud}`;
    expiries.torque = Date.now() + expiresIn * 1000;
    state.torqueToken = accessToken;
    tick();
  },
  turnqey(result) {
    card("turnqey").querySelector(".result").hidden = false;
    field("turnqey", "collection").textContent = result.collection;
    field("turnqey", "platform").textContent = result.params?.platform ?? "";
    field("turnqey", "status").textContent = result.params?.status ?? "connected";
    state.collection = result.collection;
  },
  liquid(result) {
    card("liquid").querySelector(".result").hidden = false;
    field("liquid", "session").textContent = `${result.session.sessionId} · secret ${masked(result.session.sessionSecret)}`;
    const accounts = result.exchange?.accounts ?? [];
    field("liquid", "accounts").textContent = accounts.map((a) => `${a.balance} ${a.currency}`).join(", ") || "not checked";
    const identity = widgetIdentity(result);
    identity.user_session.session_secret = masked(identity.user_session.session_secret);
    field("liquid", "identity").textContent = JSON.stringify(identity, null, 1);
  },
};
const state = {};

/** A call to the app's own backend: every route takes a JSON POST from this origin only. */
const postJson = (path, body, headers = {}) =>
  fetch(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

async function main() {
  const [config] = await Promise.all([fetch("/config.json").then((r) => r.json()), init()]);
  const { issuer, clientId, redirectUri, authorizationEndpoint } = config.oidc;
  card("oidc").querySelector(".issuer").textContent = issuer;

  const configs = {
    oidc: { kind: "oidc", issuer, clientId, redirectUri, scope: ["openid", "profile", "email"], tokenStorage: "session", refreshSkewMs: 10_000 },
    ...Object.fromEntries(Object.entries(config.integrations).map(([name, { demo }]) => [name, demo])),
  };
  const connections = {};
  for (const [name, settings] of Object.entries(configs)) {
    connections[name] = new Connect({ ...settings, onEvent: logEvent });
  }

  // Results of redirect flows, kept by the callback page for this page to show.
  for (const name of Object.keys(show)) {
    const kept = sessionStorage.getItem(`oauth-connect-demo:result:${name}`);
    sessionStorage.removeItem(`oauth-connect-demo:result:${name}`);
    if (kept && name !== "oidc") show[name](JSON.parse(kept));
  }
  show.oidc(connections.oidc);

  let buttons = [];
  function mountButtons() {
    for (const button of buttons) button.destroy();
    const mode = document.querySelector("input[name=mode]:checked").value;
    buttons = Object.entries(connections).map(([name, conn]) =>
      mountConnectButton(card(name).querySelector(".button-host"), {
        config: conn,
        mode,
        labels: { idle: `Connect ${TITLES[name]}`, connected: `${TITLES[name]} connected`, reconnect: `Reconnect ${TITLES[name]}` },
        onSuccess: (result) => {
          note(name, "");
          name === "oidc" ? show.oidc(conn) : show[name](result);
        },
        onError: (error) => note(name, `${error.code}: ${error.message}`),
        onExit: (error) => note(name, error ? `Closed before finishing (${error.code}).` : ""),
      }),
    );
  }
  for (const radio of document.querySelectorAll("input[name=mode]")) radio.addEventListener("change", mountButtons);
  mountButtons();

  // OpenID Connect: the always-valid token, refresh, and the reconnect path.
  const oidc = connections.oidc;
  const run = (name, work) => work().then(() => show.oidc(oidc), (error) => note(name, `${error.code}: ${error.message}`));
  action("oidc", "token").addEventListener("click", () => run("oidc", async () => note("oidc", `accessToken(): ${masked(await oidc.accessToken())}`)));
  action("oidc", "refresh").addEventListener("click", () => run("oidc", async () => { await oidc.refresh(); note("oidc", "Refreshed: a new access token and a rotated refresh token."); }));
  action("oidc", "revoke").addEventListener("click", async () => {
    await postJson("/api/demo/oidc/revoke", {});
    note("oidc", "The provider revoked the grant. The next refresh finds out, and the button offers Reconnect.");
  });
  action("oidc", "disconnect").addEventListener("click", () => {
    oidc.disconnect();
    card("oidc").querySelector(".result").hidden = true;
    delete expiries.oidc;
    note("oidc", "Disconnected in every tab.");
  });

  // Torque: an execute call with an Idempotency-Key, and the same call again.
  let lastTransfer = null;
  async function transfer(key) {
    const response = await fetch("/api/torque/transfers", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${state.torqueToken}`, "idempotency-key": key },
      body: JSON.stringify({ amount: "25.00", asset: "USDC", destination: "wallet-demo-42", memo: "oauth-connect demo" }),
    });
    const body = await response.json();
    if (!response.ok) return note("torque", `Execute refused: ${body.error ?? response.status}`);
    const replayed = lastTransfer?.key === key;
    lastTransfer = { key, id: body.id };
    field("torque", "transfer").textContent = `${body.id}${replayed ? " (the same transfer: replayed, not sent twice)" : ""}`;
    action("torque", "retry").disabled = false;
  }
  action("torque", "transfer").addEventListener("click", () => transfer(idempotencyKey()));
  action("torque", "retry").addEventListener("click", () => lastTransfer && transfer(lastTransfer.key));

  // Turnqey: revocation at the source, learned by the app's backend, then one clear reconnect.
  action("turnqey", "revoke").addEventListener("click", async () => {
    await postJson("/api/turnqey/revoke", { collection: state.collection });
    note("turnqey", "The exchange revoked Turnqey's access. Check with Turnqey to find out.");
  });
  action("turnqey", "check").addEventListener("click", async () => {
    const answer = await postJson("/api/turnqey/collection", { id: state.collection ?? "" }).then((r) => r.json());
    const revoked = answer.reconnectRequired || answer.connections?.some((c) => c.status !== "active");
    field("turnqey", "status").textContent = revoked ? "revoked" : "active";
    if (revoked) {
      connections.turnqey.requireReconnect();
      note("turnqey", "Revoked: one click on Reconnect links it again, into the same collection.");
    } else {
      note("turnqey", "Still active.");
    }
  });

  setInterval(tick, 1000);
  primitives(authorizationEndpoint, clientId, redirectUri, issuer);
  document.body.dataset.ready = "true";
}

// The building blocks, shown step by step.
function primitives(authorizationEndpoint, clientId, redirectUri, issuer) {
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
}

main().catch((error) => {
  $("status").textContent = `Could not start: ${error.code ?? error.name}: ${error.message}`;
});
