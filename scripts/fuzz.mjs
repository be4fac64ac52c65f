// `npm run fuzz -- SECONDS` (default 60): runs every cargo-fuzz target of fuzz/ for SECONDS each
// and prints, per target, the executions and crashes; exits 1 when any target crashed.
//
// The targets (fuzz/fuzz_targets/) and what each checks are listed in fuzz/README.md. Each run
// starts from the seeds in fuzz/seeds/<target> and grows fuzz/corpus/<target> (not in git). A
// crash leaves its input in fuzz/artifacts/<target>/ and is printed; replay it with
// `cargo +nightly fuzz run <target> <file>` in fuzz/.
//
// Needs the pinned nightly (scripts/nightly.env; `bash scripts/setup.sh` installs it) and
// cargo-fuzz, which this script installs when it is missing (a few minutes, once).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const fuzz = join(root, "fuzz");
const seconds = Number(process.argv[2] ?? 60);
if (!Number.isInteger(seconds) || seconds < 1) {
  console.error("usage: npm run fuzz -- SECONDS   (a whole number of seconds per target)");
  process.exit(2);
}
const pin = Object.fromEntries(
  readFileSync(join(root, "scripts", "nightly.env"), "utf8")
    .split("\n")
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => line.split("=")),
);
const env = { ...process.env, RUSTUP_TOOLCHAIN: process.env.OAUTH_CONNECT_NIGHTLY || pin.NIGHTLY_TOOLCHAIN };
const CARGO_FUZZ = "0.13.2";

if (spawnSync("cargo", ["fuzz", "--version"], { env, stdio: "ignore" }).status !== 0) {
  console.log(`[fuzz] installing cargo-fuzz ${CARGO_FUZZ} (once)`);
  execFileSync("cargo", ["install", "cargo-fuzz", "--locked", "--version", CARGO_FUZZ], { stdio: "inherit" });
}
console.log("[fuzz] building the targets (nightly, sanitizers)");
execFileSync("cargo", ["fuzz", "build", "-O"], { cwd: fuzz, env, stdio: "inherit" });

const targets = readdirSync(join(fuzz, "fuzz_targets"))
  .filter((file) => file.endsWith(".rs"))
  .map((file) => file.slice(0, -3))
  .sort();
const rows = [];
for (const target of targets) {
  const corpus = join(fuzz, "corpus", target);
  const seeds = join(fuzz, "seeds", target);
  mkdirSync(corpus, { recursive: true });
  mkdirSync(seeds, { recursive: true });
  // -timeout: an input taking 10 s is a finding (linear time on hostile input); -rss_limit_mb
  // likewise for memory.
  const run = spawnSync(
    "cargo",
    ["fuzz", "run", "-O", target, corpus, seeds, "--", `-max_total_time=${seconds}`, "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1"],
    { cwd: fuzz, env, encoding: "utf8", maxBuffer: 1 << 28 },
  );
  const output = `${run.stdout}${run.stderr}`;
  const executions = Number(output.match(/stat::number_of_executed_units:\s*(\d+)/)?.[1] ?? output.match(/Done (\d+) runs/)?.[1] ?? 0);
  const crashed = run.status !== 0;
  rows.push({ target, executions, crashes: crashed ? 1 : 0 });
  if (crashed) {
    console.log(`\n[fuzz] ${target} CRASHED:\n${output.split("\n").filter((line) => !line.startsWith("#")).slice(-40).join("\n")}`);
  }
}

console.log(`\nfuzz: ${seconds} s per target (libFuzzer, nightly ${pin.NIGHTLY_DATE})`);
console.log(`${"target".padEnd(14)} ${"executions".padStart(12)} ${"crashes".padStart(8)}`);
for (const { target, executions, crashes } of rows) {
  console.log(`${target.padEnd(14)} ${String(executions).padStart(12)} ${String(crashes).padStart(8)}`);
}
process.exit(rows.some((row) => row.crashes) ? 1 : 0);
