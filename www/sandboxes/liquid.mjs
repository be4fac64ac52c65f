// A local stand-in for Liquid Quick Exchange (QEX) user-session OAuth (seed 003, "API Integration >
// User Session > OAuth"), following the document and docs/provider-flows.md, on 127.0.0.1 (port 0),
// cross-origin to the app.
//
//   POST /api/v1/session                          create a session with the partner's public key
//   GET  /api/v1/session/{session_id}/liquid_oauth   sign in and approve (#approve) or deny (#deny)
//   POST /api/v1/session/{session_id}/liquid_oauth   the page's form
//   GET  /api/v1/session/{session_id}/accounts    balances; `Authorization: Bearer <JWT>` (server only)
//
// From the document:
// - `POST /api/v1/session` with `{ public_api_key }` answers exactly the document's shape:
//   `{ success, environment, message: "Session created.", payload: { public_api_key, session_id,
//   session_secret, environment, client_info: { ip_country }, _links: { terms_of_service: { href } } } }`,
//   ids being UUIDs. Here `environment` is "SANDBOX".
// - The OAuth page associates the session with a user once they approve, then tells them to close
//   the window and return to the app, or (alternatively) redirects to a URL.
// - The accounts route needs a JWT and only answers for a session associated with a user.
//
// Where the document is silent (provider-flows.md's choices first, then this sandbox's own, as a
// real service would do it):
// - The return URL is given as `return_url` in the session request (provider-flows.md). It must be
//   one registered for the partner, exactly, or followed by a query (`?…`, or `&…` when the
//   registered URL has a query of its own); a fragment is refused. Otherwise 400.
// - On approve with a return URL: 303 to `return_url` + `session_id=…` (`?` or `&`); on deny:
//   `error=access_denied&session_id=…`. Without one: a page that says to close the window (`#done`),
//   or that the user declined (`#declined`).
// - A decision is final: a session approved or denied stays so; opening its OAuth page again shows
//   the outcome, with no buttons. Unknown or expired session: a 404 page (`#not-found`).
// - Sign-in: any non-empty email and password (the fields come filled in). The form carries a
//   per-session token (a real service protects its forms against cross-site posts); Deny needs no
//   sign-in.
// - The JWT: HS256 (`alg` anything else, `none` included, is refused) with the secret key of the
//   partner that created the session, as UTF-8 bytes; claims `session_id` (equal to the path's),
//   `iat` and `exp` (NumericDate integers; `exp` after now, `iat` at most 30 s in the future,
//   `exp - iat` at most 300 s). A missing or bad JWT: 401 `{ success: false, message }` with
//   `WWW-Authenticate: Bearer error="invalid_token"`. Unknown session: 404. Valid JWT for a session
//   not approved: 403 `{ success: false, message: "session not authorized" }`.
// - Errors everywhere: `{ success: false, message }`; an unknown or missing `public_api_key`: 401;
//   a body that is not JSON, or not sent as `application/json`: 400 / 415.
// - CORS: only the session route, and only for the origins of the registered return URLs (the
//   app); the preflight allows `POST` with `content-type`. The accounts route has no CORS: it is
//   called by the partner's backend with its secret.
// - `client_info.ip_country` cannot be geolocated on loopback: the document's "JP" (a knob).
// - `_links.terms_of_service.href`: the document's URL (a link only; nothing is loaded from it).
// - Sessions live 30 minutes (`sessionTtlMs`).
// - Balances are decimal strings, per user: BTC, ETH, USD.
// - `setKeyEnabled(false)` deactivates the partner's key: creating a session answers 401.
// - `setCoop(true)` adds `Cross-Origin-Opener-Policy: same-origin` to the pages and redirects, as
//   some real providers do (for the tests of a cut opener).
//
//   const liquid = await startLiquidSandbox({ returnUrls: ["http://localhost:8080/callback"] });
//   liquid.origin, liquid.publicApiKey, liquid.secretKey (Node side only), liquid.stats, ...; await liquid.close();
import http from "node:http";
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { close, esc, listen, readJson, readForm, sendHtml, sendJson } from "../lib/http.mjs";

export const TERMS_OF_SERVICE = "https://help.liquid.com/en/articles/3969828-quick-exchange-by-liquid-end-user-terms-of-use";
const ENVIRONMENT = "SANDBOX";
const JWT_MAX_LIFETIME_S = 300;
const CLOCK_SKEW_S = 30;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function newStats() {
  return {
    /** Every POST /api/v1/session: [{ status, origin, publicApiKey, returnUrl, sessionId? }] */
    sessionRequests: [],
    preflights: 0,
    /** GET of an OAuth page: [{ sessionId, status }] */
    oauthPages: [],
    decisions: { approve: 0, deny: 0 },
    /** Every GET …/accounts: [{ sessionId, status, message? }] */
    accountsRequests: [],
  };
}

// Plain HTML shell; no external resources.
const page = (title, body) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:28em;margin:2em auto;padding:0 1em}
header{font-weight:600;color:#1f4fd1;margin-bottom:1em}label{display:block;margin:.5em 0}
input{font-size:1em;width:100%;box-sizing:border-box}button{font-size:1em;padding:.4em 1.2em;margin:.8em .5em 0 0}
.error{color:#b00020}</style>
</head><body><header>Liquid Quick Exchange · sandbox</header>${body}</body></html>`;

const b64url = (value) => Buffer.from(value).toString("base64url");
const appendQuery = (url, query) => url + (/[?&]$/.test(url) ? "" : url.includes("?") ? "&" : "?") + query;
const sameString = (a, b) => {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
};

/** A return URL is allowed when it is a registered one, alone or followed by a query. */
function returnUrlAllowed(returnUrl, registered) {
  if (typeof returnUrl !== "string" || returnUrl.includes("#") || !URL.canParse(returnUrl)) return false;
  return registered.some((url) => returnUrl === url || returnUrl.startsWith(url + (url.includes("?") ? "&" : "?")));
}

/** Check the accounts route's JWT; returns an error message, or null when it is good. */
function jwtProblem(token, secretKey, sessionId, now) {
  const parts = token.split(".");
  if (parts.length !== 3) return "malformed token";
  let header;
  let claims;
  try {
    header = JSON.parse(Buffer.from(parts[0], "base64url").toString());
    claims = JSON.parse(Buffer.from(parts[1], "base64url").toString());
  } catch {
    return "malformed token";
  }
  if (header?.alg !== "HS256") return "unsupported token algorithm";
  const expected = createHmac("sha256", secretKey).update(`${parts[0]}.${parts[1]}`).digest("base64url");
  if (!sameString(parts[2], expected)) return "invalid token signature";
  const { session_id: sid, iat, exp } = claims ?? {};
  if (sid !== sessionId) return "token is for another session";
  if (!Number.isInteger(iat) || !Number.isInteger(exp)) return "iat and exp are required";
  if (iat > now + CLOCK_SKEW_S) return "token issued in the future";
  if (exp <= now) return "token expired";
  if (exp <= iat || exp - iat > JWT_MAX_LIFETIME_S) return `token lifetime must be at most ${JWT_MAX_LIFETIME_S} s`;
  return null;
}

/** A user's balances: fixed per user, so tests can compare. */
function balancesOf(user) {
  const n = [...user].reduce((sum, c) => sum + c.charCodeAt(0), 0);
  return [
    { currency: "BTC", balance: ((n % 97) / 100 + 0.01).toFixed(8) },
    { currency: "ETH", balance: ((n % 53) / 10 + 0.5).toFixed(8) },
    { currency: "USD", balance: (1000 + (n % 5000)).toFixed(2) },
  ];
}

/**
 * Start the sandbox with one partner. `returnUrls`: the app's callback pages (also its CORS
 * origins). Returns `{ origin, publicApiKey, secretKey, stats, ...knobs, close() }`.
 */
export async function startLiquidSandbox({
  returnUrls = [],
  publicApiKey = `pk_${randomUUID()}`,
  secretKey = `sk_${randomBytes(24).toString("base64url")}`,
  ipCountry = "JP",
  sessionTtlMs = 30 * 60_000,
} = {}) {
  const partners = new Map([[publicApiKey, { publicApiKey, secretKey, returnUrls: [...returnUrls] }]]);
  const corsOrigins = new Set(returnUrls.map((url) => new URL(url).origin));
  const sessions = new Map(); // session_id -> { id, secret, partner, returnUrl, status, user, createdAt, formToken }
  const stats = newStats();
  const knobs = { coop: false, ipCountry };

  const findSession = (id) => {
    const session = sessions.get(id);
    if (session && Date.now() - session.createdAt > sessionTtlMs) return null;
    return session ?? null;
  };
  const pageHeaders = () => (knobs.coop ? { "cross-origin-opener-policy": "same-origin" } : {});
  const corsHeaders = (req) => {
    const origin = req.headers.origin;
    if (!origin || !corsOrigins.has(origin)) return { vary: "Origin" };
    return { "access-control-allow-origin": origin, vary: "Origin" };
  };

  // ---- POST /api/v1/session ----
  async function createSession(req, res) {
    const cors = corsHeaders(req);
    if (req.method === "OPTIONS") {
      stats.preflights += 1;
      if (!cors["access-control-allow-origin"]) return res.writeHead(403, cors).end();
      return res.writeHead(204, {
        ...cors,
        "access-control-allow-methods": "POST",
        "access-control-allow-headers": "content-type",
        "access-control-max-age": "600",
      }).end();
    }
    const entry = { status: 0, origin: req.headers.origin, publicApiKey: undefined, returnUrl: undefined };
    stats.sessionRequests.push(entry);
    const fail = (status, message) => {
      entry.status = status;
      sendJson(res, status, { success: false, message }, cors);
    };
    if (req.method !== "POST") return fail(405, "method not allowed");
    if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) return fail(415, "send a JSON body (application/json)");
    const body = await readJson(req);
    if (!body || typeof body !== "object" || Array.isArray(body)) return fail(400, "invalid JSON body");
    const { public_api_key: key, return_url: returnUrl } = body;
    Object.assign(entry, { publicApiKey: key, returnUrl });
    const partner = typeof key === "string" ? partners.get(key) : undefined;
    if (!partner || partner.disabled) return fail(401, "invalid public_api_key");
    if (returnUrl !== undefined && !returnUrlAllowed(returnUrl, partner.returnUrls)) {
      return fail(400, "return_url is not registered for this public_api_key");
    }
    const session = {
      id: randomUUID(),
      secret: randomUUID(),
      publicApiKey: partner.publicApiKey,
      returnUrl,
      status: "pending", // pending | approved | denied
      user: null,
      createdAt: Date.now(),
      formToken: randomBytes(16).toString("base64url"),
    };
    sessions.set(session.id, session);
    Object.assign(entry, { status: 200, sessionId: session.id });
    sendJson(res, 200, {
      success: true,
      environment: ENVIRONMENT,
      message: "Session created.",
      payload: {
        public_api_key: partner.publicApiKey,
        session_id: session.id,
        session_secret: session.secret,
        environment: ENVIRONMENT,
        client_info: { ip_country: knobs.ipCountry },
        _links: { terms_of_service: { href: TERMS_OF_SERVICE } },
      },
    }, cors);
  }

  // ---- /api/v1/session/{id}/liquid_oauth ----
  const signInPage = (session, error = "") => page("Sign in to Liquid", `<h1>Sign in to Liquid</h1>
<p>An app asks to use your Liquid account for Quick Exchange: it will see your account balances.</p>
${error ? `<p class="error" id="form-error">${esc(error)}</p>` : ""}
<form method="post">
  <input type="hidden" name="form_token" value="${esc(session.formToken)}">
  <label>Email <input id="email" name="email" type="email" value="demo@example.test" autocomplete="off"></label>
  <label>Password <input id="password" name="password" type="password" value="sandbox" autocomplete="off"></label>
  <button id="approve" type="submit" name="decision" value="approve">Approve</button>
  <button id="deny" type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</form>`);

  const outcomePage = (session) => session.status === "approved"
    ? page("Done", `<h1 id="done">You are signed in</h1>
<p>Your Liquid account is connected. You can close this window and return to the app.</p>`)
    : page("Declined", `<h1 id="declined">You declined the request</h1>
<p>Nothing was shared with the app. You can close this window and return to the app.</p>`);

  async function oauth(req, res, session) {
    if (!session) {
      stats.oauthPages.push({ sessionId: null, status: 404 });
      return sendHtml(res, 404, page("Not found", `<h1 id="not-found">This sign-in link is not valid</h1>
<p>It may have expired. Return to the app and try again.</p>`), pageHeaders());
    }
    if (req.method === "GET") {
      stats.oauthPages.push({ sessionId: session.id, status: 200 });
      return sendHtml(res, 200, session.status === "pending" ? signInPage(session) : outcomePage(session), pageHeaders());
    }
    if (req.method !== "POST") return sendHtml(res, 405, page("Error", "<h1>Method not allowed</h1>"));
    const form = await readForm(req);
    if (session.status !== "pending") return sendHtml(res, 200, outcomePage(session), pageHeaders());
    if (!form.form_token || !sameString(form.form_token, session.formToken)) {
      return sendHtml(res, 400, page("Error", `<h1 id="bad-form">This form has expired</h1><p>Reload the page and try again.</p>`), pageHeaders());
    }
    if (form.decision === "approve") {
      if (!form.email?.trim() || !form.password) return sendHtml(res, 400, signInPage(session, "Enter your email and password."), pageHeaders());
      stats.decisions.approve += 1;
      session.status = "approved";
      session.user = form.email.trim().toLowerCase();
    } else if (form.decision === "deny") {
      stats.decisions.deny += 1;
      session.status = "denied";
    } else {
      return sendHtml(res, 400, signInPage(session, "Choose Approve or Deny."), pageHeaders());
    }
    if (!session.returnUrl) return sendHtml(res, 200, outcomePage(session), pageHeaders());
    const query = new URLSearchParams(session.status === "approved" ? { session_id: session.id } : { error: "access_denied", session_id: session.id });
    res.writeHead(303, { location: appendQuery(session.returnUrl, query.toString()), "cache-control": "no-store", ...pageHeaders() }).end();
  }

  // ---- GET /api/v1/session/{id}/accounts ----
  function accounts(req, res, id) {
    const entry = { sessionId: id, status: 0 };
    stats.accountsRequests.push(entry);
    const answer = (status, body, headers) => {
      entry.status = status;
      if (!body.success) entry.message = body.message;
      sendJson(res, status, body, headers);
    };
    if (req.method !== "GET") return answer(405, { success: false, message: "method not allowed" });
    const session = findSession(id);
    if (!session) return answer(404, { success: false, message: "session not found" });
    const [scheme, token] = (req.headers.authorization ?? "").split(" ");
    const problem = scheme === "Bearer" && token
      ? jwtProblem(token, partners.get(session.publicApiKey).secretKey, id, Math.floor(Date.now() / 1000))
      : "a Bearer JWT is required";
    if (problem) return answer(401, { success: false, message: problem }, { "www-authenticate": 'Bearer error="invalid_token"' });
    if (session.status !== "approved") return answer(403, { success: false, message: "session not authorized" });
    answer(200, { success: true, payload: { accounts: balancesOf(session.user) } });
  }

  const server = http.createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    const fail = (error) => {
      if (res.headersSent) return res.destroy();
      sendJson(res, 500, { success: false, message: String(error?.message ?? error) });
    };
    if (path === "/api/v1/session") return createSession(req, res).catch(fail);
    const m = /^\/api\/v1\/session\/([^/]+)\/(liquid_oauth|accounts)$/.exec(path);
    if (m && m[2] === "liquid_oauth") return oauth(req, res, UUID.test(m[1]) ? findSession(m[1]) : null).catch(fail);
    if (m) return accounts(req, res, m[1]);
    sendJson(res, 404, { success: false, message: "not found" });
  });
  const origin = await listen(server);

  const view = (s) => s && {
    sessionId: s.id, sessionSecret: s.secret, publicApiKey: s.publicApiKey, returnUrl: s.returnUrl,
    status: s.status, approved: s.status === "approved", user: s.user, createdAt: s.createdAt,
    accounts: s.user ? balancesOf(s.user) : null,
  };
  return {
    origin,
    publicApiKey,
    /** Node side only: what the partner's backend holds. */
    secretKey,
    returnUrls: [...returnUrls],
    stats,
    /** A session as the sandbox knows it (secret included, for the tests), or null. */
    session: (id) => view(sessions.get(id)),
    /** The last session created. */
    lastSession: () => view([...sessions.values()].at(-1)),
    sessions: () => [...sessions.values()].map(view),
    get coop() { return knobs.coop; },
    setCoop(on) { knobs.coop = Boolean(on); },
    setIpCountry(code) { knobs.ipCountry = code; },
    /** Deactivate the partner's key (as Liquid would a revoked one): new sessions get 401. */
    setKeyEnabled(on) { partners.get(publicApiKey).disabled = !on; },
    /** Age a session past its lifetime. */
    expireSession(id) {
      const session = sessions.get(id);
      if (session) session.createdAt = Date.now() - sessionTtlMs - 1;
    },
    resetStats() {
      const fresh = newStats();
      for (const key of Object.keys(stats)) delete stats[key];
      Object.assign(stats, fresh); // same object: references stay live
    },
    close: () => close(server),
  };
}
