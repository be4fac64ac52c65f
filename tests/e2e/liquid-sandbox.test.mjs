// The Liquid Quick Exchange sandbox (www/sandboxes/liquid.mjs) and the integrator's backend route
// (www/backend/liquid.mjs), over HTTP with fetch, no browser: the session's shape, CORS, the OAuth
// page's outcomes, the accounts route's JWT check, and what the backend answers.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createHmac } from "node:crypto";
import { startLiquidSandbox, TERMS_OF_SERVICE } from "../../www/sandboxes/liquid.mjs";
import { signSessionJwt, verifyRoute } from "../../www/backend/liquid.mjs";
import { close, listen } from "../../www/lib/http.mjs";
import { startServer } from "./browser.mjs";

const APP = "http://localhost:8123";
const RETURN_URLS = [`${APP}/callback`, `${APP}/test/callback`];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let liquid;
let backend; // the verify route on its own server
let verifyUrl;

before(async () => {
  liquid = await startLiquidSandbox({ returnUrls: RETURN_URLS });
  const route = verifyRoute({ baseUrl: liquid.origin, secretKey: liquid.secretKey, appOrigin: APP, identityOf: () => "user-42" });
  backend = http.createServer((req, res) => route(req, res));
  verifyUrl = `${await listen(backend)}/api/liquid/verify`;
});

after(async () => {
  await liquid?.close();
  if (backend) await close(backend);
});

/** POST /api/v1/session as the app's page would. */
async function createSession(body = { public_api_key: liquid.publicApiKey }, { origin = APP, contentType = "application/json" } = {}) {
  const reply = await fetch(`${liquid.origin}/api/v1/session`, {
    method: "POST",
    headers: { "content-type": contentType, origin },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: reply.status, headers: reply.headers, body: await reply.json() };
}

const oauthUrl = (id) => `${liquid.origin}/api/v1/session/${id}/liquid_oauth`;

/** Open the OAuth page and press a button, as the user does: the answer is not followed. */
async function decide(id, decision, fields = {}) {
  const html = await (await fetch(oauthUrl(id))).text();
  const formToken = /name="form_token" value="([^"]+)"/.exec(html)?.[1];
  return fetch(oauthUrl(id), {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ form_token: formToken, email: "alice@example.test", password: "pw", decision, ...fields }),
  });
}

async function newSession(extra = {}) {
  const { body } = await createSession({ public_api_key: liquid.publicApiKey, ...extra });
  return body.payload;
}

/** A JWT with any header, claims and key, for the negative cases. */
function jwt(claims, { key = liquid.secretKey, header = { alg: "HS256", typ: "JWT" } } = {}) {
  const part = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const unsigned = `${part(header)}.${part(claims)}`;
  return `${unsigned}.${createHmac("sha256", key).update(unsigned).digest("base64url")}`;
}

async function accounts(id, token) {
  const reply = await fetch(`${liquid.origin}/api/v1/session/${id}/accounts`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: reply.status, headers: reply.headers, body: await reply.json() };
}

async function verify(body) {
  const reply = await fetch(verifyUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: reply.status, body: await reply.json() };
}

const now = () => Math.floor(Date.now() / 1000);

describe("liquid sandbox: creating a session", () => {
  test("answers exactly the document's shape, with UUIDs", async () => {
    const { status, body } = await createSession();
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(body).sort(), ["environment", "message", "payload", "success"]);
    assert.equal(body.success, true);
    assert.equal(body.environment, "SANDBOX");
    assert.equal(body.message, "Session created.");
    const { payload } = body;
    assert.deepEqual(Object.keys(payload).sort(), ["_links", "client_info", "environment", "public_api_key", "session_id", "session_secret"]);
    assert.equal(payload.public_api_key, liquid.publicApiKey);
    assert.match(liquid.publicApiKey, /^pk_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(payload.session_id, UUID);
    assert.match(payload.session_secret, UUID);
    assert.notEqual(payload.session_id, payload.session_secret);
    assert.equal(payload.environment, "SANDBOX");
    assert.deepEqual(payload.client_info, { ip_country: "JP" });
    assert.deepEqual(payload._links, { terms_of_service: { href: TERMS_OF_SERVICE } });
    // The secret key is never part of an answer.
    assert.equal(JSON.stringify(body).includes(liquid.secretKey), false);
    assert.match(liquid.secretKey, /^sk_/);
    const known = liquid.session(payload.session_id);
    assert.deepEqual([known.sessionSecret, known.status, known.approved], [payload.session_secret, "pending", false]);
  });

  test("an unknown or missing public_api_key is 401 { success: false, message }", async () => {
    for (const body of [{ public_api_key: `pk_${crypto.randomUUID()}` }, {}, { public_api_key: liquid.secretKey }]) {
      const reply = await createSession(body);
      assert.equal(reply.status, 401, JSON.stringify(body));
      assert.equal(reply.body.success, false);
      assert.equal(typeof reply.body.message, "string");
    }
    // A deactivated key is refused the same way.
    liquid.setKeyEnabled(false);
    try {
      assert.equal((await createSession()).status, 401);
    } finally {
      liquid.setKeyEnabled(true);
    }
    assert.equal((await createSession()).status, 200);
  });

  test("a body that is not JSON is 400, one not sent as JSON 415, a GET 405", async () => {
    assert.equal((await createSession("{not json")).status, 400);
    assert.equal((await createSession("[]")).status, 400);
    const form = await createSession(`public_api_key=${liquid.publicApiKey}`, { contentType: "application/x-www-form-urlencoded" });
    assert.equal(form.status, 415);
    assert.equal((await fetch(`${liquid.origin}/api/v1/session`)).status, 405);
  });

  test("return_url: a registered one, alone or with a query; anything else is 400", async () => {
    for (const url of [`${APP}/test/callback`, `${APP}/test/callback?state=abc`, `${APP}/callback?state=abc&x=1`]) {
      const reply = await createSession({ public_api_key: liquid.publicApiKey, return_url: url });
      assert.equal(reply.status, 200, url);
      assert.equal(liquid.session(reply.body.payload.session_id).returnUrl, url);
    }
    for (const url of [
      `${APP}/test/callbackx`, `${APP}/test/callback/x`, `${APP}/test/callback#x`, `${APP}/test/callback?state=a#x`,
      `${APP}/elsewhere`, "http://127.0.0.1:8123/test/callback", "https://localhost:8123/test/callback",
      "http://localhost:8123.evil.test/test/callback", "", 42, null,
    ]) {
      const reply = await createSession({ public_api_key: liquid.publicApiKey, return_url: url });
      assert.equal(reply.status, 400, String(url));
      assert.equal(reply.body.success, false);
      assert.match(reply.body.message, /return_url/);
    }
  });

  test("CORS: the app's origin, preflight for content-type included; no other origin; none on accounts", async () => {
    const preflight = (origin) => fetch(`${liquid.origin}/api/v1/session`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    const ok = await preflight(APP);
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get("access-control-allow-origin"), APP);
    assert.match(ok.headers.get("access-control-allow-methods"), /POST/);
    assert.match(ok.headers.get("access-control-allow-headers"), /content-type/i);
    assert.match(ok.headers.get("vary"), /Origin/);
    const other = await preflight("http://127.0.0.1:8123");
    assert.equal(other.headers.get("access-control-allow-origin"), null);

    // The answers themselves, errors included (the page must be able to read why it failed).
    assert.equal((await createSession()).headers.get("access-control-allow-origin"), APP);
    assert.equal((await createSession({ public_api_key: "pk_nope" })).headers.get("access-control-allow-origin"), APP);
    assert.equal((await createSession(undefined, { origin: "http://evil.test" })).headers.get("access-control-allow-origin"), null);

    // The accounts route is for the partner's backend only.
    const { session_id: id } = await newSession();
    const reply = await accounts(id, signSessionJwt(id, liquid.secretKey));
    assert.equal(reply.headers.get("access-control-allow-origin"), null);
  });
});

describe("liquid sandbox: the OAuth page", () => {
  test("shows sign-in with Approve and Deny; approve without return_url: the close-this-window page", async () => {
    const { session_id: id } = await newSession();
    const html = await (await fetch(oauthUrl(id))).text();
    for (const part of ['id="approve"', 'id="deny"', 'name="email"', 'name="password"']) assert.ok(html.includes(part), part);
    assert.equal(/<(script|link|img)\b[^>]*\b(src|href)="https?:/i.test(html), false, "no external resources");
    const reply = await decide(id, "approve");
    assert.equal(reply.status, 200);
    const done = await reply.text();
    assert.match(done, /id="done"/);
    assert.match(done, /close this window and return to the app/i);
    const session = liquid.session(id);
    assert.equal(session.approved, true);
    assert.equal(session.user, "alice@example.test");
    // Final: opening the page again shows the outcome; another post changes nothing.
    assert.match(await (await fetch(oauthUrl(id))).text(), /id="done"/);
    assert.doesNotMatch(await (await fetch(oauthUrl(id))).text(), /id="approve"/);
  });

  test("deny without return_url: a 'you declined' page, the session stays unapproved, for good", async () => {
    const { session_id: id } = await newSession();
    const reply = await decide(id, "deny");
    assert.equal(reply.status, 200);
    const text = await reply.text();
    assert.match(text, /id="declined"/);
    assert.match(text, /You declined/);
    assert.match(text, /close this window/i);
    assert.equal(liquid.session(id).status, "denied");
    assert.equal(liquid.session(id).approved, false);
    // No approving afterwards with the same page's form.
    const again = await fetch(oauthUrl(id), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ decision: "approve", email: "a@b.c", password: "x" }),
    });
    assert.match(await again.text(), /id="declined"/);
    assert.equal(liquid.session(id).approved, false);
  });

  test("with return_url: 303 back with session_id (approve) or error=access_denied&session_id (deny)", async () => {
    const approved = await newSession({ return_url: `${APP}/test/callback?state=s1` });
    const a = await decide(approved.session_id, "approve");
    assert.equal(a.status, 303);
    assert.equal(a.headers.get("location"), `${APP}/test/callback?state=s1&session_id=${approved.session_id}`);
    assert.equal(liquid.session(approved.session_id).approved, true);

    const plain = await newSession({ return_url: `${APP}/callback` });
    const p = await decide(plain.session_id, "approve");
    assert.equal(p.headers.get("location"), `${APP}/callback?session_id=${plain.session_id}`);

    const denied = await newSession({ return_url: `${APP}/test/callback?state=s2` });
    const d = await decide(denied.session_id, "deny");
    assert.equal(d.status, 303);
    assert.equal(d.headers.get("location"), `${APP}/test/callback?state=s2&error=access_denied&session_id=${denied.session_id}`);
    assert.equal(liquid.session(denied.session_id).approved, false);
  });

  test("a post without the page's form token, or approve without credentials, changes nothing", async () => {
    const { session_id: id } = await newSession();
    const forged = await fetch(oauthUrl(id), {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ decision: "approve", email: "mallory@example.test", password: "x", form_token: "guess" }),
    });
    assert.equal(forged.status, 400);
    const empty = await decide(id, "approve", { email: "", password: "" });
    assert.equal(empty.status, 400);
    assert.match(await empty.text(), /id="approve"/);
    assert.equal(liquid.session(id).status, "pending");
  });

  test("an unknown or expired session: a 404 page", async () => {
    const unknown = await fetch(oauthUrl(crypto.randomUUID()));
    assert.equal(unknown.status, 404);
    assert.match(await unknown.text(), /id="not-found"/);
    assert.equal((await fetch(oauthUrl("../../session"))).status, 404);
    const { session_id: id } = await newSession();
    liquid.expireSession(id);
    assert.equal((await fetch(oauthUrl(id))).status, 404);
    assert.equal((await accounts(id, signSessionJwt(id, liquid.secretKey))).status, 404);
  });
});

describe("liquid sandbox: accounts and the JWT", () => {
  test("an approved session with a good JWT: 200 with the user's balances", async () => {
    const { session_id: id } = await newSession();
    await decide(id, "approve");
    const { status, body } = await accounts(id, signSessionJwt(id, liquid.secretKey));
    assert.equal(status, 200);
    assert.equal(body.success, true);
    assert.ok(body.payload.accounts.length > 0);
    for (const account of body.payload.accounts) {
      assert.deepEqual(Object.keys(account).sort(), ["balance", "currency"]);
      assert.match(account.balance, /^\d+(\.\d+)?$/);
    }
    assert.deepEqual(body.payload.accounts, liquid.session(id).accounts);
    // The longest lifetime allowed, 5 minutes, is accepted.
    const t = now();
    assert.equal((await accounts(id, jwt({ session_id: id, iat: t, exp: t + 300 }))).status, 200);
  });

  test("a good JWT for a session not approved (pending or denied): 403 session not authorized", async () => {
    const pending = await newSession();
    const denied = await newSession();
    await decide(denied.session_id, "deny");
    for (const id of [pending.session_id, denied.session_id]) {
      const reply = await accounts(id, signSessionJwt(id, liquid.secretKey));
      assert.equal(reply.status, 403);
      assert.deepEqual(reply.body, { success: false, message: "session not authorized" });
    }
  });

  test("a missing or bad JWT: 401, never the balances", async () => {
    const { session_id: id } = await newSession();
    await decide(id, "approve");
    const t = now();
    const good = signSessionJwt(id, liquid.secretKey);
    const [h, p, s] = good.split(".");
    const tampered = `${h}.${Buffer.from(JSON.stringify({ session_id: id, iat: t, exp: t + 3600 })).toString("base64url")}.${s}`;
    const cases = {
      "no Authorization": undefined,
      "not a JWT": "hello",
      "signed with another key": signSessionJwt(id, "sk_someone_else"),
      "signed with the public key": signSessionJwt(id, liquid.publicApiKey),
      "alg none": `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${p}.`,
      "alg HS512 header": jwt({ session_id: id, iat: t, exp: t + 60 }, { header: { alg: "HS512" } }),
      "tampered claims": tampered,
      "another session": signSessionJwt(crypto.randomUUID(), liquid.secretKey),
      "no session_id": jwt({ iat: t, exp: t + 60 }),
      "no exp": jwt({ session_id: id, iat: t }),
      "no iat": jwt({ session_id: id, exp: t + 60 }),
      expired: jwt({ session_id: id, iat: t - 120, exp: t - 60 }),
      "longer than 5 minutes": jwt({ session_id: id, iat: t, exp: t + 301 }),
      "issued in the future": jwt({ session_id: id, iat: t + 120, exp: t + 180 }),
      "string times": jwt({ session_id: id, iat: String(t), exp: String(t + 60) }),
    };
    for (const [what, token] of Object.entries(cases)) {
      const reply = await accounts(id, token);
      assert.equal(reply.status, 401, what);
      assert.equal(reply.body.success, false, what);
      assert.equal(reply.body.payload, undefined, what);
      assert.match(reply.headers.get("www-authenticate") ?? "", /^Bearer/, what);
    }
    // A Basic header is not a JWT either.
    const basic = await fetch(`${liquid.origin}/api/v1/session/${id}/accounts`, { headers: { authorization: `Basic ${good}` } });
    assert.equal(basic.status, 401);
    assert.equal((await accounts(crypto.randomUUID(), good)).status, 404);
  });
});

describe("liquid backend: POST /api/liquid/verify", () => {
  test("approved: { approved: true, accounts }; not approved: 403 { approved: false }", async () => {
    const approved = await newSession();
    await decide(approved.session_id, "approve");
    const yes = await verify({ sessionId: approved.session_id });
    assert.equal(yes.status, 200);
    assert.deepEqual(yes.body, { approved: true, accounts: liquid.session(approved.session_id).accounts });

    const pending = await newSession();
    const denied = await newSession();
    await decide(denied.session_id, "deny");
    for (const sessionId of [pending.session_id, denied.session_id, crypto.randomUUID()]) {
      const no = await verify({ sessionId });
      assert.equal(no.status, 403);
      assert.deepEqual(no.body, { approved: false });
    }
  });

  test("the backend's JWT: HS256, session_id, iat, exp within 5 minutes; a bad sessionId is 400", async () => {
    const token = signSessionJwt("x", "k");
    const [header, claims] = token.split(".").slice(0, 2).map((part) => JSON.parse(Buffer.from(part, "base64url").toString()));
    assert.equal(header.alg, "HS256");
    assert.deepEqual(Object.keys(claims).sort(), ["exp", "iat", "session_id"]);
    assert.ok(claims.exp > claims.iat && claims.exp - claims.iat <= 300);
    for (const sessionId of [undefined, "", "../accounts", 42]) {
      assert.equal((await verify({ sessionId })).status, 400, String(sessionId));
    }
    const before = liquid.stats.accountsRequests.length;
    await verify({ sessionId: "../../session" });
    assert.equal(liquid.stats.accountsRequests.length, before, "nothing sent to Liquid for a bad id");
  });

  test("a backend with the wrong secret key gets 401 from Liquid and answers 502, not 'not approved'", async () => {
    const { session_id: id } = await newSession();
    await decide(id, "approve");
    const route = verifyRoute({ baseUrl: liquid.origin, secretKey: "sk_wrong", appOrigin: APP, identityOf: () => "user-42" });
    const server = http.createServer((req, res) => route(req, res));
    const origin = await listen(server);
    try {
      const reply = await fetch(`${origin}/`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sessionId: id }) });
      assert.equal(reply.status, 502);
      assert.equal((await reply.json()).approved, undefined);
    } finally {
      await close(server);
    }
  });
});

describe("liquid integration in the demo server", () => {
  test("configs carry no secret; the variants; the verify route is wired to the sandbox", async () => {
    const server = await startServer();
    try {
      const liquidHandle = server.integrations.liquid;
      const config = await (await fetch(`${server.appOrigin}/config.json`)).json();
      const text = JSON.stringify(config);
      assert.equal(text.includes(liquidHandle.secretKey), false);
      assert.equal(/sk_/.test(text), false);
      const { demo, test: variants } = config.integrations.liquid;
      const base = { kind: "liquid", baseUrl: liquidHandle.origin, publicApiKey: liquidHandle.publicApiKey };
      assert.deepEqual(variants.default, { ...base, verifyEndpoint: "/api/liquid/verify" });
      assert.deepEqual(variants.returnUrl, { ...base, returnUrl: `${server.appOrigin}/test/callback`, verifyEndpoint: "/api/liquid/verify" });
      assert.deepEqual(variants.noVerify, base);
      assert.deepEqual(demo, { ...base, returnUrl: `${server.appOrigin}/callback`, verifyEndpoint: "/api/liquid/verify" });
      assert.ok(server.banners.some((line) => line.includes(liquidHandle.origin)));

      // The app's origin is a CORS origin of the sandbox.
      const created = await fetch(`${liquidHandle.origin}/api/v1/session`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: server.appOrigin },
        body: JSON.stringify({ public_api_key: liquidHandle.publicApiKey, return_url: `${server.appOrigin}/test/callback?state=x` }),
      });
      assert.equal(created.headers.get("access-control-allow-origin"), server.appOrigin);
      const { session_id: sessionId } = (await created.json()).payload;
      const before = await fetch(`${server.appOrigin}/api/liquid/verify`, {
        method: "POST", headers: { "content-type": "application/json", cookie: server.signIn() }, body: JSON.stringify({ sessionId }),
      });
      assert.equal(before.status, 403);
      assert.deepEqual(liquidHandle.verifyLog.at(-1), { sessionId, status: 403 });
    } finally {
      await server.close();
    }
  });
});
