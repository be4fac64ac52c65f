// Connect by redirect, as a user does it, against the real OpenID provider: the app page calls
// conn.redirect(), the provider sends the user back to pages/callback.html, which calls
// handleCallback(). Also what a replayed or forged callback URL gets there.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  callbackOutcome, eventNames, findLeaks, inOrder, jwtPayload, launchChromium, localStorageEntries, newContext,
  openApp, queryOf, recordRequests, startServer,
} from "./browser.mjs";

let server;
let browser;
let issuer;

before(async () => {
  server = await startServer({ accessTokenTtlSeconds: 300 });
  browser = await launchChromium();
  issuer = server.provider.issuer;
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const isCallbackPage = (url) => url.pathname === "/test/callback";

/** Open the app, click "Connect by redirect", and stop on the provider's consent page. */
async function redirectToProvider(context, query) {
  const app = await openApp(context, server, query);
  await app.page.click("#redirect");
  await app.page.waitForURL(`${issuer}/interaction/**`);
  await app.page.waitForSelector("#approve");
  return app;
}

/** Approve and wait for the callback page's answer. */
async function approve(page) {
  await page.click("#approve");
  await page.waitForURL(isCallbackPage);
  return callbackOutcome(page);
}

describe("redirect flow", () => {
  test("oauth2 with a token endpoint: back on the callback page with tokens, returnTo, and the app's own query kept", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const requests = recordRequests(context);
    server.provider.resetStats();
    // The redirect URI has a query of its own (?from=app); the app page has one too (keep=me).
    const { page, events } = await redirectToProvider(context, { kind: "oauth2", cb: "params", keep: "me" });
    const { result, error } = await approve(page);
    assert.equal(error, undefined);

    // The provider answered on the registered URI, with code, state and iss added to its query.
    const answered = queryOf(requests, `${server.appOrigin}/test/callback?`);
    assert.equal(answered.from, "app");
    assert.ok(answered.code && answered.state);
    assert.equal(answered.iss, issuer);
    // The address bar keeps only the app's own parameter.
    const shown = new URL(page.url());
    assert.equal(shown.pathname, "/test/callback");
    assert.deepEqual(Object.fromEntries(shown.searchParams), { from: "app" });

    assert.equal(result.provider, "oauth2");
    assert.equal(result.state, answered.state);
    assert.equal(result.returnTo, "/test/app.html?kind=oauth2&cb=params&keep=me");
    assert.ok(result.tokens.accessToken);
    assert.ok(result.tokens.expiresAt > Date.now());
    assert.equal(result.code, undefined);
    assert.equal(result.codeVerifier, undefined);
    assert.equal(server.provider.stats.tokenRequests.authorization_code, 1);
    assert.equal(server.provider.stats.byGrant.authorization_code[0].origin, server.appOrigin);

    // `redirect` was logged by the app page before it left; the rest by the callback page.
    const names = eventNames(events);
    assert.ok(inOrder(names, ["redirect", "callback", "exchange", "success"]), names.join(","));
    for (const { name, meta } of events) {
      assert.equal(meta.provider, "oauth2", name);
      assert.equal(meta.mode, "redirect", name);
    }
    // The transaction (with its verifier) is consumed; nothing secret is stored or logged.
    const authorize = queryOf(requests, `${issuer}/auth?`);
    const secrets = [result.tokens.accessToken, result.tokens.refreshToken, answered.code];
    const stored = {
      session: await page.evaluate(() => Object.entries(sessionStorage)),
      local: await localStorageEntries(page),
    };
    assert.deepEqual(findLeaks(stored, { secrets, challenge: authorize.code_challenge }), []);
    assert.deepEqual(findLeaks(events, { secrets, challenge: authorize.code_challenge }), []);
  });

  test("oidc: the callback page validates the ID token of the redirect flow", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const requests = recordRequests(context);
    const { page } = await redirectToProvider(context, { kind: "oidc", returnTo: "/test/app.html?after=redirect" });
    const { result, error } = await approve(page);
    assert.equal(error, undefined);
    assert.equal(result.provider, "oidc");
    assert.equal(result.returnTo, "/test/app.html?after=redirect");
    assert.equal(new URL(page.url()).search, "");
    const idToken = jwtPayload(result.tokens.idToken);
    assert.equal(idToken.aud, "oauth-connect-demo");
    assert.equal(idToken.nonce, queryOf(requests, `${issuer}/auth?`).nonce);
  });

  test("deny at the provider: the callback page shows authorization_error access_denied", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    server.provider.resetStats();
    const { page, events } = await redirectToProvider(context, { kind: "oauth2" });
    await page.click("#deny");
    await page.waitForURL(isCallbackPage);
    const { error } = await callbackOutcome(page);
    assert.equal(error?.code, "authorization_error");
    assert.equal(error.error, "access_denied");
    assert.equal(new URL(page.url()).search, "", "the error parameters left the address bar");
    const failure = events.find((e) => e.name === "error");
    assert.deepEqual([failure?.meta.code, failure?.meta.mode], ["authorization_error", "redirect"]);
    assert.equal(server.provider.stats.tokenRequests.authorization_code, 0);
  });

  test("the same callback URL opened again: already_handled, no second token request", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const requests = recordRequests(context);
    const { page } = await redirectToProvider(context, { kind: "oauth2" });
    const first = await approve(page);
    assert.equal(first.error, undefined);
    const callbackUrl = requests.find((u) => u.startsWith(`${server.appOrigin}/test/callback?`));

    server.provider.resetStats();
    await page.goto(callbackUrl); // reload of the original address, history, a shared link...
    const { error } = await callbackOutcome(page);
    assert.equal(error?.code, "already_handled");
    assert.equal(server.provider.stats.tokenRequests.authorization_code, 0);
  });

  test("a callback whose state matches no transaction: unknown_state, and the code is never sent", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    // A real flow is pending in this tab, for another state.
    const { page } = await redirectToProvider(context, { kind: "oauth2" });
    server.provider.resetStats();
    await page.goto(`${server.appOrigin}/test/callback?code=stolen-code&state=forged-state&iss=${encodeURIComponent(issuer)}`);
    const { error } = await callbackOutcome(page);
    assert.equal(error?.code, "unknown_state");
    assert.equal(server.provider.stats.tokenRequests.authorization_code, 0);
    assert.doesNotMatch(await page.textContent("body"), /stolen-code/);
  });
});
