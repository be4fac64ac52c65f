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
//   const torque = createTorqueBackend({ apiBase: "https://app.torque.fi", businessKey: process.env.TORQUE_KEY,
//                                        redirectUris: ["https://yourapp.com/torque/connect/callback"] });
//   routes["/api/torque/session"] = torque.session;  // and .exchange, .transfers
import { readJson, sendJson } from "../lib/http.mjs";

/**
 * - `apiBase`: Torque's origin (the sandbox's locally).
 * - `businessKey`: the secret business API key, from the server's configuration.
 * - `redirectUris`: the app's callback pages (also registered in Torque's portal).
 * - `fetch`: the HTTP client (injectable for tests).
 */
export function createTorqueBackend({ apiBase, businessKey, redirectUris, fetch = globalThis.fetch }) {
  if (!businessKey?.startsWith("sk_")) throw new Error("Torque needs the secret business API key (sk_…)");

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
  const isText = (value) => typeof value === "string" && value.length > 0;

  return {
    /** POST /api/torque/session: open a Connect session for the browser's PKCE challenge and state. */
    async session(req, res) {
      if (req.method !== "POST") return sendJson(res, 405, { error: "method_not_allowed" });
      const body = await readJson(req);
      const { redirectUri, codeChallenge, codeChallengeMethod, state, externalUserId, scope } = body ?? {};
      if (!redirectUris.includes(redirectUri)) return badRequest(res, "unknown redirectUri");
      if (![codeChallenge, codeChallengeMethod, state].every(isText)) return badRequest(res, "codeChallenge, codeChallengeMethod and state are required");
      // A production app takes externalUserId from its own signed-in session, not from the page.
      const torque = await callTorque("/api/v1/connect/authorize/session", {
        redirectUri, codeChallenge, codeChallengeMethod, state, externalUserId, scope,
      });
      if (torque.status < 200 || torque.status > 299) return passError(res, torque);
      sendJson(res, 200, { authorizeUrl: torque.body.authorizeUrl });
    },

    /** POST /api/torque/exchange: redeem the callback's code (with the verifier) for the delegated JWT. */
    async exchange(req, res) {
      if (req.method !== "POST") return sendJson(res, 405, { error: "method_not_allowed" });
      const { code, codeVerifier, redirectUri } = (await readJson(req)) ?? {};
      if (![code, codeVerifier, redirectUri].every(isText)) return badRequest(res, "code, codeVerifier and redirectUri are required");
      if (!redirectUris.includes(redirectUri)) return badRequest(res, "unknown redirectUri");
      const torque = await callTorque("/api/v1/connect/token", { code, redirectUri, codeVerifier });
      if (torque.status !== 200) return passError(res, torque);
      // A production app would also keep the token against the signed-in user here.
      const { accessToken, expiresIn, tokenType, scope } = torque.body;
      sendJson(res, 200, { accessToken, expiresIn, tokenType, scope });
    },

    /** POST /api/torque/transfers: execute on the user's behalf with their delegated JWT (never the business key). */
    async transfers(req, res) {
      if (req.method !== "POST") return sendJson(res, 405, { error: "method_not_allowed" });
      const authorization = req.headers.authorization;
      const idempotencyKey = req.headers["idempotency-key"];
      const body = await readJson(req);
      const reply = await fetch(`${apiBase}/api/v1/execute/transfers`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          ...(authorization && { authorization }),
          ...(idempotencyKey && { "idempotency-key": idempotencyKey }),
        },
        body: JSON.stringify(body),
      });
      const replayed = reply.headers.get("idempotent-replayed");
      sendJson(res, reply.status, await reply.json().catch(() => ({})), replayed ? { "idempotent-replayed": replayed } : {});
    },
  };
}
