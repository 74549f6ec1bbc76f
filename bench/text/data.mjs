// SPDX-License-Identifier: MIT
// data: the corpora and queries of the text benchmark (bench_text.mjs),
// written once to bench/text/data/ (git-ignored) and reused while their
// meta.json says they were made by this script's current schema. Running
// it again does nothing; --force rebuilds.
//
//   node bench/text/data.mjs [--set gcide|fiori|all] [--force]
//
// Nothing here is committed: GCIDE comes from Debian's `dict-gcide`
// package, the Fiori docs from the npm package pinned in package.json.
//
// ---------------------------------------------------------------- GCIDE --
// Source: the Debian package dict-gcide (GNU Collaborative International
// Dictionary of English 0.48, Webster 1913 + WordNet, GPL-2+), fetched
// with `apt-get download dict-gcide` into data/ (root is not needed once
// `apt-get update` has run; if the download fails and we are root, this
// runs `apt-get update` once and retries). --deb FILE uses a given .deb.
// The .deb is unpacked with `dpkg-deb -x`; the two files used are
// usr/share/dictd/gcide.index and gcide.dict.dz, in dictd's format:
//   - gcide.dict.dz: the articles, one after another, as plain text,
//     compressed by dictzip (a gzip file with random-access tables in the
//     header's extra field: plain gunzip reads it);
//   - gcide.index: one line per headword, "HEADWORD\tOFFSET\tLENGTH", where
//     OFFSET and LENGTH locate the article in the uncompressed text, both
//     written in base 64, most significant digit first, with the digits
//     A-Z a-z 0-9 + / (A = 0). Many headwords (inflections, run-in
//     sub-entries such as "Apple blight") point at the same article, so
//     one article = one distinct (OFFSET, LENGTH); articles do not overlap.
//     Headwords "00-database-*", "00-gcide-*" and "00-web1913-*" are the
//     database's own notices and are left out.
// Each article becomes one document { key, text }:
//   - key: the headword of its first line (the text before the first " \",
//     else before the first ","), "~2", "~3", ... added in file order when
//     a headword has several articles ("Cloud" the noun, "Cloud~2" the
//     verb...);
//   - text: the article with its markup stripped: the pronunciation
//     between backslashes (\Ap"ple\) and the parenthesised respelling
//     right after it are removed; gcide's ASCII codes for letters with
//     marks ([a^] [=e] ['e] ["o] [aum] [imac] [oe] [ae] [eth] [thorn] ...)
//     become their plain letters (a e e o a i oe ae th th); codes for
//     symbols ([deg] [root] [sect] [frac12]...) are dropped; lines that are
//     only a source tag ([1913 Webster], [PJC], [WordNet 1.5]) are
//     dropped, and such tags elsewhere too; braces of cross references ({Pyrus malus}) are removed, the
//     words kept; runs of white space become one space. Editorial labels
//     such as [Obs.] stay as words. The headword stays at the front.
//
// ---------------------------------------------------------------- Fiori --
// Source: the npm package @sap-ux/fiori-docs-embeddings (version pinned in
// package.json). Its data/embeddings/ holds metadata.json (model
// "Xenova/all-MiniLM-L6-v2", 384 dimensions, 778 vectors),
// records.jsonl (778 JSON lines: id, title, content, category, path,
// excerpt, ...) and embeddings.bin (778 x 384 little-endian float32, unit
// length, in the order of records.jsonl). Each record becomes
// { key: id, text: title + "\n" + content, vector }. The order is checked,
// not assumed: the nearest neighbour (by the vectors) of each doc must
// share a rare title word with it much more often than the records beside
// that neighbour do (counts in meta.json, as alignment).
//
// -------------------------------------------------------------- Queries --
// Per set, QUERIES (1,000) text queries from a seeded generator (seed 7
// for gcide, 11 for fiori): pick a document at random; pick 1, 2 or 3
// terms (probability 0.3, 0.4, 0.3) among its distinct words, each term of
// a class drawn with probability rare 0.4 (document frequency <= max(2,
// 0.01 % of the documents)), mid 0.4 (up to 5 %) and common 0.2 (df > 5 %:
// this is where stop words such as "the" come from); when the document has no
// word of the class drawn, any of its words. Words are the runs of
// letters (\p{L}, lowercased) of 3 to 20 letters: no digits, so that every
// engine's tokenizer sees the same words. The prefix variant of a query is
// the same query with its last term cut to max(3, ceil(0.6 x length))
// letters (terms of 3 letters stay whole). Each query records its terms'
// document frequencies and the document it came from.
// Fiori also gets QUERIES hybrid queries (seed 13): the text of a query
// made as above from document d, and d's vector plus Gaussian noise of
// standard deviation 0.02 per component, normalized (cosine to d's own
// vector about 0.93; the mean is in meta.json): "a query near that
// document, with a few of its words".
//
// Files, per set under data/<set>/: docs.jsonl (one { key, text } a line),
// queries.json ({ text: [{ q, prefix, terms, df, doc }], hybrid: [...] }),
// for fiori vectors.f32 (n x 384) and hybrid.f32 (QUERIES x 384), and
// meta.json (counts, sizes, sources, versions, checksums).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
export const DATA = join(here, 'data');
const require = createRequire(join(here, 'package.json'));
const SCHEMA = 1;
export const QUERIES = 1000;
export const FIORI_PACKAGE = '@sap-ux/fiori-docs-embeddings';

/* ------------------------------------------------------------ helpers -- */

/** splitmix32-style seeded generator in [0, 1). */
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

/** Standard normal from a uniform generator (Box-Muller). */
function gauss(r) {
  const u = 1 - r(), v = r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** The words queries are drawn from: runs of 3-20 letters, lowercased. */
export function words(text) {
  return (text.toLowerCase().match(/\p{L}+/gu) ?? []).filter((w) => w.length >= 3 && w.length <= 20);
}

function writeAtomic(path, data) {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const asBytes = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function readMeta(dir) {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
    return m.schema === SCHEMA ? m : null;
  } catch { return null; }
}

/** The documents of a set, as written by this script. */
export function readDocs(set) {
  const dir = join(DATA, set);
  const docs = readFileSync(join(dir, 'docs.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  if (set === 'fiori') {
    const raw = readFileSync(join(dir, 'vectors.f32'));
    const dim = readMeta(dir).dim;
    const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    docs.forEach((d, i) => { d.vector = all.subarray(i * dim, (i + 1) * dim); });
  }
  return docs;
}

/** The queries of a set: { text, hybrid } (hybrid entries get .vector). */
export function readQueries(set) {
  const dir = join(DATA, set);
  const qs = JSON.parse(readFileSync(join(dir, 'queries.json'), 'utf8'));
  if (qs.hybrid?.length) {
    const raw = readFileSync(join(dir, 'hybrid.f32'));
    const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    const dim = all.length / qs.hybrid.length;
    qs.hybrid.forEach((h, i) => { h.vector = all.subarray(i * dim, (i + 1) * dim); });
  }
  return qs;
}

export function readMetaOf(set) { return readMeta(join(DATA, set)); }

/* -------------------------------------------------------------- GCIDE -- */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function b64num(s) {
  let v = 0;
  for (const c of s) {
    const d = B64.indexOf(c);
    if (d < 0) throw new Error(`gcide.index: bad base-64 digit ${JSON.stringify(c)} in ${JSON.stringify(s)}`);
    v = v * 64 + d;
  }
  return v;
}

// gcide's codes for letters with marks, by their plain letters. The codes
// are [<mark><letters>] or [<letters><mark>] with a mark among = ~ ^ ' ` " . , * -
// (see the counts in README.md); the named ones are listed.
const NAMED = { ae: 'ae', AE: 'AE', oe: 'oe', OE: 'OE', eth: 'th', thorn: 'th', ng: 'ng', th: 'th', imac: 'i',
  aum: 'a', add: 'a', asl: 'a', udd: 'u', oo: 'oo', yogh: 'y', schwa: 'e', 'oo^': 'oo' };
const SYMBOL = /^(?:root|deg|sect|dsdot|bprime|prime|pounds|para|middot|nbsp|rarr|zdot|lsdot|tsdo|divby|div|dagger|dag|ldqo|rdqo|rsquo|lsquo|times|flat|sharp|natural|frac\d+|sup\d+|upslur|colret|asper|break|hand|min|sec|cre|ounce|dram|scruple|umlaut|bar|spasp|filig|ffllig|ffilig|fllig|fflig)$/;
const GREEK = /^(?:alpha|beta|gamma|delta|epsilon|zeta|eta|theta|iota|kappa|lambda|mu|nu|xi|omicron|pi|rho|sigmat?|tau|upsilon|phi|chi|psi|omega)$/i;

// Where a definition comes from, anywhere in the text: [1913 Webster],
// [Webster 1913 Suppl.], [PJC], [WordNet 1.5], [Century Dict.], [RHUD]...
const SOURCE_TAG = /\[(?:[^\]\n]*\bWebster\b[^\]\n]*|\+?PJC\.?|WordNet[^\]\n]*|Century[^\]\n]*|Chambers[^\]\n]*|RHUD|MW10|MI11|WE1|wn1|RDH|GG|RP)\]/g;

function stripGcide(article) {
  const lines = article.split('\n');
  // The first line: HEADWORD \pro"nun*ci`a*tion\ (respelling), pos. ...
  lines[0] = lines[0].replace(/\s*\\[^\\\n]*\\(\s*\([^)\n]*\))?/g, '');
  let text = lines.filter((l) => !/^\s*\[[^\]]*\]\s*$/.test(l)).join('\n');
  text = text.replace(SOURCE_TAG, ' ');
  text = text.replace(/\[([^\]\s[]{1,7})\]/g, (m, c) => {
    if (c in NAMED) return NAMED[c];
    if (SYMBOL.test(c)) return ' ';
    if (GREEK.test(c)) return c;
    let x = /^[=~^'`".,*-]([A-Za-z]{1,2})$/.exec(c) ?? /^([A-Za-z]{1,2})[=~^'`".,*:-]$/.exec(c);
    if (x) return x[1];
    x = /^([A-Za-z])(?:um|mac|acute|grave|cced|ring|circ|tilde|breve|dot)$/.exec(c);
    if (x) return x[1];
    return m;    // a label such as [Obs.] or [R.]: kept as it is
  });
  return text.replace(/[{}]/g, '').replace(/\s+/g, ' ').trim();
}

function findDeb(dir, given) {
  if (given) return resolve(given);
  const have = () => readdirSync(dir).filter((f) => /^dict-gcide_.*\.deb$/.test(f)).sort();
  let debs = have();
  if (debs.length) return join(dir, debs.at(-1));
  const download = () => execFileSync('apt-get', ['download', 'dict-gcide'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
  try {
    download();
  } catch (e) {
    if (process.getuid?.() !== 0) {
      throw new Error(`apt-get download dict-gcide failed (${e.message}); run "apt-get update" as root, or pass --deb FILE`);
    }
    console.error('  apt-get download failed; apt-get update (root) and one more try');
    execFileSync('apt-get', ['update'], { stdio: ['ignore', 'inherit', 'inherit'] });
    download();
  }
  debs = have();
  if (!debs.length) throw new Error('apt-get download dict-gcide left no .deb');
  return join(dir, debs.at(-1));
}

function prepareGcide(opts, log) {
  const dir = join(DATA, 'gcide');
  mkdirSync(dir, { recursive: true });
  const deb = findDeb(dir, opts.deb);
  const debBytes = readFileSync(deb);
  const version = execFileSync('dpkg-deb', ['-f', deb, 'Version'], { encoding: 'utf8' }).trim();
  const tmp = join(dir, 'x');
  rmSync(tmp, { recursive: true, force: true });
  execFileSync('dpkg-deb', ['-x', deb, tmp]);
  const indexText = readFileSync(join(tmp, 'usr/share/dictd/gcide.index'), 'utf8');
  const dz = readFileSync(join(tmp, 'usr/share/dictd/gcide.dict.dz'));
  const dict = gunzipSync(dz);
  rmSync(tmp, { recursive: true, force: true });
  log(`  gcide: ${deb.split('/').pop()} (${version}): index ${indexText.length} chars, dict ${dict.length} bytes uncompressed`);

  const articles = new Map();     // offset -> { off, len }
  let indexLines = 0, meta = 0;
  for (const line of indexText.split('\n')) {
    if (!line) continue;
    indexLines++;
    const f = line.split('\t');
    if (f.length !== 3) throw new Error(`gcide.index line ${indexLines}: ${f.length} fields`);
    if (/^00-(database|gcide|web1913)/.test(f[0])) { meta++; continue; }
    const off = b64num(f[1]), len = b64num(f[2]);
    if (off + len > dict.length) throw new Error(`gcide.index line ${indexLines}: ${off}+${len} past the end (${dict.length})`);
    const a = articles.get(off);
    if (a && a.len !== len) throw new Error(`gcide.index: two lengths for offset ${off}`);
    if (!a) articles.set(off, { off, len });
  }
  const sorted = [...articles.values()].sort((a, b) => a.off - b.off);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i - 1].off + sorted[i - 1].len > sorted[i].off) throw new Error(`gcide: articles at ${sorted[i - 1].off} and ${sorted[i].off} overlap`);
  }
  const seen = new Map();
  const out = [];
  let chars = 0, empty = 0;
  for (const a of sorted) {
    const raw = dict.subarray(a.off, a.off + a.len).toString('utf8');
    const first = raw.split('\n', 1)[0];
    let head = (first.includes(' \\') ? first.slice(0, first.indexOf(' \\')) : first.split(',')[0]).trim().slice(0, 80);
    if (!head) head = `@${a.off}`;
    const text = stripGcide(raw);
    if (!text) { empty++; continue; }
    const nth = (seen.get(head) ?? 0) + 1;
    seen.set(head, nth);
    const key = nth === 1 ? head : `${head}~${nth}`;
    out.push({ key, text });
    chars += text.length;
  }
  log(`  gcide: ${indexLines} index lines (${meta} notices left out), ${articles.size} articles, ${out.length} documents`);
  const docsJsonl = out.map((d) => JSON.stringify(d)).join('\n') + '\n';
  writeAtomic(join(dir, 'docs.jsonl'), docsJsonl);
  const lens = out.map((d) => d.text.length).sort((a, b) => a - b);
  return {
    dir, docs: out, meta: {
      source: `Debian package dict-gcide ${version}`, deb: deb.split('/').pop(), deb_sha256: sha256(debBytes),
      index_lines: indexLines, notices_left_out: meta, articles: articles.size, empty_left_out: empty,
      documents: out.length, text_chars: chars,
      text_chars_p50: lens[lens.length >> 1], text_chars_p99: lens[Math.floor(lens.length * 0.99)], text_chars_max: lens.at(-1),
      docs_sha256: sha256(docsJsonl),
    },
  };
}

/* -------------------------------------------------------------- Fiori -- */

function prepareFiori(opts, log) {
  const dir = join(DATA, 'fiori');
  mkdirSync(dir, { recursive: true });
  let pkgDir;
  try {
    pkgDir = dirname(require.resolve(`${FIORI_PACKAGE}/package.json`));
  } catch {
    throw new Error(`${FIORI_PACKAGE} is not installed: run "npm ci" in bench/text/`);
  }
  const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;
  const emb = join(pkgDir, 'data/embeddings');
  const info = JSON.parse(readFileSync(join(emb, 'metadata.json'), 'utf8'));
  const records = readFileSync(join(emb, 'records.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const raw = readFileSync(join(emb, 'embeddings.bin'));
  const dim = info.dimensions, n = records.length;
  if (n !== info.totalVectors) throw new Error(`${emb}: ${n} records, metadata.json says ${info.totalVectors} vectors`);
  if (raw.length !== n * dim * 4) throw new Error(`${emb}/embeddings.bin: ${raw.length} bytes, expected ${n} x ${dim} float32`);
  const vec = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  const keys = new Set();
  const docs = records.map((r, i) => {
    if (typeof r.id !== 'string' || keys.has(r.id)) throw new Error(`${emb}/records.jsonl record ${i}: missing or repeated id`);
    keys.add(r.id);
    return { key: r.id, text: `${r.title ?? ''}\n${r.content ?? ''}` };
  });

  // Are vectors and records in the same order? The nearest neighbour (by
  // the vectors) of a doc should share a title word used by at most 2 %
  // of the titles with it far more often than the record next to that
  // neighbour does (same source file, so a high bar) or one half the set
  // away (chance).
  const titleWords = records.map((r) => new Set(words(r.title ?? '').filter((w) => w.length >= 4)));
  const tdf = new Map();
  for (const s of titleWords) for (const w of s) tdf.set(w, (tdf.get(w) ?? 0) + 1);
  const rare = titleWords.map((s) => new Set([...s].filter((w) => tdf.get(w) <= n * 0.02)));
  const share = (a, b) => [...rare[a]].some((w) => rare[b].has(w));
  let aligned = 0, shifted = 0, far = 0;
  for (let i = 0; i < n; i++) {
    let best = -Infinity, bj = -1;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let s = 0;
      for (let t = 0; t < dim; t++) s += vec[i * dim + t] * vec[j * dim + t];
      if (s > best) { best = s; bj = j; }
    }
    if (share(i, bj)) aligned++;
    if (share(i, (bj + 1) % n)) shifted++;
    if (share(i, (bj + (n >> 1)) % n)) far++;
  }
  log(`  fiori: ${n} records x ${dim} (${info.model}); nearest neighbour shares a rare title word: ${aligned}/${n}, `
    + `its successor ${shifted}, a record half the set away ${far}`);
  if (aligned < 1.5 * shifted || aligned < 5 * far) {
    throw new Error(`${emb}: vectors do not look aligned with records.jsonl (${aligned} vs ${shifted} and ${far})`);
  }

  const docsJsonl = docs.map((d) => JSON.stringify(d)).join('\n') + '\n';
  writeAtomic(join(dir, 'docs.jsonl'), docsJsonl);
  writeAtomic(join(dir, 'vectors.f32'), asBytes(vec));
  docs.forEach((d, i) => { d.vector = vec.subarray(i * dim, (i + 1) * dim); });
  const lens = docs.map((d) => d.text.length).sort((a, b) => a - b);
  return {
    dir, docs, dim, meta: {
      source: `${FIORI_PACKAGE}@${version}`, model: info.model, dim, documents: n,
      package_created: info.createdAt, package_chunk_size: info.chunkSize,
      text_chars: lens.reduce((a, b) => a + b, 0), text_chars_p50: lens[n >> 1], text_chars_max: lens.at(-1),
      alignment: { nearest_shares_rare_title_word: aligned, its_successor: shifted, half_the_set_away: far, of: n },
      docs_sha256: sha256(docsJsonl), vectors_sha256: sha256(raw),
    },
  };
}

/* ------------------------------------------------------------ queries -- */

const TERMS = [0.3, 0.7, 1];                      // cumulative: 1, 2, 3 terms
const CLASSES = [['rare', 0.4], ['mid', 0.8], ['common', 1]];

function pick(r, arr) { return arr[Math.floor(r() * arr.length)]; }

function makeQueries(docs, count, seed) {
  const r = rng(seed);
  const n = docs.length;
  const docWords = docs.map((d) => [...new Set(words(d.text))]);
  const df = new Map();
  for (const ws of docWords) for (const w of ws) df.set(w, (df.get(w) ?? 0) + 1);
  const rareMax = Math.max(2, Math.ceil(n * 1e-4)), midMax = Math.ceil(n * 0.05);
  const classOf = (w) => (df.get(w) <= rareMax ? 'rare' : df.get(w) <= midMax ? 'mid' : 'common');
  const out = [];
  while (out.length < count) {
    const doc = Math.floor(r() * n);
    const ws = docWords[doc];
    if (!ws.length) continue;
    const u = r();
    const t = TERMS.findIndex((c) => u < c) + 1;
    const terms = [];
    for (let tries = 0; terms.length < Math.min(t, ws.length) && tries < 20; tries++) {
      const v = r();
      const cls = CLASSES.find(([, c]) => v < c)[0];
      const of = ws.filter((w) => classOf(w) === cls && !terms.includes(w));
      const w = of.length ? pick(r, of) : pick(r, ws);
      if (!terms.includes(w)) terms.push(w);
    }
    const last = terms.at(-1);
    const cut = last.length <= 3 ? last : last.slice(0, Math.max(3, Math.ceil(last.length * 0.6)));
    out.push({ q: terms.join(' '), prefix: [...terms.slice(0, -1), cut].join(' '), terms, df: terms.map((w) => df.get(w)),
      classes: terms.map(classOf), doc });
  }
  const classes = { rare: 0, mid: 0, common: 0 };
  for (const q of out) for (const c of q.classes) classes[c]++;
  return { queries: out, stats: { vocabulary: df.size, rare_max_df: rareMax, mid_max_df: midMax, terms_by_class: classes,
    terms_per_query: [1, 2, 3].map((k) => out.filter((q) => q.terms.length === k).length) } };
}

function makeHybrid(docs, dim, count, seed) {
  const { queries, stats } = makeQueries(docs, count, seed);
  const r = rng(seed ^ 0x5bd1e995);
  const vecs = new Float32Array(count * dim);
  let cosSum = 0;
  queries.forEach((q, i) => {
    const src = docs[q.doc].vector;
    const v = vecs.subarray(i * dim, (i + 1) * dim);
    let norm = 0;
    for (let j = 0; j < dim; j++) { v[j] = src[j] + 0.02 * gauss(r); norm += v[j] * v[j]; }
    norm = Math.sqrt(norm);
    let dot = 0;
    for (let j = 0; j < dim; j++) { v[j] /= norm; dot += v[j] * src[j]; }
    cosSum += dot;
  });
  return { queries, vecs, stats: { ...stats, noise_sigma: 0.02, mean_cosine_to_source: cosSum / count } };
}

/**
 * What one run of bench_text.mjs uses: the set's documents, or with n below
 * their count every (count / n)-th of them (spread over the whole file, so
 * a subset of GCIDE is not only the letter A); and the first q queries,
 * which for a subset are made afresh from the subset by the same
 * generator and seeds (the cached ones come from documents it may lack).
 */
export function loadRun(set, n, q) {
  const meta = readMetaOf(set);
  if (!meta) throw new Error(`no data for ${set}: run node bench/text/data.mjs`);
  let docs = readDocs(set);
  let qs;
  if (n && n < docs.length) {
    const all = docs;
    docs = Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]);
    const seed = meta.queries.seed;
    qs = { text: makeQueries(docs, q, seed).queries };
    if (set === 'fiori') {
      const h = makeHybrid(docs, meta.dim, q, meta.queries.hybrid_seed);
      qs.hybrid = h.queries.map((x, i) => ({ ...x, vector: h.vecs.subarray(i * meta.dim, (i + 1) * meta.dim) }));
    }
  } else {
    qs = readQueries(set);
  }
  return { meta, docs, text: qs.text.slice(0, q), hybrid: (qs.hybrid ?? []).slice(0, q), subset: docs.length < meta.documents };
}

/* --------------------------------------------------------------- main -- */

/** Make the set's files unless they are there; returns its meta. */
export function prepare(set, opts = {}, log = console.error) {
  const dir = join(DATA, set);
  const have = readMeta(dir);
  if (have && !opts.force && existsSync(join(dir, 'queries.json'))) {
    log(`  ${set}: cached in ${dir} (${have.documents} documents, ${have.queries.text} queries)`);
    return have;
  }
  const t0 = performance.now();
  let made;
  if (set === 'gcide') made = prepareGcide(opts, log);
  else if (set === 'fiori') made = prepareFiori(opts, log);
  else throw new Error(`no set named ${set} (gcide, fiori)`);
  const qs = makeQueries(made.docs, QUERIES, set === 'gcide' ? 7 : 11);
  const files = { text: qs.queries };
  const meta = { schema: SCHEMA, set, ...made.meta, queries: { text: QUERIES, seed: set === 'gcide' ? 7 : 11, ...qs.stats } };
  if (set === 'fiori') {
    const h = makeHybrid(made.docs, made.dim, QUERIES, 13);
    files.hybrid = h.queries;
    writeAtomic(join(dir, 'hybrid.f32'), asBytes(h.vecs));
    meta.queries.hybrid = QUERIES;
    meta.queries.hybrid_seed = 13;
    meta.queries.hybrid_stats = h.stats;
  }
  writeAtomic(join(dir, 'queries.json'), JSON.stringify(files));
  meta.made_in_seconds = +((performance.now() - t0) / 1000).toFixed(1);
  writeAtomic(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  log(`  ${set}: ${meta.documents} documents, ${QUERIES} queries -> ${dir} (${meta.made_in_seconds} s)`);
  return meta;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opts = { force: args.includes('--force') };
  let set = 'all';
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--set') set = args[++i];
    else if (args[i] === '--deb') opts.deb = args[++i];
    else if (args[i] === '--force') continue;
    else if (args[i] === '--help' || args[i] === '-h') {
      console.log('node bench/text/data.mjs [--set gcide|fiori|all] [--force] [--deb FILE]');
      process.exit(0);
    } else {
      console.error(`unknown argument ${args[i]} (--help)`);
      process.exit(2);
    }
  }
  mkdirSync(DATA, { recursive: true });
  for (const s of set === 'all' ? ['gcide', 'fiori'] : set.split(',')) prepare(s, opts);
}
