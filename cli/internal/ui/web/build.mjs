// Bundles src/ into dist/ (committed): `make ui-assets`, or `npm ci && npm run build` here.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";

mkdirSync("dist", { recursive: true });
await build({
  entryPoints: { app: "src/main.jsx", style: "src/app.css" },
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: "dist",
  legalComments: "linked",
  logLevel: "info",
});
copyFileSync("src/index.html", "dist/index.html");
