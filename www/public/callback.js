// The demo's callback page (the redirectUri). Flows started by a Connect (popup or redirect)
// are finished by handleCallback(); the demo's step-by-step walk-through, which keeps its own
// state, is checked here with parseCallback().
import init, { handleCallback, parseCallback } from "/pkg/index.js";

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
  if (!kept || !location.search.includes(`state=${kept.state}`)) return finishWithConnect();
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

async function finishWithConnect() {
  try {
    const result = await handleCallback();
    if (!result) return; // a popup's callback: relayed to the opener, and this window closes
    // A redirect flow: the demo page shows the result; a copy waits for it in this tab.
    sessionStorage.setItem(`oauth-connect-demo:result:${result.provider}`, JSON.stringify(result));
    if (result.returnTo) return location.replace(result.returnTo);
    $("outcome").textContent = "Connected.";
    $("outcome").dataset.outcome = "ok";
    show([
      ["provider", result.provider],
      ["scope", result.tokens?.scope ?? "(none)"],
      ["expires", result.tokens?.expiresAt ? new Date(result.tokens.expiresAt).toLocaleTimeString() : "(not said)"],
    ]);
  } catch (error) {
    $("outcome").textContent = `Refused: ${error.code}`;
    $("outcome").dataset.outcome = error.code;
    show([["message", error.message]]);
  }
}

main();
