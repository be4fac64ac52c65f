// What the test pages share: the package, an event log, and how results and errors are shown.
//
// The package is imported as a namespace so that a missing export shows up as a readable error
// on the page (while the library is being built) instead of a module that fails to link.
import * as lib from "/pkg/index.js";

export { lib };
export const $ = (id) => document.getElementById(id);
export const query = new URLSearchParams(location.search);

/** Every onEvent call: in `window.events`, in `#events`, and on the console, where a test can
 * still read it after the page has navigated away (the redirect flow). */
export const events = (window.events = []);
export function onEvent(name, meta) {
  const entry = { name, meta: JSON.parse(JSON.stringify(meta ?? null)), page: location.pathname, at: Date.now() };
  events.push(entry);
  console.info(`oauth-connect-event ${JSON.stringify(entry)}`);
  const item = document.createElement("li");
  item.dataset.name = name;
  item.textContent = `${name} ${JSON.stringify(entry.meta)}`;
  $("events")?.append(item);
}

/** Forget the outcome of the previous action. */
export function clearOutcome() {
  delete $("result").dataset.outcome;
  delete $("error").dataset.code;
  $("result").textContent = "";
  $("error").textContent = "";
}

/** A ConnectResult (or `null` from handleCallback) in `#result`, as JSON. */
export function showResult(result) {
  window.result = result;
  $("result").dataset.outcome = result === null ? "none" : "success";
  $("result").textContent = JSON.stringify(result, null, 2);
}

/** A failure in `#error`: `data-code` is the ConnectError's code, `data-error` the provider's. */
export function showError(error) {
  const isConnectError = typeof lib.ConnectError === "function" && error instanceof lib.ConnectError;
  const shown = {
    code: isConnectError ? error.code : `not_a_connect_error:${error?.name}`,
    message: String(error?.message ?? error),
    error: error?.error,
    errorDescription: error?.errorDescription,
    status: error?.status,
  };
  window.lastError = shown;
  $("error").dataset.code = shown.code;
  $("error").dataset.error = shown.error ?? "";
  $("error").textContent = `${shown.code}: ${shown.message}`;
}
