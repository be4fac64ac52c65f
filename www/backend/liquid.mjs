// The integrator's backend half for Liquid Quick Exchange user sessions (`kind: "liquid"` with
// `verifyEndpoint`). The browser creates the session and has the user approve it; only the backend
// can tell whether they did, because asking Liquid needs a JWT signed with the partner's SECRET key,
// which never leaves the server.
//
//   POST /api/liquid/verify   { sessionId }  ->  200 { approved: true, accounts }
//                                            ->  403 { approved: false }
//
// What it checks, and why. The route first passes `jsonRoute` (www/lib/http.mjs: POST, JSON, the
// app's own origin, a signed-in user, a bounded body). Then the balances go only to the user the
// session belongs to: a session id alone must not be enough to read someone's accounts (it shows
// up in a return URL's query, in history, in logs). The browser creates the session with Liquid
// directly, so this backend first hears of it here; the first signed-in user it confirms an
// approved session for owns it, and to anyone else it is "not approved" (403), without asking
// Liquid. The user's own page verifies as soon as the flow ends, so the session is theirs before
// its id has been anywhere else. Keep `owners` in your database, next to the user.
//
// Copy and adapt: `baseUrl` is https://partners.liquid.com in production, `secretKey` is the
// `sk_…` key of your partner account (from your secret store, not from the code).
import { createHmac } from "node:crypto";
import { jsonRoute, sendJson } from "../lib/http.mjs";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The JWT Liquid wants for a session's routes: HS256 with the secret key; claims session_id, iat, exp. */
export function signSessionJwt(sessionId, secretKey, { ttlSeconds = 60, now = Date.now() } = {}) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const iat = Math.floor(now / 1000);
  const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${part({ session_id: sessionId, iat, exp: iat + ttlSeconds })}`;
  return `${unsigned}.${createHmac("sha256", secretKey).update(unsigned).digest("base64url")}`;
}

/** `GET /api/v1/session/{id}/accounts`: Liquid's answer, as `{ status, body }`. */
export async function fetchSessionAccounts({ baseUrl, secretKey }, sessionId) {
  const reply = await fetch(`${baseUrl}/api/v1/session/${encodeURIComponent(sessionId)}/accounts`, {
    headers: { authorization: `Bearer ${signSessionJwt(sessionId, secretKey)}`, accept: "application/json" },
  });
  return { status: reply.status, body: await reply.json().catch(() => null) };
}

/**
 * The route handler for `POST /api/liquid/verify`.
 * - `appOrigin`: the origin of the app's pages, the only one that may call it.
 * - `identityOf(req)`: the signed-in user's id in your app (null when nobody is).
 * - `log` (optional): gets what the route saw and answered, for the tests.
 */
export function verifyRoute({ baseUrl, secretKey, appOrigin, identityOf, log = [] }) {
  const owners = new Map(); // session id -> the user it was first confirmed for
  const notApproved = (res, entry) => {
    entry.status = 403;
    sendJson(res, 403, { approved: false });
  };
  return jsonRoute({ appOrigin, identityOf }, async ({ res, body, user }) => {
    const { sessionId } = body;
    const entry = { sessionId, status: 400 };
    log.push(entry);
    // Only a session id goes into Liquid's URL path.
    if (typeof sessionId !== "string" || !UUID.test(sessionId)) {
      return sendJson(res, 400, { error: "invalid_request", error_description: "sessionId must be a session id" });
    }
    const ownedBy = () => owners.get(sessionId) ?? user;
    if (ownedBy() !== user) return notApproved(res, entry); // another user's session: Liquid is not even asked
    const { status, body: answer } = await fetchSessionAccounts({ baseUrl, secretKey }, sessionId);
    if (status === 200 && answer?.success) {
      // Checked again after the wait: two users may have raced for the same id.
      if (ownedBy() !== user) return notApproved(res, entry);
      owners.set(sessionId, user); // a real app stores this, and the balances, against the user
      entry.status = 200;
      return sendJson(res, 200, { approved: true, accounts: answer.payload.accounts });
    }
    // 403: the user did not approve (denied, or closed the window first); 404: no such session.
    if (status === 403 || status === 404) return notApproved(res, entry);
    // Anything else (a 401 means our JWT or key is wrong) is our problem, not the user's.
    entry.status = 502;
    sendJson(res, 502, { error: "upstream_error", error_description: `Liquid answered ${status}` });
  });
}
