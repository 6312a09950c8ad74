// Builds the panel and the card into custom_components/porchlight/frontend/ (or --outdir DIR,
// which scripts/test uses to check that the committed bundles are not stale).
// Type-checks first: a bundle is never written from sources that do not type-check.
// The output is deterministic (no timestamps, no absolute paths), so the same sources give
// the same bytes and the committed files can be compared byte for byte.
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const i = args.indexOf("--outdir");
const outdir = i >= 0 ? resolve(args[i + 1]) : join(here, "..", "custom_components", "porchlight", "frontend");

const tsc = spawnSync(process.execPath, [join(here, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", here], {
  stdio: "inherit",
});
if (tsc.status !== 0) {
  console.error("build: type check failed");
  process.exit(1);
}

for (const [entry, out] of [
  ["src/panel.ts", "porchlight-panel.js"],
  ["src/card.ts", "porchlight-requests-card.js"],
]) {
  await esbuild.build({
    absWorkingDir: here,
    entryPoints: [entry],
    outfile: join(outdir, out),
    bundle: true,
    format: "esm",
    minify: true,
    target: "es2021",
    legalComments: "eof",
    charset: "utf8",
    logLevel: "warning",
  });
}
