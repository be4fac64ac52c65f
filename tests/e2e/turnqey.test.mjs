// Connect a Turnqey account (kind "turnqey") as a user does it, in headless Chromium, against the
// local Turnqey sandbox (www/sandboxes/turnqey.mjs) and the app's backend routes
// (www/backend/turnqey.mjs): popup and redirect, deny, a checksum the sandbox refuses, a client
// the backend does not own, an existing collection, and the revoke -> reconnect path.
// The test app is pages/app.html?kind=turnqey&variant=…; the variants are in
// www/integrations/turnqey.mjs.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  answerInPopup, callbackOutcome, eventNames, findLeaks, inOrder, launchChromium, localStorageEntries, newContext,
  openApp, outcome, recordRequests, startServer, until,
} from "./browser.mjs";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// provider-flows.md, "Turnqey" step 2: the document's example order.
const AUTHORIZE_ORDER = ["client", "platform", "state", "identity", "checksum"];
const AUTHORIZE_ORDER_WITH_COLLECTION = ["client", "platform", "collection", "state", "identity", "checksum"];

let server;
let browser;
let turnqey; // the integration's handle: sandbox stats and knobs

before(async () => {
  server = await startServer();
  browser = await launchChromium();
  turnqey = server.integrations.turnqey;
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const isAuthorize = (url) => url.startsWith(`${turnqey.authorizeUrl}?`);
/** Every authorization request the browser made, as ordered [name, value] pairs. */
const authorizeRequests = (requests) => requests.filter(isAuthorize).map((url) => [...new URL(url).searchParams]);

/** Click the app's popup button and return the popup once Turnqey's consent page shows. */
async function startPopup(page) {
  const [popup] = await Promise.all([page.waitForEvent("popup"), page.click("#popup")]);
  await popup.waitForURL((url) => isAuthorize(url.href));
  await popup.waitForSelector("#approve");
  return popup;
}

/** The app asks its backend about the collection, as a real app would, and reacts to a revocation. */
function checkCollection(page, collection) {
  return page.evaluate(async (id) => {
    const reply = await fetch("/api/turnqey/collection", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id }),
    });
    const body = await reply.json();
    if (body.reconnectRequired) window.conn.requireReconnect();
    return body;
  }, collection);
}

/** No failure, close or severed-popup event; every event is tagged turnqey/mode. */
function assertCleanEvents(events, mode) {
  const names = eventNames(events);
  assert.deepEqual(names.filter((n) => ["error", "exit", "popup_severed"].includes(n)), [], names.join(","));
  for (const { name, meta } of events) {
    assert.equal(meta.provider, "turnqey", name);
    assert.equal(meta.mode, mode, name);
  }
}

describe("turnqey: popup", () => {
  test("approve: a new collection, status=connected, an active connection at Turnqey", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const requests = recordRequests(context);
    const { page, events, problems } = await openApp(context, server, { kind: "turnqey" });
    turnqey.resetStats();

    const popup = await startPopup(page);
    assert.equal(await page.textContent("#status"), "connecting");
    assert.equal(
      await popup.textContent("#permissions"),
      "Turnqey will read balances and transactions. It cannot trade, withdraw, transfer or see private keys.",
    );
    assert.equal(await popup.textContent("#platform"), "Coinbase");

    // The authorization request: the document's parameters, in its order, signed by the backend.
    const [sent, ...more] = authorizeRequests(requests);
    assert.equal(more.length, 0);
    assert.deepEqual(sent.map(([name]) => name), AUTHORIZE_ORDER);
    const authorize = Object.fromEntries(sent);
    assert.equal(authorize.client, "test-client");
    assert.equal(authorize.platform, "coinbase");
    assert.equal(authorize.identity, "user-42");
    assert.ok(authorize.state.length >= 22, "a state of at least 128 bits");
    assert.match(authorize.checksum, /^[0-9a-f]{64}$/);
    // The backend was asked for exactly these parameters (no collection: none known yet).
    assert.deepEqual(turnqey.checksumLog.map(({ body, status }) => ({ body, status })), [
      { body: { client: "test-client", platform: "coinbase", identity: "user-42", state: authorize.state }, status: 200 },
    ]);
    assert.deepEqual(Object.keys(turnqey.checksumLog[0].body).sort(), ["client", "identity", "platform", "state"]);

    await answerInPopup(popup);
    const { result, error } = await outcome(page);
    assert.equal(error, undefined);
    assert.equal(result.provider, "turnqey");
    assert.equal(result.state, authorize.state);
    assert.match(result.collection, UUID);
    assert.deepEqual(result.params, {
      state: authorize.state, collection: result.collection, identity: "user-42", platform: "coinbase", status: "connected",
    });
    assert.equal(await page.textContent("#status"), "connected");

    // What Turnqey holds now.
    assert.deepEqual(turnqey.collection(result.collection), {
      collection: result.collection, identity: "user-42", connections: [{ platform: "coinbase", status: "active" }],
    });
    assert.deepEqual(turnqey.stats.decisions.map((d) => [d.decision, d.collection]), [["approve", result.collection]]);

    const names = eventNames(events);
    assert.ok(inOrder(names, ["open", "success"]), names.join(","));
    assertCleanEvents(events, "popup");
    // The checksum is no secret of the user's, but no event or storage holds it (API.md, Errors).
    assert.deepEqual(findLeaks(events, { secrets: [authorize.checksum] }), []);
    assert.deepEqual(findLeaks(await localStorageEntries(page), { secrets: [authorize.checksum] }), []);
    assert.deepEqual(problems, []);
  });

  test("deny at Turnqey: authorization_error access_denied, nothing connected", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page, events } = await openApp(context, server, { kind: "turnqey" });
    turnqey.resetStats();
    await answerInPopup(await startPopup(page), "#deny");
    const { error } = await outcome(page);
    assert.equal(error?.code, "authorization_error");
    assert.equal(error.error, "access_denied");
    const failure = events.find((e) => e.name === "error");
    assert.deepEqual([failure?.meta.code, failure?.meta.mode], ["authorization_error", "popup"]);
    assert.equal(eventNames(events).includes("exit"), false, "a denial is not a close");
    assert.equal(eventNames(events).includes("success"), false);
    assert.notEqual(await page.textContent("#status"), "connecting");
    assert.notEqual(await page.textContent("#status"), "connected");
    assert.deepEqual(turnqey.stats.decisions.map((d) => [d.decision, d.collection]), [["deny", undefined]]);
  });

  test("a wrong checksum from the backend: Turnqey refuses it, the flow rejects authorization_error invalid_checksum", { timeout: 30_000 }, async (t) => {
    turnqey.tamperChecksum = true;
    t.after(() => { turnqey.tamperChecksum = false; });
    const context = await newContext(browser, t);
    const requests = recordRequests(context);
    const { page, events } = await openApp(context, server, { kind: "turnqey" });
    turnqey.resetStats();

    const closed = page.waitForEvent("popup").then((popup) => popup.waitForEvent("close", { timeout: 15_000 }));
    await page.click("#popup");
    const { error } = await outcome(page);
    await closed; // the callback page relayed Turnqey's answer and closed the window
    assert.equal(error?.code, "authorization_error");
    assert.equal(error.error, "invalid_checksum");

    // Turnqey saw the request, refused it without showing the consent page, and recorded why.
    const [sent] = authorizeRequests(requests);
    const authorize = Object.fromEntries(sent);
    assert.equal(turnqey.stats.authorizeRequests, 1);
    assert.deepEqual(turnqey.stats.authorizeLog.map((e) => e.outcome), ["invalid_checksum"]);
    assert.deepEqual(turnqey.stats.refusals.map(({ client, error: e, state }) => ({ client, error: e, state })), [
      { client: "test-client", error: "invalid_checksum", state: authorize.state },
    ]);
    assert.deepEqual(turnqey.stats.decisions, []);
    assert.equal((await page.textContent("#error")).includes(authorize.checksum), false, "the message holds no checksum");
    assert.deepEqual(findLeaks(events, { secrets: [authorize.checksum] }), []);
    const failure = events.find((e) => e.name === "error");
    assert.equal(failure?.meta.code, "authorization_error");
    assert.notEqual(await page.textContent("#status"), "connected");
  });

  test("a client the backend does not own: token_error 403 from the checksum endpoint, Turnqey never asked", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const requests = recordRequests(context);
    const { page, events } = await openApp(context, server, { kind: "turnqey", variant: "foreign" });
    turnqey.resetStats();
    const popupOpened = page.waitForEvent("popup");
    await page.click("#popup");
    const { error } = await outcome(page);
    assert.equal(error?.code, "token_error");
    assert.equal(error.error, "unknown_client");
    assert.equal(await page.evaluate(() => window.lastError.status), 403);
    assert.deepEqual(turnqey.checksumLog.map((e) => [e.body.client, e.status]), [["someone-elses-client", 403]]);
    assert.equal(turnqey.stats.authorizeRequests, 0);
    assert.deepEqual(authorizeRequests(requests), []);
    assert.equal(events.find((e) => e.name === "error")?.meta.code, "token_error");
    // The window opened in the click is not left behind, blank.
    const popup = await popupOpened;
    await until(() => popup.isClosed(), { timeout: 5_000, what: "the blank popup to close" });
  });

  test("an existing collection in the config: sent to the backend and Turnqey, the new connection joins it", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const requests = recordRequests(context);
    const { page, events } = await openApp(context, server, { kind: "turnqey", variant: "existing" });
    turnqey.resetStats();
    const existing = turnqey.existingCollection;

    const popup = await startPopup(page);
    const [sent] = authorizeRequests(requests);
    assert.deepEqual(sent.map(([name]) => name), AUTHORIZE_ORDER_WITH_COLLECTION);
    const authorize = Object.fromEntries(sent);
    assert.equal(authorize.collection, existing);
    assert.deepEqual(turnqey.checksumLog.map((e) => e.body), [
      { client: "test-client", platform: "coinbase", identity: "user-42", collection: existing, state: authorize.state },
    ]);
    await answerInPopup(popup);
    const { result, error } = await outcome(page);
    assert.equal(error, undefined);
    assert.equal(result.collection, existing);
    assert.equal(result.params.collection, existing);
    assert.equal(result.params.status, "connected");
    const connections = turnqey.collection(existing).connections;
    assert.deepEqual(connections.find((c) => c.platform === "gemini"), { platform: "gemini", status: "active" }, "the prior one kept");
    assert.deepEqual(connections.find((c) => c.platform === "coinbase"), { platform: "coinbase", status: "active" });
    assertCleanEvents(events, "popup");
  });
});

describe("turnqey: redirect", () => {
  test("approve: back on the callback page with the collection; the address bar cleaned; returnTo kept", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const requests = recordRequests(context);
    const { page, events } = await openApp(context, server, { kind: "turnqey" });
    turnqey.resetStats();
    await page.click("#redirect");
    await page.waitForURL((url) => isAuthorize(url.href));
    await page.click("#approve");
    await page.waitForURL((url) => url.pathname === "/test/callback");
    const { result, error } = await callbackOutcome(page);
    assert.equal(error, undefined);

    const [sent, ...more] = authorizeRequests(requests);
    assert.equal(more.length, 0);
    assert.deepEqual(sent.map(([name]) => name), AUTHORIZE_ORDER);
    const authorize = Object.fromEntries(sent);
    // Turnqey answered on test-client's registered return URL.
    const answered = requests.find((u) => u.startsWith(`${server.appOrigin}/test/callback?`));
    assert.deepEqual([...new URL(answered).searchParams].map(([name]) => name), ["state", "collection", "identity", "platform", "status"]);

    assert.equal(result.provider, "turnqey");
    assert.equal(result.state, authorize.state);
    assert.match(result.collection, UUID);
    assert.equal(result.params.status, "connected");
    assert.equal(result.params.collection, result.collection);
    assert.equal(result.returnTo, "/test/app.html?kind=turnqey");
    assert.deepEqual(turnqey.collection(result.collection).connections, [{ platform: "coinbase", status: "active" }]);

    const names = eventNames(events);
    assert.ok(inOrder(names, ["redirect", "success"]), names.join(","));
    assertCleanEvents(events, "redirect");
    assert.deepEqual(findLeaks(events, { secrets: [authorize.checksum] }), []);

    // Every parameter Turnqey returned is an authorization-response parameter (they are all in
    // `params`); none is the app's own, so none stays in the address bar (API.md, handleCallback).
    const shown = new URL(page.url());
    assert.equal(shown.pathname, "/test/callback");
    assert.equal(shown.search, "", "the Turnqey parameters are gone from the address bar");
  });
});

describe("turnqey: revoked at the source, then reconnect", () => {
  test("the app learns of the revocation, shows reconnect, waits for the user, and reconnects into the same collection", { timeout: 45_000 }, async (t) => {
    const context = await newContext(browser, t);
    const requests = recordRequests(context);
    const { page, events } = await openApp(context, server, { kind: "turnqey" });
    const popups = [];
    page.on("popup", (p) => popups.push(p));

    // 1. Connect.
    await answerInPopup(await startPopup(page));
    const first = await outcome(page);
    assert.equal(first.error, undefined);
    const { collection } = first.result;
    assert.match(collection, UUID);
    assert.equal(await page.textContent("#status"), "connected");
    assert.equal((await checkCollection(page, collection)).reconnectRequired, false);

    // 2. The source platform revokes (the demo control stands in for it).
    const revoked = await fetch(`${server.appOrigin}/api/turnqey/revoke`, {
      method: "POST", headers: { "content-type": "application/json", cookie: server.signIn() }, body: JSON.stringify({ collection }),
    });
    assert.equal(revoked.status, 200);
    assert.deepEqual(turnqey.collection(collection).connections, [{ platform: "coinbase", status: "revoked" }]);

    // 3. The app learns it from its backend and calls conn.requireReconnect().
    turnqey.resetStats();
    const seen = await checkCollection(page, collection);
    assert.equal(seen.reconnectRequired, true);
    assert.deepEqual(seen.connections, [{ platform: "coinbase", status: "revoked" }]);
    assert.equal(await page.evaluate(() => window.conn.status), "reconnect_required");
    await until(async () => (await page.textContent("#status")) === "reconnect_required", { what: "#status to show it" });
    const marked = events.filter((e) => e.name === "reconnect_required");
    assert.equal(marked.length, 1, eventNames(events).join(","));
    assert.equal(marked[0].meta.provider, "turnqey");

    // 4. Nothing happens by itself: no retry, no new window, no request to the backend or Turnqey.
    const requestsBefore = requests.length;
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    assert.equal(turnqey.stats.authorizeRequests, 0, "no authorization request on its own");
    assert.equal(turnqey.checksumLog.length, 0, "no checksum request on its own");
    assert.deepEqual(requests.slice(requestsBefore), []);
    assert.equal(popups.length, 1, "no new window");
    assert.equal(await page.evaluate(() => window.conn.status), "reconnect_required");

    // 5. One click: exactly one new flow, into the same collection.
    const authorizeBefore = authorizeRequests(requests).length;
    const popup = await startPopup(page);
    const [sent, ...extra] = authorizeRequests(requests).slice(authorizeBefore);
    assert.equal(extra.length, 0);
    assert.deepEqual(sent.map(([name]) => name), AUTHORIZE_ORDER_WITH_COLLECTION);
    const authorize = Object.fromEntries(sent);
    assert.equal(authorize.collection, collection, "the reconnect carries the same collection");
    assert.notEqual(authorize.state, first.result.state, "a fresh state");
    assert.deepEqual(turnqey.checksumLog.map((e) => e.body), [
      { client: "test-client", platform: "coinbase", identity: "user-42", collection, state: authorize.state },
    ]);
    await answerInPopup(popup);
    const second = await outcome(page);
    assert.equal(second.error, undefined);
    assert.equal(second.result.collection, collection);
    assert.equal(second.result.params.status, "connected");
    assert.equal(turnqey.stats.authorizeRequests, 1, "exactly one new flow");
    assert.equal(popups.length, 2);

    // 6. Active again, in the same collection, and the app sees it.
    assert.deepEqual(turnqey.collection(collection).connections, [{ platform: "coinbase", status: "active" }]);
    assert.equal(await page.evaluate(() => window.conn.status), "connected");
    assert.equal((await checkCollection(page, collection)).reconnectRequired, false);
    const names = eventNames(events);
    assert.ok(inOrder(names, ["open", "success", "reconnect_required", "open", "success"]), names.join(","));
    assert.equal(names.includes("error"), false);
  });
});
