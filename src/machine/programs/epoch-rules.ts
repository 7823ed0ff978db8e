/**
 * endEpoch in the governance program (docs/protocol.md §6, §23), as the model's rules/end-of-epoch.ts
 * does it with REFERENCE_HOOKS (or the one hook a compiled-in fault changes). It is never rejected: it
 * leaves by `input.accept`.
 *
 * The model credits accounts one by one and appends the reward leaves it creates sorted by key. Finding
 * each account's reward record by a scan (5N steps) or keeping new records sorted by emitAppendRecord's
 * swaps (115 steps each) would cost O(D × N) or O(D²) for D delegators, so the rule reads the image in
 * three passes and keeps what it needs in tables of its own (variables, not image):
 *
 *   A. slot records by index (`slotPtr`), validator records (`validators`), the proposals executed this
 *      epoch (`executed`: id, then its validator-vote count, then each voter's share; image order is id
 *      order) with the subsidy added to totalIssued. From the tables: the old set (slots 0 … activeCount
 *      − 1) into `active` (8 words per entry) with its power P, each active validator's commission, self
 *      stake and base, and the candidates (selfStake ≥ minStake) with their totals.
 *   B. if P > 0, R_v, C, rest per entry first; the pass pays each delegation with amount > 0 to an active
 *      validator (a binary search of `byAddress`, the entries sorted by address) and counts each validator vote (isValidator = 1) on an
 *      executed proposal (binary search of its id), keeping (voter, entry) in the sort buffer. Then each
 *      validator's own credit and the roundings, each proposal's share and remainder, the voters' credits.
 *      Credits go to a list (account, amount), zero ones left out (a zero credit makes no leaf).
 *   -. the next set: a selection sort keeps the top maxValidators; the slot records 0 … max(old, new) − 1
 *      are rewritten in place or appended in index order, the first records this input creates (0x06 keys
 *      sort before 0x07 ones, so no swap).
 *   C. the credit list is merge-sorted by account (bottom-up, 2-word entries) and equal accounts merged;
 *      the pass adds to each existing reward record its account's credit (binary search); the accounts
 *      left get new reward records, appended in key order (each append compares once and never swaps).
 *   Then epoch + 1, activeCount, and the rollup parameters whose activation epoch has come (unrolled).
 *
 * Step costs (from the emitted code; N records, A old active entries ≤ 100, V validators ≤ 256, C ≤ V
 * candidates, K selected, D delegations > 0, L credits, X validator votes on executed proposals, E of them):
 *   passes       8 per record + 2 per handler tested before its tag's, on each of the three passes (≈ 30N)
 *   index        ≈ 10 per insertion shift (≤ A²/2) to sort `byAddress`
 *   validators   ≈ 25 + 11·log2 A each; delegations (pass B) ≈ 45 + 11·log2 A each; votes ≈ 30 + 14·log2 E
 *   selection    ≈ 14·C·K; slots ≈ 25 each (+ emitAppendRecord's 7 + nonzero words for a new one)
 *   credits      ≈ 17 per entry per merge level (L·⌈log2 L⌉), 13 per entry to merge equals, ≈ 20 +
 *                14·log2 L per existing reward record, ≈ 30 per new one
 * Measured (test/machine/epoch-program.test.ts): the bench shape (64 validators, 2,000 delegator addresses,
 * 40 seated), 2,345 records, 245 delegators paid, 232 reward records created: 162,561 steps (69 per
 * record; a record look-up per credit alone would be ≈ 5 × 2,345 × 285). At 5,000 inputs (12,194 records,
 * 50 seated, 904 delegators paid, 789 reward records created): 821,185 steps (67 per record), beside the
 * 3,390,477 steps the program spends copying and hashing that image.
 *
 * Faults keep the honest code's length (governance.ts pads fault builds to it, so only the faulty rule's
 * own steps differ): `power-cap-not-applied` moves the total instead of the cap, `tie-break-flipped`
 * swaps the address comparison, `commission-not-taken` multiplies by 0 instead of R, and
 * `rewards-rounded-up` replaces each reward-split `div` by a jump to an out-of-line ceil division.
 */
import { ROLLUP_PARAM_KEYS } from '../../governance/params.ts';
import { ProposalStatus } from '../../governance/state.ts';
import { type Assembler, imm, type OperandLike } from '../assembler.ts';
import type { ProgramFault } from './faults.ts';
import {
  ACTIVE_TAG,
  DELEGATION_ADDRESS_SHIFT,
  DELEGATION_TAG,
  emitAppendRecord,
  emitFault,
  emitLowerBound,
  GLOBAL,
  PROPOSAL_TAG,
  paramWord,
  pendingParamWord,
  RECORD_SIZE,
  REWARD_TAG,
  type Scratch,
  tagWord,
  uniquePrefix,
  VALIDATOR_ADDRESS_SHIFT,
  VALIDATOR_TAG,
  VOTE_TAG,
} from './lib.ts';
import { PROPOSAL_ID_SHIFT, PROPOSAL_WORD, VOTE_VOTER_SHIFT } from './proposal-rules.ts';

const BPS = 10_000n;
/** Active slot (0x06) key word = tag ‖ index u32 ‖ zeros: the index sits at bit 216. */
export const ACTIVE_INDEX_SHIFT = 216n;
/** Reward (0x07) key word = tag ‖ account 20 ‖ zeros. */
export const REWARD_ADDRESS_SHIFT = 88n;
/** Slot indices stay below maxValidators' bound (100); the table has room for more. */
const SLOT_TABLE = 128;
/** An active entry's words in the `active` table. */
const ENTRY = { address: 0, power: 1, reward: 2, commission: 3, rest: 4, base: 5, selfStake: 6, paid: 7 };
const ENTRY_SIZE = 8;
/** Candidates: 2 words (address, total) each; at most MAX_REGISTERED_VALIDATORS of them. */
const CANDIDATE_TABLE = 256;
/** Credits: 2 words (account, amount) each; the list and the merge sort's second buffer. */
const CREDIT_CAPACITY = 1 << 20;
/** Proposals executed in one epoch: 2 words each. */
const EXECUTED_CAPACITY = 1 << 20;

const EPOCH_NAMES = [
  'ptr',
  'key',
  'oldCount',
  'newCount',
  'reward',
  'totalPower',
  'paid',
  'ep',
  'eEnd',
  'cp',
  'share',
  'acc',
  'amt',
  'id',
  'subsidy',
  'candEnd',
  'k',
  'best',
  'bp',
  'total',
  'cap',
  'i',
  'slotCount',
  'src',
  'dst',
  'width',
  'len',
  'lo',
  'mid',
  'hi',
  'pe',
  'qe',
  'o',
  'oe',
  'ip',
  'tag',
  'vpEnd',
  'exEnd',
  'vc',
  'byEnd',
  'alo',
  'ahi',
  'amid',
] as const;
type EpochVars = Readonly<Record<(typeof EPOCH_NAMES)[number], number>>;

type Tables = {
  readonly slotPtr: number;
  readonly active: number;
  /** (address, entry word address) of each active entry, sorted by address. */
  readonly byAddress: number;
  readonly cand: number;
  /** Word addresses of the validator records (pass A). */
  readonly validators: number;
  /** Proposals executed this epoch: (id, validator votes, then each voter's share) per entry. */
  readonly executed: number;
};
type Lists = { readonly credits: number; readonly buffer: number };

/** A handler of an image pass: the tag it takes and its body (which may jump to `next`). */
type PassHandler = { readonly tag: number; readonly body: (next: string) => void };

/**
 * One pass over the image: `ptr` walks every record, `key` holds its key word, and the record goes to the
 * handler of its tag (the key word's top byte; a name-keyed record's top byte is ≥ 0x2d, no tag).
 * Per record: 8 steps, plus 2 per handler tested before the match, plus the handler's body.
 */
function emitImagePass(a: Assembler, s: Scratch, e: EpochVars, handlers: readonly PassHandler[]): void {
  const l = uniquePrefix(a, 'epoch-pass');
  a.mov(e.ptr, imm(0n));
  a.label(`${l}.loop`);
  a.lt(s.t, e.ptr, s.n);
  a.jz(s.t, `${l}.done`);
  a.load(e.key, e.ptr);
  a.div(e.tag, e.key, imm(tagWord(1)));
  handlers.forEach((h, i) => {
    a.eq(s.t, e.tag, imm(BigInt(h.tag)));
    a.jnz(s.t, `${l}.h${i}`);
  });
  a.label(`${l}.next`);
  a.add(e.ptr, e.ptr, imm(BigInt(RECORD_SIZE)));
  a.jmp(`${l}.loop`);
  handlers.forEach((h, i) => {
    a.label(`${l}.h${i}`);
    h.body(`${l}.next`);
    a.jmp(`${l}.next`);
  });
  a.label(`${l}.done`);
}

/**
 * `dst ← divide(x, y)`: floor; under `rewards-rounded-up` the model's ceilDiv, (x + y − 1) / y, in an
 * out-of-line detour that replaces the `div` (same length: nothing after it moves, so the fault build's
 * trace parts from the honest one at this division).
 */
function emitDivide(a: Assembler, dst: number, x: number, y: number, t: number, fault: ProgramFault): void {
  if (fault !== 'rewards-rounded-up') {
    a.div(dst, x, y);
    return;
  }
  const l = uniquePrefix(a, 'epoch-ceil');
  a.jmp(`${l}.detour`);
  a.label(`${l}.back`);
  a.defer(() => {
    a.label(`${l}.detour`);
    a.add(t, x, y);
    a.sub(t, t, imm(1n));
    a.div(dst, t, y);
    a.jmp(`${l}.back`);
  });
}

/**
 * Finds the active entry of the validator address in M[address]: `e.ep` ← its word address, or jumps to
 * `missing`. A binary search of `byAddress` (address, entry) sorted by address (≈ 11 steps per halving).
 */
function findActiveEntry(
  a: Assembler,
  s: Scratch,
  e: EpochVars,
  tb: Tables,
  address: number,
  missing: string,
): void {
  a.mov(e.alo, imm(BigInt(tb.byAddress)));
  a.mov(e.ahi, e.byEnd);
  emitLowerBound(a, s, { lo: e.alo, hi: e.ahi, mid: e.amid, key: address });
  a.lt(s.t, e.alo, e.byEnd);
  a.jz(s.t, missing);
  a.load(s.w, e.alo);
  a.eq(s.t, s.w, address);
  a.jz(s.t, missing);
  a.load(e.ep, e.alo, 1);
}

/** Appends (account, amount) to the credit list unless the amount is zero (a zero credit makes no leaf). */
function pushCredit(
  a: Assembler,
  s: Scratch,
  e: EpochVars,
  ls: Lists,
  account: OperandLike,
  amount: number,
): void {
  const l = uniquePrefix(a, 'epoch-credit');
  a.jz(amount, `${l}.done`);
  a.eq(s.t, e.cp, imm(BigInt(ls.credits + 2 * CREDIT_CAPACITY)));
  a.jz(s.t, `${l}.room`);
  emitFault(a, s);
  a.label(`${l}.room`);
  a.store(e.cp, account);
  a.store(e.cp, amount, 1);
  a.add(e.cp, e.cp, imm(2n));
  a.label(`${l}.done`);
}

/** Stops the run when M[at] reached `end` (a table of the rule is full: no state the model reaches). */
function emitRoom(a: Assembler, s: Scratch, at: number, end: number): void {
  const l = uniquePrefix(a, 'epoch-room');
  a.eq(s.t, at, imm(BigInt(end)));
  a.jz(s.t, `${l}.ok`);
  emitFault(a, s);
  a.label(`${l}.ok`);
}

/**
 * Pass A: the slot records by index, the validator records, and the proposals executed this epoch (in
 * image order, which is id order: each propose input creates one proposal record, ids counting up), each
 * adding the subsidy to totalIssued (6.3). Then the old set (slots 0 … activeCount − 1) into `active`
 * with its total power, each active validator's commission, self stake and base, and the candidates of
 * 6.4 (selfStake ≥ minStake) with their totals.
 */
function emitGather(a: Assembler, s: Scratch, e: EpochVars, tb: Tables): void {
  const W = PROPOSAL_WORD;
  a.mov(e.vpEnd, imm(BigInt(tb.validators)));
  a.mov(e.exEnd, imm(BigInt(tb.executed)));
  emitImagePass(a, s, e, [
    {
      tag: ACTIVE_TAG,
      body: () => {
        a.sub(s.w, e.key, imm(tagWord(ACTIVE_TAG)));
        a.div(s.w, s.w, imm(1n << ACTIVE_INDEX_SHIFT));
        a.lt(s.t, s.w, imm(BigInt(SLOT_TABLE)));
        a.jnz(s.t, 'epoch.slot-fits');
        emitFault(a, s);
        a.label('epoch.slot-fits');
        a.add(s.w, s.w, imm(BigInt(tb.slotPtr)));
        a.store(s.w, e.ptr);
      },
    },
    {
      tag: VALIDATOR_TAG,
      body: () => {
        emitRoom(a, s, e.vpEnd, tb.validators + CANDIDATE_TABLE);
        a.store(e.vpEnd, e.ptr);
        a.add(e.vpEnd, e.vpEnd, imm(1n));
      },
    },
    {
      tag: PROPOSAL_TAG,
      body: (next) => {
        a.load(s.w, e.ptr, W.status);
        a.eq(s.t, s.w, imm(BigInt(ProposalStatus.Executed)));
        a.jz(s.t, next);
        a.load(s.w, e.ptr, W.executedEpoch);
        a.eq(s.t, s.w, GLOBAL.epoch);
        a.jz(s.t, next);
        a.add(GLOBAL.totalIssued, GLOBAL.totalIssued, e.subsidy);
        emitRoom(a, s, e.exEnd, tb.executed + 2 * EXECUTED_CAPACITY);
        a.sub(s.w, e.key, imm(tagWord(PROPOSAL_TAG)));
        a.div(s.w, s.w, imm(1n << PROPOSAL_ID_SHIFT));
        a.store(e.exEnd, s.w);
        a.store(e.exEnd, imm(0n), 1);
        a.add(e.exEnd, e.exEnd, imm(2n));
      },
    },
  ]);
  // The old set into `active`, and its total power.
  a.mov(e.oldCount, GLOBAL.activeCount);
  a.mul(e.eEnd, e.oldCount, imm(BigInt(ENTRY_SIZE)));
  a.add(e.eEnd, e.eEnd, imm(BigInt(tb.active)));
  a.mov(e.totalPower, imm(0n));
  a.mov(e.ep, imm(BigInt(tb.active)));
  a.mov(e.ip, imm(BigInt(tb.slotPtr)));
  a.label('epoch.old-set');
  a.lt(s.t, e.ep, e.eEnd);
  a.jz(s.t, 'epoch.old-set-done');
  a.load(s.p, e.ip);
  a.load(s.w, s.p, 1);
  a.store(e.ep, s.w, ENTRY.address);
  a.load(s.w, s.p, 2);
  a.store(e.ep, s.w, ENTRY.power);
  a.add(e.totalPower, e.totalPower, s.w);
  a.add(e.ep, e.ep, imm(BigInt(ENTRY_SIZE)));
  a.add(e.ip, e.ip, imm(1n));
  a.jmp('epoch.old-set');
  a.label('epoch.old-set-done');
  // byAddress: (address, entry) of each active entry, insertion-sorted by address.
  a.mov(e.byEnd, imm(BigInt(tb.byAddress)));
  a.mov(e.ep, imm(BigInt(tb.active)));
  a.label('epoch.index');
  a.lt(s.t, e.ep, e.eEnd);
  a.jz(s.t, 'epoch.indexed');
  a.load(e.acc, e.ep, ENTRY.address);
  a.mov(s.p, e.byEnd);
  a.label('epoch.index-shift');
  a.eq(s.t, s.p, imm(BigInt(tb.byAddress)));
  a.jnz(s.t, 'epoch.index-place');
  a.sub(s.q, s.p, imm(2n));
  a.load(s.w, s.q);
  a.lt(s.t, e.acc, s.w);
  a.jz(s.t, 'epoch.index-place');
  a.store(s.p, s.w);
  a.load(s.w, s.q, 1);
  a.store(s.p, s.w, 1);
  a.mov(s.p, s.q);
  a.jmp('epoch.index-shift');
  a.label('epoch.index-place');
  a.store(s.p, e.acc);
  a.store(s.p, e.ep, 1);
  a.add(e.byEnd, e.byEnd, imm(2n));
  a.add(e.ep, e.ep, imm(BigInt(ENTRY_SIZE)));
  a.jmp('epoch.index');
  a.label('epoch.indexed');
  // Each validator record: its active entry's fields, and its candidacy.
  a.mov(e.candEnd, imm(BigInt(tb.cand)));
  a.mov(e.ip, imm(BigInt(tb.validators)));
  a.label('epoch.validator');
  a.lt(s.t, e.ip, e.vpEnd);
  a.jz(s.t, 'epoch.validators-done');
  a.load(e.ptr, e.ip);
  a.load(e.acc, e.ptr);
  a.sub(e.acc, e.acc, imm(tagWord(VALIDATOR_TAG)));
  a.div(e.acc, e.acc, imm(1n << VALIDATOR_ADDRESS_SHIFT));
  a.load(s.y, e.ptr, 2);
  a.load(s.x, e.ptr, 3);
  a.add(e.total, s.y, s.x);
  a.lt(s.t, s.y, paramWord('minStake'));
  a.jnz(s.t, 'epoch.candidate-done');
  a.store(e.candEnd, e.acc);
  a.store(e.candEnd, e.total, 1);
  a.add(e.candEnd, e.candEnd, imm(2n));
  a.label('epoch.candidate-done');
  findActiveEntry(a, s, e, tb, e.acc, 'epoch.validator-next');
  a.load(s.w, e.ptr, 1);
  a.store(e.ep, s.w, ENTRY.commission);
  a.store(e.ep, s.y, ENTRY.selfStake);
  a.store(e.ep, e.total, ENTRY.base);
  a.label('epoch.validator-next');
  a.add(e.ip, e.ip, imm(1n));
  a.jmp('epoch.validator');
  a.label('epoch.validators-done');
}

/**
 * 6.1, 6.2, 6.3. R_v, C, rest per active entry; pass B over the image: each delegation with amount > 0
 * to an active validator gets its dividend (when the set has power), each validator vote (isValidator =
 * 1) on a proposal executed this epoch is counted (binary search of its id in `executed`) and kept as
 * (voter, entry) in the buffer; then each validator's own credit and the rounding, each proposal's share
 * and remainder, and the voters' credits.
 */
function emitPayouts(
  a: Assembler,
  s: Scratch,
  e: EpochVars,
  tb: Tables,
  ls: Lists,
  fault: ProgramFault,
): void {
  a.jnz(e.totalPower, 'epoch.split');
  a.add(GLOBAL.treasury, GLOBAL.treasury, e.reward);
  a.jmp('epoch.shares-done');
  a.label('epoch.split');
  // R_v = divide(E × power, P); C = R × commission / 10000; rest = R − C.
  a.mov(e.paid, imm(0n));
  a.mov(e.ep, imm(BigInt(tb.active)));
  a.label('epoch.shares');
  a.lt(s.t, e.ep, e.eEnd);
  a.jz(s.t, 'epoch.shares-paid');
  a.load(s.w, e.ep, ENTRY.power);
  a.mul(s.x, e.reward, s.w);
  emitDivide(a, s.w, s.x, e.totalPower, s.t, fault);
  a.store(e.ep, s.w, ENTRY.reward);
  a.add(e.paid, e.paid, s.w);
  // commission-not-taken multiplies by 0 instead of R (same length: nothing after it moves).
  a.load(s.x, e.ep, ENTRY.commission);
  a.mul(s.x, s.x, fault === 'commission-not-taken' ? imm(0n) : s.w);
  a.div(s.x, s.x, imm(BPS));
  a.store(e.ep, s.x, ENTRY.commission);
  a.sub(s.w, s.w, s.x);
  a.store(e.ep, s.w, ENTRY.rest);
  a.store(e.ep, imm(0n), ENTRY.paid);
  a.add(e.ep, e.ep, imm(BigInt(ENTRY_SIZE)));
  a.jmp('epoch.shares');
  a.label('epoch.shares-paid');
  a.sub(s.w, e.reward, e.paid);
  a.add(GLOBAL.treasury, GLOBAL.treasury, s.w);
  a.label('epoch.shares-done');
  a.mov(e.vc, imm(BigInt(ls.buffer)));
  emitImagePass(a, s, e, [
    {
      tag: DELEGATION_TAG,
      body: (next) => {
        // No dividends when the set has no power (6.1: the whole reward went to the treasury).
        a.jz(e.totalPower, next);
        a.load(e.amt, e.ptr, 2);
        a.jz(e.amt, next);
        a.load(e.acc, e.ptr, 1);
        findActiveEntry(a, s, e, tb, e.acc, next);
        a.load(s.w, e.ep, ENTRY.rest);
        a.mul(s.x, s.w, e.amt);
        a.load(s.y, e.ep, ENTRY.base);
        emitDivide(a, e.share, s.x, s.y, s.t, fault);
        a.load(s.w, e.ep, ENTRY.paid);
        a.add(s.w, s.w, e.share);
        a.store(e.ep, s.w, ENTRY.paid);
        a.sub(e.acc, e.key, imm(tagWord(DELEGATION_TAG)));
        a.div(e.acc, e.acc, imm(1n << DELEGATION_ADDRESS_SHIFT));
        pushCredit(a, s, e, ls, e.acc, e.share);
      },
    },
    {
      tag: VOTE_TAG,
      body: (next) => {
        a.load(s.w, e.ptr, 2);
        a.jz(s.w, next);
        a.sub(e.id, e.key, imm(tagWord(VOTE_TAG)));
        a.div(e.id, e.id, imm(1n << PROPOSAL_ID_SHIFT));
        // The first executed entry whose id is ≥ the vote's.
        a.mov(e.lo, imm(BigInt(tb.executed)));
        a.mov(e.hi, e.exEnd);
        emitLowerBound(a, s, { lo: e.lo, hi: e.hi, mid: e.mid, key: e.id });
        a.lt(s.t, e.lo, e.exEnd);
        a.jz(s.t, next);
        a.load(s.w, e.lo);
        a.eq(s.t, s.w, e.id);
        a.jz(s.t, next);
        a.load(s.w, e.lo, 1);
        a.add(s.w, s.w, imm(1n));
        a.store(e.lo, s.w, 1);
        emitRoom(a, s, e.vc, ls.buffer + 2 * CREDIT_CAPACITY);
        a.mul(s.w, e.id, imm(1n << PROPOSAL_ID_SHIFT));
        a.sub(s.w, e.key, s.w);
        a.sub(s.w, s.w, imm(tagWord(VOTE_TAG)));
        a.div(s.w, s.w, imm(1n << VOTE_VOTER_SHIFT));
        a.store(e.vc, s.w);
        a.store(e.vc, e.lo, 1);
        a.add(e.vc, e.vc, imm(2n));
      },
    },
  ]);
  // Each validator's own credit: R when its base is 0, else C + its stake share; the rest's rounding
  // to the treasury.
  a.jz(e.totalPower, 'epoch.own-done');
  a.mov(e.ep, imm(BigInt(tb.active)));
  a.label('epoch.own');
  a.lt(s.t, e.ep, e.eEnd);
  a.jz(s.t, 'epoch.own-done');
  a.load(e.acc, e.ep, ENTRY.address);
  a.load(s.y, e.ep, ENTRY.base);
  a.jnz(s.y, 'epoch.own-based');
  a.load(e.share, e.ep, ENTRY.reward);
  pushCredit(a, s, e, ls, e.acc, e.share);
  a.jmp('epoch.own-next');
  a.label('epoch.own-based');
  a.load(e.amt, e.ep, ENTRY.rest);
  a.load(s.w, e.ep, ENTRY.selfStake);
  a.mul(s.x, e.amt, s.w);
  a.load(s.y, e.ep, ENTRY.base);
  emitDivide(a, e.share, s.x, s.y, s.t, fault);
  a.sub(s.w, e.amt, e.share);
  a.load(s.x, e.ep, ENTRY.paid);
  a.sub(s.w, s.w, s.x);
  a.add(GLOBAL.treasury, GLOBAL.treasury, s.w);
  a.load(s.w, e.ep, ENTRY.commission);
  a.add(e.share, e.share, s.w);
  pushCredit(a, s, e, ls, e.acc, e.share);
  a.label('epoch.own-next');
  a.add(e.ep, e.ep, imm(BigInt(ENTRY_SIZE)));
  a.jmp('epoch.own');
  a.label('epoch.own-done');
  // Each executed proposal: no validator voter → the subsidy to the treasury; else S mod n to it and
  // floor(S / n) per voter (kept in the entry's second word).
  a.mov(e.ip, imm(BigInt(tb.executed)));
  a.label('epoch.subsidy');
  a.lt(s.t, e.ip, e.exEnd);
  a.jz(s.t, 'epoch.subsidy-done');
  a.load(s.w, e.ip, 1);
  a.jnz(s.w, 'epoch.subsidy-voters');
  a.add(GLOBAL.treasury, GLOBAL.treasury, e.subsidy);
  a.jmp('epoch.subsidy-next');
  a.label('epoch.subsidy-voters');
  a.div(s.x, e.subsidy, s.w);
  a.mul(s.y, s.x, s.w);
  a.sub(s.y, e.subsidy, s.y);
  a.add(GLOBAL.treasury, GLOBAL.treasury, s.y);
  a.store(e.ip, s.x, 1);
  a.label('epoch.subsidy-next');
  a.add(e.ip, e.ip, imm(2n));
  a.jmp('epoch.subsidy');
  a.label('epoch.subsidy-done');
  a.mov(e.ip, imm(BigInt(ls.buffer)));
  a.label('epoch.voter');
  a.lt(s.t, e.ip, e.vc);
  a.jz(s.t, 'epoch.voters-done');
  a.load(e.acc, e.ip);
  a.load(s.p, e.ip, 1);
  a.load(e.share, s.p, 1);
  pushCredit(a, s, e, ls, e.acc, e.share);
  a.add(e.ip, e.ip, imm(2n));
  a.jmp('epoch.voter');
  a.label('epoch.voters-done');
}

/** 6.4: ranking of the candidates, the top maxValidators with the power cap, and the slot records. */
function emitNextSet(a: Assembler, s: Scratch, e: EpochVars, tb: Tables, fault: ProgramFault): void {
  // newCount = min(maxValidators, candidates).
  a.sub(e.newCount, e.candEnd, imm(BigInt(tb.cand)));
  a.div(e.newCount, e.newCount, imm(2n));
  a.lt(s.t, paramWord('maxValidators'), e.newCount);
  a.jz(s.t, 'epoch.count');
  a.mov(e.newCount, paramWord('maxValidators'));
  a.label('epoch.count');
  // Selection sort of the first newCount places: position k takes the best of k … end.
  a.mov(e.k, imm(BigInt(tb.cand)));
  a.mul(e.eEnd, e.newCount, imm(2n));
  a.add(e.eEnd, e.eEnd, imm(BigInt(tb.cand)));
  a.mov(e.total, imm(0n));
  a.label('epoch.rank');
  a.lt(s.t, e.k, e.eEnd);
  a.jz(s.t, 'epoch.ranked');
  a.mov(e.best, e.k);
  a.add(e.bp, e.k, imm(2n));
  a.label('epoch.rank-scan');
  a.lt(s.t, e.bp, e.candEnd);
  a.jz(s.t, 'epoch.rank-swap');
  // bp ranks before best: a larger total, or an equal one and a smaller address (larger when flipped).
  a.load(s.x, e.bp, 1);
  a.load(s.y, e.best, 1);
  a.lt(s.t, s.y, s.x);
  a.jnz(s.t, 'epoch.rank-take');
  a.eq(s.t, s.x, s.y);
  a.jz(s.t, 'epoch.rank-next');
  a.load(s.x, e.bp);
  a.load(s.y, e.best);
  if (fault === 'tie-break-flipped') a.lt(s.t, s.y, s.x);
  else a.lt(s.t, s.x, s.y);
  a.jz(s.t, 'epoch.rank-next');
  a.label('epoch.rank-take');
  a.mov(e.best, e.bp);
  a.label('epoch.rank-next');
  a.add(e.bp, e.bp, imm(2n));
  a.jmp('epoch.rank-scan');
  a.label('epoch.rank-swap');
  a.load(s.x, e.k);
  a.load(s.y, e.best);
  a.store(e.k, s.y);
  a.store(e.best, s.x);
  a.load(s.x, e.k, 1);
  a.load(s.y, e.best, 1);
  a.store(e.k, s.y, 1);
  a.store(e.best, s.x, 1);
  a.add(e.total, e.total, s.y);
  a.add(e.k, e.k, imm(2n));
  a.jmp('epoch.rank');
  a.label('epoch.ranked');
  a.mul(e.cap, e.total, paramWord('maxPowerBps'));
  a.div(e.cap, e.cap, imm(BPS));
  // Slots 0 … max(old, new) − 1: the selected (address, power), then zeros.
  a.mov(e.slotCount, e.oldCount);
  a.lt(s.t, e.slotCount, e.newCount);
  a.jz(s.t, 'epoch.slots-counted');
  a.mov(e.slotCount, e.newCount);
  a.label('epoch.slots-counted');
  a.mov(e.i, imm(0n));
  a.label('epoch.slot');
  a.lt(s.t, e.i, e.slotCount);
  a.jz(s.t, 'epoch.slots-done');
  a.mov(e.acc, imm(0n));
  a.mov(e.amt, imm(0n));
  a.lt(s.t, e.i, e.newCount);
  a.jz(s.t, 'epoch.slot-write');
  a.mul(s.p, e.i, imm(2n));
  a.add(s.p, s.p, imm(BigInt(tb.cand)));
  a.load(e.acc, s.p);
  a.load(e.amt, s.p, 1);
  // power = min(total, cap); power-cap-not-applied keeps the total where the cap binds (same length).
  a.lt(s.t, e.cap, e.amt);
  a.jz(s.t, 'epoch.slot-write');
  a.mov(e.amt, fault === 'power-cap-not-applied' ? e.amt : e.cap);
  a.label('epoch.slot-write');
  a.add(s.p, e.i, imm(BigInt(tb.slotPtr)));
  a.load(e.ptr, s.p);
  a.jz(e.ptr, 'epoch.slot-new');
  a.store(e.ptr, e.acc, 1);
  a.store(e.ptr, e.amt, 2);
  a.jmp('epoch.slot-next');
  a.label('epoch.slot-new');
  a.mul(e.key, e.i, imm(1n << ACTIVE_INDEX_SHIFT));
  a.add(e.key, e.key, imm(tagWord(ACTIVE_TAG)));
  emitAppendRecord(a, s, [e.key, e.acc, e.amt], e.ptr);
  a.label('epoch.slot-next');
  a.add(e.i, e.i, imm(1n));
  a.jmp('epoch.slot');
  a.label('epoch.slots-done');
  a.mov(GLOBAL.activeCount, e.newCount);
}

/** `dst ← min(x, y)`. */
function emitMin(a: Assembler, dst: number, x: OperandLike, y: number, t: number): void {
  const l = uniquePrefix(a, 'epoch-min');
  a.mov(dst, x);
  a.lt(t, y, dst);
  a.jz(t, `${l}.done`);
  a.mov(dst, y);
  a.label(`${l}.done`);
}

/**
 * Sorts the credit list (2-word entries from ls.credits to e.cp) by account: bottom-up merge sort between
 * the list and the buffer; leaves the sorted list's start in `e.src` and its end in `e.cp`.
 */
function emitSortCredits(a: Assembler, s: Scratch, e: EpochVars, ls: Lists): void {
  a.mov(e.src, imm(BigInt(ls.credits)));
  a.mov(e.dst, imm(BigInt(ls.buffer)));
  a.sub(e.len, e.cp, imm(BigInt(ls.credits)));
  a.mov(e.width, imm(2n));
  a.label('epoch.sort-pass');
  a.lt(s.t, e.width, e.len);
  a.jz(s.t, 'epoch.sorted');
  a.mov(e.lo, imm(0n));
  a.label('epoch.sort-run');
  a.lt(s.t, e.lo, e.len);
  a.jz(s.t, 'epoch.sort-pass-done');
  // Merge [lo, mid) and [mid, hi) of src into dst (offsets in words).
  a.add(s.w, e.lo, e.width);
  emitMin(a, e.mid, s.w, e.len, s.t);
  a.add(s.w, e.mid, e.width);
  emitMin(a, e.hi, s.w, e.len, s.t);
  a.add(s.p, e.src, e.lo);
  a.add(e.pe, e.src, e.mid);
  a.add(s.q, e.src, e.mid);
  a.add(e.qe, e.src, e.hi);
  a.add(e.o, e.dst, e.lo);
  a.add(e.oe, e.dst, e.hi);
  a.label('epoch.merge');
  a.lt(s.t, e.o, e.oe);
  a.jz(s.t, 'epoch.merge-done');
  a.lt(s.t, s.p, e.pe);
  a.jz(s.t, 'epoch.merge-q');
  a.lt(s.t, s.q, e.qe);
  a.jz(s.t, 'epoch.merge-p');
  a.load(s.x, s.p);
  a.load(s.y, s.q);
  a.lt(s.t, s.y, s.x);
  a.jnz(s.t, 'epoch.merge-q');
  a.label('epoch.merge-p');
  a.load(s.w, s.p);
  a.store(e.o, s.w);
  a.load(s.w, s.p, 1);
  a.store(e.o, s.w, 1);
  a.add(s.p, s.p, imm(2n));
  a.add(e.o, e.o, imm(2n));
  a.jmp('epoch.merge');
  a.label('epoch.merge-q');
  a.load(s.w, s.q);
  a.store(e.o, s.w);
  a.load(s.w, s.q, 1);
  a.store(e.o, s.w, 1);
  a.add(s.q, s.q, imm(2n));
  a.add(e.o, e.o, imm(2n));
  a.jmp('epoch.merge');
  a.label('epoch.merge-done');
  a.mov(e.lo, e.hi);
  a.jmp('epoch.sort-run');
  a.label('epoch.sort-pass-done');
  a.mov(s.w, e.src);
  a.mov(e.src, e.dst);
  a.mov(e.dst, s.w);
  a.add(e.width, e.width, e.width);
  a.jmp('epoch.sort-pass');
  a.label('epoch.sorted');
  a.add(e.cp, e.src, e.len);
}

/**
 * 6.2/6.3's credits into the reward records: sort, merge equal accounts, add to the existing records
 * (binary search per reward record), append the rest in key order.
 */
function emitApplyCredits(a: Assembler, s: Scratch, e: EpochVars, ls: Lists): void {
  emitSortCredits(a, s, e, ls);
  // Merge equal accounts in place: o is the last kept entry.
  a.sub(e.o, e.src, imm(2n));
  a.mov(e.ip, e.src);
  a.label('epoch.merge-equal');
  a.lt(s.t, e.ip, e.cp);
  a.jz(s.t, 'epoch.merged-equal');
  a.load(s.x, e.ip);
  a.load(s.y, e.ip, 1);
  a.lt(s.w, e.o, e.src);
  a.jnz(s.w, 'epoch.merge-keep');
  a.load(s.w, e.o);
  a.eq(s.t, s.w, s.x);
  a.jz(s.t, 'epoch.merge-keep');
  a.load(s.w, e.o, 1);
  a.add(s.w, s.w, s.y);
  a.store(e.o, s.w, 1);
  a.jmp('epoch.merge-equal-next');
  a.label('epoch.merge-keep');
  a.add(e.o, e.o, imm(2n));
  a.store(e.o, s.x);
  a.store(e.o, s.y, 1);
  a.label('epoch.merge-equal-next');
  a.add(e.ip, e.ip, imm(2n));
  a.jmp('epoch.merge-equal');
  a.label('epoch.merged-equal');
  a.add(e.cp, e.o, imm(2n));
  // Existing reward records: add the account's credit and zero it in the list.
  emitImagePass(a, s, e, [
    {
      tag: REWARD_TAG,
      body: (next) => {
        a.sub(e.acc, e.key, imm(tagWord(REWARD_TAG)));
        a.div(e.acc, e.acc, imm(1n << REWARD_ADDRESS_SHIFT));
        // The account's entry in the merged credit list (2 words each, from src to cp), if any.
        a.mov(e.lo, e.src);
        a.mov(e.hi, e.cp);
        emitLowerBound(a, s, { lo: e.lo, hi: e.hi, mid: e.mid, key: e.acc });
        a.lt(s.t, e.lo, e.cp);
        a.jz(s.t, next);
        a.mov(s.p, e.lo);
        a.load(s.w, s.p);
        a.eq(s.t, s.w, e.acc);
        a.jz(s.t, next);
        a.load(s.w, s.p, 1);
        a.load(s.x, e.ptr, 1);
        a.add(s.x, s.x, s.w);
        a.store(e.ptr, s.x, 1);
        a.store(s.p, imm(0n), 1);
      },
    },
  ]);
  // New reward records, in account order (after any new slot record: 0x07 keys sort after 0x06).
  a.mov(e.ip, e.src);
  a.label('epoch.new-reward');
  a.lt(s.t, e.ip, e.cp);
  a.jz(s.t, 'epoch.new-rewards-done');
  a.load(e.amt, e.ip, 1);
  a.jz(e.amt, 'epoch.new-reward-next');
  a.load(e.acc, e.ip);
  a.mul(e.key, e.acc, imm(1n << REWARD_ADDRESS_SHIFT));
  a.add(e.key, e.key, imm(tagWord(REWARD_TAG)));
  emitAppendRecord(a, s, [e.key, e.amt], e.ptr);
  a.label('epoch.new-reward-next');
  a.add(e.ip, e.ip, imm(2n));
  a.jmp('epoch.new-reward');
  a.label('epoch.new-rewards-done');
}

/** 6.5, 6.6: the epoch advances; pending rollup parameters whose epoch has come take force. */
function emitAdvance(a: Assembler, s: Scratch): void {
  a.add(GLOBAL.epoch, GLOBAL.epoch, imm(1n));
  for (const key of ROLLUP_PARAM_KEYS) {
    const l = uniquePrefix(a, 'epoch-param');
    const at = pendingParamWord(key);
    a.mov(s.w, at + 1);
    a.jz(s.w, `${l}.done`);
    a.lt(s.t, GLOBAL.epoch, s.w);
    a.jnz(s.t, `${l}.done`);
    a.mov(paramWord(key), at);
    a.mov(at, imm(0n));
    a.mov(at + 1, imm(0n));
    a.label(`${l}.done`);
  }
}

export function endEpochRule(a: Assembler, s: Scratch, fault: ProgramFault): void {
  const e = Object.fromEntries(EPOCH_NAMES.map((name) => [name, a.slot(`epoch.${name}`)])) as EpochVars;
  const tb: Tables = {
    slotPtr: a.slots('epoch.slotPtr', SLOT_TABLE),
    active: a.slots('epoch.active', SLOT_TABLE * ENTRY_SIZE),
    byAddress: a.slots('epoch.byAddress', 2 * SLOT_TABLE),
    cand: a.slots('epoch.cand', 2 * CANDIDATE_TABLE),
    validators: a.slots('epoch.validators', CANDIDATE_TABLE),
    executed: a.slots('epoch.executed', 2 * EXECUTED_CAPACITY),
  };
  const ls: Lists = {
    credits: a.slots('epoch.credits', 2 * CREDIT_CAPACITY),
    buffer: a.slots('epoch.buffer', 2 * CREDIT_CAPACITY),
  };
  a.label('rule.endEpoch');
  a.mov(e.cp, imm(BigInt(ls.credits)));
  a.mov(e.reward, paramWord('epochReward'));
  a.add(GLOBAL.totalIssued, GLOBAL.totalIssued, e.reward);
  a.mov(e.subsidy, paramWord('governanceSubsidy'));
  emitGather(a, s, e, tb);
  emitPayouts(a, s, e, tb, ls, fault);
  emitNextSet(a, s, e, tb, fault);
  emitApplyCredits(a, s, e, ls);
  emitAdvance(a, s);
  a.jmp('input.accept');
}
