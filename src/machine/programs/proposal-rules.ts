/**
 * The proposal rules of the governance program (docs/protocol.md §5, §23) built so far: `queue` and
 * `cancel`, emitted inline as the validator rules are (a `rule.<kind>` label reached by the dispatch,
 * leaving by a jump to `input.accept` or `input.reject`). As in the model (rules/proposals.ts), every
 * precondition is checked, in the model's order, before the one effect, so a rejection writes nothing.
 *
 * A proposal record (§8, tag 0x08) has key word 0x08 ‖ id u64 ‖ zeros and its 15 value fields in words
 * 1 … 15 in `encodeProposalLeaf`'s order (PROPOSAL_WORD).
 *
 * Step costs of the rule itself (from the emitted code; R = records the lookup passes before the hit,
 * 5 steps each, emitFindRecord; an unknown id passes all N; the input loop's own steps come on top):
 *   queue   accepted 5R + 44; rejected 5R + 14 (status) … 5R + 36 (approval); unknown id 5N + 12
 *   cancel  accepted 5R + 20; rejected 5R + 15 (proposer) or 5R + 18 (status); unknown id 5N + 12
 *   both    an id word ≥ 2^64: 2
 */
import { ProposalStatus } from '../../governance/state.ts';
import { type Assembler, imm } from '../assembler.ts';
import { emitFindRecord, type Scratch, tagWord } from './lib.ts';

/** Proposal (0x08) key word = tag ‖ id u64 ‖ zeros: the id sits at bit 184. */
export const PROPOSAL_ID_SHIFT = 184n;
const PROPOSAL_TAG = 0x08;

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
function findProposal(a: Assembler, s: Scratch, v: ProposalRuleVars): void {
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
export function queueRule(a: Assembler, s: Scratch, v: ProposalRuleVars): void {
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
  a.jnz(s.t, 'input.reject');
  // Approval holds exactly when thresholdBps × (for + against) < for × 10000.
  a.load(s.x, v.ptr, W.for);
  a.load(s.y, v.ptr, W.against);
  a.add(s.y, s.x, s.y);
  a.load(s.w, v.ptr, W.thresholdBps);
  a.mul(s.y, s.y, s.w);
  a.mul(s.x, s.x, imm(BPS));
  a.lt(s.t, s.y, s.x);
  a.jz(s.t, 'input.reject');
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
