// SPDX-License-Identifier: MIT
// A small reader of the WebAssembly binary format, for the tests: sections,
// imports, exports, globals and data segments (their i32.const values and
// offsets), the name section, and a decoder of function bodies that
// walks every instruction with its immediates, so a 0xFD byte inside an
// immediate is never mistaken for a SIMD prefix. It covers the MVP plus the
// extensions clang 14 can emit here (sign-ext, bulk memory, reference types,
// simd128) and throws on any opcode it does not know, so it cannot silently
// miscount.

export class Reader {
  constructor(bytes, pos = 0, end = bytes.length) {
    this.b = bytes;
    this.pos = pos;
    this.end = end;
  }
  byte() {
    if (this.pos >= this.end) throw new Error(`read past the end at ${this.pos}`);
    return this.b[this.pos++];
  }
  u32() {
    let r = 0n, shift = 0n, byte;
    do {
      byte = this.byte();
      r |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
    } while (byte & 0x80);
    return Number(r);
  }
  // Signed LEB128 of any width (s32, s33, s64): only its length matters here.
  sleb() {
    let byte;
    do byte = this.byte(); while (byte & 0x80);
  }
  // A constant expression: the value of an i32.const one, else null (skipped).
  constExpr() {
    const op = this.byte();
    let v = null;
    if (op === 0x41) {
      let r = 0, shift = 0, byte;
      do {
        byte = this.byte();
        r |= (byte & 0x7f) << shift;
        shift += 7;
      } while (byte & 0x80);
      v = shift < 32 && byte & 0x40 ? r | (-1 << shift) : r;
    } else if (op === 0x42) this.sleb();
    else if (op === 0x43) this.skip(4);
    else if (op === 0x44) this.skip(8);
    else if (op === 0x23) this.u32();
    else throw new Error(`constant expression opcode 0x${op.toString(16)}`);
    if (this.byte() !== 0x0b) throw new Error('constant expression without end');
    return v;
  }
  skip(n) {
    this.pos += n;
    if (this.pos > this.end) throw new Error('read past the end');
  }
  name() {
    const n = this.u32();
    const s = new TextDecoder().decode(this.b.subarray(this.pos, this.pos + n));
    this.skip(n);
    return s;
  }
}

const SECTION = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export',
  'start', 'element', 'code', 'data', 'datacount'];
const KIND = ['func', 'table', 'memory', 'global', 'tag'];

/** Parse the module's structure; offsets are into `bytes`. */
export function parseModule(bytes) {
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  magic.forEach((m, i) => {
    if (bytes[i] !== m) throw new Error('not a wasm module (version 1)');
  });
  const r = new Reader(bytes, 8);
  const mod = { sections: [], imports: [], exports: [], names: new Map(), bodies: [],
    importedFuncs: 0, memories: [], globals: [], data: [] };
  while (r.pos < bytes.length) {
    const id = r.byte(), size = r.u32(), start = r.pos, end = start + size;
    const s = new Reader(bytes, start, end);
    const sec = { id, name: SECTION[id] ?? `unknown-${id}`, start, end };
    if (id === 0) sec.name = `custom:${s.name()}`;
    mod.sections.push(sec);
    if (id === 2) {
      for (let n = s.u32(); n > 0; n--) {
        const module = s.name(), field = s.name(), kind = s.byte();
        if (kind === 0) { s.u32(); mod.importedFuncs++; }
        else if (kind === 1) { s.byte(); limits(s); }
        else if (kind === 2) limits(s);
        else if (kind === 3) { s.byte(); s.byte(); }
        else throw new Error(`import kind ${kind}`);
        mod.imports.push({ module, field, kind: KIND[kind] });
      }
    } else if (id === 5) {
      for (let n = s.u32(); n > 0; n--) {
        const flags = s.byte(), min = s.u32();
        mod.memories.push({ min, max: flags & 1 ? s.u32() : undefined });
      }
    } else if (id === 6) {
      for (let n = s.u32(); n > 0; n--) {
        const type = s.byte(), mutable = s.byte() === 1;
        mod.globals.push({ type, mutable, init: s.constExpr() });
      }
    } else if (id === 11) {
      for (let n = s.u32(); n > 0; n--) {
        const flags = s.u32();
        if (flags === 2) s.u32(); // memory index
        const offset = flags === 1 ? null : s.constExpr(), size = s.u32(); // 1: passive
        mod.data.push({ offset, size });
        s.skip(size);
      }
    } else if (id === 7) {
      for (let n = s.u32(); n > 0; n--) {
        const name = s.name(), kind = s.byte(), index = s.u32();
        mod.exports.push({ name, kind: KIND[kind], index });
      }
    } else if (id === 10) {
      for (let n = s.u32(); n > 0; n--) {
        const size = s.u32();
        mod.bodies.push({ start: s.pos, end: s.pos + size });
        s.skip(size);
      }
    } else if (sec.name === 'custom:name') {
      while (s.pos < end) {
        const sub = s.byte(), len = s.u32(), next = s.pos + len;
        if (sub === 1)
          for (let n = s.u32(); n > 0; n--) {
            const idx = s.u32();
            mod.names.set(idx, s.name());
          }
        s.pos = next;
      }
    }
    r.pos = end;
  }
  return mod;
}

function limits(s) {
  const flags = s.byte();
  s.u32();
  if (flags & 1) s.u32();
}

// Immediates of the one-byte opcodes, by kind.
const NONE = 0, IDX = 1, MEMARG = 2, BLOCK = 3, BRTABLE = 4, CALLIND = 5, SLEB = 6, F32 = 7,
  F64 = 8, SELECTT = 9, BYTE = 10, IDX2 = 11;
const OP = new Uint8Array(256).fill(255); // 255 = unknown
for (const o of [0x00, 0x01, 0x05, 0x0b, 0x0f, 0x1a, 0x1b, 0xd1]) OP[o] = NONE;
for (const o of [0x02, 0x03, 0x04]) OP[o] = BLOCK;
for (const o of [0x0c, 0x0d, 0x10, 0x12, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x3f, 0x40, 0xd2])
  OP[o] = IDX;
OP[0x0e] = BRTABLE;
OP[0x11] = CALLIND;
OP[0x13] = CALLIND;
OP[0x1c] = SELECTT;
for (let o = 0x28; o <= 0x3e; o++) OP[o] = MEMARG;
OP[0x41] = SLEB;
OP[0x42] = SLEB;
OP[0x43] = F32;
OP[0x44] = F64;
for (let o = 0x45; o <= 0xc4; o++) OP[o] = NONE;
OP[0xd0] = BYTE;

// 0xFC sub-opcodes: 0-7 saturating truncations, 8-17 bulk memory and tables.
const FC = [NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, IDX2, IDX, IDX2, IDX, IDX2, IDX, IDX2,
  IDX, IDX, IDX];

/**
 * Decode one function body; returns counts: total instructions, SIMD (0xFD)
 * instructions, and the SIMD sub-opcodes seen (a Map of sub-opcode to count).
 */
export function decodeBody(bytes, body) {
  const r = new Reader(bytes, body.start, body.end);
  for (let n = r.u32(); n > 0; n--) { r.u32(); r.byte(); } // locals
  const res = { instructions: 0, simd: 0, simdOps: new Map() };
  while (r.pos < body.end) {
    const op = r.byte();
    res.instructions++;
    if (op === 0xfc) {
      const sub = r.u32();
      const kind = FC[sub];
      if (kind === undefined) throw new Error(`unknown 0xFC ${sub} at ${r.pos}`);
      imm(r, kind);
    } else if (op === 0xfd) {
      const sub = r.u32();
      res.simd++;
      res.simdOps.set(sub, (res.simdOps.get(sub) ?? 0) + 1);
      if (sub <= 11 || sub === 92 || sub === 93) imm(r, MEMARG); // loads, store, load_zero
      else if (sub === 12 || sub === 13) r.skip(16); // v128.const, i8x16.shuffle
      else if (sub >= 21 && sub <= 34) r.byte(); // extract/replace lane
      else if (sub >= 84 && sub <= 91) { imm(r, MEMARG); r.byte(); } // load/store lane
      else if (sub > 0xff) throw new Error(`unknown 0xFD ${sub} at ${r.pos}`);
    } else {
      const kind = OP[op];
      if (kind === 255) throw new Error(`unknown opcode 0x${op.toString(16)} at ${r.pos - 1}`);
      imm(r, kind);
    }
  }
  if (bytes[body.end - 1] !== 0x0b) throw new Error('function body does not end with end');
  return res;
}

function imm(r, kind) {
  switch (kind) {
    case NONE: return;
    case IDX: r.u32(); return;
    case IDX2: r.u32(); r.u32(); return;
    case MEMARG: r.u32(); r.u32(); return;
    case BLOCK: r.sleb(); return;
    case BRTABLE: for (let n = r.u32() + 1; n > 0; n--) r.u32(); return;
    case CALLIND: r.u32(); r.u32(); return;
    case SLEB: r.sleb(); return;
    case F32: r.skip(4); return;
    case F64: r.skip(8); return;
    case SELECTT: for (let n = r.u32(); n > 0; n--) r.byte(); return;
    case BYTE: r.byte(); return;
    default: throw new Error(`immediate kind ${kind}`);
  }
}

/** The index of the function called `name` in the name section, or -1. */
export function funcIndex(mod, name) {
  for (const [i, n] of mod.names) if (n === name) return i;
  return -1;
}
