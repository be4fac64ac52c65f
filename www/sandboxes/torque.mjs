// Torque Connect sandbox: a local stand-in for https://app.torque.fi, following the seed document
// (../../../shared/seeds/000_*.txt, "Connect OAuth") and docs/provider-flows.md ("Torque Connect").
//
//   POST /api/v1/connect/authorize/session   Authorization: Bearer sk_test_… (the business key)
//        { redirectUri, codeChallenge, codeChallengeMethod: "S256", state, externalUserId?, scope? }
//        -> 201 { sessionId, authorizeUrl, expiresIn: 600 }
//   GET  /connect/authorize?session=…         the hosted consent screen (#approve / #deny)
//        approve -> 303 redirectUri?code=…&state=…
//        deny    -> 303 redirectUri?error=access_denied&error_description=…&state=…
//   POST /api/v1/connect/token               Authorization: Bearer sk_test_…
//        { code, redirectUri, codeVerifier } -> { accessToken, expiresIn: 900, tokenType: "Bearer", scope }
//   POST /api/v1/execute/transfers           Authorization: Bearer <delegated JWT>, Idempotency-Key
//        { amount, asset, destination, memo? } -> 200 { id: "tr_…", object: "transfer", … }
//
// What the document says, and the sandbox does:
// - Business API keys (server only) open sessions and redeem codes; they never sign user
//   transactions: a `sk_…` key on /execute/** is 403 `forbidden`.
// - The user approves scopes on a hosted consent screen; the callback receives `?code=…`.
// - /connect/token takes JSON `{ code, redirectUri, codeVerifier }` and answers `accessToken`
//   (the delegated JWT for execute routes) and `expiresIn`.
// - Execute routes take `Authorization: Bearer <delegated JWT>` and an `Idempotency-Key`.
//
// Where the document is silent, the sandbox does what a real service would:
// - Keys: only the business keys the sandbox was started with (its "portal") are valid. A
//   missing, unknown or publishable (`pk_…`) key is 401 `{ error: "unauthorized" }`. Errors are
//   OAuth-style JSON `{ error, error_description }` throughout.
// - Session creation: `redirectUri` must be exactly one of the registered callback URLs
//   (portal "Cash-Out Setup"); `codeChallengeMethod` must be "S256" (no `plain`);
//   `codeChallenge` is 43 base64url characters (a SHA-256); `state` is required (1-512 chars)
//   and handed back untouched; `scope` is a space-separated string or an array of known scopes
//   (`wallet:read`, `transfers:read`, `transfers:execute`; unknown: 400 `invalid_scope`),
//   default `wallet:read transfers:execute`; `externalUserId` (1-128 chars) becomes the JWT's
//   `sub`, without it a user id `usr_…` is generated for the session. Answer 201.
// - Sessions live 10 minutes and are single use: the first Approve/Deny consumes them; an
//   unknown, used or expired session shows an error page (no redirect: nothing to trust).
//   The consent form carries a per-session CSRF token.
// - Codes live 120 s, are single use, and are bound to the redirectUri and the business key
//   of the session. A redemption attempt consumes the code whatever its outcome (a failed PKCE
//   check cannot be retried: no guessing of verifiers). Presenting a used code again is
//   `invalid_grant` and revokes the token issued from it (RFC 6749 §4.1.2). PKCE per RFC 7636:
//   a malformed verifier is `invalid_request`, a mismatch `invalid_grant` "PKCE verification failed".
// - The delegated JWT: HS256 with a secret generated at start; claims iss (the sandbox origin),
//   sub, scope, iat, exp (iat + 900), aud "torque-execute", typ "delegated", jti, azp (the app's id).
//   On execute: a bad signature/alg/aud/typ/iss, an expired or revoked token is 401
//   `invalid_token` (with WWW-Authenticate); a token without `transfers:execute` is 403
//   `insufficient_scope`.
// - Idempotency (Stripe-like): keys of 1-255 printable ASCII characters, scoped to the user
//   (`sub`), kept 24 h. The first successful request stores its answer; the same key with the
//   same body (compared as canonical JSON: key order does not matter) answers the stored
//   response again (same transfer id, status 200, header `Idempotent-Replayed: true`) without a
//   second transfer; the same key with a different body is 422 `idempotency_key_reused`.
//   Requests refused before execution (auth, validation) are not stored.
// - The "prepared transfer body": `{ amount: "<positive decimal string>", asset: "USDC" | "USDT"
//   | "ETH", destination: "<address or user id>", memo? }`; anything else is 400 `invalid_request`.
// - No CORS on the API: it is called by the app's backend (business key) or by the backend on
//   behalf of the user (delegated JWT), not by pages.
//
// Test knobs: `stats` (live object), `resetStats()`, `setCoop(on)` (COOP same-origin on the
// consent page and its redirects), `advanceTime(ms)` (the sandbox clock, for expiries),
// `tokenTtlSeconds` (start option).
import http from "node:http";
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { close, esc, listen, readForm, readJson, sendHtml, sendJson } from "../lib/http.mjs";

export const KNOWN_SCOPES = {
  "wallet:read": "See your wallet addresses and balances",
  "transfers:read": "See your transfer history",
  "transfers:execute": "Send transfers from your wallet on your behalf",
};
export const DEFAULT_SCOPES = ["wallet:read", "transfers:execute"];
const SESSION_TTL_MS = 600_000;
const CODE_TTL_MS = 120_000;
const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
const ASSETS = ["USDC", "USDT", "ETH"];

const b64url = (value) => Buffer.from(value).toString("base64url");
const id = (prefix, bytes = 16) => `${prefix}${randomBytes(bytes).toString("base64url")}`;
const sameText = (a, b) => {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
};
/** JSON with object keys sorted, so that `{a,b}` and `{b,a}` compare equal. */
const canonical = (value) =>
  Array.isArray(value)
    ? `[${value.map(canonical).join(",")}]`
    : value && typeof value === "object"
      ? `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`
      : JSON.stringify(value);

function newStats() {
  return {
    sessionRequests: [], // every POST /connect/authorize/session: { status, error?, redirectUri, codeChallenge, state, externalUserId, scope }
    consents: { shown: 0, approve: 0, deny: 0 },
    tokenRequests: [], // every POST /connect/token: { status, error?, redirectUri, codeVerifier, codeChallenge, sub?, scope? }
    executeRequests: [], // every POST /execute/transfers: { status, error?, idempotencyKey, replayed, transferId? }
    transfers: 0, // transfers actually made (idempotent replays not counted)
  };
}

function page(title, body) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · Torque</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>body{font:16px system-ui,sans-serif;max-width:30em;margin:2em auto;padding:0 1em;color:#1b1b1f}
h1{font-size:1.3em}li{margin:.3em 0}button{font-size:1em;padding:.45em 1.3em;margin-right:.5em}
#approve{background:#1b1b1f;color:#fff;border:0;border-radius:4px}.muted{color:#666;font-size:.9em}</style>
</head><body><p class="muted">Torque Connect (sandbox)</p>${body}</body></html>`;
}

/**
 * Start the sandbox on 127.0.0.1 (a free port).
 * - `businessKeys`: the valid secret keys (`sk_test_…`) of the app, as the portal issued them.
 * - `redirectUris`: the app's registered callback URLs.
 * - `appName`: shown on the consent screen.
 * - `tokenTtlSeconds`: the delegated JWT's lifetime (default 900).
 */
export async function startTorqueSandbox({ businessKeys = [], redirectUris = [], appName = "Your app", tokenTtlSeconds = 900 } = {}) {
  const jwtSecret = randomBytes(32);
  const appId = id("app_", 9); // the app (business account) the keys belong to
  const stats = newStats();
  const state = { coop: false, offsetMs: 0 };
  const now = () => Date.now() + state.offsetMs;
  const sessions = new Map(); // sessionId -> session
  const codes = new Map(); // code -> grant
  const revoked = new Set(); // jti of revoked delegated tokens
  const idempotency = new Map(); // `${sub}\n${key}` -> { bodyHash, status, body, at }
  let origin = "";

  const unauthorized = (res, description) => sendJson(res, 401, { error: "unauthorized", error_description: description });
  const bearer = (req) => /^Bearer (\S+)$/i.exec(req.headers.authorization ?? "")?.[1];

  /** The business key of the request, or `null` after answering 401. */
  function businessKey(req, res) {
    const key = bearer(req);
    if (!key) return unauthorized(res, "missing Authorization: Bearer <business API key>"), null;
    if (key.startsWith("pk_")) return unauthorized(res, "a publishable key cannot call this route; use the secret business API key"), null;
    if (!businessKeys.some((valid) => sameText(valid, key))) return unauthorized(res, "invalid business API key"), null;
    return key;
  }

  function parseScope(scope) {
    if (scope === undefined || scope === null || scope === "") return { scopes: [...DEFAULT_SCOPES] };
    const list = Array.isArray(scope) ? scope : typeof scope === "string" ? scope.split(" ") : null;
    if (!list || list.some((s) => typeof s !== "string")) return { error: "scope must be a space-separated string or an array" };
    const scopes = [...new Set(list.filter(Boolean))];
    const unknown = scopes.filter((s) => !(s in KNOWN_SCOPES));
    if (unknown.length || !scopes.length) return { error: `unknown scope: ${unknown.join(" ") || "(empty)"}`, code: "invalid_scope" };
    return { scopes };
  }

  // ---- POST /api/v1/connect/authorize/session ----
  async function createSession(req, res) {
    const key = businessKey(req, res);
    if (!key) return stats.sessionRequests.push({ status: 401, error: "unauthorized" });
    const body = await readJson(req);
    const { redirectUri, codeChallenge, codeChallengeMethod, state: clientState, externalUserId, scope } = body ?? {};
    const entry = { status: 400, redirectUri, codeChallenge, state: clientState, externalUserId, scope };
    stats.sessionRequests.push(entry);
    const refuse = (error, description) => {
      entry.error = error;
      sendJson(res, 400, { error, error_description: description });
    };
    if (!body || typeof body !== "object") return refuse("invalid_request", "the body must be JSON");
    if (typeof redirectUri !== "string" || !redirectUris.includes(redirectUri)) {
      return refuse("invalid_request", "redirectUri is not a registered callback URL (portal Settings → Cash-Out Setup)");
    }
    if (codeChallengeMethod !== "S256") return refuse("invalid_request", "codeChallengeMethod must be S256");
    if (typeof codeChallenge !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) {
      return refuse("invalid_request", "codeChallenge must be a base64url SHA-256 (43 characters)");
    }
    if (typeof clientState !== "string" || !clientState || clientState.length > 512) {
      return refuse("invalid_request", "state is required (1-512 characters)");
    }
    if (externalUserId !== undefined && (typeof externalUserId !== "string" || !externalUserId || externalUserId.length > 128)) {
      return refuse("invalid_request", "externalUserId must be a string of 1-128 characters");
    }
    const parsed = parseScope(scope);
    if (parsed.error) return refuse(parsed.code ?? "invalid_request", parsed.error);

    const sessionId = id("cs_");
    sessions.set(sessionId, {
      key,
      redirectUri,
      codeChallenge,
      state: clientState,
      sub: externalUserId ?? id("usr_", 9),
      scopes: parsed.scopes,
      csrf: id("", 16),
      expiresAt: now() + SESSION_TTL_MS,
      used: false,
    });
    entry.status = 201;
    sendJson(res, 201, {
      sessionId,
      authorizeUrl: `${origin}/connect/authorize?session=${encodeURIComponent(sessionId)}`,
      expiresIn: SESSION_TTL_MS / 1000,
    });
  }

  // ---- The hosted consent screen ----
  const documentHeaders = () => (state.coop ? { "cross-origin-opener-policy": "same-origin" } : {});
  const errorPage = (res, status, message) =>
    sendHtml(res, status, page("Error", `<h1>This link cannot be used</h1><p id="message">${esc(message)}</p>
<p>Go back to the app and start again.</p>`), documentHeaders());

  /** The live session for `sessionId`, or null after showing an error page. */
  function liveSession(res, sessionId) {
    const session = sessions.get(sessionId ?? "");
    if (!session) return errorPage(res, 400, "Unknown Connect session."), null;
    if (session.used) return errorPage(res, 400, "This Connect session has already been used."), null;
    if (now() > session.expiresAt) return errorPage(res, 400, "This Connect session has expired."), null;
    return session;
  }

  function showConsent(res, sessionId) {
    const session = liveSession(res, sessionId);
    if (!session) return;
    stats.consents.shown += 1;
    const action = "/connect/authorize/decision";
    sendHtml(res, 200, page("Connect", `<h1><span id="app">${esc(appName)}</span> wants to connect to your Torque wallet</h1>
<p>Signed in as <b id="user">${esc(session.sub)}</b></p>
<p>It will be able to:</p>
<ul id="scopes">${session.scopes.map((s) => `<li data-scope="${esc(s)}"><code>${esc(s)}</code> — ${esc(KNOWN_SCOPES[s])}</li>`).join("")}</ul>
<form method="post" action="${action}">
  <input type="hidden" name="session" value="${esc(sessionId)}">
  <input type="hidden" name="csrf" value="${esc(session.csrf)}">
  <button id="approve" type="submit" name="decision" value="approve">Approve</button>
  <button id="deny" type="submit" name="decision" value="deny">Deny</button>
</form>
<p class="muted">You will be sent back to <span id="redirect-origin">${esc(new URL(session.redirectUri).origin)}</span>.</p>`), documentHeaders());
  }

  async function decide(req, res) {
    const form = await readForm(req);
    const session = liveSession(res, form.session);
    if (!session) return;
    if (!sameText(form.csrf ?? "", session.csrf)) return errorPage(res, 403, "The form could not be verified.");
    session.used = true; // single use, whatever the answer
    const back = new URL(session.redirectUri);
    if (form.decision === "approve") {
      stats.consents.approve += 1;
      const code = id("", 24);
      codes.set(code, {
        key: session.key,
        redirectUri: session.redirectUri,
        codeChallenge: session.codeChallenge,
        sub: session.sub,
        scopes: session.scopes,
        expiresAt: now() + CODE_TTL_MS,
        used: false,
        jti: null,
      });
      back.searchParams.append("code", code);
    } else {
      stats.consents.deny += 1;
      back.searchParams.append("error", "access_denied");
      back.searchParams.append("error_description", "The user denied the connection");
    }
    back.searchParams.append("state", session.state);
    res.writeHead(303, { location: back.href, "cache-control": "no-store", ...documentHeaders() }).end();
  }

  // ---- POST /api/v1/connect/token ----
  function signJwt(claims) {
    const input = `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${createHmac("sha256", jwtSecret).update(input).digest("base64url")}`;
  }

  async function redeem(req, res) {
    const key = businessKey(req, res);
    if (!key) return stats.tokenRequests.push({ status: 401, error: "unauthorized" });
    const body = await readJson(req);
    const { code, redirectUri, codeVerifier } = body ?? {};
    const entry = { status: 400, redirectUri, codeVerifier };
    stats.tokenRequests.push(entry);
    const refuse = (error, description) => {
      entry.error = error;
      sendJson(res, 400, { error, error_description: description });
    };
    if (![code, redirectUri, codeVerifier].every((v) => typeof v === "string" && v)) {
      return refuse("invalid_request", "code, redirectUri and codeVerifier are required");
    }
    const grant = codes.get(code);
    if (!grant || grant.key !== key) return refuse("invalid_grant", "unknown authorization code");
    entry.codeChallenge = grant.codeChallenge;
    if (grant.used) {
      if (grant.jti) revoked.add(grant.jti); // a replayed code: revoke what it gave
      return refuse("invalid_grant", "authorization code already used");
    }
    grant.used = true;
    if (now() > grant.expiresAt) return refuse("invalid_grant", "authorization code expired");
    if (redirectUri !== grant.redirectUri) return refuse("invalid_grant", "redirectUri does not match the authorization request");
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(codeVerifier)) return refuse("invalid_request", "codeVerifier must be 43-128 unreserved characters");
    if (!sameText(createHash("sha256").update(codeVerifier).digest("base64url"), grant.codeChallenge)) {
      return refuse("invalid_grant", "PKCE verification failed");
    }
    const iat = Math.floor(now() / 1000);
    grant.jti = randomUUID();
    const scope = grant.scopes.join(" ");
    const accessToken = signJwt({
      iss: origin,
      sub: grant.sub,
      aud: "torque-execute",
      typ: "delegated",
      scope,
      azp: appId,
      iat,
      exp: iat + tokenTtlSeconds,
      jti: grant.jti,
    });
    Object.assign(entry, { status: 200, sub: grant.sub, scope });
    sendJson(res, 200, { accessToken, expiresIn: tokenTtlSeconds, tokenType: "Bearer", scope });
  }

  // ---- POST /api/v1/execute/transfers ----
  /** The delegated JWT's claims, or `{ error }`. */
  function verifyDelegated(token) {
    const parts = token.split(".");
    if (parts.length !== 3) return { error: "malformed token" };
    let header;
    let claims;
    try {
      header = JSON.parse(Buffer.from(parts[0], "base64url"));
      claims = JSON.parse(Buffer.from(parts[1], "base64url"));
    } catch {
      return { error: "malformed token" };
    }
    if (header?.alg !== "HS256") return { error: "unsupported token algorithm" };
    const expected = createHmac("sha256", jwtSecret).update(`${parts[0]}.${parts[1]}`).digest("base64url");
    if (!sameText(expected, parts[2])) return { error: "bad token signature" };
    if (claims.iss !== origin || claims.aud !== "torque-execute" || claims.typ !== "delegated") return { error: "not a delegated token" };
    if (typeof claims.exp !== "number" || now() / 1000 >= claims.exp) return { error: "token expired" };
    if (revoked.has(claims.jti)) return { error: "token revoked" };
    return { claims };
  }

  function validTransfer(body) {
    if (!body || typeof body !== "object" || Array.isArray(body)) return "the body must be a JSON object";
    const { amount, asset, destination, memo, ...rest } = body;
    if (Object.keys(rest).length) return `unknown field: ${Object.keys(rest)[0]}`;
    if (typeof amount !== "string" || !/^\d+(\.\d{1,18})?$/.test(amount) || Number(amount) <= 0) return "amount must be a positive decimal string";
    if (!ASSETS.includes(asset)) return `asset must be one of ${ASSETS.join(", ")}`;
    if (typeof destination !== "string" || !destination || destination.length > 128) return "destination is required";
    if (memo !== undefined && (typeof memo !== "string" || memo.length > 140)) return "memo must be a string of at most 140 characters";
    return null;
  }

  async function transfer(req, res) {
    const token = bearer(req);
    const idempotencyKey = req.headers["idempotency-key"];
    const entry = { status: 0, idempotencyKey, replayed: false };
    stats.executeRequests.push(entry);
    const answer = (status, body, headers = {}) => {
      entry.status = status;
      if (status >= 400) entry.error = body.error;
      sendJson(res, status, body, headers);
    };
    if (!token) {
      return answer(401, { error: "invalid_token", error_description: "missing Authorization: Bearer <delegated JWT>" }, { "www-authenticate": 'Bearer realm="torque-execute"' });
    }
    if (/^[sr]k_/.test(token)) {
      return answer(403, { error: "forbidden", error_description: "business keys cannot sign user transactions; use the delegated JWT" });
    }
    const { claims, error } = verifyDelegated(token);
    if (error) {
      return answer(401, { error: "invalid_token", error_description: error }, { "www-authenticate": `Bearer realm="torque-execute", error="invalid_token", error_description="${error}"` });
    }
    if (!String(claims.scope ?? "").split(" ").includes("transfers:execute")) {
      return answer(403, { error: "insufficient_scope", error_description: "the delegated token lacks transfers:execute" }, { "www-authenticate": 'Bearer realm="torque-execute", error="insufficient_scope", scope="transfers:execute"' });
    }
    if (typeof idempotencyKey !== "string" || !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
      return answer(400, { error: "invalid_request", error_description: "an Idempotency-Key header (1-255 printable characters) is required" });
    }
    const body = await readJson(req);
    const problem = validTransfer(body);
    if (problem) return answer(400, { error: "invalid_request", error_description: problem });

    const slot = `${claims.sub}\n${idempotencyKey}`;
    const bodyHash = createHash("sha256").update(canonical(body)).digest("hex");
    const seen = idempotency.get(slot);
    if (seen && now() - seen.at < IDEMPOTENCY_TTL_MS) {
      if (seen.bodyHash !== bodyHash) {
        return answer(422, { error: "idempotency_key_reused", error_description: "this Idempotency-Key was used with a different request body" });
      }
      entry.replayed = true;
      entry.transferId = seen.body.id;
      return answer(seen.status, seen.body, { "idempotent-replayed": "true" });
    }
    stats.transfers += 1;
    const made = {
      id: id("tr_", 12),
      object: "transfer",
      status: "submitted",
      from: claims.sub,
      destination: body.destination,
      amount: body.amount,
      asset: body.asset,
      ...(body.memo !== undefined && { memo: body.memo }),
      createdAt: new Date(now()).toISOString(),
    };
    idempotency.set(slot, { bodyHash, status: 200, body: made, at: now() });
    entry.transferId = made.id;
    answer(200, made);
  }

  const routes = {
    "POST /api/v1/connect/authorize/session": createSession,
    "GET /connect/authorize": (req, res) => showConsent(res, new URL(req.url, "http://x").searchParams.get("session")),
    "POST /connect/authorize/decision": decide,
    "POST /api/v1/connect/token": redeem,
    "POST /api/v1/execute/transfers": transfer,
  };
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    const route = routes[`${req.method} ${path}`];
    if (!route) {
      const known = Object.keys(routes).some((r) => r.endsWith(` ${path}`));
      return sendJson(res, known ? 405 : 404, { error: known ? "method_not_allowed" : "not_found" });
    }
    Promise.resolve(route(req, res)).catch((error) => {
      if (res.headersSent) return res.destroy();
      sendJson(res, 500, { error: "server_error", error_description: String(error?.message ?? error) });
    });
  });
  origin = await listen(server);

  return {
    origin,
    stats,
    resetStats() {
      const fresh = newStats();
      for (const k of Object.keys(stats)) delete stats[k];
      Object.assign(stats, fresh); // same object: callers' references stay live
    },
    get coop() {
      return state.coop;
    },
    setCoop(on) {
      state.coop = Boolean(on);
    },
    /** Move the sandbox clock forward (session, code, token and idempotency expiries). */
    advanceTime(ms) {
      state.offsetMs += ms;
    },
    close: () => close(server),
  };
}

