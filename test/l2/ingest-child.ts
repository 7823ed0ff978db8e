/**
 * A stand-alone ingester process for the restart tests: it ingests until killed. Configuration comes in
 * VIGIL_TEST_INGEST (journal-codec JSON: rpcUrl, prefix, deployment).
 */
import { Redis } from 'ioredis';
import type { Deployment } from '../../src/l2/deploy.ts';
import { createGovernanceIngester } from '../../src/l2/governance-ingester.ts';
import { decodeJournal } from '../../src/l2/journal-codec.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';

type Config = { rpcUrl: string; prefix: string; deployment: Deployment };
const config = decodeJournal<Config>(process.env.VIGIL_TEST_INGEST ?? '');
const redis = new Redis({ host: '127.0.0.1', port: 6379 });
const gi = createGovernanceIngester({
  rpc: new L2Rpc({ urls: [config.rpcUrl] }),
  redis,
  prefix: config.prefix,
  deployment: config.deployment,
  maxRange: 9n,
  pollIntervalMs: 20,
  onEpochEnd: (end, check) => {
    process.stdout.write(`epoch ${end.epoch} at ${end.block} ${check?.ok ? 'ok' : 'MISMATCH'}\n`);
  },
});
process.stdout.write('started\n');
await gi.ingester.run();
