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
