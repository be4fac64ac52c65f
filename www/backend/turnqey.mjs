// The integrator's backend half of a Turnqey connection (kind "turnqey"), as you would write it.
//
// The browser never sees a Turnqey client secret. It asks this backend for the checksum of the
// exact authorization request it is about to make, then goes to Turnqey's /authorize itself.
// Afterwards the backend reads the collection from Turnqey's API to learn whether the connection
// is still active (the source platform can revoke or expire it: the app then offers a reconnect).
//
//   POST /api/turnqey/checksum     { client, platform, identity, collection?, state } -> { checksum }
//   POST /api/turnqey/collection   { id, client? }  -> Turnqey's collection + { reconnectRequired }
//   POST /api/turnqey/revoke       { collection, client? }  (demo control: the source platform revokes)
//
// What each route checks, and why. Every route first passes `jsonRoute` (www/lib/http.mjs: POST,
// JSON, the app's own origin, a signed-in user, a bounded body). Then:
// - checksum: only for a client this app owns, only the fields Turnqey signs, and only for the
//   signed-in user's identity (403 otherwise): a checksum for another identity would let a
//   user link accounts into someone else's records.
// - collection, revoke: only the signed-in user's own collections; another user's is "not
//   found" (404), as an unknown one, so that ids cannot be probed.
import { createHmac } from "node:crypto";
import { jsonRoute, sendJson } from "../lib/http.mjs";

/**
 * The checksum of an authorization request: lower-case hex HMAC-SHA256 with the client's secret
 * over `client=…&platform=…[&collection=…]&state=…&identity=…` (values form-urlencoded, in this
 * order). Sign exactly what the browser will send, nothing more.
 */
export function turnqeyChecksum(secret, { client, platform, collection, state, identity }) {
  const pairs = [["client", client], ["platform", platform]];
  if (collection !== undefined) pairs.push(["collection", collection]);
  pairs.push(["state", state], ["identity", identity]);
  return createHmac("sha256", secret).update(new URLSearchParams(pairs).toString()).digest("hex");
}

const ALLOWED_FIELDS = new Set(["client", "platform", "identity", "collection", "state"]);
const isText = (value) => typeof value === "string" && value.length > 0 && value.length <= 512;

/**
 * - `apiBase`: Turnqey's API origin (e.g. https://api.turnqey.xyz).
 * - `clients`: `{ [clientId]: secret }`, the Turnqey clients this app owns. Keep the secrets in
 *   your server's configuration, never in front-end code.
 * - `appOrigin`: the origin of the app's pages, the only one that may call these routes.
 * - `identityOf(req)`: the signed-in user's partner-side identity (null when nobody is). A
 *   checksum is only made for that identity: otherwise a user could link accounts into someone
 *   else's records.
 * - `log` (optional): an array that receives what the checksum route saw (the demo's tests read it).
 */
export function createTurnqeyBackend({ apiBase, clients, appOrigin, identityOf, log }) {
  const route = (handler) => jsonRoute({ appOrigin, identityOf }, handler);
  const owned = (client) => typeof client === "string" && Object.hasOwn(clients, client);

  /** Call Turnqey's collections API with a client's own secret. */
  async function turnqey(client, id, action = "") {
    const reply = await fetch(`${apiBase}/api/v1/collections/${encodeURIComponent(id)}${action}`, {
      method: action ? "POST" : "GET",
      headers: { authorization: `Bearer ${clients[client]}`, accept: "application/json" },
    });
    return { client, status: reply.status, body: await reply.json().catch(() => ({})) };
  }

  /** Read a collection with the given client, or with each client we own until one knows it. */
  async function findCollection(id, client) {
    for (const candidate of client ? [client] : Object.keys(clients)) {
      const found = await turnqey(candidate, id);
      if (found.status !== 404) return found;
    }
    return { status: 404, body: { error: "not_found" } };
  }

  /** Answer a collection only to the user it belongs to, and whether the app should offer a reconnect. */
  function answerCollection(res, user, { status, body }) {
    if (status !== 200) return sendJson(res, status === 404 ? 404 : 502, { error: status === 404 ? "not_found" : "upstream_error" });
    if (body.identity !== user) return sendJson(res, 404, { error: "not_found" });
    const reconnectRequired = body.connections.some((c) => c.status !== "active");
    sendJson(res, 200, { ...body, reconnectRequired });
  }

  return {
    checksum: route(async ({ res, body, user }) => {
      const entry = { body, status: 400 };
      log?.push(entry);
      const reply = (status, json) => {
        entry.status = status;
        sendJson(res, status, json);
      };
      const extra = Object.keys(body).filter((key) => !ALLOWED_FIELDS.has(key));
      if (extra.length) return reply(400, { error: "invalid_request", error_description: `unexpected field: ${extra.join(", ")}` });
      const { client, platform, identity, collection, state } = body;
      const missing = ["client", "platform", "identity", "state"].filter((name) => !isText(body[name]));
      if (collection !== undefined && !isText(collection)) missing.push("collection");
      if (missing.length) return reply(400, { error: "invalid_request", error_description: `missing or invalid: ${missing.join(", ")}` });
      if (!owned(client)) return reply(403, { error: "unknown_client", error_description: "this app does not own that client" });
      if (identity !== user) return reply(403, { error: "forbidden", error_description: "not the signed-in user" });
      reply(200, { checksum: turnqeyChecksum(clients[client], { client, platform, collection, state, identity }) });
    }),

    collection: route(async ({ res, body, user }) => {
      const { id, client } = body;
      if (!isText(id)) return sendJson(res, 400, { error: "invalid_request", error_description: "id is required" });
      if (client !== undefined && !owned(client)) return sendJson(res, 403, { error: "unknown_client" });
      answerCollection(res, user, await findCollection(id, client));
    }),

    // A demo control, not something an integrator exposes: it stands in for the source platform
    // revoking the authorization, so that the app can be shown learning it and reconnecting.
    revoke: route(async ({ res, body, user }) => {
      if (!isText(body.collection)) return sendJson(res, 400, { error: "invalid_request", error_description: "collection is required" });
      if (body.client !== undefined && !owned(body.client)) return sendJson(res, 403, { error: "unknown_client" });
      const found = await findCollection(body.collection, body.client);
      // Only the user's own collection: read it first, revoke with the client that owns it.
      if (found.status !== 200 || found.body.identity !== user) return answerCollection(res, user, found);
      answerCollection(res, user, await turnqey(found.client, body.collection, "/revoke"));
    }),
  };
}
