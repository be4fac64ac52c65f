// The Turnqey sandbox and the app's backend routes, without a browser: the authorize request's
// checks (client, parameters, checksum, collection), the consent decision, the collections API
// and its secret, revocation and reconnection into the same collection, and what the backend
// signs and refuses. The browser flows are in turnqey.test.mjs.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createHmac } from "node:crypto";
import { startTurnqeySandbox } from "../../www/sandboxes/turnqey.mjs";
import { turnqeyChecksum } from "../../www/backend/turnqey.mjs";
import * as integration from "../../www/integrations/turnqey.mjs";
import { close, listen } from "../../www/lib/http.mjs";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const APP = "http://localhost:1"; // never contacted: the return URLs are only compared
const DEMO_RETURN = `${APP}/callback`;
const TEST_RETURN = `${APP}/test/callback`;

/** The checksum as provider-flows.md writes it, computed here independently of the sandbox and backend. */
function expectedChecksum(secret, { client, platform, collection, state, identity }) {
  let canonical = `client=${encodeURIComponent(client)}&platform=${encodeURIComponent(platform)}`;
  if (collection !== undefined) canonical += `&collection=${encodeURIComponent(collection)}`;
  if (state !== undefined) canonical += `&state=${encodeURIComponent(state)}`;
  canonical += `&identity=${encodeURIComponent(identity)}`;
  // URLSearchParams form-encoding: space as "+", and these are escaped too.
  canonical = canonical.replace(/%20/g, "+").replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return createHmac("sha256", secret).update(canonical).digest("hex");
}

/** GET without following redirects. */
const get = (url, headers = {}) => fetch(url, { redirect: "manual", headers });

/** The query of a 303's Location, after checking it goes to `returnUrl`. */
function redirectQuery(reply, returnUrl) {
  assert.equal(reply.status, 303);
  const location = new URL(reply.headers.get("location"));
  assert.equal(`${location.origin}${location.pathname}`, returnUrl);
  return [...location.searchParams];
}

/** The consent page's pending decision id. */
async function consentId(reply) {
  assert.equal(reply.status, 200, "the consent page");
  const html = await reply.text();
  return /name="consent" value="([^"]+)"/.exec(html)[1];
}

describe("Turnqey sandbox", () => {
  const SECRETS = { demo: "demo-secret-0123456789", test: "test-secret-9876543210" };
  let sandbox;

  before(async () => {
    sandbox = await startTurnqeySandbox({
      clients: [
        { id: "demo-client", secret: SECRETS.demo, returnUrl: DEMO_RETURN },
        { id: "test-client", secret: SECRETS.test, returnUrl: TEST_RETURN },
      ],
    });
  });
  after(() => sandbox?.close());

  /** An authorization URL for test-client, signed as the document says (unless `checksum` is given). */
  function authorizeUrl(params, { secret = SECRETS.test, checksum } = {}) {
    const p = { client: "test-client", platform: "coinbase", state: "st-1", identity: "user-42", ...params };
    for (const key of Object.keys(p)) if (p[key] === undefined) delete p[key];
    const url = new URL(sandbox.authorizeUrl);
    for (const key of ["client", "platform", "collection", "state", "identity"]) if (key in p) url.searchParams.set(key, p[key]);
    url.searchParams.set("checksum", checksum ?? expectedChecksum(secret, p));
    return url.href;
  }

  /** Approve or deny a valid request; answers the redirect's query pairs. */
  async function decide(params, decision = "approve") {
    const consent = await consentId(await get(authorizeUrl(params)));
    const reply = await fetch(`${sandbox.origin}/authorize/decision`, {
      method: "POST",
      redirect: "manual",
      body: new URLSearchParams({ consent, decision }),
    });
    return redirectQuery(reply, TEST_RETURN);
  }

  const api = (path, { secret = SECRETS.test, method = "GET" } = {}) =>
    fetch(`${sandbox.origin}/api/v1/collections/${path}`, { method, headers: secret ? { authorization: `Bearer ${secret}` } : {} });

  test("the backend's checksum is the documented HMAC-SHA256 over the canonical string", () => {
    const cases = [
      { client: "test-client", platform: "coinbase", state: "abc", identity: "user-42" },
      { client: "test-client", platform: "coinbase", collection: "9b2f8a7e-1c1d-4d6a-9f00-3a3b5e2f7c11", state: "x y&z=1", identity: "Zoë O'Neil (adviser)~!" },
    ];
    for (const params of cases) {
      assert.match(turnqeyChecksum("k", params), /^[0-9a-f]{64}$/);
      assert.equal(turnqeyChecksum("k", params), expectedChecksum("k", params));
    }
  });

  test("a valid request shows the read-only consent page of the source platform", async () => {
    const reply = await get(authorizeUrl({ state: "x y&z=1", identity: "Zoë O'Neil (adviser)~!" }));
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get("content-type"), /^text\/html/);
    const html = await reply.text();
    assert.match(html, /id="platform">Coinbase</);
    assert.match(html, /Turnqey will read balances and transactions\. It cannot trade, withdraw, transfer or see private keys\./);
    assert.match(html, /id="approve"/);
    assert.match(html, /id="deny"/);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!127\.0\.0\.1)/, "no script, no external resource");
  });

  test("an unknown or missing client gets a plain 400 page, never a redirect", async () => {
    sandbox.resetStats();
    for (const url of [
      authorizeUrl({ client: "nobody" }),
      authorizeUrl({ client: undefined }),
      `${authorizeUrl({})}&client=test-client`, // client twice: which one's return URL?
    ]) {
      const reply = await get(url);
      assert.equal(reply.status, 400, url);
      assert.equal(reply.headers.get("location"), null);
      assert.match(await reply.text(), /Unknown or missing <code>client<\/code>/);
    }
    assert.deepEqual(sandbox.stats.authorizeLog.map((e) => e.outcome), ["unknown_client", "unknown_client", "unknown_client"]);
    assert.equal(sandbox.stats.refusals.length, 0);
  });

  test("a missing required parameter or a repeated one goes back to the client's return URL as invalid_request", async () => {
    for (const missing of ["platform", "identity"]) {
      const query = redirectQuery(await get(authorizeUrl({ [missing]: undefined })), TEST_RETURN);
      assert.deepEqual(query, [["error", "invalid_request"], ["error_description", `missing parameter: ${missing}`], ["state", "st-1"]]);
    }
    const noChecksum = new URL(authorizeUrl({}));
    noChecksum.searchParams.delete("checksum");
    assert.deepEqual(redirectQuery(await get(noChecksum), TEST_RETURN)[0], ["error", "invalid_request"]);
    const twice = redirectQuery(await get(`${authorizeUrl({})}&platform=gemini`), TEST_RETURN);
    assert.deepEqual(Object.fromEntries(twice), {
      error: "invalid_request", error_description: "parameter given more than once: platform", state: "st-1",
    });
    // A repeated state is not echoed back (which one would it be?).
    const states = redirectQuery(await get(`${authorizeUrl({})}&state=other`), TEST_RETURN);
    assert.equal(Object.fromEntries(states).state, undefined);
  });

  test("a checksum that does not match the exact request is refused: invalid_checksum to the return URL, recorded", async () => {
    sandbox.resetStats();
    const signed = { state: "st-1", identity: "user-42" };
    const good = new URL(authorizeUrl(signed)).searchParams.get("checksum");
    const tampered = [
      authorizeUrl(signed, { checksum: good.replace(/.$/, (c) => (c === "0" ? "1" : "0")) }), // one digit off
      authorizeUrl(signed, { checksum: good.toUpperCase() }), // not lower-case hex
      authorizeUrl(signed, { secret: SECRETS.demo }), // signed with another client's secret
      authorizeUrl({ ...signed, identity: "user-43" }, { checksum: good }), // identity changed after signing
      authorizeUrl({ ...signed, collection: "9b2f8a7e-1c1d-4d6a-9f00-3a3b5e2f7c11" }, { checksum: good }), // collection added
      authorizeUrl({ ...signed, platform: "gemini" }, { checksum: good }), // platform changed
      authorizeUrl(signed, { checksum: "not-a-checksum" }),
    ];
    for (const url of tampered) {
      const query = redirectQuery(await get(url), TEST_RETURN);
      assert.deepEqual(query, [
        ["error", "invalid_checksum"],
        ["error_description", "the checksum does not match this authorization request"],
        ["state", "st-1"],
      ], url);
    }
    assert.equal(sandbox.stats.refusals.length, tampered.length);
    assert.ok(sandbox.stats.refusals.every((r) => r.error === "invalid_checksum" && r.client === "test-client"));
    assert.ok(sandbox.stats.authorizeLog.every((e) => e.outcome === "invalid_checksum"));
  });

  test("state is recommended, not required: without it the request is signed without state and none comes back", async () => {
    const query = Object.fromEntries(await decide({ state: undefined }));
    assert.equal(query.status, "connected");
    assert.equal("state" in query, false);
  });

  test("approve: a new collection (UUID) with an active connection; the redirect carries exactly the documented result", async () => {
    sandbox.resetStats();
    const query = await decide({ state: "st-approve" });
    assert.deepEqual(query.map(([name]) => name), ["state", "collection", "identity", "platform", "status"]);
    const result = Object.fromEntries(query);
    assert.equal(result.state, "st-approve");
    assert.match(result.collection, UUID);
    assert.equal(result.identity, "user-42");
    assert.equal(result.platform, "coinbase");
    assert.equal(result.status, "connected");
    assert.deepEqual(sandbox.collection(result.collection), {
      collection: result.collection, identity: "user-42", connections: [{ platform: "coinbase", status: "active" }],
    });
    assert.deepEqual(sandbox.stats.decisions.map((d) => [d.decision, d.collection]), [["approve", result.collection]]);
  });

  test("deny: access_denied with state, and no collection is made", async () => {
    sandbox.resetStats();
    const query = Object.fromEntries(await decide({ state: "st-deny" }, "deny"));
    assert.deepEqual(Object.keys(query), ["error", "error_description", "state"]);
    assert.equal(query.error, "access_denied");
    assert.equal(query.state, "st-deny");
    assert.deepEqual(sandbox.stats.decisions.map((d) => [d.decision, d.collection]), [["deny", undefined]]);
  });

  test("a consent decision counts once, and only from the sandbox's own page", async () => {
    const consent = await consentId(await get(authorizeUrl({})));
    const post = (headers = {}) => fetch(`${sandbox.origin}/authorize/decision`, {
      method: "POST", redirect: "manual", headers, body: new URLSearchParams({ consent, decision: "approve" }),
    });
    const forged = await post({ origin: "http://localhost:1" });
    assert.equal(forged.status, 400, "a cross-site POST");
    const consent2 = await consentId(await get(authorizeUrl({})));
    const first = await fetch(`${sandbox.origin}/authorize/decision`, {
      method: "POST", redirect: "manual", body: new URLSearchParams({ consent: consent2, decision: "approve" }),
    });
    assert.equal(first.status, 303);
    const again = await fetch(`${sandbox.origin}/authorize/decision`, {
      method: "POST", redirect: "manual", body: new URLSearchParams({ consent: consent2, decision: "approve" }),
    });
    assert.equal(again.status, 400);
    assert.match(await again.text(), /expired/);
  });

  test("collections API: the client's secret is required (401), another client's collection is not found (404)", async () => {
    const { collection } = Object.fromEntries(await decide({}));
    for (const secret of [null, "wrong", `${SECRETS.test}x`]) { // null: no Authorization header
      const reply = await api(collection, { secret });
      assert.equal(reply.status, 401, String(secret));
      assert.match(reply.headers.get("www-authenticate"), /^Bearer /);
    }
    assert.equal((await api(collection, { secret: SECRETS.demo })).status, 404, "demo-client cannot read test-client's collection");
    assert.equal((await api(`${collection}/revoke`, { secret: SECRETS.demo, method: "POST" })).status, 404);
    assert.equal((await api("00000000-0000-4000-8000-000000000000")).status, 404);
    assert.equal((await api(`${collection}/revoke`)).status, 405, "revoke is a POST");
    const reply = await api(collection);
    assert.equal(reply.status, 200);
    assert.deepEqual(await reply.json(), { collection, identity: "user-42", connections: [{ platform: "coinbase", status: "active" }] });
    assert.equal(sandbox.collection(collection).connections[0].status, "active", "nothing revoked by the refused calls");
  });

  test("revoke, then reconnect into the same collection: active again, no new collection, no second connection", async () => {
    const { collection } = Object.fromEntries(await decide({}));
    const revoke = () => api(`${collection}/revoke`, { method: "POST" });
    for (let i = 0; i < 2; i += 1) { // idempotent
      const reply = await revoke();
      assert.equal(reply.status, 200);
      assert.deepEqual((await reply.json()).connections, [{ platform: "coinbase", status: "revoked" }]);
    }
    sandbox.resetStats();
    const result = Object.fromEntries(await decide({ collection, state: "st-reconnect" }));
    assert.equal(result.collection, collection);
    assert.equal(result.status, "connected");
    assert.deepEqual(await (await api(collection)).json(), {
      collection, identity: "user-42", connections: [{ platform: "coinbase", status: "active" }],
    });
    // A second platform joins the same collection.
    const more = Object.fromEntries(await decide({ collection, platform: "gemini" }));
    assert.equal(more.collection, collection);
    assert.deepEqual(sandbox.collection(collection).connections, [
      { platform: "coinbase", status: "active" }, { platform: "gemini", status: "active" },
    ]);
  });

  test("a collection must be a UUID of this client's, holding this identity; the platform must be supported", async () => {
    const theirs = sandbox.createCollection({ client: "demo-client", identity: "user-42" });
    const someoneElses = sandbox.createCollection({ client: "test-client", identity: "user-7" });
    const cases = [
      [{ collection: "not-a-uuid" }, "unknown collection"],
      [{ collection: "00000000-0000-4000-8000-000000000000" }, "unknown collection"],
      [{ collection: theirs }, "unknown collection"],
      [{ collection: someoneElses }, "the collection belongs to another identity"],
      [{ platform: "mtgox" }, "unsupported platform"],
    ];
    for (const [params, description] of cases) {
      const query = redirectQuery(await get(authorizeUrl(params)), TEST_RETURN);
      assert.deepEqual(query, [["error", "invalid_request"], ["error_description", description], ["state", "st-1"]], description);
    }
    assert.deepEqual(sandbox.collection(someoneElses).connections, []);
  });
});

describe("Turnqey backend routes (integration module)", () => {
  let running;
  let app;
  let appOrigin;
  let handle;

  before(async () => {
    // The app's session, as the demo server keeps it: here, one user signed in on every request.
    const identityOf = () => "user-42";
    running = await integration.start({ appOrigin: APP, callbackUrls: { demo: DEMO_RETURN, test: TEST_RETURN }, testPages: true, identityOf, demoUser: "user-42" });
    handle = running.handle;
    app = http.createServer((req, res) => {
      const route = running.routes[new URL(req.url, "http://x").pathname];
      if (!route) return res.writeHead(404).end();
      route(req, res).catch((error) => res.writeHead(500).end(String(error)));
    });
    appOrigin = await listen(app);
  });
  after(async () => {
    if (app) await close(app);
    await running?.close();
  });

  const postJson = (path, body, headers = { "content-type": "application/json" }) =>
    fetch(`${appOrigin}${path}`, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
  const checksum = (body) => postJson("/api/turnqey/checksum", body);
  const base = { client: "test-client", platform: "coinbase", identity: "user-42", state: "st-backend" };

  /** Sign through the backend, go to the sandbox's /authorize, approve; answers the redirect's query. */
  async function connect(params = {}) {
    const body = { ...base, ...params };
    const reply = await checksum(body);
    assert.equal(reply.status, 200);
    const url = new URL(handle.authorizeUrl);
    for (const key of ["client", "platform", "collection", "state", "identity"]) if (key in body) url.searchParams.set(key, body[key]);
    url.searchParams.set("checksum", (await reply.json()).checksum);
    const consent = await consentId(await get(url));
    const decided = await fetch(`${handle.origin}/authorize/decision`, {
      method: "POST", redirect: "manual", body: new URLSearchParams({ consent, decision: "approve" }),
    });
    return Object.fromEntries(redirectQuery(decided, TEST_RETURN));
  }

  test("the module's shape: name, routes, banner; browser configs hold no secret", () => {
    assert.equal(integration.name, "turnqey");
    assert.deepEqual(Object.keys(running.routes).sort(), ["/api/turnqey/checksum", "/api/turnqey/collection", "/api/turnqey/revoke"]);
    assert.match(running.banner, /^Turnqey sandbox: +http:\/\/127\.0\.0\.1:\d+/);
    const { demo, test: variants } = running.browserConfig;
    assert.deepEqual(Object.keys(variants).sort(), ["default", "existing", "foreign"]);
    for (const config of [demo, ...Object.values(variants)]) {
      assert.deepEqual(
        Object.keys(config).filter((k) => k !== "collection").sort(),
        ["authorizeUrl", "checksumEndpoint", "client", "identity", "kind", "platform"],
      );
      assert.equal(config.kind, "turnqey");
      assert.equal(config.authorizeUrl, handle.authorizeUrl);
      assert.equal(config.checksumEndpoint, "/api/turnqey/checksum");
    }
    assert.equal(demo.client, "demo-client");
    assert.equal(variants.default.client, "test-client");
    assert.equal(variants.existing.collection, handle.existingCollection);
    assert.doesNotMatch(JSON.stringify(running.browserConfig), /[0-9a-f]{64}/, "no secret-like value");
    assert.doesNotMatch(JSON.stringify(handle), /[0-9a-f]{64}/, "the test handle exposes no secret either");
  });

  test("checksum: signs exactly what the browser will send; the sandbox accepts it and connects", async () => {
    handle.resetStats();
    const result = await connect();
    assert.equal(result.status, "connected");
    assert.match(result.collection, UUID);
    assert.deepEqual(handle.checksumLog.map((e) => [e.body, e.status]), [[base, 200]]);
    assert.deepEqual(handle.collection(result.collection).connections, [{ platform: "coinbase", status: "active" }]);
  });

  test("checksum: refuses a client it does not own, a missing state, extra or malformed fields, another user, non-JSON", async () => {
    const cases = [
      [{ ...base, client: "someone-elses-client" }, 403, "unknown_client"],
      [{ ...base, state: undefined }, 400, "invalid_request"],
      [{ ...base, state: "" }, 400, "invalid_request"],
      [{ ...base, identity: undefined }, 400, "invalid_request"],
      [{ ...base, collection: null }, 400, "invalid_request"],
      [{ ...base, redirectUri: "https://evil.example/" }, 400, "invalid_request"],
      [{ ...base, identity: "user-7" }, 403, "forbidden"],
      ["not json", 400, "invalid_request"],
      [[base], 400, "invalid_request"],
    ];
    for (const [body, status, error] of cases) {
      const reply = await checksum(body);
      assert.equal(reply.status, status, JSON.stringify(body));
      const json = await reply.json();
      assert.equal(json.error, error);
      assert.equal(json.checksum, undefined);
    }
    const form = await postJson("/api/turnqey/checksum", new URLSearchParams(base).toString(), { "content-type": "application/x-www-form-urlencoded" });
    assert.equal(form.status, 415, "a cross-site form post");
    assert.equal((await fetch(`${appOrigin}/api/turnqey/checksum`)).status, 405);
  });

  test("tamperChecksum: the backend answers a wrong checksum and the sandbox refuses it", async (t) => {
    const right = (await (await checksum(base)).json()).checksum;
    handle.tamperChecksum = true;
    t.after(() => { handle.tamperChecksum = false; });
    const wrong = (await (await checksum(base)).json()).checksum;
    assert.match(wrong, /^[0-9a-f]{64}$/);
    assert.notEqual(wrong, right);
    handle.resetStats();
    const url = new URL(handle.authorizeUrl);
    for (const key of ["client", "platform", "state", "identity"]) url.searchParams.set(key, base[key]);
    url.searchParams.set("checksum", wrong);
    const query = Object.fromEntries(redirectQuery(await get(url), TEST_RETURN));
    assert.equal(query.error, "invalid_checksum");
    assert.equal(query.state, base.state);
    assert.deepEqual(handle.stats.refusals.map((r) => r.error), ["invalid_checksum"]);
  });

  test("collection, revoke, reconnect: the app learns the revocation from its backend and reconnects into the same collection", async () => {
    const { collection } = await connect();
    const read = () => postJson("/api/turnqey/collection", { id: collection });
    let reply = await read();
    assert.equal(reply.status, 200);
    assert.deepEqual(await reply.json(), {
      collection, identity: "user-42", connections: [{ platform: "coinbase", status: "active" }], reconnectRequired: false,
    });

    reply = await postJson("/api/turnqey/revoke", { collection });
    assert.equal(reply.status, 200);
    assert.equal((await reply.json()).reconnectRequired, true);
    reply = await read();
    assert.deepEqual(await reply.json(), {
      collection, identity: "user-42", connections: [{ platform: "coinbase", status: "revoked" }], reconnectRequired: true,
    });

    const again = await connect({ collection, state: "st-again" });
    assert.equal(again.collection, collection);
    assert.equal((await (await read()).json()).reconnectRequired, false);
    assert.deepEqual(handle.collection(collection).connections, [{ platform: "coinbase", status: "active" }]);
  });

  test("collection and revoke: only the user's own collections, known ones, owned clients", async () => {
    const { collection: mine } = await connect();
    const theirs = handle.createCollection({ client: "test-client", identity: "user-7", platforms: ["coinbase"] });
    const read = (query) => postJson("/api/turnqey/collection", query);
    assert.equal((await read({})).status, 400);
    assert.equal((await read({ id: "00000000-0000-4000-8000-000000000000" })).status, 404);
    assert.equal((await read({ id: theirs })).status, 404, "another user's collection");
    assert.equal((await read({ id: mine, client: "someone-elses-client" })).status, 403);
    assert.equal((await read({ id: mine, client: "demo-client" })).status, 404, "asked with the wrong client");
    assert.equal((await read({ id: mine, client: "test-client" })).status, 200);
    assert.equal((await postJson("/api/turnqey/revoke", {})).status, 400);
    assert.equal((await postJson("/api/turnqey/revoke", { collection: "00000000-0000-4000-8000-000000000000" })).status, 404);
    assert.equal((await postJson("/api/turnqey/revoke", { collection: theirs })).status, 404, "another user's collection");
    assert.equal((await postJson("/api/turnqey/revoke", { collection: mine }, { "content-type": "text/plain" })).status, 415);
    assert.equal(handle.collection(mine).connections[0].status, "active", "nothing was revoked");
    assert.equal(handle.collection(theirs).connections[0].status, "active", "nothing was revoked");
  });

  test("the prepared collection of the `existing` variant holds an active gemini connection of user-42", () => {
    assert.deepEqual(handle.collection(handle.existingCollection), {
      collection: handle.existingCollection, identity: "user-42", connections: [{ platform: "gemini", status: "active" }],
    });
  });
});
