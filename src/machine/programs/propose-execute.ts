/**
 * propose and execute in the governance program (docs/protocol.md §5, §23), emitted inline as the other
 * rules are (a `rule.<kind>` label reached by the dispatch, leaving by a jump to `input.accept` or
 * `input.reject`). As in the model (rules/proposals.ts), every precondition is checked, in the model's
 * order, before the first effect, so a rejection writes nothing.
 *
 * propose reads its actions from the inputs half of the tape (inputs-tape.ts): arg0 is the first action's
 * position in that half, arg1 the action count, arg2 the actionsHash the L2 contract computed (stored as
 * given: the machine cannot recompute SHA-256). What the program assumes of a tape `encodeInputsTape`
 * made: the actions sit at 2^29 + arg0 … + 4·arg1 − 1; an action's name word is a well-formed name (the
 * encoder turns a non-name or a bad code hash into a malformed input, kind 0, which never gets here); its
 * kind word is 0 or 1 (anything else is rejected too). What it checks, as the model does: 1 ≤ count ≤ 16;
 * a setParameter name is one of PARAM_KEYS' name words; an upgradeModule version lies in [1, 2^64).
 * Effects: proposalCount + 1 is the id; the proposal record (PROPOSAL_WORD; bondedAtSnapshot is the
 * bonded checkpoint at block − 1) and one action record per action (§8 tag 0x0c: key word
 * 0x0c ‖ id u64 ‖ index u8, words kind, name, value or version, codeHash) are appended, in key order.
 *
 * execute reads the actions from the image: they were created by the same input as the proposal record
 * and nothing else is created by propose, so they are the records right after it (records never move once
 * their input ends); the loop reads on while the key word is the next expected action key.
 * Preconditions: the proposal exists and is Queued (`execute.status`), block ≥ eta (`execute.timelock`).
 * Then `execute.bounds` decides the outcome, both outcomes being accepted inputs: every setParameter value
 * within PARAM_SPECS' [min, max] and every upgradeModule version above the module's current one (the last
 * earlier upgrade of that module in this proposal, else its module record, else 0). If so the actions
 * are applied in order (a rollup parameter gets a pending value with activationEpoch = epoch + 1; another
 * parameter its new value; a module its version and code hash, in a new record if it has none) and the
 * proposal becomes Executed with executedEpoch = epoch; otherwise it becomes Failed.
 *
 * A module record's key word is its name, as a param or pending-param record's is (§8: the tag sits in
 * word 15), so a module named like a parameter shares its key word with two other records: the module
 * lookup checks word 15 too.
 *
 * Faults compiled in, each keeping the honest build's layout (a check's jump made to land on the next
 * instruction, or a detour emitted out of line), so the faulty trace parts from the honest one only where
 * the fault decides differently: `out-of-bounds-applied` compares the parameter bounds and goes on
 * (module versions are still checked), `canceled-proposal-executed` detours on a status other than
 * Queued and comes back for a Canceled one, `timelock-ignored` compares block and eta and goes on.
 *
 * Step costs of the rule itself (from the emitted code; F = a record lookup through the index, about 25
 * steps, lib.ts; k = actions; the input loop's own steps come on top; none depends on the number of
 * records but the bonded-checkpoint walk, 5 steps per bonded checkpoint made after the snapshot):
 *   propose  rejected: count 0 → 1, count > 16 → 3; otherwise after the actions checked so far, each
 *            ≤ 39 (a parameter: 9 + 2 per key compared) or 17 (a module)
 *            accepted: those checks + ≈ 35 (the bonded checkpoint at the snapshot) + ≈ 32 per action
 *            record + ≈ 50
 *   execute  rejected: unknown id F + 12, status F + 15, timelock F + 18; an id word ≥ 2^64: 2
 *            accepted: F + 33, + per parameter action ≤ 44 (bounds) + ≤ 42 (apply), per module action
 *            two lookups of its record (≈ 30 each, plus 7 per module this input created) + ≤ 10 per
 *            earlier action + ≈ 40 (+ an append if the module is new); a Failed one stops at the first
 *            bad action
 */
import { PARAM_KEYS, PARAM_SPECS, type ParamKey } from '../../governance/params.ts';
import { CheckpointKind, ProposalStatus } from '../../governance/state.ts';
import { type Assembler, imm, type OperandLike } from '../assembler.ts';
import { ADDRESS_LIMIT } from '../isa.ts';
import type { ProgramFault } from './faults.ts';
import {
  ACTION_TAG,
  CHECKPOINT_BLOCK_SHIFT,
  CHECKPOINT_KIND_SHIFT,
  CHECKPOINT_TAG,
  ENTRY_RECORD,
  emitAppendRecord,
  emitFault,
  emitProbe,
  GLOBAL,
  LINK_OFFSET,
  MODULE_TAG,
  PROPOSAL_TAG,
  paramWord,
  pendingParamWord,
  RECORD_SIZE,
  type Scratch,
  tagWord,
  uniquePrefix,
} from './lib.ts';
import { findProposal, PROPOSAL_ID_SHIFT, PROPOSAL_WORD, type ProposalRuleVars } from './proposal-rules.ts';
import { emitGroupHead } from './record-index.ts';

/** The slots propose and execute read besides a proposal rule's own. */
export type ProposeExecuteVars = ProposalRuleVars & {
  /** Propose's second and third arguments: the action count and the actionsHash. */
  readonly arg1: number;
  readonly arg2: number;
};

/** Action (0x0c) key word = tag ‖ proposalId u64 ‖ index u8 ‖ zeros: the index sits at bit 176. */
export const ACTION_INDEX_SHIFT = 176n;
/** An action record's value words (§8). */
export const ACTION_WORD = { kind: 1, name: 2, value: 3, codeHash: 4 } as const;
/** A module record's value words (§8), and the word holding its tag. */
const MODULE_WORD = { version: 1, codeHash: 2, tag: 15 } as const;
const MAX_ACTIONS = 16n;
const TWO_16 = 1n << 16n;
const TWO_64 = 1n << 64n;

/** A name as §8's key words hold it: its ASCII bytes left-aligned in 32 bytes. */
export function nameWord(name: string): bigint {
  let w = 0n;
  for (let i = 0; i < 32; i++) w = (w << 8n) | BigInt(i < name.length ? name.charCodeAt(i) & 0x7f : 0);
  return w;
}

/**
 * `jnz x, target`, or for a fault build that ignores the check (`ignored`) a `jnz` to the next
 * instruction: the same length, so nothing after it moves and the fault's trace parts from the honest
 * one exactly where the check would have jumped.
 */
function jumpUnless(a: Assembler, ignored: boolean, x: number, target: string): void {
  if (!ignored) {
    a.jnz(x, target);
    return;
  }
  const next = uniquePrefix(a, 'check-ignored');
  a.jnz(x, next);
  a.label(next);
}

/** M[x] ← M[x] mod 2^bits: a leaf's fixed-width field keeps the low bits (LeafWriter's u16, u64). */
function truncate(a: Assembler, x: number, modulus: bigint, t: number): void {
  a.div(t, x, imm(modulus));
  a.mul(t, t, imm(modulus));
  a.sub(x, x, t);
}

/**
 * Jumps to `${prefix}.<key>` for the parameter whose name word is in M[name]; falls through when it is
 * none. One compare and one jump per key passed.
 */
function dispatchParam(a: Assembler, s: Scratch, name: number, prefix: string): void {
  for (const key of PARAM_KEYS) {
    a.eq(s.t, name, imm(nameWord(key)));
    a.jnz(s.t, `${prefix}.${key}`);
  }
}

type ProposeSlots = Readonly<
  Record<'pos' | 'i' | 'kind' | 'name' | 'value' | 'hash' | 'id' | 'key', number>
> &
  Readonly<Record<'snap' | 'lo' | 'hi' | 'best' | 'cp' | 'bonded' | 'voteEnd' | 'quorum', number>> &
  Readonly<Record<'threshold' | 'timelock' | 'ptr', number>>;

/**
 * bondedAtSnapshot (history.ts `valueAt` on the bonded history): the value of the last bonded checkpoint
 * (kind 3, account 0) at or before block M[snap], 0 when there is none. The index links the bonded
 * checkpoints newest first, in block order (record-index.ts), so it is the first on that walk whose key
 * word is at most key(3, 0, snap); with none, `best` stays n and the word read past the image is zero.
 * propose calls it before it creates anything, so every checkpoint is indexed.
 */
function bondedAtSnapshot(a: Assembler, s: Scratch, ps: ProposeSlots): void {
  const lo = tagWord(CHECKPOINT_TAG) + (BigInt(CheckpointKind.Bonded) << CHECKPOINT_KIND_SHIFT);
  a.mul(ps.hi, ps.snap, imm(1n << CHECKPOINT_BLOCK_SHIFT));
  a.add(ps.hi, ps.hi, imm(lo));
  a.mov(ps.best, s.n);
  emitGroupHead(a, s, { imm: lo + 1n }, ps.cp);
  a.label('propose.bonded');
  a.jz(ps.cp, 'propose.bonded-done');
  a.load(s.w, ps.cp);
  a.lt(s.t, ps.hi, s.w);
  a.jz(s.t, 'propose.bonded-hit');
  a.load(ps.cp, ps.cp, LINK_OFFSET);
  a.jmp('propose.bonded');
  a.label('propose.bonded-hit');
  a.mov(ps.best, ps.cp);
  a.label('propose.bonded-done');
  a.load(ps.bonded, ps.best, 2);
}

/** Reads action M[pos]'s four tape words into kind, name, value, hash; leaves M[pos] on the next action. */
function readAction(a: Assembler, ps: ProposeSlots): void {
  for (const d of [ps.kind, ps.name, ps.value, ps.hash]) {
    a.tape(d, ps.pos);
    a.add(ps.pos, ps.pos, imm(1n));
  }
}

/**
 * propose (§5): 1 ≤ count ≤ 16; each action valid (a known parameter name; a module version in
 * [1, 2^64)); then the proposal record and its action records. Block ≥ 1 and the sender's form were
 * checked by the input loop.
 */
export function proposeRule(a: Assembler, s: Scratch, v: ProposeExecuteVars, _fault: ProgramFault): void {
  const names = [
    ...['pos', 'i', 'kind', 'name', 'value', 'hash', 'id', 'key', 'snap', 'lo', 'hi', 'best', 'cp'],
    ...['bonded', 'voteEnd', 'quorum', 'threshold', 'timelock', 'ptr'],
  ] as const;
  const ps = Object.fromEntries(names.map((n) => [n, a.slot(`propose.${n}`)])) as ProposeSlots;
  const W = PROPOSAL_WORD;
  a.label('rule.propose');
  a.jz(v.arg1, 'input.reject');
  a.lt(s.t, v.arg1, imm(MAX_ACTIONS + 1n));
  a.jz(s.t, 'input.reject');
  // Every action valid, before any effect.
  a.add(ps.pos, v.arg0, imm(BigInt(ADDRESS_LIMIT)));
  a.mov(ps.i, v.arg1);
  a.label('propose.check');
  readAction(a, ps);
  a.jnz(ps.kind, 'propose.check-module');
  dispatchParam(a, s, ps.name, 'propose.known');
  a.jmp('input.reject');
  a.label('propose.check-module');
  a.eq(s.t, ps.kind, imm(1n));
  a.jz(s.t, 'input.reject');
  a.jz(ps.value, 'input.reject');
  a.lt(s.t, ps.value, imm(TWO_64));
  a.jz(s.t, 'input.reject');
  a.jmp('propose.checked');
  // Every known name lands here (one label per key, as dispatchParam jumps to them).
  for (const key of PARAM_KEYS) a.label(`propose.known.${key}`);
  a.label('propose.checked');
  a.sub(ps.i, ps.i, imm(1n));
  a.jnz(ps.i, 'propose.check');
  // Effects: the proposal record, frozen parameters as they are now.
  a.add(GLOBAL.proposalCount, GLOBAL.proposalCount, imm(1n));
  a.mov(ps.id, GLOBAL.proposalCount);
  a.sub(ps.snap, v.block, imm(1n));
  bondedAtSnapshot(a, s, ps);
  a.add(ps.voteEnd, v.block, paramWord('votingPeriod'));
  truncate(a, ps.voteEnd, TWO_64, s.t);
  // The frozen parameters are within bounds in every state the honest rules reach; the truncations
  // matter only after `out-of-bounds-applied` wrote a value wider than the proposal leaf's field.
  a.mov(ps.quorum, paramWord('quorumBps'));
  truncate(a, ps.quorum, TWO_16, s.t);
  a.mov(ps.threshold, paramWord('thresholdBps'));
  truncate(a, ps.threshold, TWO_16, s.t);
  a.mov(ps.timelock, paramWord('timelock'));
  truncate(a, ps.timelock, TWO_64, s.t);
  a.mul(ps.key, ps.id, imm(1n << PROPOSAL_ID_SHIFT));
  a.add(ps.key, ps.key, imm(tagWord(PROPOSAL_TAG)));
  const record = new Array<OperandLike>(RECORD_SIZE).fill(imm(0n));
  record[0] = ps.key;
  record[W.proposer] = v.sender;
  record[W.createdBlock] = v.block;
  record[W.snapshotBlock] = ps.snap;
  record[W.voteEnd] = ps.voteEnd;
  record[W.quorumBps] = ps.quorum;
  record[W.thresholdBps] = ps.threshold;
  record[W.timelock] = ps.timelock;
  record[W.bondedAtSnapshot] = ps.bonded;
  record[W.actionsHash] = v.arg2;
  emitAppendRecord(a, s, record, ps.ptr);
  // The action records, in index order: their keys ascend, so none moves past another.
  a.add(ps.pos, v.arg0, imm(BigInt(ADDRESS_LIMIT)));
  a.mov(ps.i, imm(0n));
  a.label('propose.action');
  readAction(a, ps);
  a.mul(ps.key, ps.id, imm(1n << PROPOSAL_ID_SHIFT));
  a.mul(s.t, ps.i, imm(1n << ACTION_INDEX_SHIFT));
  a.add(ps.key, ps.key, s.t);
  a.add(ps.key, ps.key, imm(tagWord(ACTION_TAG)));
  emitAppendRecord(a, s, [ps.key, ps.kind, ps.name, ps.value, ps.hash], ps.ptr);
  a.add(ps.i, ps.i, imm(1n));
  a.lt(s.t, ps.i, v.arg1);
  a.jnz(s.t, 'propose.action');
  a.jmp('input.accept');
}

type ExecuteSlots = Readonly<
  Record<
    'ap' | 'akey' | 'first' | 'kind' | 'name' | 'value' | 'hash' | 'cur' | 'bp' | 'mp' | 'mfound',
    number
  >
>;

/**
 * The module record named M[name] (key word = the name, tag 0x03 in word 15): its word address in `mp`
 * and 1 in `mfound`, or 0. A param or pending-param record may have the same key word, so the records this
 * input created (modules only, as execute creates nothing else, but not indexed yet) are matched on word
 * 15 too; the index holds only the modules of that name.
 */
function findModule(a: Assembler, s: Scratch, es: ExecuteSlots, label: string): void {
  a.mov(es.mp, s.created);
  a.label(`${label}.own`);
  a.lt(es.mfound, es.mp, s.n);
  a.jz(es.mfound, `${label}.indexed`);
  a.load(s.w, es.mp);
  a.eq(s.t, s.w, es.name);
  a.jz(s.t, `${label}.next`);
  a.load(s.w, es.mp, MODULE_WORD.tag);
  a.eq(es.mfound, s.w, imm(BigInt(MODULE_TAG)));
  a.jnz(es.mfound, `${label}.done`);
  a.label(`${label}.next`);
  a.add(es.mp, es.mp, imm(BigInt(RECORD_SIZE)));
  a.jmp(`${label}.own`);
  a.label(`${label}.indexed`);
  emitProbe(a, s, es.name);
  a.mov(es.mfound, s.found);
  a.load(es.mp, s.slot, ENTRY_RECORD);
  a.label(`${label}.done`);
}

/** Sets ap on the proposal's first action record and akey to that record's expected key word. */
function firstAction(a: Assembler, v: ProposeExecuteVars, es: ExecuteSlots): void {
  a.add(es.ap, v.ptr, imm(BigInt(RECORD_SIZE)));
  a.mov(es.akey, es.first);
}

/** Loads the action record at M[ap] (whose key word was checked) into kind, name, value, hash. */
function loadAction(a: Assembler, es: ExecuteSlots): void {
  a.load(es.kind, es.ap, ACTION_WORD.kind);
  a.load(es.name, es.ap, ACTION_WORD.name);
  a.load(es.value, es.ap, ACTION_WORD.value);
  a.load(es.hash, es.ap, ACTION_WORD.codeHash);
}

/** Moves ap and akey on to the next action; jumps to `loop`. */
function nextAction(a: Assembler, es: ExecuteSlots, loop: string): void {
  a.add(es.ap, es.ap, imm(BigInt(RECORD_SIZE)));
  a.add(es.akey, es.akey, imm(1n << ACTION_INDEX_SHIFT));
  a.jmp(loop);
}

/**
 * execute (§5): the proposal exists and is Queued; block ≥ eta; then Executed with its actions applied
 * when `execute.bounds` holds, Failed otherwise (both accepted).
 */
export function executeRule(a: Assembler, s: Scratch, v: ProposeExecuteVars, fault: ProgramFault): void {
  const names = [
    'ap',
    'akey',
    'first',
    'kind',
    'name',
    'value',
    'hash',
    'cur',
    'bp',
    'mp',
    'mfound',
  ] as const;
  const es = Object.fromEntries(names.map((n) => [n, a.slot(`execute.${n}`)])) as ExecuteSlots;
  const W = PROPOSAL_WORD;
  a.label('rule.execute');
  findProposal(a, s, v);
  a.load(s.w, v.ptr, W.status);
  a.eq(s.t, s.w, imm(BigInt(ProposalStatus.Queued)));
  // The fault builds keep the honest layout (governance.ts pads or refuses a rule of another length):
  // canceled-proposal-executed detours out of line on a status other than Queued and comes back for a
  // Canceled one; timelock-ignored's jump lands on the next instruction either way.
  if (fault === 'canceled-proposal-executed') {
    a.jz(s.t, 'execute.not-queued');
    a.label('execute.executable');
    a.defer(() => {
      a.label('execute.not-queued');
      a.eq(s.t, s.w, imm(BigInt(ProposalStatus.Canceled)));
      a.jnz(s.t, 'execute.executable');
      a.jmp('input.reject');
    });
  } else {
    a.jz(s.t, 'input.reject');
  }
  a.load(s.w, v.ptr, W.eta);
  a.lt(s.t, v.block, s.w);
  jumpUnless(a, fault === 'timelock-ignored', s.t, 'input.reject');
  a.mul(es.first, v.arg0, imm(1n << PROPOSAL_ID_SHIFT));
  a.add(es.first, es.first, imm(tagWord(ACTION_TAG)));

  // execute.bounds, over every action before any is applied.
  firstAction(a, v, es);
  a.label('execute.check');
  a.load(s.w, es.ap);
  a.eq(s.t, s.w, es.akey);
  a.jz(s.t, 'execute.apply');
  loadAction(a, es);
  a.jnz(es.kind, 'execute.check-module');
  dispatchParam(a, s, es.name, 'execute.bounds');
  // propose admitted only parameter names: another one is no state the model can be in.
  emitFault(a, s);
  // out-of-bounds-applied compares and goes on either way (same layout as the honest build).
  const ignoreBounds = fault === 'out-of-bounds-applied';
  for (const key of PARAM_KEYS) {
    const { min, max } = PARAM_SPECS[key];
    a.label(`execute.bounds.${key}`);
    if (min > 0n) {
      a.lt(s.t, es.value, imm(min));
      jumpUnless(a, ignoreBounds, s.t, 'execute.failed');
    }
    a.lt(s.t, imm(max), es.value);
    jumpUnless(a, ignoreBounds, s.t, 'execute.failed');
    a.jmp('execute.check-next');
  }
  // The module's current version: its last upgrade among the earlier actions, else its record's, else 0.
  a.label('execute.check-module');
  a.mov(es.cur, imm(0n));
  a.mov(s.u, imm(0n));
  a.add(es.bp, v.ptr, imm(BigInt(RECORD_SIZE)));
  a.label('execute.earlier');
  a.eq(s.t, es.bp, es.ap);
  a.jnz(s.t, 'execute.earlier-done');
  a.load(s.w, es.bp, ACTION_WORD.kind);
  a.jz(s.w, 'execute.earlier-next');
  a.load(s.w, es.bp, ACTION_WORD.name);
  a.eq(s.t, s.w, es.name);
  a.jz(s.t, 'execute.earlier-next');
  a.load(es.cur, es.bp, ACTION_WORD.value);
  a.mov(s.u, imm(1n));
  a.label('execute.earlier-next');
  a.add(es.bp, es.bp, imm(BigInt(RECORD_SIZE)));
  a.jmp('execute.earlier');
  a.label('execute.earlier-done');
  a.jnz(s.u, 'execute.version');
  findModule(a, s, es, 'execute.check-find');
  a.jz(es.mfound, 'execute.version');
  a.load(es.cur, es.mp, MODULE_WORD.version);
  a.label('execute.version');
  a.lt(s.t, es.cur, es.value);
  a.jz(s.t, 'execute.failed');
  a.label('execute.check-next');
  nextAction(a, es, 'execute.check');

  // Every action in order.
  a.label('execute.apply');
  firstAction(a, v, es);
  a.label('execute.do');
  a.load(s.w, es.ap);
  a.eq(s.t, s.w, es.akey);
  a.jz(s.t, 'execute.executed');
  loadAction(a, es);
  a.jnz(es.kind, 'execute.do-module');
  dispatchParam(a, s, es.name, 'execute.set');
  emitFault(a, s);
  for (const key of PARAM_KEYS) {
    a.label(`execute.set.${key}`);
    applyParameter(a, es, key);
    a.jmp('execute.do-next');
  }
  a.label('execute.do-module');
  findModule(a, s, es, 'execute.do-find');
  a.jz(es.mfound, 'execute.new-module');
  a.store(es.mp, es.value, MODULE_WORD.version);
  a.store(es.mp, es.hash, MODULE_WORD.codeHash);
  a.jmp('execute.do-next');
  a.label('execute.new-module');
  // Only module records are created by execute, so sorting them by key word is sorting by name, as the
  // model's leaf ids (03 ‖ name) order them. Records before `created` never move: ptr and ap stay valid.
  const module = new Array<OperandLike>(RECORD_SIZE).fill(imm(0n));
  module[0] = es.name;
  module[MODULE_WORD.version] = es.value;
  module[MODULE_WORD.codeHash] = es.hash;
  module[MODULE_WORD.tag] = imm(BigInt(MODULE_TAG));
  emitAppendRecord(a, s, module, es.mp);
  a.label('execute.do-next');
  nextAction(a, es, 'execute.do');
  a.label('execute.executed');
  a.store(v.ptr, imm(BigInt(ProposalStatus.Executed)), W.status);
  a.store(v.ptr, GLOBAL.epoch, W.executedEpoch);
  a.jmp('input.accept');
  a.label('execute.failed');
  a.store(v.ptr, imm(BigInt(ProposalStatus.Failed)), W.status);
  a.jmp('input.accept');
}

/**
 * A parameter action's effect: a rollup parameter (activation 'next-epoch') gets a pending value that
 * the end of this epoch puts in force, activationEpoch = epoch + 1; any other its new value at once.
 * Both records sit at fixed addresses (lib.ts).
 */
function applyParameter(a: Assembler, es: ExecuteSlots, key: ParamKey): void {
  if (PARAM_SPECS[key].activation === 'next-epoch') {
    const at = pendingParamWord(key);
    a.mov(at, es.value);
    a.add(at + 1, GLOBAL.epoch, imm(1n));
  } else {
    a.mov(paramWord(key), es.value);
  }
}
