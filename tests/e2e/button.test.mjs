// The connect button as a user meets it: by mouse and by keyboard, a double click, every state
// (idle, connecting, connected, error, reconnect, and waiting with Cancel when COOP cut the
// popup), auto mode falling back to redirect under Chromium's real popup blocker, the custom
// element configured through its property, its accessibility tree, and destroy().
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { collectEvents, eventNames, launchChromium, newContext, startServer, until, watchPage } from "./browser.mjs";

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

const BUTTON = ".oauth-connect-button";

async function openButtonPage(context, query = {}, { waitReady = true } = {}) {
  const page = await context.newPage();
  const events = collectEvents(page);
  const problems = watchPage(page);
  await page.goto(`${server.appOrigin}/test/button.html?${new URLSearchParams(query)}`);
  if (waitReady) await page.waitForSelector("body[data-ready=true]", { state: "attached" });
  return { page, events, problems };
}

const stateOf = (page, selector = BUTTON) => page.getAttribute(selector, "data-state");
const outcomes = (page) => page.evaluate(() => window.outcomes);

async function approveIn(popup, button = "#approve") {
  await popup.waitForSelector(button);
  const closed = popup.waitForEvent("close", { timeout: 15_000 });
  await popup.click(button);
  await closed;
}

describe("the connect button", () => {
  test("by mouse: connecting (busy, disabled), then connected; onSuccess once", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page, events, problems } = await openButtonPage(context);
    assert.equal(await stateOf(page), "idle");
    assert.equal(await page.textContent(BUTTON), "Connect");
    const [popup] = await Promise.all([page.waitForEvent("popup"), page.click(BUTTON)]);
    assert.equal(await stateOf(page), "connecting");
    assert.equal(await page.getAttribute(BUTTON, "aria-busy"), "true");
    assert.equal(await page.isDisabled(BUTTON), true);
    await approveIn(popup);
    await page.waitForSelector(`${BUTTON}[data-state=connected]`);
    assert.equal(await page.textContent(BUTTON), "Connected");
    assert.equal(await page.getAttribute(BUTTON, "aria-busy"), null);
    assert.deepEqual((await outcomes(page)).map((o) => o.kind), ["success"]);
    assert.ok((await outcomes(page))[0].value.tokens.accessToken);
    assert.equal(eventNames(events).filter((n) => n === "open").length, 1);
    assert.deepEqual(problems, []);
  });

  test("by keyboard: Tab to the button, Enter opens the popup; Space works too", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page } = await openButtonPage(context);
    await page.focus("#before");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.className), "oauth-connect-button");
    const [popup] = await Promise.all([page.waitForEvent("popup"), page.keyboard.press("Enter")]);
    await approveIn(popup, "#deny");
    await page.waitForSelector(`${BUTTON}[data-state=error]`);
    await page.focus(BUTTON);
    const [again] = await Promise.all([page.waitForEvent("popup"), page.keyboard.press("Space")]);
    await approveIn(again);
    await page.waitForSelector(`${BUTTON}[data-state=connected]`);
  });

  test("a double click starts exactly one flow and opens one popup", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page, events } = await openButtonPage(context);
    const opened = [];
    context.on("page", (p) => p !== page && opened.push(p));
    await page.dblclick(BUTTON);
    await until(() => opened.length >= 1, { what: "the popup" });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(opened.length, 1);
    assert.equal(eventNames(events).filter((n) => n === "open").length, 1);
    await approveIn(opened[0]);
    await page.waitForSelector(`${BUTTON}[data-state=connected]`);
    assert.deepEqual((await outcomes(page)).map((o) => o.kind), ["success"]);
  });

  test("deny shows the error state with its message for screen readers; the user's close goes back to idle", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page } = await openButtonPage(context);
    const [popup] = await Promise.all([page.waitForEvent("popup"), page.click(BUTTON)]);
    await approveIn(popup, "#deny");
    await page.waitForSelector(`${BUTTON}[data-state=error]`);
    assert.equal(await page.textContent(BUTTON), "Try again");
    assert.match(await page.textContent(".oauth-connect-live"), /access_denied/);
    assert.deepEqual((await outcomes(page)).map((o) => [o.kind, o.value.code]), [["error", "authorization_error"]]);

    const [second] = await Promise.all([page.waitForEvent("popup"), page.click(BUTTON)]);
    await second.waitForSelector("#approve");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await second.close();
    await page.waitForSelector(`${BUTTON}[data-state=idle]`, { timeout: 10_000 });
    assert.deepEqual((await outcomes(page)).at(-1), { kind: "exit", value: { code: "popup_closed", message: (await outcomes(page)).at(-1).value.message } });
  });

  test("reconnect: a revoked grant shows Reconnect; one click starts one fresh flow", { timeout: 40_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page, events } = await openButtonPage(context, { refreshSkewMs: 9_500 });
    const [popup] = await Promise.all([page.waitForEvent("popup"), page.click(BUTTON)]);
    await approveIn(popup);
    await page.waitForSelector(`${BUTTON}[data-state=connected]`);
    await server.provider.revokeAllGrants();
    const refused = await page.evaluate(() => window.conn.refresh().then(() => "token", (e) => e.code));
    assert.equal(refused, "reconnect_required");
    await page.waitForSelector(`${BUTTON}[data-state=reconnect]`);
    assert.equal(await page.textContent(BUTTON), "Reconnect");
    // Nothing retries on its own.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(eventNames(events).filter((n) => n === "open").length, 1);
    const [fresh] = await Promise.all([page.waitForEvent("popup"), page.click(BUTTON)]);
    await approveIn(fresh);
    await page.waitForSelector(`${BUTTON}[data-state=connected]`);
    assert.equal(eventNames(events).filter((n) => n === "open").length, 2);
  });

  test("a provider with COOP: the button waits for the other window and offers Cancel, which aborts", { timeout: 30_000 }, async (t) => {
    server.provider.setCoop(true);
    t.after(() => server.provider.setCoop(false));
    const context = await newContext(browser, t);
    const { page } = await openButtonPage(context);
    const [popup] = await Promise.all([page.waitForEvent("popup"), page.click(BUTTON)]);
    await popup.waitForSelector("#approve");
    await page.waitForSelector(".oauth-connect-cancel:not([hidden])");
    assert.equal(await page.textContent(BUTTON), "Waiting for the other window…");
    assert.equal(await stateOf(page), "connecting");
    await page.click(".oauth-connect-cancel");
    await page.waitForSelector(`${BUTTON}[data-state=idle]`);
    assert.equal(await page.isHidden(".oauth-connect-cancel"), true);
    assert.deepEqual((await outcomes(page)).map((o) => [o.kind, o.value.code]), [["exit", "aborted"]]);
  });

  test("auto mode under Chromium's real popup blocker falls back to a redirect", { timeout: 30_000 }, async (t) => {
    const blocking = await launchChromium({ popupBlocker: true });
    t.after(() => blocking.close());
    const context = await newContext(blocking, t);
    // The page's own timer clicks the button: a script click carries no user gesture.
    const { page, events } = await openButtonPage(context, { mode: "auto", autoClickMs: 800 }, { waitReady: false });
    await page.waitForURL(`${server.provider.issuer}/interaction/**`, { timeout: 15_000 });
    const names = eventNames(events);
    assert.ok(names.includes("popup_blocked") && names.includes("redirect"), names.join(","));
    assert.equal(context.pages().length, 1, "no popup window");
    await page.click("#approve");
    await page.waitForURL(`${server.appOrigin}/test/callback**`);
    await page.waitForSelector("body[data-done]", { state: "attached" });
    assert.equal(await page.getAttribute("#result", "data-outcome"), "success");
  });

  test("the custom element takes its config as a property and dispatches connect-success", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page } = await openButtonPage(context, { element: "1" });
    const inner = "oauth-connect-button >> .oauth-connect-button";
    assert.equal(await page.getAttribute(inner, "part"), "button");
    const [popup] = await Promise.all([page.waitForEvent("popup"), page.click(inner)]);
    await approveIn(popup);
    await page.waitForSelector(`oauth-connect-button >> ${BUTTON}[data-state=connected]`);
    const [success] = await outcomes(page);
    assert.equal(success.kind, "connect-success");
    assert.equal(success.value.provider, "oidc");
    assert.equal(await page.evaluate(() => document.getElementById("element").state), "connected");
    // Styled from outside through ::part(button).
    await page.addStyleTag({ content: "oauth-connect-button::part(button) { outline-color: rgb(1, 2, 3); }" });
    assert.equal(await page.$eval("oauth-connect-button", (el) => getComputedStyle(el.shadowRoot.querySelector("button")).outlineColor), "rgb(1, 2, 3)");
  });

  test("the accessibility tree shows a named button and a status", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page } = await openButtonPage(context);
    const snapshot = await page.locator("#host").ariaSnapshot();
    assert.match(snapshot, /- button "Connect"/);
    assert.match(snapshot, /- status/);
  });

  test("destroy() removes the element, its listeners and timers; a click after it starts nothing", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page, events } = await openButtonPage(context, { countTimers: "1" });
    const live = await page.evaluate(() => window.liveIntervals());
    // The core redraws the button when its connection's status changes: nothing polls.
    assert.equal(live, 0, "the button keeps no interval running");
    const after = await page.evaluate(() => {
      const element = window.handle.element;
      window.handle.destroy();
      element.click();
      return { live: window.liveIntervals(), attached: element.isConnected, state: window.handle.state };
    });
    assert.equal(after.live, 0);
    assert.equal(after.attached, false);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(eventNames(events).includes("open"), false);
    assert.equal(context.pages().length, 1);
  });
});

describe("the connect button, more", () => {
  test("no options, or a config that is neither an object nor a Connect: invalid_config from the core, nothing mounted or left behind", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page, problems } = await openButtonPage(context);
    const results = await page.evaluate(async () => {
      const { lib } = await import("/test/common.js");
      const host = document.createElement("div");
      document.body.append(host);
      const tried = [];
      const optionsTried = [undefined, null, {}, ...[undefined, null, "oidc", 5, () => {}, true].map((config) => ({ config }))];
      for (const options of optionsTried) {
        try {
          lib.mountConnectButton(host, options);
          tried.push("mounted");
        } catch (error) {
          tried.push(`${error.name} ${error.code}: ${error.message}`);
        }
      }
      return { tried, children: host.childElementCount };
    });
    const refused = "ConnectError invalid_config: mountConnectButton needs options.config: a provider config or a Connect";
    assert.deepEqual(results.tried, Array(9).fill(refused));
    assert.equal(results.children, 0, "no element left in the target");
    // The page's own button still works: the refusals left the core as it was.
    assert.equal(await stateOf(page), "idle");
    assert.deepEqual(problems, []);
  });

  test("in an in-app browser, auto mode goes straight to a redirect (no popup tried)", { timeout: 30_000 }, async (t) => {
    const context = await browser.newContext({
      userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Instagram 300.0.0",
    });
    t.after(() => context.close());
    const { page, events } = await openButtonPage(context, { mode: "auto" });
    await page.click(BUTTON);
    await page.waitForURL(`${server.provider.issuer}/interaction/**`);
    const names = eventNames(events);
    assert.ok(names.includes("redirect"), names.join(","));
    assert.equal(names.includes("open"), false, "no popup was tried");
    assert.equal(context.pages().length, 1);
  });

  test("CSS custom properties restyle the button", { timeout: 30_000 }, async (t) => {
    const context = await newContext(browser, t);
    const { page } = await openButtonPage(context);
    await page.addStyleTag({ content: "#host { --oauth-connect-bg: rgb(10, 20, 30); --oauth-connect-radius: 3px; }" });
    // The colour eases in (a short transition): wait for it to settle.
    await page.waitForFunction((selector) => getComputedStyle(document.querySelector(selector)).backgroundColor === "rgb(10, 20, 30)", BUTTON);
    assert.equal(await page.$eval(BUTTON, (button) => getComputedStyle(button).borderTopLeftRadius), "3px");
  });
});
