// Regenerates tiktoken-reference.json: token counts (and ids for short cases) from js-tiktoken@1.0.21,
// the reference the C# TiktokenTokenizer must reproduce exactly.
//
//   node tests/ContextCompiler.Core.Tests/Fixtures/make-tiktoken-fixture.mjs [path-to-node_modules]
//
// Without an argument the script installs js-tiktoken@1.0.21 into a temporary folder with npm
// (needs the npm registry once); with one, it imports js-tiktoken from that node_modules folder.
// The output is deterministic for a given Node version: the random cases come from a seeded PRNG.
// Node's Unicode version decides which code points are letters, so it is recorded in the fixture
// together with the class of every code point, which the C# tests compare as well.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const VERSION = "1.0.21";
const here = path.dirname(fileURLToPath(import.meta.url));
const outFile = path.join(here, "tiktoken-reference.json");

let installed = null;
function nodeModules() {
  if (process.argv[2]) return path.resolve(process.argv[2]);
  const dir = (installed = fs.mkdtempSync(path.join(os.tmpdir(), "js-tiktoken-")));
  console.log(`installing js-tiktoken@${VERSION} into ${dir}`);
  execFileSync("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", dir, `js-tiktoken@${VERSION}`], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return path.join(dir, "node_modules");
}

const modules = nodeModules();
const pkgDir = path.join(modules, "js-tiktoken");
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8"));
if (pkg.version !== VERSION) throw new Error(`expected js-tiktoken ${VERSION}, found ${pkg.version} in ${pkgDir}`);
const load = async (rel) => import(pathToFileURL(path.join(pkgDir, rel)).href);
const { Tiktoken } = await load("dist/index.js");
const encodings = {
  o200k_base: (await load("dist/ranks/o200k_base.js")).default,
  cl100k_base: (await load("dist/ranks/cl100k_base.js")).default,
};
const tokenizers = Object.fromEntries(Object.entries(encodings).map(([name, ranks]) => [name, new Tiktoken(ranks)]));
// encode(text, [], []) treats special-token strings as ordinary text, which is what the C# side promises.
const encode = (name, text) => tokenizers[name].encode(text, [], []);

// ---------------------------------------------------------------- deterministic randomness
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(0xc0ffee);
const pick = (list) => list[Math.floor(rand() * list.length)];
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

// ---------------------------------------------------------------- character pools
const cp = (...codes) => String.fromCodePoint(...codes);
const POOLS = {
  lower: [..."abcdefghijklmnopqrstuvwxyz"],
  upper: [..."ABCDEFGHIJKLMNOPQRSTUVWXYZ"],
  digit: [..."0123456789"],
  punct: [..."!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"],
  space: [" ", " ", " ", "  ", "\t", "\n", "\r\n", "\r", "\v", "\f", "\n\n"],
  words: ["the", "The", "HTTP", "Hello", "world", "don", "ÉCOLE", "naïve", "straße", "Ǆemal", "ǅ", "ʰ", "ー", "x"],
  contraction: ["'s", "'S", "'t", "'T", "'re", "'Re", "'rE", "'RE", "'ve", "'VE", "'m", "'M", "'ll", "'lL", "'LL", "'d", "'D", "'", "'l", "'r"],
  emoji: ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇺🇸", "🧑🏿‍💻", "✨", "\u{1F600}\u{FE0F}"],
  cjk: ["中文", "字符", "ひらがな", "カタカナ", "한국어", "漢字テスト", "𠀀", "𪚥"],
  scripts: ["مرحبا", "नमस्ते", "สวัสดี", "Ελληνικά", "русский", "עברית", "ქართული", "தமிழ்"],
  marks: ["\u0301", "\u0308", "\u20dd", "e\u0301", "\u0915\u094d", "\u0e31", "\u05b8", "\u{1d167}"],
  astral: [cp(0x1d400), cp(0x1d44e), cp(0x10400), cp(0x10428), cp(0x1d7ce), cp(0x1d7d7), cp(0x104a0), cp(0x1f100), cp(0x10140)],
  numbers: ["½", "²", "Ⅻ", "٣", "४", "๕", "①", "〇"],
  oddSpace: ["\u00a0", "\u0085", "\ufeff", "\u3000", "\u2028", "\u2029", "\u1680", "\u2003", "\u202f", "\u205f", "\u200b", "\u180e", "\u001c"],
  surrogate: ["\ud800", "\udfff", "\udc00\ud800", "\ud83d", "\ude00", "\udbff"],
  special: ["<|endoftext|>", "<|endofprompt|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|im_start|>"],
  slashes: ["/", "//", "\\", "/*", "*/", "://"],
  // Assigned recently (Unicode 16/17) or unassigned, private use and noncharacters.
  rare: [cp(0x295), cp(0x1e6c0), cp(0x11de0), cp(0x16ea0), cp(0x16ebb), cp(0x1acf), cp(0x378), cp(0xe000), cp(0xf0000), cp(0xffff), cp(0x10ffff), cp(0x1e030)],
};
const poolNames = Object.keys(POOLS);

function randomText(pieces) {
  const favourites = [pick(poolNames), pick(poolNames), pick(poolNames)];
  let s = "";
  for (let i = 0; i < pieces; i++) {
    const pool = rand() < 0.6 ? pick(favourites) : pick(poolNames);
    s += pick(POOLS[pool]);
  }
  return s;
}

// ---------------------------------------------------------------- hand-written cases
const CODE_CSHARP = `using System;\r\n\r\nnamespace Demo\r\n{\r\n    public static class Program\r\n    {\r\n        // Prints the answer.\r\n        public static int Main(string[] args)\r\n        {\r\n            var total = 0;\r\n            for (int i = 0; i < args.Length; i++) total += args[i].Length;\r\n            Console.WriteLine($"total={total}");\r\n            return total > 42 ? 1 : 0;\r\n        }\r\n    }\r\n}\r\n`;
const CODE_PYTHON = `def fib(n: int) -> int:\n    """Return the n'th Fibonacci number."""\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n\nif __name__ == "__main__":\n    print([fib(i) for i in range(20)])  # 0 1 1 2 3 5\n`;
const CODE_RUST = `fn main() {\n\tlet v: Vec<u64> = (1..=10).map(|x| x * x).collect();\n\tprintln!("{:?}", v);\n\tif let Some(&m) = v.iter().max() { println!("max={m}"); }\n}\n`;
const CODE_GO = `package main\n\nimport "fmt"\n\nfunc main() {\n\tch := make(chan int, 3)\n\tgo func() { ch <- 1 }()\n\tfmt.Println(<-ch)\n}\n`;
const CODE_SQL = `SELECT u.id, COUNT(*) AS n\nFROM users u\n  LEFT JOIN orders o ON o.user_id = u.id\nWHERE u.created_at >= '2024-01-01'\nGROUP BY u.id HAVING n > 3;\n`;
const CODE_HTML = `<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Test &amp; more</title></head>\n<body>\n  <div class="a b" id='x'>Hello, <b>world</b>!</div>\n  <!-- comment -->\n</body>\n</html>\n`;
const CODE_JSON = `{"name":"context-compiler","version":"0.1.0","tags":["a","b"],"nested":{"k":[1,2.5,-3e10,true,null]},"url":"https://example.com/a/b?c=d"}`;
const CODE_SHELL = `#!/usr/bin/env bash\nset -euo pipefail\nfor f in ./src/**/*.cs; do\n  wc -l "$f" | awk '{print $1}' >> /tmp/out.txt\ndone\necho "done: $(date +%s)"\n`;
const PROSE = `It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity. I'M sure they'Re right; we'd've known. Don't you think it's 3:45pm already? The U.S.A. spent $1,234,567.89 on 12,000 widgets in 2023 -- roughly 102.88 each.`;

const manual = [
  ["empty", ""],
  ["single space", " "],
  ["prose", PROSE],
  ["prose short", "Hello, world! How are you doing today?"],
  ["csharp crlf", CODE_CSHARP],
  ["python", CODE_PYTHON],
  ["rust tabs", CODE_RUST],
  ["go", CODE_GO],
  ["sql", CODE_SQL],
  ["html", CODE_HTML],
  ["json", CODE_JSON],
  ["shell", CODE_SHELL],
  ["emoji", "😀👍🏽👨‍👩‍👧‍👦🏳️‍🌈❤️🇺🇸🧑🏿‍💻"],
  ["emoji letters", "😀abc abc😀 A😀B 😀 😀\n😀"],
  ["emoji skin tones", "👋🏻👋🏼👋🏽👋🏾👋🏿"],
  ["cjk", "我们今天去北京。東京タワーに行きました！서울에서 만나요."],
  ["arabic", "مرحبا بالعالم، كيف حالك؟ ١٢٣٤٥"],
  ["hindi", "नमस्ते दुनिया, आप कैसे हैं? १२३"],
  ["thai", "สวัสดีครับ ภาษาไทยไม่มีช่องว่าง"],
  ["combining", "e\u0301 \u0301a Ae\u0301 A\u0301 \u0301\u0301 \u0301A x\u0308y\u20dd"],
  ["mark prefix", "\u0301Ab \u0301AB \u0301ab \u0308\u0308A"],
  ["astral letters", `${cp(0x1d400)}${cp(0x1d44e)} ${cp(0x10400)}${cp(0x10428)}${cp(0x10428)} x${cp(0x1d400)}y`],
  ["astral digits", `${cp(0x1d7ce)}${cp(0x1d7cf)}${cp(0x1d7d0)}${cp(0x1d7d1)} 12${cp(0x1d7ce)}34`],
  ["whitespace mix", "a  \n\n  \t b"],
  ["300 spaces", " ".repeat(300)],
  ["300 spaces then word", " ".repeat(300) + "word"],
  ["tabs", "\t\t\tx\t\t\t"],
  ["crlf runs", "a\r\n\r\n\r\nb\r\n  \r\n  c \r\n"],
  ["newline spaces", "x\n \n \n  y"],
  ["trailing ws", "end   "],
  ["space before punct", "a ! b  !! c\t! d \n!"],
  ["contractions upper", "I'M HE'S THEY'RE WE'VE YOU'LL SHE'D IT'S DON'T"],
  ["contractions mixed", "they'Re we'rE you'Ll i'lL I'm it'S can'T"],
  ["contractions bare", "'s 's's 'S 'll 'LL 're 've 'd 'm 't 'x ' 'l"],
  ["digits", "1234567 12 123 1234 0.5 1e10 2024-01-01 ٣٤٥٦"],
  ["special tokens", "<|endoftext|><|endofprompt|><|fim_prefix|><|fim_middle|><|fim_suffix|>"],
  ["special tokens in text", "Hello <|endoftext|> world<|endofprompt|>\n<|fim_prefix|>def f():"],
  ["lone high surrogate", "\ud800"],
  ["lone low surrogate in word", "x\udc00y"],
  ["reversed pair", "\udc00\ud800"],
  ["half emoji", "ab\ud83d cd\ude00 \ud83d\ud83d\ude00"],
  ["surrogates with letters", "\ud800abc ABC\udfff \udbffa"],
  ["nel", "a\u0085b \u0085 \u0085\u0085c"],
  ["bom", "\ufeffhello \ufeff world\ufeff"],
  ["nbsp", "a\u00a0b \u00a0 c\u00a0\u00a0d"],
  ["ideographic space", "日本\u3000語 \u3000\u3000x"],
  ["line separators", "a\u2028b\u2029c \u2028\u2029 d"],
  ["punct newline", "end.\n\nNext!!\r\n\r\n///\n// comment\n/*x*/\n"],
  ["punct slash", "a?/b ?!// c...///\n/d"],
  ["urls", "https://example.com/path/to/file.html?q=1&r=2#frag http://a.b/c/"],
  ["titlecase", "ǅemal ǈubljana ǋ ǅǅ ǅa"],
  ["modifier letters", "ʰaʰ Aʰb ーカー ABʰCD"],
  ["upper lower", "HTTPServer XMLHttpRequest ALLCAPS camelCase PascalCase aB AbC"],
  ["numbers other", "½ ¾ ² ³ Ⅻ ①② 〇"],
  ["unicode 17", `${cp(0x295)}a ${cp(0x1e6c0)}${cp(0x1e6c1)} ${cp(0x11de0)}${cp(0x11de1)}${cp(0x11de2)}${cp(0x11de3)} ${cp(0x16ea0)}${cp(0x16ebb)}`],
  ["private use", `\ue000\ue001 ${cp(0xf0000)} \uffff ${cp(0x10ffff)}`],
  ["long letters", "a".repeat(2000)],
  ["long mixed letters", Array.from({ length: 1500 }, (_, i) => "qwertyuiopasdfghjklzxcvbnm"[(i * 7919) % 26]).join("")],
  ["long cjk", "中文字符测试".repeat(120)],
  ["long digits", "0123456789".repeat(50)],
  ["long punct", "=-".repeat(400) + "\n"],
  ["long base64", Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 131) % 256)).toString("base64")],
];

const cases = manual.map(([name, text]) => ({ name, text }));
for (let i = 0; i < 200; i++) cases.push({ name: `random ${i}`, text: randomText(int(1, 40)) });
for (let i = 0; i < 12; i++) cases.push({ name: `random long ${i}`, text: randomText(int(200, 800)) });

// Real text: files shipped in the pinned package, cut into chunks of a few KB.
const chunkJs = fs.readdirSync(path.join(pkgDir, "dist")).find((f) => /^chunk-.*\.js$/.test(f));
for (const rel of ["README.md", "dist/index.d.ts", `dist/${chunkJs}`]) {
  const text = fs.readFileSync(path.join(pkgDir, rel), "utf8");
  for (let start = 0, n = 0; start < text.length && n < 3; start += 4096, n++) {
    cases.push({ name: `${rel.replace(chunkJs, "chunk.js")} @${start}`, text: text.slice(start, start + 4096) });
  }
}

// ---------------------------------------------------------------- output
const ID_LIMIT = 256;
const isWellFormed = (s) => !/\p{Cs}/u.test(s);
for (const c of cases) {
  for (const name of Object.keys(encodings)) c[name] = encode(name, c.text).length;
  if (c.text.length <= ID_LIMIT) {
    c.o200k_ids = encode("o200k_base", c.text);
    c.cl100k_ids = encode("cl100k_base", c.text);
  }
  // System.Text.Json refuses escaped lone surrogates, so such texts also travel as UTF-16 code units.
  if (!isWellFormed(c.text)) c.utf16 = Array.from({ length: c.text.length }, (_, i) => c.text.charCodeAt(i));
}

// Bits per code point: Lu=1 Lt=2 Ll=4 Lm=8 Lo=16 M=32 N=64 \s=128, as runs "startHex:bits".
function codePointClasses() {
  const tests = [/\p{Lu}/u, /\p{Lt}/u, /\p{Ll}/u, /\p{Lm}/u, /\p{Lo}/u, /\p{M}/u, /\p{N}/u, /\s/u];
  const runs = [];
  let prev = -1;
  for (let code = 0; code <= 0x10ffff; code++) {
    const s = String.fromCodePoint(code);
    let bits = 0;
    tests.forEach((re, i) => { if (re.test(s)) bits |= 1 << i; });
    if (bits !== prev) runs.push(`${code.toString(16)}:${bits}`);
    prev = bits;
  }
  return runs.join(" ");
}

const fixture = {
  generator: "tests/ContextCompiler.Core.Tests/Fixtures/make-tiktoken-fixture.mjs",
  jsTiktoken: VERSION,
  node: process.version,
  unicode: process.versions.unicode,
  patterns: Object.fromEntries(Object.entries(encodings).map(([name, r]) => [name, r.pat_str])),
  codePointClasses: codePointClasses(),
  cases,
};
// One case per line keeps the file reviewable and its diffs small.
const { cases: all, ...header } = fixture;
const head = JSON.stringify(header, null, 1).replace(/\n}$/, "");
fs.writeFileSync(outFile, `${head},\n "cases": [\n${all.map((c) => "  " + JSON.stringify(c)).join(",\n")}\n ]\n}\n`);
if (installed) fs.rmSync(installed, { recursive: true, force: true });
console.log(`wrote ${cases.length} cases to ${outFile} (node ${process.version}, unicode ${process.versions.unicode})`);
