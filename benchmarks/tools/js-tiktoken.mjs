// The independent reference tokenizer for the checking tools: js-tiktoken@1.0.21, installed once into a temporary
// folder with npm (the first run needs the npm registry).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

/** An encoder for `encoding` (o200k_base by default); count with `encode(text, [], []).length`. */
export async function loadEncoder(encoding = "o200k_base") {
  const dir = path.join(os.tmpdir(), "contextc-js-tiktoken-1.0.21");
  if (!fs.existsSync(path.join(dir, "node_modules", "js-tiktoken"))) {
    execFileSync("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", dir, "js-tiktoken@1.0.21"], { stdio: "ignore" });
  }
  const dist = path.join(dir, "node_modules", "js-tiktoken", "dist");
  const lite = await import(pathToFileURL(path.join(dist, "lite.js")).href);
  const ranks = await import(pathToFileURL(path.join(dist, "ranks", `${encoding}.js`)).href);
  return new lite.Tiktoken(ranks.default);
}
