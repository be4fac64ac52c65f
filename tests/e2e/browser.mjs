// Shared set-up of the end-to-end tests: Debian's Chromium driven by playwright-core (never a
// downloaded browser), and the demo server on loopback.
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

/** The demo server on free loopback ports. */
export function startServer(options = {}) {
  return startDemoServer({ port: 0, ...options });
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
