/**
 * What the served devnet's L2 clock hands each ended epoch to: the operator's Bitcoin side, of Part II's
 * graph or of the narrowing game. The L2 clock commits the root the claimer says (before it is claimed
 * on Bitcoin, so the L2 and Bitcoin reveal the same root) and then queues the claim.
 */
import type { Executor } from '../governance/index.ts';
import type { GenesisOptions } from '../governance/state.ts';
import type { EpochEnd, GovernanceDerivation } from '../l2/derivation.ts';
import { wordBytes } from '../machine/isa.ts';
import { isProgramFault, type ProgramFault } from '../machine/programs/faults.ts';
import { claimedRootOf, GameEpochWalk } from './game-epochs.ts';
import { DEVNET_PARAMS } from './run-context.ts';
import { ClaimWalk, type OperatorEpochClaim, rootHex } from './serve-claims.ts';
import type { ServedGameOperator } from './serve-game-operator.ts';

/** One ended epoch's claim, as the L2 clock commits it. */
export type L2EpochClaim = {
  /** The root the operator commits. */
  readonly root: `0x${string}`;
  /** The root is not the model's. */
  readonly fraud: boolean;
  /** Hands the claim to the Bitcoin side. */
  queue(): void;
};

export type EpochClaimer = {
  /** Whether `epoch` needs nothing more from the L2 clock: claimed on Bitcoin already, or in hand. */
  has(epoch: bigint): boolean;
  /** The claim of `end` with `executor` (the reference, or a catalogue fault's). */
  claim(end: EpochEnd, derivation: GovernanceDerivation, executor: Executor): L2EpochClaim;
  /** Claims handed over and not on Bitcoin yet: the L2 clock slows down while this is above `maxBacklog`. */
  backlog(): number;
  readonly maxBacklog: number;
};

/**
 * Part II's: each claim walks the reference state forward (serve-claims.ts); the Bitcoin clock takes
 * them from `pending`, up to 20 a block. `claimed`: the epochs the ledger holds.
 */
export function part2Claimer(
  genesis: GenesisOptions,
  claimed: (epoch: bigint) => boolean,
): EpochClaimer & { readonly pending: OperatorEpochClaim[] } {
  const walk = new ClaimWalk(genesis, DEVNET_PARAMS.traceSteps);
  const pending: OperatorEpochClaim[] = [];
  return {
    pending,
    has: claimed,
    claim(end, derivation, executor) {
      const c = walk.claim(derivation.inputs, end, executor);
      return { root: rootHex(c.stateRoot), fraud: c.fraud, queue: () => pending.push(c) };
    },
    backlog: () => pending.length,
    // Part II's Bitcoin clock keeps up with the L2's (a soak runs 5 ms L2 blocks): never held back.
    maxBacklog: Number.POSITIVE_INFINITY,
  };
}

/** Claims handed to the game operator and not kicked off, above which the L2 clock slows down. */
const GAME_MAX_BACKLOG = 16;

/**
 * The game's: the root the operator's build of the governance program halts on (the catalogue fault's
 * build when the executor is one), handed to the game operator with that fault.
 */
export function gameClaimer(operator: ServedGameOperator): EpochClaimer {
  const walk = new GameEpochWalk();
  return {
    has: (epoch) => operator.has(epoch),
    claim(end, derivation, executor) {
      const e = walk.epoch(derivation, end);
      let fault: ProgramFault = isProgramFault(executor.name) ? executor.name : undefined;
      let root: bigint;
      try {
        root = claimedRootOf(e, fault);
      } catch (err) {
        // The faulty build never halts (within 2^23 steps): it has no root to claim, so the operator
        // commits and claims the model's root, and says why. (A build that halts past the search's 2^K
        // steps claims its root: the game plays its first 2^K steps.)
        operator.note(
          `epoch ${e.epoch}: the ${fault} build cannot be claimed in the game (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); the honest root is committed instead`,
        );
        fault = undefined;
        root = e.honestRoot;
      }
      return {
        root: rootHex(wordBytes(root)),
        fraud: root !== e.honestRoot,
        queue: () => operator.offer(e, fault ?? 'none'),
      };
    },
    backlog: () => operator.backlog(),
    maxBacklog: GAME_MAX_BACKLOG,
  };
}
