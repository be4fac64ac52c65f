// Connect in a popup, as a user does it, against the real OpenID provider: approve, deny, close
// the window, a real popup blocker, a provider that sends COOP, a forged message from another
// origin, two tabs at once, and the oauth2 kind's backend exchange and bare code.
// The test app is pages/app.html; helpers are in browser.mjs.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  answerInPopup, eventNames, findLeaks, inOrder, jwtPayload, launchChromium, localStorageEntries,
  newContext, openApp, outcome, queryOf, recordRequests, s256, startPopup, startServer, until,
} from "./browser.mjs";

const TTL_SECONDS = 300; // well above the default refreshSkewMs: no refresh in these tests

let server;
let browser;
let issuer;

before(async () => {
  server = await startServer({ accessTokenTtlSeconds: TTL_SECONDS });
  browser = await launchChromium();
  issuer = server.provider.issuer;
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const authorizeQuery = (requests) => queryOf(requests, `${issuer}/auth?`);
const callbackQuery = (requests) => queryOf(requests, `${server.appOrigin}/test/callback?`);

/** Nothing the flow handled in secret shows in the page's events or localStorage; no popup
 * marker (keyed by state) is left behind. */
async function assertNothingLeaked(page, events, { secrets, challenge, state }) {
  assert.deepEqual(findLeaks(events, { secrets, challenge }), [], "events");
  const stored = await localStorageEntries(page);
  assert.deepEqual(findLeaks(stored, { secrets, challenge }), [], "localStorage");
  assert.deepEqual(stored.filter((entry) => entry.join(" ").includes(state)), [], "a popup marker left in localStorage");
}

describe("popup flow", () => {
  test("oidc: approve; the popup closes and the app holds a valid token set", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const requests = recordRequests(context);
    const { page, events, problems } = await openApp(context, server, { kind: "oidc" });
    server.provider.resetStats();

    const popup = await startPopup(page, server);
    const authorize = authorizeQuery(requests);
    assert.equal(await page.textContent("#status"), "connecting");
    // While the consent page shows, the verifier is only in the opener's memory.
    assert.deepEqual(findLeaks(await localStorageEntries(page), { challenge: authorize.code_challenge }), []);
    await answerInPopup(popup);
    const { result, error } = await outcome(page);
    assert.equal(error, undefined);

    // The authorization request: code flow, PKCE S256, nonce, the registered redirect URI.
    assert.equal(authorize.response_type, "code");
    assert.equal(authorize.client_id, "oauth-connect-demo");
    assert.equal(authorize.redirect_uri, `${server.appOrigin}/test/callback`);
    assert.equal(authorize.code_challenge_method, "S256");
    assert.deepEqual(authorize.scope.split(" ").sort(), ["email", "openid", "profile"]);
    assert.ok(authorize.nonce && authorize.state);

    // What the app got.
    const { tokens } = result;
    assert.equal(result.provider, "oidc");
    assert.equal(result.state, authorize.state);
    assert.equal(result.code, undefined);
    assert.equal(result.codeVerifier, undefined);
    assert.equal("code" in result.params, false, "the exchanged code is not in params");
    assert.equal(result.params.iss, issuer);
    assert.ok(tokens.accessToken);
    assert.match(tokens.tokenType, /^bearer$/i);
    assert.ok(tokens.refreshToken);
    assert.ok(tokens.expiresAt > Date.now() && tokens.expiresAt <= Date.now() + TTL_SECONDS * 1000 + 5_000, "expiresAt");
    const idToken = jwtPayload(tokens.idToken);
    assert.equal(idToken.iss, issuer);
    assert.equal(idToken.aud, "oauth-connect-demo");
    assert.equal(idToken.nonce, authorize.nonce);
    assert.equal(await page.textContent("#status"), "connected");
    assert.deepEqual(await page.evaluate(() => window.statuses), ["connecting", "connected"], "conn.onStatus heard each change once");
    assert.equal((await page.evaluate(() => window.conn.tokens())).accessToken, tokens.accessToken);

    // The browser redeemed the code itself (a public client), once.
    assert.equal(server.provider.stats.tokenRequests.authorization_code, 1);
    assert.deepEqual(
      server.provider.stats.byGrant.authorization_code.map(({ ok, origin }) => ({ ok, origin })),
      [{ ok: true, origin: server.appOrigin }],
    );

    const names = eventNames(events);
    assert.ok(inOrder(names, ["open", "callback", "exchange", "success"]), names.join(","));
    assert.deepEqual(names.filter((n) => ["error", "exit", "popup_severed"].includes(n)), []);
    for (const { name, meta } of events.filter((e) => e.name !== "ignored_message")) {
      assert.equal(meta.provider, "oidc", name);
      assert.equal(meta.mode, "popup", name);
    }
    await assertNothingLeaked(page, events, {
      secrets: [tokens.accessToken, tokens.refreshToken, tokens.idToken, callbackQuery(requests).code],
      challenge: authorize.code_challenge,
      state: result.state,
    });

    // accessToken() gives the same, still fresh, token without asking the provider.
    await page.click("#token");
    await page.waitForFunction((token) => document.querySelector("#access-token").textContent === token, tokens.accessToken);
    assert.equal(server.provider.stats.tokenRequests.refresh_token, 0);
    assert.deepEqual(problems, []);
  });

  test("deny at the provider: authorization_error access_denied, no token request", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page, events } = await openApp(context, server, { kind: "oidc" });
    server.provider.resetStats();
    await answerInPopup(await startPopup(page, server), "#deny");
    const { error } = await outcome(page);
    assert.equal(error?.code, "authorization_error");
    assert.equal(error.error, "access_denied");
    const failure = events.find((e) => e.name === "error");
    assert.deepEqual([failure?.meta.code, failure?.meta.mode], ["authorization_error", "popup"]);
    assert.equal(eventNames(events).includes("exit"), false, "a denial is not a close");
    assert.notEqual(await page.textContent("#status"), "connecting");
    assert.equal(server.provider.stats.tokenRequests.authorization_code, 0);
  });

  test("the user closes the popup: popup_closed and event exit", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    // A misjudged close (taken for a COOP cut) would end as `timeout` instead of hanging the test.
    const { page, events } = await openApp(context, server, { kind: "oidc", timeoutMs: 12_000 });
    const popup = await startPopup(page, server);
    // The user reads the consent page for a while, then closes the window.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await popup.close();
    const { error } = await outcome(page);
    assert.equal(error?.code, "popup_closed");
    const names = eventNames(events);
    assert.ok(names.includes("exit"), names.join(","));
    assert.equal(names.includes("success"), false);
    assert.notEqual(await page.textContent("#status"), "connecting");
  });

  test("a provider page with COOP cuts the opener: popup_severed, and the flow still succeeds", { timeout: 30_000 }, async (t) => {
    server.provider.setCoop(true);
    t.after(() => server.provider.setCoop(false));
    const context = await newContext(browser, t);
    const { page, events } = await openApp(context, server, { kind: "oidc", timeoutMs: 20_000 });
    const popup = await startPopup(page, server);
    // The user reads the consent page while the opener notices the cut (a 200 ms poll, then
    // the grace for a relay); an instant approve finishes the flow before it is reported.
    await until(() => eventNames(events).includes("popup_severed"), { what: "popup_severed" }).catch((error) => {
      throw new Error(`${error.message}; the events so far: ${eventNames(events).join(",")}`);
    });
    await answerInPopup(popup); // the callback page closes it: the relay went over BroadcastChannel
    const { result, error } = await outcome(page);
    assert.equal(error, undefined);
    assert.ok(result.tokens.accessToken);
    const names = eventNames(events);
    assert.ok(inOrder(names, ["open", "popup_severed", "success"]), names.join(","));
    assert.deepEqual(names.filter((n) => ["exit", "error"].includes(n)), [], "never reported as closed");
    assert.equal(await page.textContent("#status"), "connected");
  });

  test("no provider page can navigate the app's tab through window.opener (reverse tabnabbing); the flow still succeeds", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page, events } = await openApp(context, server, { kind: "oidc" });
    const appUrl = page.url();
    const popup = await startPopup(page, server);
    // The provider's page (another origin) tries every way back to the app's tab. Before the
    // fix, the first one navigated the app away.
    const attempts = await popup.evaluate((evil) => {
      const results = [];
      for (const [name, go] of [
        ["opener", () => (window.opener.location = evil)],
        ["opener.top", () => (window.opener.top.location = evil)],
        ["opener.parent", () => (window.opener.parent.location = evil)],
      ]) {
        try {
          go();
          results.push(`${name}: allowed`);
        } catch {
          results.push(`${name}: refused`);
        }
      }
      return results;
    }, `${server.otherOrigin}/evil`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(page.url(), appUrl, `the app's tab was navigated: ${attempts.join(", ")}`);
    assert.deepEqual(attempts, ["opener: refused", "opener.top: refused", "opener.parent: refused"]);
    await answerInPopup(popup);
    const { result, error } = await outcome(page);
    assert.equal(error, undefined, error?.text);
    assert.ok(result.tokens.accessToken);
    assert.ok(inOrder(eventNames(events), ["open", "success"]));
  });

  test("the callback page sends no Referer (its address holds the code) and posts to its opener with its own origin as target, never \"*\"", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    // What the callback page's requests carry in Referer, and the target origin of every
    // postMessage the callback page makes to its opener (recorded by wrapping `opener` there).
    const referers = [];
    context.on("request", (request) => {
      const from = request.frame()?.url() ?? "";
      if (from.includes("/test/callback")) referers.push(request.headers().referer ?? null);
    });
    await context.addInitScript(() => {
      if (!location.pathname.startsWith("/test/callback") || !window.opener) return;
      const real = window.opener;
      Object.defineProperty(window, "opener", {
        get: () => ({
          postMessage(message, target) {
            console.log(`postMessage target: ${target}`);
            real.postMessage(message, target);
          },
        }),
      });
    });
    const { page } = await openApp(context, server, { kind: "oidc" });
    const popup = await startPopup(page, server);
    const targets = [];
    popup.on("console", (message) => message.text().startsWith("postMessage target: ") && targets.push(message.text().slice(20)));
    await answerInPopup(popup);
    const { result, error } = await outcome(page);
    assert.equal(error, undefined, error?.text);
    assert.ok(result.tokens.accessToken);
    assert.ok(referers.length > 0, "the callback page loaded its scripts");
    assert.deepEqual(referers.filter(Boolean), [], "no request of the callback page sent a Referer");
    assert.deepEqual(targets, [server.appOrigin]);
  });

  test("a relay message forged by another origin is ignored; the real one completes the flow", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const requests = recordRequests(context);
    const { page, events } = await openApp(context, server, { kind: "oidc" });
    server.provider.resetStats();
    const popup = await startPopup(page, server);
    const ignored = () => events.filter((e) => e.name === "ignored_message").length;

    // The attacker knows the state of the flow in flight; its page is on another origin.
    const { state } = authorizeQuery(requests);
    const forgedUrl = `${server.appOrigin}/test/callback?code=forged-code&state=${state}&iss=${encodeURIComponent(issuer)}`;
    const [forge] = await Promise.all([
      context.waitForEvent("page"),
      page.evaluate((url) => void window.open(url), `${server.otherOrigin}/test/forge.html?url=${encodeURIComponent(forgedUrl)}`),
    ]);
    await forge.waitForSelector("body[data-sent=true]", { state: "attached" });
    await until(() => ignored() >= 1, { what: "ignored_message for the cross-origin message" });
    // Same origin, but a state with no popup in flight: ignored too.
    await page.evaluate(
      (url) => window.postMessage({ type: "oauth-connect:callback", url }, location.origin),
      `${server.appOrigin}/test/callback?code=forged-code&state=no-such-flow&iss=${encodeURIComponent(issuer)}`,
    );
    await until(() => ignored() >= 2, { what: "ignored_message for the unknown state" });
    assert.equal(await page.getAttribute("#error", "data-code"), null);
    assert.equal(await page.textContent("#status"), "connecting");
    assert.equal(server.provider.stats.tokenRequests.authorization_code, 0, "nothing tried to redeem the forged code");
    await forge.close();

    await answerInPopup(popup);
    const { result, error } = await outcome(page);
    assert.equal(error, undefined);
    assert.equal(result.state, state);
    assert.ok(result.tokens.accessToken);
    assert.equal(server.provider.stats.tokenRequests.authorization_code, 1);
    assert.equal(eventNames(events).includes("error"), false);
  });

  test("two tabs connect at once: both succeed, each with its own flow", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    server.provider.resetStats();
    const tabA = await openApp(context, server, { kind: "oidc" });
    const tabB = await openApp(context, server, { kind: "oidc" });
    const popupA = await startPopup(tabA.page, server);
    const popupB = await startPopup(tabB.page, server);
    // Answered in the other order than opened.
    await answerInPopup(popupB);
    await answerInPopup(popupA);
    const [a, b] = await Promise.all([outcome(tabA.page), outcome(tabB.page)]);
    assert.equal(a.error, undefined);
    assert.equal(b.error, undefined);
    assert.notEqual(a.result.state, b.result.state);
    assert.ok(a.result.tokens.accessToken && b.result.tokens.accessToken);
    assert.equal(server.provider.stats.tokenRequests.authorization_code, 2);
    for (const tab of [tabA, tabB]) {
      assert.equal(await tab.page.textContent("#status"), "connected");
      assert.equal(eventNames(tab.events).filter((n) => n === "success").length, 1);
    }
  });
});

describe("popup blocker", () => {
  test("popup() outside a user gesture is blocked by Chromium: popup_blocked, no window", { timeout: 30_000 }, async (t) => {
    const blocking = await launchChromium({ popupBlocker: true });
    t.after(() => blocking.close());
    const context = await newContext(blocking, t);
    const pages = [];
    context.on("page", (p) => pages.push(p));
    // The page calls popup() from its own timer once ready. Until that has happened the test
    // only listens: any Playwright call into the page would count as a user gesture.
    const { page, events } = await openApp(context, server, { kind: "oidc", autoPopupMs: 1_000 }, { waitReady: false });
    await until(() => events.find((e) => ["popup_blocked", "open"].includes(e.name)), { what: "the timer's popup()" });
    assert.ok(eventNames(events).includes("popup_blocked"), eventNames(events).join(","));
    assert.equal(eventNames(events).includes("open"), false);
    const { error } = await outcome(page);
    assert.equal(error?.code, "popup_blocked");
    assert.equal(pages.length, 1, "no window opened");
    assert.notEqual(await page.textContent("#status"), "connecting");

    // The same call from a click opens the popup: window.open runs inside the gesture.
    const popup = await startPopup(page, server);
    assert.ok(popup.url().startsWith(`${issuer}/interaction/`));
  });
});

describe("oauth2 kind without a token endpoint", () => {
  test("exchangeEndpoint: the app's backend redeems the code; the result carries its reply, no tokens", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const requests = recordRequests(context);
    const { page, events } = await openApp(context, server, { kind: "oauth2", exchange: "backend" });
    server.provider.resetStats();
    server.backend.exchanges.length = 0;
    await answerInPopup(await startPopup(page, server));
    const { result, error } = await outcome(page);
    assert.equal(error, undefined);
    const authorize = authorizeQuery(requests);

    assert.equal(result.provider, "oauth2");
    assert.equal(result.exchange?.connected, true);
    assert.equal(typeof result.exchange.expiresIn, "number");
    assert.match(result.exchange.scope, /\bopenid\b/);
    for (const absent of ["tokens", "code", "codeVerifier"]) assert.equal(result[absent], undefined, absent);

    // The backend got the code's verifier, the state and the redirect URI, once.
    const [seen, ...more] = server.backend.exchanges;
    assert.equal(more.length, 0);
    assert.equal(seen.status, 200);
    assert.equal(seen.state, result.state);
    assert.equal(seen.redirectUri, `${server.appOrigin}/test/callback`);
    assert.equal(s256(seen.codeVerifier), authorize.code_challenge);
    // ...and only the backend called the token endpoint (no Origin: not a browser).
    assert.deepEqual(
      server.provider.stats.byGrant.authorization_code.map(({ ok, origin }) => ({ ok, origin })),
      [{ ok: true, origin: undefined }],
    );

    assert.ok(inOrder(eventNames(events), ["open", "callback", "exchange", "success"]), eventNames(events).join(","));
    await assertNothingLeaked(page, events, {
      secrets: [callbackQuery(requests).code, seen.codeVerifier],
      challenge: authorize.code_challenge,
      state: result.state,
    });
  });

  test("neither endpoint: the result carries the code and its verifier, which redeem at the provider", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const requests = recordRequests(context);
    const { page, events } = await openApp(context, server, { kind: "oauth2", exchange: "none" });
    server.provider.resetStats();
    await answerInPopup(await startPopup(page, server));
    const { result, error } = await outcome(page);
    assert.equal(error, undefined);
    const authorize = authorizeQuery(requests);

    assert.equal(result.code, callbackQuery(requests).code);
    assert.equal(s256(result.codeVerifier), authorize.code_challenge);
    assert.equal(result.tokens, undefined);
    assert.equal(result.exchange, undefined);
    assert.equal(server.provider.stats.tokenRequests.authorization_code, 0, "the library redeemed nothing");
    assert.equal(eventNames(events).includes("exchange"), false);
    await assertNothingLeaked(page, events, { secrets: [result.code], challenge: authorize.code_challenge, state: result.state });

    // The pair is good: the app's server can redeem it.
    const reply = await fetch(`${issuer}/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: result.code,
        code_verifier: result.codeVerifier,
        redirect_uri: authorize.redirect_uri,
        client_id: authorize.client_id,
      }),
    });
    assert.equal(reply.status, 200);
    assert.ok((await reply.json()).access_token);
  });
});
