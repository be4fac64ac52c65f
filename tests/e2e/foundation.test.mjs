// The built package in headless Chromium, as an app meets it: the init guard, errors as
// ConnectError instances, the demo page's PKCE pair and authorization URL, and a real round
// trip through the local OpenID provider checked by parseCallback().
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { launchChromium, startServer, watchPage } from "./browser.mjs";

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

const base64url = (buffer) => buffer.toString("base64url");

describe("the package entry", () => {
  test("before init() every export throws ConnectError not_initialized; init() is idempotent", async () => {
    const page = await browser.newPage();
    const problems = watchPage(page);
    await page.goto(`${server.appOrigin}/blank.html`); // nothing has imported the package yet
    const outcome = await page.evaluate(async () => {
      const lib = await import("/pkg/index.js");
      const before = {};
      for (const name of ["createPkce", "pkceChallenge", "randomState", "idempotencyKey", "buildAuthorizeUrl", "parseCallback"]) {
        try {
          lib[name]("x", { state: "s" });
          before[name] = "no error";
        } catch (error) {
          before[name] = [error instanceof lib.ConnectError, error instanceof Error, error.name, error.code];
        }
      }
      const first = lib.default();
      const second = lib.default();
      await first;
      const third = lib.default();
      let afterError;
      try {
        lib.pkceChallenge("too-short");
      } catch (error) {
        afterError = [error instanceof lib.ConnectError, error.name, error.code, error.message];
      }
      return { before, samePromise: first === second && second === third, pair: lib.createPkce(), afterError };
    });
    for (const [name, result] of Object.entries(outcome.before)) {
      assert.deepEqual(result, [true, true, "ConnectError", "not_initialized"], name);
    }
    assert.equal(outcome.samePromise, true);
    assert.equal(outcome.pair.verifier.length, 43);
    assert.equal(outcome.pair.challenge, base64url(createHash("sha256").update(outcome.pair.verifier).digest()));
    assert.deepEqual(outcome.afterError.slice(0, 3), [true, "ConnectError", "invalid_verifier"]);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test("parseCallback errors carry the provider's fields and are ConnectError instances", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.appOrigin}/blank.html`);
    const error = await page.evaluate(async () => {
      const lib = await import("/pkg/index.js");
      await lib.default();
      try {
        lib.parseCallback("https://app.example/cb?error=access_denied&error_description=No&state=s", { state: "s" });
      } catch (e) {
        return { isConnectError: e instanceof lib.ConnectError, code: e.code, error: e.error, description: e.errorDescription, stack: typeof e.stack };
      }
    });
    assert.deepEqual(error, { isConnectError: true, code: "authorization_error", error: "access_denied", description: "No", stack: "string" });
    await page.close();
  });
});

describe("the demo page", () => {
  test("shows a PKCE pair and an authorization URL made by the library", async () => {
    const page = await browser.newPage();
    const problems = watchPage(page);
    await page.goto(`${server.appOrigin}/`);
    await page.waitForSelector("body[data-ready=true]");
    await page.click("details summary"); // "Under the hood"
    const verifier = await page.textContent("#verifier");
    const challenge = await page.textContent("#challenge");
    const state = await page.textContent("#state");
    assert.match(verifier, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(challenge, base64url(createHash("sha256").update(verifier).digest()));
    const url = new URL(await page.textContent("#authorize-url"));
    assert.equal(`${url.origin}${url.pathname}`, `${server.provider.issuer}/auth`);
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      response_type: "code",
      client_id: "oauth-connect-demo",
      redirect_uri: `${server.appOrigin}/callback`,
      scope: "openid profile email",
      state,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    await page.click("#regenerate");
    assert.notEqual(await page.textContent("#verifier"), verifier);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test("approve at the real provider: the callback passes parseCallback with state and iss", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.appOrigin}/`);
    await page.waitForSelector("body[data-ready=true]");
    await page.click("details summary");
    await page.click("#open-provider");
    await page.waitForURL(`${server.provider.issuer}/interaction/**`);
    await page.click("#approve");
    await page.waitForURL(`${server.appOrigin}/callback`);
    await page.waitForSelector("#outcome[data-outcome]");
    assert.equal(await page.getAttribute("#outcome", "data-outcome"), "ok");
    assert.match(await page.textContent("#details"), new RegExp(`iss${server.provider.issuer.replace(/[.:/]/g, "\\$&")}`));
    // The code is gone from the address bar.
    assert.equal(page.url(), `${server.appOrigin}/callback`);
    await context.close();
  });

  test("deny at the real provider: authorization_error with access_denied", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.appOrigin}/`);
    await page.waitForSelector("body[data-ready=true]");
    await page.click("details summary");
    await page.click("#open-provider");
    await page.waitForURL(`${server.provider.issuer}/interaction/**`);
    await page.click("#deny");
    await page.waitForSelector("#outcome[data-outcome]");
    assert.equal(await page.getAttribute("#outcome", "data-outcome"), "authorization_error");
    assert.match(await page.textContent("#details"), /erroraccess_denied/);
    await context.close();
  });

  test("a forged callback whose state matches no flow is refused as unknown_state", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.appOrigin}/`);
    await page.waitForSelector("body[data-ready=true]");
    await page.goto(`${server.appOrigin}/callback?code=stolen&state=forged&iss=${encodeURIComponent(server.provider.issuer)}`);
    await page.waitForSelector("#outcome[data-outcome]");
    assert.equal(await page.getAttribute("#outcome", "data-outcome"), "unknown_state");
    assert.doesNotMatch(await page.textContent("body"), /stolen/);
    // The forged code left the address bar, and nothing was redeemed.
    assert.equal(page.url(), `${server.appOrigin}/callback`);
    assert.equal(server.provider.stats.tokenRequests.authorization_code, 0);
    await context.close();
  });
});
