// The edges of a flow: a second popup() while one is in flight (busy), the timeout, an
// AbortSignal (before and during the flow), an app-opened window that was blocked, a redirect
// transaction older than 10 minutes, and disconnect() in every tab.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  answerInPopup, callbackOutcome, eventNames, launchChromium, newContext, openApp, outcome, startPopup, startServer, until,
} from "./browser.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Run `popup(options)` in the page (a user gesture) and keep how it ends in `window.ended`. */
function startInPage(page, script) {
  return page.evaluate(script);
}

describe("popup edges", () => {
  test("a second popup() while one is in flight rejects busy and opens nothing", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page, events } = await openApp(context, server, { kind: "oidc" });
    const opened = [];
    context.on("page", (p) => opened.push(p));
    await startInPage(page, () => {
      window.first = window.conn.popup().then(() => "success", (e) => e.code);
      window.second = window.conn.popup().then(() => "success", (e) => e.code);
    });
    assert.equal(await page.evaluate(() => window.second), "busy");
    await until(() => opened.length === 1, { what: "the first popup" });
    const [popup] = opened;
    await popup.waitForSelector("#approve");
    await answerInPopup(popup);
    assert.equal(await page.evaluate(() => window.first), "success");
    assert.equal(opened.length, 1, "only one window opened");
    assert.equal(eventNames(events).filter((n) => n === "open").length, 1);
  });

  test("timeout: the flow rejects timeout and the library closes its window", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page, events } = await openApp(context, server, { kind: "oidc", timeoutMs: 2_000 });
    const popup = await startPopup(page, server);
    const closed = popup.waitForEvent("close", { timeout: 10_000 });
    const { error } = await outcome(page);
    assert.equal(error?.code, "timeout");
    await closed;
    const failure = events.find((e) => e.name === "error");
    assert.deepEqual([failure?.meta.code, failure?.meta.mode], ["timeout", "popup"]);
    assert.equal(await page.textContent("#status"), "error");
  });

  test("an AbortSignal ends the flow (aborted, window closed); an aborted signal opens nothing", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page } = await openApp(context, server, { kind: "oidc" });
    const [popup] = await Promise.all([
      page.waitForEvent("popup"),
      startInPage(page, () => {
        window.controller = new AbortController();
        window.ended = window.conn.popup({ signal: window.controller.signal }).then(() => "success", (e) => e.code);
      }),
    ]);
    await popup.waitForSelector("#approve");
    const closed = popup.waitForEvent("close");
    await page.evaluate(() => window.controller.abort());
    assert.equal(await page.evaluate(() => window.ended), "aborted");
    await closed;
    assert.equal(await page.evaluate(() => window.conn.status), "idle");

    const opened = [];
    context.on("page", (p) => opened.push(p));
    const code = await page.evaluate(() => {
      const controller = new AbortController();
      controller.abort();
      return window.conn.popup({ signal: controller.signal }).then(() => "success", (e) => e.code);
    });
    assert.equal(code, "aborted");
    assert.equal(opened.length, 0);
  });

  test("window: null (the app's own window.open was blocked) rejects popup_blocked", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page, events } = await openApp(context, server, { kind: "oidc" });
    const code = await page.evaluate(() => window.conn.popup({ window: null }).then(() => "success", (e) => e.code));
    assert.equal(code, "popup_blocked");
    assert.ok(eventNames(events).includes("popup_blocked"));
  });

  test("bad options: a timeoutMs that is not a positive number is invalid_config", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page } = await openApp(context, server, { kind: "oidc" });
    const code = await page.evaluate(() => window.conn.popup({ timeoutMs: -5 }).then(() => "success", (e) => e.code));
    assert.equal(code, "invalid_config");
  });
});

describe("redirect edges", () => {
  test("a transaction older than 10 minutes: transaction_expired, nothing redeemed", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    // On the callback page, before its scripts run: make every stored transaction 11 minutes old.
    await context.addInitScript(() => {
      if (location.pathname !== "/test/callback") return;
      for (const key of Object.keys(sessionStorage)) {
        if (!key.startsWith("oauth-connect:tx:")) continue;
        const transaction = JSON.parse(sessionStorage.getItem(key));
        transaction.createdAt -= 11 * 60 * 1000;
        sessionStorage.setItem(key, JSON.stringify(transaction));
      }
    });
    const { page } = await openApp(context, server, { kind: "oauth2" });
    server.provider.resetStats();
    await page.click("#redirect");
    await page.waitForURL(`${server.provider.issuer}/interaction/**`);
    await page.click("#approve");
    await page.waitForURL(`${server.appOrigin}/test/callback**`);
    const { error } = await callbackOutcome(page);
    assert.equal(error?.code, "transaction_expired");
    assert.equal(server.provider.stats.tokenRequests.authorization_code, 0);
    assert.equal(new URL(page.url()).search, "", "the code left the address bar");
  });
});

describe("disconnect", () => {
  test("disconnect() forgets the connection in this tab and the others", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const tabA = await openApp(context, server, { kind: "oidc" });
    await answerInPopup(await startPopup(tabA.page, server));
    assert.equal((await outcome(tabA.page)).error, undefined);
    const tabB = await openApp(context, server, { kind: "oidc" });
    await until(() => tabB.page.evaluate(() => window.conn.tokens()), { what: "tab B to share the tokens" });

    await tabA.page.evaluate(() => window.conn.disconnect());
    assert.equal(await tabA.page.evaluate(() => window.conn.tokens()), null);
    assert.equal(await tabA.page.evaluate(() => window.conn.status), "idle");
    await until(async () => (await tabB.page.evaluate(() => window.conn.tokens())) === null, { what: "tab B to forget" });
    const code = await tabB.page.evaluate(() => window.conn.accessToken().then(() => "token", (e) => e.code));
    assert.equal(code, "reconnect_required");
  });
});
