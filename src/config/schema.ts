/**
 * The one configuration schema: everything the daemon takes, with its defaults.
 *
 * Objects are strict so a misspelt key is an error, not a silently ignored setting. Nested sections use
 * `prefault({})` so an absent section is parsed (and its defaults filled in) rather than replaced whole.
 * Secrets never appear here: only the name of an environment variable or the path of a file that holds
 * them (src/config/secrets.ts reads them when a component needs them).
 */

import { z } from 'zod';
import { DEFAULT_STEP_CIRCUIT_ID, STEP_CIRCUIT_IDS } from '../../circuits/index.ts';
import { bitcoinNetworks } from '../bitcoin/network.ts';
import { isClusterUrl, parseClusterUrl, RedisClusterUrlError } from '../store/cluster-url.ts';

/** The name of an environment variable: checked so that a pasted value (a key, a password) is refused. */
export const envVarName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'the NAME of an environment variable (A-Z, 0-9, _), never its value');

const filePath = z.string().min(1, 'a file path');
const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const milliseconds = z.number().int().positive();

/** Every bitcoin there will ever be, in sats: a larger amount is a typo. */
const MAX_SATS = 2_100_000_000_000_000;

const httpUrl = z.url({ protocol: /^https?$/, error: 'an http(s) URL' });
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'a 20-byte hex address (0x followed by 40 hex digits)');
/** A BIP340 x-only public key: public, so it belongs in the config (unlike any private key). */
const xOnlyKey = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'an x-only public key (64 hex digits, no 0x, no 02/03 prefix)');

/** A secret's source: exactly one of a file path or an environment variable name. */
export const secretSource = z
  .strictObject({
    file: filePath.optional().describe('path of a file holding the secret'),
    env: envVarName.optional().describe('name of an environment variable holding the secret'),
  })
  .refine((s) => (s.file === undefined) !== (s.env === undefined), {
    message: 'exactly one of file or env (key material itself never goes in the config)',
  });
export type SecretSource = z.infer<typeof secretSource>;

export const modes = ['watch', 'challenge', 'dry-run'] as const;
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const l2Contracts = z
  .strictObject({
    token: address.optional().describe('BTR token (ERC-20)'),
    staking: address.optional().describe('Staking contract'),
    governor: address.optional().describe('Governor contract'),
    paramRegistry: address.optional().describe('ParamRegistry contract'),
    epochManager: address.optional().describe('EpochManager contract'),
    stateCommitment: address.optional().describe('StateCommitment contract'),
    challengerRegistry: address
      .optional()
      .describe(
        'ChallengerRegistry contract: set, the watcher judges its claims and plays the narrowing game where Vigil posted a bundle (docs/protocol.md §24)',
      ),
  })
  .prefault({});

const l2 = z
  .strictObject({
    rpcUrls: z
      .array(httpUrl)
      .min(1, 'at least one RPC URL')
      .default(['http://127.0.0.1:8545'])
      .describe('L2 JSON-RPC URLs: the primary first, fallbacks after (comma-separated in env/flags)'),
    chainId: positiveInt.default(31337).describe('expected L2 chain id; a node reporting another is refused'),
    contracts: l2Contracts,
    startBlock: nonNegativeInt
      .default(0)
      .describe('first L2 block to ingest (the contracts’ deployment block)'),
    genesisFile: filePath
      .optional()
      .describe('governance genesis the contracts were deployed with (JSON, docs/inputs-format.md shape)'),
    confirmations: nonNegativeInt.default(12).describe('L2 blocks on top before a block is acted on'),
    retainEpochs: nonNegativeInt
      .default(256)
      .describe(
        'ended epochs whose inputs the L2 journal keeps behind the newest (older ones are pruned once judged for good; 0 keeps all)',
      ),
    pruneDepth: positiveInt
      .default(1000)
      .describe('L2 blocks an epoch end must be under before the journal is pruned past it'),
    maxClaimHoldBlocks: positiveInt
      .default(28_800)
      .describe(
        "longest a challenger registry's claim may stay open uncommitted (its bundleWindow + commitWindow, in L2 blocks) before a Vigil that posts bundles (mode challenge with keys.l2) refuses the registry: each such claim holds one of Vigil's bond coins that long",
      ),
    maxRange: positiveInt.default(2000).describe('largest eth_getLogs block range (shrinks on RPC limits)'),
    pollIntervalMs: milliseconds.default(2000).describe('how often to poll the L2 head'),
    requestTimeoutMs: milliseconds.default(10_000).describe('timeout of one L2 RPC request'),
    maxHeadAgeMs: milliseconds
      .default(120_000)
      .describe(
        '/healthz `l2` is 503 when no L2 sync completed, or the L2 head did not advance, for this long',
      ),
  })
  .prefault({});

const bitcoinAuth = z
  .strictObject({
    user: z.string().min(1).optional().describe('Core RPC user name'),
    passwordEnv: envVarName.optional().describe('name of the env variable holding the Core RPC password'),
    passwordFile: filePath.optional().describe('file holding the Core RPC password'),
    cookieFile: filePath.optional().describe('Core’s .cookie file (instead of user/password)'),
  })
  .superRefine((a, ctx) => {
    if (a.passwordEnv !== undefined && a.passwordFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['passwordFile'], message: 'one of passwordEnv or passwordFile' });
    }
    const hasPassword = a.passwordEnv !== undefined || a.passwordFile !== undefined;
    if (a.cookieFile !== undefined && (a.user !== undefined || hasPassword)) {
      ctx.addIssue({ code: 'custom', path: ['cookieFile'], message: 'either cookieFile or user/password' });
    }
    if (hasPassword && a.user === undefined) {
      ctx.addIssue({ code: 'custom', path: ['user'], message: 'a user name when a password is given' });
    }
  })
  .prefault({});

const bitcoin = z
  .strictObject({
    backend: z.enum(['core-rpc', 'esplora']).default('core-rpc').describe('core-rpc | esplora'),
    url: httpUrl.default('http://127.0.0.1:18443').describe('Bitcoin Core RPC or Esplora API base URL'),
    network: z.enum(bitcoinNetworks).default('regtest').describe(bitcoinNetworks.join(' | ')),
    auth: bitcoinAuth,
    confirmations: nonNegativeInt.default(6).describe('Bitcoin blocks on top before a block is acted on'),
    pollIntervalMs: milliseconds.default(5000).describe('how often to poll the Bitcoin tip'),
    requestTimeoutMs: milliseconds.default(10_000).describe('timeout of one Bitcoin backend request'),
  })
  .prefault({});

const fees = z
  .strictObject({
    targetBlocks: positiveInt.default(2).describe('confirmation target for fee estimates, in blocks'),
    maxFeeRateSatVb: z
      .number()
      .positive()
      .default(500)
      .describe('hard fee-rate cap in sat/vB: never exceeded, not even by a bump'),
    bumpStepSatVb: z.number().positive().default(5).describe('minimum fee-rate increase of one bump, sat/vB'),
    bumpAfterBlocks: positiveInt.default(2).describe('blocks a transaction may lag its target before a bump'),
    walletReserveSats: nonNegativeInt
      .max(MAX_SATS)
      .default(0)
      .describe('sats the watcher wallet keeps for fee bumps: a first challenge never spends below it'),
    maxFeeSat: nonNegativeInt
      .max(MAX_SATS)
      .default(5_000_000)
      .describe('absolute fee cap per transaction, in sats: no transaction Vigil sends pays more'),
    minRelaySatVb: z
      .number()
      .positive()
      .default(1)
      .describe('relay floor in sat/vB: nothing is sent below it, whatever the estimate says'),
  })
  .superRefine((f, ctx) => {
    // A floor above the cap leaves no rate a transaction may pay: every send would be refused.
    // Only between two valid values: a bad cap already has its own message.
    if (f.maxFeeRateSatVb > 0 && f.minRelaySatVb > f.maxFeeRateSatVb) {
      ctx.addIssue({ code: 'custom', path: ['minRelaySatVb'], message: 'at most fees.maxFeeRateSatVb' });
    }
  })
  .prefault({});

const REDIS_URL_FORMS = 'a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL';

/** One Redis (`redis://`, `rediss://`) or a Redis Cluster named by its seed nodes (`redis+cluster://`). */
const redisUrl = z.string().superRefine((url, ctx) => {
  if (isClusterUrl(url)) {
    try {
      parseClusterUrl(url);
    } catch (err) {
      if (!(err instanceof RedisClusterUrlError)) throw err;
      ctx.addIssue({ code: 'custom', message: `a Redis Cluster URL that ${err.reason}` });
    }
    return;
  }
  if (!URL.canParse(url) || !/^rediss?:$/.test(new URL(url).protocol))
    ctx.addIssue({ code: 'custom', message: REDIS_URL_FORMS });
});

/** The password written in a Redis URL of either form ('' when none). */
function urlPassword(url: string): string {
  if (isClusterUrl(url)) {
    try {
      return parseClusterUrl(url).password ?? '';
    } catch {
      return '';
    }
  }
  return URL.canParse(url) ? new URL(url).password : '';
}

const redis = z
  .strictObject({
    url: redisUrl
      .default('redis://127.0.0.1:6379')
      .describe(
        'Redis URL: redis(s)://host:port/db for one Redis, redis(s)+cluster://host:port,host:port/ for a Redis Cluster (a password in it is redacted everywhere Vigil prints it)',
      ),
    keyPrefix: z
      .string()
      .regex(/^\S+$/, 'a non-empty prefix without spaces')
      .default('{vigil}')
      .describe('prefix of every key; the {hash tag} keeps one queue on one Redis Cluster slot'),
    passwordEnv: envVarName
      .optional()
      .describe('name of the env variable holding the Redis password (instead of one in the URL)'),
    passwordFile: filePath.optional().describe('file holding the Redis password (instead of one in the URL)'),
  })
  .superRefine((r, ctx) => {
    if (r.passwordEnv !== undefined && r.passwordFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['passwordFile'], message: 'one of passwordEnv or passwordFile' });
    }
    // Two passwords would leave which one is used to the reader's guess.
    // A cluster places a key by its {hash tag}: without one the prefix's keys scatter over the slots, and
    // the multi-key scripts (lease, records, BullMQ) fail with CROSSSLOT.
    if (isClusterUrl(r.url) && !/\{[^}]+\}/.test(r.keyPrefix)) {
      ctx.addIssue({
        code: 'custom',
        path: ['keyPrefix'],
        message: 'a prefix with a {hash tag} (e.g. "{vigil}"): redis.url is a Redis Cluster',
      });
    }
    if ((r.passwordEnv ?? r.passwordFile) !== undefined && urlPassword(r.url)) {
      ctx.addIssue({
        code: 'custom',
        path: [r.passwordEnv !== undefined ? 'passwordEnv' : 'passwordFile'],
        message: 'no password source when redis.url already holds a password',
      });
    }
  })
  .prefault({});

const secrets = z
  .strictObject({
    allowInsecureFiles: z
      .boolean()
      .default(false)
      .describe('accept secret files readable by group or others (e.g. Kubernetes 0644 mounts)'),
  })
  .prefault({});

const keys = z
  .strictObject({
    watcher: secretSource.optional().describe('the watcher wallet key: { file } or { env }'),
    l2: secretSource
      .optional()
      .describe(
        "Vigil's L2 account key (64 hex): in mode challenge it registers Vigil's challenger key and posts its bundle for each claim of l2.contracts.challengerRegistry that lists it, paying L2 gas",
      ),
  })
  .prefault({});

const http = z
  .strictObject({
    host: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe('operator HTTP listen address (loopback by default)'),
    port: z.number().int().min(0).max(65_535).default(9464).describe('operator HTTP port (0: any free port)'),
    allowedHosts: z
      .array(z.string().regex(/^[A-Za-z0-9.-]+$/, 'a host name (letters, digits, dots, dashes), no port'))
      .default([])
      .describe('extra Host header names accepted, besides the bind address (DNS rebinding protection)'),
    maxConnections: positiveInt
      .max(10_000)
      .default(32)
      .describe('open connections at most; more are dropped at once'),
    headersTimeoutMs: milliseconds
      .default(5000)
      .describe('time a client has to send the request headers before the connection is cut'),
    requestTimeoutMs: milliseconds
      .default(10_000)
      .describe('time a client has to send the whole request before the connection is cut'),
  })
  .superRefine((h, ctx) => {
    // node:http refuses a headers timeout longer than the request timeout.
    if (h.headersTimeoutMs > h.requestTimeoutMs) {
      ctx.addIssue({ code: 'custom', path: ['headersTimeoutMs'], message: 'at most http.requestTimeoutMs' });
    }
  })
  .prefault({});

const log = z
  .strictObject({
    level: z.enum(logLevels).default('info').describe(logLevels.join(' | ')),
    format: z.enum(['json', 'pretty']).default('json').describe('json | pretty'),
  })
  .prefault({});

const shutdown = z
  .strictObject({
    graceMs: milliseconds.default(30_000).describe('how long in-flight work may take to finish on SIGTERM'),
  })
  .prefault({});

const memory = z
  .strictObject({
    heapGrowthPercent: z
      .number()
      .int()
      .min(10)
      .max(300)
      .default(50)
      .describe(
        'after a full garbage collection the JS heap may grow this much (percent) past what is live before the next; V8 alone lets it reach 4×',
      ),
  })
  .prefault({});

const dispute = z
  .strictObject({
    deadlineMarginBlocks: positiveInt
      .default(6)
      .describe('act on a dispute deadline with at least this many blocks to spare'),
    alertWarnBlocks: positiveInt.default(36).describe('warn when a deadline is this many blocks away'),
    alertCriticalBlocks: positiveInt.default(12).describe('critical alert when a deadline is this close'),
    operatorKey: xOnlyKey
      .optional()
      .describe("the operator's x-only public key (64 hex) its graphs must use"),
    committeeKeys: z
      .array(xOnlyKey)
      .min(1, 'at least one committee key')
      .optional()
      .describe('the covenant committee’s x-only public keys, in graph order (comma-separated in env/flags)'),
    graphDir: filePath
      .optional()
      .describe("directory of the operator's published graph documents (epoch-<n>.json)"),
    graphGraceMs: milliseconds
      .default(1_800_000)
      .describe(
        '/healthz `graphs` is 503 when an epoch committed on the L2 this long ago has no operator graph',
      ),
    circuit: z
      .enum(STEP_CIRCUIT_IDS)
      .default(DEFAULT_STEP_CIRCUIT_ID)
      .describe("the step circuit the operator's graphs must use in their disprove leaves"),
    importWorkers: nonNegativeInt
      .max(64)
      .optional()
      .describe(
        'worker threads that import and verify operator graphs (unset: one per core, 1 to 4; 0: on the main thread)',
      ),
  })
  .superRefine((d, ctx) => {
    if (d.alertCriticalBlocks > d.alertWarnBlocks) {
      ctx.addIssue({ code: 'custom', path: ['alertCriticalBlocks'], message: 'at most alertWarnBlocks' });
    }
    // The three only make sense together: a graph cannot be verified without the keys it must use.
    const set = {
      graphDir: d.graphDir !== undefined,
      operatorKey: d.operatorKey !== undefined,
      committeeKeys: d.committeeKeys !== undefined,
    };
    if (Object.values(set).some(Boolean)) {
      for (const [key, present] of Object.entries(set)) {
        if (!present) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message:
              'a value: dispute.graphDir, dispute.operatorKey and dispute.committeeKeys are set together',
          });
        }
      }
    }
    const seen = new Set<string>();
    (d.committeeKeys ?? []).forEach((k, i) => {
      const key = k.toLowerCase();
      if (seen.has(key) || key === d.operatorKey?.toLowerCase()) {
        ctx.addIssue({
          code: 'custom',
          path: ['committeeKeys', i],
          message: 'a key not already listed (committee keys are distinct, and distinct from the operator)',
        });
      }
      seen.add(key);
    });
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    mode: z
      .enum(modes)
      .default('watch')
      .describe('watch (judge, alert, never spend) | challenge (spend) | dry-run (build, never broadcast)'),
    allowMainnetSpending: z
      .boolean()
      .default(false)
      .describe('must be true for mode challenge on Bitcoin mainnet'),
    l2,
    bitcoin,
    fees,
    redis,
    keys,
    secrets,
    http,
    log,
    shutdown,
    memory,
    dispute,
  })
  .superRefine((c, ctx) => {
    if (c.mode === 'challenge' && c.bitcoin.network === 'mainnet' && !c.allowMainnetSpending) {
      ctx.addIssue({
        code: 'custom',
        path: ['allowMainnetSpending'],
        message: 'true to spend on Bitcoin mainnet in mode challenge (an explicit switch)',
      });
    }
    if (c.mode !== 'watch' && c.keys.watcher === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['keys', 'watcher'],
        message: `a key source ({ file } or { env }) in mode ${c.mode}`,
      });
    }
  });

export type VigilConfig = z.infer<typeof configSchema>;
