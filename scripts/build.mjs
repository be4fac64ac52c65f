// `npm run build`: wasm-pack builds the wasm and its glue into pkg/, then pkg-template/ is laid
// over it (the published package.json, the entry module, its types and README).
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = join(root, "pkg");

rmSync(pkg, { recursive: true, force: true });
execFileSync("wasm-pack", ["build", "--target", "web", "--release", "--no-pack", "--out-dir", "pkg"], {
  cwd: root,
  stdio: "inherit",
});
for (const file of readdirSync(join(root, "pkg-template"))) {
  cpSync(join(root, "pkg-template", file), join(pkg, file), { recursive: true });
}
// wasm-pack writes a .gitignore of "*" that would hide the package from `npm pack`.
rmSync(join(pkg, ".gitignore"), { force: true });
console.log("built pkg/:", readdirSync(pkg).join(" "));
