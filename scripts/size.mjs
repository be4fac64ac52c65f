// `npm run size`: the bytes an app downloads for oauth-connect, raw, gzip -9 and brotli
// (quality 11), one line per file and a total: the wasm, the entry module (with the wasm's
// loader, as there is no generated glue, and the button's stylesheet) and the React entry, each
// as the package ships it (each served and compressed on its own).
// Two peers measured in the same run put the figures in context, each bundled by esbuild as an
// app would ship it (minified, ESM, browser platform, tree-shaken, only what the entry uses):
//   - oidc-client-ts: an entry that imports `UserManager` and calls `signinPopup()` on a click;
//   - oauth4webapi: an entry that runs a whole authorization-code flow with PKCE (discovery,
//     PKCE, state, the authorization URL, the callback check, the code exchange, a refresh).
// Figures are printed, never asserted. The target is the brotli total of oauth-connect.
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const TARGET_BROTLI = 35_000;

function measure(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }).length,
  };
}

const WIDTH = 44;
const row = (label, m) =>
  `${label.padEnd(WIDTH)} ${String(m.raw).padStart(8)} ${String(m.gzip).padStart(8)} ${String(m.brotli).padStart(8)}`;

/** Print a table of `[label, bytes]` rows and a total; return the total. */
function report(title, files) {
  console.log(`${title}\n${"file".padEnd(WIDTH)} ${"raw".padStart(8)} ${"gzip -9".padStart(8)} ${"brotli".padStart(8)}`);
  const total = { raw: 0, gzip: 0, brotli: 0 };
  for (const [label, bytes] of files) {
    const m = measure(bytes);
    for (const key of Object.keys(total)) total[key] += m[key];
    console.log(row(label, m));
  }
  if (files.length > 1) console.log(row("total", total));
  return total;
}

const versionOf = (name) => JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;

/** esbuild bundle of `contents` (an ESM entry), as an app's production build would make it. */
async function bundle(contents) {
  const result = await build({
    stdin: { contents, resolveDir: root, sourcefile: "app-entry.js", loader: "js" },
    bundle: true,
    write: false,
    minify: true,
    treeShaking: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    legalComments: "none",
    logLevel: "silent",
  });
  return Buffer.from(result.outputFiles[0].contents);
}

// An app that connects an account with oidc-client-ts: a UserManager, signinPopup() on a click.
const OIDC_CLIENT_APP = `
import { UserManager } from "oidc-client-ts";
const users = new UserManager({
  authority: "https://as.example",
  client_id: "app",
  redirect_uri: "https://app.example/callback",
  popup_redirect_uri: "https://app.example/callback",
  scope: "openid profile",
});
document.querySelector("#connect").addEventListener("click", async () => {
  const user = await users.signinPopup();
  document.querySelector("#result").textContent = user.profile.sub;
});
`;

// The same with oauth4webapi: the whole authorization-code flow with PKCE, as a public client.
const OAUTH4WEBAPI_APP = `
import * as oauth from "oauth4webapi";
const issuer = new URL("https://as.example");
const client = { client_id: "app" };
const clientAuth = oauth.None();
const redirectUri = "https://app.example/callback";
async function server() {
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer));
}
export async function connect() {
  const as = await server();
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
  const state = oauth.generateRandomState();
  sessionStorage.setItem("tx", JSON.stringify({ codeVerifier, state }));
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set("client_id", client.client_id);
  url.searchParams.set("redirect_uri", redirectUri);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("scope", "openid profile");
  url.searchParams.set("code_challenge", codeChallenge);
  url.searchParams.set("code_challenge_method", "S256");
  url.searchParams.set("state", state);
  location.assign(url.href);
}
export async function callback() {
  const as = await server();
  const { codeVerifier, state } = JSON.parse(sessionStorage.getItem("tx"));
  const params = oauth.validateAuthResponse(as, client, new URL(location.href), state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, codeVerifier);
  return oauth.processAuthorizationCodeResponse(as, client, response);
}
export async function refresh(refreshToken) {
  const as = await server();
  const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshToken);
  return oauth.processRefreshTokenResponse(as, client, response);
}
`;

const pkg = join(root, "pkg");
for (const file of ["oauth_connect_bg.wasm", "index.js", "react.js"]) {
  if (!existsSync(join(pkg, file))) {
    console.error(`pkg/${file} is missing: run \`npm run build\` first`);
    process.exit(1);
  }
}
const read = (file) => readFileSync(join(pkg, file));
const ours = report("OURS: oauth-connect (pkg/, every file an app downloads, as shipped)", [
  ["oauth_connect_bg.wasm", read("oauth_connect_bg.wasm")],
  ["index.js (entry, loader and runner)", read("index.js")],
  ["react.js (react entry)", read("react.js")],
]);

console.log();
const oidc = report(
  `PEER: oidc-client-ts ${versionOf("oidc-client-ts")} (esbuild bundle: UserManager + signinPopup, minified)`,
  [["app bundle (incl. jwt-decode)", await bundle(OIDC_CLIENT_APP)]],
);

console.log();
const o4w = report(
  `PEER: oauth4webapi ${versionOf("oauth4webapi")} (esbuild bundle: whole auth-code + PKCE flow, minified)`,
  [["app bundle", await bundle(OAUTH4WEBAPI_APP)]],
);

const ratio = (a, b) => (a / b).toFixed(2);
console.log(
  `\nSUMMARY (brotli): oauth-connect ${ours.brotli} B, target <= ${TARGET_BROTLI} B: ` +
    `${ours.brotli <= TARGET_BROTLI ? "met" : `NOT met (${ours.brotli - TARGET_BROTLI} B over)`}; ` +
    `oauth-connect / oidc-client-ts = ${ratio(ours.brotli, oidc.brotli)}, ` +
    `oauth-connect / oauth4webapi = ${ratio(ours.brotli, o4w.brotli)}`,
);
