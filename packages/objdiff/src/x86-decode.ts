// Just enough of the x86-64 instruction format (Intel SDM vol. 2, ch. 2 and appendix A) to walk gcc's kernel code:
// each instruction's length, where its relative branch field is, and how it moves control. The kernel's C code
// has no VEX/EVEX instructions (it is built with -mno-sse -mno-avx …); anything not known here is `undefined`,
// and callers treat that as "cannot tell".

export type Flow =
  /** Falls through to the next instruction. */
  | 'next'
  /** call: comes back to the next instruction. */
  | 'call'
  /** jmp: goes to its target only. */
  | 'jump'
  /** jcc / loop / jrcxz: the target or the next instruction. */
  | 'branch'
  /** ret, ud2, int3, hlt, an indirect jmp: nothing after it in this function runs. */
  | 'stop';

export interface Instruction {
  length: number;
  flow: Flow;
  /** The rel8/rel32 field of a direct branch or call: its offset in the instruction and its width. */
  rel?: { at: number; size: 1 | 4 };
}

const PREFIXES = new Set([0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0x66, 0x67]);

/** Immediate sizes: 'z' is 4 bytes (2 with the 0x66 prefix), 'v' 4 or 8 with REX.W (mov r64, imm64). */
type Imm = 0 | 1 | 2 | 3 | 'z' | 'v' | 'moffs';

interface Op {
  modrm: boolean;
  imm: Imm;
  flow?: Flow;
  rel?: 1 | 4;
}

const op = (modrm: boolean, imm: Imm = 0, flow?: Flow, rel?: 1 | 4): Op => ({ modrm, imm, flow, rel });

/** The one-byte opcode map in 64-bit mode; undefined: invalid there, a prefix, or an escape. */
function oneByte(b: number): Op | undefined {
  if (b < 0x40 && (b & 7) < 6) return (b & 7) < 4 ? op(true) : op(false, (b & 7) === 4 ? 1 : 'z'); // ALU ops
  if (b >= 0x50 && b <= 0x5f) return op(false); // push/pop reg
  if (b >= 0x70 && b <= 0x7f) return op(false, 0, 'branch', 1); // jcc rel8
  if (b >= 0x91 && b <= 0x99) return op(false); // xchg, cbw, cwd
  if (b >= 0xb0 && b <= 0xb7) return op(false, 1); // mov r8, imm8
  if (b >= 0xb8 && b <= 0xbf) return op(false, 'v'); // mov r, imm
  if (b >= 0xd8 && b <= 0xdf) return op(true); // x87
  switch (b) {
    case 0x63: case 0x84: case 0x85: case 0x86: case 0x87: case 0x88: case 0x89: case 0x8a: case 0x8b:
    case 0x8c: case 0x8d: case 0x8e: case 0x8f: case 0xd0: case 0xd1: case 0xd2: case 0xd3: case 0xfe:
      return op(true);
    case 0x68: return op(false, 'z');
    case 0x69: return op(true, 'z');
    case 0x6a: return op(false, 1);
    case 0x6b: return op(true, 1);
    case 0x6c: case 0x6d: case 0x6e: case 0x6f: case 0x90: case 0x9b: case 0x9c: case 0x9d: case 0x9e: case 0x9f:
    case 0xa4: case 0xa5: case 0xa6: case 0xa7: case 0xaa: case 0xab: case 0xac: case 0xad: case 0xae: case 0xaf:
    case 0xc9: case 0xd7: case 0xec: case 0xed: case 0xee: case 0xef: case 0xf1: case 0xf5: case 0xf8: case 0xf9:
    case 0xfa: case 0xfb: case 0xfc: case 0xfd:
      return op(false);
    case 0x80: case 0x83: case 0xc0: case 0xc1: case 0xc6: return op(true, 1);
    case 0x81: case 0xc7: return op(true, 'z');
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: return op(false, 'moffs');
    case 0xa8: case 0xe4: case 0xe5: case 0xe6: case 0xe7: case 0xcd: return op(false, 1);
    case 0xa9: return op(false, 'z');
    case 0xc2: return op(false, 2, 'stop'); // ret imm16
    case 0xc3: case 0xcb: case 0xcf: case 0xcc: case 0xf4: return op(false, 0, 'stop'); // ret, retf, iret, int3, hlt
    case 0xca: return op(false, 2, 'stop');
    case 0xc8: return op(false, 3); // enter imm16, imm8
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: return op(false, 0, 'branch', 1); // loop*, jrcxz
    case 0xe8: return op(false, 0, 'call', 4);
    case 0xe9: return op(false, 0, 'jump', 4);
    case 0xeb: return op(false, 0, 'jump', 1);
    case 0xf6: case 0xf7: case 0xff: return op(true); // immediates and flow depend on ModRM.reg: see decode()
    default: return undefined;
  }
}

/** The 0x0F map. */
function twoByte(b: number): Op | undefined {
  if (b >= 0x80 && b <= 0x8f) return op(false, 0, 'branch', 4); // jcc rel32
  if (b >= 0xc8 && b <= 0xcf) return op(false); // bswap
  switch (b) {
    case 0x05: case 0x06: case 0x07: case 0x08: case 0x09: case 0x30: case 0x31: case 0x32: case 0x33: case 0x34:
    case 0x35: case 0x37: case 0x77: case 0xa0: case 0xa1: case 0xa2: case 0xa8: case 0xa9: case 0xaa:
      return op(false);
    case 0x0b: return op(false, 0, 'stop'); // ud2
    case 0x70: case 0x71: case 0x72: case 0x73: case 0xa4: case 0xac: case 0xba: case 0xc2: case 0xc4: case 0xc5:
    case 0xc6:
      return op(true, 1);
    case 0x04: case 0x0a: case 0x0c: case 0x0e: case 0x0f: case 0x24: case 0x25: case 0x26: case 0x27: case 0x36:
    case 0x38: case 0x39: case 0x3a: case 0x3b: case 0x3c: case 0x3d: case 0x3e: case 0x3f:
      return undefined; // invalid, or an escape handled by decode()
    default: return op(true); // 00-03, 0d, 10-2f, 40-6f, 74-7f, 90-9f setcc, a3, a5, ab, ad-af, b0-bf, c0-c1, c3, c7, d0-ff
  }
}

/** The instruction at `at`, or undefined when it is not one this decoder knows. */
export function decode(code: Uint8Array, at: number): Instruction | undefined {
  let i = at;
  let opsize16 = false;
  let addr32 = false;
  while (i < code.length && PREFIXES.has(code[i])) {
    if (code[i] === 0x66) opsize16 = true;
    if (code[i] === 0x67) addr32 = true;
    i++;
  }
  let rexW = false;
  if (i < code.length && (code[i] & 0xf0) === 0x40) rexW = (code[i++] & 8) !== 0;
  if (i >= code.length) return undefined;
  let o: Op | undefined;
  const b = code[i++];
  if (b === 0x0f) {
    const c = code[i++];
    if (c === 0x38) (o = op(true)), i++;
    else if (c === 0x3a) (o = op(true, 1)), i++;
    else o = twoByte(c);
  } else {
    o = oneByte(b);
  }
  if (!o || i > code.length) return undefined;
  let imm = o.imm;
  let flow = o.flow ?? 'next';
  if (o.modrm) {
    if (i >= code.length) return undefined;
    const modrm = code[i++];
    const mod = modrm >> 6;
    const reg = (modrm >> 3) & 7;
    const rm = modrm & 7;
    if (mod !== 3 && rm === 4) {
      const sib = code[i++];
      if (mod === 0 && (sib & 7) === 5) i += 4;
    }
    if (mod === 1) i += 1;
    else if (mod === 2 || (mod === 0 && rm === 5)) i += 4;
    if (b === 0xf6 && reg < 2) imm = 1; // test r/m8, imm8
    if (b === 0xf7 && reg < 2) imm = 'z';
    if (b === 0xff && reg === 2) flow = 'call'; // call r/m
    if (b === 0xff && (reg === 3 || reg === 5)) return undefined; // far call/jmp
    if (b === 0xff && reg === 4) flow = 'stop'; // jmp r/m: leaves by an unknown way
  }
  const immSize = imm === 'z' ? (opsize16 ? 2 : 4) : imm === 'v' ? (rexW ? 8 : opsize16 ? 2 : 4) : imm === 'moffs' ? (addr32 ? 4 : 8) : imm;
  const relAt = i - at;
  const length = relAt + (o.rel ?? immSize);
  if (at + length > code.length) return undefined;
  return o.rel ? { length, flow, rel: { at: relAt, size: o.rel } } : { length, flow };
}
