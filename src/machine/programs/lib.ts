/**
 * Reusable routines of the governance program (docs/protocol.md §23), emitted inline: each call writes
 * its instructions at the assembler's current position with labels of its own (a fresh prefix per
 * call), so a routine can appear in as many rules as need it without calls or returns (GVM-1 has no
 * indirect jumps). They work on the state image in memory 0 … n − 1 (record k at 16k, §8), where `n`
 * is the slot holding the image's word count, and on the record index (record-index.ts: a hash table
 * of the records by key word, built while the image is copied and extended after each input).
 *
 * Step costs (counted from the emitted code; C = records the current input created so far, P = table
 * entries probed, 1 but for a collision):
 *   emitProbe            3 + the routine's 3 + 7 per entry passed + 4 + its return search's 14 (record-index.ts)
 *   emitFindRecord       5C + 3 + probe + 4 (the input's own records are not indexed until it ends)
 *   emitAppendRecord     5 + (non-zero words) + 7 per record compared + 115 per swap of two records
 *   emitWriteCheckpoint  4 (key) + find + 4 (overwrite) or + 1 + append (new record)
 *   emitReadTapeWords    2 per word
 */
import { PARAM_KEYS, type ParamKey, ROLLUP_PARAM_KEYS } from '../../governance/params.ts';
import { type Assembler, imm, type OperandLike } from '../assembler.ts';
import { ADDRESS_LIMIT } from '../isa.ts';

/** Records are 16 words (§8). */
export const RECORD_SIZE = 16;

/**
 * The program's memory beyond the image (docs/protocol.md §23):
 *
 *   0 … 2^27 − 1              the state image (at most 2^23 records)
 *   2^27 + p                  the index's link of the record at word address p (record-index.ts)
 *   2^28 …                    the program's variables (assembler slots)
 *   2^28 + 2^27 + e           the index's hash table, entry e < 2^25: its key word, and 2^25 words
 *                             further its record (or its group's newest), 2^26 further its group's count
 *
 * The image's bound is what keeps its records' links below the variables.
 */
export const IMAGE_LIMIT = 1 << 27;
/** The offset from a record's word address to its link word. */
export const LINK_OFFSET = IMAGE_LIMIT;
export const TABLE_BASE = (1 << 28) + (1 << 27);
export const TABLE_BITS = 25;
/** One past the last entry's key word. */
export const TABLE_END = TABLE_BASE + 2 ** TABLE_BITS;
/**
 * From an entry's key word to its record word and its count word. An entry's words lie in three arrays
 * rather than side by side, so an entry's address is the bucket plus TABLE_BASE, with no multiplication.
 */
export const ENTRY_RECORD = 2 ** TABLE_BITS;
export const ENTRY_COUNT = 2 * 2 ** TABLE_BITS;

/**
 * The global record (record 0, §8): its value words are memory addresses 1 … 9, as record 0 sits at
 * word 0 of the image.
 */
export const GLOBAL = {
  epoch: 1,
  lastBlock: 2,
  lastTx: 3,
  lastLog: 4,
  proposalCount: 5,
  activeCount: 6,
  totalBonded: 7,
  totalIssued: 8,
  treasury: 9,
} as const;

/**
 * Genesis lays out the param records (one per key, PARAM_KEYS order) right after the global record and
 * the pending-param records (ROLLUP_PARAM_KEYS order) after them (§8); records never move, so each
 * parameter's value has a fixed word address in every image.
 */
export const paramWord = (key: ParamKey): number => (1 + PARAM_KEYS.indexOf(key)) * RECORD_SIZE + 1;
/** A rollup parameter's pending record: value at this word, activationEpoch at the next. */
export const pendingParamWord = (key: ParamKey): number => {
  const i = ROLLUP_PARAM_KEYS.indexOf(key);
  if (i < 0) throw new RangeError(`${key} is no rollup parameter`);
  return (1 + PARAM_KEYS.length + i) * RECORD_SIZE + 1;
};

/** The tags of §8's records (a key word's top byte). */
export const MODULE_TAG = 0x03;
export const VALIDATOR_TAG = 0x04;
export const DELEGATION_TAG = 0x05;
export const ACTIVE_TAG = 0x06;
export const REWARD_TAG = 0x07;
export const PROPOSAL_TAG = 0x08;
export const VOTE_TAG = 0x09;
export const CHECKPOINT_TAG = 0x0a;
export const ACTION_TAG = 0x0c;

const TAG_SHIFT = 248n;
/** The key word of a tag-prefixed record: tag byte first, key fields left-aligned after it (§8). */
export const tagWord = (tag: number): bigint => BigInt(tag) << TAG_SHIFT;
/** Validator (0x04) key word = tag ‖ address 20 ‖ zeros: the address sits at bit 88. */
export const VALIDATOR_ADDRESS_SHIFT = 88n;
/** Delegation (0x05) key word = tag ‖ delegator 20 ‖ zeros. */
export const DELEGATION_ADDRESS_SHIFT = 88n;
/** Checkpoint (0x0a) key word = tag ‖ kind u8 ‖ account 20 ‖ block u64 ‖ 2 zero bytes. */
export const CHECKPOINT_KIND_SHIFT = 240n;
export const CHECKPOINT_ACCOUNT_SHIFT = 80n;
export const CHECKPOINT_BLOCK_SHIFT = 16n;

/** The scratch slots the routines share (never live across a routine call of the caller's own). */
export type Scratch = {
  /** The image's word count (16 × records); routines that append advance it. */
  readonly n: number;
  /** The word address the image must stay below (the record index's links start there). */
  readonly limit: number;
  /** Index of the first record the current input created (its word address); set at each input's start. */
  readonly created: number;
  readonly t: number;
  readonly u: number;
  readonly w: number;
  readonly x: number;
  readonly y: number;
  readonly p: number;
  readonly q: number;
  readonly j: number;
  readonly key: number;
  /** The probe routine's key, its result (the entry it ends on, and 1 when it holds the key), its return. */
  readonly probeKey: number;
  readonly slot: number;
  readonly found: number;
  readonly probeReturn: number;
  /** The index's salt, drawn once from the epoch's inputs before the image is copied (record-index.ts). */
  readonly salt: number;
};

/**
 * Allocates the scratch slots under `prefix`; `n` is the caller's slot holding the image's word count,
 * and `limit` the word address the image must stay below (an append that would write a record at it
 * faults).
 */
export function allocateScratch(a: Assembler, n: number, limit: number, prefix = 'lib'): Scratch {
  const s = (name: string) => a.slot(`${prefix}.${name}`);
  return {
    n,
    limit,
    created: s('created'),
    t: s('t'),
    u: s('u'),
    w: s('w'),
    x: s('x'),
    y: s('y'),
    p: s('p'),
    q: s('q'),
    j: s('j'),
    key: s('key'),
    probeKey: s('probeKey'),
    slot: s('slot'),
    found: s('found'),
    probeReturn: s('probeReturn'),
    salt: s('salt'),
  };
}

// Counted per assembler, so a program's labels (and the places `locate` names) are the same whichever
// programs the process built before it.
const uniqueCounters = new WeakMap<Assembler, number>();
/** A label prefix no other routine emitted into `a` uses. */
export function uniquePrefix(a: Assembler, name: string): string {
  const n = (uniqueCounters.get(a) ?? 0) + 1;
  uniqueCounters.set(a, n);
  return `${name}#${n}`;
}

/**
 * Stops the run on purpose: `load` through a pointer of 2^29 faults (next pc NONE). For code paths the
 * program does not implement yet, so a run never silently goes on with a wrong state.
 */
export function emitFault(a: Assembler, s: Scratch): void {
  a.mov(s.t, imm(BigInt(ADDRESS_LIMIT)));
  a.load(s.w, s.t);
}

// The probe routine's return points (the pc after each call), per assembler, in emission order.
const probeReturns = new WeakMap<Assembler, number[]>();

/**
 * Probes the record index for the entry keyed `key` (non-zero), through the one probe routine
 * (record-index.ts `emitProbeRoutine`): leaves in `s.slot` the address of the entry's key word and 1 in
 * `s.found`, or the address of the empty entry the probe ended on and 0. An empty entry reads as key 0,
 * record 0 and count 0, so a caller may read an absent entry's words. Clobbers s.w and s.t.
 */
export function emitProbe(a: Assembler, s: Scratch, key: OperandLike): void {
  if (key !== s.probeKey) a.mov(s.probeKey, key);
  const back = a.here + 2;
  a.mov(s.probeReturn, imm(BigInt(back)));
  a.jmp('probe.start');
  const returns = probeReturns.get(a) ?? [];
  returns.push(back);
  probeReturns.set(a, returns);
}

/** The return points of every probe emitted into `a` so far. */
export function probeReturnsOf(a: Assembler): readonly number[] {
  return probeReturns.get(a) ?? [];
}

/**
 * Finds the record whose key word equals M[key] (a tag-prefixed key word, unique and non-zero): leaves
 * its word address in `ptr` and 1 in `found`, or `ptr` = n and 0 in `found` (the words past the image
 * read as zero). The records the current input created (from M[created] on) are not indexed until the
 * input ends, so they are scanned first; there are few (endEpoch, which creates many, looks none up).
 */
export function emitFindRecord(a: Assembler, s: Scratch, key: number, ptr: number, found: number): void {
  const l = uniquePrefix(a, 'find');
  a.mov(ptr, s.created);
  a.label(`${l}.own`);
  a.lt(found, ptr, s.n);
  a.jz(found, `${l}.indexed`);
  a.load(s.w, ptr);
  a.eq(found, s.w, key);
  a.jnz(found, `${l}.done`);
  a.add(ptr, ptr, imm(BigInt(RECORD_SIZE)));
  a.jmp(`${l}.own`);
  a.label(`${l}.indexed`);
  emitProbe(a, s, key);
  a.mov(found, s.found);
  a.jz(found, `${l}.done`);
  a.load(ptr, s.slot, ENTRY_RECORD);
  a.label(`${l}.done`);
}

/**
 * Appends a record (its words as operands: word 0 the key word, the rest value words; missing words
 * stay zero, as memory past the image is zero), then moves it down past every record the current input
 * created (from M[created] on) whose key word is larger, so an input's new records end up in key order
 * (§8: the leaves an input creates are appended sorted by key bytes). Comparing key words numerically is
 * key-byte order for the tag-prefixed records (§8's key words are left-aligned). Leaves `ptr` at the new
 * record's final word address. Advances n by 16.
 */
export function emitAppendRecord(a: Assembler, s: Scratch, words: readonly OperandLike[], ptr: number): void {
  if (words.length < 1 || words.length > RECORD_SIZE) throw new RangeError('A record has 1..16 words');
  const l = uniquePrefix(a, 'append');
  a.eq(s.t, s.n, imm(BigInt(s.limit)));
  a.jz(s.t, `${l}.room`);
  emitFault(a, s);
  a.label(`${l}.room`);
  words.forEach((word, k) => {
    if (typeof word !== 'number' && 'imm' in word && word.imm === 0n) return;
    a.store(s.n, word, k);
  });
  a.mov(ptr, s.n);
  a.add(s.n, s.n, imm(BigInt(RECORD_SIZE)));
  // Bubble the new record down while the record before it was created by this input and is larger.
  a.label(`${l}.sort`);
  a.lt(s.t, s.created, ptr);
  a.jz(s.t, `${l}.done`);
  a.sub(s.q, ptr, imm(BigInt(RECORD_SIZE)));
  a.load(s.x, ptr);
  a.load(s.y, s.q);
  a.lt(s.t, s.x, s.y);
  a.jz(s.t, `${l}.done`);
  // Swap the 16 words of records ptr − 16 and ptr, word by word (q walks both).
  a.mov(s.j, imm(BigInt(RECORD_SIZE)));
  a.label(`${l}.swap`);
  a.load(s.x, s.q);
  a.load(s.y, s.q, RECORD_SIZE);
  a.store(s.q, s.y);
  a.store(s.q, s.x, RECORD_SIZE);
  a.add(s.q, s.q, imm(1n));
  a.sub(s.j, s.j, imm(1n));
  a.jnz(s.j, `${l}.swap`);
  a.sub(ptr, ptr, imm(BigInt(RECORD_SIZE)));
  a.jmp(`${l}.sort`);
  a.label(`${l}.done`);
}

/**
 * Writes a checkpoint as history.ts's `writeCheckpoint` does and the leaf table records it (§3, §8):
 * the checkpoint leaf is keyed by (kind, account, block), so a checkpoint at the block of the history's
 * last one is the same record (its validator and value are overwritten); any other block makes a new
 * record. Blocks never decrease (inputs are in order), so "the last checkpoint has this block" is "a
 * record with this key exists". `kind` is a constant; account, block, validator, value are operands.
 */
export function emitWriteCheckpoint(
  a: Assembler,
  s: Scratch,
  kind: number,
  account: OperandLike,
  block: OperandLike,
  validator: OperandLike,
  value: OperandLike,
): void {
  const l = uniquePrefix(a, 'checkpoint');
  const found = s.u;
  a.mul(s.key, account, imm(1n << CHECKPOINT_ACCOUNT_SHIFT));
  a.add(s.key, s.key, imm(tagWord(0x0a) + (BigInt(kind) << CHECKPOINT_KIND_SHIFT)));
  a.mul(s.t, block, imm(1n << CHECKPOINT_BLOCK_SHIFT));
  a.add(s.key, s.key, s.t);
  emitFindRecord(a, s, s.key, s.p, found);
  a.jz(found, `${l}.new`);
  a.store(s.p, validator, 1);
  a.store(s.p, value, 2);
  a.jmp(`${l}.done`);
  a.label(`${l}.new`);
  emitAppendRecord(a, s, [s.key, validator, value], s.p);
  a.label(`${l}.done`);
}

/**
 * Reads `dsts.length` consecutive tape words starting at the position in M[pos] into the slots `dsts`
 * (unrolled: a `tape` step and an increment per word); leaves M[pos] one past the last word read.
 */
export function emitReadTapeWords(a: Assembler, pos: number, dsts: readonly number[]): void {
  for (const d of dsts) {
    a.tape(d, pos);
    a.add(pos, pos, imm(1n));
  }
}

/**
 * Binary search over a table of 2-word entries sorted by their first word, between the word addresses
 * M[lo] (first entry) and M[hi] (one past the last): leaves in `lo` the address of the first entry whose
 * first word is ≥ M[key], or the end when there is none. `hi` and `mid` are clobbered.
 * Cost: about 13 steps per halving.
 */
export function emitLowerBound(
  a: Assembler,
  s: Scratch,
  v: { readonly lo: number; readonly hi: number; readonly mid: number; readonly key: number },
): void {
  const l = uniquePrefix(a, 'lower-bound');
  a.label(`${l}.loop`);
  a.lt(s.t, v.lo, v.hi);
  a.jz(s.t, `${l}.done`);
  // mid = lo + 2·⌊(hi − lo) / 4⌋: an entry's address halfway (entries are 2 words).
  a.sub(v.mid, v.hi, v.lo);
  a.div(v.mid, v.mid, imm(4n));
  a.mul(v.mid, v.mid, imm(2n));
  a.add(v.mid, v.mid, v.lo);
  a.load(s.w, v.mid);
  a.lt(s.t, s.w, v.key);
  a.jz(s.t, `${l}.low`);
  a.add(v.lo, v.mid, imm(2n));
  a.jmp(`${l}.loop`);
  a.label(`${l}.low`);
  a.mov(v.hi, v.mid);
  a.jmp(`${l}.loop`);
  a.label(`${l}.done`);
}
