// A local stand-in for Turnqey (seed 002: read-only linking of an exchange account or wallet),
// following the document to the letter and docs/provider-flows.md ("Turnqey") for what it
// leaves open. It runs on http://127.0.0.1:PORT, cross-origin to the app.
//
//   GET  /authorize?client&platform&checksum&identity&collection?&state
//        validates the request, then shows the source platform's read-only consent page
//        (#approve / #deny); the decision is POSTed to /authorize/decision and answered with a
//        303 to the client's registered return URL.
//   GET  /api/v1/collections/{id}          Authorization: Bearer <client secret>
//        -> { collection, identity, connections: [{ platform, status: "active" | "revoked" }] }
//   POST /api/v1/collections/{id}/revoke   same auth; every connection becomes "revoked"
//        (what the source platform does when it revokes or expires the authorization)
//
// The checksum (provider-flows.md): lower-case hex HMAC-SHA256, keyed with the client's secret,
// over `client=…&platform=…[&collection=…]&state=…&identity=…`, values form-urlencoded as
// URLSearchParams does, in that order.
//
// Where the document is silent, this sandbox does what a real service would:
// - The return URL is registered per client (one each), never taken from the request. An
//   unknown or missing `client` gets a plain 400 page: there is nowhere safe to redirect to.
// - Checks, in order: client known; no parameter given twice; `platform`, `identity`, `checksum`
//   present and non-empty; the checksum; then `collection` (a UUID of a collection of this
//   client, holding this identity) and `platform` (one this service supports). The checksum
//   comes before the semantic checks so that an unsigned request learns nothing else. Every
//   failure after the client check is a 303 to the return URL with `error` (`invalid_request`
//   or `invalid_checksum`), `error_description` and `state` (when one, single, was given).
// - `state` is "Recommended", not required: without it the request is accepted, the canonical
//   string leaves `state=` out, and no state is returned. Unknown extra parameters are ignored
//   (they are not signed, so they cannot change anything).
// - The checksum is compared in constant time and only as 64 lower-case hex digits. It is not
//   single-use: reloading the consent page is fine; each flow has a fresh state anyway.
// - The consent page is a pending decision with an unguessable id, single-use, 10 minutes; a
//   decision POSTed from another origin is refused (a real service would also bind it to a
//   cookie). The user is taken as signed in to the source platform.
// - Success returns `state`, `collection`, `identity`, `platform`, `status=connected`, in that
//   order; deny returns `error=access_denied`, `error_description`, `state`.
// - A collection belongs to one client and one identity; it holds one connection per platform.
//   Approving into it again makes that platform's connection "active" again (a reconnect adds
//   no second connection and no new collection). Without `collection`, a new one is made.
// - API: a missing or wrong secret is 401 (with WWW-Authenticate); another client's or an
//   unknown collection is 404. Revoking is idempotent and answers the collection.
import http from "node:http";
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { close, esc, listen, readForm, sendHtml, sendJson } from "../lib/http.mjs";

const CONSENT_TTL_MS = 10 * 60 * 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX64 = /^[0-9a-f]{64}$/;

/** The source platforms this sandbox links, by the `platform` value. */
const PLATFORMS = { coinbase: "Coinbase", gemini: "Gemini", kraken: "Kraken", metamask: "MetaMask" };

/** The canonical string the checksum signs (provider-flows.md, "Turnqey" step 3). */
function canonicalString({ client, platform, collection, state, identity }) {
  const pairs = [["client", client], ["platform", platform]];
  if (collection !== undefined) pairs.push(["collection", collection]);
  if (state !== undefined) pairs.push(["state", state]);
  pairs.push(["identity", identity]);
  return new URLSearchParams(pairs).toString();
}

const checksumOf = (secret, params) => createHmac("sha256", secret).update(canonicalString(params)).digest("hex");

function checksumMatches(secret, params, given) {
  if (!HEX64.test(given)) return false;
  return timingSafeEqual(Buffer.from(checksumOf(secret, params)), Buffer.from(given));
}

const page = (title, body) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:30em;margin:2em auto;padding:0 1em}
button{font-size:1em;padding:.4em 1.2em;margin-right:.5em}.note{color:#555}</style>
</head><body>${body}</body></html>`;

function newStats() {
  return {
    authorizeRequests: 0, // every GET /authorize, valid or not
    authorizeLog: [], // [{ query, outcome: "consent" | "unknown_client" | <error sent back> }]
    refusals: [], // [{ client, error, errorDescription, state }]: requests sent back with an error
    decisions: [], // [{ decision: "approve" | "deny", client, platform, identity, collection, state }]
    apiRequests: [], // [{ method, path, status }]
  };
}

/**
 * Start the sandbox. `clients`: `[{ id, secret, returnUrl }]`.
 * Returns `{ origin, authorizeUrl, stats, resetStats(), collection(id), createCollection(…), close() }`.
 */
export async function startTurnqeySandbox({ clients }) {
  const byId = new Map(clients.map((c) => [c.id, c]));
  const collections = new Map(); // id -> { id, client, identity, connections: Map<platform, status> }
  const pending = new Map(); // consent id -> { client, platform, identity, collection?, state?, expires }
  const stats = newStats();
  let origin;

  const view = (c) => ({
    collection: c.id,
    identity: c.identity,
    connections: [...c.connections].map(([platform, status]) => ({ platform, status })),
  });

  /** 303 to the client's registered return URL with `params` added to its query. */
  function backToClient(res, client, params) {
    const url = new URL(client.returnUrl);
    for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
    res.writeHead(303, { location: url.href, "cache-control": "no-store" }).end();
  }

  function refuse(res, client, state, error, errorDescription, entry) {
    entry.outcome = error;
    stats.refusals.push({ client: client.id, error, errorDescription, state });
    backToClient(res, client, { error, error_description: errorDescription, state });
  }

  function authorize(req, res, url) {
    stats.authorizeRequests += 1;
    const query = url.searchParams;
    const entry = { query: Object.fromEntries(query), outcome: null };
    stats.authorizeLog.push(entry);

    const client = query.getAll("client").length === 1 ? byId.get(query.get("client")) : undefined;
    if (!client) {
      entry.outcome = "unknown_client";
      return sendHtml(res, 400, page("Turnqey: bad request", `<h1>Bad request</h1>
<p id="message">Unknown or missing <code>client</code>. Check the client ID Turnqey gave you.</p>`));
    }
    const repeated = [...new Set(query.keys())].filter((name) => query.getAll(name).length > 1);
    const state = repeated.includes("state") ? undefined : query.get("state") ?? undefined;
    if (repeated.length) {
      return refuse(res, client, state, "invalid_request", `parameter given more than once: ${repeated.join(", ")}`, entry);
    }
    const missing = ["platform", "identity", "checksum"].filter((name) => !query.get(name));
    if (missing.length) return refuse(res, client, state, "invalid_request", `missing parameter: ${missing.join(", ")}`, entry);

    const params = {
      client: client.id,
      platform: query.get("platform"),
      collection: query.get("collection") ?? undefined,
      state,
      identity: query.get("identity"),
    };
    if (!checksumMatches(client.secret, params, query.get("checksum"))) {
      return refuse(res, client, state, "invalid_checksum", "the checksum does not match this authorization request", entry);
    }
    if (params.collection !== undefined) {
      const known = UUID.test(params.collection) ? collections.get(params.collection.toLowerCase()) : undefined;
      if (!known || known.client !== client.id) return refuse(res, client, state, "invalid_request", "unknown collection", entry);
      if (known.identity !== params.identity) {
        return refuse(res, client, state, "invalid_request", "the collection belongs to another identity", entry);
      }
      params.collection = known.id;
    }
    if (!Object.hasOwn(PLATFORMS, params.platform)) {
      return refuse(res, client, state, "invalid_request", "unsupported platform", entry);
    }

    entry.outcome = "consent";
    const consent = randomBytes(24).toString("base64url");
    pending.set(consent, { ...params, expires: Date.now() + CONSENT_TTL_MS });
    const name = PLATFORMS[params.platform];
    sendHtml(res, 200, page(`Connect ${name} to Turnqey`, `<h1>Connect <span id="platform">${esc(name)}</span></h1>
<p><b id="client">${esc(client.id)}</b> asks Turnqey for read-only access to your ${esc(name)} account
(<span id="identity">${esc(params.identity)}</span>).</p>
<p id="permissions">Turnqey will read balances and transactions. It cannot trade, withdraw, transfer or see private keys.</p>
<form method="post" action="/authorize/decision">
  <input type="hidden" name="consent" value="${esc(consent)}">
  <button id="approve" type="submit" name="decision" value="approve">Approve read-only access</button>
  <button id="deny" type="submit" name="decision" value="deny">Deny</button>
</form>
<p class="note">You can revoke this access at ${esc(name)} at any time.</p>`));
  }

  async function decide(req, res) {
    const form = await readForm(req);
    const request = pending.get(form.consent);
    pending.delete(form.consent);
    const sameOrigin = !req.headers.origin || req.headers.origin === origin;
    if (!request || request.expires < Date.now() || !sameOrigin || !["approve", "deny"].includes(form.decision)) {
      return sendHtml(res, 400, page("Turnqey: expired", `<h1>This request has expired</h1>
<p id="message">Go back to the app and start connecting again.</p>`));
    }
    const client = byId.get(request.client);
    const { platform, identity, state } = request;
    if (form.decision === "deny") {
      stats.decisions.push({ decision: "deny", client: client.id, platform, identity, collection: request.collection, state });
      return backToClient(res, client, { error: "access_denied", error_description: "The user denied access", state });
    }
    const collection = request.collection ? collections.get(request.collection) : newCollection(client.id, identity);
    collection.connections.set(platform, "active");
    stats.decisions.push({ decision: "approve", client: client.id, platform, identity, collection: collection.id, state });
    backToClient(res, client, { state, collection: collection.id, identity, platform, status: "connected" });
  }

  function newCollection(clientId, identity) {
    const collection = { id: randomUUID(), client: clientId, identity, connections: new Map() };
    collections.set(collection.id, collection);
    return collection;
  }

  /** The client whose secret is the request's bearer token, if any. */
  function caller(req) {
    const token = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    if (!token) return undefined;
    return clients.find((c) => c.secret.length === token.length && timingSafeEqual(Buffer.from(c.secret), Buffer.from(token)));
  }

  function api(req, res, path) {
    const entry = { method: req.method, path, status: 0 };
    stats.apiRequests.push(entry);
    const reply = (status, body, headers) => {
      entry.status = status;
      sendJson(res, status, body, headers);
    };
    const m = /^\/api\/v1\/collections\/([^/]+)(\/revoke)?$/.exec(path);
    if (!m) return reply(404, { error: "not_found" });
    const wanted = m[2] ? "POST" : "GET";
    if (req.method !== wanted) return reply(405, { error: "method_not_allowed" }, { allow: wanted });
    const client = caller(req);
    if (!client) {
      return reply(401, { error: "unauthorized", error_description: "a client secret is required" }, {
        "www-authenticate": 'Bearer realm="turnqey"',
      });
    }
    const collection = collections.get(decodeURIComponent(m[1]).toLowerCase());
    if (!collection || collection.client !== client.id) return reply(404, { error: "not_found", error_description: "no such collection" });
    if (m[2]) for (const platform of collection.connections.keys()) collection.connections.set(platform, "revoked");
    reply(200, view(collection));
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    const path = url.pathname;
    const fail = (error) => {
      if (res.headersSent) return res.destroy();
      sendJson(res, 500, { error: "server_error", error_description: String(error?.message ?? error) });
    };
    try {
      if (path === "/authorize" && req.method === "GET") return authorize(req, res, url);
      if (path === "/authorize/decision" && req.method === "POST") return decide(req, res).catch(fail);
      if (path.startsWith("/api/")) return api(req, res, path);
      sendHtml(res, 404, page("Not found", "<h1>Not found</h1>"));
    } catch (error) {
      fail(error);
    }
  });
  origin = await listen(server);

  return {
    origin,
    authorizeUrl: `${origin}/authorize`,
    stats,
    resetStats() {
      const fresh = newStats();
      for (const key of Object.keys(stats)) delete stats[key];
      Object.assign(stats, fresh); // the same object: references held by tests stay live
    },
    /** A collection as the API shows it, or null (for tests; no secret needed). */
    collection(id) {
      const found = collections.get(String(id).toLowerCase());
      return found ? view(found) : null;
    },
    /** Make a collection holding active connections to `platforms` (a prior authorization). */
    createCollection({ client, identity, platforms = [] }) {
      if (!byId.has(client)) throw new Error(`unknown client ${client}`);
      const collection = newCollection(client, identity);
      for (const platform of platforms) collection.connections.set(platform, "active");
      return collection.id;
    },
    close: () => close(server),
  };
}
