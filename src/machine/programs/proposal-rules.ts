/**
 * The proposal rules of the governance program (docs/protocol.md §5, §23) besides propose and execute
 * (propose-execute.ts): `vote`, `queue` and `cancel`, emitted inline as the validator rules are (a `rule.<kind>` label reached by the dispatch,
 * leaving by a jump to `input.accept` or `input.reject`). As in the model (rules/proposals.ts), every
 * precondition is checked, in the model's order, before the one effect, so a rejection writes nothing.
 *
 * A proposal record (§8, tag 0x08) has key word 0x08 ‖ id u64 ‖ zeros and its 15 value fields in words
 * 1 … 15 in `encodeProposalLeaf`'s order (PROPOSAL_WORD).
 *
 * Step costs of the rule itself (from the emitted code; F = a record lookup through the index, about 25
 * steps, lib.ts; the input loop's own steps come on top; none depends on the number of records):
 *   queue   accepted F + 44; rejected F + 14 (status) … F + 36 (approval)
 *   cancel  accepted F + 20; rejected F + 15 (proposer) or F + 18 (status)
 *   all     an id word ≥ 2^64: 2
 *   vote    accepted ≈ 5F + (3 + V) snapshot lookups of ≈ 35 steps + 5 per checkpoint of that history
 *           made after the snapshot, V = earlier voters on the proposal (overridden[sender], recomputed
 *           by walking the proposal's votes in the index); ≈ 500 steps in the tests.
 */
import { CheckpointKind, ProposalStatus } from '../../governance/state.ts';
import { type Assembler, imm } from '../assembler.ts';
import type { ProgramFault } from './faults.ts';
import {
  CHECKPOINT_ACCOUNT_SHIFT,
  CHECKPOINT_BLOCK_SHIFT,
  CHECKPOINT_KIND_SHIFT,
  CHECKPOINT_TAG,
  DELEGATION_ADDRESS_SHIFT,
  emitAppendRecord,
  emitFindRecord,
  LINK_OFFSET,
  PROPOSAL_TAG,
  type Scratch,
  tagWord,
  uniquePrefix,
  VALIDATOR_ADDRESS_SHIFT,
  VOTE_TAG,
} from './lib.ts';
import { emitGroupHead } from './record-index.ts';

/** Proposal (0x08) key word = tag ‖ id u64 ‖ zeros: the id sits at bit 184. */
export const PROPOSAL_ID_SHIFT = 184n;

/** Word offsets of a proposal record's value fields (§8, `encodeProposalLeaf`). */
export const PROPOSAL_WORD = {
  proposer: 1,
  createdBlock: 2,
  snapshotBlock: 3,
  voteEnd: 4,
  quorumBps: 5,
  thresholdBps: 6,
  timelock: 7,
  bondedAtSnapshot: 8,
  status: 9,
  eta: 10,
  executedEpoch: 11,
  for: 12,
  against: 13,
  abstain: 14,
  actionsHash: 15,
} as const;

const BPS = 10_000n;
const TWO_64 = 1n << 64n;

/** The slots a proposal rule uses besides the routines' scratch. */
export type ProposalRuleVars = {
  readonly sender: number;
  readonly block: number;
  /** The input's first argument: the proposal id. */
  readonly arg0: number;
  /** Receives the proposal record's word address. */
  readonly ptr: number;
  readonly found: number;
};

/**
 * Finds the proposal whose id is in M[arg0]; jumps to `input.reject` when there is none (the model's
 * "no such proposal"). An id word ≥ 2^64 names no proposal (ids are u64) and would wrap onto another
 * key word once shifted, so it is rejected before the lookup.
 */
export function findProposal(a: Assembler, s: Scratch, v: ProposalRuleVars): void {
  a.lt(s.t, v.arg0, imm(TWO_64));
  a.jz(s.t, 'input.reject');
  a.mul(s.key, v.arg0, imm(1n << PROPOSAL_ID_SHIFT));
  a.add(s.key, s.key, imm(tagWord(PROPOSAL_TAG)));
  emitFindRecord(a, s, s.key, v.ptr, v.found);
  a.jz(v.found, 'input.reject');
}

/**
 * queue (§5), preconditions in the model's order: the proposal exists and is Active (`queue.status`);
 * block > voteEnd (`queue.period`); (for + against + abstain) × 10000 ≥ quorumBps × bondedAtSnapshot
 * (`queue.quorum`); for × 10000 > thresholdBps × (for + against) (`queue.approval`). Effects: status
 * Queued, eta = block + timelock (mod 2^64, as the leaf's u64 field stores it).
 *
 * The products cannot wrap for a state the model can reach: every tally is at most bondedAtSnapshot ≤
 * MAX_TOTAL_BONDED < 2^128 and the basis points are u16, so each side stays below 2^146.
 */
export function queueRule(a: Assembler, s: Scratch, v: ProposalRuleVars, fault: ProgramFault): void {
  const W = PROPOSAL_WORD;
  a.label('rule.queue');
  findProposal(a, s, v);
  a.load(s.w, v.ptr, W.status);
  a.jnz(s.w, 'input.reject');
  // block > voteEnd ⇔ voteEnd < block.
  a.load(s.w, v.ptr, W.voteEnd);
  a.lt(s.t, s.w, v.block);
  a.jz(s.t, 'input.reject');
  // Quorum fails exactly when voted × 10000 < quorumBps × bondedAtSnapshot.
  a.load(s.x, v.ptr, W.for);
  a.load(s.y, v.ptr, W.against);
  a.add(s.x, s.x, s.y);
  a.load(s.y, v.ptr, W.abstain);
  a.add(s.x, s.x, s.y);
  a.mul(s.x, s.x, imm(BPS));
  a.load(s.y, v.ptr, W.quorumBps);
  a.load(s.w, v.ptr, W.bondedAtSnapshot);
  a.mul(s.y, s.y, s.w);
  a.lt(s.t, s.x, s.y);
  // quorum-not-checked: the jump goes to the next instruction either way (same length, so nothing
  // after it moves and the fault's trace parts from the honest one only when the quorum is not met).
  if (fault === 'quorum-not-checked') {
    const next = uniquePrefix(a, 'quorum-ignored');
    a.jnz(s.t, next);
    a.label(next);
  } else {
    a.jnz(s.t, 'input.reject');
  }
  // Approval holds exactly when thresholdBps × (for + against) < for × 10000. The off-by-one fault also
  // passes at equality: where the honest program rejects, it detours to check for a tie first.
  a.load(s.x, v.ptr, W.for);
  a.load(s.y, v.ptr, W.against);
  a.add(s.y, s.x, s.y);
  a.load(s.w, v.ptr, W.thresholdBps);
  a.mul(s.y, s.y, s.w);
  a.mul(s.x, s.x, imm(BPS));
  a.lt(s.t, s.y, s.x);
  if (fault === 'approval-threshold-off-by-one') {
    a.jz(s.t, 'queue.approval-tie');
    a.label('queue.approved');
    a.defer(() => {
      a.label('queue.approval-tie');
      a.eq(s.t, s.x, s.y);
      a.jnz(s.t, 'queue.approved');
      a.jmp('input.reject');
    });
  } else {
    a.jz(s.t, 'input.reject');
  }
  // Effects.
  a.store(v.ptr, imm(BigInt(ProposalStatus.Queued)), W.status);
  a.load(s.w, v.ptr, W.timelock);
  a.add(s.w, s.w, v.block);
  a.div(s.t, s.w, imm(TWO_64));
  a.mul(s.t, s.t, imm(TWO_64));
  a.sub(s.w, s.w, s.t);
  a.store(v.ptr, s.w, W.eta);
  a.jmp('input.accept');
}

/**
 * cancel (§5), preconditions in the model's order: the proposal exists; the sender is its proposer;
 * its status is Active or Queued (the two lowest codes). Effect: status Canceled.
 */
export function cancelRule(a: Assembler, s: Scratch, v: ProposalRuleVars): void {
  const W = PROPOSAL_WORD;
  a.label('rule.cancel');
  findProposal(a, s, v);
  a.load(s.w, v.ptr, W.proposer);
  a.eq(s.t, s.w, v.sender);
  a.jz(s.t, 'input.reject');
  a.load(s.w, v.ptr, W.status);
  a.lt(s.t, s.w, imm(BigInt(ProposalStatus.Queued) + 1n));
  a.jz(s.t, 'input.reject');
  a.store(v.ptr, imm(BigInt(ProposalStatus.Canceled)), W.status);
  a.jmp('input.accept');
}

/** Vote (0x09) key word = tag ‖ proposalId u64 ‖ voter 20 ‖ zeros: the voter sits at bit 24. */
export const VOTE_VOTER_SHIFT = 24n;
/** A vote record's value words (§8): support code, isValidator, weight. */
const VOTE_WORD = { support: 1, isValidator: 2, weight: 3 } as const;

/** The slots the vote rule uses of its own (allocated once, under `vote.`). */
type VoteSlots = Readonly<
  Record<
    | 'snap'
    | 'lo'
    | 'hi'
    | 'best'
    | 'sp'
    | 'power'
    | 'isValidator'
    | 'ownValidator'
    | 'ownAmount'
    | 'overridden'
    | 'vp'
    | 'vkey'
    | 'vend'
    | 'voter'
    | 'tp'
    | 'weight'
    | 'prev',
    number
  >
>;

/**
 * The record of the account's last checkpoint of `kind` at or before block M[snap] (history.ts `valueAt`,
 * `delegationAt`): leaves in `best` its word address, or n when there is none (the words past the image
 * are zero, so its validator and value read as 0, as the model's "none"). The index links the account's
 * checkpoints of that kind newest first, in block order (record-index.ts), so the walk stops at the
 * first whose key is at most key(kind, account, snap): it passes only the checkpoints made after the
 * snapshot. The vote rule calls it before it creates anything, so every checkpoint is indexed.
 */
function emitCheckpointAt(
  a: Assembler,
  s: Scratch,
  vs: VoteSlots,
  kind: number,
  account: number,
  ptr: number,
): void {
  const l = uniquePrefix(a, 'checkpoint-at');
  a.mul(vs.lo, account, imm(1n << CHECKPOINT_ACCOUNT_SHIFT));
  a.add(vs.lo, vs.lo, imm(tagWord(CHECKPOINT_TAG) + (BigInt(kind) << CHECKPOINT_KIND_SHIFT)));
  a.mul(vs.hi, vs.snap, imm(1n << CHECKPOINT_BLOCK_SHIFT));
  a.add(vs.hi, vs.hi, vs.lo);
  a.mov(vs.best, s.n);
  a.add(vs.lo, vs.lo, imm(1n));
  emitGroupHead(a, s, vs.lo, ptr);
  a.label(`${l}.walk`);
  a.jz(ptr, `${l}.done`);
  a.load(s.w, ptr);
  a.lt(s.t, vs.hi, s.w);
  a.jz(s.t, `${l}.hit`);
  a.load(ptr, ptr, LINK_OFFSET);
  a.jmp(`${l}.walk`);
  a.label(`${l}.hit`);
  a.mov(vs.best, ptr);
  a.label(`${l}.done`);
}

/** The vote key word of proposal M[id] and voter M[voter] into `dst`. */
function voteKey(a: Assembler, dst: number, id: number, voter: number, t: number): void {
  a.mul(dst, id, imm(1n << PROPOSAL_ID_SHIFT));
  a.mul(t, voter, imm(1n << VOTE_VOTER_SHIFT));
  a.add(dst, dst, t);
  a.add(dst, dst, imm(tagWord(VOTE_TAG)));
}

/** The word offset of the tally of support code M[code] (against 0 → 13, for 1 → 12, abstain 2 → 14). */
function tallyOffset(a: Assembler, dst: number, code: number, t: number): void {
  a.sub(dst, imm(BigInt(PROPOSAL_WORD.against)), code);
  a.eq(t, code, imm(2n));
  a.mul(t, t, imm(3n));
  a.add(dst, dst, t);
}

/**
 * vote (§5), preconditions in the model's order: the proposal exists, is Active and the support code is
 * 0, 1 or 2 (`vote.status`); block ≤ voteEnd (`vote.period`); no vote record of the sender on it
 * (`vote.once`); own power at the snapshot ≠ 0 (`vote.power`): self and delegated checkpoints if the
 * sender is a registered validator now, its delegation checkpoint if it has a delegation record now.
 * Effects (`vote.override`): weight = own − overridden[sender], where overridden[sender] (kept by the
 * model beside the state, not in it) is recomputed from the image: the sum of the snapshot delegations to
 * the sender of every voter on this proposal (vote.once makes each voter count once); tally += weight; a
 * delegator's snapshot delegation d > 0 to v is taken off v's vote (tally and weight) if v has voted; the
 * vote record {support, isValidator now, weight} is appended.
 */
export function voteRule(
  a: Assembler,
  s: Scratch,
  v: ProposalRuleVars & { readonly arg1: number },
  fault: ProgramFault,
): void {
  const W = PROPOSAL_WORD;
  const names = [
    'snap',
    'lo',
    'hi',
    'best',
    'sp',
    'power',
    'isValidator',
    'ownValidator',
    'ownAmount',
    'overridden',
    'vp',
    'vkey',
    'vend',
    'voter',
    'tp',
    'weight',
    'prev',
  ] as const;
  const vs = Object.fromEntries(names.map((n) => [n, a.slot(`vote.${n}`)])) as VoteSlots;
  a.label('rule.vote');
  findProposal(a, s, v);
  a.load(s.w, v.ptr, W.status);
  a.jnz(s.w, 'input.reject');
  a.lt(s.t, v.arg1, imm(3n));
  a.jz(s.t, 'input.reject');
  a.load(s.w, v.ptr, W.voteEnd);
  a.lt(s.t, s.w, v.block);
  a.jnz(s.t, 'input.reject');
  voteKey(a, vs.vkey, v.arg0, v.sender, s.t);
  emitFindRecord(a, s, vs.vkey, vs.vp, s.u);
  // vote-counted-twice goes on with a repeated vote, in an out-of-line copy of the rest of the rule
  // that updates the vote record instead of appending one.
  a.jnz(s.u, fault === 'vote-counted-twice' ? 'vote-again.start' : 'input.reject');
  voteBody(a, s, v, vs, 'vote', fault, false);
  if (fault === 'vote-counted-twice') {
    a.defer(() => {
      a.label('vote-again.start');
      a.mov(vs.prev, vs.vp);
      voteBody(a, s, v, vs, 'vote-again', fault, true);
    });
  }
}

/**
 * The vote rule from the sender's own power on, under label prefix `p`: once in line and, for the
 * vote-counted-twice build, once more out of line for repeated votes (`repeat`: the record at M[prev] is
 * updated: support and isValidator replaced, weight added).
 */
function voteBody(
  a: Assembler,
  s: Scratch,
  v: ProposalRuleVars & { readonly arg1: number },
  vs: VoteSlots,
  p: string,
  fault: ProgramFault,
  repeat: boolean,
): void {
  const W = PROPOSAL_WORD;
  // Own power at the snapshot.
  a.load(vs.snap, v.ptr, W.snapshotBlock);
  a.mov(vs.power, imm(0n));
  a.mul(s.key, v.sender, imm(1n << VALIDATOR_ADDRESS_SHIFT));
  a.add(s.key, s.key, imm(tagWord(0x04)));
  emitFindRecord(a, s, s.key, vs.sp, vs.isValidator);
  a.jz(vs.isValidator, `${p}.no-validator`);
  emitCheckpointAt(a, s, vs, CheckpointKind.Self, v.sender, vs.sp);
  a.load(s.w, vs.best, 2);
  a.add(vs.power, vs.power, s.w);
  emitCheckpointAt(a, s, vs, CheckpointKind.Delegated, v.sender, vs.sp);
  a.load(s.w, vs.best, 2);
  a.add(vs.power, vs.power, s.w);
  a.label(`${p}.no-validator`);
  a.mov(vs.ownValidator, imm(0n));
  a.mov(vs.ownAmount, imm(0n));
  a.mul(s.key, v.sender, imm(1n << DELEGATION_ADDRESS_SHIFT));
  a.add(s.key, s.key, imm(tagWord(0x05)));
  emitFindRecord(a, s, s.key, vs.sp, s.u);
  a.jz(s.u, `${p}.no-delegation`);
  emitCheckpointAt(a, s, vs, CheckpointKind.Delegation, v.sender, vs.sp);
  a.load(vs.ownValidator, vs.best, 1);
  a.load(vs.ownAmount, vs.best, 2);
  a.add(vs.power, vs.power, vs.ownAmount);
  a.label(`${p}.no-delegation`);
  a.jz(vs.power, 'input.reject');
  // overridden[sender]: every vote record of this proposal, through its group in the index (this input
  // has created nothing yet).
  a.mov(vs.overridden, imm(0n));
  a.mul(vs.vend, v.arg0, imm(1n << PROPOSAL_ID_SHIFT));
  a.add(vs.vend, vs.vend, imm(tagWord(VOTE_TAG)));
  a.add(s.key, vs.vend, imm(1n));
  emitGroupHead(a, s, s.key, vs.tp);
  a.label(`${p}.scan`);
  a.jz(vs.tp, `${p}.scanned`);
  a.load(s.w, vs.tp);
  a.sub(vs.voter, s.w, vs.vend);
  a.div(vs.voter, vs.voter, imm(1n << VOTE_VOTER_SHIFT));
  emitCheckpointAt(a, s, vs, CheckpointKind.Delegation, vs.voter, vs.sp);
  a.load(s.w, vs.best, 1);
  a.eq(s.t, s.w, v.sender);
  a.jz(s.t, `${p}.scan-next`);
  a.load(s.w, vs.best, 2);
  // delegator-override-ignored keeps overridden at 0 (the step runs only when a delegator of the sender
  // has voted, where the fault decides differently).
  if (fault === 'delegator-override-ignored') a.mov(vs.overridden, vs.overridden);
  else a.add(vs.overridden, vs.overridden, s.w);
  a.label(`${p}.scan-next`);
  a.load(vs.tp, vs.tp, LINK_OFFSET);
  a.jmp(`${p}.scan`);
  a.label(`${p}.scanned`);
  // Effects.
  a.sub(vs.weight, vs.power, vs.overridden);
  tallyOffset(a, vs.tp, v.arg1, s.t);
  a.add(vs.tp, vs.tp, v.ptr);
  a.load(s.w, vs.tp);
  a.add(s.w, s.w, vs.weight);
  a.store(vs.tp, s.w);
  a.jz(vs.ownAmount, `${p}.record`);
  voteKey(a, vs.vkey, v.arg0, vs.ownValidator, s.t);
  emitFindRecord(a, s, vs.vkey, vs.vp, s.u);
  a.jz(s.u, `${p}.record`);
  // delegator-override-ignored leaves the validator's vote as it is.
  if (fault === 'delegator-override-ignored') a.jmp(`${p}.record`);
  else a.load(s.x, vs.vp, VOTE_WORD.support);
  tallyOffset(a, vs.tp, s.x, s.t);
  a.add(vs.tp, vs.tp, v.ptr);
  a.load(s.w, vs.tp);
  a.sub(s.w, s.w, vs.ownAmount);
  a.store(vs.tp, s.w);
  a.load(s.w, vs.vp, VOTE_WORD.weight);
  a.sub(s.w, s.w, vs.ownAmount);
  a.store(vs.vp, s.w, VOTE_WORD.weight);
  a.label(`${p}.record`);
  if (repeat) {
    a.store(vs.prev, v.arg1, VOTE_WORD.support);
    a.store(vs.prev, vs.isValidator, VOTE_WORD.isValidator);
    a.load(s.w, vs.prev, VOTE_WORD.weight);
    a.add(s.w, s.w, vs.weight);
    a.store(vs.prev, s.w, VOTE_WORD.weight);
    a.jmp('input.accept');
    return;
  }
  voteKey(a, vs.vkey, v.arg0, v.sender, s.t);
  emitAppendRecord(a, s, [vs.vkey, v.arg1, vs.isValidator, vs.weight], vs.vp);
  a.jmp('input.accept');
}
