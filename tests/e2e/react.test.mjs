// The React component under StrictMode, in an app built by Vite from tests/e2e/fixtures/react-app,
// which imports the built package (pkg/) through node_modules the way an app would.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { collectEvents, eventNames, launchChromium, newContext, startServer, until } from "./browser.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const fixture = join(here, "fixtures", "react-app");

let server;
let browser;

before(async () => {
  // node_modules/oauth-connect -> pkg/, as `npm install oauth-connect` would give the app.
  const modules = join(fixture, "node_modules");
  rmSync(modules, { recursive: true, force: true });
  mkdirSync(modules, { recursive: true });
  symlinkSync(join(root, "pkg"), join(modules, "oauth-connect"), "dir");
  const { build } = await import("vite");
  await build({
    root: fixture,
    base: "/test/react/",
    logLevel: "warn",
    // React's development build: the one where StrictMode runs every effect twice.
    mode: "development",
    define: { "process.env.NODE_ENV": JSON.stringify("development") },
    build: { outDir: join(here, "pages", "react"), emptyOutDir: true, target: "es2022" },
  });
  server = await startServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const BUTTON = ".oauth-connect-button";

describe("React", () => {
  test("<ConnectButton> under StrictMode: one button, one popup, one success, no state_mismatch", { timeout: 40_000 }, async (t) => {
    const context = await newContext(browser, t);
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(error.message));
    // useConnect renders on the core's status reports: nothing on the page may poll for them.
    await page.addInitScript(() => {
      window.intervals = 0;
      const setInterval = window.setInterval;
      window.setInterval = (...args) => {
        window.intervals += 1;
        return setInterval(...args);
      };
    });
    await page.goto(`${server.appOrigin}/test/react/`);
    await page.waitForSelector(BUTTON);
    assert.equal(await page.locator(BUTTON).count(), 1, "StrictMode's second mount replaced the first");
    assert.equal(await page.textContent(BUTTON), "Connect with React");
    assert.ok((await page.evaluate(() => window.counts.callbackEffects)) >= 2, "StrictMode ran the effect twice");
    const opened = [];
    context.on("page", (p) => opened.push(p));
    await page.click(BUTTON);
    await until(() => opened.length === 1, { what: "the popup" });
    const [popup] = opened;
    await popup.waitForSelector("#approve");
    const closed = popup.waitForEvent("close");
    await popup.click("#approve"); // back to the fixture page in the popup: it relays and closes
    await closed;
    await page.waitForSelector(`${BUTTON}[data-state=connected]`);
    assert.deepEqual(await page.evaluate(() => window.counts), { success: 1, error: 0, callbackEffects: 2 });
    assert.deepEqual(JSON.parse(await page.textContent("#shown")), { via: "button", provider: "oidc", tokens: true });
    await page.waitForFunction(() => document.querySelector("#status").textContent === "connected");
    assert.equal(await page.evaluate(() => window.intervals), 0, "no setInterval on the page");
    assert.equal(opened.length, 1);
    assert.deepEqual(errors, []);
  });

  test("redirect mode: the page's own callback effect runs twice and completes once", { timeout: 40_000 }, async (t) => {
    const context = await newContext(browser, t);
    const page = await context.newPage();
    const events = collectEvents(page);
    server.provider.resetStats();
    await page.goto(`${server.appOrigin}/test/react/?mode=redirect`);
    await page.click(BUTTON);
    await page.waitForURL(`${server.provider.issuer}/interaction/**`);
    await page.click("#approve");
    await page.waitForURL(`${server.appOrigin}/test/react/**`);
    await page.waitForFunction(() => (document.querySelector("#shown")?.textContent ?? "") !== "");
    assert.deepEqual(JSON.parse(await page.textContent("#shown")), { via: "callback", provider: "oidc", tokens: true });
    assert.equal(server.provider.stats.tokenRequests.authorization_code, 1, "the code was redeemed once");
    assert.equal(new URL(page.url()).search, "");
    assert.equal(eventNames(events).includes("error"), false);
  });
});
