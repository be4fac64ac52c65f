// oauth-connect: the package's entry module. A thin shell over the wasm: the init guard, the
// ConnectError class, re-exports, and the button's stylesheet. Every decision is made in Rust (src/).
import initWasm, * as wasm from "./oauth_connect.js";
import buttonCss from "./button-style.js";

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

// The wasm object behind each Connect, for mountConnectButton.
const wasmConnect = new WeakMap();

/** One connection to one provider; see the README. Every method delegates to the wasm. */
export class Connect {
  #inner;
  constructor(config) {
    if (!ready) throw notInitialized();
    this.#inner = new wasm.Connect(config);
    wasmConnect.set(this, this.#inner);
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

// The button's stylesheet (button.css), one constructed sheet per document: a sheet can only be
// adopted in the document it was made for. Not inline style, so `style-src 'self'` and Trusted
// Types let it through.
const buttonSheets = new WeakMap();

/** Adopt the button's sheet, once, by the document or shadow root a button was mounted in. */
function adoptButtonStyle(target) {
  const root = target.getRootNode();
  // A target not yet in a document styles through its document, as a `<style>` in <head> did.
  const scope = "adoptedStyleSheets" in root ? root : target.ownerDocument;
  const view = scope?.defaultView ?? scope?.ownerDocument?.defaultView;
  if (!view) return; // a document without a window (a template's, DOMParser's): nothing renders
  let sheet = buttonSheets.get(view.document);
  if (!sheet) {
    sheet = new view.CSSStyleSheet();
    sheet.replaceSync(buttonCss);
    buttonSheets.set(view.document, sheet);
  }
  if (!scope.adoptedStyleSheets.includes(sheet)) scope.adoptedStyleSheets = [...scope.adoptedStyleSheets, sheet];
}

/** `mountConnectButton(target, options)`: a native button driven by the wasm (src/button.rs). */
export function mountConnectButton(target, options) {
  if (!ready) throw notInitialized();
  const connect = wasmConnect.get(options?.config);
  const handle = connect ? wasm.mountConnectButtonWith(target, options, connect) : wasm.mountConnectButton(target, options);
  // Past the wasm's checks, so target is a Node and the button is in it; same task, so the
  // button is never painted without its style.
  adoptButtonStyle(target);
  return handle;
}

/**
 * `defineConnectButton(tagName?)`: registers `<oauth-connect-button>`. Give it a `config`
 * property (a provider config or a Connect); it dispatches `connect-success`, `connect-error`,
 * `connect-exit` and `connect-event` (the payload in `detail`) and styles through
 * `::part(button)` and CSS custom properties. Attributes: `mode`, and `label-<state>`.
 */
export function defineConnectButton(tagName = "oauth-connect-button") {
  if (!ready) throw notInitialized();
  if (customElements.get(tagName)) return;
  customElements.define(
    tagName,
    class OAuthConnectButton extends HTMLElement {
      #config = null;
      #button = null;
      constructor() {
        super();
        this.attachShadow({ mode: "open" });
      }
      get config() {
        return this.#config;
      }
      set config(value) {
        this.#config = value;
        this.#mount();
      }
      get state() {
        return this.#button?.state ?? "idle";
      }
      get button() {
        return this.#button?.element ?? null;
      }
      connectedCallback() {
        this.#mount();
      }
      disconnectedCallback() {
        this.#button?.destroy();
        this.#button = null;
      }
      #mount() {
        this.#button?.destroy();
        this.#button = null;
        if (!this.isConnected || !this.#config) return;
        const send = (type) => (detail) => this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
        const labels = {};
        for (const state of ["idle", "connecting", "connected", "reconnect", "error", "waiting", "cancel"]) {
          const label = this.getAttribute(`label-${state}`);
          if (label !== null) labels[state] = label;
        }
        this.#button = mountConnectButton(this.shadowRoot, {
          config: this.#config,
          mode: this.getAttribute("mode") ?? undefined,
          labels,
          onSuccess: send("connect-success"),
          onError: send("connect-error"),
          onExit: send("connect-exit"),
          onEvent: (name, meta) => send("connect-event")({ name, meta }),
        });
      }
    },
  );
}
