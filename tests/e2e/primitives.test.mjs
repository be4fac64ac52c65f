// The primitives through the package's public entry, in headless Chromium (formerly the
// wasm-bindgen suite tests/browser.rs): the CSPRNG source (crypto.getRandomValues), the
// RFC 7636 vector, authorization URLs equal to the browser's own URLSearchParams, errors as
// ConnectError instances with stable codes, Connect's synchronous config checks, and
// handleCallback's answers to a page without a response and to an unknown state.
// The page is pages/primitives.html; its helpers (attempt, attemptAsync, installZeroRandom,
// restoreRandom, browserAuthorizeUrl) are in pages/primitives.js.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { launchChromium, s256, startServer, watchPage } from "./browser.mjs";

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

/** A fresh page with the package initialized; closed after the test, which checks it logged no error. */
async function openPage(t) {
  const page = await browser.newPage();
  const problems = watchPage(page);
  t.after(async () => {
    await page.close();
    assert.deepEqual(problems, [], "page errors");
  });
  await page.goto(`${server.appOrigin}/test/primitives.html`);
  await page.waitForSelector("body[data-ready]", { state: "attached" });
  if ((await page.getAttribute("body", "data-ready")) !== "true") {
    throw new Error(`the primitives page did not start: ${await page.textContent("#error")}`);
  }
  return page;
}

/** The error an attempt threw: a ConnectError (instance, Error, name) with `code` and a message. */
function assertConnectError(outcome, code, what = code) {
  assert.ok(outcome.thrown, `${what}: should have thrown, gave ${JSON.stringify(outcome.value)}`);
  const error = outcome.thrown;
  assert.equal(error.instanceOfConnectError, true, `${what}: not an instance of ConnectError (${error.name}: ${error.message})`);
  assert.equal(error.instanceOfError, true, `${what}: not an Error`);
  assert.equal(error.name, "ConnectError", what);
  assert.equal(error.code, code, `${what}: ${error.message}`);
  assert.ok(error.message.length > 0, `${what}: empty message`);
  return error;
}

const A43 = "A".repeat(43);

describe("PKCE, state and idempotency keys", () => {
  test("createPkce gives a consistent S256 pair", async (t) => {
    const page = await openPage(t);
    const { pair, challenge, other } = await page.evaluate(() => {
      const pair = lib.createPkce();
      return { pair, challenge: lib.pkceChallenge(pair.verifier), other: lib.createPkce().verifier };
    });
    assert.deepEqual(Object.keys(pair).sort(), ["challenge", "method", "verifier"]);
    assert.match(pair.verifier, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(pair.method, "S256");
    assert.equal(challenge, pair.challenge);
    assert.equal(pair.challenge, s256(pair.verifier));
    assert.notEqual(other, pair.verifier);
  });

  test("randomness comes from crypto.getRandomValues", async (t) => {
    const page = await openPage(t);
    const outcome = await page.evaluate(() => {
      installZeroRandom();
      let pair, state, key;
      let calls;
      try {
        pair = attempt(() => lib.createPkce());
        state = attempt(() => lib.randomState());
        key = attempt(() => lib.idempotencyKey());
      } finally {
        calls = restoreRandom();
      }
      return {
        pair,
        state,
        key,
        calls,
        restored: crypto.getRandomValues === Crypto.prototype.getRandomValues,
        // The wasm draws 256 bytes ahead (src/random.rs): the zeros left in its pool are served
        // first, then a refill comes from the real source. Eight states use up any pool.
        afterwards: Array.from({ length: 9 }, () => lib.randomState()),
      };
    });
    assert.equal(outcome.restored, true);
    // One draw of 256 bytes (src/random.rs) serves all three (80 bytes) on a fresh page.
    assert.equal(outcome.calls, 1, `crypto.getRandomValues was called ${outcome.calls} times`);
    // 32 zero bytes in base64url, and the UUID of 16 zero bytes with its version and variant set.
    assert.equal(outcome.pair.value?.verifier, A43, JSON.stringify(outcome.pair));
    assert.equal(outcome.pair.value.challenge, s256(A43));
    assert.equal(outcome.state.value, A43, JSON.stringify(outcome.state));
    assert.equal(outcome.key.value, "00000000-0000-4000-8000-000000000000", JSON.stringify(outcome.key));
    // And with the real source again, values differ once the pool's zeros are used up.
    assert.equal(outcome.afterwards[0], A43, "the zeros drawn ahead are served before a refill");
    assert.notEqual(outcome.afterwards.at(-1), A43);
  });

  test("the RFC 7636 Appendix B vector", async (t) => {
    const page = await openPage(t);
    const challenge = await page.evaluate(() => lib.pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
    assert.equal(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });

  test("pkceChallenge rejects bad verifiers with invalid_verifier", async (t) => {
    const page = await openPage(t);
    const outcomes = await page.evaluate(() => ({
      short: attempt(() => lib.pkceChallenge("short")),
      "129 chars": attempt(() => lib.pkceChallenge("a".repeat(129))),
      "a character outside the alphabet": attempt(() => lib.pkceChallenge(`${"a".repeat(43)}!`)),
      undefined: attempt(() => lib.pkceChallenge(undefined)),
      "no argument": attempt(() => lib.pkceChallenge()),
      "a number": attempt(() => lib.pkceChallenge(42)),
    }));
    for (const [what, outcome] of Object.entries(outcomes)) assertConnectError(outcome, "invalid_verifier", what);
    // The bounds themselves are accepted.
    const bounds = await page.evaluate(() => [lib.pkceChallenge("a".repeat(43)), lib.pkceChallenge("-._~".repeat(32))]);
    assert.deepEqual(bounds, [s256("a".repeat(43)), s256("-._~".repeat(32))]);
  });

  test("randomState and idempotencyKey shapes", async (t) => {
    const page = await openPage(t);
    const { state, key, states, keys } = await page.evaluate(() => ({
      state: lib.randomState(),
      key: lib.idempotencyKey(),
      states: new Set(Array.from({ length: 20 }, () => lib.randomState())).size,
      keys: new Set(Array.from({ length: 20 }, () => lib.idempotencyKey())).size,
    }));
    assert.match(state, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(key.length, 36);
    assert.match(key, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(states, 20);
    assert.equal(keys, 20);
  });
});

describe("buildAuthorizeUrl", () => {
  test("authorization URLs equal the browser's own URL + searchParams.append", async (t) => {
    const page = await openPage(t);
    const tricky = ["a b", "c+d", "e&f=g", "é€😀", "~!'()*-._", "%41", "#?/:@", "\u0000\u007f", "", "line\nbreak"];
    const endpoints = [
      "https://as.example/authorize",
      "https://AS.example:443/o/auth?tenant=x%20y&flag",
      "http://127.0.0.1:9000/auth",
      "http://[::1]:8443/a",
      "http://localhost:8080/auth",
    ];
    const results = await page.evaluate(
      ({ tricky, endpoints }) =>
        endpoints.map((endpoint) => {
          const entries = [];
          const params = {};
          tricky.forEach((text, index) => {
            const name = `p${index}${text}`;
            entries.push([name, text]);
            params[name] = text;
          });
          const scope = ["openid", "profile email"];
          entries.push(["scope", scope]);
          params.scope = scope;
          return { endpoint, built: attempt(() => lib.buildAuthorizeUrl(endpoint, params)), browser: browserAuthorizeUrl(endpoint, entries) };
        }),
      { tricky, endpoints },
    );
    assert.equal(results.length, endpoints.length);
    for (const { endpoint, built, browser: expected } of results) {
      assert.equal(built.thrown, undefined, `${endpoint}: ${JSON.stringify(built.thrown)}`);
      assert.equal(built.value, expected, endpoint);
    }
  });

  test("input errors are invalid_config", async (t) => {
    const page = await openPage(t);
    const outcomes = await page.evaluate(() => {
      const ok = { client_id: "c" };
      const cases = {};
      for (const endpoint of ["https://as.example/auth#x", "http://as.example/auth", "not a url", "https://as.example/auth?client_id=a"]) {
        cases[endpoint] = attempt(() => lib.buildAuthorizeUrl(endpoint, ok));
      }
      cases["a number as endpoint"] = attempt(() => lib.buildAuthorizeUrl(42, ok));
      cases["a string as params"] = attempt(() => lib.buildAuthorizeUrl("https://as.example/", "client_id=c"));
      cases["a number value"] = attempt(() => lib.buildAuthorizeUrl("https://as.example/", { max_age: 3600 }));
      return {
        cases,
        // `undefined` values are left out rather than sent as "undefined".
        optional: attempt(() => lib.buildAuthorizeUrl("https://as.example/a", { client_id: "c", prompt: undefined })),
      };
    });
    for (const [what, outcome] of Object.entries(outcomes.cases)) assertConnectError(outcome, "invalid_config", what);
    assert.match(outcomes.cases["a number value"].thrown.message, /"max_age"/);
    assert.equal(outcomes.optional.value, "https://as.example/a?client_id=c", JSON.stringify(outcomes.optional));
  });
});

describe("parseCallback", () => {
  test("returns code, state, iss and every parameter", async (t) => {
    const page = await openPage(t);
    const outcome = await page.evaluate(() => {
      const url = "http://localhost:8080/cb?app=1&code=abc&state=s1&iss=https%3A%2F%2Fas.example&__proto__=x";
      const result = lib.parseCallback(url, { state: "s1", issuer: "https://as.example" });
      const params = result.params;
      const withoutIss = lib.parseCallback("http://localhost/cb?code=abc&state=s1", { state: "s1" });
      return {
        code: result.code,
        state: result.state,
        iss: result.iss,
        keys: Object.keys(params),
        protoParam: Object.getOwnPropertyDescriptor(params, "__proto__")?.value,
        plainPrototype: Object.getPrototypeOf(params) === Object.prototype,
        app: params.app,
        withoutIssKeys: Object.keys(withoutIss),
      };
    });
    assert.equal(outcome.code, "abc");
    assert.equal(outcome.state, "s1");
    assert.equal(outcome.iss, "https://as.example");
    assert.deepEqual(outcome.keys, ["app", "code", "state", "iss", "__proto__"]);
    assert.equal(outcome.protoParam, "x");
    assert.equal(outcome.plainPrototype, true);
    assert.equal(outcome.app, "1");
    // No iss: the key is absent, not undefined-valued.
    assert.equal(outcome.withoutIssKeys.includes("iss"), false, JSON.stringify(outcome.withoutIssKeys));
  });

  test("every error code reaches JS as a ConnectError", async (t) => {
    const page = await openPage(t);
    const cases = [
      ["http://l/cb?code=a&code=b&state=s1", "duplicate_parameter"],
      ["http://l/cb?error=access_denied&state=s1", "authorization_error"],
      ["http://l/cb?code=a&state=other", "state_mismatch"],
      ["http://l/cb?code=a&state=s1&iss=https%3A%2F%2Fevil.example", "issuer_mismatch"],
      ["http://l/cb?state=s1", "missing_code"],
      ["http://l/cb?code=a&state=s1&id_token=x", "invalid_callback"],
      ["nonsense", "invalid_callback"],
    ];
    const outcomes = await page.evaluate(
      (urls) => urls.map((url) => attempt(() => lib.parseCallback(url, { state: "s1", issuer: "https://as.example" }))),
      cases.map(([url]) => url),
    );
    cases.forEach(([url, code], index) => {
      const error = assertConnectError(outcomes[index], code, url);
      assert.doesNotMatch(error.message, /code=a/, url);
    });
    const { provider, fragment } = await page.evaluate(() => ({
      provider: attempt(() =>
        lib.parseCallback(
          "http://l/cb?error=access_denied&error_description=No+thanks&error_uri=https%3A%2F%2Fas.example%2Fe&state=s1",
          { state: "s1" },
        ),
      ),
      fragment: attempt(() => lib.parseCallback("http://l/cb#code=f&state=s1", { state: "s1", responseMode: "fragment" })),
    }));
    const error = assertConnectError(provider, "authorization_error");
    assert.equal(error.error, "access_denied");
    assert.equal(error.errorDescription, "No thanks");
    assert.equal(error.errorUri, "https://as.example/e");
    // Fragment mode.
    assert.equal(fragment.value?.code, "f", JSON.stringify(fragment));
  });

  test("argument errors", async (t) => {
    const page = await openPage(t);
    const outcomes = await page.evaluate(() => ({
      "no URL": attempt(() => lib.parseCallback(undefined, { state: "s1" })),
      "no expect": attempt(() => lib.parseCallback("http://l/cb?code=a&state=s1", undefined)),
      "no expected state": attempt(() => lib.parseCallback("http://l/cb?code=a&state=s1", {})),
      "an empty expected state": attempt(() => lib.parseCallback("http://l/cb?code=a&state=", { state: "" })),
      "form_post": attempt(() => lib.parseCallback("http://l/cb?code=a&state=s1", { state: "s1", responseMode: "form_post" })),
    }));
    assertConnectError(outcomes["no URL"], "invalid_callback", "no URL");
    for (const what of ["no expect", "no expected state", "an empty expected state", "form_post"]) {
      assertConnectError(outcomes[what], "invalid_config", what);
    }
  });
});

describe("errors", () => {
  test("are instances of the exported ConnectError class", async (t) => {
    const page = await openPage(t);
    const outcome = await page.evaluate(() => attempt(() => lib.pkceChallenge("short")));
    const error = assertConnectError(outcome, "invalid_verifier");
    assert.equal(error.constructorIsConnectError, true);
    assert.equal(error.stack, "string");
  });
});

const OAUTH2 = {
  kind: "oauth2",
  authorizationEndpoint: "https://as.example/authorize",
  tokenEndpoint: "https://as.example/token",
  clientId: "app",
  redirectUri: "http://localhost:8080/callback",
};

describe("Connect", () => {
  test("validates its config synchronously in the constructor", async (t) => {
    const page = await openPage(t);
    const outcome = await page.evaluate((base) => {
      const make = (config) => attempt(() => new lib.Connect(config), (connect) => ({ isConnect: connect instanceof lib.Connect, status: connect.status }));
      return {
        good: make(base),
        invalid: {
          undefined: attempt(() => new lib.Connect()),
          null: make(null),
          "a string": make("oauth2"),
          "an unknown kind": make({ kind: "saml" }),
        },
        clientId: make({ ...base, clientId: 42 }),
        insecure: {
          clientSecret: make({ ...base, clientSecret: "s3cr3t-value" }),
          "client_credentials grant": make({ ...base, grant: "client_credentials" }),
          "an sk_ key in extraParams": make({ ...base, extraParams: { key: "sk_live_123" } }),
          "an http token endpoint": make({ ...base, tokenEndpoint: "http://as.example/token" }),
        },
        liquid: make({ kind: "liquid", publicApiKey: "not-a-public-key" }),
      };
    }, OAUTH2);
    assert.deepEqual(outcome.good, { value: { isConnect: true, status: "idle" } });
    for (const [what, result] of Object.entries(outcome.invalid)) assertConnectError(result, "invalid_config", what);
    const error = assertConnectError(outcome.clientId, "invalid_config", "clientId: 42");
    assert.match(error.message, /clientId/);
    for (const [what, result] of Object.entries(outcome.insecure)) {
      const { message } = assertConnectError(result, "insecure_config", what);
      assert.doesNotMatch(message, /s3cr3t-value|sk_live_123/, what);
    }
    assertConnectError(outcome.liquid, "invalid_config", "liquid without a pk_ key");
  });

  test("a Connect the app lets go is collected, though its onEvent and onStatus listeners use it", async (t) => {
    const page = await openPage(t);
    await page.evaluate((base) => {
      window.collected = 0;
      window.registry = new FinalizationRegistry(() => (window.collected += 1));
      for (let i = 0; i < 5; i += 1) {
        const connect = new lib.Connect({ ...base, onEvent: () => connect.status });
        connect.onStatus(() => connect.tokens());
        window.registry.register(connect, i);
      }
    }, OAUTH2);
    const cdp = await page.context().newCDPSession(page);
    for (let i = 0; i < 20 && (await page.evaluate(() => window.collected)) < 5; i += 1) {
      await cdp.send("HeapProfiler.collectGarbage");
      await page.waitForTimeout(50);
    }
    assert.equal(await page.evaluate(() => window.collected), 5);
  });

  test("onStatus tells each change until stopped; each subscription is its own", async (t) => {
    const page = await openPage(t);
    const outcome = await page.evaluate((base) => {
      const connect = new lib.Connect(base);
      const heard = [];
      const twice = [];
      const stop = connect.onStatus((status) => heard.push([status, connect.status]));
      const each = (status) => twice.push(status);
      const stopFirst = connect.onStatus(each);
      connect.onStatus(each);
      connect.requireReconnect();
      stop();
      stopFirst();
      connect.disconnect();
      return { heard, twice, status: connect.status, notAFunction: attempt(() => connect.onStatus("idle")) };
    }, OAUTH2);
    // The listener runs once the core changed: the status it reads is the one it was told.
    assert.deepEqual(outcome.heard, [["reconnect_required", "reconnect_required"]]);
    assert.deepEqual(outcome.twice, ["reconnect_required", "reconnect_required", "idle"]);
    assert.equal(outcome.status, "idle");
    assertConnectError(outcome.notAFunction, "invalid_config");
  });
});

describe("handleCallback", () => {
  test("without an authorization response resolves null; a non-string URL rejects invalid_callback", async (t) => {
    const page = await openPage(t);
    const { none, number } = await page.evaluate(async () => ({
      none: await attemptAsync(() => lib.handleCallback("http://localhost:8080/page?tab=1")),
      number: await attemptAsync(() => lib.handleCallback(42)),
    }));
    assert.deepEqual(none, { promise: true, value: null });
    assert.equal(number.promise, true, "handleCallback threw synchronously instead of rejecting");
    assertConnectError(number, "invalid_callback");
  });

  test("with an unknown state rejects unknown_state", async (t) => {
    const page = await openPage(t);
    const outcome = await page.evaluate(() => attemptAsync(() => lib.handleCallback("http://localhost:8080/callback?code=c&state=never-sent")));
    assert.equal(outcome.promise, true);
    const error = assertConnectError(outcome, "unknown_state");
    assert.doesNotMatch(error.message, /never-sent/);
  });
});

describe("widgetIdentity", () => {
  test("shapes a Liquid result", async (t) => {
    const page = await openPage(t);
    const { identity, refused } = await page.evaluate(() => ({
      identity: attempt(() => lib.widgetIdentity({ provider: "liquid", session: { sessionId: "id-1", sessionSecret: "secret-1" } })),
      refused: attempt(() => lib.widgetIdentity(null)),
    }));
    assert.deepEqual(identity, { value: { user_session: { session_id: "id-1", session_secret: "secret-1" } } });
    assertConnectError(refused, "invalid_config");
  });
});

describe("the wasm boundary", () => {
  // The loader copies short ASCII text byte by byte and hands the rest to TextEncoder and
  // TextDecoder (pkg-template/index.js `put` and `answer`): every length around its limits, with
  // and without non-ASCII text at either end, must cross unchanged both ways.
  test("text of every length and script crosses intact", async (t) => {
    const page = await openPage(t);
    const results = await page.evaluate(() => {
      const samples = [];
      // The lengths of `sessionId` that put the call's JSON text at 1,024 and 1,025 units and the
      // answer at 192 and 193 bytes (`put`'s and `answer`'s limits), and others around them.
      const call = JSON.stringify(["widgetIdentity", { provider: "liquid", session: { sessionId: "", sessionSecret: "s" } }]).length;
      const reply = JSON.stringify({ ok: { user_session: { session_id: "", session_secret: "s" } } }).length;
      const edges = [1024 - call, 1025 - call, 192 - reply, 193 - reply];
      for (const length of [0, 1, 60, 100, 150, 500, 1000, 3000, ...edges]) {
        for (const [name, unit] of [["ascii", "a"], ["del", "\u007f"], ["latin1", "\u0080"], ["euro", "€"], ["emoji", "😀"]]) {
          const body = "x".repeat(Math.max(0, length - unit.length));
          samples.push([`${length} ${name} last`, body + unit], [`${length} ${name} first`, unit + body]);
        }
      }
      samples.push(["lone surrogate", "a\uD800b"], ["nul", "\u0000"]);
      return samples.map(([name, text]) => {
        const outcome = attempt(() => lib.widgetIdentity({ provider: "liquid", session: { sessionId: text, sessionSecret: "s" } }));
        return [name, text.replace(/[\uD800-\uDFFF]/gu, (unit) => (unit.length === 1 ? "\uFFFD" : unit)), outcome];
      });
    });
    for (const [name, expected, outcome] of results) {
      assert.deepEqual(outcome, { value: { user_session: { session_id: expected, session_secret: "s" } } }, name);
    }
  });
});
