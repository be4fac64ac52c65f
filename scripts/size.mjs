// `npm run size`: the bytes an app downloads for oauth-connect (wasm + generated glue + entry
// module + the button's stylesheet module), raw, gzip -9 and brotli (quality 11), one line per
// file and a total. A peer measured in the same run puts the figures in context: oauth4webapi,
// a low-level OAuth client library of plain JS (PKCE, URLs, callback validation and more).
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function measure(path) {
  const bytes = readFileSync(path);
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }).length,
  };
}

const row = (label, m) =>
  `${label.padEnd(36)} ${String(m.raw).padStart(8)} ${String(m.gzip).padStart(8)} ${String(m.brotli).padStart(8)}`;

function report(title, files) {
  console.log(`${title}\n${"file".padEnd(36)} ${"raw".padStart(8)} ${"gzip -9".padStart(8)} ${"brotli".padStart(8)}`);
  const total = { raw: 0, gzip: 0, brotli: 0 };
  for (const [label, path] of files) {
    const m = measure(path);
    for (const key of Object.keys(total)) total[key] += m[key];
    console.log(row(label, m));
  }
  console.log(row("total", total));
  return total;
}

const pkg = join(root, "pkg");
if (!existsSync(join(pkg, "oauth_connect_bg.wasm"))) {
  console.error("pkg/ is not built: run `npm run build` first");
  process.exit(1);
}
const ours = report("oauth-connect (pkg/, as an app downloads it)", [
  ["oauth_connect_bg.wasm", join(pkg, "oauth_connect_bg.wasm")],
  ["oauth_connect.js (wasm-bindgen glue)", join(pkg, "oauth_connect.js")],
  ["index.js (entry)", join(pkg, "index.js")],
  ["button-style.js (the button's CSS)", join(pkg, "button-style.js")],
]);

const peer = join(root, "node_modules", "oauth4webapi", "build", "index.js");
if (existsSync(peer)) {
  const version = JSON.parse(readFileSync(join(root, "node_modules", "oauth4webapi", "package.json"), "utf8")).version;
  console.log();
  const theirs = report(`peer: oauth4webapi ${version} (build/index.js, whole module, unminified)`, [["index.js", peer]]);
  console.log(`\nratio oauth-connect / oauth4webapi, gzip -9: ${(ours.gzip / theirs.gzip).toFixed(2)}`);
}
