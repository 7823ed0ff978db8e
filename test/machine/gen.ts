/**
 * A seeded random-program generator for the GVM-1 tests: straight-line random instructions over a few
 * memory slots (every opcode, both operand kinds, loads and stores through freshly set pointers, tape
 * reads of both halves), one or two counted loops, forward conditional skips, and now and then a
 * faulting instruction; plus a random tape.
 */
import { imm } from '../../src/machine/assembler.ts';
import {
  ADDRESS_LIMIT,
  BINARY_OPS,
  type Instruction,
  type Operand,
  TAPE_LIMIT,
  WORD_MAX,
} from '../../src/machine/isa.ts';
import type { Program } from '../../src/machine/program.ts';
import { Tape } from '../../src/machine/tape.ts';
import { rng } from '../circuits/helpers.ts';

export { rng };

export type Gen = {
  int(n: number): number;
  chance(p: number): boolean;
  word(): bigint;
  pick<T>(xs: readonly T[]): T;
};

export function gen(seed: number): Gen {
  const next = rng(seed);
  const int = (n: number) => next() % n;
  const full = () => {
    let w = 0n;
    for (let i = 0; i < 8; i++) w = (w << 32n) | BigInt(next());
    return w;
  };
  return {
    int,
    chance: (p) => next() / 2 ** 32 < p,
    // Small words, words at the top of the range (for wrap-around), and full random words.
    word() {
      switch (int(4)) {
        case 0:
          return BigInt(int(4));
        case 1:
          return WORD_MAX - BigInt(int(4));
        case 2:
          return BigInt(int(1000));
        default:
          return full();
      }
    },
    pick: (xs) => xs[int(xs.length)] as (typeof xs)[number],
  };
}

/** Data slots 0..15; pointer values stay in 0..11 and offsets in 0..4, so stores never hit a counter. */
const DATA = 16;
const COUNTERS = [16, 17];

export type RandomCase = { program: Program; tape: Tape };

export function randomTape(g: Gen): Tape {
  const image = Array.from({ length: g.int(12) }, () => g.word());
  const inputs = Array.from({ length: g.int(12) }, () => g.word());
  return new Tape({ image, inputs });
}

export function randomCase(seed: number): RandomCase {
  const g = gen(seed);
  const out: Instruction[] = [];
  const slot = () => g.int(DATA);
  const operand = (): Operand => (g.chance(0.3) ? imm(g.word()) : { mem: slot() });
  const tapePos = () => (g.chance(0.5) ? g.int(14) : ADDRESS_LIMIT + g.int(14));

  const straight = (n: number) => {
    for (let k = 0; k < n; k++) {
      const kind = g.int(10);
      if (kind < 4) out.push({ op: g.pick(BINARY_OPS), dst: slot(), x: operand(), y: operand() });
      else if (kind === 4) out.push({ op: 'mov', dst: slot(), x: operand() });
      else if (kind === 5) {
        const ptr = slot();
        out.push({ op: 'mov', dst: ptr, x: imm(BigInt(g.int(12))) });
        out.push({ op: 'load', dst: slot(), ptr, offset: g.int(5) });
      } else if (kind === 6) {
        const ptr = slot();
        out.push({ op: 'mov', dst: ptr, x: imm(BigInt(g.int(12))) });
        out.push({ op: 'store', ptr, offset: g.int(5), x: operand() });
      } else if (kind === 7) {
        const pos = slot();
        out.push({ op: 'mov', dst: pos, x: imm(BigInt(tapePos())) });
        out.push({ op: 'tape', dst: slot(), pos });
      } else if (kind === 8) {
        // A forward skip over the next instruction (taken or not, it always ends).
        const at = out.length;
        out.push({ op: g.chance(0.5) ? 'jz' : 'jnz', x: slot(), target: at + 2 });
        out.push({ op: 'mov', dst: slot(), x: operand() });
      } else {
        out.push({ op: 'jmp', target: out.length + 1 });
      }
    }
  };

  straight(2 + g.int(6));
  const loops = 1 + g.int(2);
  for (let l = 0; l < loops; l++) {
    const counter = COUNTERS[l] as number;
    out.push({ op: 'mov', dst: counter, x: imm(BigInt(1 + g.int(4))) });
    const top = out.length;
    straight(1 + g.int(5));
    out.push({ op: 'sub', dst: counter, x: { mem: counter }, y: imm(1n) });
    out.push({ op: 'jnz', x: counter, target: top });
  }
  straight(g.int(4));
  if (g.chance(0.2)) {
    // A faulting step: a pointer whose effective address is not below 2^29, or a position ≥ 2^30.
    const s = slot();
    if (g.chance(0.5)) {
      out.push({ op: 'mov', dst: s, x: imm(BigInt(ADDRESS_LIMIT - 2)) });
      out.push(
        g.chance(0.5)
          ? { op: 'load', dst: slot(), ptr: s, offset: 2 + g.int(3) }
          : { op: 'store', ptr: s, offset: 2 + g.int(3), x: operand() },
      );
    } else {
      out.push({
        op: 'mov',
        dst: s,
        x: imm(g.chance(0.5) ? BigInt(TAPE_LIMIT) : g.word() | BigInt(TAPE_LIMIT)),
      });
      out.push({ op: 'tape', dst: slot(), pos: s });
    }
  }
  out.push({ op: 'halt', result: slot() });
  return { program: { instructions: out }, tape: randomTape(g) };
}
