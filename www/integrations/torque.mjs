// Torque Connect in the demo/test server: starts the local sandbox (www/sandboxes/torque.mjs),
// mounts the app's backend routes (www/backend/torque.mjs) and gives the pages their `Connect`
// configs (no secret: the business key stays in the backend).
//
// Test handle (`server.integrations.torque`): the sandbox's `origin`, `stats`, `resetStats()`,
// `setCoop(on)`, `advanceTime(ms)`, plus `corruptVerifier`: when true, the backend sends Torque
// a wrong (well-formed) codeVerifier, so the token exchange fails its PKCE check.
import { randomBytes } from "node:crypto";
import { startTorqueSandbox } from "../sandboxes/torque.mjs";
import { createTorqueBackend } from "../backend/torque.mjs";

export const name = "torque";

export async function start({ appOrigin, callbackUrls, identityOf, demoUser }) {
  // The business key the portal issued to the app; a fresh one per run, known to the sandbox
  // and handed to the backend only.
  const businessKey = `sk_test_${randomBytes(24).toString("base64url")}`;
  const redirectUris = [callbackUrls.demo, callbackUrls.test];
  const sandbox = await startTorqueSandbox({ businessKeys: [businessKey], redirectUris, appName: "oauth-connect demo" });

  const handle = {
    origin: sandbox.origin,
    stats: sandbox.stats,
    resetStats: () => sandbox.resetStats(),
    setCoop: (on) => sandbox.setCoop(on),
    advanceTime: (ms) => sandbox.advanceTime(ms),
    corruptVerifier: false,
  };

  // The test knob sits in the HTTP client given to the backend, not in the backend itself.
  const fetchForBackend = (url, init) => {
    if (handle.corruptVerifier && String(url).endsWith("/api/v1/connect/token")) {
      const body = JSON.parse(init.body);
      body.codeVerifier = randomBytes(32).toString("base64url"); // well-formed, but not the one
      init = { ...init, body: JSON.stringify(body) };
    }
    return fetch(url, init);
  };
  const backend = createTorqueBackend({ apiBase: sandbox.origin, businessKey, redirectUris, appOrigin, identityOf, fetch: fetchForBackend });

  const config = (redirectUri) => ({
    kind: "torque",
    sessionEndpoint: "/api/torque/session",
    exchangeEndpoint: "/api/torque/exchange",
    redirectUri,
    // The page may name the user (the backend refuses any other); the backend sends Torque the
    // signed-in user either way.
    externalUserId: demoUser,
    scope: ["wallet:read", "transfers:execute"],
  });
  const test = config(callbackUrls.test);
  return {
    routes: {
      "/api/torque/session": backend.session,
      "/api/torque/exchange": backend.exchange,
      "/api/torque/transfers": backend.transfers,
    },
    browserConfig: {
      demo: config(callbackUrls.demo),
      test: {
        default: test,
        // No externalUserId and no scope: Torque's default scopes, the backend's signed-in user.
        minimal: { kind: test.kind, sessionEndpoint: test.sessionEndpoint, exchangeEndpoint: test.exchangeEndpoint, redirectUri: test.redirectUri },
      },
    },
    banner: `Torque sandbox:       ${sandbox.origin}  (Connect consent screen; business key held by the app backend, /api/torque/*)`,
    handle,
    close: () => sandbox.close(),
  };
}
