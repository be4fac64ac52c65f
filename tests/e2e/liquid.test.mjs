// Connect a Liquid Quick Exchange user session (`kind: "liquid"`) as a user does it, in headless
// Chromium through the test app, against the local sandbox (www/sandboxes/liquid.mjs) and the
// app's backend route (www/backend/liquid.mjs): the close-the-window ending, the return-URL ending,
// a denied (so unapproved) session, the redirect flow, a provider page with COOP, a revoked key.
// The test app is pages/app.html (`?kind=liquid&variant=…`); helpers are in browser.mjs.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  callbackOutcome, eventNames, findLeaks, inOrder, launchChromium, localStorageEntries, newContext, openApp, outcome,
  queryOf, recordRequests, startServer, until,
} from "./browser.mjs";

let server;
let browser;
let liquid; // the sandbox's handle: knobs, stats, sessions, and the backend's verifyLog

before(async () => {
  server = await startServer();
  browser = await launchChromium();
  liquid = server.integrations.liquid;
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const oauthPage = /\/api\/v1\/session\/([0-9a-f-]{36})\/liquid_oauth$/;

/** A fresh context and the test app with a Liquid config; the sandbox's counters start at zero. */
async function openLiquidApp(t, variant, extra = {}) {
  const context = await newContext(browser, t);
  const requests = recordRequests(context);
  liquid.resetStats();
  liquid.verifyLog.length = 0;
  const app = await openApp(context, server, { kind: "liquid", variant, ...extra });
  return { context, requests, ...app };
}

/** Click the app's popup button; return the popup once Liquid's sign-in page shows, its session id,
 * and when it showed. */
async function startLiquidPopup(page) {
  const [popup] = await Promise.all([page.waitForEvent("popup"), page.click("#popup")]);
  await popup.waitForURL(oauthPage);
  await popup.waitForSelector("#approve");
  const sessionId = oauthPage.exec(new URL(popup.url()).pathname)[1];
  return { popup, sessionId, shownAt: Date.now() };
}

/** The user reads the page in front of them for a while (at least 2 s since the popup showed
 * Liquid's page, so it cannot pass for a window cut by COOP), then closes the window. */
async function closeAfterReading(popup, shownAt) {
  await sleep(Math.max(2_500 - (Date.now() - shownAt), 500));
  await popup.close();
}

/** Press a button in the popup; with a return URL the callback page closes the window itself. */
async function answerAndWaitClose(popup, button) {
  const closed = popup.waitForEvent("close", { timeout: 15_000 });
  await popup.click(button);
  await closed;
}

const widgetIdentity = (page) =>
  page.evaluate(async () => (await import("/pkg/index.js")).widgetIdentity(window.result));

/** What every successful Liquid popup flow shows, to the user and to the sandbox. */
async function assertConnected({ page, events, problems }, result, sessionId) {
  const known = liquid.session(sessionId);
  assert.equal(result.provider, "liquid");
  assert.deepEqual(result.session, { sessionId: known.sessionId, sessionSecret: known.sessionSecret });
  assert.equal(known.approved, true, "the sandbox has the session approved");
  assert.deepEqual(await widgetIdentity(page), {
    user_session: { session_id: known.sessionId, session_secret: known.sessionSecret },
  });
  assert.equal(await page.textContent("#status"), "connected");
  // One session was created, from the app's page, with the partner's public key.
  assert.deepEqual(liquid.stats.sessionRequests.map(({ status, origin, publicApiKey }) => ({ status, origin, publicApiKey })), [
    { status: 200, origin: server.appOrigin, publicApiKey: liquid.publicApiKey },
  ]);
  const names = eventNames(events);
  assert.ok(inOrder(names, ["open", "success"]), names.join(","));
  assert.deepEqual(names.filter((n) => n === "error"), [], names.join(","));
  for (const { name, meta } of events.filter((e) => e.name !== "ignored_message")) {
    assert.equal(meta.provider, "liquid", name);
  }
  // The session secret is only in the result: not in events, not in localStorage.
  assert.deepEqual(findLeaks(events, { secrets: [known.sessionSecret] }), [], "events");
  assert.deepEqual(findLeaks(await localStorageEntries(page), { secrets: [known.sessionSecret] }), [], "localStorage");
  assert.deepEqual(problems, []);
  return known;
}

describe("liquid popup flow", () => {
  test("close-the-window ending: approve, the page says to close it, the user does: connected and verified", { timeout: 40_000 }, async (t) => {
    const app = await openLiquidApp(t, "default", { timeoutMs: 30_000 });
    const { page, events } = app;
    const { popup, sessionId, shownAt } = await startLiquidPopup(page);
    assert.equal(await page.textContent("#status"), "connecting");
    assert.equal(liquid.stats.sessionRequests[0].returnUrl, undefined, "no return_url without returnUrl");

    await popup.click("#approve");
    await popup.waitForSelector("#done");
    assert.match(await popup.textContent("body"), /close this window and return to the app/i);
    // Nothing happens while the window stays open: the user has not come back yet.
    await sleep(500);
    assert.equal(await page.getAttribute("#result", "data-outcome"), null);
    assert.equal(await page.getAttribute("#error", "data-code"), null);
    await closeAfterReading(popup, shownAt);

    const { result, error } = await outcome(page);
    assert.equal(error, undefined, error?.text);
    const known = await assertConnected(app, result, sessionId);
    assert.deepEqual(result.exchange, { approved: true, accounts: known.accounts });
    // The backend confirmed the session with Liquid once, with a JWT Liquid accepted.
    assert.deepEqual(liquid.verifyLog, [{ sessionId, status: 200 }]);
    assert.deepEqual(liquid.stats.accountsRequests, [{ sessionId, status: 200 }]);
    // The page's JSON POST to Liquid went through a CORS preflight, allowed for the app's origin.
    assert.ok(liquid.stats.preflights >= 1, "a preflight");
    const names = eventNames(events);
    assert.ok(inOrder(names, ["open", "exchange", "success"]), names.join(","));
  });

  test("return-URL ending: approve, Liquid sends the popup to the callback page, which relays and closes", { timeout: 30_000 }, async (t) => {
    const app = await openLiquidApp(t, "returnUrl");
    const { page, requests } = app;
    const { popup, sessionId } = await startLiquidPopup(page);
    await answerAndWaitClose(popup, "#approve"); // no manual close

    const { result, error } = await outcome(page);
    assert.equal(error, undefined, error?.text);
    const known = await assertConnected(app, result, sessionId);
    assert.deepEqual(result.exchange, { approved: true, accounts: known.accounts });

    // The return URL sent to Liquid is the registered callback with the flow's state; Liquid came
    // back to it with the session id added.
    assert.equal(liquid.stats.sessionRequests[0].returnUrl, `${server.appOrigin}/test/callback?state=${encodeURIComponent(result.state)}`);
    const answered = queryOf(requests, `${server.appOrigin}/test/callback?`);
    assert.deepEqual(answered, { state: result.state, session_id: sessionId });
    assert.equal(result.params.session_id, sessionId);
    assert.equal(result.params.state, result.state);
    assert.deepEqual(liquid.verifyLog, [{ sessionId, status: 200 }]);
    assert.deepEqual(eventNames(app.events).filter((n) => ["exit", "popup_severed"].includes(n)), []);
  });

  test("an unapproved session (deny, then close the window) is not reported as connected", { timeout: 40_000 }, async (t) => {
    const { page, events } = await openLiquidApp(t, "default", { timeoutMs: 30_000 });
    const { popup, sessionId, shownAt } = await startLiquidPopup(page);
    await popup.click("#deny");
    await popup.waitForSelector("#declined");
    assert.match(await popup.textContent("body"), /You declined[\s\S]*close this window/i);
    await closeAfterReading(popup, shownAt);

    const { result, error } = await outcome(page);
    assert.equal(result, undefined, "no result for an unapproved session");
    assert.equal(error?.code, "popup_closed");
    assert.notEqual(await page.textContent("#status"), "connected");
    assert.notEqual(await page.textContent("#status"), "connecting");
    const names = eventNames(events);
    assert.equal(names.includes("success"), false, names.join(","));
    assert.ok(names.includes("exit"), names.join(","));
    assert.equal(liquid.session(sessionId).approved, false);
    // The backend asked Liquid, which refused: that is how the app knows.
    assert.deepEqual(liquid.verifyLog, [{ sessionId, status: 403 }]);
    assert.deepEqual(liquid.stats.accountsRequests.map((r) => r.status), [403]);
  });

  test("the user closes the window without answering: popup_closed, never connected", { timeout: 40_000 }, async (t) => {
    const { page, events } = await openLiquidApp(t, "default", { timeoutMs: 30_000 });
    const { popup, sessionId, shownAt } = await startLiquidPopup(page);
    await closeAfterReading(popup, shownAt);
    const { error } = await outcome(page);
    assert.equal(error?.code, "popup_closed");
    assert.equal(eventNames(events).includes("success"), false);
    assert.equal(liquid.session(sessionId).status, "pending");
    assert.notEqual(await page.textContent("#status"), "connected");
  });

  test("return-URL ending with deny: authorization_error access_denied", { timeout: 30_000 }, async (t) => {
    const { page, events, requests } = await openLiquidApp(t, "returnUrl");
    const { popup, sessionId } = await startLiquidPopup(page);
    await answerAndWaitClose(popup, "#deny");

    const { result, error } = await outcome(page);
    assert.equal(result, undefined);
    assert.equal(error?.code, "authorization_error");
    assert.equal(error.error, "access_denied");
    const answered = queryOf(requests, `${server.appOrigin}/test/callback?`);
    assert.equal(answered.error, "access_denied");
    assert.equal(answered.session_id, sessionId);
    const names = eventNames(events);
    const failure = events.find((e) => e.name === "error");
    assert.deepEqual([failure?.meta.code, failure?.meta.provider], ["authorization_error", "liquid"]);
    assert.equal(names.includes("success"), false, names.join(","));
    assert.equal(names.includes("exit"), false, "a denial is not a close");
    assert.notEqual(await page.textContent("#status"), "connected");
    assert.equal(liquid.session(sessionId).approved, false);
  });

  test("without returnUrl or verifyEndpoint: the config is refused (invalid_config) before any window or request", { timeout: 20_000 }, async (t) => {
    // A closed window says nothing about consent; this config used to resolve as connected when
    // the user closed the window without approving.
    const context = await newContext(browser, t);
    liquid.resetStats();
    const app = await openApp(context, server, { kind: "liquid", variant: "noVerify" }, { waitReady: false });
    await app.page.waitForSelector("body[data-ready]", { state: "attached" });
    assert.equal(await app.page.getAttribute("body", "data-ready"), "error");
    const { error } = await outcome(app.page);
    assert.equal(error?.code, "invalid_config");
    assert.match(error.text, /verifyEndpoint is required without returnUrl/);
    assert.deepEqual(liquid.stats.sessionRequests, []);
    assert.equal(context.pages().length, 1, "no window opened");
  });

  test("Liquid's pages send COOP: the return-URL flow still succeeds, never reported as closed", { timeout: 40_000 }, async (t) => {
    liquid.setCoop(true);
    t.after(() => liquid.setCoop(false));
    const app = await openLiquidApp(t, "returnUrl", { timeoutMs: 25_000 });
    const [popup] = await Promise.all([app.page.waitForEvent("popup"), app.page.click("#popup")]);
    await popup.waitForURL(oauthPage);
    await popup.waitForSelector("#approve");
    const sessionId = oauthPage.exec(new URL(popup.url()).pathname)[1];
    // The user reads the page while the opener notices the cut and its grace for a relay
    // passes; an instant approve finishes the flow before the cut is ever reported.
    await until(() => eventNames(app.events).includes("popup_severed"), { what: "popup_severed" });
    await answerAndWaitClose(popup, "#approve");
    const { result, error } = await outcome(app.page, { timeout: 20_000 });
    assert.equal(error, undefined, error?.text);
    await assertConnected(app, result, sessionId);
    const names = eventNames(app.events);
    assert.ok(inOrder(names, ["open", "popup_severed", "success"]), names.join(","));
    assert.deepEqual(names.filter((n) => ["exit", "error"].includes(n)), [], names.join(","));
  });

  test("a deactivated public key: token_error with status 401, the popup closes, nothing connected", { timeout: 30_000 }, async (t) => {
    liquid.setKeyEnabled(false);
    t.after(() => liquid.setKeyEnabled(true));
    const { page, events, context } = await openLiquidApp(t, "default");
    const [popup] = await Promise.all([page.waitForEvent("popup"), page.click("#popup")]);
    const { error } = await outcome(page);
    assert.equal(error?.code, "token_error");
    assert.equal(await page.evaluate(() => window.lastError.status), 401);
    await popup.waitForEvent("close", { timeout: 5_000 }).catch(() => {});
    assert.equal(popup.isClosed(), true, "the popup opened for the flow is closed");
    assert.equal(context.pages().length, 1);
    assert.deepEqual(liquid.stats.sessionRequests.map((r) => r.status), [401]);
    assert.equal(eventNames(events).includes("success"), false);
    assert.notEqual(await page.textContent("#status"), "connected");
  });
});

describe("liquid redirect flow", () => {
  test("with returnUrl: the page goes to Liquid and back; handleCallback gives the verified session", { timeout: 30_000 }, async (t) => {
    const { page, events } = await openLiquidApp(t, "returnUrl");
    await page.click("#redirect");
    await page.waitForURL(oauthPage);
    await page.waitForSelector("#approve");
    const sessionId = oauthPage.exec(new URL(page.url()).pathname)[1];
    await page.click("#approve");
    await page.waitForURL((url) => url.pathname === "/test/callback");
    const { result, error } = await callbackOutcome(page);
    assert.equal(error, undefined, error?.text);

    const known = liquid.session(sessionId);
    assert.equal(result.provider, "liquid");
    assert.deepEqual(result.session, { sessionId, sessionSecret: known.sessionSecret });
    assert.deepEqual(result.exchange, { approved: true, accounts: known.accounts });
    assert.equal(result.returnTo, "/test/app.html?kind=liquid&variant=returnUrl");
    assert.deepEqual(await widgetIdentity(page), { user_session: { session_id: sessionId, session_secret: known.sessionSecret } });
    // The flow's parameters are gone from the address bar.
    const shown = new URL(page.url());
    assert.equal(shown.searchParams.has("state"), false, page.url());
    assert.equal(shown.searchParams.has("session_id"), false, page.url());
    assert.deepEqual(liquid.verifyLog, [{ sessionId, status: 200 }]);
    const names = eventNames(events);
    assert.ok(inOrder(names, ["redirect", "success"]), names.join(","));
    assert.deepEqual(findLeaks(events, { secrets: [known.sessionSecret] }), []);
    assert.deepEqual(findLeaks(await localStorageEntries(page), { secrets: [known.sessionSecret] }), []);
  });

  test("without returnUrl: redirect() is invalid_config and creates no session", { timeout: 20_000 }, async (t) => {
    const { page } = await openLiquidApp(t, "default");
    await page.click("#redirect");
    const { error } = await outcome(page);
    assert.equal(error?.code, "invalid_config");
    assert.equal(new URL(page.url()).pathname, "/test/app.html");
    assert.deepEqual(liquid.stats.sessionRequests, []);
  });
});
