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
// The demo signs its visitor in, as an app with a login would: the first page a browser loads
// sets a session cookie (random, HttpOnly, SameSite=Lax) and the server keeps which user that
// session is (`DEMO_USER`). Every backend route asks `identityOf(req)` who is signed in and acts
// for that user only; the browser never names them. Every route sits behind `jsonRoute`
// (www/lib/http.mjs): POST, JSON, the app's own origin, a signed-in user, a bounded body.
//
// Run `node www/server.mjs [--port N]` (default 8080; 0 picks a free port), or import
// `startDemoServer()` from tests.
import http from "node:http";
import { readFile, stat } from "node:fs/promises";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readdir } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { startOidcProvider } from "./provider/oidc.mjs";
import { cookieOf, jsonRoute, sendJson } from "./lib/http.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DEMO_CLIENT_ID = "oauth-connect-demo";
/** The user every visitor of the demo is signed in as (the one the pages' configs name). */
export const DEMO_USER = "user-42";
const SESSION_COOKIE = "demo_session";

/**
 * The demo's sign-in: session id -> user, kept on the server; the cookie holds only a random id.
 * SameSite=Lax, not Strict: a provider sends the user back to the callback page with a cross-site
 * navigation, and under Strict that page would load looking signed out. Lax still keeps the
 * cookie off every cross-site POST. (On https, add `Secure`.)
 */
function createSessions() {
  const users = new Map();
  return {
    /** A new session for `user`; returns the `name=value` pair of its cookie. */
    signIn(user) {
      const id = randomBytes(32).toString("base64url");
      users.set(id, user);
      return `${SESSION_COOKIE}=${id}`;
    },
    /** The signed-in user of a request, or null. */
    identityOf(req) {
      return users.get(cookieOf(req, SESSION_COOKIE) ?? "") ?? null;
    },
  };
}

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

/** `onPage()` adds headers to HTML pages only (the sign-in cookie). */
async function serveStatic(req, res, mounts, headers = {}, onPage = () => ({})) {
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
      ...(extname(file) === ".html" ? onPage() : {}),
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

/**
 * POST /api/oauth2/exchange, as an integrator's backend would write it for the `oauth2` kind's
 * `exchangeEndpoint`: the browser sends `{ code, codeVerifier, redirectUri, state }`, the backend
 * redeems the code at the provider's token endpoint and keeps the tokens to itself; the browser
 * only learns that the account is connected. Provider errors go back with the provider's status.
 * Behind `jsonRoute`: only the app's pages, for its signed-in user, whose connection it is.
 */
async function exchangeRoute({ res, body, user }, { tokenEndpoint, clientId, redirectUris, log }) {
  const { code, codeVerifier, redirectUri, state } = body;
  const entry = { state, redirectUri, codeVerifier, user, status: 400 };
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
  // A real backend would store the tokens against `user` here.
  sendJson(res, 200, { connected: true, scope: tokens.scope, expiresIn: tokens.expires_in });
}

/**
 * The provider integrations in www/integrations/: each module starts its sandbox (a local
 * stand-in for a provider that cannot be reached from here, following its document) and adds
 * the app-backend routes an integrator would write. A module exports
 *   name: string
 *   start({ appOrigin, callbackUrls: { demo, test }, testPages, identityOf, demoUser }) -> Promise<{
 *     routes: { [path]: (req, res) => Promise<void> },   // the app's backend half, on the app origin,
 *                                                        // each behind jsonRoute({ appOrigin, identityOf })
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
  // Whatever failed, the answer says only that (an error's message can carry a URL or a value).
  const fail = (res) => () => {
    if (res.headersSent) return res.destroy();
    sendJson(res, 500, { error: "server_error" });
  };
  const sessions = createSessions();
  const identityOf = (req) => sessions.identityOf(req);
  // A page load signs a browser in when it is not yet: the cookie is there before any route call.
  const signInOnPage = (req) => () =>
    sessions.identityOf(req) ? {} : { "set-cookie": `${sessions.signIn(DEMO_USER)}; Path=/; HttpOnly; SameSite=Lax` };
  const routes = {};
  let provider = null;
  const app = http.createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (path === "/config.json") return sendJson(res, 200, config);
    if (routes[path]) return routes[path](req, res).catch(fail(res));
    const headers = testPages && path.startsWith("/test/csp/") ? { "content-security-policy": csp } : {};
    serveStatic(req, res, mounts, headers, signInOnPage(req)).catch(fail(res));
  });
  const { port: appPort, v6 } = await listenOnLoopback(app, port);
  const appOrigin = `http://localhost:${appPort}`;
  const route = (handler) => jsonRoute({ appOrigin, identityOf }, handler);
  routes["/api/oauth2/exchange"] = route((request) => exchangeRoute(request, exchange));
  // A demo control: the provider revokes every grant, as when a user removes the app's access.
  routes["/api/demo/oidc/revoke"] = route(async ({ res }) => sendJson(res, 200, { revoked: await provider.revokeAllGrants() }));
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
    identityOf,
    demoUser: DEMO_USER,
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
    /** What the backend route saw: [{ state, redirectUri, codeVerifier, user, status }]. */
    backend,
    /**
     * Sign a user in (default: the demo's), as a page load does; returns the `Cookie` header
     * value, for tests that call the routes from Node.
     */
    signIn: (user = DEMO_USER) => sessions.signIn(user),
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
