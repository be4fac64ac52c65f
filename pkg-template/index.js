// oauth-connect: the package's entry module. The init guard, the ConnectError class, the public
// classes and functions as thin shells, and the effect runner: every decision is made in Rust
// (src/machine/, a sans-IO state machine). The runner sends it what happened as events and
// carries out each effect it answers with one browser call; it branches on effect kinds only,
// never on providers, codes, states or URLs.
import buttonCss from "./button-style.js";

// ---- the wasm loader: the core's exports, strings in and out ------------------------------
// The wasm (src/lib.rs) exports plain functions over its memory: `oc_input(capacity)` gives
// its one input buffer, into which a string is encoded as UTF-8 and whose length in bytes is
// passed to the export; an export's answer stays in the wasm until the next call, at the pointer
// it returns, `oc_len()` bytes long. Its one import fills bytes with crypto.getRandomValues (at
// most 65536 at a time) and answers 0, or 1 when that threw: a ConnectError, never a trap.
let core; // the wasm instance's exports
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const bytesAt = (ptr, len) => new Uint8Array(core.memory.buffer, ptr >>> 0, len >>> 0);

/** Encode `text` into the wasm's input buffer; its length in bytes, the export's argument. */
function put(text) {
  const capacity = text.length * 3; // UTF-8 takes at most 3 bytes per UTF-16 unit
  const ptr = core.oc_input(capacity);
  return encoder.encodeInto(text, bytesAt(ptr, capacity)).written;
}

/** The answer an export returned the location of. */
const answer = (ptr) => decoder.decode(bytesAt(ptr, core.oc_len()));

const imports = {
  env: {
    oc_random(ptr, len) {
      try {
        crypto.getRandomValues(bytesAt(ptr, len));
        return 0;
      } catch {
        return 1;
      }
    },
  },
};

const wasm = {
  tab_open: (origin) => core.tab_open(put(origin)),
  tab_handle: (now, event) => answer(core.tab_handle(now, put(event))),
  tab_status: (id) => answer(core.tab_status(id)),
  tab_tokens: (id) => answer(core.tab_tokens(id)),
  tab_button_state: (id) => answer(core.tab_button_state(id)),
  primitive: (call) => answer(core.primitive(put(call))),
};

/** Instantiate the wasm from `source` (see init) and keep its exports. */
async function initWasm(source = new URL("oauth_connect_bg.wasm", import.meta.url)) {
  source = await source;
  if (typeof source === "string" || source instanceof URL || (typeof Request === "function" && source instanceof Request)) {
    source = await fetch(source);
  }
  let result;
  if (typeof Response === "function" && source instanceof Response) {
    // Streaming compilation needs the server to say application/wasm; otherwise the bytes.
    result =
      typeof WebAssembly.instantiateStreaming === "function" && /^application\/wasm\s*(;|$)/i.test(source.headers.get("content-type"))
        ? await WebAssembly.instantiateStreaming(source, imports)
        : await WebAssembly.instantiate(await source.arrayBuffer(), imports);
  } else {
    result = await WebAssembly.instantiate(source, imports);
  }
  core = (result.instance ?? result).exports;
}

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
  loading ??= initWasm(wasmSource).then(
    () => {
      wasm.tab_open(location.origin);
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

function toError(fields) {
  const error = new ConnectError(fields.code, fields.message);
  for (const key of ["error", "errorDescription", "errorUri", "status"]) if (key in fields) error[key] = fields[key];
  return error;
}

// ---- the primitives: one string each way -------------------------------------------------
function primitive(name) {
  return (...args) => {
    if (!ready) throw notInitialized();
    const text = wasm.primitive(json([name, ...args]) ?? JSON.stringify([name]));
    // A string answer comes as `"` and the string itself; anything else as JSON.
    if (text[0] === '"') return text.slice(1);
    const answer = JSON.parse(text);
    if (answer.error) throw toError(answer.error);
    return answer.ok;
  };
}

export const createPkce = primitive("createPkce");
export const pkceChallenge = primitive("pkceChallenge");
export const randomState = primitive("randomState");
export const idempotencyKey = primitive("idempotencyKey");
export const buildAuthorizeUrl = primitive("buildAuthorizeUrl");
export const parseCallback = primitive("parseCallback");
export const widgetIdentity = primitive("widgetIdentity");

// ---- the runner ---------------------------------------------------------------------------
/** JSON text of a value, or null when it has none (a function, a cycle, a BigInt). */
function json(value) {
  try {
    return JSON.stringify(value) ?? null;
  } catch {
    return null;
  }
}

let nextId = 0;
const calls = new Map(); // call id → { resolve, reject } or, for a synchronous call, { sync: true }
const handlers = { connection: new Map(), call: new Map(), button: new Map() }; // id → onEvent
const windows = new Map(); // window id → Window
const timers = new Map(); // timer id → setTimeout handle
const locks = new Map(); // lock id → release()
const buttons = new Map(); // button id → { target, options, elements, listeners }
let channel = null;
let listeningToChannel = false;

/** Call an app's function; what it throws is reported, never breaks the runner. */
function callApp(fn, ...args) {
  if (typeof fn !== "function") return;
  try {
    fn(...args);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

function storageArea(name) {
  try {
    return name === "local" ? localStorage : sessionStorage;
  } catch {
    return null;
  }
}

function screenOf() {
  return [window.screenX, window.screenY, window.outerWidth, window.outerHeight];
}

// How much of what others send (any window's postMessage, the channel, an HTTP body) may enter
// the wasm's memory: more is passed on as nothing (a message) or as a failed request (a body),
// before a byte of it is copied. A relayed callback or a token set is a few KB.
const MAX_MESSAGE = 65536;
const MAX_BODY = 1 << 20;

/** Message data as JSON text, or null when it has none or is larger than MAX_MESSAGE. */
function messageData(data) {
  const text = json(data);
  return text !== null && text.length <= MAX_MESSAGE ? text : null;
}

function onMessage(event) {
  feed({ k: "message", origin: event.origin, data: messageData(event.data) });
}

function openChannel() {
  channel ??= new BroadcastChannel("oauth-connect");
  return channel;
}

/** Send one event to the core and carry out its effects, in order, before returning. */
// Strings cross as well-formed UTF-16: a lone surrogate (which JSON.stringify writes as an
// escape the core refuses) becomes U+FFFD, as TextEncoder would make it anyway.
const wellFormed = (key, value) => (typeof value === "string" && value.toWellFormed ? value.toWellFormed() : value);

/**
 * Send one event to the core and carry out its effects, in order, before returning. False when
 * the core could not read the event (its call is then rejected by the caller).
 */
function feed(event) {
  const effects = JSON.parse(wasm.tab_handle(Date.now(), JSON.stringify(event, wellFormed)));
  if (effects === null) return false;
  for (const effect of effects) run(effect);
  return true;
}

function unreadable() {
  return new ConnectError("invalid_config", "the arguments could not be read: not JSON-able, or nested too deeply");
}

function run(e) {
  switch (e.k) {
    case "open": {
      let popup = null;
      try {
        popup = window.open("", "_blank", e.features);
      } catch {}
      if (!popup) return feed({ k: "blocked", window: e.window });
      windows.set(e.window, popup);
      try {
        popup.document.title = e.title;
        popup.document.body.textContent = e.title;
      } catch {}
      return feed({ k: "opened", window: e.window, closed: popup.closed });
    }
    case "adopt": {
      const popup = calls.get(e.call)?.window;
      if (!popup) return feed({ k: "blocked", window: e.window });
      windows.set(e.window, popup);
      return feed({ k: "opened", window: e.window, closed: popup.closed });
    }
    case "navigate":
      try {
        windows.get(e.window).location.href = e.url;
      } catch {}
      return;
    case "poll": {
      const popup = windows.get(e.window);
      const closed = !popup || popup.closed;
      let foreign = false;
      if (!closed) {
        try {
          void popup.location.href;
        } catch {
          foreign = true;
        }
      }
      return feed({ k: "windowState", window: e.window, closed, foreign, focus: document.hasFocus() });
    }
    case "close": {
      const popup = windows.get(e.window);
      windows.delete(e.window);
      try {
        if (popup && !popup.closed) popup.close();
      } catch {}
      return;
    }
    case "fetch": {
      const headers = { accept: "application/json" };
      if (e.type) headers["content-type"] = e.type;
      const failed = () => feed({ k: "http", request: e.request, failed: true });
      fetch(e.url, { method: e.method, headers, body: e.body }).then(
        (response) =>
          response.text().then(
            (body) => (body.length > MAX_BODY ? failed() : feed({ k: "http", request: e.request, status: response.status, body })),
            () => feed({ k: "http", request: e.request, status: response.status, body: "" }),
          ),
        failed,
      );
      return;
    }
    case "read": {
      const area = storageArea(e.area);
      const entries = [];
      try {
        for (let i = 0; i < area.length; i++) {
          const key = area.key(i);
          if (key?.startsWith(e.prefix)) entries.push([key, area.getItem(key)]);
        }
      } catch {}
      return feed({ k: "entries", read: e.read, entries });
    }
    case "write":
      try {
        storageArea(e.area).setItem(e.key, e.value);
      } catch {}
      return;
    case "remove":
      try {
        storageArea(e.area).removeItem(e.key);
      } catch {}
      return;
    case "listen":
      if (e.source === "messages") window.addEventListener("message", onMessage);
      else {
        listeningToChannel = true;
        openChannel().onmessage = (event) => feed({ k: "channel", data: messageData(event.data) });
      }
      return;
    case "unlisten":
      if (e.source === "messages") window.removeEventListener("message", onMessage);
      else {
        listeningToChannel = false;
        channel?.close();
        channel = null;
      }
      return;
    case "broadcast":
      openChannel().postMessage(e.message);
      if (!listeningToChannel) {
        channel.close();
        channel = null;
      }
      return;
    case "toOpener":
      try {
        window.opener?.postMessage(e.message, location.origin);
      } catch {}
      return;
    case "closeSelf":
      window.close();
      return;
    case "lock":
      if (!navigator.locks) {
        locks.set(e.lock, () => {});
        return feed({ k: "granted", lock: e.lock });
      }
      // A request the browser refuses (an opaque origin, say) goes on without the lock, as
      // where there are no Web Locks at all.
      navigator.locks
        .request(e.name, () => new Promise((release) => {
          locks.set(e.lock, release);
          feed({ k: "granted", lock: e.lock });
        }))
        .catch(() => {
          if (locks.has(e.lock)) return;
          locks.set(e.lock, () => {});
          feed({ k: "granted", lock: e.lock });
        });
      return;
    case "unlock":
      locks.get(e.lock)?.();
      locks.delete(e.lock);
      return;
    case "timer":
      timers.set(e.timer, setTimeout(() => {
        timers.delete(e.timer);
        feed({ k: "fired", timer: e.timer });
      }, e.ms));
      return;
    case "cancelTimer":
      clearTimeout(timers.get(e.timer));
      timers.delete(e.timer);
      return;
    case "replaceUrl":
      history.replaceState(history.state, "", e.url);
      return;
    case "navigateSelf":
      location.assign(e.url);
      return;
    case "resolve":
    case "reject": {
      const call = calls.get(e.call);
      if (!call) return;
      calls.delete(e.call);
      handlers.call.delete(e.call);
      call.cleanup?.();
      if (call.sync) call.outcome = e;
      else if (e.k === "resolve") call.resolve(e.value);
      else call.reject(toError(e.error));
      return;
    }
    case "emit":
      callApp(handlers[e.to].get(e.id), e.name, e.meta);
      return;
    case "createButton":
      return createButton(e.button);
    case "draw":
      return drawButton(e);
    case "callButton": {
      const options = buttons.get(e.button)?.options;
      callApp(options?.[e.callback], "error" in e ? toError(e.error) : e.value);
      return;
    }
    case "removeButton": {
      const button = buttons.get(e.button);
      buttons.delete(e.button);
      handlers.button.delete(e.button);
      button?.elements?.wrapper.remove();
      return;
    }
  }
}

/** A promise for the core's answer to `event` (its `call` is filled in). */
function asyncCall(event, extra) {
  const call = ++nextId;
  return new Promise((resolve, reject) => {
    calls.set(call, { resolve, reject, ...extra });
    if (!feed({ ...event, call })) {
      calls.delete(call);
      extra?.cleanup?.();
      reject(unreadable());
    }
  });
}

/** The core's answer to `event`, synchronously: its value, or the ConnectError thrown. */
function syncCall(event) {
  const call = ++nextId;
  const record = { sync: true };
  calls.set(call, record);
  const read = feed({ ...event, call });
  calls.delete(call);
  if (!read || !record.outcome) throw unreadable();
  if (record.outcome.k === "reject") throw toError(record.outcome.error);
  return record.outcome.value;
}

// ---- the public classes ---------------------------------------------------------------------
/** `handleCallback(url?, options?)`: run it on the redirectUri page, on every load. */
export function handleCallback(url, options) {
  if (!ready) return Promise.reject(notInitialized());
  const call = nextId + 1;
  if (options?.onEvent) handlers.call.set(call, options.onEvent);
  return asyncCall({ k: "handleCallback", url: url ?? null, href: location.href, hasOpener: !!window.opener });
}

// The core's id of each Connect, for mountConnectButton.
const connectionIds = new WeakMap();
// A Connect the app no longer holds is forgotten by the core too. A call in flight holds its
// Connect (`owner` in its record), so `await new Connect(config).popup()` is never cut short.
const dropped = new FinalizationRegistry((id) => dropConnection(id));
function dropConnection(id) {
  handlers.connection.delete(id);
  feed({ k: "dropConnection", connection: id });
}

/** One connection to one provider; see the README. Every method asks the core. */
export class Connect {
  #id;
  constructor(config) {
    if (!ready) throw notInitialized();
    this.#id = ++nextId;
    syncCall({ k: "newConnect", connection: this.#id, config: config !== null && typeof config === "object" ? config : null });
    if (typeof config.onEvent === "function") handlers.connection.set(this.#id, config.onEvent);
    connectionIds.set(this, this.#id);
    dropped.register(this, this.#id, this);
  }
  popup(options) {
    if (!ready) return Promise.reject(notInitialized());
    const event = { k: "call", op: "popup", connection: this.#id, screen: screenOf(), timeoutMs: options?.timeoutMs };
    const extra = { owner: this };
    if (options && "window" in options && options.window !== undefined) {
      event.window = options.window !== null;
      extra.window = options.window;
    }
    const signal = options?.signal;
    if (signal?.aborted) event.aborted = true;
    else if (signal) {
      const call = nextId + 1;
      const abort = () => feed({ k: "aborted", call });
      signal.addEventListener("abort", abort);
      extra.cleanup = () => signal.removeEventListener("abort", abort);
    }
    return asyncCall(event, extra);
  }
  redirect(options) {
    if (!ready) return Promise.reject(notInitialized());
    return asyncCall({ k: "call", op: "redirect", connection: this.#id, returnTo: options?.returnTo }, { owner: this });
  }
  accessToken() {
    return asyncCall({ k: "call", op: "accessToken", connection: this.#id }, { owner: this });
  }
  refresh() {
    return asyncCall({ k: "call", op: "refresh", connection: this.#id }, { owner: this });
  }
  tokens() {
    return JSON.parse(wasm.tab_tokens(this.#id));
  }
  get status() {
    return wasm.tab_status(this.#id);
  }
  requireReconnect() {
    syncCall({ k: "call", op: "requireReconnect", connection: this.#id });
  }
  disconnect() {
    syncCall({ k: "call", op: "disconnect", connection: this.#id });
  }
}

// ---- the connect button: elements made here, drawn and decided by the core -------------------
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

function createButton(id) {
  const { target } = buttons.get(id);
  const document = target.ownerDocument ?? window.document;
  const make = (tag, className, attributes) => {
    const element = document.createElement(tag);
    element.className = className;
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    return element;
  };
  const wrapper = make("span", "oauth-connect", { part: "wrapper" });
  const button = make("button", "oauth-connect-button", { part: "button", type: "button" });
  const cancel = make("button", "oauth-connect-cancel", { part: "cancel", type: "button" });
  cancel.hidden = true;
  const live = make("span", "oauth-connect-live", { role: "status", "aria-live": "polite" });
  wrapper.append(button, cancel, live);
  target.appendChild(wrapper);
  adoptButtonStyle(target);
  button.addEventListener("click", () => feed({ k: "click", button: id, screen: screenOf() }));
  cancel.addEventListener("click", () => feed({ k: "cancel", button: id }));
  buttons.get(id).elements = { wrapper, button, cancel, live };
}

function drawButton(e) {
  const elements = buttons.get(e.button)?.elements;
  if (!elements) return;
  const { button, cancel, live } = elements;
  const attribute = (name, on, value = "true") => (on ? button.setAttribute(name, value) : button.removeAttribute(name));
  button.textContent = e.label;
  button.setAttribute("data-state", e.state);
  attribute("aria-busy", e.busy);
  button.disabled = e.busy;
  attribute("aria-disabled", e.inert);
  cancel.textContent = e.cancelLabel;
  cancel.hidden = !e.cancelShown;
  live.textContent = e.announcement;
}

/** `mountConnectButton(target, options)`: a native button driven by the core (src/machine/button.rs). */
export function mountConnectButton(target, options) {
  if (!ready) throw notInitialized();
  const given = options?.config;
  if (!(target instanceof Node)) throw new ConnectError("invalid_config", "mountConnectButton needs a target element");
  if (given === null || typeof given !== "object") {
    throw new ConnectError("invalid_config", "mountConnectButton needs options.config: a provider config or a Connect");
  }
  // A config of its own makes the button a Connect, which it holds and drops when destroyed.
  const own = connectionIds.has(given) ? null : new Connect(given);
  const connect = own ?? given;
  const connection = connectionIds.get(connect);
  const id = ++nextId;
  buttons.set(id, { target, options, connect, elements: null });
  if (typeof options.onEvent === "function") handlers.button.set(id, options.onEvent);
  try {
    syncCall({
      k: "mount",
      button: id,
      connection,
      options: { mode: options.mode, labels: options.labels },
      userAgent: navigator.userAgent,
      returnTo: location.pathname + location.search + location.hash,
    });
  } catch (error) {
    feed({ k: "destroy", button: id }); // a button the core made before a step failed goes again
    buttons.delete(id);
    handlers.button.delete(id);
    if (own) dropped.unregister(own), dropConnection(connection);
    throw error;
  }
  return {
    get element() {
      return buttons.get(id)?.elements?.button ?? null;
    },
    get state() {
      return wasm.tab_button_state(id);
    },
    setState(state) {
      syncCall({ k: "setState", button: id, state });
    },
    destroy() {
      if (!buttons.has(id)) return;
      feed({ k: "destroy", button: id });
      if (own) dropped.unregister(own), dropConnection(connection);
    },
  };
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
