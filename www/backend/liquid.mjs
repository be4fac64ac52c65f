// The integrator's backend half for Liquid Quick Exchange user sessions (`kind: "liquid"` with
// `verifyEndpoint`). The browser creates the session and has the user approve it; only the backend
// can tell whether they did, because asking Liquid needs a JWT signed with the partner's SECRET key,
// which never leaves the server.
//
//   POST /api/liquid/verify   { sessionId }  ->  200 { approved: true, accounts }
//                                            ->  403 { approved: false }
//
// Copy and adapt: `baseUrl` is https://partners.liquid.com in production, `secretKey` is the
// `sk_…` key of your partner account (from your secret store, not from the code).
import { createHmac } from "node:crypto";
import { readJson, sendJson } from "../lib/http.mjs";

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
 * The route handler for `POST /api/liquid/verify`. `log` (optional) gets what the route saw and
 * answered, for the tests.
 */
export function verifyRoute({ baseUrl, secretKey, log = [] }) {
  return async function verify(req, res) {
    if (req.method !== "POST") return sendJson(res, 405, { error: "method_not_allowed" });
    const { sessionId } = (await readJson(req)) ?? {};
    const entry = { sessionId, status: 400 };
    log.push(entry);
    // Only a session id goes into Liquid's URL path.
    if (typeof sessionId !== "string" || !UUID.test(sessionId)) {
      return sendJson(res, 400, { error: "invalid_request", error_description: "sessionId must be a session id" });
    }
    // A real app would also require its own signed-in user here, and store the session id
    // (and later the balances) against that user.
    const { status, body } = await fetchSessionAccounts({ baseUrl, secretKey }, sessionId);
    if (status === 200 && body?.success) {
      entry.status = 200;
      return sendJson(res, 200, { approved: true, accounts: body.payload.accounts });
    }
    // 403: the user did not approve (denied, or closed the window first); 404: no such session.
    if (status === 403 || status === 404) {
      entry.status = 403;
      return sendJson(res, 403, { approved: false });
    }
    // Anything else (a 401 means our JWT or key is wrong) is our problem, not the user's.
    entry.status = 502;
    sendJson(res, 502, { error: "upstream_error", error_description: `Liquid answered ${status}` });
  };
}
