// The demo page (the README's main command) clicked through as a developer evaluating the library
// would: every provider's button, what each connection shows, Torque's idempotent execute,
// and the reconnect paths of the OpenID provider and Turnqey.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchChromium, newContext, startServer, watchPage } from "./browser.mjs";

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


const connected = (card) => `#card-${card} .oauth-connect-button[data-state=connected]`;

async function connectIn(page, card, { closeAfterMs } = {}) {
  const [popup] = await Promise.all([page.waitForEvent("popup"), page.click(`#card-${card} .oauth-connect-button`)]);
  await popup.waitForSelector("#approve");
  const closed = popup.waitForEvent("close", { timeout: 15_000 });
  await popup.click("#approve");
  if (closeAfterMs) {
    await new Promise((resolve) => setTimeout(resolve, closeAfterMs));
    if (!popup.isClosed()) await popup.close();
  }
  await closed;
  await page.waitForSelector(connected(card));
}

test("the demo: four providers connect, show their results, and the reconnect paths work", { timeout: 90_000 }, async (t) => {
  const context = await newContext(browser, t);
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.goto(`${server.appOrigin}/`);
  await page.waitForSelector("body[data-ready=true]");
  for (const card of ["oidc", "torque", "turnqey", "liquid"]) await connectIn(page, card);

  assert.match(await page.textContent('#card-oidc [data-field="user"]'), /alice/);
  assert.match(await page.textContent('#card-oidc [data-field="expiry"]'), /expires in \d+ s/);
  assert.match(await page.textContent('#card-torque [data-field="claims"]'), /scope wallet:read transfers:execute/);
  assert.match(await page.textContent('#card-turnqey [data-field="collection"]'), /^[0-9a-f-]{36}$/);
  assert.match(await page.textContent('#card-liquid [data-field="identity"]'), /user_session/);
  assert.doesNotMatch(await page.textContent("body"), /sk_test|sk_live/);

  // Torque: the same Idempotency-Key twice is one transfer.
  await page.click('#card-torque [data-action="transfer"]');
  await page.waitForFunction(() => document.querySelector('#card-torque [data-field="transfer"]').textContent.startsWith("tr_"));
  await page.click('#card-torque [data-action="retry"]');
  await page.waitForFunction(() => /replayed/.test(document.querySelector('#card-torque [data-field="transfer"]').textContent));

  // OpenID provider: revoked at the provider; the next refresh finds out; Reconnect shows.
  await page.click('#card-oidc [data-action="revoke"]');
  await page.waitForFunction(() => /revoked/.test(document.querySelector("#card-oidc .note").textContent));
  await page.click('#card-oidc [data-action="refresh"]');
  await page.waitForSelector("#card-oidc .oauth-connect-button[data-state=reconnect]");
  await connectIn(page, "oidc");

  // Turnqey: revoked at the exchange; the app checks; Reconnect shows; one click relinks.
  await page.click('#card-turnqey [data-action="revoke"]');
  await page.waitForFunction(() => /revoked Turnqey/.test(document.querySelector("#card-turnqey .note").textContent));
  await page.click('#card-turnqey [data-action="check"]');
  await page.waitForSelector("#card-turnqey .oauth-connect-button[data-state=reconnect]");
  const collection = await page.textContent('#card-turnqey [data-field="collection"]');
  await connectIn(page, "turnqey");
  assert.equal(await page.textContent('#card-turnqey [data-field="collection"]'), collection, "the same collection");

  assert.ok((await page.locator("#events li").count()) > 10);
  // The refused refresh is a 400 from the token endpoint, which Chromium logs; nothing else.
  assert.deepEqual(problems.filter((p) => !/status of 400/.test(p)), []);
});
