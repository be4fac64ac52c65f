// The strict-CSP test page (index.html, served under the server's strictCsp()): the button
// mounted both ways, mountConnectButton into #host and <oauth-connect-button>, each with its own
// Connect to the real OpenID provider, redirectUri /test/csp/callback (same policy). Callbacks
// land in `window.outcomes` ({ kind, value }); `window.lib` is the package, for the test.
import { lib, onEvent } from "/test/common.js";

const outcomes = (window.outcomes = []);
const record = (kind) => (value) => {
  outcomes.push({ kind, value: value instanceof Error ? { code: value.code, message: value.message } : value });
  document.getElementById("outcomes").textContent = JSON.stringify(outcomes.map((o) => o.kind));
};

async function main() {
  const [config] = await Promise.all([fetch("/config.json").then((r) => r.json()), lib.default()]);
  const t = config.test;
  const oidc = () => ({ kind: "oidc", issuer: t.issuer, clientId: t.clientId, redirectUri: t.redirectUris.csp, scope: ["openid", "profile"], onEvent });
  window.lib = lib;
  window.handle = lib.mountConnectButton(document.getElementById("host"), {
    config: new lib.Connect(oidc()),
    mode: "popup",
    onSuccess: record("success"),
    onExit: record("exit"),
    onError: record("error"),
  });
  lib.defineConnectButton();
  const element = document.getElementById("element");
  element.setAttribute("mode", "popup");
  for (const type of ["connect-success", "connect-error", "connect-exit"]) {
    element.addEventListener(type, (event) => record(type)(event.detail));
  }
  element.config = oidc();
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  document.body.dataset.ready = "error";
  document.getElementById("outcomes").textContent = String(error?.stack ?? error);
});
