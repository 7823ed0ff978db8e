/**
 * Governance inputs: the decoded L2 events the reference model re-executes, in L2 order
 * (block, tx index, log index). The rules they trigger are in docs/protocol.md.
 *
 * Conventions (shared with the L2 ingestion and the Solidity contracts):
 * - addresses are lowercase `0x` + 40 hex digits (decoders lowercase viem's checksummed form);
 * - amounts and parameter values are bigint (uint256 on the contract side);
 * - parameter keys and module ids are ASCII names of 1..32 characters `[A-Za-z0-9_-]`, which the contracts
 *   carry as bytes32 (the ASCII bytes, right-padded with zeros);
 * - code hashes are lowercase `0x` + 64 hex digits.
 */

export type Address = `0x${string}`;
export type Hash32 = `0x${string}`;

/** Where the event that produced an input sits on the L2; inputs must be strictly increasing in it. */
export type InputPosition = {
  block: bigint;
  txIndex: number;
  logIndex: number;
};

export type VoteSupport = 'against' | 'for' | 'abstain';
/** The contract's uint8 encoding of a vote, as OpenZeppelin's Governor: 0 against, 1 for, 2 abstain. */
export const VOTE_SUPPORT_CODE: Readonly<Record<VoteSupport, number>> = { against: 0, for: 1, abstain: 2 };

export type SetParameterAction = { kind: 'setParameter'; key: string; value: bigint };
export type UpgradeModuleAction = {
  kind: 'upgradeModule';
  moduleId: string;
  version: bigint;
  codeHash: Hash32;
};
export type ProposalAction = SetParameterAction | UpgradeModuleAction;

type Base = { position: InputPosition; sender: Address };

export type RegisterValidatorInput = Base & { kind: 'registerValidator'; commissionBps: number };
/** A validator adds to its own (self) stake. */
export type StakeInput = Base & { kind: 'stake'; amount: bigint };
/** A validator withdraws part or all of its self stake. */
export type UnstakeInput = Base & { kind: 'unstake'; amount: bigint };
export type DelegateInput = Base & { kind: 'delegate'; validator: Address; amount: bigint };
export type UndelegateInput = Base & { kind: 'undelegate'; validator: Address; amount: bigint };
export type ProposeInput = Base & { kind: 'propose'; actions: readonly ProposalAction[] };
export type VoteInput = Base & { kind: 'vote'; proposalId: bigint; support: VoteSupport };
export type QueueInput = Base & { kind: 'queue'; proposalId: bigint };
export type ExecuteInput = Base & { kind: 'execute'; proposalId: bigint };
export type CancelInput = Base & { kind: 'cancel'; proposalId: bigint };
export type EndEpochInput = Base & { kind: 'endEpoch' };

export type GovernanceInput =
  | RegisterValidatorInput
  | StakeInput
  | UnstakeInput
  | DelegateInput
  | UndelegateInput
  | ProposeInput
  | VoteInput
  | QueueInput
  | ExecuteInput
  | CancelInput
  | EndEpochInput;

export type InputKind = GovernanceInput['kind'];

export const INPUT_KINDS: readonly InputKind[] = [
  'registerValidator',
  'stake',
  'unstake',
  'delegate',
  'undelegate',
  'propose',
  'vote',
  'queue',
  'execute',
  'cancel',
  'endEpoch',
];

/** Compares two positions in L2 order: negative if `a` comes first. */
export function comparePositions(a: InputPosition, b: InputPosition): number {
  if (a.block !== b.block) return a.block < b.block ? -1 : 1;
  if (a.txIndex !== b.txIndex) return a.txIndex - b.txIndex;
  return a.logIndex - b.logIndex;
}

const ADDRESS_RE = /^0x[0-9a-f]{40}$/;
const HASH32_RE = /^0x[0-9a-f]{64}$/;
const NAME_RE = /^[A-Za-z0-9_-]{1,32}$/;

export const isAddress = (value: string): value is Address => ADDRESS_RE.test(value);
export const isHash32 = (value: string): value is Hash32 => HASH32_RE.test(value);
/** A parameter key or module id: ASCII, 1..32 characters, so it fits a bytes32. */
export const isName = (value: string): boolean => NAME_RE.test(value);
