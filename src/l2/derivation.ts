/**
 * The state Vigil derives from the L2: the reference model fed with the decoded inputs — the transactions
 * the contracts accepted (from their logs) and those they reverted (from their calldata) — the epoch roots
 * it computes, and the operator's commitments. A pure function of the journal (see ingester.ts), so a
 * reorg or a restart rebuilds it by replay.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { bytesToHex, hexToBytes, utf8 } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
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
  reexecute,
} from '../governance/index.ts';
import { decodeStateSnapshot, encodeStateSnapshot } from '../governance/state-snapshot.ts';
import type { JournalBase, JournalBlock } from './cursor-store.ts';
import type { L2Entry, StateCommitmentRecord } from './decode.ts';
import type { Derivation } from './ingester.ts';
import type { TapeRecipe } from './tape-recipe.ts';
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

/** Inputs asked for below the base of a pruned journal: they are no longer kept. */
export class PrunedInputsError extends VigilError {
  override name = 'PrunedInputsError';
}

/** What a base's data says of itself, before the state snapshot. */
type BaseHeader = { version: 1; epoch: string; inputIndex: number; root: string };
type DecodedBase = { header: BaseHeader; snapshot: Uint8Array; epoch: bigint };

/** An ended epoch's trace: the root before its first input, then one root per input it applied. */
export type EpochSteps = { preRoot: Uint8Array; roots: readonly Uint8Array[] };
/**
 * A base as the derivation keeps it between uses: its snapshot deflated. The snapshot (JSON) grows with
 * the L2's state, about 4.4 MiB per 1,000 devnet epochs, and is read only to rebuild a state (a
 * diagnosis, a rebuild after an overruled input, the next prune); deflated it is about a fifth of that.
 */
type HeldBase = { header: BaseHeader; epoch: bigint; deflated: Uint8Array };

const hold = (d: DecodedBase): HeldBase => ({
  header: d.header,
  epoch: d.epoch,
  deflated: new Uint8Array(deflateRawSync(d.snapshot, { level: 1 })),
});

/** A base's data: a one-line JSON header, then the state snapshot (docs/l2-ingestion.md "Pruning"). */
function encodeBaseData(header: BaseHeader, snapshot: Uint8Array): Uint8Array {
  const head = utf8(`${JSON.stringify(header)}\n`);
  const out = new Uint8Array(head.length + snapshot.length);
  out.set(head);
  out.set(snapshot, head.length);
  return out;
}

function decodeBaseData(data: Uint8Array): DecodedBase {
  const nl = data.indexOf(0x0a);
  let header: BaseHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(0, nl))) as BaseHeader;
  } catch (err) {
    throw new VigilError(`The L2 journal's base has no readable header: ${String(err)}`);
  }
  if (nl < 0 || header?.version !== 1 || !Number.isSafeInteger(header.inputIndex) || header.inputIndex < 1) {
    throw new VigilError('The L2 journal base is not one this version of Vigil wrote');
  }
  return { header, snapshot: data.subarray(nl + 1), epoch: BigInt(header.epoch) };
}

export class GovernanceDerivation implements Derivation<L2Entry> {
  state: GovernanceState;
  /**
   * Every input in chain order since the base (genesis when the journal was never pruned), reverted ones
   * included (the feed a watcher re-executes): inputs[i] is the input of absolute index
   * `inputsOffset + i`, the index epoch ends and overruled inputs use.
   */
  inputs: GovernanceInput[] = [];
  /** Absolute index of inputs[0]: how many inputs the base holds (0 without one). */
  inputsOffset = 0;
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
  private genesisRoot: Uint8Array | undefined;
  /**
   * The parameters in force during each epoch the ingested L2 has started: the genesis epoch's are the
   * genesis values, every later one's are the state's right after the endEpoch that started it (its
   * step 6.6 activates the pending rollup parameters). Rollup parameters change only there, so they are
   * the same in every block of the epoch (docs/protocol.md §2).
   */
  private epochParams = new Map<bigint, Params>();
  /** Each epoch end's entry index within its block: where a base taken there splits the block. */
  private endEntries = new Map<bigint, number>();
  /** The pruned journal's base this derivation starts from, when there is one. */
  private base: HeldBase | undefined;
  /**
   * With `keepStepRoots`: each ended epoch's trace, the roots it walked through (held as long as its end
   * is). The watcher judges from these instead of re-executing every epoch on a second copy of the state.
   */
  private readonly steps = new WeakMap<EpochEnd, EpochSteps>();
  /** The current epoch's root before its first input, and after each of its inputs so far. */
  private stepPreRoot: Uint8Array | undefined;
  private stepRoots: Uint8Array[] = [];

  /** The last epoch the base holds (its end and every input before it): nothing at or below it is kept. */
  get baseEpoch(): bigint | undefined {
    return this.base?.epoch;
  }

  /** Indices into `inputs` the chain overruled: a re-execution must leave them out. */
  get overruledInputs(): ReadonlySet<number> {
    return this.overruled;
  }

  constructor(
    readonly genesis: GenesisOptions,
    readonly executor: Executor = REFERENCE_EXECUTOR,
    /** Record every ended epoch's trace (`stepsOf`): a root per input, which costs a hash pass each. */
    readonly keepStepRoots = false,
  ) {
    this.state = createGenesisState(genesis);
    this.epochParams.set(this.state.epoch, { ...this.state.params });
    this.startSteps();
  }

  /**
   * The trace of an ended epoch this derivation applied (with `keepStepRoots`): the root before its first
   * input and after each of its inputs that the chain did not overrule, the same steps a re-execution of
   * the epoch from the state before it walks through.
   */
  stepsOf(end: EpochEnd): EpochSteps | undefined {
    return this.steps.get(end);
  }

  private startSteps(): void {
    this.stepRoots = [];
    this.stepPreRoot = this.keepStepRoots ? computeStateRoot(this.state).slice() : undefined;
  }

  private recordStep(): void {
    // No copy: a root array is never written once computed, and the epoch's end packs these.
    if (this.keepStepRoots) this.stepRoots.push(computeStateRoot(this.state));
  }

  /** The parameters in force during `epoch`, or undefined when the ingested L2 has not started it. */
  paramsOfEpoch(epoch: bigint): Params | undefined {
    return this.epochParams.get(epoch);
  }

  /** A fresh copy of the state the feed starts from: the base's, or genesis. */
  startingState(): GovernanceState {
    return this.base
      ? decodeStateSnapshot(inflateRawSync(this.base.deflated))
      : createGenesisState(this.genesis);
  }

  /** The inputs of absolute indices [from, to); throws PrunedInputsError below the base. */
  inputsSlice(from: number, to: number): GovernanceInput[] {
    if (from < this.inputsOffset) {
      throw new PrunedInputsError(
        `input ${from} is below the pruned L2 journal's base (it holds inputs up to ${this.inputsOffset}, epoch ${this.baseEpoch})`,
      );
    }
    return this.inputs.slice(from - this.inputsOffset, to - this.inputsOffset);
  }

  reset(base?: JournalBase): void {
    if (base === undefined) {
      this.base = undefined;
      this.state = createGenesisState(this.genesis);
    } else {
      const decoded = decodeBaseData(base.data);
      this.base = hold(decoded);
      this.state = decodeStateSnapshot(decoded.snapshot);
      const root = `0x${bytesToHex(computeStateRoot(this.state))}`;
      if (root !== this.base.header.root) {
        throw new VigilError(`The L2 journal base names root ${this.base.header.root} and holds ${root}`);
      }
    }
    this.inputsOffset = this.base?.header.inputIndex ?? 0;
    this.endEntries = new Map();
    this.inputs = [];
    this.epochEnds = [];
    this.commitments = new Map();
    this.rejected = [];
    this.revertedAccepted = [];
    this.lastBlockEpochEnds = [];
    this.touched.markFull();
    this.overruled = new Set();
    this.epochStart = this.inputsOffset;
    this.epochParams = new Map([[this.state.epoch, { ...this.state.params }]]);
    this.startSteps();
  }

  applyBlock(block: JournalBlock<L2Entry>, fromEntry = 0): void {
    this.lastBlockEpochEnds = [];
    for (let e = fromEntry; e < block.entries.length; e++) {
      const entry = block.entries[e] as L2Entry;
      if (entry.type === 'commitment') {
        this.commitments.set(entry.commitment.epoch, entry.commitment);
        continue;
      }
      const input = entry.input;
      const index = this.inputsOffset + this.inputs.length;
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
        // Refused by both: nothing changed, but it is a step of the epoch's trace all the same.
        if (!out.accepted) {
          this.recordStep();
          continue;
        }
        this.revertedAccepted.push({ input, txHash: entry.txHash, rule: entry.rule });
        this.overruled.add(index);
        // The rebuilt state is the one before this input: the roots recorded so far stand.
        this.rebuildState();
        continue;
      }
      this.recordStep();
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
          firstInput: this.epochStart,
          lastInput: index,
        };
        this.epochStart = index + 1;
        if (this.keepStepRoots && this.stepPreRoot !== undefined) {
          // Kept as views into one buffer: an epoch's roots live as long as its end, in hundreds.
          const packed = new Uint8Array(this.stepRoots.length * 32);
          const roots = this.stepRoots.map((r, i) => {
            packed.set(r, i * 32);
            return packed.subarray(i * 32, (i + 1) * 32);
          });
          this.steps.set(end, { preRoot: this.stepPreRoot, roots });
          this.stepPreRoot = roots.at(-1);
          this.stepRoots = [];
        }
        this.endEntries.set(end.epoch, e);
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
    this.state = this.startingState();
    for (let i = 0; i < this.inputs.length; i++) {
      if (!this.overruled.has(this.inputsOffset + i))
        applyInput(this.state, this.inputs[i] as GovernanceInput, this.executor);
    }
  }

  /**
   * A fresh copy of the state right before `end`'s first input: the base's (or genesis), then every input
   * since that the chain did not overrule. Costs a re-execution of the history since the base.
   */
  stateBefore(end: EpochEnd): GovernanceState {
    const state = this.startingState();
    const feed = this.feedBefore(end);
    if (feed.length > 0) reexecute(feed, { state, executor: this.executor });
    return state;
  }

  /** The inputs from the base to `end`'s first, those the chain overruled left out. */
  private feedBefore(end: EpochEnd): GovernanceInput[] {
    if (end.firstInput < this.inputsOffset) {
      throw new PrunedInputsError(
        `epoch ${end.epoch} starts at input ${end.firstInput}, below the pruned L2 journal's base (input ${this.inputsOffset})`,
      );
    }
    if (end.firstInput > this.inputsOffset + this.inputs.length) {
      throw new VigilError(
        `epoch ${end.epoch} starts at input ${end.firstInput}, past the ${this.inputsOffset + this.inputs.length} inputs applied`,
      );
    }
    const feed: GovernanceInput[] = [];
    for (let i = this.inputsOffset; i < end.firstInput; i++) {
      if (!this.overruled.has(i)) feed.push(this.inputs[i - this.inputsOffset] as GovernanceInput);
    }
    return feed;
  }

  /**
   * The root of the state right before `end`'s first input, as ingestion computed it, with no
   * re-execution: the previous epoch's end, or the base's (genesis's) when the epoch is the first since.
   */
  rootBefore(end: EpochEnd): Uint8Array {
    if (end.firstInput === this.inputsOffset) {
      if (this.base !== undefined) return hexToBytes(this.base.header.root);
      this.genesisRoot ??= computeStateRoot(createGenesisState(this.genesis)).slice();
      return this.genesisRoot;
    }
    const before = this.epochEnds.find((e) => e.lastInput === end.firstInput - 1);
    if (before === undefined) {
      throw new PrunedInputsError(
        `No end of an epoch right before epoch ${end.epoch}'s first input (${end.firstInput}) since the L2 journal's base`,
      );
    }
    return hexToBytes(before.root);
  }

  /**
   * What `end`'s tape is rebuilt from (tape-recipe.ts), without rebuilding it: a game's honest run does
   * that on a thread of its own. The reference executor's only: a recipe names no other.
   */
  tapeRecipe(end: EpochEnd): TapeRecipe {
    if (this.executor !== REFERENCE_EXECUTOR) {
      throw new VigilError(`Epoch ${end.epoch}'s tape: a recipe rebuilds with the reference executor only`);
    }
    return {
      epoch: end.epoch,
      base: this.base?.deflated,
      genesis: this.genesis,
      prior: this.feedBefore(end),
      inputs: this.inputsSlice(end.firstInput, end.lastInput + 1),
      preRoot: this.rootBefore(end),
    };
  }

  /**
   * A base at the end of `epoch`: the state right after its endEpoch, rebuilt from the current base
   * (or genesis) and the inputs since, checked against the root ingestion computed there. The epoch's
   * end must be one this derivation applied.
   */
  baseAt(epoch: bigint): JournalBase {
    const end = this.epochEnds.find((e) => e.epoch === epoch);
    const entry = this.endEntries.get(epoch);
    if (end === undefined || entry === undefined) {
      throw new VigilError(
        `No end of epoch ${epoch} since the L2 journal's base: no base can be taken there`,
      );
    }
    const state = this.startingState();
    const feed: GovernanceInput[] = [];
    for (let i = this.inputsOffset; i <= end.lastInput; i++) {
      if (!this.overruled.has(i)) feed.push(this.inputs[i - this.inputsOffset] as GovernanceInput);
    }
    if (feed.length > 0) reexecute(feed, { state, executor: this.executor });
    const root = `0x${bytesToHex(computeStateRoot(state))}`;
    if (root !== end.root) {
      throw new VigilError(
        `Rebuilding the state at the end of epoch ${epoch} reached ${root}, ingestion ${end.root}`,
      );
    }
    const header: BaseHeader = { version: 1, epoch: epoch.toString(), inputIndex: end.lastInput + 1, root };
    return {
      block: end.block,
      hash: end.blockHash as JournalBase['hash'],
      entries: entry + 1,
      data: encodeBaseData(header, encodeStateSnapshot(state)),
    };
  }

  /**
   * Forgets what `base` (stored by the journal) holds: the inputs before it, and the epoch ends,
   * commitments and parameters of the epochs at or before its epoch. A base older than the current one
   * changes nothing.
   */
  prune(base: JournalBase): void {
    const decoded = decodeBaseData(base.data);
    const drop = decoded.header.inputIndex - this.inputsOffset;
    if (drop <= 0 || drop > this.inputs.length) return;
    // In place: a reader that holds the array sees the same feed, shifted.
    this.inputs.splice(0, drop);
    this.inputsOffset = decoded.header.inputIndex;
    this.base = hold(decoded);
    const epoch = decoded.epoch;
    this.epochEnds = this.epochEnds.filter((e) => e.epoch > epoch);
    for (const e of [...this.commitments.keys()]) if (e <= epoch) this.commitments.delete(e);
    for (const e of [...this.epochParams.keys()]) if (e <= epoch) this.epochParams.delete(e);
    for (const e of [...this.endEntries.keys()]) if (e <= epoch) this.endEntries.delete(e);
    for (const i of [...this.overruled]) if (i < this.inputsOffset) this.overruled.delete(i);
  }
}
