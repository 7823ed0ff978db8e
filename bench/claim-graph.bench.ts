/**
 * One claim graph with its games (#15 acceptance 5, docs/protocol.md §24.6, src/dispute/game/claim-graph.ts)
 * at mainnet's shape (n = 32, K = 29, t = 72) with W challengers (`VIGIL_BENCH_CLAIM_W`, default 8; W_max
 * is 32 on mainnet): the transactions and presigned inputs of the whole claim, its published document's
 * size, the time to build it from the keys (the operator; the keys' derivation apart), to presign it (one
 * covenant member) and to import it (parse, check, rebuild every game, verify every presignature; baseline:
 * W times one game's rebuild and presignature check, measured in the same run), and the weight of each of
 * the claim's own transactions with its largest witness.
 */
import { utf8 } from '../src/core/bytes.ts';
import { claimDocumentHash, claimGraphToDocument } from '../src/dispute/game/claim-document.ts';
import { buildClaimGraph, type ClaimGraph } from '../src/dispute/game/claim-graph.ts';
import { importClaimGraph } from '../src/dispute/game/claim-import.ts';
import { buildGameGraph } from '../src/dispute/game/game-graph.ts';
import { collectGamePresignatures, type PresignedTxs, presignGame } from '../src/dispute/game/game-spend.ts';
import { MAINNET_SEARCH, roundBits } from '../src/dispute/game/grid.ts';
import { claimExpectationsOf, makeClaimFixture } from '../testkit/dispute/claim-fixture.ts';
import { type BenchFigure, type Benchmark, withRatio } from './harness.ts';

const SHAPE = MAINNET_SEARCH;
const T = 72;
const TIMELOCKS = {
  challenge: 432,
  assertWindow: 864,
  move: T,
  payout: (4 * roundBits(SHAPE).length + 4) * T,
  bondRefund: 1_008,
};
const VALUES = { stake: 200_000_000n, reserve: 600_000n, bond: 10_000_000n };

function challengers(): number {
  const raw = process.env.VIGIL_BENCH_CLAIM_W;
  const w = raw === undefined ? 8 : Number(raw);
  if (!Number.isInteger(w) || w < 1 || w > 32) throw new Error('VIGIL_BENCH_CLAIM_W must be 1..32');
  return w;
}

const kindOf = (id: string): string => id.replace(/:.*$/, '');

async function claimFigures(): Promise<BenchFigure[]> {
  const W = challengers();
  const t0 = performance.now();
  const fx = makeClaimFixture({
    shape: SHAPE,
    network: 'mainnet',
    challengers: W,
    timelocks: TIMELOCKS,
    values: VALUES,
    maxChallengers: 32,
  });
  const keysMs = performance.now() - t0;
  const t1 = performance.now();
  const graph = buildClaimGraph(fx.spec);
  const buildMs = performance.now() - t1;

  const sets: PresignedTxs[] = [graph, ...graph.games];
  const t2 = performance.now();
  const members = fx.secrets.covenant.map((s) => sets.map((set) => presignGame(set, s)));
  const presignMs = (performance.now() - t2) / fx.secrets.covenant.length;
  const collect = (k: number) =>
    collectGamePresignatures(
      sets[k] as PresignedTxs,
      members.map((m) => m[k] as Uint8Array[]),
    );
  const document = claimGraphToDocument(graph, {
    claim: collect(0),
    games: graph.games.map((_, w) => collect(1 + w)),
  });
  const text = JSON.stringify(document);

  // Baseline: one game rebuilt from a copy of its spec (nothing cached) and its presignatures checked, W times.
  const game = graph.games[0] as ClaimGraph['games'][number];
  const t3 = performance.now();
  const again = buildGameGraph({ ...game.spec }, game.outpoints);
  collectGamePresignatures(
    again,
    members.map((m) => m[1] as Uint8Array[]),
  );
  const oneGameMs = performance.now() - t3;

  const t4 = performance.now();
  importClaimGraph(text, {
    ...claimExpectationsOf(fx.spec, { value: graph.claim.value, script: graph.claim.output.scriptPubKey }),
    commitment: claimDocumentHash(document),
  });
  const importMs = performance.now() - t4;

  const presigned = sets.reduce((n, s) => n + s.presigned.length, 0);
  const transactions = sets.reduce((n, s) => n + s.txs.size, 0);
  const heaviest = new Map<string, number>();
  for (const t of graph.txs.values())
    heaviest.set(kindOf(t.id), Math.max(heaviest.get(kindOf(t.id)) ?? 0, t.maxWeight));
  const figures: BenchFigure[] = [
    {
      name: 'dispute.claim.graph.challengers',
      value: W,
      unit: 'challengers W in this claim (VIGIL_BENCH_CLAIM_W; W_max = 32 on mainnet)',
    },
    {
      name: 'dispute.claim.graph.transactions',
      value: transactions,
      unit: `transactions in the claim and its games (${graph.txs.size} the claim's own)`,
    },
    {
      name: 'dispute.claim.graph.presignedInputs',
      value: presigned,
      unit: `inputs each covenant member presigns (${graph.presigned.length} the claim's own)`,
    },
    {
      name: 'dispute.claim.graph.documentBytes',
      value: utf8(text).length,
      unit: 'bytes of the published document (keys, outpoints, presignatures of 3 members)',
    },
    {
      name: 'dispute.claim.graph.keysMs',
      value: Math.round(keysMs),
      unit: 'ms to derive both sides’ Winternitz keys of every game (the operator’s and each challenger’s)',
    },
    {
      name: 'dispute.claim.graph.buildMs',
      value: Math.round(buildMs),
      unit: 'ms for the operator to build the claim and every game from the keys',
    },
    {
      name: 'dispute.claim.graph.presignMs',
      value: Math.round(presignMs),
      unit: 'ms for one covenant member to presign the claim and every game',
    },
    withRatio({
      name: 'dispute.claim.graph.importMs',
      value: Math.round(importMs),
      unit: 'ms to import the document: parse, check, rebuild every game, verify every presignature (baseline: W × one game rebuilt and checked)',
      baseline: Math.round(W * oneGameMs),
    }),
  ];
  for (const [kind, weight] of [...heaviest].sort()) {
    figures.push(
      withRatio({
        name: `dispute.claim.graph.weight.${kind}`,
        value: weight,
        unit: 'WU with its largest witness (baseline: the 400,000 WU standard limit)',
        baseline: 400_000,
      }),
    );
  }
  return figures;
}

export const benchmarks: Benchmark[] = [{ name: 'dispute.claim.graph', run: claimFigures }];
