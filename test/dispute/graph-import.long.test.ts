import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identityStepCircuit } from '../../circuits/identity.ts';
import { type GraphDocument, graphToDocument } from '../../src/dispute/graph/document.ts';
import { GraphImportError } from '../../src/dispute/graph/errors.ts';
import { importGraph } from '../../src/dispute/graph/import.ts';
import { defaultGraphParameters } from '../../src/dispute/graph/parameters.ts';
import { makeGraph, secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';

/** Many-run version of the mutation property: any single hex character changed anywhere is refused. */
describe('graph import under random mutation (long)', () => {
  it('refuses every mutated document over many runs and epochs', () => {
    for (const epoch of [1n, 2n, 1n << 40n]) {
      const fx = makeGraph({ epoch });
      const good = JSON.stringify(graphToDocument(fx.graph, fx.sigs));
      const exp = {
        network: 'regtest' as const,
        params: defaultGraphParameters.regtest,
        circuit: identityStepCircuit,
        operator: xOnly(secretOf('operator')),
        committee: [xOnly(secretOf('committee 1'))],
        epoch,
      };
      expect(importGraph(good, exp).graph.spec.epoch).toBe(epoch);
      // Every hex run of the document (transactions, signatures, keys, scripts) is a mutation target.
      const targets = [...good.matchAll(/"([0-9a-f]{40,})"/g)].map((m) => ({
        at: (m.index ?? 0) + 1,
        len: m[1]!.length,
      }));
      fc.assert(
        fc.property(
          fc.nat({ max: targets.length - 1 }),
          fc.nat(),
          fc.integer({ min: 1, max: 15 }),
          (t, pos, delta) => {
            const target = targets[t]!;
            const i = target.at + (pos % target.len);
            const ch = ((Number.parseInt(good[i]!, 16) + delta) % 16).toString(16);
            const mutated = JSON.parse(good.slice(0, i) + ch + good.slice(i + 1)) as GraphDocument;
            expect(() => importGraph(mutated, exp)).toThrow(GraphImportError);
          },
        ),
        { numRuns: 300 },
      );
    }
  });
});
