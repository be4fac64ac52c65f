// The demo and test server: one Node process, everything on loopback.
//
//   app       http://localhost:APP_PORT    the demo page, the built package (/pkg/), the callback page
//   provider  http://127.0.0.1:PORT        a real OpenID provider (oidc-provider), cross-origin to the app
//
// Run `node www/server.mjs [--port N]` (default 8080; 0 picks a free port), or import
// `startDemoServer()` from tests.
import http from "node:http";
import { readFile, stat } from "node:fs/promises";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
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
// Clean URLs for the pages.
const PAGES = { "/": "/index.html", "/callback": "/callback.html" };

async function serveStatic(req, res) {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  const wanted = PAGES[path] ?? path;
  for (const [prefix, folder] of MOUNTS) {
    if (!wanted.startsWith(prefix)) continue;
    const file = normalize(join(folder, wanted.slice(prefix.length)));
    if (!file.startsWith(folder + sep)) break;
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) break;
    res.writeHead(200, {
      "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": "no-store",
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

export async function startDemoServer({ port = 8080, accessTokenTtlSeconds = 60 } = {}) {
  let config = null;
  const app = http.createServer((req, res) => {
    if (req.url === "/config.json") {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      return res.end(JSON.stringify(config));
    }
    serveStatic(req, res).catch((error) => {
      res.writeHead(500, { "content-type": "text/plain" }).end(String(error?.message ?? error));
    });
  });
  const { port: appPort, v6 } = await listenOnLoopback(app, port);
  const appOrigin = `http://localhost:${appPort}`;
  const provider = await startOidcProvider({
    clients: [{ client_id: DEMO_CLIENT_ID, redirect_uris: [`${appOrigin}/callback`] }],
    accessTokenTtlSeconds,
  });
  // What the page needs to talk to the provider; no secret: the client is public.
  config = {
    oidc: {
      issuer: provider.issuer,
      authorizationEndpoint: `${provider.issuer}/auth`,
      clientId: DEMO_CLIENT_ID,
      redirectUri: `${appOrigin}/callback`,
    },
  };
  return {
    appOrigin,
    provider,
    async close() {
      await provider.close();
      app.closeAllConnections?.();
      v6.closeAllConnections?.();
      await Promise.all([new Promise((r) => app.close(r)), new Promise((r) => v6.close(() => r()))]);
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const portArg = process.argv.indexOf("--port");
  const port = Number(portArg > 0 ? process.argv[portArg + 1] : process.env.PORT ?? 8080);
  const demo = await startDemoServer({ port });
  console.log(`oauth-connect demo:   ${demo.appOrigin}/`);
  console.log(`OpenID provider:      ${demo.provider.issuer}  (any user name signs in)`);
  console.log("Ctrl-C stops it.");
  const stop = () => demo.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
