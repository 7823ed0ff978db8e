/**
 * A stand-alone watch daemon for the crash, Redis-restart and two-daemon tests: the real watcher
 * (createWatcher, mode challenge, regtest) composed like `vigil watch` (a Redis component, then the
 * watcher, under runDaemon: SIGTERM stops it gracefully), against the parent's simnet over its RPC front.
 *
 * Configuration: the path of a JSON file (argv[2] or VIGIL_TEST_WATCHER) the parent writes, see
 * ChildConfig. The epoch source is static: the operator's graph document and the epoch's facts as the
 * parent computed them. Prints `started <wallet address>` once the watcher runs; logs JSON to stderr.
 */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { identityStepCircuit } from '../../circuits/identity.ts';
import { CoreRpcBackend } from '../../src/bitcoin/backends/core-rpc.ts';
import { addressForScript } from '../../src/bitcoin/codec/address.ts';
import { WalletKey } from '../../src/bitcoin/wallet/keys.ts';
import { exitCodeForDaemon, exitCodeForImmediateExit } from '../../src/cli/exit-codes.ts';
import { concatBytes, hexToBytes, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import { redisComponent } from '../../src/daemon/components.ts';
import { runDaemon } from '../../src/daemon/runtime.ts';
import { importGraph } from '../../src/dispute/graph/import.ts';
import { defaultGraphParameters } from '../../src/dispute/graph/parameters.ts';
import { HealthRegistry } from '../../src/observability/health.ts';
import { bullConnectionFromUrl } from '../../src/watcher/from-config.ts';
import { createWatcher, type EpochSource, type Watcher } from '../../src/watcher/watcher.ts';

/** What the parent writes for a child (hex for bytes, decimal strings for bigints). */
export type ChildConfig = {
  rpcUrl: string;
  rpcAuth: { user: string; password: string };
  redisUrl: string;
  prefix: string;
  pollIntervalMs: number;
  /** The label WATCHER_KEY in testkit/queue/scenario.ts is derived from. */
  walletLabel: string;
  graph: { document: string; epoch: string; operator: string; committee: string[] };
  facts: {
    modelRoot: string;
    l2: { inputsFinal: boolean; behind: boolean; epochEndBlockHash?: string };
  };
};

const path = process.argv[2] ?? process.env.VIGIL_TEST_WATCHER;
if (!path) throw new Error('watcher-child: pass the config file path (argv[2] or VIGIL_TEST_WATCHER)');
const config = JSON.parse(readFileSync(path, 'utf8')) as ChildConfig;

const logger = pino(
  { level: process.env.VIGIL_TEST_CHILD_LOG ?? 'info', base: { pid: process.pid } },
  pino.destination(2),
);
const health = new HealthRegistry();
const registry = new Registry();
const backend = new CoreRpcBackend({
  url: config.rpcUrl,
  auth: config.rpcAuth,
  retry: { attempts: 2, baseDelayMs: 10 },
});
const walletKey = WalletKey.fromBytes(sha256(utf8(config.walletLabel)));
const walletAddress = addressForScript(
  concatBytes(Uint8Array.from([0x51, 0x20]), walletKey.taprootOutputKey),
  'regtest',
);
const epoch = BigInt(config.graph.epoch);
const expectations = {
  network: 'regtest' as const,
  params: defaultGraphParameters.regtest,
  circuit: identityStepCircuit,
  operator: hexToBytes(config.graph.operator),
  committee: config.graph.committee.map((c) => hexToBytes(c)),
};
const source: EpochSource = {
  graphs: async () => [importGraph(config.graph.document, { ...expectations, epoch })],
  facts: async (e) => ({
    reexecution:
      e === epoch
        ? { complete: true, root: hexToBytes(config.facts.modelRoot) }
        : { complete: false, reason: `the static source knows epoch ${epoch} only` },
    l2: {
      inputsFinal: config.facts.l2.inputsFinal,
      behind: config.facts.l2.behind,
      ...(config.facts.l2.epochEndBlockHash === undefined
        ? {}
        : { epochEndBlockHash: hexToBytes(config.facts.l2.epochEndBlockHash) }),
      commitment: { status: 'missing' },
    },
  }),
};

const redis = redisComponent({ url: config.redisUrl, role: 'command', health, logger });
let watcher: Watcher | undefined;
const outcome = await runDaemon({
  exitNow: (why) => process.exit(exitCodeForImmediateExit(why)),
  components: [
    redis,
    {
      name: 'watcher',
      start: async () => {
        watcher = createWatcher({
          redis: redis.client(),
          prefix: config.prefix,
          connection: bullConnectionFromUrl(config.redisUrl),
          backend,
          network: 'regtest',
          mode: 'challenge',
          allowMainnetSpending: false,
          walletKey,
          expectations,
          source,
          fees: { targetBlocks: 2, maxFeeRateSatVb: 50 },
          bitcoinConfirmations: 1,
          l2Confirmations: 1,
          pollIntervalMs: config.pollIntervalMs,
          deadlineMarginBlocks: 2,
          registry,
          health,
          logger,
        });
        await watcher.start();
        process.stdout.write(`started ${walletAddress}\n`);
      },
      stop: async (signal: AbortSignal) => {
        await watcher?.stop(signal);
      },
    },
  ],
  graceMs: 30_000, // the daemon's default (shutdown.graceMs)
  logger,
  health,
});
const code = exitCodeForDaemon(outcome);
process.stdout.write(`stopped ${code}\n`);
process.exit(code);
