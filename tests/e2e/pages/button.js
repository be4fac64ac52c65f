// The button test page. Query:
//   kind=oidc|oauth2 (default oidc), mode=popup|redirect|auto (default: the library's, auto)
//   element=1        mount the custom element (setting its `config` property) instead of
//                    mountConnectButton
//   countTimers=1    count live intervals (window.liveIntervals), to check destroy()
//   autoClickMs=N    the page's own timer clicks the button from script (no user gesture)
// Every callback lands in `window.outcomes` ({ kind, value }) and on the console
// (`oauth-connect-event` lines, read by the tests like the app page's).
import { lib, onEvent, query } from "/test/common.js";

if (query.has("countTimers")) {
  // Wrap the timer functions before the library starts any, to see what destroy() leaves.
  const live = new Set();
  const { setInterval: set, clearInterval: clear } = window;
  window.setInterval = (...args) => {
    const id = set(...args);
    live.add(id);
    return id;
  };
  window.clearInterval = (id) => {
    live.delete(id);
    return clear(id);
  };
  window.liveIntervals = () => live.size;
}

const outcomes = (window.outcomes = []);
const record = (kind) => (value) => {
  const shown = value instanceof Error ? { code: value.code, message: value.message } : value;
  outcomes.push({ kind, value: shown });
  document.getElementById("outcomes").textContent = JSON.stringify(outcomes, null, 2);
  console.info(`oauth-connect-event ${JSON.stringify({ name: `button:${kind}`, meta: shown?.code ? { code: shown.code } : {} })}`);
};

async function main() {
  const [config] = await Promise.all([fetch("/config.json").then((r) => r.json()), lib.default()]);
  const t = config.test;
  const kind = query.get("kind") ?? "oidc";
  const connectConfig =
    kind === "oidc"
      ? { kind, issuer: t.issuer, clientId: t.clientId, redirectUri: t.redirectUris.plain, scope: ["openid", "profile"], onEvent }
      : { kind, authorizationEndpoint: t.authorizationEndpoint, tokenEndpoint: t.tokenEndpoint, clientId: t.clientId, redirectUri: t.redirectUris.plain, onEvent };
  if (query.has("refreshSkewMs")) connectConfig.refreshSkewMs = Number(query.get("refreshSkewMs"));
  const callbacks = { onSuccess: record("success"), onExit: record("exit"), onError: record("error") };

  if (query.get("element") === "1") {
    lib.defineConnectButton();
    const element = document.getElementById("element");
    if (query.has("mode")) element.setAttribute("mode", query.get("mode"));
    for (const type of ["connect-success", "connect-error", "connect-exit"]) {
      element.addEventListener(type, (event) => record(type)(event.detail));
    }
    element.config = connectConfig;
    window.button = element;
  } else {
    window.conn = new lib.Connect(connectConfig);
    window.handle = lib.mountConnectButton(document.getElementById("host"), {
      config: window.conn,
      mode: query.get("mode") ?? undefined,
      ...callbacks,
    });
    window.button = window.handle.element;
  }
  if (query.has("autoClickMs")) {
    setTimeout(() => window.button.click?.() ?? window.button.shadowRoot.querySelector("button").click(), Number(query.get("autoClickMs")));
  }
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  document.body.dataset.ready = "error";
  document.getElementById("outcomes").textContent = String(error?.stack ?? error);
});
