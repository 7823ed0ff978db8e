/**
 * The governance program's record index (docs/protocol.md §23): what lets an input find the records it
 * touches in a number of steps that does not grow with the state. A scan of the image from its start
 * costs 5 steps a record, and an input does several, so an epoch's run grew with inputs × records and
 * mainnet's 2^29 steps held a 5,000-input epoch only over a state of a few thousand records (§24.2).
 *
 * The index is a hash table in memory (lib.ts's layout) with open addressing. Its entries:
 *   - every record but the param and pending-param records (fixed addresses, never looked up), keyed by
 *     its key word, with the record's word address;
 *   - groups of records, keyed by a group key no record has (the key word of the group's prefix + 1; §8's
 *     tag-prefixed key words end in zero bytes), with the group's newest record and its count. Each member's link word (at its address + LINK_OFFSET) holds the member before it, 0 for the
 *     first (record 0, the global record, is in no group). The groups: one per checkpoint history
 *     (kind, account), one per proposal's votes, and one of all validators (the count registerValidator
 *     needs).
 *
 * The program indexes the image once it is copied and, after each input, the records that input created
 * (`emitIndexRecords`): inputs create their records in key order inside the input, and a record never
 * moves once its input has ended, so an index entry never goes stale. The members of a group are linked in
 * image order, which for a checkpoint history is block order.
 *
 * A probe's first entry is the top 25 bits of BLAKE3(key ‖ salt), where the salt is drawn, before anything
 * else runs, as a BLAKE3 chain over the epoch's input records (`emitDrawSalt`). Key words are chosen by
 * users (addresses are ground cheaply, proposal ids and one account's checkpoint blocks come in
 * arithmetic progressions), so under a hash anyone can compute in advance they could pile records into
 * one run of the table, and every probe through it would walk them all; an arithmetic hash such as
 * multiply-shift is not enough either, as one multiplier in about 2^25 folds a whole progression into a
 * few entries, and whoever sends the epoch's last input can try that many. The salt is unknown until the
 * epoch's inputs are fixed, and those inputs hold the keys of the records created in the epoch, so every
 * key's first entry is a fresh random draw: to pile k chosen keys he needs about 2^(25(k−1)) tries. The
 * proposal actions after the input records are left out of the chain: their only keys are module names,
 * and only an executed proposal creates a module.
 *
 * There is one probe routine (`emitProbeRoutine`), so the program has one `hash` position for it (a hash
 * step has a disprove leaf of its own, about 73 KB in every game): each caller stores its return point,
 * the routine returns through a binary search on it (GVM-1 has no indirect jumps). A fault build searches
 * the honest build's return points, so the routine and everything after it keep their pcs and the two
 * traces part only in the faulty rule; the points only a fault build has are matched after the halt.
 *
 * Step costs: the draw 6 per input word (96 per input); a probe 3 at the call, then 3 + 7 per entry
 * passed + 4 in the routine, and 2 per level of its return search (6 levels) plus 2; indexing ≈ 40 per record (≈ 70
 * for a group member), once when the image is copied and once for each record an input creates.
 */
import { type Assembler, AssemblerError, imm } from '../assembler.ts';
import { ADDRESS_LIMIT } from '../isa.ts';
import { hashWords } from '../semantics.ts';
import { INPUT_RECORD_WORDS } from './inputs-tape.ts';
import {
  CHECKPOINT_TAG,
  ENTRY_COUNT,
  ENTRY_RECORD,
  emitFault,
  emitProbe,
  LINK_OFFSET,
  MODULE_TAG,
  probeReturnsOf,
  RECORD_SIZE,
  type Scratch,
  TABLE_BASE,
  TABLE_BITS,
  TABLE_END,
  tagWord,
  uniquePrefix,
  VALIDATOR_TAG,
  VOTE_TAG,
} from './lib.ts';

/** The largest tag (§8); a name-keyed record's key word starts with a byte ≥ 0x2d. */
const LAST_TAG = 0x0c;
/** The word of a name-keyed record that holds its tag (§8). */
const NAME_TAG_WORD = 15;
/** A checkpoint's group prefix is tag ‖ kind ‖ account: the key word above bit 80 (block and zeros below). */
export const CHECKPOINT_GROUP_SHIFT = 80n;
/** A vote's group prefix is tag ‖ proposalId: the key word above bit 184 (voter and zeros below). */
export const VOTE_GROUP_SHIFT = 184n;
/** The group of every validator record: no key word is the validator tag followed by zeros and a 1. */
export const VALIDATORS_GROUP = tagWord(VALIDATOR_TAG) + 1n;

/** The slots the indexing loop uses of its own. */
export type IndexVars = {
  /** The word address of the next record to index; the loop runs while it is below n. */
  readonly at: number;
  /** Where the loop returns: 0 to `returnTo[0]`, 1 to `returnTo[1]`. */
  readonly ret: number;
  readonly key: number;
  readonly tag: number;
  readonly group: number;
};

/**
 * Draws the index's salt into `s.salt`: a BLAKE3 chain over the words of the epoch's input records (the
 * count at tape position 2^29, then 16 words per input).
 */
export function emitDrawSalt(a: Assembler, s: Scratch, pos: number, left: number, word: number): void {
  a.mov(pos, imm(BigInt(ADDRESS_LIMIT)));
  a.tape(left, pos);
  a.mov(s.salt, left);
  a.mul(left, left, imm(BigInt(INPUT_RECORD_WORDS)));
  a.label('index.draw');
  a.jz(left, 'index.drawn');
  a.add(pos, pos, imm(1n));
  a.tape(word, pos);
  a.hash(s.salt, s.salt, word);
  a.sub(left, left, imm(1n));
  a.jmp('index.draw');
  a.label('index.drawn');
}

/**
 * The probe routine, emitted once where nothing falls into it: from M[probeKey]'s first entry on, the
 * entries are tried in turn (linear probing, wrapping at the table's end) until one holds the key or is
 * empty. It returns to M[probeReturn] through a binary search over `returns`, the honest build's return
 * points (the assembler's own for the honest build); a return point not among them goes to
 * `emitProbeFallback`'s jump.
 */
export function emitProbeRoutine(a: Assembler, s: Scratch, returns: readonly number[]): void {
  const points = [...new Set(returns)].sort((x, y) => x - y);
  if (points.length === 0) throw new AssemblerError('The probe routine has no caller');
  a.label('probe.start');
  a.hash(s.slot, s.probeKey, s.salt);
  a.div(s.slot, s.slot, imm(1n << BigInt(256 - TABLE_BITS)));
  a.add(s.slot, s.slot, imm(BigInt(TABLE_BASE)));
  a.label('probe.loop');
  a.load(s.w, s.slot);
  a.eq(s.found, s.w, s.probeKey);
  a.jnz(s.found, 'probe.return');
  a.jz(s.w, 'probe.return');
  a.add(s.slot, s.slot, imm(1n));
  a.lt(s.t, s.slot, imm(BigInt(TABLE_END)));
  a.jnz(s.t, 'probe.loop');
  a.mov(s.slot, imm(BigInt(TABLE_BASE)));
  a.jmp('probe.loop');
  a.label('probe.return');
  emitReturnSearch(a, s, points, 0, points.length - 1);
  searchedReturns.set(a, new Set(points));
}

const searchedReturns = new WeakMap<Assembler, ReadonlySet<number>>();

/**
 * Where the probe routine's return search goes with a return point it does not hold: emitted where
 * nothing falls into it (after the halt), a jump to a list emitted after everything else, which matches
 * the return points only a fault build's out-of-line code has, and faults on any other value. The jump
 * sits at the same pc in every build, so the return search is the same instructions in all of them.
 */
export function emitProbeFallback(a: Assembler, s: Scratch): void {
  a.label('probe.other-return');
  a.jmp('probe.other-list');
  a.defer(() => {
    const searched = searchedReturns.get(a);
    if (searched === undefined) throw new AssemblerError('The probe routine was not emitted');
    a.label('probe.other-list');
    for (const back of probeReturnsOf(a)) {
      if (searched.has(back)) continue;
      a.eq(s.t, s.probeReturn, imm(BigInt(back)));
      a.jnz(s.t, back);
    }
    emitFault(a, s);
    // Never reached (the load above faults); a program may not end in a load.
    a.jmp('probe.other-list');
  });
}

/** Jumps to M[probeReturn] when it is one of points[lo … hi], else to `probe.other-return`. */
function emitReturnSearch(a: Assembler, s: Scratch, points: readonly number[], lo: number, hi: number): void {
  if (lo === hi) {
    const back = points[lo] as number;
    a.eq(s.t, s.probeReturn, imm(BigInt(back)));
    a.jnz(s.t, back);
    a.jmp('probe.other-return');
    return;
  }
  const mid = (lo + hi + 1) >> 1;
  const upper = uniquePrefix(a, 'probe.upper');
  a.lt(s.t, s.probeReturn, imm(BigInt(points[mid] as number)));
  a.jz(s.t, upper);
  emitReturnSearch(a, s, points, lo, mid - 1);
  a.label(upper);
  emitReturnSearch(a, s, points, mid, hi);
}

/**
 * The loop that indexes the records from M[at] to n, emitted once: the copy falls into it with ret = 0,
 * and each input's end jumps to `index.records` with ret = 1. It leaves by a jump to the label its ret
 * names (GVM-1 has no indirect jumps).
 */
export function emitIndexRecords(
  a: Assembler,
  s: Scratch,
  v: IndexVars,
  returnTo: readonly [string, string],
): void {
  a.label('index.records');
  a.lt(s.t, v.at, s.n);
  a.jz(s.t, 'index.return');
  a.load(v.key, v.at);
  a.div(v.tag, v.key, imm(tagWord(1)));
  a.lt(s.t, v.tag, imm(BigInt(LAST_TAG + 1)));
  a.jnz(s.t, 'index.tagged');
  // A name-keyed record: only modules are looked up (a param or pending param shares its name).
  a.load(s.w, v.at, NAME_TAG_WORD);
  a.eq(s.t, s.w, imm(BigInt(MODULE_TAG)));
  a.jz(s.t, 'index.next');
  a.jmp('index.exact');
  a.label('index.tagged');
  groupKey(a, s, v, CHECKPOINT_TAG, CHECKPOINT_GROUP_SHIFT);
  groupKey(a, s, v, VOTE_TAG, VOTE_GROUP_SHIFT);
  a.eq(s.t, v.tag, imm(BigInt(VALIDATOR_TAG)));
  a.jz(s.t, 'index.exact');
  a.mov(v.group, imm(VALIDATORS_GROUP));
  // The record becomes its group's newest member.
  a.label('index.group');
  emitProbe(a, s, v.group);
  a.jnz(s.found, 'index.member');
  a.store(s.slot, v.group);
  a.label('index.member');
  a.load(s.w, s.slot, ENTRY_RECORD);
  a.store(v.at, s.w, LINK_OFFSET);
  a.store(s.slot, v.at, ENTRY_RECORD);
  a.load(s.w, s.slot, ENTRY_COUNT);
  a.add(s.w, s.w, imm(1n));
  a.store(s.slot, s.w, ENTRY_COUNT);
  a.label('index.exact');
  emitProbe(a, s, v.key);
  a.store(s.slot, v.key);
  a.store(s.slot, v.at, ENTRY_RECORD);
  a.label('index.next');
  a.add(v.at, v.at, imm(BigInt(RECORD_SIZE)));
  a.jmp('index.records');
  a.label('index.return');
  a.jz(v.ret, returnTo[0]);
  a.jmp(returnTo[1]);
}

/** For a record of `tag`: its group key (the key word's bits from `shift` up, plus 1) and on to the group. */
function groupKey(a: Assembler, s: Scratch, v: IndexVars, tag: number, shift: bigint): void {
  const other = `index.not-${tag}`;
  a.eq(s.t, v.tag, imm(BigInt(tag)));
  a.jz(s.t, other);
  a.div(v.group, v.key, imm(1n << shift));
  a.mul(v.group, v.group, imm(1n << shift));
  a.add(v.group, v.group, imm(1n));
  a.jmp('index.group');
  a.label(other);
}

/**
 * The newest record of the group keyed M[group] (or immediate) into `head`, 0 when the group is empty, and
 * its count into `count` when given. The records the current input created are not in it yet.
 */
export function emitGroupHead(
  a: Assembler,
  s: Scratch,
  group: number | { readonly imm: bigint },
  head: number,
  count?: number,
): void {
  emitProbe(a, s, group);
  a.load(head, s.slot, ENTRY_RECORD);
  if (count !== undefined) a.load(count, s.slot, ENTRY_COUNT);
}

/**
 * The salt `emitDrawSalt` draws from an inputs tape (inputs-tape.ts's words), computed in TypeScript: for
 * tests, and for anyone who wants to see where the program puts a key.
 */
export function drawnSalt(inputs: readonly bigint[]): bigint {
  const count = inputs[0] ?? 0n;
  let salt = count;
  const words = Number(count) * INPUT_RECORD_WORDS;
  for (let i = 1; i <= words; i++) salt = hashWords(salt, inputs[i] ?? 0n);
  return salt;
}

/** The table entry (0 … 2^25 − 1) a probe for `key` tries first under `salt`. */
export function firstEntry(key: bigint, salt: bigint): number {
  return Number(hashWords(key, salt) >> BigInt(256 - TABLE_BITS));
}
