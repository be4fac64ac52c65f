// Shared set-up of the end-to-end tests: Debian's Chromium driven by playwright-core (never a
// downloaded browser), and the demo server on loopback.
import { createHash } from "node:crypto";
import { chromium } from "playwright-core";
import { startDemoServer } from "../../www/server.mjs";

// The flags of the project's webdriver.json; without the background-networking ones Chromium
// tries to reach Google's hosts, which this machine's closed network refuses.
export const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/**
 * Launch Chromium. Playwright adds `--disable-popup-blocking` by default; `popupBlocker: true`
 * removes it so that Chromium's real popup blocker applies.
 */
export function launchChromium({ popupBlocker = false } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    ignoreDefaultArgs: popupBlocker ? ["--disable-popup-blocking"] : [],
  });
}

/** The demo server on free loopback ports, with the test pages (pages/) at /test/. */
export function startServer(options = {}) {
  return startDemoServer({ port: 0, testPages: true, ...options });
}

/** Collect page errors and console errors so a test can assert there were none. */
export function watchPage(page) {
  const problems = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  return problems;
}

// ---- The flow tests' helpers (flows*.test.mjs). The pages they drive are in pages/. ----

/** S256 PKCE challenge of a verifier (RFC 7636 §4.2). */
export const s256 = (verifier) => createHash("sha256").update(verifier).digest("base64url");

const EVENT_PREFIX = "oauth-connect-event ";

/**
 * The onEvent calls a test page logs to the console (pages/common.js): `[{ name, meta, page }]`.
 * Read on the Node side, so they survive the page navigating away, and reading them does not
 * touch the page (every Playwright call into a page counts as a user gesture).
 */
export function collectEvents(page) {
  const events = [];
  page.on("console", (message) => {
    const text = message.text();
    if (text.startsWith(EVENT_PREFIX)) events.push(JSON.parse(text.slice(EVENT_PREFIX.length)));
  });
  return events;
}

export const eventNames = (events) => events.map((event) => event.name);

/** Poll `check` (on the Node side) until it returns something truthy, and return that. */
export async function until(check, { timeout = 10_000, what = "a condition" } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every URL the context's pages (popups included) request, in order. */
export function recordRequests(context) {
  const urls = [];
  context.on("request", (request) => urls.push(request.url()));
  return urls;
}

/** The query of the first recorded request to `prefix` (e.g. the authorization endpoint). */
export function queryOf(urls, prefix) {
  const url = urls.find((u) => u.startsWith(prefix));
  return url ? Object.fromEntries(new URL(url).searchParams) : null;
}

/**
 * Open the test app (pages/app.js documents `query`) in a new page of `context` and, unless
 * `waitReady` is false, wait until its `Connect` exists.
 */
export async function openApp(context, server, query = {}, { waitReady = true } = {}) {
  const page = await context.newPage();
  const events = collectEvents(page);
  const problems = watchPage(page);
  await page.goto(`${server.appOrigin}/test/app.html?${new URLSearchParams(query)}`);
  if (waitReady) await appReady(page);
  return { page, events, problems };
}

export async function appReady(page) {
  await page.waitForSelector("body[data-ready]", { state: "attached" });
  if ((await page.getAttribute("body", "data-ready")) !== "true") {
    throw new Error(`the test app did not start: ${await page.textContent("#error")}`);
  }
}

/**
 * How the page's last action ended, as it shows it: `{ result }` (the ConnectResult, or null)
 * or `{ error: { code, error?, text } }`. Waits for one.
 */
export async function outcome(page, { timeout = 15_000 } = {}) {
  await page.waitForSelector("#result[data-outcome], #error[data-code]", { state: "attached", timeout });
  const code = await page.getAttribute("#error", "data-code");
  if (code) {
    const error = (await page.getAttribute("#error", "data-error")) || undefined;
    return { error: { code, error, text: await page.textContent("#error") } };
  }
  return { result: JSON.parse(await page.textContent("#result")) };
}

/** The callback page's answer (pages/callback.js), once handleCallback() has settled. */
export async function callbackOutcome(page) {
  await page.waitForSelector("body[data-done]", { state: "attached" });
  return outcome(page);
}

/** Click the app's popup button and return the popup once the provider's consent page shows. */
export async function startPopup(page, server) {
  const [popup] = await Promise.all([page.waitForEvent("popup"), page.click("#popup")]);
  await popup.waitForURL(`${server.provider.issuer}/interaction/**`);
  await popup.waitForSelector("#approve");
  return popup;
}

/** Press a button of the provider's consent page and wait for the popup to close itself. */
export async function answerInPopup(popup, button = "#approve") {
  const closed = popup.waitForEvent("close", { timeout: 15_000 });
  await popup.click(button);
  await closed;
}

export async function localStorageEntries(page) {
  return page.evaluate(() => Object.entries(localStorage));
}

/**
 * Where `value` (anything JSON-able) gives away a secret: one of `secrets` (tokens, codes)
 * verbatim, or a PKCE verifier, found as any 43-character run of the verifier alphabet whose
 * S256 hash is `challenge` (the verifier itself is never known to the test).
 */
export function findLeaks(value, { secrets = [], challenge } = {}) {
  const text = JSON.stringify(value) ?? "";
  const leaks = secrets.filter((secret) => secret && text.includes(secret)).map((secret) => `a secret (${secret.length} chars)`);
  if (challenge) {
    for (const run of text.match(/[A-Za-z0-9._~-]{43,}/g) ?? []) {
      for (let i = 0; i + 43 <= run.length; i += 1) {
        if (s256(run.slice(i, i + 43)) === challenge) leaks.push("the PKCE verifier");
      }
    }
  }
  return leaks;
}

/** A fresh context (own cookies and storage: the provider shows its consent page again). */
export async function newContext(browser, t) {
  const context = await browser.newContext();
  context.setDefaultTimeout(15_000);
  t?.after(() => context.close());
  return context;
}

/** Whether `expected` names occur in `names` in this order (other names may come between). */
export function inOrder(names, expected) {
  let at = 0;
  for (const name of names) if (name === expected[at]) at += 1;
  return at === expected.length;
}

/** Decode a JWT's payload (no check: the test reads what the provider put in it). */
export const jwtPayload = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());

/** Call a `conn` method in the page; a rejection comes back as `{ code, message }`. */
export function callConn(page, method) {
  return page.evaluate(
    (name) => window.conn[name]().then((value) => ({ value }), (error) => ({ code: error.code, message: error.message })),
    method,
  );
}
