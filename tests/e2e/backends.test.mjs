// The app-backend routes (www/backend/, the demo server's own) against hostile requests: plain
// fetch from Node on loopback, no browser. Every route sits behind `jsonRoute` (www/lib/http.mjs)
// and acts only for the user the demo's own session names; each refusal is tested here, with
// what the answer must not give away, and the normal path beside it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { startServer } from "./browser.mjs";

let server;
let torque;
let liquid;
let turnqey;
let me; // the demo user's session cookie (user-42, whom the pages' configs name)
let other; // another signed-in user's (user-7)

before(async () => {
  server = await startServer();
  ({ torque, liquid, turnqey } = server.integrations);
  me = server.signIn();
  other = server.signIn("user-7");
});
after(() => server?.close());

const pkce = () => {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
};
const jwtSub = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url")).sub;

/**
 * POST to an app route. `cookie` defaults to the demo user's; `body` may be a string (sent as
 * is); `headers` are added (a `null` value removes one).
 */
async function post(path, body, { cookie = me, headers = {}, method = "POST" } = {}) {
  const all = { "content-type": "application/json", ...(cookie && { cookie }), ...headers };
  for (const [name, value] of Object.entries(all)) if (value === null) delete all[name];
  const reply = await fetch(`${server.appOrigin}${path}`, {
    method,
    headers: all,
    ...(method !== "GET" && method !== "HEAD" && { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await reply.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: reply.status, headers: reply.headers, text, json };
}

/** Every call a route could make past the guard: to Torque, Liquid, Turnqey or the OpenID provider. */
const upstreamCalls = () =>
  torque.stats.sessionRequests.length + torque.stats.tokenRequests.length + torque.stats.executeRequests.length +
  liquid.stats.accountsRequests.length + turnqey.stats.apiRequests.length + server.provider.stats.tokenLog.length;

/**
 * A refusal: the status, a JSON `{ error }`, none of `secrets` (what the request carried, the
 * partner's secret key, the session cookie) in the answer, and nothing handed out.
 */
function assertRefused(reply, status, secrets = [], what = "") {
  assert.equal(reply.status, status, `${what}: ${reply.text}`);
  assert.match(reply.headers.get("content-type") ?? "", /^application\/json/, what);
  assert.equal(typeof reply.json?.error, "string", what);
  for (const secret of [...secrets, liquid.secretKey, me.split("=")[1], other.split("=")[1]]) {
    if (secret) assert.equal(reply.text.includes(secret), false, `${what}: the answer repeats a secret`);
  }
  for (const given of ["accounts", "accessToken", "authorizeUrl", "checksum", "connected", "revoked", "connections"]) {
    assert.equal(reply.json?.[given], undefined, `${what}: ${given}`);
  }
}

// Every backend route with a body that would pass its own checks: the guard must stop each
// hostile request before the route runs.
const ROUTES = {
  "/api/oauth2/exchange": () => ({ code: "code-abc", codeVerifier: pkce().verifier, redirectUri: `${server.appOrigin}/test/callback`, state: "st" }),
  "/api/demo/oidc/revoke": () => ({}),
  "/api/torque/session": () => ({ redirectUri: `${server.appOrigin}/test/callback`, codeChallenge: pkce().challenge, codeChallengeMethod: "S256", state: "st" }),
  "/api/torque/exchange": () => ({ code: "code-abc", codeVerifier: pkce().verifier, redirectUri: `${server.appOrigin}/test/callback` }),
  "/api/torque/transfers": () => ({ amount: "1.00", asset: "USDC", destination: "0x000000000000000000000000000000000000dEaD" }),
  "/api/turnqey/checksum": () => ({ client: "test-client", platform: "coinbase", identity: "user-42", state: "st" }),
  "/api/turnqey/collection": () => ({ id: turnqey.existingCollection }),
  "/api/turnqey/revoke": () => ({ collection: turnqey.existingCollection }),
  "/api/liquid/verify": () => ({ sessionId: crypto.randomUUID() }),
};

/**
 * Send `request(path, body)` to every route; each answer must be a refusal with `status` that
 * repeats none of the body's values (nor `secrets`), and nothing goes upstream.
 */
async function refusedEverywhere(status, request, secrets = []) {
  const before = upstreamCalls();
  for (const [path, body] of Object.entries(ROUTES)) {
    const sent = body();
    const values = Object.values(sent).filter((v) => typeof v === "string" && v.length > 8);
    assertRefused(await request(path, sent), status, [...values, ...secrets], path);
  }
  assert.equal(upstreamCalls(), before, "no route called anyone");
  assert.deepEqual(turnqey.collection(turnqey.existingCollection).connections, [{ platform: "gemini", status: "active" }], "nothing revoked");
}

describe("every backend route: the shared guard", () => {
  test("a method other than POST: 405, Allow: POST", async () => {
    for (const method of ["GET", "PUT", "DELETE"]) {
      await refusedEverywhere(405, async (path, body) => {
        const reply = await post(path, body, { method });
        assert.equal(reply.headers.get("allow"), "POST", `${method} ${path}`);
        return reply;
      });
    }
  });

  test("a content type other than application/json (what a cross-site form can send): 415", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp", null]) {
      await refusedEverywhere(415, (path, body) => post(path, body, { headers: { "content-type": type } }));
    }
  });

  test("Sec-Fetch-Site other than same-origin: 403", async () => {
    for (const site of ["cross-site", "same-site", "none"]) {
      await refusedEverywhere(403, (path, body) => post(path, body, { headers: { "sec-fetch-site": site } }));
    }
  });

  test("an Origin other than the app's: 403 (the same server on 127.0.0.1 is another origin)", async () => {
    for (const origin of [server.otherOrigin, "https://evil.example", "null", `${server.appOrigin}.evil.example`]) {
      await refusedEverywhere(403, (path, body) => post(path, body, { headers: { origin, "sec-fetch-site": null } }));
    }
  });

  test("no session cookie, or one the server never issued: 401", async () => {
    await refusedEverywhere(401, (path, body) => post(path, body, { cookie: null }));
    await refusedEverywhere(401, (path, body) => post(path, body, { cookie: `demo_session=${randomBytes(32).toString("base64url")}` }));
  });

  test("a body over the size cap: 413, whether announced by Content-Length or streamed", async () => {
    const padding = "x".repeat(64 * 1024);
    await refusedEverywhere(413, (path, body) => post(path, { ...body, padding }));
    // No Content-Length: the guard counts what arrives.
    const before = upstreamCalls();
    for (const path of Object.keys(ROUTES)) {
      const chunks = [JSON.stringify({ padding }).slice(0, -1), `, "more": "${padding}"}`];
      const stream = new ReadableStream({ pull(controller) { chunks.length ? controller.enqueue(new TextEncoder().encode(chunks.shift())) : controller.close(); } });
      const reply = await fetch(`${server.appOrigin}${path}`, {
        method: "POST", headers: { "content-type": "application/json", cookie: me }, body: stream, duplex: "half",
      });
      const text = await reply.text();
      assertRefused({ status: reply.status, headers: reply.headers, text, json: JSON.parse(text) }, 413, [], path);
    }
    assert.equal(upstreamCalls(), before);
  });

  test("a body that is not a JSON object: 400, the input not echoed", async () => {
    for (const raw of ["{not json code-abc-secret-value", "[]", "null", "\"code-abc-secret-value\""]) {
      await refusedEverywhere(400, (path) => post(path, raw), ["code-abc-secret-value"]);
    }
  });

  test("the normal path: a page load signs the browser in (HttpOnly, SameSite=Lax), and the routes answer that cookie from the app's origin", async () => {
    const page = await fetch(`${server.appOrigin}/`);
    const setCookie = page.headers.get("set-cookie") ?? "";
    assert.match(setCookie, /^demo_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    const cookie = setCookie.split(";")[0];
    // Signed in already: the next page load keeps the session.
    assert.equal((await fetch(`${server.appOrigin}/callback`, { headers: { cookie } })).headers.get("set-cookie"), null);
    // Scripts and styles do not sign anyone in.
    assert.equal((await fetch(`${server.appOrigin}/demo.js`)).headers.get("set-cookie"), null);

    const browserLike = { origin: server.appOrigin, "sec-fetch-site": "same-origin" };
    const session = await post("/api/torque/session", ROUTES["/api/torque/session"](), { cookie, headers: browserLike });
    assert.equal(session.status, 200, session.text);
    assert.deepEqual(Object.keys(session.json), ["authorizeUrl"]);
    assert.equal(torque.stats.sessionRequests.at(-1).externalUserId, "user-42");
    const collection = await post("/api/turnqey/collection", { id: turnqey.existingCollection }, { cookie, headers: { ...browserLike, "content-type": "application/json; charset=utf-8" } });
    assert.equal(collection.status, 200, collection.text);
    assert.equal(collection.json.identity, "user-42");
  });
});

describe("Torque: the user is the signed-in one", () => {
  /** The browser's part up to the callback: session (as `cookie`) → consent approved → the code. */
  async function approvedCode({ cookie = me, fields = {} } = {}) {
    const { verifier, challenge } = pkce();
    const redirectUri = `${server.appOrigin}/test/callback`;
    const session = await post("/api/torque/session", { redirectUri, codeChallenge: challenge, codeChallengeMethod: "S256", state: "st", ...fields }, { cookie });
    assert.equal(session.status, 200, session.text);
    const page = await (await fetch(session.json.authorizeUrl)).text();
    const field = (name) => new RegExp(`name="${name}" value="([^"]*)"`).exec(page)[1];
    const decision = await fetch(`${torque.origin}/connect/authorize/decision`, {
      method: "POST", body: new URLSearchParams({ session: field("session"), csrf: field("csrf"), decision: "approve" }), redirect: "manual",
    });
    const code = new URL(decision.headers.get("location")).searchParams.get("code");
    return { code, verifier, redirectUri };
  }

  test("session: a body naming another externalUserId is refused (403), Torque not called", async () => {
    const before = torque.stats.sessionRequests.length;
    for (const [cookie, externalUserId] of [[me, "user-7"], [other, "user-42"], [me, ""], [me, 42]]) {
      const body = { ...ROUTES["/api/torque/session"](), externalUserId };
      assertRefused(await post("/api/torque/session", body, { cookie }), 403, [], `${externalUserId}`);
    }
    assert.equal(torque.stats.sessionRequests.length, before);
  });

  test("session: Torque gets the cookie's user, whether the page names them or nobody", async () => {
    torque.resetStats();
    assert.equal((await post("/api/torque/session", ROUTES["/api/torque/session"](), { cookie: other })).status, 200);
    assert.equal((await post("/api/torque/session", { ...ROUTES["/api/torque/session"](), externalUserId: "user-42" })).status, 200);
    assert.deepEqual(torque.stats.sessionRequests.map((r) => r.externalUserId), ["user-7", "user-42"]);
  });

  test("exchange: another user's session cookie cannot redeem the code (403), its owner then can", async () => {
    const { code, verifier, redirectUri } = await approvedCode();
    const before = torque.stats.tokenRequests.length;
    const stolen = await post("/api/torque/exchange", { code, codeVerifier: verifier, redirectUri }, { cookie: other });
    assertRefused(stolen, 403, [code, verifier], "another user");
    assert.equal(torque.stats.tokenRequests.length, before, "Torque not called");
    // A verifier of no session this backend opened: the same refusal.
    assertRefused(await post("/api/torque/exchange", { code, codeVerifier: pkce().verifier, redirectUri }), 403, [code]);

    const mine = await post("/api/torque/exchange", { code, codeVerifier: verifier, redirectUri });
    assert.equal(mine.status, 200, mine.text);
    assert.equal(jwtSub(mine.json.accessToken), "user-42");
  });

  test("transfers: another user's cookie cannot spend with this user's JWT (403); no token, 401; the owner can", async () => {
    const { code, verifier, redirectUri } = await approvedCode();
    const { json } = await post("/api/torque/exchange", { code, codeVerifier: verifier, redirectUri });
    const token = json.accessToken;
    const body = ROUTES["/api/torque/transfers"]();
    const before = torque.stats.transfers;
    const auth = (key) => ({ authorization: `Bearer ${token}`, "idempotency-key": key });
    assertRefused(await post("/api/torque/transfers", body, { cookie: other, headers: auth(crypto.randomUUID()) }), 403, [token], "another user");
    assertRefused(await post("/api/torque/transfers", body, { headers: { "idempotency-key": crypto.randomUUID() } }), 401, [], "no token");
    assert.equal(torque.stats.transfers, before);
    const mine = await post("/api/torque/transfers", body, { headers: auth(crypto.randomUUID()) });
    assert.equal(mine.status, 200, mine.text);
    assert.equal(torque.stats.transfers, before + 1);
  });
});

describe("Liquid: balances only for the user the session belongs to", () => {
  async function liquidSession() {
    const reply = await fetch(`${liquid.origin}/api/v1/session`, {
      method: "POST", headers: { "content-type": "application/json", origin: server.appOrigin }, body: JSON.stringify({ public_api_key: liquid.publicApiKey }),
    });
    return (await reply.json()).payload;
  }
  async function approve(id) {
    const url = `${liquid.origin}/api/v1/session/${id}/liquid_oauth`;
    const formToken = /name="form_token" value="([^"]+)"/.exec(await (await fetch(url)).text())[1];
    await fetch(url, {
      method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ form_token: formToken, email: "alice@example.test", password: "pw", decision: "approve" }),
    });
  }

  test("verify of a session another user confirmed: 403 { approved: false }, no balances, Liquid not asked", async () => {
    const { session_id: sessionId, session_secret: secret } = await liquidSession();
    await approve(sessionId);
    const mine = await post("/api/liquid/verify", { sessionId });
    assert.equal(mine.status, 200, mine.text);
    assert.deepEqual(mine.json.accounts, liquid.session(sessionId).accounts);

    const asked = liquid.stats.accountsRequests.length;
    const theirs = await post("/api/liquid/verify", { sessionId }, { cookie: other });
    assert.equal(theirs.status, 403);
    assert.deepEqual(theirs.json, { approved: false });
    assert.equal(theirs.text.includes(secret), false);
    assert.equal(liquid.stats.accountsRequests.length, asked, "Liquid not asked");
    // Its owner still can, again.
    assert.equal((await post("/api/liquid/verify", { sessionId })).status, 200);
  });

  test("verify before approval by someone else does not claim the session: its user's own verify then succeeds", async () => {
    const { session_id: sessionId } = await liquidSession();
    const early = await post("/api/liquid/verify", { sessionId }, { cookie: other });
    assert.deepEqual([early.status, early.json], [403, { approved: false }]);
    await approve(sessionId);
    assert.equal((await post("/api/liquid/verify", { sessionId })).status, 200);
    assert.deepEqual((await post("/api/liquid/verify", { sessionId }, { cookie: other })).json, { approved: false });
  });
});

describe("Turnqey: the signed-in user's identity and collections only", () => {
  test("checksum for an identity that is not the cookie's user: 403; collection and revoke of another user's: 404", async () => {
    const body = ROUTES["/api/turnqey/checksum"](); // identity user-42
    assertRefused(await post("/api/turnqey/checksum", body, { cookie: other }), 403, [], "checksum");
    assertRefused(await post("/api/turnqey/collection", { id: turnqey.existingCollection }, { cookie: other }), 404, [], "collection");
    assertRefused(await post("/api/turnqey/revoke", { collection: turnqey.existingCollection }, { cookie: other }), 404, [], "revoke");
    assert.deepEqual(turnqey.collection(turnqey.existingCollection).connections, [{ platform: "gemini", status: "active" }]);
    // The same requests as its user.
    assert.equal((await post("/api/turnqey/checksum", body)).status, 200);
    assert.equal((await post("/api/turnqey/collection", { id: turnqey.existingCollection })).status, 200);
  });
});
