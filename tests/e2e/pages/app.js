// The test app: `new Connect(config)` with a config built from `/config.json` and the query:
//
//   kind=oidc|oauth2          (default oidc), or the name of a provider integration
//                             (www/integrations/): its `browserConfig.test[variant]` from /config.json
//   variant=NAME              which of the integration's test configs (default "default")
//   exchange=token|backend|none   oauth2 only: tokenEndpoint, exchangeEndpoint, or neither (default token)
//   cb=plain|params           redirectUri /test/callback, or /test/callback?from=app (default plain)
//   refreshSkewMs=N, timeoutMs=N  passed through
//   returnTo=…                what #redirect passes (default: this page's path and query)
//   autoPopupMs=N             call popup() from the page's own timer N ms after it is ready,
//                             with no user gesture (the popup blocker test)
//   disconnectOn=STATUS       call disconnect() from the onStatus listener when told STATUS
//
// Exposes `window.conn`, `window.events`, `window.statuses` (what `conn.onStatus` heard),
// `window.result`, `window.lastError`; sets
// `body[data-ready]` to "true" once `conn` exists, or "error" (see #error) when it could not.
import { $, clearOutcome, lib, onEvent, query, showError, showResult } from "/test/common.js";

function buildConfig(t, integrations) {
  const kind = query.get("kind") ?? "oidc";
  const timing = {};
  for (const name of ["refreshSkewMs", "timeoutMs"]) {
    if (query.has(name)) timing[name] = Number(query.get(name));
  }
  if (kind !== "oidc" && kind !== "oauth2") {
    const variants = integrations?.[kind]?.test ?? {};
    return { ...variants[query.get("variant") ?? "default"], ...timing, onEvent };
  }
  const common = {
    clientId: t.clientId,
    redirectUri: t.redirectUris[query.get("cb") ?? "plain"],
    onEvent,
  };
  for (const name of ["refreshSkewMs", "timeoutMs"]) {
    if (query.has(name)) common[name] = Number(query.get(name));
  }
  if (kind === "oidc") return { kind, issuer: t.issuer, scope: ["openid", "profile", "email"], ...common };
  const config = { kind, authorizationEndpoint: t.authorizationEndpoint, scope: ["openid", "profile"], ...common };
  const exchange = query.get("exchange") ?? "token";
  if (exchange === "token") Object.assign(config, { tokenEndpoint: t.tokenEndpoint, issuer: t.issuer });
  if (exchange === "backend") config.exchangeEndpoint = t.exchangeEndpoint;
  return config;
}

/** Run an action now (inside the caller's user activation) and show how it ended; errors,
 * thrown or rejected, never escape as unhandled rejections. */
function settle(action, show = showResult) {
  let promise;
  try {
    promise = Promise.resolve(action());
  } catch (error) {
    promise = Promise.reject(error);
  }
  return promise.then(show, showError);
}

const showStatus = () => {
  if (window.conn) $("status").textContent = window.conn.status;
};
const showToken = (token) => {
  $("access-token").textContent = token;
};

async function main() {
  const [config] = await Promise.all([fetch("/config.json").then((r) => r.json()), lib.default()]);
  if (typeof lib.Connect !== "function") throw new Error("the package exports no Connect class");
  const conn = (window.conn = new lib.Connect(buildConfig(config.test, config.integrations)));
  // Status changes without an action too (another tab's refresh, reconnect_required): the core
  // reports each change, and every test that reads #status proves that it did (nothing polls).
  window.statuses = [];
  conn.onStatus((status) => {
    window.statuses.push(status);
    $("status").textContent = status;
    if (status === query.get("disconnectOn")) conn.disconnect();
  });
  showStatus();

  // popup() is called synchronously in the click handler: the click's user activation must
  // still be there when the library calls window.open.
  $("popup").addEventListener("click", () => {
    clearOutcome();
    settle(() => conn.popup());
  });
  $("redirect").addEventListener("click", () => {
    clearOutcome();
    const returnTo = query.get("returnTo") ?? location.pathname + location.search;
    settle(() => conn.redirect({ returnTo }), () => {});
  });
  $("token").addEventListener("click", () => {
    clearOutcome();
    settle(() => conn.accessToken(), showToken);
  });
  $("refresh").addEventListener("click", () => {
    clearOutcome();
    settle(() => conn.refresh(), (tokens) => showToken(tokens.accessToken));
  });

  if (query.has("autoPopupMs")) {
    setTimeout(() => settle(() => conn.popup()), Number(query.get("autoPopupMs")));
  }
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  showError(error);
  document.body.dataset.ready = "error";
});
