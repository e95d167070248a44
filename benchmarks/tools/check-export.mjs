// Checks `contextc export` output against the files and an independent tokenizer (js-tiktoken@1.0.21, o200k_base):
//   node benchmarks/tools/check-export.mjs EXPORT.jsonl CORPUS_NAME=FOLDER [CORPUS_NAME=FOLDER ...]
// For every span: text must equal lines startLine..endLine of the file (split on \n, CR dropped) and tokens must
// equal js-tiktoken's encode(text, [], []).length. Prints one JSON summary line; exits 1 on any mismatch.
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { loadEncoder } from "./js-tiktoken.mjs";

const [exportFile, ...roots] = process.argv.slice(2);
if (!exportFile || roots.length === 0) {
  console.error("usage: check-export.mjs EXPORT.jsonl CORPUS=FOLDER [...]");
  process.exit(2);
}
const folders = Object.fromEntries(roots.map((r) => r.split("=")));

const enc = await loadEncoder();

const cache = new Map();
const linesOf = (corpus, file) => {
  const key = `${corpus}/${file}`;
  if (!cache.has(key)) {
    let text = fs.readFileSync(path.join(folders[corpus], file), "utf8");
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    cache.set(key, text.replace(/\r\n?/g, "\n").split("\n"));
  }
  return cache.get(key);
};

let spans = 0, textMismatches = 0, tokenMismatches = 0, tokens = 0;
const examples = [];
for await (const line of readline.createInterface({ input: fs.createReadStream(exportFile) })) {
  if (!line) continue;
  const s = JSON.parse(line);
  spans++;
  const expected = linesOf(s.corpus, s.path).slice(s.startLine - 1, s.endLine).join("\n");
  if (expected !== s.text) { textMismatches++; if (examples.length < 5) examples.push(`${s.corpus}/${s.path}:${s.startLine}-${s.endLine} text`); }
  const count = enc.encode(s.text, [], []).length;
  tokens += count;
  if (count !== s.tokens) { tokenMismatches++; if (examples.length < 5) examples.push(`${s.corpus}/${s.path}:${s.startLine}-${s.endLine} tokens ${s.tokens} vs ${count}`); }
}
console.log(JSON.stringify({ spans, tokens, textMismatches, tokenMismatches, examples }));
process.exit(textMismatches + tokenMismatches === 0 ? 0 : 1);
