/**
 * The state Vigil derives from the L2: the reference model fed with the decoded inputs, the epoch roots it
 * computes, and the operator's commitments. A pure function of the journal (see ingester.ts), so a reorg
 * or a restart rebuilds it by replay.
 */
import { bytesToHex } from '../core/bytes.ts';
import {
  applyInput,
  computeStateRoot,
  createGenesisState,
  type Executor,
  type GenesisOptions,
  type GovernanceInput,
  type GovernanceState,
  REFERENCE_EXECUTOR,
} from '../governance/index.ts';
import type { JournalBlock } from './cursor-store.ts';
import type { L2Entry, StateCommitmentRecord } from './decode.ts';
import type { Derivation } from './ingester.ts';

export type EpochEnd = {
  /** The epoch that ended. */
  epoch: bigint;
  block: bigint;
  blockHash: string;
  /** The state root right after the endEpoch input, 0x-hex. */
  root: string;
};

/** An input the chain accepted but the model rejects: the L2 executed something the rules forbid. */
export type RejectedInput = { input: GovernanceInput; rule: string; reason: string };

export class GovernanceDerivation implements Derivation<L2Entry> {
  state: GovernanceState;
  inputs: GovernanceInput[] = [];
  epochEnds: EpochEnd[] = [];
  commitments = new Map<bigint, StateCommitmentRecord>();
  rejected: RejectedInput[] = [];
  /** Epoch ends in the block being applied (read by the ingester's afterBlock hook). */
  lastBlockEpochEnds: EpochEnd[] = [];

  constructor(
    readonly genesis: GenesisOptions,
    readonly executor: Executor = REFERENCE_EXECUTOR,
  ) {
    this.state = createGenesisState(genesis);
  }

  reset(): void {
    this.state = createGenesisState(this.genesis);
    this.inputs = [];
    this.epochEnds = [];
    this.commitments = new Map();
    this.rejected = [];
    this.lastBlockEpochEnds = [];
  }

  applyBlock(block: JournalBlock<L2Entry>): void {
    this.lastBlockEpochEnds = [];
    for (const entry of block.entries) {
      if (entry.type === 'commitment') {
        this.commitments.set(entry.commitment.epoch, entry.commitment);
        continue;
      }
      const input = entry.input;
      this.inputs.push(input);
      const out = applyInput(this.state, input, this.executor);
      if (!out.accepted) {
        this.rejected.push({ input, rule: out.rejectedBy, reason: out.reason });
        continue;
      }
      if (input.kind === 'endEpoch') {
        const end: EpochEnd = {
          epoch: this.state.epoch - 1n,
          block: block.number,
          blockHash: block.hash,
          root: `0x${bytesToHex(computeStateRoot(this.state))}`,
        };
        this.epochEnds.push(end);
        this.lastBlockEpochEnds.push(end);
      }
    }
  }
}
