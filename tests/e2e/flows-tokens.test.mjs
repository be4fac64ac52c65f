// After connecting: the token set shared between tabs, refresh that is single-flight within a
// tab and across tabs (one refresh_token request at the provider), and a revoked grant that
// ends in reconnect_required. The provider's access tokens live 10 s and the app refreshes
// 9.5 s before expiry, so a token is due for refresh half a second after it is issued.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  answerInPopup, callConn, launchChromium, newContext, openApp, outcome, startPopup, startServer, until,
} from "./browser.mjs";

const APP = { kind: "oidc", refreshSkewMs: 9_500 };

let server;
let browser;

before(async () => {
  server = await startServer({ accessTokenTtlSeconds: 10 });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Open the app in a new tab of `context` and connect there through the popup. */
async function connectedTab(context) {
  const tab = await openApp(context, server, APP);
  await answerInPopup(await startPopup(tab.page, server));
  const { result, error } = await outcome(tab.page);
  assert.equal(error, undefined);
  return { ...tab, tokens: result.tokens };
}

/** Wait until the access token is within refreshSkewMs of expiry. */
const untilDue = (tokens) => until(() => Date.now() > tokens.expiresAt - APP.refreshSkewMs + 100, { what: "the token to be due" });

const refreshRequests = () => server.provider.stats.byGrant.refresh_token;

describe("tokens after connecting", () => {
  test("a status listener that disconnects when told connected leaves no tab connected", { timeout: 30_000 }, async (t) => {
    // The runner calls the listener once the event that connected is carried out (stored,
    // told to the other tabs): the disconnect comes after all of it and undoes all of it.
    const context = await newContext(browser, t);
    const tabB = await openApp(context, server, APP);
    const tabA = await openApp(context, server, { ...APP, disconnectOn: "connected" });
    await answerInPopup(await startPopup(tabA.page, server));
    const { error } = await outcome(tabA.page);
    assert.equal(error, undefined);
    assert.deepEqual(await tabA.page.evaluate(() => window.statuses), ["connecting", "connected", "idle"]);
    // By the time popup() resolved, the disconnect had undone what connecting wrote: called
    // between the effects instead, it would run before they were all carried out, and the
    // refresh-token holder's key would be written back after it.
    const stored = () => tabA.page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith("oauth-connect:")));
    assert.deepEqual(await stored(), []);
    // Anything still on its way to tab B would arrive within this.
    await tabB.page.waitForTimeout(500);
    for (const { page } of [tabA, tabB, await openApp(context, server, APP)]) {
      await page.waitForTimeout(300);
      assert.equal(await page.evaluate(() => window.conn.status), "idle");
      assert.equal(await page.evaluate(() => window.conn.tokens()), null);
    }
    assert.deepEqual(await tabB.page.evaluate(() => window.statuses.at(-1) ?? "idle"), "idle");
    // Nothing of the connection is left behind for a later tab.
    assert.deepEqual(await stored(), []);
  });

  test("two tabs with a due token call accessToken() at once: one refresh at the provider, the same new token in both", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const tabA = await connectedTab(context);
    // Tab B never connected: it gets tab A's token set over the channel.
    const tabB = await openApp(context, server, APP);
    const shared = await until(() => tabB.page.evaluate(() => window.conn.tokens()), { timeout: 3_000, what: "tab B to receive tab A's tokens" });
    assert.equal(shared.accessToken, tabA.tokens.accessToken);

    await untilDue(tabA.tokens);
    server.provider.resetStats();
    const [a, b] = await Promise.all([callConn(tabA.page, "accessToken"), callConn(tabB.page, "accessToken")]);
    assert.equal(a.code, undefined, a.message);
    assert.equal(b.code, undefined, b.message);
    assert.equal(server.provider.stats.tokenRequests.refresh_token, 1, "single-flight across tabs");
    assert.equal(refreshRequests()[0].ok, true);
    assert.notEqual(a.value, tabA.tokens.accessToken);
    assert.equal(a.value, b.value);
    for (const tab of [tabA, tabB]) {
      assert.equal((await tab.page.evaluate(() => window.conn.tokens())).accessToken, a.value);
      assert.equal(await tab.page.textContent("#status"), "connected");
    }
    assert.ok([...tabA.events, ...tabB.events].some((e) => e.name === "refresh"), "a refresh event");
  });

  test("within one tab, concurrent accessToken() calls share one refresh; the rotated refresh token works next time", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page, tokens } = await connectedTab(context);
    await untilDue(tokens);
    server.provider.resetStats();
    const tokensNow = await page.evaluate(() => Promise.all([1, 2, 3].map(() => window.conn.accessToken())));
    assert.equal(new Set(tokensNow).size, 1);
    assert.notEqual(tokensNow[0], tokens.accessToken);
    assert.equal(server.provider.stats.tokenRequests.refresh_token, 1);

    // The next refresh uses the rotated refresh token (the old one would be invalid_grant).
    const second = await callConn(page, "refresh");
    assert.equal(second.code, undefined, second.message);
    assert.notEqual(second.value.accessToken, tokensNow[0]);
    assert.deepEqual(refreshRequests().map((r) => r.ok), [true, true]);
  });

  test("a revoked grant: refresh() rejects reconnect_required, status follows, nothing more is tried", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page, events, tokens } = await connectedTab(context);
    assert.ok((await server.provider.revokeAllGrants()) >= 1);
    server.provider.resetStats();

    const refused = await callConn(page, "refresh");
    assert.equal(refused.code, "reconnect_required");
    assert.equal(await page.evaluate(() => window.conn.status), "reconnect_required");
    await page.waitForFunction(() => document.querySelector("#status").textContent === "reconnect_required");
    const event = events.find((e) => e.name === "reconnect_required");
    assert.equal(event?.meta.provider, "oidc");
    assert.deepEqual(refreshRequests().map((r) => r.error), ["invalid_grant"]);

    // With the access token due, the app's button gets reconnect_required without a request.
    await untilDue(tokens);
    await page.click("#token");
    const { error } = await outcome(page);
    assert.equal(error?.code, "reconnect_required");
    assert.equal(server.provider.stats.tokenRequests.refresh_token, 1, "no further refresh until a new connect");
  });
});
