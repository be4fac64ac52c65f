// oauth-connect: the package's entry module. A thin shell over the wasm: the init guard, the
// ConnectError class, and re-exports. Every decision is made in Rust (src/).
import initWasm, * as wasm from "./oauth_connect.js";

/** Every failure of the library. `code` is stable; see the README for the list. */
export class ConnectError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "ConnectError";
    this.code = code;
  }
}

let ready = false;
let loading = null;

/**
 * Load the wasm. Idempotent: every call returns the same promise; after a failure (e.g. the
 * .wasm could not be fetched) the next call tries again.
 * @param {string | URL | Request | Response | BufferSource | WebAssembly.Module} [wasmSource]
 *   where to load the .wasm from; by default next to this file.
 */
export default function init(wasmSource) {
  loading ??= initWasm(wasmSource === undefined ? undefined : { module_or_path: wasmSource }).then(
    () => {
      wasm.__setErrorClass(ConnectError);
      ready = true;
    },
    (error) => {
      loading = null;
      throw error;
    },
  );
  return loading;
}

function notInitialized() {
  return new ConnectError("not_initialized", "oauth-connect is not initialized yet: await init() before calling it");
}

// Before init() the generated glue would fail with a raw TypeError; callers get a
// ConnectError("not_initialized") instead.
const guarded = (fn) =>
  function (...args) {
    if (!ready) throw notInitialized();
    return fn.apply(this, args);
  };

export const createPkce = guarded(wasm.createPkce);
export const pkceChallenge = guarded(wasm.pkceChallenge);
export const randomState = guarded(wasm.randomState);
export const idempotencyKey = guarded(wasm.idempotencyKey);
export const buildAuthorizeUrl = guarded(wasm.buildAuthorizeUrl);
export const parseCallback = guarded(wasm.parseCallback);
export const widgetIdentity = guarded(wasm.widgetIdentity);

/** `handleCallback(url?, options?)`: run it on the redirectUri page, on every load. */
export function handleCallback(url, options) {
  if (!ready) return Promise.reject(notInitialized());
  return wasm.handleCallback(url, options);
}

/** One connection to one provider; see the README. Every method delegates to the wasm. */
export class Connect {
  #inner;
  constructor(config) {
    if (!ready) throw notInitialized();
    this.#inner = new wasm.Connect(config);
  }
  popup(options) {
    return this.#inner.popup(options);
  }
  redirect(options) {
    return this.#inner.redirect(options);
  }
  accessToken() {
    return this.#inner.accessToken();
  }
  refresh() {
    return this.#inner.refresh();
  }
  tokens() {
    return this.#inner.tokens();
  }
  get status() {
    return this.#inner.status;
  }
  requireReconnect() {
    this.#inner.requireReconnect();
  }
  disconnect() {
    this.#inner.disconnect();
  }
}
