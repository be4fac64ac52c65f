// The app's backend half of Torque Connect, as an integrator writes it (docs/provider-flows.md,
// "Torque Connect"). The browser (oauth-connect, `kind: "torque"`) makes the PKCE pair and the
// state; this backend holds the business API key and talks to Torque:
//
//   POST /api/torque/session    browser { redirectUri, codeChallenge, codeChallengeMethod, state, externalUserId?, scope? }
//                               -> Torque POST /api/v1/connect/authorize/session -> browser { authorizeUrl }
//   POST /api/torque/exchange   browser { code, codeVerifier, redirectUri }
//                               -> Torque POST /api/v1/connect/token -> browser { accessToken, expiresIn, tokenType, scope }
//   POST /api/torque/transfers  browser Authorization: Bearer <delegated JWT>, Idempotency-Key, body
//                               -> Torque POST /api/v1/execute/transfers, answered as Torque answered
//
// The business key (`sk_test_…` / `sk_live_…`) stays on this server: it opens sessions and
// redeems codes, and is never used to sign a user's transaction (execute takes the delegated JWT).
//
// What each route checks, and why (every route first passes `jsonRoute`, www/lib/http.mjs:
// POST, JSON, the app's own origin, a signed-in user, a bounded body):
// - session: the Torque user (`externalUserId`) is the signed-in user, from `identityOf(req)`.
//   Torque mints a transfer-scoped JWT for whoever the session names, so a page that could name
//   the user could get one minted for someone else. A body that names another user is refused
//   (403) rather than quietly replaced: it is either an attack or a page configured for the wrong
//   user, and both should be seen. Naming the signed-in user (or nobody) is fine.
// - exchange: only the user who opened the session may redeem its code. The session route keeps
//   the PKCE challenge with that user; the exchange hashes the browser's verifier and looks it up.
// - transfers: the delegated JWT must be the signed-in user's own (its `sub`); Torque still
//   checks its signature, this only stops one user's page acting with another user's token.
//
//   const torque = createTorqueBackend({ apiBase: "https://app.torque.fi", businessKey: process.env.TORQUE_KEY,
//                                        redirectUris: ["https://yourapp.com/torque/connect/callback"],
//                                        appOrigin: "https://yourapp.com", identityOf: (req) => req.session?.userId });
//   routes["/api/torque/session"] = torque.session;  // and .exchange, .transfers
import { createHash } from "node:crypto";
import { jsonRoute, sendJson } from "../lib/http.mjs";

/** How long an opened session may wait for its exchange (Torque's codes live less long). */
const SESSION_TTL_MS = 10 * 60_000;

/**
 * - `apiBase`: Torque's origin (the sandbox's locally).
 * - `businessKey`: the secret business API key, from the server's configuration.
 * - `redirectUris`: the app's callback pages (also registered in Torque's portal).
 * - `appOrigin`: the origin of the app's pages, the only one that may call these routes.
 * - `identityOf(req)`: the signed-in user's id in your app (null when nobody is): it becomes
 *   Torque's `externalUserId`, the `sub` of the user's delegated JWT.
 * - `fetch`: the HTTP client (injectable for tests).
 */
export function createTorqueBackend({ apiBase, businessKey, redirectUris, appOrigin, identityOf, fetch = globalThis.fetch }) {
  if (!businessKey?.startsWith("sk_")) throw new Error("Torque needs the secret business API key (sk_…)");
  const route = (handler) => jsonRoute({ appOrigin, identityOf }, handler);

  // PKCE challenge -> { user, at }: who opened each Connect session, until its code is redeemed.
  const opened = new Map();

  /** Call Torque with the business key; returns `{ status, body }`. */
  async function callTorque(path, payload) {
    const reply = await fetch(`${apiBase}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${businessKey}`, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(payload),
    });
    return { status: reply.status, body: await reply.json().catch(() => ({})) };
  }

  /** Torque's error, passed on with its status (never the key or the request). */
  const passError = (res, { status, body }) =>
    sendJson(res, status, { error: body.error ?? "server_error", error_description: body.error_description });

  const badRequest = (res, description) => sendJson(res, 400, { error: "invalid_request", error_description: description });
  const forbidden = (res, description) => sendJson(res, 403, { error: "forbidden", error_description: description });
  const isText = (value) => typeof value === "string" && value.length > 0;
  const s256 = (verifier) => createHash("sha256").update(verifier).digest("base64url");

  /** The `sub` claim of a JWT, read without checking it (Torque checks the signature). */
  function subjectOf(jwt) {
    try {
      return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString()).sub;
    } catch {
      return undefined;
    }
  }

  return {
    /** POST /api/torque/session: open a Connect session for the signed-in user, the browser's PKCE challenge and state. */
    session: route(async ({ res, body, user }) => {
      const { redirectUri, codeChallenge, codeChallengeMethod, state, externalUserId, scope } = body;
      if (externalUserId !== undefined && externalUserId !== user) return forbidden(res, "not the signed-in user");
      if (!redirectUris.includes(redirectUri)) return badRequest(res, "unknown redirectUri");
      if (![codeChallenge, codeChallengeMethod, state].every(isText)) return badRequest(res, "codeChallenge, codeChallengeMethod and state are required");
      const torque = await callTorque("/api/v1/connect/authorize/session", {
        redirectUri, codeChallenge, codeChallengeMethod, state, externalUserId: user, scope,
      });
      if (torque.status < 200 || torque.status > 299) return passError(res, torque);
      const now = Date.now();
      for (const [challenge, { at }] of opened) if (now - at > SESSION_TTL_MS) opened.delete(challenge);
      opened.set(codeChallenge, { user, at: now });
      sendJson(res, 200, { authorizeUrl: torque.body.authorizeUrl });
    }),

    /** POST /api/torque/exchange: redeem the callback's code (with the verifier) for the signed-in user's delegated JWT. */
    exchange: route(async ({ res, body, user }) => {
      const { code, codeVerifier, redirectUri } = body;
      if (![code, codeVerifier, redirectUri].every(isText)) return badRequest(res, "code, codeVerifier and redirectUri are required");
      if (!redirectUris.includes(redirectUri)) return badRequest(res, "unknown redirectUri");
      const challenge = s256(codeVerifier);
      const session = opened.get(challenge);
      if (session?.user !== user || Date.now() - session.at > SESSION_TTL_MS) {
        return forbidden(res, "this connection was not started by the signed-in user");
      }
      const torque = await callTorque("/api/v1/connect/token", { code, redirectUri, codeVerifier });
      if (torque.status !== 200) return passError(res, torque);
      opened.delete(challenge);
      // A production app would also keep the token against the signed-in user here.
      const { accessToken, expiresIn, tokenType, scope } = torque.body;
      sendJson(res, 200, { accessToken, expiresIn, tokenType, scope });
    }),

    /** POST /api/torque/transfers: execute with the signed-in user's delegated JWT (never the business key). */
    transfers: route(async ({ req, res, body, user }) => {
      const authorization = req.headers.authorization;
      const token = /^Bearer (\S+)$/.exec(authorization ?? "")?.[1];
      if (!token) return sendJson(res, 401, { error: "invalid_token", error_description: "a delegated JWT is required" });
      if (subjectOf(token) !== user) return forbidden(res, "not the signed-in user's token");
      const idempotencyKey = req.headers["idempotency-key"];
      const reply = await fetch(`${apiBase}/api/v1/execute/transfers`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          authorization,
          ...(idempotencyKey && { "idempotency-key": idempotencyKey }),
        },
        body: JSON.stringify(body),
      });
      const replayed = reply.headers.get("idempotent-replayed");
      sendJson(res, reply.status, await reply.json().catch(() => ({})), replayed ? { "idempotent-replayed": replayed } : {});
    }),
  };
}
