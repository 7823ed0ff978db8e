/**
 * The governance program of GVM-1 (docs/protocol.md §23): what the machine runs for one epoch in a
 * dispute. Built with the assembler; its layout in memory:
 *
 *   0 … 16N − 1        the state image, copied from the tape's image half (record k at 16k, §8)
 *   2^28 …             the program's variables (assembler slots)
 *
 * This version has the two ends of an epoch and no rules yet: it copies the image (finding the record
 * count N itself, as the first record whose key word is zero: no advice) and hashes it into the state
 * root exactly as §8 defines it (depth 29, zero subtrees for the padding), then halts on that root. So a
 * run over an epoch with no inputs halts on the pre-state root, and the machine's root agrees with the
 * model's by construction of the same tree, one `hash` step per node. The input loop and the rule
 * subroutines come next (§23).
 */

import { IMAGE_DEPTH, RECORD_WORDS } from '../../governance/index.ts';
import { Assembler, imm } from '../assembler.ts';
import type { Program } from '../program.ts';

/** Where the program's variables start: the image below it may hold 2^24 records. */
export const VARIABLES_BASE = 1 << 28;
/** The largest state image (in records) the program copies without overwriting its own variables. */
export const MAX_PROGRAM_RECORDS = VARIABLES_BASE / RECORD_WORDS;

const VARIABLE_NAMES = [
  'pos',
  'w',
  'j',
  't',
  'n',
  'z',
  'level',
  'half',
  'i',
  'p',
  'q',
  'x',
  'y',
  'h',
  'root',
] as const;
/** The addresses of the program's variables, by name. */
type Vars = Readonly<Record<(typeof VARIABLE_NAMES)[number], number>>;

/** Copies the image from the tape to memory 0 … 16N − 1; leaves the word count 16N in `n`. */
function copyImage(a: Assembler, v: Vars): void {
  const { pos, w, j, t, n } = v;
  a.mov(pos, imm(0n));
  a.label('copy.record');
  // A record whose key word is zero ends the image (every key word is non-zero, §8).
  a.tape(w, pos);
  a.jz(w, 'copy.done');
  a.eq(t, pos, imm(BigInt(VARIABLES_BASE)));
  a.jnz(t, 'copy.too-large');
  a.mov(j, imm(BigInt(RECORD_WORDS)));
  a.label('copy.word');
  a.tape(w, pos);
  a.store(pos, w);
  a.add(pos, pos, imm(1n));
  a.sub(j, j, imm(1n));
  a.jnz(j, 'copy.word');
  a.jmp('copy.record');
  // An image that would reach the variables: load from an address ≥ 2^29 faults, on purpose.
  a.label('copy.too-large');
  a.mov(t, imm(1n << 29n));
  a.load(w, t);
  a.label('copy.done');
  a.mov(n, pos);
}

/**
 * Hashes memory 0 … n − 1, padded with zero words, into the depth-29 root (§8), in place: level by
 * level, node i ← BLAKE3(node 2i ‖ node 2i + 1), a missing right node being the zero hash of the level.
 * Leaves the root in memory word 0.
 */
function hashImage(a: Assembler, v: Vars): void {
  const { n, z, level, half, i, p, q, t, x, y, h } = v;
  a.mov(z, imm(0n));
  a.mov(level, imm(0n));
  // An empty image is one zero word: its root is the zero hash of depth 29.
  a.jnz(n, 'hash.level');
  a.mov(n, imm(1n));
  a.label('hash.level');
  a.eq(t, level, imm(BigInt(IMAGE_DEPTH)));
  a.jnz(t, 'hash.done');
  a.add(half, n, imm(1n));
  a.div(half, half, imm(2n));
  a.mov(i, imm(0n));
  a.label('hash.pair');
  a.eq(t, i, half);
  a.jnz(t, 'hash.level-done');
  a.add(p, i, i);
  a.load(x, p);
  a.add(q, p, imm(1n));
  a.lt(t, q, n);
  a.jnz(t, 'hash.right');
  a.mov(y, z);
  a.jmp('hash.node');
  a.label('hash.right');
  a.load(y, p, 1);
  a.label('hash.node');
  a.hash(h, x, y);
  a.store(i, h);
  a.add(i, i, imm(1n));
  a.jmp('hash.pair');
  a.label('hash.level-done');
  a.mov(n, half);
  a.hash(z, z, z);
  a.add(level, level, imm(1n));
  a.jmp('hash.level');
  a.label('hash.done');
}

/** The governance program (this version: image in, root out; no inputs applied yet). */
export function governanceProgram(): Program {
  const a = new Assembler(VARIABLES_BASE);
  const v = Object.fromEntries(VARIABLE_NAMES.map((name) => [name, a.slot(name)])) as Vars;
  copyImage(a, v);
  hashImage(a, v);
  a.mov(v.root, 0);
  a.halt(v.root);
  return a.build();
}
