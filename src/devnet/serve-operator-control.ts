/**
 * The served operator's control as the serving process reads it: checked before it is used. A control
 * file that cannot be read, or names a fault or strategy that does not exist or cannot be served, is
 * told once and the last good control stays in force: a bad edit never stops a running network.
 */
import { VigilError } from '../core/errors.ts';
import { executorByName } from '../governance/index.ts';
import { isProgramFault, PROGRAM_FAULTS } from '../machine/programs/faults.ts';
import type { GameOperatorBehaviour } from './game-operator.ts';
import { gameBehaviour } from './game-strategies.ts';
import { readControl, type ServeControl, type ServeDirPaths } from './serve-dir.ts';
import { type OperatorStrategy, strategyByName } from './strategies/index.ts';

export class UnservableStrategyError extends VigilError {
  override name = 'UnservableStrategyError';
}

/** The strategy the control names; one that needs the watcher in this process cannot be served. */
export function servedStrategy(control: ServeControl): OperatorStrategy {
  const strategy = strategyByName(control.strategy);
  if (strategy.watcherBackend) {
    throw new UnservableStrategyError(
      `The operator strategy ${strategy.name} lies to the watcher through its Bitcoin backend; a served devnet's watcher is a separate process`,
    );
  }
  return strategy;
}

/**
 * The game behaviour the control names (`serve --game`). The fee-market strategies and the lying
 * backends need one run's market or the watcher's backend, which a served devnet does not own.
 */
export function servedGameBehaviour(control: ServeControl): GameOperatorBehaviour {
  const b = gameBehaviour(control.strategy);
  if (b.lyingBackend !== undefined) {
    throw new UnservableStrategyError(
      `The operator strategy ${control.strategy} lies to the watcher through its Bitcoin backend; a served devnet's watcher is a separate process`,
    );
  }
  if (b.feeSpike === true || b.stallAt !== undefined) {
    throw new UnservableStrategyError(
      `The operator strategy ${control.strategy} moves the fee market around one run's games; play it with vigil devnet --operator ${control.strategy}`,
    );
  }
  return b;
}

/**
 * Throws what is wrong with `control` (an unknown fault, an unknown or unservable strategy) for a
 * network of Part II's graph, or of the game (`game`: only the program's faults, and game strategies).
 */
export function checkControl(control: ServeControl, game: boolean): void {
  if (!game) {
    if (control.fault !== 'none') executorByName(control.fault);
    servedStrategy(control);
    return;
  }
  if (control.fault !== 'none' && !isProgramFault(control.fault)) {
    throw new UnservableStrategyError(
      `The game plays the faults compiled into the governance program, not ${control.fault}: ${PROGRAM_FAULTS.join(', ')}`,
    );
  }
  servedGameBehaviour(control);
}

export class ControlWatch {
  #good: ServeControl;
  #lastRefusal: string | undefined;

  /** Reads the control at start: one that is wrong there is an error (nothing runs yet). */
  constructor(
    private readonly paths: ServeDirPaths,
    private readonly say: (line: string) => void,
    /** A game network (`serve --game`). */
    private readonly game: boolean,
  ) {
    this.#good = readControl(paths);
    checkControl(this.#good, game);
  }

  /** The control in force now: the file's, or the last good one while the file's is wrong. */
  current(): ServeControl {
    try {
      const next = readControl(this.paths);
      if (JSON.stringify(next) !== JSON.stringify(this.#good)) {
        checkControl(next, this.game);
        this.#good = next;
      }
      this.#lastRefusal = undefined;
    } catch (err) {
      // The first line: the story is one line per event.
      const why = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
      if (why !== this.#lastRefusal) {
        this.#lastRefusal = why;
        this.say(
          `control.json refused (${why}); the operator keeps strategy ${this.#good.strategy}, fault ${this.#good.fault}`,
        );
      }
    }
    return this.#good;
  }
}
