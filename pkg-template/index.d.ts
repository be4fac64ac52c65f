// Types of the oauth-connect entry module (the public contract: see README.md).

export type ErrorCode =
  | "not_initialized" | "invalid_config" | "insecure_config" | "invalid_verifier" | "busy"
  | "popup_blocked" | "popup_closed" | "timeout" | "aborted" | "authorization_error"
  | "state_mismatch" | "unknown_state" | "already_handled" | "transaction_expired"
  | "issuer_mismatch" | "duplicate_parameter" | "missing_code" | "invalid_callback"
  | "invalid_id_token" | "network" | "token_error" | "reconnect_required";

/** Every failure of the library: a stable `code`, a message without secrets, and what the provider said. */
export class ConnectError extends Error {
  readonly name: "ConnectError";
  readonly code: ErrorCode;
  /** The provider's `error` (RFC 6749 §4.1.2.1, §5.2). */
  readonly error?: string;
  readonly errorDescription?: string;
  readonly errorUri?: string;
  /** The HTTP status of a failed request. */
  readonly status?: number;
}

/** Load the wasm; idempotent. Every other export works once it has resolved. */
export default function init(
  wasmSource?: string | URL | Request | Response | BufferSource | WebAssembly.Module,
): Promise<void>;

export interface PkcePair {
  /** base64url of 32 CSPRNG bytes (RFC 7636 §4.1): a secret, sent only with the token request. */
  verifier: string;
  /** BASE64URL(SHA-256(verifier)) (RFC 7636 §4.2). */
  challenge: string;
  method: "S256";
}

/** A fresh PKCE pair. */
export function createPkce(): PkcePair;
/** The S256 challenge of `verifier`; throws `invalid_verifier` unless 43–128 chars of `[A-Za-z0-9-._~]`. */
export function pkceChallenge(verifier: string): string;
/** 256 CSPRNG bits, base64url, for `state` and `nonce`. */
export function randomState(): string;
/** A random UUID v4 for `Idempotency-Key` headers. */
export function idempotencyKey(): string;

/**
 * The endpoint's own query first, then `params` in insertion order (arrays space-joined,
 * `undefined` values skipped), form-urlencoded as `URLSearchParams` serializes. Throws
 * `invalid_config` for a fragment, a parameter given twice, or plain http other than loopback.
 */
export function buildAuthorizeUrl(endpoint: string, params?: Record<string, string | string[] | undefined>): string;

export interface CallbackExpectation {
  /** The state sent with the request. */
  state: string;
  /** When given, a returned `iss` must equal it (RFC 9207). */
  issuer?: string;
  responseMode?: "query" | "fragment";
}

export interface ParsedCallback {
  code: string;
  state: string;
  iss?: string;
  /** Every parameter of the callback, `code` included. */
  params: Record<string, string>;
}

/**
 * Validate an authorization response. Throws, in this order: `duplicate_parameter`,
 * `authorization_error`, `state_mismatch`, `issuer_mismatch`, `missing_code`, `invalid_callback`.
 */
export function parseCallback(url: string, expect: CallbackExpectation): ParsedCallback;

/** Common options of every config. */
export interface CommonOptions {
  /** Called for every flow event; `meta` never holds a token, code, verifier or secret. */
  onEvent?(name: EventName, meta: EventMeta): void;
  /** How long a popup flow may take (ms, default 300 000). */
  timeoutMs?: number;
  /** Refresh when the access token expires within this many ms (default 60 000). */
  refreshSkewMs?: number;
  /** "memory" (default): tokens live in this page's memory, shared with the app's other tabs
   * over BroadcastChannel. "session": also kept in sessionStorage across reloads of the tab. */
  tokenStorage?: "memory" | "session";
}

export type EventName =
  | "open" | "popup_blocked" | "redirect" | "callback" | "exchange" | "success" | "error" | "exit"
  | "popup_severed" | "refresh" | "reconnect_required" | "ignored_message";

export interface EventMeta {
  provider: ProviderKind;
  mode?: "popup" | "redirect";
  code?: ErrorCode;
}

export type ProviderKind = "oauth2" | "oidc" | "torque" | "turnqey" | "liquid";

/** Authorization code + PKCE against explicit endpoints. */
export interface OAuth2Config extends CommonOptions {
  kind: "oauth2";
  authorizationEndpoint: string;
  clientId: string;
  redirectUri: string;
  scope?: string | string[];
  /** Provider extras such as `access_type: "offline"`, `prompt: "consent"`. */
  extraParams?: Record<string, string>;
  responseMode?: "query" | "fragment";
  /** When given, a returned `iss` must equal it (RFC 9207). */
  issuer?: string;
  /** The browser redeems the code as a public client. */
  tokenEndpoint?: string;
  /** Your backend redeems the code: it gets `{ code, codeVerifier, redirectUri, state }`. */
  exchangeEndpoint?: string;
}

/** OpenID Connect: endpoints from discovery, `openid` scope, nonce, ID token checks. */
export interface OidcConfig extends CommonOptions {
  kind: "oidc";
  issuer: string;
  clientId: string;
  redirectUri: string;
  scope?: string | string[];
  extraParams?: Record<string, string>;
}

/** Torque Connect: your backend opens the authorize session and redeems the code. */
export interface TorqueConfig extends CommonOptions {
  kind: "torque";
  sessionEndpoint: string;
  exchangeEndpoint: string;
  redirectUri: string;
  externalUserId?: string;
  scope?: string | string[];
}

/** Turnqey read-only linking: your backend signs the request (checksum). */
export type TurnqeyConfig = CommonOptions & {
  kind: "turnqey";
  client: string;
  platform: string;
  identity: string;
  collection?: string;
  checksumEndpoint: string;
} & ({ environment: "production" | "sandbox"; authorizeUrl?: never } | { authorizeUrl: string; environment?: never });

/** Liquid Quick Exchange user session. */
export interface LiquidConfig extends CommonOptions {
  kind: "liquid";
  /** Default https://partners.liquid.com */
  baseUrl?: string;
  /** The public key, `pk_…`. */
  publicApiKey: string;
  /** Where Liquid sends the user when done (else the user closes the window). */
  returnUrl?: string;
  /** Your backend confirms the session was approved before the flow succeeds. */
  verifyEndpoint?: string;
}

export type ProviderConfig = OAuth2Config | OidcConfig | TorqueConfig | TurnqeyConfig | LiquidConfig;

export interface TokenSet {
  accessToken: string;
  tokenType: string;
  /** Epoch milliseconds. */
  expiresAt?: number;
  refreshToken?: string;
  scope?: string;
  idToken?: string;
}

export interface ConnectResult {
  provider: ProviderKind;
  state: string;
  /** Every parameter of the callback, less `code` once the library exchanged it. */
  params: Record<string, string>;
  /** Only when nothing exchanged the code. */
  code?: string;
  codeVerifier?: string;
  tokens?: TokenSet;
  /** What your backend answered (exchangeEndpoint, Torque's exchange, Liquid's verification). */
  exchange?: unknown;
  session?: { sessionId: string; sessionSecret: string };
  collection?: string;
  returnTo?: string;
}

export type ConnectStatus = "idle" | "connecting" | "connected" | "reconnect_required" | "error";

export class Connect {
  /** Validates `config` now: throws `invalid_config` or `insecure_config`. */
  constructor(config: ProviderConfig);
  /** Opens the window before its first await: call it directly in a click handler. */
  popup(options?: { window?: Window | null; signal?: AbortSignal; timeoutMs?: number }): Promise<ConnectResult>;
  /** Navigates this page to the provider; `handleCallback()` on the redirectUri page finishes. */
  redirect(options?: { returnTo?: string }): Promise<void>;
  /** Always valid: refreshes when within `refreshSkewMs` of expiry. */
  accessToken(): Promise<string>;
  refresh(): Promise<TokenSet>;
  tokens(): TokenSet | null;
  readonly status: ConnectStatus;
  /** The app learned the authorization was revoked or expired: status becomes reconnect_required. */
  requireReconnect(): void;
  /** Forget the connection in every tab, and end a popup flow in flight. */
  disconnect(): void;
  /**
   * Calls `listener` with the new `status` after each change (a flow of this Connect, or tokens
   * that came or went in another tab); returns the function that stops it.
   */
  onStatus(listener: (status: ConnectStatus) => void): () => void;
}

/**
 * Run on the redirectUri page, on every load. `null` when the page has no authorization
 * response, or when it ran in a popup (the result goes to the opener and the window closes).
 */
export function handleCallback(url?: string, options?: Pick<CommonOptions, "onEvent">): Promise<ConnectResult | null>;

/** The identity a Liquid widget takes, from a Liquid result. */
export function widgetIdentity(result: ConnectResult): { user_session: { session_id: string; session_secret: string } };

export type ButtonState = "idle" | "connecting" | "connected" | "reconnect" | "error";

export interface ConnectButtonOptions {
  config: ProviderConfig | Connect;
  /** auto (default): popup, redirect when the popup is blocked (and in in-app browsers). */
  mode?: "popup" | "redirect" | "auto";
  /** Per state, plus `waiting` (a COOP-cut popup is waited for) and `cancel`. */
  labels?: Partial<Record<ButtonState | "waiting" | "cancel", string>>;
  onSuccess?(result: ConnectResult): void;
  onExit?(error: ConnectError | null): void;
  onError?(error: ConnectError): void;
  onEvent?(name: EventName, meta: EventMeta): void;
}

export interface ConnectButtonHandle {
  readonly element: HTMLButtonElement;
  readonly state: ButtonState;
  setState(state: ButtonState): void;
  destroy(): void;
}

/** A native button, appended to `target` (an element or a shadow root). */
export function mountConnectButton(target: HTMLElement | ShadowRoot, options: ConnectButtonOptions): ConnectButtonHandle;
/** Registers the custom element (default `<oauth-connect-button>`); set its `config` property. */
export function defineConnectButton(tagName?: string): void;
