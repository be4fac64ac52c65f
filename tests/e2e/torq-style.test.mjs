// Torq-style OAuth 2.0 integrations (seed 001): an `oauth2` config with provider extras
// (access_type=offline, token_access_type=offline, prompt=consent), and an access token kept
// valid by accessToken() across several expiries with no user action, checked at the
// provider's userinfo endpoint. Its client-credentials grant is server-side: refused here.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchChromium, newContext, recordRequests, queryOf, startServer } from "./browser.mjs";

const TTL_SECONDS = 3;

let server;
let browser;

before(async () => {
  server = await startServer({ accessTokenTtlSeconds: TTL_SECONDS });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const userinfo = (token) => fetch(`${server.provider.issuer}/me`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test("provider extras are sent, and accessToken() keeps a token valid across four expiries with no user action", { timeout: 60_000 }, async (t) => {
  const context = await newContext(browser, t);
  const requests = recordRequests(context);
  const page = await context.newPage();
  await page.goto(`${server.appOrigin}/blank.html`);
  const issuer = server.provider.issuer;
  const config = {
    kind: "oauth2",
    authorizationEndpoint: `${issuer}/auth`,
    tokenEndpoint: `${issuer}/token`,
    issuer,
    clientId: "oauth-connect-demo",
    redirectUri: `${server.appOrigin}/test/callback`,
    scope: ["openid", "profile"],
    extraParams: { access_type: "offline", token_access_type: "offline", prompt: "consent" },
    refreshSkewMs: 1_000,
  };
  const [popup] = await Promise.all([
    page.waitForEvent("popup"),
    page.evaluate(async (config) => {
      const lib = await import("/pkg/index.js");
      await lib.default();
      window.refreshes = 0;
      window.conn = new lib.Connect({ ...config, onEvent: (name) => name === "refresh" && (window.refreshes += 1) });
      window.connected = window.conn.popup();
    }, config),
  ]);
  await popup.waitForSelector("#approve");
  await popup.click("#approve");
  const first = await page.evaluate(() => window.connected.then((r) => r.tokens.accessToken));
  const authorize = queryOf(requests, `${issuer}/auth?`);
  assert.deepEqual([authorize.access_type, authorize.token_access_type, authorize.prompt], ["offline", "offline", "consent"]);
  assert.equal(await userinfo(first), 200);

  server.provider.resetStats();
  const seen = [first];
  for (let expiry = 1; expiry <= 4; expiry += 1) {
    // Past the expiry the token endpoint gave (expires_in): the token is due, not merely near it.
    const expiresAt = await page.evaluate(() => window.conn.tokens().expiresAt);
    assert.ok(expiresAt <= Date.now() + TTL_SECONDS * 1000 + 500, "a short-lived token");
    await sleep(Math.max(0, expiresAt - Date.now()) + 200);
    const token = await page.evaluate(() => window.conn.accessToken());
    assert.ok(!seen.includes(token), "a new token");
    assert.equal(await userinfo(token), 200, `token ${expiry + 1} is valid at the provider`);
    seen.push(token);
  }
  assert.equal(server.provider.stats.tokenRequests.refresh_token, 4);
  assert.equal(await page.evaluate(() => window.refreshes), 4);
  assert.equal(context.pages().length, 1, "no window opened after the first connect");
});

test("the client-credentials grant and a client secret are refused in the browser as insecure_config", { timeout: 30_000 }, async (t) => {
  const context = await newContext(browser, t);
  const page = await context.newPage();
  await page.goto(`${server.appOrigin}/blank.html`);
  const outcome = await page.evaluate(async (issuer) => {
    const lib = await import("/pkg/index.js");
    await lib.default();
    const base = { kind: "oauth2", authorizationEndpoint: `${issuer}/auth`, tokenEndpoint: `${issuer}/token`, clientId: "c", redirectUri: "http://localhost/cb" };
    const codes = [];
    for (const extra of [{ grant: "client_credentials" }, { clientSecret: "a-secret-value" }]) {
      try {
        new lib.Connect({ ...base, ...extra });
        codes.push("accepted");
      } catch (error) {
        codes.push([error.code, /server/.test(error.message), error.message.includes("a-secret-value")]);
      }
    }
    return codes;
  }, server.provider.issuer);
  assert.deepEqual(outcome, [["insecure_config", true, false], ["insecure_config", true, false]]);
});
