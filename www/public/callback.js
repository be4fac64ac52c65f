// The demo's callback page: validates the provider's answer with parseCallback() against the
// state and issuer the demo page kept, then takes the OAuth parameters out of the address bar.
import init, { parseCallback } from "/pkg/index.js";

const $ = (id) => document.getElementById(id);

function show(rows) {
  for (const [name, value] of rows) {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = name;
    dd.textContent = value;
    $("details").append(dt, dd);
  }
}

async function main() {
  await init();
  const kept = JSON.parse(sessionStorage.getItem("oauth-connect-demo") ?? "null");
  sessionStorage.removeItem("oauth-connect-demo");
  const url = location.href;
  history.replaceState(null, "", location.pathname);
  try {
    const result = parseCallback(url, { state: kept?.state ?? "(none kept)", issuer: kept?.issuer });
    $("outcome").textContent = "A valid authorization response.";
    $("outcome").dataset.outcome = "ok";
    show([
      ["code", `${result.code.slice(0, 4)}… (${result.code.length} characters, not shown in full)`],
      ["iss", result.iss ?? "(not sent)"],
      ["state", "matches the one sent"],
    ]);
  } catch (error) {
    $("outcome").textContent = `Refused: ${error.code}`;
    $("outcome").dataset.outcome = error.code;
    show([
      ["message", error.message],
      ...(error.error ? [["error", error.error]] : []),
      ...(error.errorDescription ? [["error_description", error.errorDescription]] : []),
    ]);
  }
}

main();
