// `npm run build`: wasm-pack builds the wasm and its glue into pkg/, then pkg-template/ is laid
// over it (the published package.json, the entry module, its types and README).
//
// The release wasm is built with the nightly pinned in scripts/nightly.env (scripts/setup.sh
// installs its parts), for size (docs/size.md): `-Z build-std` rebuilds std with this profile
// (opt-level z, LTO) instead of linking the prebuilt one, and `-C panic=immediate-abort` turns
// every panic into a bare `unreachable` trap, so no panic message, location or `core::fmt` code is
// shipped. A panic already trapped the instance with `panic = "abort"`; only its console message
// goes. Nothing else runs on nightly: `cargo test` and `wasm-pack test` use the stable toolchain.
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

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
  found = execFileSync("rustc", [`+${nightly}`, "--version"], { encoding: "utf8" }).trim();
} catch {}
if (!found.includes("-nightly") || !found.endsWith(` ${pin.NIGHTLY_DATE})`)) {
  console.error(
    `npm run build needs nightly Rust of ${pin.NIGHTLY_DATE} (scripts/nightly.env); \`rustc +${nightly} --version\` gives: ${found || "nothing"}.\n` +
      "Run `bash scripts/setup.sh` (it says how to install it), or set OAUTH_CONNECT_NIGHTLY to a toolchain of that date.",
  );
  process.exit(1);
}

rmSync(pkg, { recursive: true, force: true });
// `--config` adds to .cargo/config.toml's target rustflags (the getrandom backend) rather than
// replacing them as RUSTFLAGS would.
const rustflags = '["-Zunstable-options", "-Cpanic=immediate-abort"]';
execFileSync(
  "wasm-pack",
  ["build", root, "--target", "web", "--release", "--no-pack", "--out-dir", "pkg", "--",
    "-Zbuild-std=std,panic_abort", "--config", `target.wasm32-unknown-unknown.rustflags=${rustflags}`],
  { cwd: root, stdio: "inherit", env: { ...process.env, RUSTUP_TOOLCHAIN: nightly } },
);
for (const file of readdirSync(join(root, "pkg-template"))) {
  cpSync(join(root, "pkg-template", file), join(pkg, file), { recursive: true });
}
// wasm-pack writes a .gitignore of "*" that would hide the package from `npm pack`.
rmSync(join(pkg, ".gitignore"), { force: true });
console.log("built pkg/:", readdirSync(pkg).join(" "));
