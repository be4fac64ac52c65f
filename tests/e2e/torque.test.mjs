// Torque Connect in the browser, as a user does it: the test app (pages/app.html?kind=torque)
// builds `new Connect({ kind: "torque", ... })`; the library asks the app's backend for a session,
// the user answers Torque's hosted consent screen (the local sandbox, cross-origin), and the app's
// backend redeems the code for the delegated JWT. Then the page executes a transfer with it,
// through the backend, with an Idempotency-Key made by the library.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  answerInPopup, callbackOutcome, eventNames, findLeaks, inOrder, jwtPayload, launchChromium, localStorageEntries,
  newContext, openApp, outcome, recordRequests, s256, startServer, until,
} from "./browser.mjs";

let server;
let browser;
let torque; // the integration's handle: sandbox origin, stats, knobs

before(async () => {
  server = await startServer();
  browser = await launchChromium();
  torque = server.integrations.torque;
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const consentUrl = () => `${torque.origin}/connect/authorize?**`;
const callbackUrl = () => `${server.appOrigin}/test/callback`;

/** Click the app's popup button; return the popup once Torque's consent screen shows. */
async function startTorquePopup(page) {
  const [popup] = await Promise.all([page.waitForEvent("popup"), page.click("#popup")]);
  await popup.waitForURL(consentUrl());
  await popup.waitForSelector("#approve");
  return popup;
}

/** What the consent screen shows: the scopes and the user. */
async function consentScreen(page) {
  return {
    scopes: await page.$$eval("#scopes li", (items) => items.map((li) => li.dataset.scope)),
    user: await page.textContent("#user"),
  };
}

/** The delegated JWT as Torque issued it to this app, for this user and these scopes. */
function assertDelegatedJwt(exchange, { sub = "user-42", scope = "wallet:read transfers:execute" } = {}) {
  assert.equal(exchange.tokenType, "Bearer");
  assert.equal(exchange.expiresIn, 900);
  assert.equal(exchange.scope, scope);
  const claims = jwtPayload(exchange.accessToken);
  const header = JSON.parse(Buffer.from(exchange.accessToken.split(".")[0], "base64url"));
  assert.equal(header.alg, "HS256");
  assert.equal(claims.iss, torque.origin);
  if (sub instanceof RegExp) assert.match(claims.sub, sub);
  else assert.equal(claims.sub, sub);
  assert.equal(claims.aud, "torque-execute");
  assert.equal(claims.typ, "delegated");
  assert.equal(claims.scope, scope);
  assert.equal(claims.exp - claims.iat, 900);
  return claims;
}

/** The backend redeemed exactly one code, with the verifier of the challenge the session was opened with. */
function assertPkceRoundTrip(state) {
  const sessions = torque.stats.sessionRequests.filter((s) => s.status === 201);
  assert.equal(sessions.length, 1);
  const [session] = sessions;
  assert.equal(session.state, state);
  assert.equal(session.redirectUri, callbackUrl());
  const [redeemed, ...more] = torque.stats.tokenRequests;
  assert.equal(more.length, 0, "one token request");
  assert.equal(redeemed.status, 200);
  assert.equal(redeemed.redirectUri, callbackUrl());
  assert.equal(s256(redeemed.codeVerifier), session.codeChallenge, "the verifier the backend redeemed matches the challenge Torque saw");
  return { session, redeemed };
}

describe("Torque Connect: popup", () => {
  test("approve: the app gets the delegated JWT; PKCE from the browser to Torque through the backend", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const requests = recordRequests(context);
    const { page, events, problems } = await openApp(context, server, { kind: "torque" });
    torque.resetStats();

    const popup = await startTorquePopup(page);
    assert.deepEqual(await consentScreen(popup), { scopes: ["wallet:read", "transfers:execute"], user: "user-42" });
    assert.equal(await page.textContent("#status"), "connecting");
    // The session was opened with the config's user, scopes and redirect URI, and PKCE S256.
    const [opened] = torque.stats.sessionRequests;
    assert.equal(opened.externalUserId, "user-42");
    assert.equal(opened.scope, "wallet:read transfers:execute", "sent space-joined");
    assert.match(opened.codeChallenge, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(findLeaks(await localStorageEntries(page), { challenge: opened.codeChallenge }), [], "no verifier in localStorage");

    await answerInPopup(popup);
    const { result, error } = await outcome(page);
    assert.equal(error, undefined);
    assert.equal(result.provider, "torque");
    assert.equal(result.code, undefined);
    assert.equal(result.codeVerifier, undefined);
    assert.equal("code" in result.params, false, "the exchanged code is not in params");
    assert.equal(result.params.state, result.state);
    assertDelegatedJwt(result.exchange);
    const { redeemed } = assertPkceRoundTrip(result.state);
    assert.equal(torque.stats.consents.approve, 1);
    assert.equal(await page.textContent("#status"), "connected");

    // The browser only talked to the app's backend and to Torque's consent screen, never to its API.
    assert.ok(requests.some((u) => u === `${server.appOrigin}/api/torque/session`));
    assert.ok(requests.some((u) => u === `${server.appOrigin}/api/torque/exchange`));
    assert.deepEqual(requests.filter((u) => u.startsWith(`${torque.origin}/api/`)), []);

    const names = eventNames(events);
    assert.ok(inOrder(names, ["open", "callback", "exchange", "success"]), names.join(","));
    assert.deepEqual(names.filter((n) => ["error", "exit", "popup_severed"].includes(n)), []);
    for (const { name, meta } of events.filter((e) => e.name !== "ignored_message")) {
      assert.equal(meta.provider, "torque", name);
      assert.equal(meta.mode, "popup", name);
    }
    const code = new URL(requests.find((u) => u.startsWith(`${callbackUrl()}?`))).searchParams.get("code");
    const secrets = [result.exchange.accessToken, code, redeemed.codeVerifier];
    assert.deepEqual(findLeaks(events, { secrets, challenge: redeemed.codeChallenge }), [], "events");
    assert.deepEqual(findLeaks(await localStorageEntries(page), { secrets, challenge: redeemed.codeChallenge }), [], "localStorage");
    assert.deepEqual(problems, []);
  });

  test("deny on the consent screen: authorization_error access_denied, no token request", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page, events } = await openApp(context, server, { kind: "torque" });
    torque.resetStats();
    await answerInPopup(await startTorquePopup(page), "#deny");
    const { error } = await outcome(page);
    assert.equal(error?.code, "authorization_error");
    assert.equal(error.error, "access_denied");
    assert.ok((await page.evaluate(() => window.lastError.errorDescription)), "the description is carried");
    const failure = events.find((e) => e.name === "error");
    assert.deepEqual([failure?.meta.code, failure?.meta.mode], ["authorization_error", "popup"]);
    assert.equal(eventNames(events).includes("exit"), false, "a denial is not a close");
    assert.equal(torque.stats.consents.deny, 1);
    assert.equal(torque.stats.tokenRequests.length, 0);
    assert.notEqual(await page.textContent("#status"), "connecting");
  });

  test("the backend redeems with a wrong verifier: token_error, status 400, invalid_grant", { timeout: 30_000 }, async (t) => {
    torque.corruptVerifier = true;
    t.after(() => {
      torque.corruptVerifier = false;
    });
    const context = await newContext(browser, t);
    const { page, events } = await openApp(context, server, { kind: "torque" });
    torque.resetStats();
    await answerInPopup(await startTorquePopup(page));
    const { error } = await outcome(page);
    assert.equal(error?.code, "token_error");
    assert.equal(error.error, "invalid_grant");
    const shown = await page.evaluate(() => window.lastError);
    assert.equal(shown.status, 400);
    assert.equal(shown.errorDescription, "PKCE verification failed");
    // Torque refused it for PKCE: the challenge it saw is not the one of what it was given.
    const [redeemed] = torque.stats.tokenRequests;
    assert.deepEqual([redeemed.status, redeemed.error], [400, "invalid_grant"]);
    assert.notEqual(s256(redeemed.codeVerifier), redeemed.codeChallenge);
    const failure = events.find((e) => e.name === "error");
    assert.equal(failure?.meta.code, "token_error");
    assert.equal(eventNames(events).includes("success"), false);
    assert.notEqual(await page.textContent("#status"), "connected");
  });

  test("no scope or user in the config: Torque's default scopes, the backend's signed-in user", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page } = await openApp(context, server, { kind: "torque", variant: "minimal" });
    torque.resetStats();
    const popup = await startTorquePopup(page);
    const screen = await consentScreen(popup);
    assert.deepEqual(screen.scopes, ["wallet:read", "transfers:execute"]);
    // The page named nobody; the backend named its signed-in user (the page never decides who).
    assert.equal(screen.user, "user-42");
    assert.equal(torque.stats.sessionRequests[0].externalUserId, "user-42");
    assert.equal(torque.stats.sessionRequests[0].scope, undefined);
    await answerInPopup(popup);
    const { result, error } = await outcome(page);
    assert.equal(error, undefined);
    assertDelegatedJwt(result.exchange, { sub: screen.user });
  });

  test("Torque's consent screen with COOP cuts the opener: popup_severed, and the flow still succeeds", { timeout: 30_000 }, async (t) => {
    torque.setCoop(true);
    t.after(() => torque.setCoop(false));
    const context = await newContext(browser, t);
    const { page, events } = await openApp(context, server, { kind: "torque", timeoutMs: 20_000 });
    torque.resetStats();
    const popup = await startTorquePopup(page);
    // The user reads the consent screen; meanwhile the opener sees the window as gone.
    await until(() => events.some((e) => e.name === "popup_severed"), { what: "popup_severed" });
    assert.equal(await page.textContent("#status"), "connecting", "still waiting, not closed");
    await answerInPopup(popup); // the callback page relays over BroadcastChannel and closes it
    const { result, error } = await outcome(page);
    assert.equal(error, undefined);
    assertDelegatedJwt(result.exchange);
    const names = eventNames(events);
    assert.ok(inOrder(names, ["open", "popup_severed", "success"]), names.join(","));
    assert.deepEqual(names.filter((n) => ["exit", "error"].includes(n)), [], "never reported as closed");
  });
});

describe("Torque Connect: redirect", () => {
  test("approve: the callback page shows the result; the address bar is cleaned", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const requests = recordRequests(context);
    const { page, events } = await openApp(context, server, { kind: "torque" });
    torque.resetStats();
    await page.click("#redirect");
    await page.waitForURL(consentUrl());
    assert.deepEqual(await consentScreen(page), { scopes: ["wallet:read", "transfers:execute"], user: "user-42" });
    await page.click("#approve");
    await page.waitForURL((url) => url.pathname === "/test/callback");
    const { result, error } = await callbackOutcome(page);
    assert.equal(error, undefined);

    // Torque answered on the registered callback with code and state; the page removed them.
    const answered = new URL(requests.find((u) => u.startsWith(`${callbackUrl()}?`))).searchParams;
    assert.ok(answered.get("code"));
    assert.equal(answered.get("state"), result.state);
    assert.equal(new URL(page.url()).search, "");

    assert.equal(result.provider, "torque");
    assert.equal(result.returnTo, "/test/app.html?kind=torque");
    assert.equal(result.code, undefined);
    assert.equal(result.codeVerifier, undefined);
    assertDelegatedJwt(result.exchange);
    const { redeemed } = assertPkceRoundTrip(result.state);

    const names = eventNames(events);
    assert.ok(inOrder(names, ["redirect", "callback", "exchange", "success"]), names.join(","));
    for (const { name, meta } of events) {
      assert.equal(meta.provider, "torque", name);
      assert.equal(meta.mode, "redirect", name);
    }
    // The transaction (with its verifier) is consumed; nothing secret is stored.
    const stored = {
      session: await page.evaluate(() => Object.entries(sessionStorage)),
      local: await localStorageEntries(page),
    };
    const secrets = [result.exchange.accessToken, answered.get("code")];
    assert.deepEqual(findLeaks(stored, { secrets, challenge: redeemed.codeChallenge }), []);
    assert.deepEqual(findLeaks(events, { secrets, challenge: redeemed.codeChallenge }), []);
  });

  test("deny: the callback page shows authorization_error access_denied", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page } = await openApp(context, server, { kind: "torque" });
    torque.resetStats();
    await page.click("#redirect");
    await page.waitForURL(consentUrl());
    await page.click("#deny");
    await page.waitForURL((url) => url.pathname === "/test/callback");
    const { error } = await callbackOutcome(page);
    assert.equal(error?.code, "authorization_error");
    assert.equal(error.error, "access_denied");
    assert.equal(new URL(page.url()).search, "");
    assert.equal(torque.stats.tokenRequests.length, 0);
  });
});

describe("Torque execute from the page", () => {
  test("Idempotency-Key from idempotencyKey(): the same key twice is one transfer; another key is a second", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page } = await openApp(context, server, { kind: "torque" });
    await answerInPopup(await startTorquePopup(page));
    const { result, error } = await outcome(page);
    assert.equal(error, undefined);
    torque.resetStats();

    const answers = await page.evaluate(async (jwt) => {
      const lib = await import("/pkg/index.js");
      const transfer = async (key, body) => {
        const reply = await fetch("/api/torque/transfers", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${jwt}`, "idempotency-key": key },
          body: JSON.stringify(body),
        });
        return { status: reply.status, body: await reply.json() };
      };
      const body = { amount: "25.00", asset: "USDC", destination: "0x000000000000000000000000000000000000dEaD" };
      const key = lib.idempotencyKey();
      const first = await transfer(key, body);
      const second = await transfer(key, body); // a retry after a lost answer
      const changed = await transfer(key, { ...body, amount: "26.00" });
      const otherKey = lib.idempotencyKey();
      const another = await transfer(otherKey, body);
      return { key, otherKey, first, second, changed, another };
    }, result.exchange.accessToken);

    assert.match(answers.key, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(answers.key, answers.otherKey);
    assert.equal(answers.first.status, 200);
    assert.match(answers.first.body.id, /^tr_/);
    assert.equal(answers.first.body.from, "user-42");
    assert.deepEqual(answers.second, answers.first, "the same key and body: the same answer");
    assert.deepEqual([answers.changed.status, answers.changed.body.error], [422, "idempotency_key_reused"]);
    assert.equal(answers.another.status, 200);
    assert.notEqual(answers.another.body.id, answers.first.body.id);
    assert.equal(torque.stats.transfers, 2);
    assert.deepEqual(
      torque.stats.executeRequests.map(({ idempotencyKey, replayed, status }) => [idempotencyKey, replayed, status]),
      [[answers.key, false, 200], [answers.key, true, 200], [answers.key, false, 422], [answers.otherKey, false, 200]],
    );
  });
});
