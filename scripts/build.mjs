// `npm run build`: cargo builds the wasm (no wasm-bindgen: src/lib.rs exports plain functions and
// the loader in pkg-template/index.js calls them), wasm-opt -Oz shrinks it into
// pkg/oauth_connect_bg.wasm, then pkg-template/ is laid over it (the published package.json, the
// entry module with the loader, its types and README, the button's stylesheet), the stylesheet's
// text is written out as a module for the entry to adopt, and the JS is minified.
//
// The release wasm is built with the nightly pinned in scripts/nightly.env (scripts/setup.sh
// installs its parts), for size (docs/size.md): `-Z build-std` rebuilds std with this profile
// (opt-level z, LTO) instead of linking the prebuilt one, and `-C panic=immediate-abort` turns
// every panic into a bare `unreachable` trap, so no panic message, location or `core::fmt` code is
// shipped (a panic already trapped the instance with `panic = "abort"`; only its console message
// goes), and `-Zcross-crate-inline-threshold=always` compiles the standard library's functions
// with this crate's code (smaller). When that nightly is not installed, the build warns and uses
// stable Rust without any of them (a bigger wasm that works the same). Nothing else runs on nightly: `cargo test` uses stable.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";
import { minify } from "terser";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = join(root, "pkg");

const pin = Object.fromEntries(
  readFileSync(join(root, "scripts", "nightly.env"), "utf8")
    .split("\n")
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => line.split("=")),
);
const nightly = process.env.OAUTH_CONNECT_NIGHTLY || pin.NIGHTLY_TOOLCHAIN;
let found = "";
try {
  found = execFileSync("rustc", [`+${nightly}`, "--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
} catch {}
const onNightly = found.includes("-nightly") && found.endsWith(` ${pin.NIGHTLY_DATE})`);

rmSync(pkg, { recursive: true, force: true });
mkdirSync(pkg);
const cargo = ["build", "--release", "--target", "wasm32-unknown-unknown"];
const env = { ...process.env };
// The static data (messages, tables, the allocator's and the random pool's state) at the bottom
// of memory, from address 16, and the stack after it, rather than the stack first and the data
// above its 1 MiB: every address of a message or a static the code holds is then a 2-byte
// constant instead of a 4-byte one (1,412 B raw, 254 B brotli less; docs/size.md). The stack-first
// layout's one gain is that an overflow traps rather than writing over the data; the core's only
// recursion is bounded (JSON nests at most `json::MAX_DEPTH` = 64 deep: parsing, writing, cloning
// and dropping a value), a few KiB of the 1 MiB stack.
const linkArgs = '"-Clink-arg=--no-stack-first", "-Clink-arg=--global-base=16"';
if (onNightly) {
  // `--config` adds to any target rustflags of a cargo config rather than replacing them as
  // RUSTFLAGS would.
  // `-Zcross-crate-inline-threshold=always` makes every function of every crate (the standard
  // library included) available to its callers' crate, as if marked `#[inline]`: the standard
  // library's helpers are then compiled and optimized with this crate's code at opt-level "z",
  // 4,563 B raw and 1,876 B brotli smaller, at the same speed (docs/size.md).
  const rustflags = `["-Zunstable-options", "-Cpanic=immediate-abort", "-Zcross-crate-inline-threshold=always", ${linkArgs}]`;
  cargo.push("-Zbuild-std=std,panic_abort", "--config", `target.wasm32-unknown-unknown.rustflags=${rustflags}`);
  env.RUSTUP_TOOLCHAIN = nightly;
} else {
  console.warn(
    `\n[build] WARNING: nightly Rust of ${pin.NIGHTLY_DATE} (scripts/nightly.env) is not installed: \`rustc +${nightly} --version\` gives: ${found || "nothing"}.\n` +
      "[build] Building on stable Rust instead, without -Z build-std and -C panic=immediate-abort: the wasm works the same but is\n" +
      "[build] bigger (docs/size.md), and a panic prints its message. `bash scripts/setup.sh` says how to install the nightly, or set\n" +
      "[build] OAUTH_CONNECT_NIGHTLY to a toolchain of that date.\n",
  );
  env.RUSTUP_TOOLCHAIN = "stable";
  cargo.push("--config", `target.wasm32-unknown-unknown.rustflags=[${linkArgs}]`);
}
execFileSync("cargo", cargo, { cwd: root, stdio: "inherit", env });
// The feature flags are those the wasm is built with (the target's defaults on the pinned nightly and stable).
try {
  execFileSync(
    "wasm-opt",
    // `-Oz`, then the control flow rebuilt by the Relooper (`--flatten --rereloop`, which needs
    // flat code) and `-Oz` twice more: 810 B raw and 247 B brotli smaller than `-Oz` alone, a
    // connect click as fast side by side (docs/size.md).
    ["-Oz", "--flatten", "--rereloop", "-Oz", "-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext", "--enable-mutable-globals",
      "--enable-reference-types", "--enable-multivalue", "--strip-debug", "--strip-producers",
      join(root, "target", "wasm32-unknown-unknown", "release", "oauth_connect.wasm"), "-o", join(pkg, "oauth_connect_bg.wasm")],
    { cwd: root, stdio: "inherit" },
  );
} catch (error) {
  if (error.code === "ENOENT") {
    console.error("npm run build needs wasm-opt (Debian's binaryen): run `bash scripts/setup.sh`.");
    process.exit(1);
  }
  throw error;
}
for (const file of readdirSync(join(root, "pkg-template"))) {
  cpSync(join(root, "pkg-template", file), join(pkg, file), { recursive: true });
}
// button.css is the one source of the button's look; the entry applies it as a constructed
// stylesheet (no inline <style>: `style-src 'self'` allows it), so it needs the text: the
// build puts it in place of the entry's `import buttonCss from "./button-style.js"`, which
// saves the page a request.
// esbuild minifies it (comments, whitespace, shorter colours and values).
const css = transformSync(readFileSync(join(root, "pkg-template", "button.css"), "utf8"), { loader: "css", minify: true, legalComments: "none" }).code.trim();
const styleImport = 'import buttonCss from "./button-style.js";';
const entry = readFileSync(join(pkg, "index.js"), "utf8");
if (!entry.includes(styleImport)) throw new Error(`pkg-template/index.js must import the button's style as: ${styleImport}`);
writeFileSync(join(pkg, "index.js"), entry.replace(styleImport, `const buttonCss = ${JSON.stringify(css)};`));
// What an app downloads ships minified (the readable sources are pkg-template/); the types,
// README and CSS stay as they are. Tree shaking drops the entry's named constants (the wire's
// event and effect kinds) once the minifier has put their numbers in their place. terser's
// compressor then takes a second pass over esbuild's output, with its safe options only
// (-78 B brotli of entry and React entry, 2026-12-02; docs/size.md).
for (const file of ["index.js", "react.js"]) {
  const path = join(pkg, file);
  const { code } = transformSync(readFileSync(path, "utf8"), { minify: true, treeShaking: true, format: "esm", target: "es2022", legalComments: "none" });
  const compressed = await minify(code, { module: true, ecma: 2022, compress: { passes: 2 }, mangle: true, format: { comments: false } });
  writeFileSync(path, compressed.code);
}
console.log("built pkg/:", readdirSync(pkg).join(" "));
