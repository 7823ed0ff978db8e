/**
 * The governance program of GVM-1 (docs/protocol.md §23): what the machine runs for one epoch in a
 * dispute. Built with the assembler; its layout in memory:
 *
 *   0 … 16N − 1        the state image, copied from the tape's image half (record k at 16k, §8)
 *   2^27 …             the record index's links, 2^28 … the program's variables, 2^28 + 2^27 … the
 *                      index's hash table (lib.ts, record-index.ts)
 *
 * It draws the index's salt from the inputs, copies the image (finding the record count N
 * itself, as the first record whose key word is zero: no advice) and indexes it, runs the input loop
 * (indexing the records each input creates after it), then hashes the image into the state root exactly as §8 defines it
 * (depth 29, zero subtrees for the padding, one `hash` step per node) and halts on that root.
 *
 * The input loop reads the input count at tape position 2^29 and each input's 16-word record (kind,
 * sender, block, txIndex, logIndex, arguments; inputs-tape.ts). Kind 0 (malformed) and codes past the last
 * kind are rejected; an input whose position is out of range or not after the global record's last
 * position is rejected (input.order, §1: block ≥ 1, so the global record's zero position means none
 * yet). Every kind runs as the model's rules (§4–6): the validator rules here, vote, queue and cancel in
 * proposal-rules.ts, propose and execute in propose-execute.ts, endEpoch in epoch-rules.ts (every
 * precondition first, in the model's order, so a rejection writes nothing); an accepted input then sets
 * the global record's last position. A catalogue fault build (faults.ts) pads each rule to the honest
 * build's length, so only the faulty rule's instructions differ (`emitRule`). After each input, accepted
 * or rejected, `inputsDone` ← i + 1 (and ← 0 before the first): the boundary at which the equivalence test
 * compares memory 0 … 16N − 1 with the model's image. Records an input creates are appended in key order
 * (lib.ts `emitAppendRecord`), as the model's leaf table appends them; checkpoints overwrite at the same
 * block (lib.ts `emitWriteCheckpoint`). Rules are emitted inline, one block per kind, reached by the
 * dispatch's jumps and leaving by a jump to the accept or reject tail (no calls: GVM-1 has no indirect
 * jumps).
 */

import {
  IMAGE_DEPTH,
  INPUT_KINDS,
  type InputKind,
  MAX_COMMISSION_BPS,
  MAX_DELEGATORS_PER_VALIDATOR,
  MAX_REGISTERED_VALIDATORS,
  MAX_TOTAL_BONDED,
  RECORD_WORDS,
} from '../../governance/index.ts';
import { CheckpointKind } from '../../governance/state.ts';
import { Assembler, AssemblerError, imm } from '../assembler.ts';
import { ADDRESS_LIMIT } from '../isa.ts';
import type { Program } from '../program.ts';
import { endEpochRule } from './epoch-rules.ts';
import type { ProgramFault } from './faults.ts';
import { INPUT_RECORD_WORDS } from './inputs-tape.ts';
import {
  allocateScratch,
  DELEGATION_TAG,
  emitAppendRecord,
  emitFault,
  emitFindRecord,
  emitReadTapeWords,
  emitWriteCheckpoint,
  GLOBAL,
  IMAGE_LIMIT,
  probeReturnsOf,
  type Scratch,
  TABLE_BASE,
  tagWord,
  VALIDATOR_ADDRESS_SHIFT,
  VALIDATOR_TAG,
} from './lib.ts';
import { cancelRule, queueRule, voteRule } from './proposal-rules.ts';
import { executeRule, proposeRule } from './propose-execute.ts';
import {
  emitDrawSalt,
  emitGroupHead,
  emitIndexRecords,
  emitProbeFallback,
  emitProbeRoutine,
  type IndexVars,
  VALIDATORS_GROUP,
} from './record-index.ts';

/** Where the program's variables start (lib.ts lays out the rest of memory). */
export const VARIABLES_BASE = 1 << 28;
/** The largest state image (in records) the program copies: 2^23, below its index's links. */
export const MAX_PROGRAM_RECORDS = IMAGE_LIMIT / RECORD_WORDS;

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
  a.eq(t, pos, imm(BigInt(IMAGE_LIMIT)));
  a.jnz(t, 'copy.too-large');
  a.mov(j, imm(BigInt(RECORD_WORDS)));
  a.label('copy.word');
  a.tape(w, pos);
  a.store(pos, w);
  a.add(pos, pos, imm(1n));
  a.sub(j, j, imm(1n));
  a.jnz(j, 'copy.word');
  a.jmp('copy.record');
  // An image that would reach the index's links: load from an address ≥ 2^29 faults, on purpose.
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

/** The tape's kind code of each input kind (inputs-tape.ts: 1 + its index in INPUT_KINDS). */
const KIND_CODE = Object.fromEntries(INPUT_KINDS.map((k, i) => [k, BigInt(i + 1)])) as Readonly<
  Record<InputKind, bigint>
>;
const CHECKPOINT_SELF = CheckpointKind.Self;
const CHECKPOINT_BONDED = CheckpointKind.Bonded;

/** Slots of the input loop and the rules (besides the copy/hash variables and the routines' scratch). */
const INPUT_NAMES = [
  'inputsDone',
  'count',
  'inPos',
  'kind',
  'sender',
  'block',
  'tx',
  'log',
  'arg0',
  'arg1',
  'arg2',
  'posWord',
  'lastWord',
  'vkey',
  'vp',
  'found',
  'amount',
  'cnt',
  'dkey',
  'dp',
  'dfound',
  'current',
  'newAmount',
  'delegated',
] as const;
type InputVars = Readonly<Record<(typeof INPUT_NAMES)[number], number>>;
const INDEX_NAMES = ['at', 'ret', 'key', 'tag', 'group'] as const;

const TWO_64 = 1n << 64n;
const TWO_32 = 1n << 32n;
const ADDRESS_BOUND = 1n << 160n;

/** The validator (or delegation) key word of the address in M[address] into `dst`. */
function addressKey(a: Assembler, dst: number, address: number, tag: number): void {
  a.mul(dst, address, imm(1n << VALIDATOR_ADDRESS_SHIFT));
  a.add(dst, dst, imm(tagWord(tag)));
}

/**
 * registerValidator (§4), preconditions in the model's order: not registered; no non-zero delegation;
 * commission ≤ 10000; fewer than 256 validators (the index's count of validator records, as no record
 * holds the count). Effect: a validator record {commission, 0, 0, 0}.
 */
function registerRule(a: Assembler, s: Scratch, iv: InputVars): void {
  a.label('rule.register');
  addressKey(a, iv.vkey, iv.sender, VALIDATOR_TAG);
  emitFindRecord(a, s, iv.vkey, iv.vp, iv.found);
  a.jnz(iv.found, 'input.reject');
  addressKey(a, s.key, iv.sender, DELEGATION_TAG);
  emitFindRecord(a, s, s.key, s.p, iv.found);
  a.jz(iv.found, 'register.no-delegation');
  a.load(s.w, s.p, 2);
  a.jnz(s.w, 'input.reject');
  a.label('register.no-delegation');
  a.lt(s.t, imm(BigInt(MAX_COMMISSION_BPS)), iv.arg0);
  a.jnz(s.t, 'input.reject');
  // The validators' group counts the validator records (no record holds the count, §8). The sender is
  // none of them, and the input has created no record yet, so the group holds them all.
  emitGroupHead(a, s, { imm: VALIDATORS_GROUP }, s.p, iv.cnt);
  a.lt(s.t, iv.cnt, imm(BigInt(MAX_REGISTERED_VALIDATORS)));
  a.jz(s.t, 'input.reject');
  emitAppendRecord(a, s, [iv.vkey, iv.arg0], iv.vp);
  a.jmp('input.accept');
}

/** stake (§4): registered; amount > 0; totalBonded + amount ≤ MAX_TOTAL_BONDED. */
function stakeRule(a: Assembler, s: Scratch, iv: InputVars): void {
  a.label('rule.stake');
  addressKey(a, iv.vkey, iv.sender, VALIDATOR_TAG);
  emitFindRecord(a, s, iv.vkey, iv.vp, iv.found);
  a.jz(iv.found, 'input.reject');
  a.jz(iv.arg0, 'input.reject');
  // totalBonded ≤ MAX_TOTAL_BONDED always, so MAX − totalBonded cannot wrap (the sum could).
  a.sub(s.t, imm(MAX_TOTAL_BONDED), GLOBAL.totalBonded);
  a.lt(s.t, s.t, iv.arg0);
  a.jnz(s.t, 'input.reject');
  a.load(iv.amount, iv.vp, 2);
  a.add(iv.amount, iv.amount, iv.arg0);
  a.store(iv.vp, iv.amount, 2);
  emitWriteCheckpoint(a, s, CHECKPOINT_SELF, iv.sender, iv.block, imm(0n), iv.amount);
  a.add(GLOBAL.totalBonded, GLOBAL.totalBonded, iv.arg0);
  emitWriteCheckpoint(a, s, CHECKPOINT_BONDED, imm(0n), iv.block, imm(0n), GLOBAL.totalBonded);
  a.jmp('input.accept');
}

/**
 * unstake (§4): registered; 0 < amount ≤ selfStake; then the `unstake.power` effects: the self and bonded
 * checkpoints and totalBonded. Built with `unstake-keeps-power`, only selfStake changes (the fault).
 */
function unstakeRule(a: Assembler, s: Scratch, iv: InputVars, fault: ProgramFault): void {
  a.label('rule.unstake');
  addressKey(a, iv.vkey, iv.sender, VALIDATOR_TAG);
  emitFindRecord(a, s, iv.vkey, iv.vp, iv.found);
  a.jz(iv.found, 'input.reject');
  a.jz(iv.arg0, 'input.reject');
  a.load(iv.amount, iv.vp, 2);
  a.lt(s.t, iv.amount, iv.arg0);
  a.jnz(s.t, 'input.reject');
  a.sub(iv.amount, iv.amount, iv.arg0);
  a.store(iv.vp, iv.amount, 2);
  if (fault !== 'unstake-keeps-power') {
    emitWriteCheckpoint(a, s, CHECKPOINT_SELF, iv.sender, iv.block, imm(0n), iv.amount);
    a.sub(GLOBAL.totalBonded, GLOBAL.totalBonded, iv.arg0);
    emitWriteCheckpoint(a, s, CHECKPOINT_BONDED, imm(0n), iv.block, imm(0n), GLOBAL.totalBonded);
  }
  a.jmp('input.accept');
}

/**
 * delegate (§4), preconditions in the model's order: the sender is no validator; the validator is
 * registered; amount > 0; a non-zero delegation is to this validator; a fresh one (current amount 0)
 * needs fewer than 32 delegators; totalBonded + amount ≤ MAX_TOTAL_BONDED. Effects: the delegation
 * record (created, or its validator and amount rewritten), the validator's delegated sum and, for a fresh
 * delegation, its delegator count; checkpoints delegation, delegated, bonded. The delegation record and
 * the checkpoints an input creates come out in key order by emitAppendRecord's sort (the model creates
 * them checkpoints first, record last).
 */
function delegateRule(a: Assembler, s: Scratch, iv: InputVars): void {
  a.label('rule.delegate');
  // A validator word that is no address cannot come from encodeInputsTape (malformed: rejected).
  a.lt(s.t, iv.arg0, imm(ADDRESS_BOUND));
  a.jz(s.t, 'input.reject');
  addressKey(a, iv.vkey, iv.sender, VALIDATOR_TAG);
  emitFindRecord(a, s, iv.vkey, iv.vp, iv.found);
  a.jnz(iv.found, 'input.reject');
  addressKey(a, iv.vkey, iv.arg0, VALIDATOR_TAG);
  emitFindRecord(a, s, iv.vkey, iv.vp, iv.found);
  a.jz(iv.found, 'input.reject');
  a.jz(iv.arg1, 'input.reject');
  addressKey(a, iv.dkey, iv.sender, DELEGATION_TAG);
  emitFindRecord(a, s, iv.dkey, iv.dp, iv.dfound);
  a.mov(iv.current, imm(0n));
  a.jz(iv.dfound, 'delegate.current');
  a.load(iv.current, iv.dp, 2);
  a.label('delegate.current');
  a.jz(iv.current, 'delegate.fresh');
  a.load(s.w, iv.dp, 1);
  a.eq(s.t, s.w, iv.arg0);
  a.jz(s.t, 'input.reject');
  a.jmp('delegate.bond');
  a.label('delegate.fresh');
  a.load(s.w, iv.vp, 4);
  a.lt(s.t, s.w, imm(BigInt(MAX_DELEGATORS_PER_VALIDATOR)));
  a.jz(s.t, 'input.reject');
  a.label('delegate.bond');
  a.sub(s.t, imm(MAX_TOTAL_BONDED), GLOBAL.totalBonded);
  a.lt(s.t, s.t, iv.arg1);
  a.jnz(s.t, 'input.reject');
  // Effects. The validator record predates this input, so no append moves it (vp stays valid).
  a.add(iv.newAmount, iv.current, iv.arg1);
  a.jz(iv.dfound, 'delegate.create');
  a.store(iv.dp, iv.arg0, 1);
  a.store(iv.dp, iv.newAmount, 2);
  a.jmp('delegate.validator');
  a.label('delegate.create');
  emitAppendRecord(a, s, [iv.dkey, iv.arg0, iv.newAmount], iv.dp);
  a.label('delegate.validator');
  a.eq(s.t, iv.current, imm(0n));
  a.load(s.w, iv.vp, 4);
  a.add(s.w, s.w, s.t);
  a.store(iv.vp, s.w, 4);
  a.load(iv.delegated, iv.vp, 3);
  a.add(iv.delegated, iv.delegated, iv.arg1);
  a.store(iv.vp, iv.delegated, 3);
  emitWriteCheckpoint(a, s, CheckpointKind.Delegation, iv.sender, iv.block, iv.arg0, iv.newAmount);
  emitWriteCheckpoint(a, s, CheckpointKind.Delegated, iv.arg0, iv.block, imm(0n), iv.delegated);
  a.add(GLOBAL.totalBonded, GLOBAL.totalBonded, iv.arg1);
  emitWriteCheckpoint(a, s, CHECKPOINT_BONDED, imm(0n), iv.block, imm(0n), GLOBAL.totalBonded);
  a.jmp('input.accept');
}

/**
 * undelegate (§4): a non-zero delegation; to this validator; amount > 0; amount ≤ the delegation.
 * Effects: the amount decreases (at 0 the record keeps its validator and the delegator count drops);
 * the validator's delegated sum; checkpoints delegation, delegated, bonded.
 */
function undelegateRule(a: Assembler, s: Scratch, iv: InputVars): void {
  a.label('rule.undelegate');
  a.lt(s.t, iv.arg0, imm(ADDRESS_BOUND));
  a.jz(s.t, 'input.reject');
  addressKey(a, iv.dkey, iv.sender, DELEGATION_TAG);
  emitFindRecord(a, s, iv.dkey, iv.dp, iv.dfound);
  a.jz(iv.dfound, 'input.reject');
  a.load(iv.current, iv.dp, 2);
  a.jz(iv.current, 'input.reject');
  a.load(s.w, iv.dp, 1);
  a.eq(s.t, s.w, iv.arg0);
  a.jz(s.t, 'input.reject');
  a.jz(iv.arg1, 'input.reject');
  a.lt(s.t, iv.current, iv.arg1);
  a.jnz(s.t, 'input.reject');
  // The delegation's validator is registered (a delegation is only ever made to one); if the image
  // says otherwise it is no state the model can be in: stop.
  addressKey(a, iv.vkey, iv.arg0, VALIDATOR_TAG);
  emitFindRecord(a, s, iv.vkey, iv.vp, iv.found);
  a.jnz(iv.found, 'undelegate.effects');
  emitFault(a, s);
  a.label('undelegate.effects');
  a.sub(iv.newAmount, iv.current, iv.arg1);
  a.store(iv.dp, iv.newAmount, 2);
  a.jnz(iv.newAmount, 'undelegate.validator');
  a.load(s.w, iv.vp, 4);
  a.sub(s.w, s.w, imm(1n));
  a.store(iv.vp, s.w, 4);
  a.label('undelegate.validator');
  a.load(iv.delegated, iv.vp, 3);
  a.sub(iv.delegated, iv.delegated, iv.arg1);
  a.store(iv.vp, iv.delegated, 3);
  emitWriteCheckpoint(a, s, CheckpointKind.Delegation, iv.sender, iv.block, iv.arg0, iv.newAmount);
  emitWriteCheckpoint(a, s, CheckpointKind.Delegated, iv.arg0, iv.block, imm(0n), iv.delegated);
  a.sub(GLOBAL.totalBonded, GLOBAL.totalBonded, iv.arg1);
  emitWriteCheckpoint(a, s, CHECKPOINT_BONDED, imm(0n), iv.block, imm(0n), GLOBAL.totalBonded);
  a.jmp('input.accept');
}

/**
 * The input loop (§23): reads the count at tape position 2^29, then per input its record (kind first;
 * kind 0, malformed, is rejected without reading further), checks the input order (§1) and dispatches.
 * An accepted input moves the global record's last position to its own; every input ends by writing
 * i + 1 to `inputsDone`, the boundary the equivalence test cuts the trace at.
 */
function inputLoop(
  a: Assembler,
  s: Scratch,
  iv: InputVars,
  ix: IndexVars,
  fault: ProgramFault,
  layout: RuleLayout,
): void {
  a.mov(iv.inPos, imm(BigInt(ADDRESS_LIMIT)));
  a.tape(iv.count, iv.inPos);
  a.add(iv.inPos, iv.inPos, imm(1n));
  a.mov(iv.inputsDone, imm(0n));
  a.label('input.next');
  a.eq(s.t, iv.inputsDone, iv.count);
  a.jnz(s.t, 'input.done');
  a.mov(s.q, iv.inPos);
  a.add(iv.inPos, iv.inPos, imm(BigInt(INPUT_RECORD_WORDS)));
  a.mov(s.created, s.n);
  a.tape(iv.kind, s.q);
  a.jz(iv.kind, 'input.reject');
  a.add(s.q, s.q, imm(1n));
  emitReadTapeWords(a, s.q, [iv.sender, iv.block, iv.tx, iv.log, iv.arg0, iv.arg1, iv.arg2]);
  // input.order: the position is in range (block ≥ 1) and strictly after the last accepted one (§1).
  // The global record holds zeros before any input was accepted; as no input sits at block 0, every
  // first input compares above them, with no special case.
  a.jz(iv.block, 'input.reject');
  a.lt(s.t, iv.block, imm(TWO_64));
  a.jz(s.t, 'input.reject');
  a.lt(s.t, iv.tx, imm(TWO_32));
  a.jz(s.t, 'input.reject');
  a.lt(s.t, iv.log, imm(TWO_32));
  a.jz(s.t, 'input.reject');
  a.mul(iv.posWord, iv.block, imm(TWO_64));
  a.mul(s.t, iv.tx, imm(TWO_32));
  a.add(iv.posWord, iv.posWord, s.t);
  a.add(iv.posWord, iv.posWord, iv.log);
  a.mul(iv.lastWord, GLOBAL.lastBlock, imm(TWO_64));
  a.mul(s.t, GLOBAL.lastTx, imm(TWO_32));
  a.add(iv.lastWord, iv.lastWord, s.t);
  a.add(iv.lastWord, iv.lastWord, GLOBAL.lastLog);
  a.lt(s.t, iv.lastWord, iv.posWord);
  a.jz(s.t, 'input.reject');
  // A sender word that is no address cannot come from encodeInputsTape; reject it as malformed.
  a.lt(s.t, iv.sender, imm(ADDRESS_BOUND));
  a.jz(s.t, 'input.reject');
  a.eq(s.t, iv.kind, imm(KIND_CODE.registerValidator));
  a.jnz(s.t, 'rule.register');
  a.eq(s.t, iv.kind, imm(KIND_CODE.stake));
  a.jnz(s.t, 'rule.stake');
  a.eq(s.t, iv.kind, imm(KIND_CODE.unstake));
  a.jnz(s.t, 'rule.unstake');
  a.eq(s.t, iv.kind, imm(KIND_CODE.delegate));
  a.jnz(s.t, 'rule.delegate');
  a.eq(s.t, iv.kind, imm(KIND_CODE.undelegate));
  a.jnz(s.t, 'rule.undelegate');
  a.eq(s.t, iv.kind, imm(KIND_CODE.vote));
  a.jnz(s.t, 'rule.vote');
  a.eq(s.t, iv.kind, imm(KIND_CODE.queue));
  a.jnz(s.t, 'rule.queue');
  a.eq(s.t, iv.kind, imm(KIND_CODE.cancel));
  a.jnz(s.t, 'rule.cancel');
  a.eq(s.t, iv.kind, imm(KIND_CODE.propose));
  a.jnz(s.t, 'rule.propose');
  a.eq(s.t, iv.kind, imm(KIND_CODE.execute));
  a.jnz(s.t, 'rule.execute');
  a.eq(s.t, iv.kind, imm(KIND_CODE.endEpoch));
  a.jnz(s.t, 'rule.endEpoch');
  // A code past the last kind names no input: rejected as malformed.
  a.jmp('input.reject');
  const rule = (name: string, emit: () => void) => emitRule(a, layout, name, emit);
  rule('register', () => registerRule(a, s, iv));
  rule('stake', () => stakeRule(a, s, iv));
  rule('unstake', () => unstakeRule(a, s, iv, fault));
  rule('delegate', () => delegateRule(a, s, iv));
  rule('undelegate', () => undelegateRule(a, s, iv));
  const pv = { sender: iv.sender, block: iv.block, arg0: iv.arg0, ptr: iv.vp, found: iv.found };
  rule('queue', () => queueRule(a, s, pv, fault));
  rule('cancel', () => cancelRule(a, s, pv));
  rule('vote', () => voteRule(a, s, { ...pv, arg1: iv.arg1 }, fault));
  const pe = { ...pv, arg1: iv.arg1, arg2: iv.arg2 };
  rule('propose', () => proposeRule(a, s, pe, fault));
  rule('execute', () => executeRule(a, s, pe, fault));
  rule('endEpoch', () => endEpochRule(a, s, fault));
  a.label('input.accept');
  a.mov(GLOBAL.lastBlock, iv.block);
  a.mov(GLOBAL.lastTx, iv.tx);
  a.mov(GLOBAL.lastLog, iv.log);
  a.label('input.reject');
  // Index the records the input created (none when it was rejected: a rejection writes nothing).
  a.mov(ix.at, s.created);
  a.mov(ix.ret, imm(1n));
  a.jmp('index.records');
  a.label('input.indexed');
  a.add(iv.inputsDone, iv.inputsDone, imm(1n));
  a.jmp('input.next');
  // Every probe but those of a fault build's out-of-line code is emitted by now.
  emitProbeRoutine(a, s, layout.honest?.probeReturns ?? probeReturnsOf(a));
  layout.probeReturns.push(...probeReturnsOf(a));
  a.label('input.done');
}

/** The governance program and the addresses a test needs to cut and read its trace. */
export type GovernanceProgram = {
  readonly program: Program;
  /** The slot written with i + 1 after input i (accepted or rejected): the per-input boundary. */
  readonly inputsDone: number;
  /** The slot holding the image's word count (16 × records). */
  readonly imageWords: number;
  /**
   * Names the source position of a pc: its rule and the nearest label ("rule.vote+41 (vote.scan+3)"),
   * for reports of a divergent micro-step.
   */
  readonly locate: (pc: number) => string;
};

export type GovernanceProgramOptions = {
  /** A catalogue fault to compile in (faults.ts): the program a dishonest operator runs. */
  readonly fault?: ProgramFault;
};

/**
 * Each rule's instruction count, recorded by every build. A fault build also gets the honest build's
 * counts (`honest`) and pads its rules to them, so that every instruction outside the faulty rule sits
 * at the same pc as in the honest program: the two traces then part only where the fault's code
 * decides differently, not at every jump past a rule that moved.
 */
type RuleLayout = {
  readonly lengths: Map<string, number>;
  /** The probe routine's return points (lib.ts `emitProbe`). */
  readonly probeReturns: number[];
  readonly honest?: {
    readonly lengths: ReadonlyMap<string, number>;
    readonly probeReturns: readonly number[];
  };
};

function emitRule(a: Assembler, layout: RuleLayout, name: string, emit: () => void): void {
  const start = a.here;
  emit();
  const length = a.here - start;
  layout.lengths.set(name, length);
  const honest = layout.honest?.lengths.get(name);
  if (honest === undefined) return;
  if (length > honest) {
    throw new AssemblerError(
      `The fault build's ${name} rule is ${length} instructions, the honest one ${honest}: ` +
        'move the extra code out of line (Assembler.defer)',
    );
  }
  // Dead padding: nothing jumps here (the rule's code ends in jumps to the input tails).
  for (let i = length; i < honest; i++) a.jmp('input.reject');
}

export function buildGovernanceProgram(options: GovernanceProgramOptions = {}): GovernanceProgram {
  return build(options).built;
}

function build(options: GovernanceProgramOptions): {
  built: GovernanceProgram;
  layout: RuleLayout;
} {
  const honest = options.fault === undefined ? undefined : build({}).layout;
  const layout: RuleLayout = {
    lengths: new Map(),
    probeReturns: [],
    ...(honest === undefined ? {} : { honest }),
  };
  const a = new Assembler(VARIABLES_BASE);
  const v = Object.fromEntries(VARIABLE_NAMES.map((name) => [name, a.slot(name)])) as Vars;
  const iv = Object.fromEntries(INPUT_NAMES.map((name) => [name, a.slot(name)])) as InputVars;
  const ix = Object.fromEntries(INDEX_NAMES.map((name) => [name, a.slot(`index.${name}`)])) as IndexVars;
  const s = allocateScratch(a, v.n, IMAGE_LIMIT);
  emitDrawSalt(a, s, v.pos, v.j, v.w);
  copyImage(a, v);
  a.mov(ix.at, imm(0n));
  a.mov(ix.ret, imm(0n));
  emitIndexRecords(a, s, ix, ['index.copied', 'input.indexed']);
  a.label('index.copied');
  inputLoop(a, s, iv, ix, options.fault, layout);
  hashImage(a, v);
  a.mov(v.root, 0);
  a.halt(v.root);
  emitProbeFallback(a, s);
  // The variables (endEpoch's tables among them) must end below the index's hash table.
  const variablesEnd = a.slot('variables.end');
  if (variablesEnd >= TABLE_BASE) {
    throw new AssemblerError(
      `The program's variables reach ${variablesEnd}, past the index's table at ${TABLE_BASE}`,
    );
  }
  const program = a.build();
  return {
    built: {
      program,
      inputsDone: iv.inputsDone,
      imageWords: v.n,
      locate: (pc) => `${a.locate(pc, 'rule.')} (${a.locate(pc)})`,
    },
    layout,
  };
}

/** The governance program: image in, the implemented inputs applied, root out. */
export function governanceProgram(): Program {
  return buildGovernanceProgram().program;
}
