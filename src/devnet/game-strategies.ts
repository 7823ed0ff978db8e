/**
 * The operator strategies of a game devnet by name (`vigil devnet --operator <name>`), each the
 * `GameOperatorBehaviour` the operator plays: one table, so the names the command line takes, the list it
 * prints and the behaviours cannot drift apart.
 */
import { UsageError } from '../core/errors.ts';
import type { GameOperatorBehaviour } from './game-operator.ts';

const NAMED: Readonly<Record<string, GameOperatorBehaviour>> = {
  assert: {},
  'never-assert': { neverAssert: true },
  late: { late: true },
  'fee-spike': { feeSpike: true },
  'lying-backend-hide-spends': { lyingBackend: 'hide-spends' },
  'lying-backend-garbage': { lyingBackend: 'garbage' },
  'document-withheld': { document: 'withheld' },
  'document-malformed': { document: 'malformed' },
  'document-late': { document: 'late' },
};

/** Strategies that name one move of the game (`assert`, `answer2`, …, `reveal`). */
const AT_MOVE: Readonly<Record<string, (move: string) => GameOperatorBehaviour>> = {
  'silent-at': (move) => ({ silentAt: move }),
  'equivocate-at': (move) => ({ equivocateAt: move }),
  'stall-at': (move) => ({ stallAt: move }),
  'pin-at': (move) => ({ stallAt: move, pin: true }),
};

/** Every name `gameBehaviour` takes, as the usage message lists them. */
export const GAME_STRATEGY_NAMES: readonly string[] = [
  ...Object.keys(NAMED),
  ...Object.keys(AT_MOVE).map((k) => `${k}:<move>`),
];

/** The behaviour `name` stands for; a usage error listing the names for any other. */
export function gameBehaviour(name: string): GameOperatorBehaviour {
  const named = NAMED[name];
  if (named !== undefined) return { ...named };
  const at = /^([a-z-]+):([a-z0-9′/]+)$/.exec(name);
  const make = at?.[1] === undefined ? undefined : AT_MOVE[at[1]];
  if (make !== undefined && at?.[2] !== undefined) return make(at[2]);
  throw new UsageError(
    `--operator ${name} is not a game strategy: ${GAME_STRATEGY_NAMES.join(', ')} (a move is assert, answer2, …, reveal); the attacks on Part II's transactions run with --part2`,
  );
}
