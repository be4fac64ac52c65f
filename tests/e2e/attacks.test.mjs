// Issue 9, hardening: an attacker's moves against the library in headless Chromium, each with
// what is observed. After every case: no token, code or PKCE verifier in the address bar, the
// tab's history, storage, the events or the console, and the next real connect in the same tab
// (a popup flow against the real OpenID provider) still succeeds.
//
// A case that fails because of a hole in the library is kept and marked `todo` (it runs, and
// says what it saw, without failing the suite); the reason names the hole.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  answerInPopup, callbackOutcome, eventNames, findLeaks, launchChromium, newContext, openApp, outcome,
  startPopup, startServer, until,
} from "./browser.mjs";

let server;
let browser;
let issuer;

before(async () => {
  server = await startServer({ accessTokenTtlSeconds: 300 });
  browser = await launchChromium();
  issuer = server.provider.issuer;
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const ERROR_CODES = new Set([
  "not_initialized", "invalid_config", "insecure_config", "invalid_verifier", "busy", "popup_blocked", "popup_closed",
  "timeout", "aborted", "authorization_error", "state_mismatch", "unknown_state", "already_handled",
  "transaction_expired", "issuer_mismatch", "duplicate_parameter", "missing_code", "invalid_callback",
  "invalid_id_token", "network", "token_error", "reconnect_required",
]);

const callbackBase = () => `${server.appOrigin}/test/callback`;
const isCallbackRequest = (url) => url.startsWith(`${callbackBase()}?`);
const tokenRequests = () => server.provider.stats.tokenRequests.authorization_code;

/**
 * One attack: a fresh context (own storage and provider session), every request and every
 * console line of every page of it recorded, and the test app open in its first tab.
 */
async function scene(t, query = { kind: "oidc" }) {
  const context = await newContext(browser, t);
  const requests = [];
  context.on("request", (request) => requests.push(request.url()));
  const consoleLines = [];
  context.on("page", (page) => page.on("console", (message) => consoleLines.push(message.text())));
  const app = await openApp(context, server, query);
  server.provider.resetStats();
  return { context, requests, consoleLines, ...app, secrets: [] };
}

/**
 * A real popup flow from the app's button: the consent page is answered when the provider
 * shows it (the first flow of a context); later ones the provider answers at once.
 */
async function realConnect(page) {
  const [popup] = await Promise.all([page.waitForEvent("popup"), page.click("#popup")]);
  const closed = popup.waitForEvent("close", { timeout: 20_000 });
  popup.waitForSelector("#approve", { timeout: 20_000 }).then(() => popup.click("#approve")).catch(() => {});
  await closed;
  return outcome(page, { timeout: 20_000 });
}

/** The tab's history entries (the address bar of every entry), through the DevTools protocol. */
async function historyOf(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { entries } = await cdp.send("Page.getNavigationHistory");
    return entries.map((entry) => entry.url);
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/**
 * Everything a leak could hide in, for this page: address bar, history, both storages. A redirect
 * transaction still pending (`oauth-connect:tx:<state>` in sessionStorage) holds its PKCE
 * verifier by design (docs/behaviour.md, Storage) and is left out.
 */
async function readable(page) {
  return {
    href: await page.evaluate(() => location.href),
    history: await historyOf(page),
    storage: await page.evaluate(() => ({
      local: Object.entries(localStorage),
      session: Object.entries(sessionStorage).filter(([key]) => !key.startsWith("oauth-connect:tx:")),
    })),
  };
}

/** The secrets of a scene: every code the callback page was sent, every token it was given,
 * and the PKCE challenges (whose verifiers `findLeaks` looks for). */
function secretsOf(s) {
  const codes = s.requests.filter(isCallbackRequest).map((url) => new URL(url).searchParams.get("code")).filter(Boolean);
  const challenges = s.requests
    .filter((url) => url.startsWith(`${issuer}/auth?`))
    .map((url) => new URL(url).searchParams.get("code_challenge"))
    .filter(Boolean);
  return { secrets: [...new Set([...codes, ...s.secrets])], challenges: [...new Set(challenges)] };
}

function leaksIn(value, { secrets, challenges }) {
  const found = new Set(findLeaks(value, { secrets }));
  for (const challenge of challenges) for (const leak of findLeaks(value, { challenge })) found.add(leak);
  return [...found];
}

const tokensOf = (result) => [result?.tokens?.accessToken, result?.tokens?.refreshToken, result?.tokens?.idToken].filter(Boolean);

/**
 * The end of every case: the next real connect in `page` succeeds, and nothing secret is in
 * its address bar, history, storage, the events or the console lines of any page.
 */
async function finish(s, page = s.page) {
  if (!(await page.evaluate(() => Boolean(window.conn)).catch(() => false)) || !page.url().includes("/test/app.html")) {
    await page.goto(`${server.appOrigin}/test/app.html?kind=oidc`);
    await page.waitForSelector("body[data-ready=true]", { state: "attached" });
  }
  const before = tokenRequests();
  const { result, error } = await realConnect(page);
  assert.equal(error, undefined, `the next real connect failed: ${error?.code}: ${error?.text}`);
  assert.ok(result.tokens.accessToken, "the next real connect got tokens");
  assert.equal(tokenRequests(), before + 1, "the next real connect redeemed its code once");
  s.secrets.push(...tokensOf(result));
  const known = secretsOf(s);
  assert.deepEqual(leaksIn(await readable(page), known), [], "address bar, history or storage");
  assert.deepEqual(leaksIn(s.events, known), [], "events");
  assert.deepEqual(leaksIn(s.consoleLines, known), [], "console");
}

/**
 * Serve `html` at `url` (any origin of the test server) from the test, not from a file: the
 * attacker's pages.
 */
async function serve(context, url, html) {
  await context.route(url, (route) => route.fulfill({ status: 200, contentType: "text/html", body: html }));
}

/** The Connect `window.conn2` of `page`: the test config plus `extra` (requestTimeoutMs, ...). */
async function makeConnect(page, extra) {
  await page.evaluate(async (extra) => {
    const lib = await import("/pkg/index.js");
    const { onEvent } = await import("/test/common.js");
    const { test: t } = await fetch("/config.json").then((r) => r.json());
    window.conn2 = new lib.Connect({
      kind: "oidc", issuer: t.issuer, clientId: t.clientId, redirectUri: t.redirectUris.plain,
      scope: ["openid", "profile", "email"], onEvent, ...extra,
    });
  }, extra);
}

/** Run `window.conn2.popup()` in the page; its ending as `{ result }` or `{ error }`. */
function popupOf(page, within) {
  return page.evaluate(
    (within) => {
      const ending = window.conn2.popup().then(
        (result) => ({ result }),
        (e) => ({ error: { code: e.code, message: e.message, isConnectError: e?.name === "ConnectError", status: e.status } }),
      );
      if (!within) return ending;
      const late = new Promise((resolve) => setTimeout(() => resolve({ pending: true }), within));
      return Promise.race([ending, late]);
    },
    within,
  );
}

describe("forged callbacks on the redirect page", () => {
  test("code injection: a callback URL whose state has no transaction is unknown_state; nothing is exchanged", { timeout: 60_000 }, async (t) => {
    const s = await scene(t, { kind: "oidc" });
    // A real redirect flow is pending in this tab, for another state.
    await s.page.click("#redirect");
    await s.page.waitForURL(`${issuer}/interaction/**`);
    const injected = `${callbackBase()}?code=injected-code-1234567890&state=attacker-state-1234567890&iss=${encodeURIComponent(issuer)}`;
    await s.page.goto(injected);
    const { error } = await callbackOutcome(s.page);
    assert.equal(error?.code, "unknown_state");
    assert.equal(tokenRequests(), 0, "nothing was exchanged");
    assert.doesNotMatch(error.text, /injected-code/);
    assert.doesNotMatch(await s.page.textContent("body"), /injected-code/);
    assert.doesNotMatch(s.page.url(), /injected-code/, "the injected code left the address bar");
    assert.deepEqual((await historyOf(s.page)).filter((url) => url.includes("injected-code")), [], "nor is it in the history");
    await finish(s);
  });

  test("a state from another tab: tab A's transaction replayed in tab B's callback is refused, and A can still finish", { timeout: 60_000 }, async (t) => {
    const s = await scene(t, { kind: "oidc" });
    const tabA = s.page;
    // Tab A goes to the provider by redirect: its transaction is in A's sessionStorage. The
    // attacker gets A's consent page answered in tab B (the same browser, the provider's cookies):
    // the provider sends tab B to the callback page with a real code for A's state.
    await tabA.click("#redirect");
    await tabA.waitForURL(`${issuer}/interaction/**`);
    await tabA.waitForSelector("#approve");
    const tabB = await s.context.newPage();
    const eventsB = [];
    tabB.on("console", (m) => m.text().startsWith("oauth-connect-event ") && eventsB.push(JSON.parse(m.text().slice(20))));
    await tabB.goto(tabA.url());
    await tabB.click("#approve");
    await tabB.waitForURL((url) => url.pathname === "/test/callback");
    const caught = s.requests.find(isCallbackRequest);
    assert.ok(new URL(caught).searchParams.get("code"), "tab B was sent a real code for A's state");
    const { error } = await callbackOutcome(tabB);
    assert.equal(error?.code, "unknown_state", error?.text);
    assert.equal(tokenRequests(), 0, "tab B did not redeem tab A's code");
    assert.equal(new URL(tabB.url()).search, "", "the code left tab B's address bar");
    assert.deepEqual(eventsB.filter((e) => e.name === "success"), []);

    // The refusal took nothing from A: its transaction is intact and redeems the code.
    await tabA.goto(caught);
    const a = await callbackOutcome(tabA);
    assert.equal(a.error, undefined, a.error?.text);
    assert.ok(a.result.tokens.accessToken);
    s.secrets.push(...tokensOf(a.result));
    assert.equal(tokenRequests(), 1);
    await finish(s, tabB);
  });

  test("a replayed code: the same callback URL opened twice is already_handled, and elsewhere unknown_state; the provider is asked once", { timeout: 60_000 }, async (t) => {
    const s = await scene(t, { kind: "oidc" });
    await s.page.click("#redirect");
    await s.page.waitForURL(`${issuer}/interaction/**`);
    await s.page.click("#approve");
    await s.page.waitForURL((url) => url.pathname === "/test/callback");
    const first = await callbackOutcome(s.page);
    assert.equal(first.error, undefined, first.error?.text);
    s.secrets.push(...tokensOf(first.result));
    const callbackUrl = s.requests.find(isCallbackRequest);
    assert.equal(tokenRequests(), 1);

    await s.page.goto(callbackUrl); // history, a reload, a shared link
    const again = await callbackOutcome(s.page);
    assert.equal(again.error?.code, "already_handled");
    const elsewhere = await s.context.newPage();
    await elsewhere.goto(callbackUrl);
    const there = await callbackOutcome(elsewhere);
    assert.equal(there.error?.code, "unknown_state");
    assert.equal(tokenRequests(), 1, "the provider was not asked twice");
    for (const page of [s.page, elsewhere]) {
      assert.deepEqual(leaksIn(await readable(page), secretsOf(s)), [], "the replayed code left the address bar and history");
    }
    await finish(s);
  });
});

describe("forged relays to the opener", () => {
  test("relays from another origin and from windows that are not our popup are ignored; the real callback completes", { timeout: 60_000 }, async (t) => {
    const s = await scene(t, { kind: "oidc" });
    const popup = await startPopup(s.page, server);
    const { state } = Object.fromEntries(new URL(s.requests.find((u) => u.startsWith(`${issuer}/auth?`))).searchParams);
    const forged = (forState) => `${callbackBase()}?code=forged-code-0123456789&state=${forState}&iss=${encodeURIComponent(issuer)}`;
    const ignored = () => s.events.filter((e) => e.name === "ignored_message").length;
    const relay = (url) => `<!doctype html><script>
      const message = { type: "oauth-connect:callback", url: ${JSON.stringify(url)} };
      (window.opener ?? window.parent).postMessage(message, "*");
      document.title = "sent";
    </script>`;

    // 1. Another origin (the same server as http://127.0.0.1:PORT), knowing the real state: a
    //    window the app opened, and an iframe in the app's page.
    await serve(s.context, `${server.otherOrigin}/attack/relay.html`, relay(forged(state)));
    const [crossWindow] = await Promise.all([
      s.context.waitForEvent("page"),
      s.page.evaluate((url) => void window.open(url), `${server.otherOrigin}/attack/relay.html`),
    ]);
    await until(() => ignored() >= 1, { what: "ignored_message for the cross-origin window" });
    await s.page.evaluate((url) => {
      const frame = document.createElement("iframe");
      frame.src = url;
      document.body.append(frame);
    }, `${server.otherOrigin}/attack/relay.html`);
    await until(() => ignored() >= 2, { what: "ignored_message for the cross-origin iframe" });

    // 2. Same origin, but not our popup: an iframe and a window with a state not in flight.
    await serve(s.context, `${server.appOrigin}/attack/relay.html`, relay(forged("not-a-flow-state-0123456789")));
    await s.page.evaluate(() => {
      const frame = document.createElement("iframe");
      frame.src = "/attack/relay.html";
      document.body.append(frame);
    });
    await until(() => ignored() >= 3, { what: "ignored_message for the same-origin iframe" });
    const [sameWindow] = await Promise.all([
      s.context.waitForEvent("page"),
      s.page.evaluate(() => void window.open("/attack/relay.html")),
    ]);
    await until(() => ignored() >= 4, { what: "ignored_message for the same-origin window" });
    // And a relay far beyond a callback's size (1 MB), with the real state: passed on as nothing.
    await s.page.evaluate((url) => window.postMessage({ type: "oauth-connect:callback", url: url + "&pad=" + "A".repeat(1 << 20) }, location.origin), forged(state));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await crossWindow.close();
    await sameWindow.close();

    assert.equal(await s.page.getAttribute("#error", "data-code"), null, "no forged relay ended the flow");
    assert.equal(await s.page.textContent("#status"), "connecting");
    assert.equal(tokenRequests(), 0, "nothing tried to redeem the forged code");
    for (const e of s.events.filter((e) => e.name === "ignored_message")) {
      assert.doesNotMatch(JSON.stringify(e), /forged-code/, "the event does not repeat what was sent");
    }

    await answerInPopup(popup);
    const { result, error } = await outcome(s.page);
    assert.equal(error, undefined, error?.text);
    assert.equal(result.state, state);
    s.secrets.push(...tokensOf(result));
    assert.equal(tokenRequests(), 1);
    assert.equal(eventNames(s.events).includes("error"), false);
    await finish(s);
  });
});

describe("mix-up", () => {
  /**
   * The provider's answer as the callback page sees it, with `iss` replaced (or removed when
   * `iss` is ""): an init script rewrites the address before the page's scripts run. (A route
   * cannot: Playwright does not route the redirects of a navigation chain.) The value is read
   * from localStorage `attack:iss`, so a test can change it between flows.
   */
  async function tamperIss(s, iss) {
    if (!s.tampering) {
      s.tampering = true;
      await s.context.addInitScript((issuer) => {
        if (location.pathname !== "/test/callback") return;
        const wanted = localStorage.getItem("attack:iss");
        const url = new URL(location.href);
        if (wanted === null || url.searchParams.get("iss") !== issuer) return;
        if (wanted === "") url.searchParams.delete("iss");
        else url.searchParams.set("iss", wanted);
        history.replaceState(history.state, "", url.href);
      }, issuer);
    }
    await s.page.evaluate((iss) => localStorage.setItem("attack:iss", iss), iss);
    return () => s.page.evaluate(() => localStorage.removeItem("attack:iss"));
  }

  test("popup: a callback whose iss is another issuer is issuer_mismatch; the code is not redeemed", { timeout: 60_000 }, async (t) => {
    const s = await scene(t, { kind: "oidc" });
    const untamper = await tamperIss(s, "https://attacker.example");
    await answerInPopup(await startPopup(s.page, server));
    const { error } = await outcome(s.page);
    assert.equal(error?.code, "issuer_mismatch", error?.text);
    assert.equal(tokenRequests(), 0);
    assert.deepEqual(s.events.filter((e) => e.name === "error").map((e) => e.meta.code), ["issuer_mismatch"]);
    await untamper();
    await finish(s);
  });

  test("redirect: a callback whose iss is another issuer is issuer_mismatch, twice in a row", { timeout: 60_000 }, async (t) => {
    const s = await scene(t, { kind: "oidc" });
    const variants = ["http://127.0.0.1:1", `${issuer}/`];
    for (const iss of variants) {
      await s.page.goto(`${server.appOrigin}/test/app.html?kind=oidc`);
      await s.page.waitForSelector("body[data-ready=true]", { state: "attached" });
      const untamper = await tamperIss(s, iss);
      await s.page.click("#redirect");
      // The consent page the first time; then the provider answers at once.
      const atCallback = (url) => url.pathname === "/test/callback";
      const landed = await Promise.race([
        s.page.waitForURL(atCallback).then(() => "callback"),
        s.page.waitForSelector("#approve").then(() => "consent"),
      ]);
      if (landed === "consent") {
        await s.page.click("#approve");
        await s.page.waitForURL(atCallback);
      }
      const { error } = await callbackOutcome(s.page);
      assert.equal(error?.code, "issuer_mismatch", `iss ${iss}: ${error?.text}`);
      assert.equal(new URL(s.page.url()).search, "", "the code left the address bar");
      await untamper();
    }
    assert.equal(tokenRequests(), 0);
    await finish(s);
  });

  test("popup: a callback without iss, from a provider whose discovery advertises it, is issuer_mismatch", {
    timeout: 60_000,
  }, async (t) => {
    const s = await scene(t, { kind: "oidc" });
    const discovery = await fetch(`${issuer}/.well-known/openid-configuration`).then((r) => r.json());
    assert.equal(discovery.authorization_response_iss_parameter_supported, true, "the provider advertises iss");
    const untamper = await tamperIss(s, "");
    await answerInPopup(await startPopup(s.page, server));
    const { result, error } = await outcome(s.page);
    await untamper();
    if (result) s.secrets.push(...tokensOf(result));
    try {
      assert.equal(error?.code, "issuer_mismatch", `the flow ended ${error ? error.text : "with success"}; ${tokenRequests()} code redeemed`);
      assert.equal(tokenRequests(), 0);
    } finally {
      await finish(s);
    }
  });
});

describe("returnTo", () => {
  test("a foreign returnTo is refused (invalid_config) and nothing navigates", { timeout: 60_000 }, async (t) => {
    const s = await scene(t, { kind: "oidc" });
    const before = s.page.url();
    const foreign = [
      "https://evil.example/", "//evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
      "javascript:alert(document.domain)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>",
      `http://localhost:1/`, `${server.otherOrigin}/test/app.html`, "https:evil.example", " //evil.example",
    ];
    for (const returnTo of foreign) {
      const code = await s.page.evaluate(
        (returnTo) => window.conn.redirect({ returnTo }).then(() => "navigating", (e) => e.code),
        returnTo,
      );
      assert.equal(code, "invalid_config", `returnTo ${JSON.stringify(returnTo)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(s.page.url(), before, "the page did not navigate");
    assert.deepEqual(s.requests.filter((u) => u.startsWith(`${issuer}/auth`)), [], "the provider was never asked");
    const stored = await s.page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith("oauth-connect:tx:")));
    assert.deepEqual(stored, [], "no transaction was stored");
    assert.equal(eventNames(s.events).includes("redirect"), false);
    assert.notEqual(await s.page.evaluate(() => window.conn.status), "connecting");
    await finish(s);
  });
});

describe("huge and malformed callback URLs", () => {
  test("each is a ConnectError with a stable code, in bounded time, and the page stays responsive", { timeout: 120_000 }, async (t) => {
    const s = await scene(t, { kind: "oidc" });
    // A redirect flow is pending in this tab: its state has a transaction.
    await s.page.click("#redirect");
    await s.page.waitForURL(`${issuer}/interaction/**`);
    const { state } = Object.fromEntries(new URL(s.requests.find((u) => u.startsWith(`${issuer}/auth?`))).searchParams);
    await s.page.goto(callbackBase());
    await callbackOutcome(s.page); // null: nothing to do
    const base = callbackBase();
    const many = Array.from({ length: 50_000 }, (_, i) => `p${i}=${i}`).join("&");
    const cases = {
      "1 MB value": `${base}?code=huge-code-0123456789&state=s0123456789&pad=${"A".repeat(1 << 20)}`,
      "1 MB state": `${base}?code=huge-code-0123456789&state=${"S".repeat(1 << 20)}`,
      "1 MB of percent escapes": `${base}?code=huge-code-0123456789&state=s0123456789&pad=${"%41".repeat(350_000)}`,
      "50,000 parameters": `${base}?code=huge-code-0123456789&state=s0123456789&${many}`,
      "50,000 parameters, state last": `${base}?${many}&code=huge-code-0123456789&state=s0123456789`,
      "50,000 duplicate parameters": `${base}?code=huge-code-0123456789&state=s0123456789&${"x=1&".repeat(50_000)}`,
      "bad percent escapes": `${base}?code=%E0%A4%A&state=%ZZ%`,
      "a lone % in the state": `${base}?code=c0123456789&state=%`,
      "an escaped NUL and invalid UTF-8": `${base}?code=%00%FF%FE&state=%C0%AF`,
      "duplicate code": `${base}?code=a0123456789&code=b0123456789&state=s0123456789`,
      "duplicate state": `${base}?code=a0123456789&state=s1&state=s2`,
      "lone surrogates": `${base}?code=\uD800x&state=\uDC00y`,
      "lone surrogates, escaped": `${base}?code=%ED%A0%80&state=%ED%B0%80`,
      "no state": `${base}?code=a0123456789`,
      "an empty state": `${base}?code=a0123456789&state=`,
      "not a URL": "http://[::1", // may also be null: nothing to do
      "an implicit response": `${base}#access_token=at0123456789&state=s0123456789`,
      "a JARM response": `${base}?response=eyJhbGciOiJub25lIn0.e30.&state=s0123456789`,
      "deep nesting in the fragment": `${base}?code=c0123456789&state=s0123456789#${"[".repeat(100_000)}`,
      // With the state of the pending transaction: the checks of the response itself.
      "real state, 1 MB value": `${base}?code=huge-code-0123456789&state=${state}&pad=${"A".repeat(1 << 20)}&code=x`,
      "real state, 50,000 duplicate parameters": `${base}?code=huge-code-0123456789&state=${state}&${"x=1&".repeat(50_000)}`,
      "real state, duplicate code": `${base}?code=a0123456789&code=b0123456789&state=${state}`,
    };
    const seen = {};
    for (const [name, url] of Object.entries(cases)) {
      const started = Date.now();
      const answer = await Promise.race([
        s.page.evaluate(async (url) => {
          const lib = await import("/pkg/index.js");
          return lib.handleCallback(url).then(
            (value) => ({ value }),
            (e) => ({ code: e.code, isConnectError: e instanceof lib.ConnectError, message: String(e.message) }),
          );
        }, url),
        new Promise((resolve) => setTimeout(() => resolve({ hung: true }), 20_000)),
      ]);
      const took = Date.now() - started;
      // Responsive: a timer of the page fires at once.
      const tick = await s.page.evaluate(() => new Promise((resolve) => {
        const at = performance.now();
        setTimeout(() => resolve(performance.now() - at), 0);
      }));
      seen[name] = `${answer.code ?? JSON.stringify(answer)} (${took} ms)`;
      assert.equal(answer.hung, undefined, `${name}: handleCallback never settled`);
      if (name === "not a URL" && answer.value === null) continue;
      assert.ok(answer.isConnectError, `${name}: not a ConnectError: ${JSON.stringify(answer).slice(0, 200)}`);
      assert.ok(ERROR_CODES.has(answer.code), `${name}: code ${answer.code}`);
      assert.ok(answer.message.length < 1_000, `${name}: a bounded message`);
      assert.doesNotMatch(answer.message, /huge-code|at0123456789/, `${name}: the message repeats no code or token`);
      assert.ok(took < 10_000, `${name}: took ${took} ms`);
      assert.ok(tick < 500, `${name}: the page answered a timer after ${tick} ms`);
    }
    console.log("huge and malformed callback URLs:", seen);
    assert.equal(seen["real state, 1 MB value"].split(" ")[0], "duplicate_parameter");
    assert.equal(tokenRequests(), 0);
    await finish(s);
  });
});

describe("token endpoint failures", () => {
  const replies = {
    "a 500": { status: 500, contentType: "text/plain", body: "Internal Server Error" },
    "an HTML page": { status: 200, contentType: "text/html", body: "<!doctype html><title>Welcome</title><h1>Sign in</h1>" },
    "a truncated JSON body": {
      status: 200,
      contentType: "application/json",
      body: '{"access_token":"truncated-at-0123456789","token_type":"Bearer","refresh_token":"truncated-rt-0123456789","expires_in":3',
    },
    "a JSON body with the access token twice": {
      status: 200,
      contentType: "application/json",
      body: '{"access_token":"twice-at-0123456789","access_token":"twice-at-9876543210","token_type":"Bearer","expires_in":300}',
    },
  };

  for (const [name, reply] of Object.entries(replies)) {
    test(`the token endpoint answers ${name}: token_error or network with a clear message, nothing stored`, { timeout: 60_000 }, async (t) => {
      const s = await scene(t, { kind: "oidc" });
      let asked = 0;
      await s.context.route(`${issuer}/token`, (route) => {
        asked += 1;
        return route.fulfill({ ...reply, headers: { "access-control-allow-origin": server.appOrigin } });
      });
      await answerInPopup(await startPopup(s.page, server));
      const { error } = await outcome(s.page);
      assert.ok(["token_error", "network"].includes(error?.code), `${error?.code}: ${error?.text}`);
      const message = error.text.slice(error.code.length + 2);
      assert.ok(message.length > 10, `a message that says something: ${JSON.stringify(message)}`);
      assert.doesNotMatch(error.text, /0123456789|9876543210/, "the message repeats nothing of the body");
      console.log(`token endpoint answers ${name}: ${error.text}`);
      assert.equal(asked, 1);
      assert.equal(await s.page.evaluate(() => window.conn.tokens()), null, "no token set");
      assert.notEqual(await s.page.textContent("#status"), "connected");
      const stored = await s.page.evaluate(() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)]));
      assert.doesNotMatch(stored, /0123456789|9876543210|oauth-connect:tokens:|oauth-connect:rt:/, "nothing stored");
      s.secrets.push("truncated-rt-0123456789", "truncated-at-0123456789", "twice-at-0123456789", "twice-at-9876543210");
      await s.context.unroute(`${issuer}/token`);
      await finish(s);
    });
  }

  test("the token endpoint answers nothing at all: network within a few seconds of requestTimeoutMs (2 s)", {
    timeout: 60_000,
  }, async (t) => {
    const s = await scene(t, { kind: "oidc" });
    const held = [];
    await s.context.route(`${issuer}/token`, (route) => void held.push(route));
    t.after(() => Promise.all(held.map((route) => route.abort().catch(() => {}))));
    await makeConnect(s.page, { requestTimeoutMs: 2_000, timeoutMs: 60_000 });
    const [popup] = await Promise.all([s.page.waitForEvent("popup"), s.page.evaluate(() => void (window.ending = window.conn2.popup().then(
      (result) => ({ result }),
      (e) => ({ error: { code: e.code, message: e.message } }),
    )))]);
    await popup.waitForSelector("#approve");
    await answerInPopup(popup);
    await until(() => held.length > 0, { what: "the token request" });
    const askedAt = Date.now();
    const ending = await Promise.race([
      s.page.evaluate(() => window.ending),
      new Promise((resolve) => setTimeout(() => resolve({ pending: true }), 8_000)),
    ]);
    const took = Date.now() - askedAt;
    // Release what is held whatever happened, so that the next connect is not stuck behind it.
    await Promise.all(held.map((route) => route.abort().catch(() => {})));
    await s.context.unroute(`${issuer}/token`);
    assert.equal(ending.pending, undefined, `popup() still pending ${took} ms after the token request; status ${await s.page.evaluate(() => window.conn2.status)}`);
    assert.equal(ending.error?.code, "network", JSON.stringify(ending));
    assert.ok(took < 7_000, `network after ${took} ms`);
    assert.equal(await s.page.evaluate(() => window.conn2.tokens()), null);
    await finish(s);
  });
});

describe("a same-origin spy on the channel and storage", () => {
  /**
   * A same-origin page in an iframe of the app's tab (so it shares the tab's sessionStorage):
   * it listens on BroadcastChannel("oauth-connect") and snapshots localStorage and
   * sessionStorage every 10 ms, into `window.seen`. `window.learned` gathers what it can use:
   * a flow's state from a popup marker key, the connection keys of the channel messages.
   */
  const SPY = `<!doctype html><script>
    window.seen = { channel: [], snapshots: [], storageEvents: [] };
    window.learned = { states: new Set(), keys: new Set() };
    const channel = new BroadcastChannel("oauth-connect");
    channel.onmessage = (event) => {
      window.seen.channel.push(JSON.stringify(event.data));
      if (typeof event.data?.key === "string") window.learned.keys.add(event.data.key);
    };
    let last = "";
    const snapshot = () => {
      const now = JSON.stringify({ local: Object.entries(localStorage), session: Object.entries(sessionStorage) });
      if (now !== last) window.seen.snapshots.push(now);
      last = now;
      for (const key of Object.keys(localStorage)) {
        const marker = /^oauth-connect:popup:(.+)$/.exec(key);
        if (marker) window.learned.states.add(marker[1]);
        const rt = /^oauth-connect:rt:(.+)$/.exec(key);
        if (rt) window.learned.keys.add(rt[1]);
      }
    };
    setInterval(snapshot, 10);
    addEventListener("storage", (event) => window.seen.storageEvents.push(JSON.stringify([event.key, event.oldValue, event.newValue])));
    window.send = (message) => channel.postMessage(message);
    document.title = "spy";
  </script>`;

  async function withSpy(t, query = { kind: "oidc" }) {
    const s = await scene(t, query);
    await serve(s.context, `${server.appOrigin}/attack/spy.html`, SPY);
    await s.page.evaluate(() => {
      const frame = document.createElement("iframe");
      frame.src = "/attack/spy.html";
      frame.id = "spy";
      document.body.append(frame);
    });
    await until(() => s.page.frames().find((f) => f.url().endsWith("/attack/spy.html")), { what: "the spy frame" });
    s.spy = s.page.frames().find((f) => f.url().endsWith("/attack/spy.html"));
    await s.spy.waitForFunction(() => document.title === "spy");
    s.spySeen = () => s.spy.evaluate(() => ({ ...window.seen, states: [...window.learned.states], keys: [...window.learned.keys] }));
    return s;
  }

  /** A full popup flow while the spy watches, and the secrets it must never have seen. */
  async function spiedFlow(s) {
    const popup = await startPopup(s.page, server);
    const { state } = Object.fromEntries(new URL(s.requests.find((u) => u.startsWith(`${issuer}/auth?`))).searchParams);
    await new Promise((resolve) => setTimeout(resolve, 100)); // a few snapshots while the consent page shows
    const during = await s.spySeen();
    await answerInPopup(popup);
    const { result, error } = await outcome(s.page);
    assert.equal(error, undefined, error?.text);
    s.secrets.push(...tokensOf(result));
    return { state, result, during };
  }

  test("it never reads a verifier or refresh token, and a code only in the flow's own relay, which it cannot redeem", {
    timeout: 60_000,
  }, async (t) => {
    // The popup's callback page relays `{ type: "oauth-connect:callback", url }` on
    // BroadcastChannel("oauth-connect") as the flow ends (the one way back when COOP cut
    // window.opener; docs/behaviour.md, The relay), so a same-origin listener sees that URL and
    // its code: never anywhere else, and it cannot redeem it (the verifier stays in the
    // opener's memory, PKCE). The refresh token never goes on the channel.
    const s = await withSpy(t);
    const { result } = await spiedFlow(s);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const seen = await s.spySeen();
    const known = secretsOf(s);
    const codes = known.secrets.filter((x) => !tokensOf(result).includes(x));
    const isRelay = (m) => {
      try {
        return JSON.parse(m)?.type === "oauth-connect:callback";
      } catch {
        return false;
      }
    };
    const where = (needle) => ({
      channelOutsideRelay: seen.channel.filter((m) => m.includes(needle) && !isRelay(m)).length,
      storage: seen.snapshots.filter((m) => m.includes(needle)).length + seen.storageEvents.filter((m) => m.includes(needle)).length,
    });
    const found = {
      code: codes.map(where),
      verifier: leaksIn(seen, { secrets: [], challenges: known.challenges }).length,
      refreshToken: { ...where(result.tokens.refreshToken), relay: seen.channel.filter((m) => m.includes(result.tokens.refreshToken)).length },
      accessTokenInStorage: where(result.tokens.accessToken).storage,
    };
    console.log(`the spy saw, in ${seen.channel.length} channel messages and ${seen.snapshots.length} storage snapshots:`, JSON.stringify(found));
    assert.deepEqual(found, {
      code: codes.map(() => ({ channelOutsideRelay: 0, storage: 0 })),
      verifier: 0,
      refreshToken: { channelOutsideRelay: 0, storage: 0, relay: 0 },
      accessTokenInStorage: 0,
    });
    await finish(s);
  });

  test("it never learns the flow's state before the flow ends", {
    timeout: 60_000,
  }, async (t) => {
    const s = await withSpy(t);
    const { state, during } = await spiedFlow(s);
    assert.equal(during.states.includes(state), false, "the spy read the state from the popup marker key");
    assert.deepEqual(during.snapshots.filter((x) => x.includes(state)).length, 0, "no storage snapshot names the state");
    assert.deepEqual(during.channel.filter((x) => x.includes(state)).length, 0, "no channel message names the state");
    await finish(s);
  });

  test("a `tokens?` request on the channel is not answered with the refresh token", {
    timeout: 60_000,
  }, async (t) => {
    const s = await withSpy(t);
    const { result } = await spiedFlow(s);
    const { keys } = await s.spySeen();
    assert.ok(keys.length > 0, "the spy learned the connection key");
    const before = (await s.spySeen()).channel.length;
    for (const key of keys) await s.spy.evaluate((key) => window.send({ type: "oauth-connect:tokens?", key }), key);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const answers = (await s.spySeen()).channel.slice(before);
    assert.ok(answers.some((m) => m.includes(result.tokens.accessToken)), "other tabs may be given the access token");
    assert.deepEqual(answers.filter((m) => m.includes(result.tokens.refreshToken)).map(() => "an answer with the refresh token"), []);
    await finish(s);
  });

  test("forged channel messages and storage entries neither complete nor break a flow", { timeout: 60_000 }, async (t) => {
    const s = await withSpy(t);
    const popup = await startPopup(s.page, server);
    const { state } = Object.fromEntries(new URL(s.requests.find((u) => u.startsWith(`${issuer}/auth?`))).searchParams);
    const ignoredBefore = s.events.filter((e) => e.name === "ignored_message").length;
    await s.spy.evaluate(({ base, issuer }) => {
      const forged = (state, code = "forged-code-0123456789") => `${base}?code=${code}&state=${state}&iss=${encodeURIComponent(issuer)}`;
      // Relays for states not in flight, malformed and oversized messages.
      for (const state of ["not-in-flight-0123456789", "", "%00"]) window.send({ type: "oauth-connect:callback", url: forged(state) });
      window.send({ type: "oauth-connect:callback", url: 42 });
      window.send({ type: "oauth-connect:callback" });
      window.send({ type: "oauth-connect:callback", url: forged("x") + "&pad=" + "A".repeat(1 << 20) });
      window.send("oauth-connect:callback");
      window.send({ type: "oauth-connect:tokens", key: "no-such-connection", tokens: { accessToken: "forged-at-0123456789", tokenType: "Bearer" } });
      for (const key of window.learned.keys) {
        window.send({ type: "oauth-connect:tokens", key, tokens: { accessToken: 7 } });
      }
      // Storage entries shaped like the library's, with garbage in them.
      localStorage.setItem("oauth-connect:popup:forged-state-0123456789", "not a time");
      sessionStorage.setItem("oauth-connect:tx:forged-state-0123456789", "{not json");
      sessionStorage.setItem("oauth-connect:tx:" + "y".repeat(40), JSON.stringify({ state: "y".repeat(40), codeVerifier: "short" }));
      sessionStorage.setItem("oauth-connect:done:not-in-flight-0123456789", "yesterday");
      for (const key of window.learned.keys) localStorage.setItem("oauth-connect:rt:" + key, "forged-fingerprint");
    }, { base: callbackBase(), issuer });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await s.page.getAttribute("#error", "data-code"), null, "no forged write ended the flow");
    assert.equal(await s.page.textContent("#status"), "connecting");
    assert.equal(tokenRequests(), 0, "nothing tried to redeem a forged code");
    console.log(`forged channel messages: ${s.events.filter((e) => e.name === "ignored_message").length - ignoredBefore} ignored_message events`);

    await answerInPopup(popup);
    const { result, error } = await outcome(s.page);
    assert.equal(error, undefined, error?.text);
    assert.equal(result.state, state);
    s.secrets.push(...tokensOf(result));
    assert.equal((await s.page.evaluate(() => window.conn.tokens())).accessToken, result.tokens.accessToken);
    assert.equal(tokenRequests(), 1);
    await finish(s);
  });

  test("a forged relay with the state read from the popup marker does not break the flow", {
    timeout: 60_000,
  }, async (t) => {
    const s = await withSpy(t);
    const popup = await startPopup(s.page, server);
    const { state } = Object.fromEntries(new URL(s.requests.find((u) => u.startsWith(`${issuer}/auth?`))).searchParams);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const learned = await s.spy.evaluate(({ base, issuer }) => {
      const states = [...window.learned.states];
      for (const state of states) {
        window.send({ type: "oauth-connect:callback", url: `${base}?code=forged-code-0123456789&state=${state}&iss=${encodeURIComponent(issuer)}` });
      }
      return states;
    }, { base: callbackBase(), issuer });
    console.log(`the spy learned ${learned.length} state(s) from storage${learned.includes(state) ? ", the flow's among them" : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const ended = await s.page.getAttribute("#error", "data-code");
    const asked = tokenRequests();
    if (!ended) await answerInPopup(popup);
    else await popup.close().catch(() => {});
    const { result, error } = await outcome(s.page);
    assert.equal(ended, null, `the forged relay ended the flow (${ended}) after ${asked} token request(s) for the forged code`);
    assert.equal(error, undefined, error?.text);
    s.secrets.push(...tokensOf(result));
    await finish(s);
  });

  test("with tokenStorage \"session\": the refresh token is in this tab's sessionStorage only, never in a channel message or localStorage", {
    timeout: 60_000,
  }, async (t) => {
    const s = await withSpy(t);
    await makeConnect(s.page, { tokenStorage: "session" });
    const [popup] = await Promise.all([s.page.waitForEvent("popup"), s.page.evaluate(() => void (window.ending = window.conn2.popup().then(
      (result) => ({ result }),
      (e) => ({ error: { code: e.code, message: e.message } }),
    )))]);
    await popup.waitForSelector("#approve");
    await answerInPopup(popup);
    const { result, error } = await s.page.evaluate(() => window.ending);
    assert.equal(error, undefined, error?.message);
    s.secrets.push(...tokensOf(result));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const seen = await s.spySeen();
    const inChannel = seen.channel.filter((m) => m.includes(result.tokens.refreshToken)).length;
    const inLocalStorage = seen.snapshots.filter((m) => JSON.stringify(JSON.parse(m).local).includes(result.tokens.refreshToken)).length;
    const session = await s.page.evaluate(() => Object.entries(sessionStorage).filter(([key]) => key.startsWith("oauth-connect:tokens:")));
    assert.equal(session.length, 1, "the set is kept in sessionStorage, as asked");
    // The set stored by design would trip finish()'s storage check: forget it first.
    await s.page.evaluate(() => window.conn2.disconnect());
    assert.deepEqual({ inChannel, inLocalStorage }, { inChannel: 0, inLocalStorage: 0 });
    // This tab's connection stays in "session" mode (conn2 asked for it), so the next connect
    // would keep its set in sessionStorage by design: it runs in a fresh tab of the app.
    const fresh = await s.context.newPage();
    await fresh.goto(`${server.appOrigin}/test/app.html?kind=oidc`);
    await fresh.waitForSelector("body[data-ready=true]", { state: "attached" });
    await finish(s, fresh);
  });
});
