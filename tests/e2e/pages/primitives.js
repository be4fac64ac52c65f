// The page of primitives.test.mjs: the package's public entry, initialized, as `window.lib`, and
// the helpers the tests call through page.evaluate. `body[data-ready]` is "true" once init()
// has resolved, or "error" (see #error) when it could not.
import { $, lib } from "/test/common.js";

window.lib = lib;

/** A thrown value as plain data the test can read on the Node side. */
function describeThrown(error) {
  return {
    instanceOfConnectError: typeof lib.ConnectError === "function" && error instanceof lib.ConnectError,
    instanceOfError: error instanceof Error,
    constructorIsConnectError: error?.constructor === lib.ConnectError,
    name: error?.name,
    code: error?.code,
    message: String(error?.message ?? error),
    stack: typeof error?.stack,
    error: error?.error,
    errorDescription: error?.errorDescription,
    errorUri: error?.errorUri,
  };
}

/** Run `fn` synchronously: `{ value }` (what `map` makes of its result) or `{ thrown }`. */
window.attempt = (fn, map = (value) => value) => {
  try {
    return { value: map(fn()) };
  } catch (error) {
    return { thrown: describeThrown(error) };
  }
};

/**
 * Call `fn`, which must return a promise (never throw synchronously), and wait for it:
 * `{ promise: true, value }` or `{ promise: true, thrown }` (the rejection); `{ promise: false, ... }`
 * when it threw or returned something else.
 */
window.attemptAsync = async (fn) => {
  let returned;
  try {
    returned = fn();
  } catch (error) {
    return { promise: false, thrown: describeThrown(error) };
  }
  if (!(returned instanceof Promise)) return { promise: false, value: returned };
  try {
    return { promise: true, value: await returned };
  } catch (error) {
    return { promise: true, thrown: describeThrown(error) };
  }
};

// crypto.getRandomValues replaced by a zero-filler that counts its calls: an own property of
// `crypto` that shadows Crypto.prototype.getRandomValues until it is deleted again.
let zeroCalls = 0;
window.installZeroRandom = () => {
  zeroCalls = 0;
  crypto.getRandomValues = function (array) {
    zeroCalls++;
    array.fill(0);
    return array;
  };
};
window.restoreRandom = () => {
  delete crypto.getRandomValues; // back to Crypto.prototype.getRandomValues
  return zeroCalls;
};

/** The browser's own authorization URL: `URL` plus `searchParams.append`, arrays space-joined. */
window.browserAuthorizeUrl = (endpoint, entries) => {
  const url = new URL(endpoint);
  for (const [name, value] of entries) url.searchParams.append(name, Array.isArray(value) ? value.join(" ") : value);
  return url.href;
};

lib
  .default()
  .then(() => {
    document.body.dataset.ready = "true";
  })
  .catch((error) => {
    $("error").textContent = String(error?.message ?? error);
    document.body.dataset.ready = "error";
  });
