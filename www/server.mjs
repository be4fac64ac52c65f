// The demo and test server: one Node process, everything on loopback.
//
//   app       http://localhost:APP_PORT    the demo page, the built package (/pkg/), the callback page,
//                                          an integrator's backend route (/api/oauth2/exchange) and,
//                                          with `testPages`, the end-to-end test pages (/test/)
//   provider  http://127.0.0.1:PORT        a real OpenID provider (oidc-provider), cross-origin to the app
//
// The app also answers on http://127.0.0.1:APP_PORT: the same files from another origin, which the
// tests use as an attacker's site.
//
// Run `node www/server.mjs [--port N]` (default 8080; 0 picks a free port), or import
// `startDemoServer()` from tests.
import http from "node:http";
import { readFile, stat } from "node:fs/promises";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readdir } from "node:fs/promises";
import { startOidcProvider } from "./provider/oidc.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DEMO_CLIENT_ID = "oauth-connect-demo";

const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".ts": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
};

// URL path prefix -> folder. Paths are resolved inside their folder only.
const MOUNTS = [
  ["/pkg/", join(root, "pkg")],
  ["/", join(root, "www", "public")],
];
// Only when asked for: the demo never serves the test pages.
const TEST_MOUNT = ["/test/", join(root, "tests", "e2e", "pages")];
// Clean URLs for the pages.
const PAGES = {
  "/": "/index.html",
  "/callback": "/callback.html",
  "/test/callback": "/test/callback.html",
  "/test/csp/": "/test/csp/index.html",
  "/test/csp/callback": "/test/csp/callback.html",
  "/test/react/": "/test/react/index.html",
};

/**
 * The Content-Security-Policy of a strict (fintech) app page, Trusted Types included: scripts and
 * styles from the app's own origin only, no inline anything, no eval (only wasm compilation),
 * requests to the app and to the provider's origin (discovery, token endpoint).
 */
export function strictCsp(providerOrigin) {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    `connect-src 'self' ${providerOrigin}`,
    "img-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join("; ");
}

async function serveStatic(req, res, mounts, headers = {}) {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  const wanted = PAGES[path] ?? path;
  for (const [prefix, folder] of mounts) {
    if (!wanted.startsWith(prefix)) continue;
    const file = normalize(join(folder, wanted.slice(prefix.length)));
    if (!file.startsWith(folder + sep)) break;
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) break;
    res.writeHead(200, {
      "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": "no-store",
      ...headers,
    });
    res.end(await readFile(file));
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" }).end("not found");
}

/** Listen on 127.0.0.1 and, where the machine has it, [::1], so that `localhost` answers either way. */
async function listenOnLoopback(server, port) {
  await new Promise((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
  const chosen = server.address().port;
  const v6 = http.createServer(server.listeners("request")[0]);
  await new Promise((resolve) => v6.once("error", () => resolve()).listen(chosen, "::1", resolve));
  return { port: chosen, v6 };
}

const sendJson = (res, status, body) => {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
};

async function readJson(req) {
  let raw = "";
  for await (const chunk of req) {
    raw += chunk;
    if (raw.length > 10_000) throw new Error("body too large");
  }
  return JSON.parse(raw);
}

/**
 * POST /api/oauth2/exchange, as an integrator's backend would write it for the `oauth2` kind's
 * `exchangeEndpoint`: the browser sends `{ code, codeVerifier, redirectUri, state }`, the backend
 * redeems the code at the provider's token endpoint and keeps the tokens to itself; the browser
 * only learns that the account is connected. Provider errors go back with the provider's status.
 */
async function exchangeRoute(req, res, { tokenEndpoint, clientId, redirectUris, log }) {
  if (req.method !== "POST") return sendJson(res, 405, { error: "method_not_allowed" });
  const body = await readJson(req).catch(() => null);
  const { code, codeVerifier, redirectUri, state } = body ?? {};
  const entry = { state, redirectUri, codeVerifier, status: 400 };
  log.push(entry); // what the backend saw, for the tests (a real one would not keep the verifier)
  if (![code, codeVerifier, redirectUri].every((v) => typeof v === "string" && v)) {
    return sendJson(res, 400, { error: "invalid_request", error_description: "code, codeVerifier and redirectUri are required" });
  }
  // Only the app's own callback pages: the redirect_uri must be the one the code was issued for.
  if (!redirectUris.includes(redirectUri)) {
    return sendJson(res, 400, { error: "invalid_request", error_description: "unknown redirectUri" });
  }
  const reply = await fetch(tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri,
      client_id: clientId, // a public client: no secret
      code_verifier: codeVerifier,
    }),
  });
  const tokens = await reply.json().catch(() => ({}));
  entry.status = reply.status;
  if (!reply.ok) {
    const { error = "server_error", error_description } = tokens;
    return sendJson(res, reply.status, { error, error_description });
  }
  // A real backend would store the tokens against the signed-in user here.
  sendJson(res, 200, { connected: true, scope: tokens.scope, expiresIn: tokens.expires_in });
}

/**
 * The provider integrations in www/integrations/: each module starts its sandbox (a local
 * stand-in for a provider that cannot be reached from here, following its document) and adds
 * the app-backend routes an integrator would write. A module exports
 *   name: string
 *   start({ appOrigin, callbackUrls: { demo, test }, testPages }) -> Promise<{
 *     routes: { [path]: (req, res) => Promise<void> },   // the app's backend half, on the app origin
 *     browserConfig: { demo: object, test: { [variant]: object } },   // `Connect` configs, no secret
 *     banner?: string,          // one line printed by the demo command
 *     handle?: object,          // knobs and counters for the tests
 *     close(): Promise<void> }>
 */
async function startIntegrations(context) {
  const folder = join(root, "www", "integrations");
  const files = (await readdir(folder).catch(() => [])).filter((file) => file.endsWith(".mjs")).sort();
  const started = [];
  for (const file of files) {
    const module = await import(pathToFileURL(join(folder, file)).href);
    started.push({ name: module.name, ...(await module.start(context)) });
  }
  return started;
}

/**
 * Start the app and the provider on loopback.
 * - `accessTokenTtlSeconds`: the provider's access token lifetime (short ones exercise refresh).
 * - `testPages`: serve tests/e2e/pages/ at /test/ and register its callback pages
 *   (`/test/callback`, and `/test/callback?from=app` for a redirect URI with its own query);
 *   everything under /test/csp/ is served under `strictCsp()` (its callback: `/test/csp/callback`).
 */
export async function startDemoServer({ port = 8080, accessTokenTtlSeconds = 60, testPages = false } = {}) {
  let config = null;
  let exchange = null;
  let csp = null;
  const mounts = testPages ? [TEST_MOUNT, ...MOUNTS] : MOUNTS;
  const fail = (res) => (error) => {
    if (res.headersSent) return res.destroy();
    res.writeHead(500, { "content-type": "text/plain" }).end(String(error?.message ?? error));
  };
  const routes = {};
  let provider = null;
  const app = http.createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (path === "/config.json") return sendJson(res, 200, config);
    if (path === "/api/oauth2/exchange") return exchangeRoute(req, res, exchange).catch(fail(res));
    // A demo control: the provider revokes every grant, as when a user removes the app's access.
    if (path === "/api/demo/oidc/revoke" && req.method === "POST") {
      return provider.revokeAllGrants().then((revoked) => sendJson(res, 200, { revoked }), fail(res));
    }
    if (routes[path]) return routes[path](req, res).catch(fail(res));
    const headers = testPages && path.startsWith("/test/csp/") ? { "content-security-policy": csp } : {};
    serveStatic(req, res, mounts, headers).catch(fail(res));
  });
  const { port: appPort, v6 } = await listenOnLoopback(app, port);
  const appOrigin = `http://localhost:${appPort}`;
  const redirectUris = [`${appOrigin}/callback`];
  if (testPages) redirectUris.push(`${appOrigin}/test/callback`, `${appOrigin}/test/callback?from=app`, `${appOrigin}/test/react/`, `${appOrigin}/test/csp/callback`);
  provider = await startOidcProvider({
    clients: [{ client_id: DEMO_CLIENT_ID, redirect_uris: redirectUris }],
    accessTokenTtlSeconds,
  });
  csp = strictCsp(new URL(provider.issuer).origin);
  const tokenEndpoint = `${provider.issuer}/token`;
  const exchangeEndpoint = `${appOrigin}/api/oauth2/exchange`;
  const backend = { exchanges: [] };
  exchange = { tokenEndpoint, clientId: DEMO_CLIENT_ID, redirectUris, log: backend.exchanges };
  // What the page needs to talk to the provider; no secret: the client is public.
  config = {
    oidc: {
      issuer: provider.issuer,
      authorizationEndpoint: `${provider.issuer}/auth`,
      clientId: DEMO_CLIENT_ID,
      redirectUri: `${appOrigin}/callback`,
    },
  };
  if (testPages) {
    config.test = {
      appOrigin,
      issuer: provider.issuer,
      authorizationEndpoint: `${provider.issuer}/auth`,
      tokenEndpoint,
      exchangeEndpoint,
      clientId: DEMO_CLIENT_ID,
      redirectUris: {
        plain: `${appOrigin}/test/callback`,
        params: `${appOrigin}/test/callback?from=app`,
        react: `${appOrigin}/test/react/`,
        csp: `${appOrigin}/test/csp/callback`,
      },
    };
  }
  const integrations = await startIntegrations({
    appOrigin,
    callbackUrls: { demo: `${appOrigin}/callback`, test: `${appOrigin}/test/callback` },
    testPages,
  });
  config.integrations = {};
  for (const integration of integrations) {
    Object.assign(routes, integration.routes);
    config.integrations[integration.name] = testPages ? integration.browserConfig : { demo: integration.browserConfig.demo };
  }
  return {
    appOrigin,
    /** Each integration's knobs and counters, by name. */
    integrations: Object.fromEntries(integrations.map((i) => [i.name, i.handle ?? {}])),
    /** One line per integration for the demo's start-up message. */
    banners: integrations.map((i) => i.banner).filter(Boolean),
    /** The same server seen from another origin: the tests' attacker site. */
    otherOrigin: `http://127.0.0.1:${appPort}`,
    provider,
    /** What the backend route saw: [{ state, redirectUri, codeVerifier, status }]. */
    backend,
    async close() {
      await Promise.all(integrations.map((i) => i.close()));
      await provider.close();
      app.closeAllConnections?.();
      v6.closeAllConnections?.();
      await Promise.all([new Promise((r) => app.close(r)), new Promise((r) => v6.close(() => r()))]);
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const portArg = process.argv.indexOf("--port");
  const port = Number(portArg > 0 ? process.argv[portArg + 1] : process.env.PORT ?? 8080);
  const demo = await startDemoServer({ port });
  console.log(`oauth-connect demo:   ${demo.appOrigin}/`);
  console.log(`OpenID provider:      ${demo.provider.issuer}  (any user name signs in)`);
  for (const banner of demo.banners) console.log(banner);
  console.log("Ctrl-C stops it.");
  const stop = () => demo.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
