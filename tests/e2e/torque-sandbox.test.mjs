// Torque Connect without a browser: the sandbox's protocol (www/sandboxes/torque.mjs) as the
// seed document and docs/provider-flows.md describe it, and the app backend's routes
// (www/backend/torque.mjs) as the demo server mounts them. Plain fetch on loopback.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { startTorqueSandbox } from "../../www/sandboxes/torque.mjs";
import { startDemoServer } from "../../www/server.mjs";

const KEY = `sk_test_${randomBytes(16).toString("hex")}`;
const OTHER_KEY = `sk_test_${randomBytes(16).toString("hex")}`;
const CALLBACK = "http://localhost:9/test/callback";
const OTHER_CALLBACK = "http://localhost:9/callback";

const pkce = () => {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
};
const jwtParts = (jwt) => jwt.split(".").slice(0, 2).map((part) => JSON.parse(Buffer.from(part, "base64url")));
const transferBody = (extra = {}) => ({ amount: "12.50", asset: "USDC", destination: "0x000000000000000000000000000000000000dEaD", ...extra });

let sandbox;
before(async () => {
  sandbox = await startTorqueSandbox({ businessKeys: [KEY, OTHER_KEY], redirectUris: [CALLBACK, OTHER_CALLBACK], appName: "Test app" });
});
after(() => sandbox?.close());

/** POST JSON to the sandbox with `authorization` (a bearer value, or none). */
async function post(path, body, { bearer, headers = {} } = {}) {
  const reply = await fetch(`${sandbox.origin}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(bearer && { authorization: `Bearer ${bearer}` }), ...headers },
    body: JSON.stringify(body),
  });
  return { status: reply.status, headers: reply.headers, body: await reply.json().catch(() => null) };
}

async function openSession({ key = KEY, ...fields } = {}) {
  const { verifier, challenge } = pkce();
  const state = randomBytes(16).toString("base64url");
  const body = { redirectUri: CALLBACK, codeChallenge: challenge, codeChallengeMethod: "S256", state, ...fields };
  const reply = await post("/api/v1/connect/authorize/session", body, { bearer: key });
  return { ...reply, verifier, challenge, state };
}

/** What the user sees on the consent screen, and where each button sends them. */
async function consent(authorizeUrl, decision = "approve") {
  const page = await fetch(authorizeUrl);
  const html = await page.text();
  if (page.status !== 200) return { pageStatus: page.status, html };
  const field = (name) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)[1];
  const reply = await fetch(`${sandbox.origin}/connect/authorize/decision`, {
    method: "POST",
    body: new URLSearchParams({ session: field("session"), csrf: field("csrf"), decision }),
    redirect: "manual",
  });
  const location = reply.headers.get("location");
  return {
    pageStatus: 200,
    html,
    scopes: [...html.matchAll(/data-scope="([^"]+)"/g)].map((m) => m[1]),
    user: /id="user">([^<]*)</.exec(html)?.[1],
    form: { session: field("session"), csrf: field("csrf") },
    status: reply.status,
    location,
    params: location ? Object.fromEntries(new URL(location).searchParams) : null,
  };
}

/** Open a session, approve it, redeem the code: `{ token, claims, ... }`. */
async function connect(fields = {}) {
  const session = await openSession(fields);
  const answer = await consent(session.body.authorizeUrl);
  const redeemed = await post("/api/v1/connect/token", { code: answer.params.code, redirectUri: CALLBACK, codeVerifier: session.verifier }, { bearer: KEY });
  assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
  return { session, answer, redeemed, token: redeemed.body.accessToken, claims: jwtParts(redeemed.body.accessToken)[1] };
}

const execute = (token, body, key = crypto.randomUUID()) =>
  post("/api/v1/execute/transfers", body, { bearer: token, headers: key ? { "idempotency-key": key } : {} });

describe("Torque sandbox: authorize session", () => {
  test("only the business key opens a session; the answer points at the hosted consent screen", async () => {
    for (const key of [null, "pk_test_abc", "sk_test_not-issued", `${KEY}x`]) {
      const { status, body } = await openSession({ key });
      assert.equal(status, 401, String(key));
      assert.equal(body.error, "unauthorized");
    }
    const { status, body } = await openSession();
    assert.equal(status, 201);
    assert.match(body.sessionId, /^cs_/);
    assert.equal(body.expiresIn, 600);
    const url = new URL(body.authorizeUrl);
    assert.equal(url.origin, sandbox.origin);
    assert.equal(url.pathname, "/connect/authorize");
    assert.equal(url.searchParams.get("session"), body.sessionId);
  });

  test("refuses an unregistered redirectUri, a non-S256 method, a malformed challenge, no state, an unknown scope", async () => {
    const cases = [
      [{ redirectUri: "http://localhost:9/elsewhere" }, "invalid_request", /redirectUri/],
      [{ redirectUri: `${CALLBACK}?x=1` }, "invalid_request", /redirectUri/],
      [{ codeChallengeMethod: "plain" }, "invalid_request", /S256/],
      [{ codeChallenge: "too-short" }, "invalid_request", /codeChallenge/],
      [{ codeChallenge: `${"a".repeat(42)}=` }, "invalid_request", /codeChallenge/],
      [{ state: "" }, "invalid_request", /state/],
      [{ scope: "wallet:read wallet:drain" }, "invalid_scope", /wallet:drain/],
      [{ externalUserId: 42 }, "invalid_request", /externalUserId/],
    ];
    for (const [fields, error, description] of cases) {
      const { status, body } = await openSession(fields);
      assert.equal(status, 400, JSON.stringify(fields));
      assert.equal(body.error, error, JSON.stringify(fields));
      assert.match(body.error_description, description);
    }
  });
});

describe("Torque sandbox: consent and code", () => {
  test("approve: the consent screen lists the requested scopes; 303 to the callback with code and state", async () => {
    const session = await openSession({ externalUserId: "user-7", scope: "transfers:read transfers:execute" });
    const answer = await consent(session.body.authorizeUrl);
    assert.deepEqual(answer.scopes, ["transfers:read", "transfers:execute"]);
    assert.equal(answer.user, "user-7");
    assert.match(answer.html, /id="approve"/);
    assert.match(answer.html, /id="deny"/);
    assert.equal(answer.status, 303);
    assert.ok(answer.location.startsWith(`${CALLBACK}?`));
    assert.deepEqual(Object.keys(answer.params), ["code", "state"]);
    assert.equal(answer.params.state, session.state);
  });

  test("no scope requested: the default scopes, and a generated user id as sub", async () => {
    const session = await openSession();
    const answer = await consent(session.body.authorizeUrl);
    assert.deepEqual(answer.scopes, ["wallet:read", "transfers:execute"]);
    assert.match(answer.user, /^usr_/);
    const redeemed = await post("/api/v1/connect/token", { code: answer.params.code, redirectUri: CALLBACK, codeVerifier: session.verifier }, { bearer: KEY });
    assert.equal(redeemed.body.scope, "wallet:read transfers:execute");
    assert.equal(jwtParts(redeemed.body.accessToken)[1].sub, answer.user);
  });

  test("deny: 303 with error=access_denied, a description and the state; no code", async () => {
    const session = await openSession();
    const answer = await consent(session.body.authorizeUrl, "deny");
    assert.equal(answer.status, 303);
    assert.equal(answer.params.error, "access_denied");
    assert.ok(answer.params.error_description);
    assert.equal(answer.params.state, session.state);
    assert.equal(answer.params.code, undefined);
  });

  test("a session is single use, expires after 10 minutes, and needs the form's CSRF token", async () => {
    const used = await openSession();
    const first = await consent(used.body.authorizeUrl);
    assert.equal(first.status, 303);
    const again = await fetch(used.body.authorizeUrl);
    assert.equal(again.status, 400);
    assert.match(await again.text(), /already been used/);
    const decideAgain = await fetch(`${sandbox.origin}/connect/authorize/decision`, {
      method: "POST", body: new URLSearchParams({ ...first.form, decision: "approve" }), redirect: "manual",
    });
    assert.equal(decideAgain.status, 400);
    assert.equal(decideAgain.headers.get("location"), null);

    const forged = await openSession();
    const page = await (await fetch(forged.body.authorizeUrl)).text();
    const sessionId = /name="session" value="([^"]*)"/.exec(page)[1];
    const noCsrf = await fetch(`${sandbox.origin}/connect/authorize/decision`, {
      method: "POST", body: new URLSearchParams({ session: sessionId, csrf: "guess", decision: "approve" }), redirect: "manual",
    });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.headers.get("location"), null);

    const late = await openSession();
    sandbox.advanceTime(601_000);
    const expired = await consent(late.body.authorizeUrl);
    assert.equal(expired.pageStatus, 400);
    assert.match(expired.html, /expired/);
    assert.equal((await fetch(`${sandbox.origin}/connect/authorize?session=cs_nope`)).status, 400);
  });
});

describe("Torque sandbox: token", () => {
  test("the code redeems once, with the business key and the PKCE verifier, for a delegated JWT", async () => {
    const { session, answer, redeemed, token } = await connect({ externalUserId: "user-42", scope: ["wallet:read", "transfers:execute"] });
    assert.deepEqual(Object.keys(redeemed.body).sort(), ["accessToken", "expiresIn", "scope", "tokenType"]);
    assert.equal(redeemed.body.expiresIn, 900);
    assert.equal(redeemed.body.tokenType, "Bearer");
    assert.equal(redeemed.body.scope, "wallet:read transfers:execute");
    const [header, claims] = jwtParts(token);
    assert.equal(header.alg, "HS256");
    assert.equal(claims.iss, sandbox.origin);
    assert.equal(claims.sub, "user-42");
    assert.equal(claims.aud, "torque-execute");
    assert.equal(claims.typ, "delegated");
    assert.equal(claims.scope, "wallet:read transfers:execute");
    assert.equal(claims.exp - claims.iat, 900);
    assert.ok(Number.isInteger(claims.iat));
    // The sandbox saw the challenge of this verifier.
    const seen = sandbox.stats.tokenRequests.at(-1);
    assert.deepEqual([seen.status, seen.codeVerifier, seen.codeChallenge], [200, session.verifier, session.challenge]);

    // Replayed code: invalid_grant, and the token it gave is revoked.
    const replay = await post("/api/v1/connect/token", { code: answer.params.code, redirectUri: CALLBACK, codeVerifier: session.verifier }, { bearer: KEY });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, "invalid_grant");
    const revoked = await execute(token, transferBody());
    assert.equal(revoked.status, 401);
    assert.equal(revoked.body.error, "invalid_token");
  });

  test("refused: no/publishable/other app's key, wrong verifier (PKCE), other redirectUri, malformed verifier", async () => {
    const approved = async () => {
      const session = await openSession();
      return { session, code: (await consent(session.body.authorizeUrl)).params.code };
    };
    {
      const { session, code } = await approved();
      const body = { code, redirectUri: CALLBACK, codeVerifier: session.verifier };
      for (const bearer of [undefined, "pk_test_abc"]) {
        const reply = await post("/api/v1/connect/token", body, { bearer });
        assert.equal(reply.status, 401);
        assert.equal(reply.body.error, "unauthorized");
      }
      // Another app's key does not know this code.
      const other = await post("/api/v1/connect/token", body, { bearer: OTHER_KEY });
      assert.deepEqual([other.status, other.body.error], [400, "invalid_grant"]);
      // Refused by key checks before the code was looked at: it still redeems.
      assert.equal((await post("/api/v1/connect/token", body, { bearer: KEY })).status, 200);
    }
    {
      const { session, code } = await approved();
      const wrong = await post("/api/v1/connect/token", { code, redirectUri: CALLBACK, codeVerifier: pkce().verifier }, { bearer: KEY });
      assert.equal(wrong.status, 400);
      assert.deepEqual(wrong.body, { error: "invalid_grant", error_description: "PKCE verification failed" });
      // A failed attempt burns the code: no guessing verifiers.
      const retry = await post("/api/v1/connect/token", { code, redirectUri: CALLBACK, codeVerifier: session.verifier }, { bearer: KEY });
      assert.deepEqual([retry.status, retry.body.error], [400, "invalid_grant"]);
    }
    {
      const { session, code } = await approved();
      const other = await post("/api/v1/connect/token", { code, redirectUri: OTHER_CALLBACK, codeVerifier: session.verifier }, { bearer: KEY });
      assert.deepEqual([other.status, other.body.error], [400, "invalid_grant"]);
      assert.match(other.body.error_description, /redirectUri/);
    }
    {
      const { code } = await approved();
      const malformed = await post("/api/v1/connect/token", { code, redirectUri: CALLBACK, codeVerifier: "short" }, { bearer: KEY });
      assert.deepEqual([malformed.status, malformed.body.error], [400, "invalid_request"]);
    }
    {
      const missing = await post("/api/v1/connect/token", { code: "x" }, { bearer: KEY });
      assert.deepEqual([missing.status, missing.body.error], [400, "invalid_request"]);
      const unknown = await post("/api/v1/connect/token", { code: "nope", redirectUri: CALLBACK, codeVerifier: pkce().verifier }, { bearer: KEY });
      assert.deepEqual([unknown.status, unknown.body.error], [400, "invalid_grant"]);
    }
    {
      const { session, code } = await approved();
      sandbox.advanceTime(121_000);
      const late = await post("/api/v1/connect/token", { code, redirectUri: CALLBACK, codeVerifier: session.verifier }, { bearer: KEY });
      assert.deepEqual([late.status, late.body.error], [400, "invalid_grant"]);
      assert.match(late.body.error_description, /expired/);
    }
  });
});

describe("Torque sandbox: execute", () => {
  test("a business key cannot sign user transactions: 403, and no transfer", async () => {
    const before = sandbox.stats.transfers;
    for (const key of [KEY, "sk_live_whatever"]) {
      const reply = await execute(key, transferBody());
      assert.equal(reply.status, 403);
      assert.deepEqual(reply.body, { error: "forbidden", error_description: "business keys cannot sign user transactions; use the delegated JWT" });
    }
    assert.equal(sandbox.stats.transfers, before);
  });

  test("the delegated JWT is checked: missing, tampered, expired, without transfers:execute", async () => {
    const { token } = await connect();
    const none = await post("/api/v1/execute/transfers", transferBody(), { headers: { "idempotency-key": crypto.randomUUID() } });
    assert.equal(none.status, 401);
    const [h, p, s] = token.split(".");
    const claims = JSON.parse(Buffer.from(p, "base64url"));
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: "someone-else" })).toString("base64url")}.${s}`;
    const unsigned = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${p}.`;
    for (const bad of [tampered, unsigned, "not-a-jwt", `${h}.${p}.${s.slice(0, -2)}AA`]) {
      const reply = await execute(bad, transferBody());
      assert.equal(reply.status, 401, bad);
      assert.equal(reply.body.error, "invalid_token");
      assert.match(reply.headers.get("www-authenticate"), /^Bearer /);
    }
    const readOnly = await connect({ scope: "wallet:read" });
    const scoped = await execute(readOnly.token, transferBody());
    assert.deepEqual([scoped.status, scoped.body.error], [403, "insufficient_scope"]);

    assert.equal((await execute(token, transferBody())).status, 200);
    sandbox.advanceTime(900_000);
    const expired = await execute(token, transferBody());
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error_description, "token expired");
  });

  test("Idempotency-Key: required; same key and body replays the same transfer; another body 422; another key a new transfer", async () => {
    const { token, claims } = await connect({ externalUserId: "user-idem" });
    const missing = await execute(token, transferBody(), null);
    assert.deepEqual([missing.status, missing.body.error], [400, "invalid_request"]);
    assert.match(missing.body.error_description, /Idempotency-Key/);
    const invalid = await execute(token, { amount: "-1", asset: "USDC", destination: "x" });
    assert.deepEqual([invalid.status, invalid.body.error], [400, "invalid_request"]);

    const before = sandbox.stats.transfers;
    const key = crypto.randomUUID();
    const first = await execute(token, transferBody({ memo: "rent" }), key);
    assert.equal(first.status, 200);
    assert.match(first.body.id, /^tr_/);
    assert.equal(first.body.from, claims.sub);
    assert.equal(first.body.amount, "12.50");
    // Same body, keys in another order: the same answer, not a second transfer.
    const { memo, ...rest } = transferBody({ memo: "rent" });
    const second = await execute(token, { memo, ...Object.fromEntries(Object.entries(rest).reverse()) }, key);
    assert.equal(second.status, 200);
    assert.deepEqual(second.body, first.body);
    assert.equal(second.headers.get("idempotent-replayed"), "true");
    assert.equal(sandbox.stats.transfers, before + 1);

    const reused = await execute(token, transferBody({ amount: "99.00" }), key);
    assert.deepEqual([reused.status, reused.body.error], [422, "idempotency_key_reused"]);
    assert.equal(sandbox.stats.transfers, before + 1);

    const another = await execute(token, transferBody({ memo: "rent" }), crypto.randomUUID());
    assert.equal(another.status, 200);
    assert.notEqual(another.body.id, first.body.id);
    assert.equal(sandbox.stats.transfers, before + 2);

    // Keys belong to the user: another user's same key is their own first request.
    const other = await connect({ externalUserId: "user-other" });
    const theirs = await execute(other.token, transferBody({ memo: "rent" }), key);
    assert.equal(theirs.status, 200);
    assert.notEqual(theirs.body.id, first.body.id);
    assert.equal(sandbox.stats.transfers, before + 3);
  });
});

describe("Torque app backend (demo server routes)", () => {
  let server;
  let torque;
  before(async () => {
    server = await startDemoServer({ port: 0, testPages: true });
    torque = server.integrations.torque;
  });
  after(() => server?.close());

  // Signed in as the demo's user, as the demo page's browser is.
  const api = async (path, body, headers = {}) => {
    const reply = await fetch(`${server.appOrigin}${path}`, {
      method: "POST", headers: { "content-type": "application/json", cookie: server.signIn(), ...headers }, body: JSON.stringify(body),
    });
    return { status: reply.status, headers: reply.headers, body: await reply.json().catch(() => null) };
  };

  /** The browser's part: session → consent (approved) → exchange. */
  async function throughBackend(redirectUri, fields = {}) {
    const { verifier, challenge } = pkce();
    const state = randomBytes(16).toString("base64url");
    const session = await api("/api/torque/session", { redirectUri, codeChallenge: challenge, codeChallengeMethod: "S256", state, ...fields });
    assert.equal(session.status, 200, JSON.stringify(session.body));
    assert.deepEqual(Object.keys(session.body), ["authorizeUrl"]);
    const page = await (await fetch(session.body.authorizeUrl)).text();
    const field = (name) => new RegExp(`name="${name}" value="([^"]*)"`).exec(page)[1];
    const decision = await fetch(`${torque.origin}/connect/authorize/decision`, {
      method: "POST", body: new URLSearchParams({ session: field("session"), csrf: field("csrf"), decision: "approve" }), redirect: "manual",
    });
    const back = new URL(decision.headers.get("location"));
    assert.equal(back.origin + back.pathname, redirectUri);
    assert.equal(back.searchParams.get("state"), state);
    const exchange = await api("/api/torque/exchange", { code: back.searchParams.get("code"), codeVerifier: verifier, redirectUri });
    return { verifier, challenge, exchange };
  }

  test("the browser configs hold no secret; both callback pages are registered", async () => {
    const config = await (await fetch(`${server.appOrigin}/config.json`)).text();
    assert.doesNotMatch(config, /sk_(test|live)_/);
    const { torque: browser } = JSON.parse(config).integrations;
    assert.deepEqual(browser.test.default, {
      kind: "torque", sessionEndpoint: "/api/torque/session", exchangeEndpoint: "/api/torque/exchange",
      redirectUri: `${server.appOrigin}/test/callback`, externalUserId: "user-42", scope: ["wallet:read", "transfers:execute"],
    });
    assert.equal(browser.demo.redirectUri, `${server.appOrigin}/callback`);
    for (const redirectUri of [browser.demo.redirectUri, browser.test.default.redirectUri]) {
      const { exchange } = await throughBackend(redirectUri, { externalUserId: "user-42", scope: "wallet:read transfers:execute" });
      assert.equal(exchange.status, 200);
    }
  });

  test("session → consent → exchange → transfers, the business key added by the backend only where it belongs", async () => {
    torque.resetStats();
    const { verifier, challenge, exchange } = await throughBackend(`${server.appOrigin}/test/callback`, { externalUserId: "user-42", scope: "wallet:read transfers:execute" });
    assert.equal(exchange.status, 200);
    assert.deepEqual(Object.keys(exchange.body).sort(), ["accessToken", "expiresIn", "scope", "tokenType"]);
    assert.equal(jwtParts(exchange.body.accessToken)[1].sub, "user-42");
    assert.equal(torque.stats.sessionRequests[0].codeChallenge, challenge);
    assert.equal(torque.stats.tokenRequests[0].codeVerifier, verifier);

    const key = crypto.randomUUID();
    const auth = { authorization: `Bearer ${exchange.body.accessToken}` };
    const first = await api("/api/torque/transfers", transferBody(), { ...auth, "idempotency-key": key });
    const second = await api("/api/torque/transfers", transferBody(), { ...auth, "idempotency-key": key });
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.deepEqual(second.body, first.body);
    assert.equal(second.headers.get("idempotent-replayed"), "true");
    assert.equal(torque.stats.transfers, 1);
    const noKey = await api("/api/torque/transfers", transferBody(), auth);
    assert.equal(noKey.status, 400);
    const noAuth = await api("/api/torque/transfers", transferBody(), { "idempotency-key": crypto.randomUUID() });
    assert.equal(noAuth.status, 401);
    // A business key sent through the route is not the user's delegated JWT: the backend refuses it.
    const business = await api("/api/torque/transfers", transferBody(), { authorization: "Bearer sk_test_anything", "idempotency-key": crypto.randomUUID() });
    assert.deepEqual(business.body, { error: "forbidden", error_description: "not the signed-in user's token" });
    assert.equal(business.status, 403);
    assert.equal(torque.stats.transfers, 1);
  });

  test("refusals pass through with Torque's status and error: unknown redirectUri, wrong verifier", async () => {
    const bad = await api("/api/torque/session", { redirectUri: "http://localhost:9/evil", codeChallenge: pkce().challenge, codeChallengeMethod: "S256", state: "s" });
    assert.deepEqual([bad.status, bad.body.error], [400, "invalid_request"]);
    const plain = await api("/api/torque/session", { redirectUri: `${server.appOrigin}/test/callback`, codeChallenge: pkce().challenge, codeChallengeMethod: "plain", state: "s" });
    assert.deepEqual([plain.status, plain.body.error], [400, "invalid_request"]);
    assert.match(plain.body.error_description, /S256/);

    torque.corruptVerifier = true;
    try {
      const { verifier, exchange } = await throughBackend(`${server.appOrigin}/test/callback`);
      assert.equal(exchange.status, 400);
      assert.deepEqual(exchange.body, { error: "invalid_grant", error_description: "PKCE verification failed" });
      assert.notEqual(torque.stats.tokenRequests.at(-1).codeVerifier, verifier);
    } finally {
      torque.corruptVerifier = false;
    }
  });
});
