// oauth-connect: the package's entry module. The init guard, the ConnectError class, the public
// classes and functions as thin shells, and the effect runner: every decision is made in Rust
// (src/machine/, a sans-IO state machine). The runner sends it what happened as events and
// carries out each effect it answers with one browser call; it branches on effect kinds only,
// never on providers, codes, states or URLs.
import buttonCss from "./button-style.js";

// ---- the wire: event and effect kinds --------------------------------------------------------
// Events and effects cross as JSON arrays, the kind first and the fields after it in a fixed
// order: the tables at the top of src/wire.rs. These names are the kinds; the minifier puts
// each number in its place (it can only while they come before any statement that does
// something, so they stay first).
// Events (what the runner sends):
const NEW_CONNECT = 0, CALL = 1, ABORTED = 2, HANDLE_CALLBACK = 3, OPENED = 4, BLOCKED = 5, WINDOW_STATE = 6,
  HTTP = 7, ENTRIES = 8, GRANTED = 9, FIRED = 10, MESSAGE = 11, CHANNEL = 12, MOUNT = 13, CLICK = 14,
  CANCEL = 15, SET_STATE = 16, DESTROY = 17, DROP_CONNECTION = 18;
// The operations of a CALL event:
const POPUP = 0, REDIRECT = 1, ACCESS_TOKEN = 2, REFRESH = 3, REQUIRE_RECONNECT = 4, DISCONNECT = 5;
// Effects (what the core answers with), in the order of src/effect.rs `Effect`:
const OPEN = 0, ADOPT = 1, NAVIGATE = 2, POLL = 3, CLOSE = 4, FETCH = 5, READ = 6, WRITE = 7, REMOVE = 8,
  LISTEN = 9, UNLISTEN = 10, BROADCAST = 11, TO_OPENER = 12, CLOSE_SELF = 13, LOCK = 14, UNLOCK = 15,
  TIMER = 16, CANCEL_TIMER = 17, REPLACE_URL = 18, NAVIGATE_SELF = 19, RESOLVE = 20, REJECT = 21, EMIT = 22,
  CREATE_BUTTON = 23, DRAW = 24, CALL_BUTTON = 25, REMOVE_BUTTON = 26;
// A source to listen to is 0 (this window's messages) or CHANNEL_SOURCE; an area 0
// (sessionStorage) or 1 (localStorage).
const CHANNEL_SOURCE = 1;

// ---- the wasm loader: the core's exports, strings in and out ------------------------------
// The wasm (src/lib.rs) exports plain functions over its memory: `oc_input(capacity)` gives
// its one input buffer, into which a string is encoded as UTF-8 and whose length in bytes is
// passed to the export; an export's answer stays in the wasm until the next call, at the pointer
// it returns, `oc_len()` bytes long. Its one import fills bytes with crypto.getRandomValues (256
// at a time, src/random.rs) and answers 0, or 1 when that threw: a ConnectError, never a trap.
// The exports and the import have one-letter names (the table in src/lib.rs); each call below
// names the Rust function it reaches.
let core; // the wasm instance's exports
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const bytesAt = (ptr, len) => new Uint8Array(core.memory.buffer, ptr >>> 0, len >>> 0);
// Short ASCII text is copied one unit per byte in JS rather than through TextEncoder and
// TextDecoder: measured in a connect click's loop (docs/size.md), the copy loop beats
// `encodeInto` up to about a thousand characters, and `String.fromCharCode` beats `decode` for
// answers up to a couple of hundred bytes (a state, a PKCE pair), while a URL of 300 bytes
// decodes faster through TextDecoder. Anything longer or not ASCII goes through the codecs,
// which also keeps `fromCharCode.apply` far from its argument-count limit.
const SHORT_INPUT = 1024; // UTF-16 units
const SHORT_ANSWER = 192; // bytes

/** Encode `text` into the wasm's input buffer; its length in bytes, the export's argument. */
function put(text) {
  const capacity = text.length * 3; // UTF-8 takes at most 3 bytes per UTF-16 unit
  const ptr = core.i(/* oc_input */ capacity);
  if (!ptr) return 0; // no memory for it: the export reads an empty input and refuses it
  const bytes = bytesAt(ptr, capacity);
  if (text.length <= SHORT_INPUT) {
    let i = 0;
    for (; i < text.length; i += 1) {
      const unit = text.charCodeAt(i);
      if (unit > 127) break;
      bytes[i] = unit;
    }
    if (i === text.length) return i;
  }
  return encoder.encodeInto(text, bytes).written;
}

/** The answer an export returned the location of. */
function answer(ptr) {
  const bytes = bytesAt(ptr, core.l() /* oc_len */);
  if (bytes.length > SHORT_ANSWER) return decoder.decode(bytes);
  for (let i = 0; i < bytes.length; i += 1) if (bytes[i] > 127) return decoder.decode(bytes);
  return String.fromCharCode.apply(null, bytes);
}

const imports = {
  e: {
    // `oc_random` (src/random.rs)
    r(ptr, len) {
      try {
        crypto.getRandomValues(bytesAt(ptr, len));
        return 0;
      } catch {
        return 1;
      }
    },
  },
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
      core.o(/* tab_open */ put(location.origin));
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

/** A primitive's call as JSON text: its arguments dropped when they have none (the core then
 * refuses them), and lone surrogates written as U+FFFD, as for the events (`wellFormed`), rather
 * than as escapes the core's JSON reader refuses. The replacer runs only when one is there. */
function callText(call) {
  const text = json(call);
  if (text === null) return JSON.stringify([call[0]]);
  return /\\ud[89a-f]/.test(text) ? JSON.stringify(call, wellFormed) : text;
}

/** A ConnectError from the core's `[code, message, error, errorDescription, errorUri, status]`
 * (src/wire.rs `write_error`): the members after the message only where not null. */
function toError([code, message, ...more]) {
  const error = new ConnectError(code, message);
  ["error", "errorDescription", "errorUri", "status"].forEach((key, i) => more[i] != null && (error[key] = more[i]));
  return error;
}

// ---- the primitives: one string each way -------------------------------------------------
// Each is called by its index in src/primitives.rs `run`. The three that take no argument (0 to
// 2) go through src/lib.rs `primitive_bare`, with no input to write.
function primitive(index) {
  return (...args) => {
    if (!ready) throw notInitialized();
    const text = answer(index < 3 ? core.q(/* primitive_bare */ index) : core.p(/* primitive */ put(callText([index, ...args]))));
    // A string answer comes as `"` and the string itself; anything else as JSON.
    if (text[0] === '"') return text.slice(1);
    const result = JSON.parse(text);
    if (result.error) throw toError(result.error);
    return result.ok;
  };
}

export const createPkce = primitive(0);
export const randomState = primitive(1);
export const idempotencyKey = primitive(2);
export const pkceChallenge = primitive(3);
export const buildAuthorizeUrl = primitive(4);
export const parseCallback = primitive(5);
export const widgetIdentity = primitive(6);

// ---- the runner ---------------------------------------------------------------------------
// (the kinds of events and effects are the constants at the top of this file)
/** JSON text of a value, or null when it has none (a function, a cycle, a BigInt). */
function json(value) {
  try {
    return JSON.stringify(value) ?? null;
  } catch {
    return null;
  }
}

let nextId = 0;
const calls = new Map(); // call id → { resolve, reject, ... }; a synchronous call's pair keeps the answer for syncCall
// id → onEvent, of connections, handleCallback calls and buttons (an EMIT's listener: 0, 1, 2),
// and of a Connect's onStatus listeners (3: the event's name is the new status)
const connectionHandlers = new Map();
const callHandlers = new Map();
const buttonHandlers = new Map();
const statusHandlers = new Map();
const handlers = [connectionHandlers, callHandlers, buttonHandlers, statusHandlers];
const windows = new Map(); // window id → Window
const timers = new Map(); // timer id → setTimeout handle
const locks = new Map(); // lock id → release()
const buttons = new Map(); // button id → { target, options, elements, listeners }
let channel = null;
let listeningToChannel = false;

// The app's functions (onEvent, onStatus, the button's callbacks) run once the event that
// called them is carried out to its end, in order: one that calls back into the library
// (`disconnect()` on "connected", `popup()` on "idle") then starts from what the core decided,
// not between the effects of an event it already answered.
let feeding = 0; // how many feeds are running, nested (an effect answered at once feeds again)
const appCalls = [];

/** Call an app's function (or leave the page: CLOSE_SELF, NAVIGATE_SELF) after the running feed. */
function callApp(fn, ...args) {
  if (typeof fn !== "function") return;
  appCalls.push(() => fn(...args));
  if (!feeding) callAppNow();
}

function callAppNow() {
  while (appCalls.length) safely(appCalls.shift());
}

/** Call an app's function now; what it throws is reported, never breaks the runner. */
function safely(fn, ...args) {
  try {
    fn(...args);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

function storageArea(local) {
  try {
    return local ? localStorage : sessionStorage;
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
  feed([MESSAGE, event.origin, messageData(event.data)]);
}

// Flow windows are opened by a hidden frame of this page (same origin, about:blank), so that a
// window's `opener` is that frame and not this page: no page of the provider (or of its login
// chain) can navigate the app's tab through `window.opener` (reverse tabnabbing). Chromium lets
// a cross-origin popup navigate neither its opener frame nor that frame's top, while this page
// still watches, navigates and closes the window (it is same-origin with the frame). The
// callback page's message to its opener arrives at the frame, which is listened to as well.
let openerFrame = null;
let listeningToMessages = false;

function openerWindow() {
  if (!openerFrame?.isConnected || !openerFrame.contentWindow) {
    openerFrame = document.createElement("iframe");
    openerFrame.hidden = true;
    openerFrame.tabIndex = -1;
    openerFrame.setAttribute("aria-hidden", "true");
    (document.body ?? document.documentElement).append(openerFrame);
    if (listeningToMessages) openerFrame.contentWindow?.addEventListener("message", onMessage);
  }
  return openerFrame.contentWindow ?? window;
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
  feeding += 1;
  let effects;
  try {
    effects = JSON.parse(answer(core.h(/* tab_handle */ Date.now(), put(JSON.stringify(event, wellFormed)))));
    if (effects !== null) for (const effect of effects) run(effect);
  } finally {
    feeding -= 1;
    if (!feeding) callAppNow();
  }
  return effects !== null;
}

function unreadable() {
  return new ConnectError("invalid_config", "the arguments could not be read: not JSON-able, or nested too deeply");
}

/** Carry out one effect: `[kind, ...fields]`, the fields named here as src/wire.rs lists them. */
function run(e) {
  switch (e[0]) {
    case OPEN: {
      const [, id, features, title] = e;
      let popup = null;
      try {
        popup = openerWindow().open("", "_blank", features);
      } catch {}
      if (!popup) return feed([BLOCKED, id]);
      windows.set(id, popup);
      try {
        popup.document.title = title;
        popup.document.body.textContent = title;
      } catch {}
      return feed([OPENED, id, popup.closed]);
    }
    case ADOPT: {
      const [, id, call] = e;
      const popup = calls.get(call)?.window;
      if (!popup) return feed([BLOCKED, id]);
      windows.set(id, popup);
      return feed([OPENED, id, popup.closed]);
    }
    case NAVIGATE:
      try {
        windows.get(e[1]).location.href = e[2];
      } catch {}
      return;
    case POLL: {
      const popup = windows.get(e[1]);
      const closed = !popup || popup.closed;
      let foreign = false;
      if (!closed) {
        try {
          void popup.location.href;
        } catch {
          foreign = true;
        }
      }
      return feed([WINDOW_STATE, e[1], closed, foreign, document.hasFocus()]);
    }
    case CLOSE: {
      const popup = windows.get(e[1]);
      windows.delete(e[1]);
      try {
        if (popup && !popup.closed) popup.close();
      } catch {}
      return;
    }
    case FETCH: {
      const [, request, method, url, type, body] = e;
      const headers = { accept: "application/json" };
      if (type) headers["content-type"] = type;
      // A failed request is its id alone; an answer its id, status and body.
      const failed = () => feed([HTTP, request]);
      // `referrerPolicy: "origin"`: a callback page served with `no-referrer` (as advised) still
      // sends its origin in `Origin`, which the app's backend checks, and never its address
      // (which holds the code) in `Referer`.
      fetch(url, { method, headers, body, referrerPolicy: "origin" }).then(
        (response) =>
          response.text().then(
            (text) => (text.length > MAX_BODY ? failed() : feed([HTTP, request, response.status, text])),
            () => feed([HTTP, request, response.status, ""]),
          ),
        failed,
      );
      return;
    }
    case READ: {
      const [, read, local, prefix] = e;
      const area = storageArea(local);
      const entries = [];
      try {
        for (let i = 0; i < area.length; i++) {
          const key = area.key(i);
          if (key?.startsWith(prefix)) entries.push([key, area.getItem(key)]);
        }
      } catch {}
      return feed([ENTRIES, read, entries]);
    }
    case WRITE:
      try {
        storageArea(e[1]).setItem(e[2], e[3]);
      } catch {}
      return;
    case REMOVE:
      try {
        storageArea(e[1]).removeItem(e[2]);
      } catch {}
      return;
    case LISTEN:
      if (e[1] !== CHANNEL_SOURCE) {
        listeningToMessages = true;
        window.addEventListener("message", onMessage);
        openerFrame?.contentWindow?.addEventListener("message", onMessage);
      } else {
        listeningToChannel = true;
        openChannel().onmessage = (event) => feed([CHANNEL, messageData(event.data)]);
      }
      return;
    case UNLISTEN:
      if (e[1] !== CHANNEL_SOURCE) {
        listeningToMessages = false;
        window.removeEventListener("message", onMessage);
        openerFrame?.contentWindow?.removeEventListener("message", onMessage);
      } else {
        listeningToChannel = false;
        channel?.close();
        channel = null;
      }
      return;
    case BROADCAST:
      openChannel().postMessage(e[1]);
      if (!listeningToChannel) {
        channel.close();
        channel = null;
      }
      return;
    case TO_OPENER:
      try {
        window.opener?.postMessage(e[1], location.origin);
      } catch {}
      return;
    case CLOSE_SELF:
      // Leaving the page is queued behind the app's functions this feed called (`callApp`), as
      // it came after them when they ran at once: an `onEvent` hears its last events first.
      return callApp(() => window.close());
    case LOCK: {
      const [, lock, name] = e;
      const granted = (release) => {
        locks.set(lock, release);
        feed([GRANTED, lock]);
      };
      if (!navigator.locks) return granted(() => {});
      // A request the browser refuses (an opaque origin, say) goes on without the lock, as
      // where there are no Web Locks at all.
      navigator.locks
        .request(name, () => new Promise(granted))
        .catch(() => locks.has(lock) || granted(() => {}));
      return;
    }
    case UNLOCK:
      locks.get(e[1])?.();
      locks.delete(e[1]);
      return;
    case TIMER: {
      const [, timer, ms] = e;
      timers.set(timer, setTimeout(() => {
        timers.delete(timer);
        feed([FIRED, timer]);
      }, ms));
      return;
    }
    case CANCEL_TIMER:
      clearTimeout(timers.get(e[1]));
      timers.delete(e[1]);
      return;
    case REPLACE_URL:
      history.replaceState(history.state, "", e[1]);
      return;
    case NAVIGATE_SELF:
      return callApp(() => location.assign(e[1])); // queued as CLOSE_SELF is
    case RESOLVE:
    case REJECT: {
      const [kind, id, outcome] = e;
      const call = calls.get(id);
      if (!call) return;
      calls.delete(id);
      callHandlers.delete(id);
      call.cleanup?.();
      if (kind === RESOLVE) call.resolve(outcome);
      else call.reject(toError(outcome));
      return;
    }
    case EMIT: {
      const [, listener, id, name, meta] = e;
      callApp(handlers[listener].get(id), name, meta);
      return;
    }
    case CREATE_BUTTON:
      return createButton(e[1]);
    case DRAW:
      return drawButton(e);
    case CALL_BUTTON: {
      // The value, or null and the error, or neither (onExit).
      const [, id, callback, value, error] = e;
      callApp(buttons.get(id)?.options?.[callback], error ? toError(error) : value);
      return;
    }
    case REMOVE_BUTTON: {
      const button = buttons.get(e[1]);
      buttons.delete(e[1]);
      buttonHandlers.delete(e[1]);
      button?.elements?.wrapper.remove();
      return;
    }
  }
}

/** A promise for the core's answer to the event `[kind, <a new call id>, ...fields]`. */
function asyncCall(kind, fields, extra) {
  const call = ++nextId;
  return new Promise((resolve, reject) => {
    calls.set(call, { resolve, reject, ...extra });
    if (!feed([kind, call, ...fields])) {
      calls.delete(call);
      extra?.cleanup?.();
      reject(unreadable());
    }
  });
}

/**
 * The core's answer to the event `[kind, <a new call id>, ...fields]`, synchronously: its
 * value, or the ConnectError thrown.
 */
function syncCall(kind, fields) {
  const call = ++nextId;
  let outcome; // [value] or [, error], once the core answered
  calls.set(call, { resolve: (value) => (outcome = [value]), reject: (error) => (outcome = [, error]) });
  const read = feed([kind, call, ...fields]);
  calls.delete(call);
  if (!read || !outcome) throw unreadable();
  if (1 in outcome) throw outcome[1];
  return outcome[0];
}

/**
 * A value the core reads "as given", last in its event: left out where JSON leaves out an
 * object's member (undefined, a function, a symbol), so the core tells "not given" from `null`.
 */
const given = (value) => (value === undefined || typeof value === "function" || typeof value === "symbol" ? [] : [value]);

// ---- the public classes ---------------------------------------------------------------------
/** `handleCallback(url?, options?)`: run it on the redirectUri page, on every load. */
export function handleCallback(url, options) {
  if (!ready) return Promise.reject(notInitialized());
  const call = nextId + 1;
  if (options?.onEvent) callHandlers.set(call, options.onEvent);
  return asyncCall(HANDLE_CALLBACK, [location.href, !!window.opener, url ?? null]);
}

// The core's id of each Connect, for mountConnectButton.
const connectionIds = new WeakMap();
// A Connect the app no longer holds is forgotten by the core too. A call in flight holds its
// Connect (`owner` in its record), so `await new Connect(config).popup()` is never cut short.
const dropped = new FinalizationRegistry((id) => dropConnection(id));
function dropConnection(id) {
  connectionHandlers.delete(id);
  statusHandlers.delete(id);
  feed([DROP_CONNECTION, id]);
}

/** One connection to one provider; see the README. Every method asks the core. */
export class Connect {
  #id;
  #onEvent;
  #statusListeners = new Set();
  constructor(config) {
    if (!ready) throw notInitialized();
    this.#id = ++nextId;
    syncCall(NEW_CONNECT, [this.#id, config !== null && typeof config === "object" ? config : null]);
    // The runner reaches the app's functions of a Connect (its onEvent, its onStatus listeners)
    // only through a weak reference to it: one that uses its Connect, as most do, must not keep
    // it, and with it the core's connection, alive once the app lets it go.
    if (typeof config.onEvent === "function") this.#onEvent = config.onEvent;
    const connect = new WeakRef(this);
    connectionHandlers.set(this.#id, (name, meta) => {
      const onEvent = connect.deref()?.#onEvent;
      onEvent?.(name, meta);
    });
    statusHandlers.set(this.#id, (status) => connect.deref()?.#tell(status));
    connectionIds.set(this, this.#id);
    dropped.register(this, this.#id, this);
  }
  popup(options) {
    if (!ready) return Promise.reject(notInitialized());
    const extra = { owner: this };
    // options.window: true for a window, false for null (the app's window.open was blocked),
    // null when not given.
    let window = null;
    if (options && "window" in options && options.window !== undefined) {
      window = options.window !== null;
      extra.window = options.window;
    }
    const signal = options?.signal;
    if (signal && !signal.aborted) {
      const call = nextId + 1;
      const abort = () => feed([ABORTED, call]);
      signal.addEventListener("abort", abort);
      extra.cleanup = () => signal.removeEventListener("abort", abort);
    }
    const fields = [this.#id, POPUP, screenOf(), !!signal?.aborted, window, ...given(options?.timeoutMs)];
    return asyncCall(CALL, fields, extra);
  }
  redirect(options) {
    if (!ready) return Promise.reject(notInitialized());
    return asyncCall(CALL, [this.#id, REDIRECT, ...given(options?.returnTo)], { owner: this });
  }
  accessToken() {
    return asyncCall(CALL, [this.#id, ACCESS_TOKEN], { owner: this });
  }
  refresh() {
    return asyncCall(CALL, [this.#id, REFRESH], { owner: this });
  }
  tokens() {
    return JSON.parse(answer(core.t(/* tab_tokens */ this.#id)));
  }
  get status() {
    return answer(core.s(/* tab_status */ this.#id));
  }
  requireReconnect() {
    syncCall(CALL, [this.#id, REQUIRE_RECONNECT]);
  }
  disconnect() {
    syncCall(CALL, [this.#id, DISCONNECT]);
  }
  /**
   * Call `listener(status)` after each change of `status` (a flow here, or tokens that came or
   * went in another tab), as the core reports it; returns the function that stops it.
   */
  onStatus(listener) {
    if (typeof listener !== "function") throw new ConnectError("invalid_config", "onStatus needs a function");
    const listeners = this.#statusListeners;
    const entry = (status) => listener(status); // its own entry, if the same function is added twice
    listeners.add(entry);
    return () => listeners.delete(entry);
  }
  #tell(status) {
    // Over a copy, each still subscribed: a listener may stop itself or another one.
    const listeners = this.#statusListeners;
    for (const each of [...listeners]) if (listeners.has(each)) safely(each, status);
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
  button.addEventListener("click", () => feed([CLICK, id, screenOf()]));
  cancel.addEventListener("click", () => feed([CANCEL, id]));
  buttons.get(id).elements = { wrapper, button, cancel, live };
}

/** A DRAW effect: `[DRAW, button, state, label, busy, inert, cancelLabel, cancelShown, announcement]`. */
function drawButton([, id, state, label, busy, inert, cancelLabel, cancelShown, announcement]) {
  const elements = buttons.get(id)?.elements;
  if (!elements) return;
  const { button, cancel, live } = elements;
  const attribute = (name, on, value = "true") => (on ? button.setAttribute(name, value) : button.removeAttribute(name));
  button.textContent = label;
  button.setAttribute("data-state", state);
  attribute("aria-busy", busy);
  button.disabled = busy;
  attribute("aria-disabled", inert);
  cancel.textContent = cancelLabel;
  cancel.hidden = !cancelShown;
  live.textContent = announcement;
}

/** `mountConnectButton(target, options)`: a native button driven by the core (src/machine/button.rs). */
export function mountConnectButton(target, options) {
  if (!ready) throw notInitialized();
  const given = options?.config;
  if (!(target instanceof Node)) throw new ConnectError("invalid_config", "mountConnectButton needs a target element");
  // A config of its own makes the button a Connect, which it holds and drops when destroyed.
  // Anything else that is not a Connect reaches the core as no connection, and the core refuses
  // the button (with the one message for it, src/machine/button.rs).
  const own = given !== null && typeof given === "object" && !connectionIds.has(given) ? new Connect(given) : null;
  const connect = own ?? given;
  const connection = connectionIds.get(connect) ?? 0;
  const id = ++nextId;
  buttons.set(id, { target, options, connect, elements: null });
  // `options` may be missing altogether: the core refuses that button as one without a config.
  if (typeof options?.onEvent === "function") buttonHandlers.set(id, options.onEvent);
  try {
    const returnTo = location.pathname + location.search + location.hash;
    syncCall(MOUNT, [id, connection, { mode: options?.mode, labels: options?.labels }, navigator.userAgent, returnTo]);
  } catch (error) {
    feed([DESTROY, id]); // a button the core made before a step failed goes again
    buttons.delete(id);
    buttonHandlers.delete(id);
    if (own) dropped.unregister(own), dropConnection(connection);
    throw error;
  }
  return {
    get element() {
      return buttons.get(id)?.elements?.button ?? null;
    },
    get state() {
      return answer(core.b(/* tab_button_state */ id));
    },
    setState(state) {
      syncCall(SET_STATE, [id, state]);
    },
    destroy() {
      if (!buttons.has(id)) return;
      feed([DESTROY, id]);
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
        // Every `label-<name>` attribute; the core takes the names it knows and ignores others.
        const labels = {};
        for (const { name, value } of this.attributes) if (name.startsWith("label-")) labels[name.slice(6)] = value;
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
