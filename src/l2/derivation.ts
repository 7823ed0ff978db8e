/**
 * The state Vigil derives from the L2: the reference model fed with the decoded inputs — the transactions
 * the contracts accepted (from their logs) and those they reverted (from their calldata) — the epoch roots
 * it computes, and the operator's commitments. A pure function of the journal (see ingester.ts), so a
 * reorg or a restart rebuilds it by replay.
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
  type Params,
  REFERENCE_EXECUTOR,
} from '../governance/index.ts';
import type { JournalBlock } from './cursor-store.ts';
import type { L2Entry, StateCommitmentRecord } from './decode.ts';
import type { Derivation } from './ingester.ts';
import { TouchedKeys } from './touched.ts';

export type EpochEnd = {
  /** The epoch that ended. */
  epoch: bigint;
  block: bigint;
  blockHash: string;
  /** The state root right after the endEpoch input, 0x-hex. */
  root: string;
  /**
   * Inclusive indices into the derivation's `inputs` of this epoch's inputs (reverted ones included):
   * re-executing inputs[0, firstInput) then inputs[firstInput, lastInput] replays the epoch with a trace.
   * inputs[lastInput] is the endEpoch.
   */
  firstInput: number;
  lastInput: number;
};

/** An input the chain accepted but the model rejects: the L2 executed something the rules forbid. */
export type RejectedInput = { input: GovernanceInput; rule: string; reason: string };

/** A transaction the chain reverted, naming a rule (`rule`), but the model's executor accepts. */
export type RevertedAcceptedInput = { input: GovernanceInput; txHash: string; rule: string | undefined };

export class GovernanceDerivation implements Derivation<L2Entry> {
  state: GovernanceState;
  /** Every input in chain order, reverted ones included (the feed a watcher re-executes). */
  inputs: GovernanceInput[] = [];
  epochEnds: EpochEnd[] = [];
  commitments = new Map<bigint, StateCommitmentRecord>();
  rejected: RejectedInput[] = [];
  /**
   * Reverted inputs the executor accepted: the contracts refused, naming a rule, what the rules allow. The
   * chain is right: each is recorded (an L2 execution fault) and left out of the state, so the model
   * never drifts from an honest chain over a refusal it does not explain. Only refusals that name a
   * governance rule reach the derivation at all (refusal.ts).
   */
  revertedAccepted: RevertedAcceptedInput[] = [];
  /** Epoch ends in the block being applied (read by the ingester's afterBlock hook). */
  lastBlockEpochEnds: EpochEnd[] = [];
  /**
   * The records the inputs applied since the last cross-check touched (read and restarted by the
   * ingester's epoch-end hook); `full` after a reset or a rebuild, when nothing narrower is known.
   */
  touched = new TouchedKeys();
  /** Indices into `inputs` whose effect the chain overruled: left out of the state. */
  private overruled = new Set<number>();
  private epochStart = 0;
  /**
   * The parameters in force during each epoch the ingested L2 has started: the genesis epoch's are the
   * genesis values, every later one's are the state's right after the endEpoch that started it (its
   * step 6.6 activates the pending rollup parameters). Rollup parameters change only there, so they are
   * the same in every block of the epoch (docs/protocol.md §2).
   */
  private epochParams = new Map<bigint, Params>();

  /** Indices into `inputs` the chain overruled: a re-execution must leave them out. */
  get overruledInputs(): ReadonlySet<number> {
    return this.overruled;
  }

  constructor(
    readonly genesis: GenesisOptions,
    readonly executor: Executor = REFERENCE_EXECUTOR,
  ) {
    this.state = createGenesisState(genesis);
    this.epochParams.set(this.state.epoch, { ...this.state.params });
  }

  /** The parameters in force during `epoch`, or undefined when the ingested L2 has not started it. */
  paramsOfEpoch(epoch: bigint): Params | undefined {
    return this.epochParams.get(epoch);
  }

  reset(): void {
    this.state = createGenesisState(this.genesis);
    this.inputs = [];
    this.epochEnds = [];
    this.commitments = new Map();
    this.rejected = [];
    this.revertedAccepted = [];
    this.lastBlockEpochEnds = [];
    this.touched.markFull();
    this.overruled = new Set();
    this.epochStart = 0;
    this.epochParams = new Map([[this.state.epoch, { ...this.state.params }]]);
  }

  applyBlock(block: JournalBlock<L2Entry>): void {
    this.lastBlockEpochEnds = [];
    for (const entry of block.entries) {
      if (entry.type === 'commitment') {
        this.commitments.set(entry.commitment.epoch, entry.commitment);
        continue;
      }
      const input = entry.input;
      const index = this.inputs.length;
      this.inputs.push(input);
      this.touched.beforeInput(this.state, input);
      const endOfEpoch = input.kind === 'endEpoch' && !this.touched.full;
      // The model's own ledger of the end of epoch's credits: observed only, no rule reads it.
      if (endOfEpoch) this.state.payouts = [];
      const out = applyInput(this.state, input, this.executor);
      if (endOfEpoch) {
        const ledger = this.state.payouts ?? [];
        this.state.payouts = undefined;
        this.touched.credited(ledger.flatMap((c) => ('account' in c ? [c.account] : [])));
      }
      if (entry.type === 'reverted') {
        if (!out.accepted) continue; // refused by both: nothing changed
        this.revertedAccepted.push({ input, txHash: entry.txHash, rule: entry.rule });
        this.overruled.add(index);
        this.rebuildState();
        continue;
      } else if (!out.accepted) {
        this.rejected.push({ input, rule: out.rejectedBy, reason: out.reason });
        continue;
      }
      if (input.kind === 'endEpoch') {
        const end: EpochEnd = {
          epoch: this.state.epoch - 1n,
          block: block.number,
          blockHash: block.hash,
          root: `0x${bytesToHex(computeStateRoot(this.state))}`,
          firstInput: this.epochStart,
          lastInput: index,
        };
        this.epochStart = index + 1;
        this.epochEnds.push(end);
        this.lastBlockEpochEnds.push(end);
        this.epochParams.set(this.state.epoch, { ...this.state.params });
      }
    }
  }

  /**
   * The state as if the overruled inputs had never been applied: genesis, then every other input again.
   * applyInput has no undo and a rejected input has no effect, so replaying is exact; it is rare (the
   * reference accepting a reverted tx), so correctness wins over speed.
   */
  private rebuildState(): void {
    this.touched.markFull();
    this.state = createGenesisState(this.genesis);
    for (let i = 0; i < this.inputs.length; i++) {
      if (!this.overruled.has(i)) applyInput(this.state, this.inputs[i] as GovernanceInput, this.executor);
    }
  }
}
