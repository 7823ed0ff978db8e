/**
 * One Vigil process for the game crash tests (game-crash-harness.ts): it imports the claim from its
 * published document, as a restarted daemon would, starts a BullMQ worker that plays games through the
 * simnet's Esplora front, puts every unresolved game record back on the queue, and prints `started`. It
 * keeps nothing in memory that a SIGKILL could lose: the record in Redis and the chain are all it reads.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { EsploraBackend } from '../../src/bitcoin/backends/esplora.ts';
import type { GameMaterial } from '../../src/challenger/game-context.ts';
import { hexToBytes } from '../../src/core/bytes.ts';
import { claimDocumentHash } from '../../src/dispute/game/claim-document.ts';
import { claimOutput } from '../../src/dispute/game/claim-graph.ts';
import { importClaimGraph } from '../../src/dispute/game/claim-import.ts';
import { REGTEST_SEARCH } from '../../src/dispute/game/grid.ts';
import { GameStore } from '../../src/dispute/records/game-store.ts';
import { DisputeStore } from '../../src/dispute/records/store.ts';
import { DisputeQueue } from '../../src/queue/dispute-queue.ts';
import { claimExpectationsOf, fundedSpec, makeClaimFixture } from '../../testkit/dispute/claim-fixture.ts';
import { smallEpoch } from '../dispute/game/setup.ts';

export type GameChildConfig = {
  esploraUrl: string;
  redisUrl: string;
  prefix: string;
  documentPath: string;
  /** The funding transaction (internal byte order, hex): the claim output is vout 0, bond w vout 1 + w. */
  fundingTxid: string;
  challengers: number;
  trackEveryMs: number;
};

async function main(): Promise<void> {
  const config = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as GameChildConfig;
  const epoch = smallEpoch();
  const fx = makeClaimFixture({
    shape: REGTEST_SEARCH,
    challengers: config.challengers,
    agreedImageRoot: epoch.tape.imageRoot,
  });
  const funding = hexToBytes(config.fundingTxid);
  const spec = fundedSpec(
    fx,
    { txid: funding, vout: 0 },
    fx.spec.challengers.map((_, w) => ({ txid: funding, vout: 1 + w })),
  );
  const claim = claimOutput(spec);
  const text = readFileSync(config.documentPath, 'utf8');
  const imported = importClaimGraph(text, {
    ...claimExpectationsOf(spec, { value: claim.value, script: claim.output.scriptPubKey }),
    commitment: claimDocumentHash(JSON.parse(text)),
  });
  const material: GameMaterial = {
    claim: imported.graph,
    sigs: imported.sigs,
    honest: epoch.view,
    root: epoch.honest.result,
    keys: {
      secret: fx.secrets.challengers[0] as Uint8Array,
      sign: fx.sign.challenger[0] as GameMaterial['keys']['sign'],
    },
  };
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  const backend = new EsploraBackend({ baseUrl: config.esploraUrl, retry: { attempts: 2 } });
  const fees = { targetBlocks: 2, maxFeeRateSatVb: 2_000, fallbackSatVb: 1 };
  const queue = new DisputeQueue({
    connection: { host: '127.0.0.1', port: Number(new URL(config.redisUrl).port || 6379) },
    prefix: config.prefix,
    trackEveryMs: config.trackEveryMs,
    backoffMs: 50,
  });
  const games = new GameStore(redis, config.prefix);
  const common = {
    backend,
    mode: 'challenge' as const,
    network: 'regtest' as const,
    allowMainnetSpending: false,
    fees,
    confirmations: 1,
    metrics: undefined,
    logger: undefined,
  };
  const ctx = queue.bind({
    ...common,
    store: new DisputeStore(redis, config.prefix),
    graphOf: () => Promise.reject(new Error('this process plays games only')),
    wallet: undefined,
    prefix: config.prefix,
    redis,
  });
  const game = queue.bindGame({ ...common, store: games, materialOf: async () => material });
  queue.startWorker(ctx, { game });
  await queue.redriveGames((await games.listAll()).records);
  process.stdout.write('started\n');
  process.once('SIGTERM', () => {
    void queue.close().then(() => redis.quit().then(() => process.exit(0)));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `game child failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
