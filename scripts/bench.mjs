// `npm run bench`: speed of the primitives in headless Chromium, beside a peer in the same run
// (oauth4webapi, which does the same work in plain JS with WebCrypto), and the cost of init().
// Figures are printed, never asserted: they vary with the machine.
import http from "node:http";
import { readFile } from "node:fs/promises";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../tests/e2e/browser.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };
const FILES = { "/pkg/": join(root, "pkg"), "/peer/": join(root, "node_modules", "oauth4webapi", "build") };

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, "http://x").pathname;
  if (path === "/") return res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>bench</title>");
  const prefix = Object.keys(FILES).find((p) => path.startsWith(p));
  try {
    const body = await readFile(join(FILES[prefix], path.slice(prefix.length)));
    res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
const page = await browser.newPage();
await page.goto(`${origin}/`);

const figures = await page.evaluate(async () => {
  const time = async (run, minMs = 400) => {
    let count = 0;
    const start = performance.now();
    while (performance.now() - start < minMs) {
      await run();
      count += 1;
    }
    return (count * 1000) / (performance.now() - start);
  };
  const started = performance.now();
  const lib = await import("/pkg/index.js");
  await lib.default();
  const initMs = performance.now() - started;
  const peer = await import("/peer/index.js");

  const endpoint = "https://as.example/authorize";
  const params = { response_type: "code", client_id: "app", redirect_uri: "https://app.example/cb", scope: "openid profile", state: "xyz", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256" };
  const callback = "https://app.example/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz&iss=https%3A%2F%2Fas.example";
  const as = { issuer: "https://as.example", authorization_endpoint: endpoint, authorization_response_iss_parameter_supported: true };
  const client = { client_id: "app" };
  return {
    "init() (fetch, compile, instantiate the wasm), ms": initMs.toFixed(1),
    "PKCE pair, oauth-connect createPkce(), ops/s": (await time(() => lib.createPkce())).toFixed(0),
    "PKCE pair, oauth4webapi (WebCrypto), ops/s": (await time(async () => peer.calculatePKCECodeChallenge(peer.generateRandomCodeVerifier()))).toFixed(0),
    "authorization URL, oauth-connect buildAuthorizeUrl(), ops/s": (await time(() => lib.buildAuthorizeUrl(endpoint, params))).toFixed(0),
    "authorization URL, plain URL + searchParams, ops/s": (await time(() => { const u = new URL(endpoint); for (const [k, v] of Object.entries(params)) u.searchParams.append(k, v); return u.href; })).toFixed(0),
    "callback check, oauth-connect parseCallback(), ops/s": (await time(() => lib.parseCallback(callback, { state: "xyz", issuer: "https://as.example" }))).toFixed(0),
    "callback check, oauth4webapi validateAuthResponse(), ops/s": (await time(() => peer.validateAuthResponse(as, client, new URL(callback), "xyz"))).toFixed(0),
  };
});
await browser.close();
server.close();
const width = Math.max(...Object.keys(figures).map((k) => k.length));
console.log(`Chromium ${browser.version?.() ?? ""}`.trim());
for (const [name, value] of Object.entries(figures)) console.log(`${name.padEnd(width)}  ${String(value).padStart(10)}`);
