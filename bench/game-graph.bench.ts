/**
 * One game's transactions (#15 acceptance 5, docs/protocol.md §24.6, src/dispute/game/game-graph.ts) at
 * mainnet's shape (n = 32, K = 29, t = 72): how many transactions and presigned inputs a game holds, the
 * script its outputs carry, the time to derive the keys and build it (the operator), to rebuild it from
 * the keys (an import; baseline: building its leaves alone), to presign it (one covenant member) and to
 * check the covenant's presignatures (an import, 3 members), the weight of each kind of transaction with
 * its largest witness, the fees of the longest game at 1 sat/vB (what the bond and reserves must cover),
 * and the worst case in moves and blocks. A claim holds one game per registered challenger (W ≤ 32).
 */
import { buildGameGraph, type GameGraph } from '../src/dispute/game/game-graph.ts';
import { collectGamePresignatures, presignGame } from '../src/dispute/game/game-spend.ts';
import { MAINNET_SEARCH, roundBits } from '../src/dispute/game/grid.ts';
import { gameOutputLeaves } from '../src/dispute/game/output-leaves.ts';
import { makeGameFixture, placeholderOutpoints } from '../testkit/dispute/game-fixture.ts';
import { type BenchFigure, type Benchmark, withRatio } from './harness.ts';

const SHAPE = MAINNET_SEARCH;
const T = 72;
const TIMELOCKS = {
  move: T,
  payout: (4 * roundBits(SHAPE).length + 4) * T,
  assertWindow: 864,
  bondRefund: 1_008,
};

/** The kind of a game transaction, for the weight table: its move without round or branch. */
const kindOf = (id: string): string =>
  id
    .replace(/^(read|tape)\//, '')
    .replace(/^(slash|timeout):.*/, '$1')
    .replace(/\d+$/, '');

/** The fees along the longest path (the first search, the read's second search to reveal′, and the slash). */
function longestPathFees(g: GameGraph): bigint {
  let fees = 0n;
  let id: string | undefined = 'read/reveal′';
  while (id !== undefined) {
    const node = g.nodes.get(id);
    fees += g.txs.get(id)?.fee ?? 0n;
    id = node?.parent;
  }
  return fees + (g.txs.get('slash:read/reveal′')?.fee ?? 0n);
}

async function graphFigures(): Promise<BenchFigure[]> {
  const t0 = performance.now();
  const fx = makeGameFixture({ shape: SHAPE, timelocks: TIMELOCKS });
  const g = buildGameGraph(fx.spec, placeholderOutpoints());
  const buildMs = performance.now() - t0;
  // A copy of the spec, as an import parses one: nothing cached from the operator's build.
  const t2 = performance.now();
  gameOutputLeaves({ ...fx.spec });
  const leavesMs = performance.now() - t2;
  const t1 = performance.now();
  buildGameGraph({ ...fx.spec }, placeholderOutpoints());
  const rebuildMs = performance.now() - t1;
  const t3 = performance.now();
  const perMember = fx.secrets.covenant.map((s) => presignGame(g, s));
  const presignMs = (performance.now() - t3) / fx.secrets.covenant.length;
  const t4 = performance.now();
  collectGamePresignatures(g, perMember);
  const checkMs = performance.now() - t4;

  let scriptBytes = 0;
  let leaves = 0;
  const outputs = [
    g.reserve,
    g.bond,
    g.stake,
    ...[...g.nodes.values()].flatMap((n) => [n.pot, ...n.connectors]),
  ];
  for (const o of outputs) {
    leaves += o.leaves.length;
    for (const l of o.leaves) scriptBytes += l.script.length;
  }
  const heaviest = new Map<string, number>();
  for (const t of g.txs.values()) {
    const k = kindOf(t.id);
    heaviest.set(k, Math.max(heaviest.get(k) ?? 0, t.maxWeight));
  }
  const R = roundBits(SHAPE).length;
  const figures: BenchFigure[] = [
    {
      name: 'dispute.game.graph.transactions',
      value: g.txs.size,
      unit: `transactions in one game (${g.nodes.size} moves)`,
    },
    {
      name: 'dispute.game.graph.presignedInputs',
      value: g.presigned.length,
      unit: 'inputs the covenant presigns, each by every member',
    },
    {
      name: 'dispute.game.graph.scriptBytes',
      value: scriptBytes,
      unit: `bytes of leaf script in ${leaves} leaves over every output of one game`,
    },
    {
      name: 'dispute.game.graph.buildMs',
      value: Math.round(buildMs),
      unit: 'ms to derive both signers’ keys and build one game (the operator)',
    },
    withRatio({
      name: 'dispute.game.graph.rebuildMs',
      value: Math.round(rebuildMs),
      unit: 'ms to rebuild one game from its keys, as an import does (baseline: its leaves alone)',
      baseline: Math.round(leavesMs),
    }),
    {
      name: 'dispute.game.graph.presignMs',
      value: Math.round(presignMs),
      unit: 'ms for one covenant member to presign one game',
    },
    {
      name: 'dispute.game.graph.checkMs',
      value: Math.round(checkMs),
      unit: `ms to check the presignatures of one game (${fx.secrets.covenant.length} members), as an import does`,
    },
    {
      name: 'dispute.game.graph.longestGameFees',
      value: Number(longestPathFees(g)),
      unit: 'sats of presigned fees on the longest game at 1 sat/vB (the bond and reserves must cover them)',
    },
    {
      name: 'dispute.game.graph.worstMoves',
      value: 4 * R + 3,
      unit: `moves after the assert in the longest game, the slash included (R = ${R})`,
    },
    {
      name: 'dispute.game.graph.worstBlocks',
      value: (4 * R + 4) * T,
      unit: `blocks from the assert to D's payout, which the longest game must fit (t = ${T})`,
    },
  ];
  for (const [kind, weight] of [...heaviest].sort()) {
    figures.push(
      withRatio({
        name: `dispute.game.graph.weight.${kind.replace(/[^a-z0-9′]+/gi, '-')}`,
        value: weight,
        unit: 'WU with its largest witness (baseline: the 400,000 WU standard limit)',
        baseline: 400_000,
      }),
    );
  }
  return figures;
}

export const benchmarks: Benchmark[] = [{ name: 'dispute.game.graph', run: graphFigures }];
