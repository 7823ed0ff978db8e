/**
 * The operator strategies `vigil devnet --operator <name>` knows: the two honest-to-the-protocol
 * behaviours and every attack of a dishonest operator, each with its one-line doc and what the run must
 * end with (`expect`, checked by the summary).
 */
import { VigilError, type VigilErrorCategory } from '../../core/errors.ts';
import { devnetGraphParameters } from '../operator-graph.ts';
import { equivocationStrategy } from './equivocation.ts';
import { fakeConfirmationsStrategy, feeSpikeStrategy } from './fee-spike.ts';
import { graphLateStrategy, graphMalformedStrategy, graphOversizeStrategy } from './graph-publication.ts';
import { assertStrategy, neverAssertStrategy } from './honest.ts';
import { garbageStrategy, hideSpendsStrategy } from './lying-backend.ts';
import { pinStrategy } from './pin.ts';
import { stripAndStealStrategy } from './strip-and-steal.ts';
import { assertLastBlockStrategy, takeFirstBlockStrategy } from './timing.ts';
import type { OperatorStrategy } from './types.ts';
import { wrongRootStrategy } from './wrong-root.ts';

export type { ExpectedEnd, OperatorStrategy } from './types.ts';

export class UnknownStrategyError extends VigilError {
  override name = 'UnknownStrategyError';
  override readonly category: VigilErrorCategory = 'usage';
}

export const STRATEGIES: readonly OperatorStrategy[] = [
  assertStrategy,
  neverAssertStrategy,
  stripAndStealStrategy,
  pinStrategy,
  takeFirstBlockStrategy,
  assertLastBlockStrategy,
  ...Array.from({ length: devnetGraphParameters.traceSteps }, (_, i) => wrongRootStrategy(i)),
  equivocationStrategy,
  graphMalformedStrategy,
  graphOversizeStrategy,
  graphLateStrategy,
  feeSpikeStrategy,
  hideSpendsStrategy,
  fakeConfirmationsStrategy,
  garbageStrategy,
];

export function strategyByName(name: string): OperatorStrategy {
  const s = STRATEGIES.find((x) => x.name === name);
  if (!s) {
    throw new UnknownStrategyError(`Unknown operator strategy "${name}"`, {
      metaMessages: ['Known strategies:', ...STRATEGIES.map((x) => `  ${x.name} — ${x.doc}`)],
    });
  }
  return s;
}
