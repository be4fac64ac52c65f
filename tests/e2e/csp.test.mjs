// The connect button on a strict fintech page: served under the server's strictCsp() (no inline
// script or style, no eval, requests to the app and the provider only, Trusted Types required
// with no policy allowed), the callback page too. Both ways of mounting it get the package's
// stylesheet (a constructed sheet, no <style>), connect through a popup against the real OpenID
// provider, and not one `securitypolicyviolation` fires, in the page, the popup or the callback
// page. A control shows the harness does see a violation when there is one.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { launchChromium, newContext, startServer, until } from "./browser.mjs";

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

const BUTTON = ".oauth-connect-button";
const ELEMENT_BUTTON = "oauth-connect-button >> .oauth-connect-button";
const VIOLATION = "securitypolicyviolation";

/**
 * A context whose every page (the app, its popup, the callback page) reports each CSP violation
 * on its console, and what the pages said about CSP or Trusted Types: `{ context, problems }`.
 */
async function watchedContext(t) {
  const context = await newContext(browser, t);
  await context.addInitScript((prefix) => {
    document.addEventListener(
      "securitypolicyviolation",
      (event) => console.error(`${prefix} ${event.effectiveDirective} blocked ${event.blockedURI || "(inline)"} at ${event.sourceFile}:${event.lineNumber}`),
      true,
    );
  }, VIOLATION);
  const problems = [];
  context.on("console", (message) => {
    const text = message.text();
    if (text.startsWith(VIOLATION) || /Content[- ]Security[- ]Policy|Trusted ?Type/i.test(text)) problems.push(`${message.type()}: ${text}`);
  });
  context.on("weberror", (error) => problems.push(`pageerror: ${error.error().message}`));
  return { context, problems };
}

async function openCspPage(context) {
  const page = await context.newPage();
  const response = await page.goto(`${server.appOrigin}/test/csp/`);
  const policy = response.headers()["content-security-policy"] ?? "";
  assert.match(policy, /require-trusted-types-for 'script'; trusted-types 'none'/, "the page is served under the strict policy");
  assert.match(policy, /style-src 'self';/);
  await page.waitForSelector("body[data-ready]", { state: "attached" });
  assert.equal(await page.getAttribute("body", "data-ready"), "true", await page.textContent("#outcomes"));
  return page;
}

/** Computed styles of the button mounted in #host and of the custom element's, side by side. */
function looks(page) {
  return page.evaluate(() => {
    const pick = (button) => {
      const style = getComputedStyle(button);
      const wrapper = getComputedStyle(button.parentElement);
      return { bg: style.backgroundColor, color: style.color, radius: style.borderTopLeftRadius, outline: style.outlineColor, wrapper: wrapper.display, minHeight: style.minHeight };
    };
    const element = document.getElementById("element");
    return {
      host: pick(document.querySelector("#host .oauth-connect-button")),
      element: pick(element.shadowRoot.querySelector(".oauth-connect-button")),
      styleElements: document.querySelectorAll("style").length + element.shadowRoot.querySelectorAll("style").length,
      documentSheets: document.adoptedStyleSheets.length,
      shadowSheets: element.shadowRoot.adoptedStyleSheets.length,
      sameSheet: document.adoptedStyleSheets[0] === element.shadowRoot.adoptedStyleSheets[0],
    };
  });
}

async function approveIn(popup) {
  await popup.waitForSelector("#approve");
  const closed = popup.waitForEvent("close", { timeout: 15_000 });
  await popup.click("#approve");
  await closed;
}

describe("the connect button under a strict CSP with Trusted Types", () => {
  test("mountConnectButton: styled by the package's sheet, connects through a popup, no violation", { timeout: 40_000 }, async (t) => {
    const { context, problems } = await watchedContext(t);
    const page = await openCspPage(context);
    const light = await looks(page);
    // button.css, light: #3551d6 on white; the page's own sheet sets --oauth-connect-radius on #host.
    assert.deepEqual(light.host, { bg: "rgb(53, 81, 214)", color: "rgb(255, 255, 255)", radius: "3px", outline: light.host.outline, wrapper: "inline-flex", minHeight: "39px" });
    assert.equal(light.styleElements, 0, "no <style> element anywhere");
    assert.equal(light.documentSheets, 1);

    // A second button in the same document adopts nothing more.
    await page.evaluate(() => {
      const second = document.createElement("div");
      document.body.append(second);
      window.lib.mountConnectButton(second, { config: { kind: "oauth2", authorizationEndpoint: "http://127.0.0.1:1/auth", clientId: "x", redirectUri: location.origin + "/test/csp/callback" } });
    });
    assert.equal((await looks(page)).documentSheets, 1, "one sheet per document");

    const [popup] = await Promise.all([page.waitForEvent("popup"), page.click(`#host ${BUTTON}`)]);
    assert.equal(await page.getAttribute(`#host ${BUTTON}`, "data-state"), "connecting");
    await approveIn(popup);
    await page.waitForSelector(`#host ${BUTTON}[data-state=connected]`);
    assert.deepEqual(await page.evaluate(() => window.outcomes.map((o) => o.kind)), ["success"]);
    // connected: #1a7f37 (after the colour's short transition).
    await page.waitForFunction(() => getComputedStyle(document.querySelector("#host .oauth-connect-button")).backgroundColor === "rgb(26, 127, 55)");
    assert.deepEqual(problems, []);
  });

  test("the custom element: styled in its shadow root and through ::part, connects, no violation; dark too", { timeout: 40_000 }, async (t) => {
    const { context, problems } = await watchedContext(t);
    const page = await openCspPage(context);
    const light = await looks(page);
    assert.equal(light.element.bg, "rgb(53, 81, 214)");
    assert.equal(light.element.radius, "10px");
    assert.equal(light.element.outline, "rgb(1, 2, 3)", "the page's ::part(button) rule applies");
    assert.equal(light.shadowSheets, 1);
    assert.equal(light.sameSheet, true, "one constructed sheet per document, shared by its shadow roots");

    await page.emulateMedia({ colorScheme: "dark" });
    // The background eases over (a short transition): wait for it to settle.
    await page.waitForFunction(() => getComputedStyle(document.querySelector("#host .oauth-connect-button")).backgroundColor === "rgb(142, 162, 255)");
    const dark = await looks(page);
    assert.deepEqual([dark.host.bg, dark.host.color, dark.element.bg], ["rgb(142, 162, 255)", "rgb(13, 16, 32)", "rgb(142, 162, 255)"]);
    await page.emulateMedia({ colorScheme: "light" });

    const [popup] = await Promise.all([page.waitForEvent("popup"), page.click(ELEMENT_BUTTON)]);
    await approveIn(popup);
    await page.waitForSelector(`${ELEMENT_BUTTON}[data-state=connected]`);
    const [success] = await page.evaluate(() => window.outcomes);
    assert.equal(success.kind, "connect-success");
    assert.equal(success.value.provider, "oidc");
    assert.deepEqual(problems, []);
  });

  test("control: the harness sees what the policy refuses (an inline <style>, innerHTML)", { timeout: 30_000 }, async (t) => {
    const { context, problems } = await watchedContext(t);
    const page = await openCspPage(context);
    const refused = await page.evaluate(() => {
      const style = document.createElement("style");
      style.textContent = "body { color: rgb(1, 2, 3) }"; // what the button did before
      document.head.append(style);
      let html = "assigned";
      try {
        document.getElementById("outcomes").innerHTML = "<b>x</b>";
      } catch (error) {
        html = error.name;
      }
      return { color: getComputedStyle(document.body).color, html };
    });
    assert.notEqual(refused.color, "rgb(1, 2, 3)", "the inline style was not applied");
    assert.equal(refused.html, "TypeError");
    await until(() => problems.some((p) => p.includes(`${VIOLATION} style-src-elem`)) && problems.some((p) => p.includes(`${VIOLATION} require-trusted-types-for`)), {
      what: "both violations reported",
    });
  });
});
