/**
 * Re-executes the feed up to one epoch end with the payout ledger on for that end only, so the account
 * report (account.ts) can say what each account was credited and prove it against the epoch's root. Pure:
 * the inputs come from the caller (the derivation or an inputs file).
 *
 * Two states matter: the one right after the endEpoch (the root the operator commits, the proofs) and the
 * one at the end of that L2 block (what eth_call at the epoch-end block reads). They differ only when inputs
 * of the next epoch share the endEpoch's block; `blockTail` says how many.
 */
import { VigilError, type VigilErrorCategory } from '../core/errors.ts';
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
import type { PayoutLedger } from '../governance/state.ts';

/** The epoch end asked for is not one: an index out of range, an input that is no accepted endEpoch. */
export class EpochReplayError extends VigilError {
  override name = 'EpochReplayError';
  override readonly category: VigilErrorCategory = 'usage';
}

export type EpochReplayParameters = {
  genesis: GenesisOptions;
  /** Every input in chain order, reverted ones included (`GovernanceDerivation.inputs`). */
  inputs: readonly GovernanceInput[];
  /** Indices the chain overruled (`GovernanceDerivation.overruledInputs`): left out, as the derivation does. */
  overruled?: ReadonlySet<number>;
  /** The epoch's first input (`EpochEnd.firstInput`); only checked for consistency. */
  firstInput: number;
  /** The epoch's endEpoch (`EpochEnd.lastInput`). */
  lastInput: number;
  /** The reference unless told otherwise (a faulty executor explains what a faulty operator computed). */
  executor?: Executor;
};

export type EpochReplay = {
  /** The epoch that ended. */
  epoch: bigint;
  /** The state right after the endEpoch (owned by the caller; mutating it changes nothing else). */
  state: GovernanceState;
  /** The credits of this epoch end, in the order endEpoch made them. */
  ledger: PayoutLedger;
  /** The state root right after the endEpoch. */
  root: Uint8Array;
  /** Inputs after the endEpoch in the same L2 block (overruled ones excluded): 0 when both states agree. */
  blockTail: number;
};

/** The state right after `inputs[lastInput]` (an endEpoch) and that epoch end's payout ledger. */
export function replayToEpochEnd(p: EpochReplayParameters): EpochReplay {
  const { state, ledger } = replay(p, p.lastInput);
  const overruled = p.overruled ?? new Set<number>();
  const block = (p.inputs[p.lastInput] as GovernanceInput).position.block;
  let blockTail = 0;
  for (let i = p.lastInput + 1; i < p.inputs.length; i++) {
    if ((p.inputs[i] as GovernanceInput).position.block !== block) break;
    if (!overruled.has(i)) blockTail++;
  }
  return { epoch: state.epoch - 1n, state, ledger, root: computeStateRoot(state), blockTail };
}

/**
 * The state at the end of the endEpoch's L2 block: what the contracts hold at that block number, for the
 * chain comparison (account-chain.ts). Its ledger is the same epoch end's.
 */
export function replayToBlockEnd(p: EpochReplayParameters): { state: GovernanceState; ledger: PayoutLedger } {
  const block = (p.inputs[p.lastInput] as GovernanceInput)?.position.block;
  let last = p.lastInput;
  while (last + 1 < p.inputs.length && (p.inputs[last + 1] as GovernanceInput).position.block === block)
    last++;
  return replay(p, last);
}

function replay(p: EpochReplayParameters, through: number): { state: GovernanceState; ledger: PayoutLedger } {
  const { inputs, firstInput, lastInput } = p;
  const overruled = p.overruled ?? new Set<number>();
  const executor = p.executor ?? REFERENCE_EXECUTOR;
  if (!Number.isInteger(lastInput) || lastInput < 0 || lastInput >= inputs.length) {
    throw new EpochReplayError(`lastInput ${lastInput} is outside the feed (${inputs.length} inputs)`);
  }
  if (!Number.isInteger(firstInput) || firstInput < 0 || firstInput > lastInput) {
    throw new EpochReplayError(`firstInput ${firstInput} is not in [0, lastInput ${lastInput}]`);
  }
  const end = inputs[lastInput] as GovernanceInput;
  if (end.kind !== 'endEpoch') {
    throw new EpochReplayError(`input ${lastInput} is a ${end.kind}, not an endEpoch`);
  }
  if (overruled.has(lastInput)) {
    throw new EpochReplayError(`input ${lastInput} (an endEpoch) was overruled by the chain`);
  }
  const state = createGenesisState(p.genesis);
  const ledger: PayoutLedger = [];
  for (let i = 0; i <= through; i++) {
    if (overruled.has(i)) continue;
    const input = inputs[i] as GovernanceInput;
    // The ledger observes this epoch's end only: earlier ends would mix in other epochs' credits.
    if (i === lastInput) state.payouts = ledger;
    const out = applyInput(state, input, executor);
    if (i === lastInput) {
      state.payouts = undefined;
      if (!out.accepted) {
        throw new EpochReplayError(`the endEpoch at input ${lastInput} is rejected: ${out.reason}`, {
          metaMessages: [`Rule: ${out.rejectedBy}`],
        });
      }
    }
  }
  return { state, ledger };
}
