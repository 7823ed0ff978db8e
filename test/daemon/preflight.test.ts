/**
 * `vigil watch` refuses to start against the wrong services (issue #19): each misconfiguration names its
 * key, against a real anvil with the contracts and the simnet's Core-RPC front; an unreachable service
 * is exit 4. The checks run after Redis answered, in the watcher's start.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicClient, createWalletClient, http } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type Simnet, startSimnet } from '../../src/bitcoin/simnet/start.ts';
import { ExitCode } from '../../src/cli/exit-codes.ts';
import { loadConfig } from '../../src/config/load.ts';
import { preflight } from '../../src/daemon/preflight.ts';
import { claimParameters } from '../../src/dispute/game/claim-parameters.ts';
import { serializeInputsFile } from '../../src/governance/inputs-file.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { bundleKeyBytes } from '../../src/l2/challenger-registry.ts';
import { compileContracts } from '../../src/l2/contracts/build.ts';
import { deployChallengerRegistry } from '../../src/l2/deploy.ts';
import { DEVNET_DEPLOYER, DEVNET_OPERATOR } from '../../src/l2/devnet.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { backendFromConfig } from '../../src/watcher/from-config.ts';
import { runCli } from '../cli/run-cli.ts';
import { type Chain, startChain } from '../l2/helpers.ts';

let chain: Chain;
let sim: Simnet;
let dir: string;
const env: Record<string, string> = {};

type Tree = { [k: string]: unknown };

function goodConfig(): Tree {
  const a = chain.deployment.addresses;
  return {
    mode: 'watch',
    l2: {
      rpcUrls: [chain.anvil.rpcUrl],
      chainId: 31337,
      startBlock: Number(chain.deployment.startBlock),
      genesisFile: join(dir, 'genesis.json'),
      contracts: {
        token: a.token,
        staking: a.staking,
        governor: a.governor,
        paramRegistry: a.registry,
        epochManager: a.epochManager,
        stateCommitment: a.stateCommitment,
      },
    },
    bitcoin: {
      backend: 'core-rpc',
      url: sim.rpcUrl,
      network: 'regtest',
      auth: { user: sim.rpcAuth.user, passwordEnv: 'PREFLIGHT_BTC_PASSWORD' },
    },
    dispute: {
      graphDir: join(dir, 'graphs'),
      operatorKey: '11'.repeat(32),
      committeeKeys: ['22'.repeat(32)],
    },
    http: { port: 0 },
    log: { level: 'silent' },
  };
}

/** `goodConfig()` with one value replaced, at a dotted path. */
function withValue(path: string, value: unknown): Tree {
  const tree = goodConfig();
  const keys = path.split('.');
  let node = tree;
  for (const k of keys.slice(0, -1)) node = node[k] as Tree;
  node[keys.at(-1) as string] = value;
  return tree;
}

function write(name: string, tree: Tree): string {
  const path = join(dir, name);
  writeFileSync(path, stringify(tree));
  return path;
}

async function problemsOf(tree: Tree): Promise<string> {
  const { config } = loadConfig({ file: write('cfg.yaml', tree), env: { ...env } });
  try {
    await preflight(config, {
      rpc: new L2Rpc({ urls: config.l2.rpcUrls, retry: { maxAttempts: 1 } }),
      backend: backendFromConfig(config, env),
    });
    return '';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-preflight-'));
  const w = generateWorkload({ seed: 5, inputs: 10 });
  writeFileSync(join(dir, 'genesis.json'), serializeInputsFile({ genesis: w.genesis, inputs: [] }));
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(dir, 'graphs'));
  writeFileSync(join(dir, 'not-a-dir'), 'x');
  chain = await startChain(w.genesis);
  sim = await startSimnet();
  env.PREFLIGHT_BTC_PASSWORD = sim.rpcAuth.password;
}, 60_000);

afterAll(async () => {
  await chain?.stop();
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type RegistryShape = {
  maxChallengers?: number;
  keyBytes?: number;
  epochManager?: `0x${string}`;
  bundleWindow?: bigint;
  commitWindow?: bigint;
  bytecode?: `0x${string}`;
};

/** A ChallengerRegistry on the test chain: regtest's shape, windows of 50 and 100 blocks, unless told. */
function deployRegistry(o: RegistryShape = {}): Promise<`0x${string}`> {
  const a = chain.deployment.addresses;
  const transport = http(chain.anvil.rpcUrl);
  const params = claimParameters('regtest');
  return deployChallengerRegistry({
    publicClient: createPublicClient({ transport }),
    walletClient: createWalletClient({ transport }),
    deployer: DEVNET_DEPLOYER,
    operator: DEVNET_OPERATOR,
    epochManager: o.epochManager ?? a.epochManager,
    staking: a.staking,
    maxChallengers: o.maxChallengers ?? params.maxChallengers,
    bundleWindow: o.bundleWindow ?? 50n,
    bundleKeyBytes: o.keyBytes ?? bundleKeyBytes(params.shape),
    commitWindow: o.commitWindow ?? 100n,
    ...(o.bytecode === undefined ? {} : { bytecode: o.bytecode }),
  });
}

describe('vigil watch preflight', () => {
  it('the right chain, contracts, network and files: no problem', async () => {
    expect(await problemsOf(goodConfig())).toBe('');
  });

  it.each([
    [
      'a wrong L2 chain id',
      'l2.chainId',
      1,
      /l2\.chainId: expected the chain id of the L2 node at .*, got 1, but the node reports 31337/,
    ],
    [
      'an address with no contract',
      'l2.contracts.staking',
      '0x00000000000000000000000000000000000000aa',
      /l2\.contracts\.staking: expected a contract on chain 31337, got 0x0+aa, which holds no code/,
    ],
    [
      'another Bitcoin network',
      'bitcoin.network',
      'testnet',
      /bitcoin\.network: .*got testnet, but its genesis block 0f9188f1\w+ is regtest/,
    ],
    [
      'a missing genesis file',
      'l2.genesisFile',
      '/nonexistent/genesis.json',
      /l2\.genesisFile: expected a readable genesis/,
    ],
    [
      'a graph directory that is a file',
      'dispute.graphDir',
      'not-a-dir',
      /dispute\.graphDir: expected a directory Vigil can list, got .*not-a-dir \(not a directory\)/,
    ],
    [
      'a graph directory that does not exist',
      'dispute.graphDir',
      '/nonexistent/graphs',
      /dispute\.graphDir: .*\(ENOENT\)/,
    ],
  ])('%s is refused naming %s', async (_what, key, value, message) => {
    const v = key === 'dispute.graphDir' && value === 'not-a-dir' ? join(dir, 'not-a-dir') : value;
    expect(await problemsOf(withValue(key, v))).toMatch(message);
  });

  it('governance contracts older than governed rollup parameters are refused naming the registry', async () => {
    // The token is a contract, but knows no isNextEpochKey: as a pre-#18 ParamRegistry would not.
    expect(
      await problemsOf(withValue('l2.contracts.paramRegistry', chain.deployment.addresses.token)),
    ).toMatch(
      /l2\.contracts\.paramRegistry: expected a ParamRegistry that governs rollup parameters .*, got 0x\w+, which does not know isNextEpochKey/,
    );
  });

  it('a challenger registry that lists more than W_max, or sized for another search shape, or not a registry, is refused naming it', async () => {
    const a = chain.deployment.addresses;
    const params = claimParameters('regtest');
    const W = params.maxChallengers;
    const bytes = bundleKeyBytes(params.shape);
    const deploy = (maxChallengers: number, keyBytes: number, epochManager = a.epochManager) =>
      deployRegistry({ maxChallengers, keyBytes, epochManager });
    const registry = (address: string) => problemsOf(withValue('l2.contracts.challengerRegistry', address));
    expect(await registry(await deploy(W, bytes))).toBe('');
    expect(await registry(await deploy(W + 1, bytes))).toMatch(
      new RegExp(
        `l2\\.contracts\\.challengerRegistry: expected a registry that lists at most W_max = ${W} challengers per claim on regtest, got 0x\\w+, which lists up to ${W + 1}`,
      ),
    );
    expect(await registry(await deploy(W, bytes + 20))).toMatch(
      new RegExp(
        `expected bundles of ${bytes} key bytes \\(the regtest search shape\\), got 0x\\w+, whose bundles hold ${bytes + 20}`,
      ),
    );
    // Bound to another EpochManager: it would list another chain's validators.
    expect(await registry(await deploy(W, bytes, a.staking))).toMatch(
      /l2\.contracts\.challengerRegistry: expected a registry bound to l2\.contracts\.epochManager \(0x\w+\), got 0x\w+, bound to 0x\w+/,
    );
    expect(await registry(a.token)).toMatch(
      /l2\.contracts\.challengerRegistry: expected a ChallengerRegistry .*, got 0x\w+, which does not know maxChallengers/,
    );
    // A registry compiled from the shipped source with one change.
    const deployPatched = (from: string, to: string) => {
      const patched = compileContracts((file, source) =>
        file === 'ChallengerRegistry.sol' ? source.replace(from, to) : source,
      ).get('ChallengerRegistry.json') as string;
      return deployRegistry({ bytecode: (JSON.parse(patched) as { bytecode: `0x${string}` }).bytecode });
    };
    // A registry that asks for another possession message: Vigil's registration would be refused.
    const other = await deployPatched('"Vigil/challenger-registry/possession/v1"', '"another/possession/v9"');
    expect(await registry(other)).toMatch(
      /l2\.contracts\.challengerRegistry: expected a ChallengerRegistry .*, got 0x\w+, which asks keys to sign another possession message than Vigil signs/,
    );
    // A registry with no commitment deadline (an older one): a claim opened and never committed would hold
    // Vigil's bond coin and the epoch's history for good.
    const older = await deployPatched(
      'uint64 public immutable commitWindow;',
      'uint64 internal immutable commitWindow;',
    );
    expect(await registry(older)).toMatch(
      /l2\.contracts\.challengerRegistry: expected a ChallengerRegistry .*, got 0x\w+, which does not know commitWindow/,
    );
    // Two solc runs over every contract (viaIR): 43–45 s on an idle 2-core machine, 64 s once under CI's load.
  }, 180_000);

  it('a challenger registry whose bundle window closes before a posting Vigil reads a claim, or whose claims may stay open uncommitted longer than l2.maxClaimHoldBlocks, is refused naming both windows', async () => {
    const deploy = (bundleWindow: bigint, commitWindow: bigint) =>
      deployRegistry({ bundleWindow, commitWindow });
    /** Vigil as it posts bundles (mode challenge with keys.l2), l2.confirmations at its default of 12. */
    const posting = (address: string, l2?: Record<string, unknown>) => {
      const tree = withValue('l2.contracts.challengerRegistry', address);
      Object.assign(tree.l2 as Record<string, unknown>, l2 ?? {});
      tree.mode = 'challenge';
      tree.keys = { watcher: { env: 'PREFLIGHT_WATCHER_KEY' }, l2: { env: 'PREFLIGHT_L2_KEY' } };
      return problemsOf(tree);
    };
    const short = await deploy(11n, 100n);
    expect(await posting(short)).toMatch(
      /l2\.contracts\.challengerRegistry: expected a bundle window longer than the depth Vigil reads a claim at \(l2\.confirmations, at least 1: 12 L2 blocks\), got 0x\w+, whose bundle window is 11 blocks: it closes before Vigil reads a claim, so Vigil would play no game/,
    );
    expect(await posting(await deploy(12n, 100n))).toMatch(
      /whose bundle window is 12 blocks: it leaves Vigil one block to post in, so Vigil would play no game/,
    );
    expect(await posting(await deploy(13n, 100n))).toBe('');
    // Read at depth 1 even with l2.confirmations 0: a window of 1 block leaves one block.
    expect(await posting(await deploy(1n, 100n), { confirmations: 0 })).toMatch(
      /at least 1: 1 L2 blocks\), got 0x\w+, whose bundle window is 1 blocks: it leaves Vigil one block to post in/,
    );
    expect(await posting(await deploy(2n, 100n), { confirmations: 0 })).toBe('');
    // 28,800 blocks by default, bundle window included.
    expect(await posting(await deploy(50n, 28_750n))).toBe('');
    const long = await deploy(50n, 28_751n);
    expect(await posting(long)).toMatch(
      /l2\.contracts\.challengerRegistry: expected a claim open uncommitted for at most l2\.maxClaimHoldBlocks = 28800 L2 blocks \(bundleWindow \+ commitWindow\), got 0x\w+, where one may stay open 28801 blocks \(bundle window 50, commit window 28751\)/,
    );
    expect(await posting(long, { maxClaimHoldBlocks: 30_000 })).toBe('');
    // Both at once are both named.
    const both = await posting(await deploy(5n, 40_000n));
    expect(both).toMatch(/whose bundle window is 5 blocks/);
    expect(both).toMatch(/where one may stay open 40005 blocks/);
    // A Vigil that posts no bundle (mode watch) names no bond coin: neither window is its concern.
    expect(await problemsOf(withValue('l2.contracts.challengerRegistry', short))).toBe('');
    expect(await problemsOf(withValue('l2.contracts.challengerRegistry', long))).toBe('');
  });

  it('a genesis whose challenge window no graph of the network can carry is refused', async () => {
    const defaults = join(dir, 'genesis-defaults.json');
    writeFileSync(defaults, serializeInputsFile({ genesis: {}, inputs: [] }));
    expect(await problemsOf(withValue('l2.genesisFile', defaults))).toMatch(
      /l2\.genesisFile: expected a genesis challengeWindow shorter than regtest's assert window \(12 blocks\).*, got challengeWindow 432 \(the protocol default: the genesis file does not set it\)/,
    );
  });

  it('config check --probe: every L2 URL (fallbacks too) and the Bitcoin backend, one line each', async () => {
    const ok = await runCli(['config', 'check', '--probe', '-c', write('probe.yaml', goodConfig())], { env });
    expect(ok.code, ok.stderr).toBe(ExitCode.Ok);
    expect(ok.stderr).toContain(
      `probe: l2: ${chain.anvil.rpcUrl} answers: chain id 31337, contract code at 6 addresses`,
    );
    expect(ok.stderr).toContain(`probe: bitcoin: core-rpc at ${sim.rpcUrl} answers: network regtest`);
    const fallbackDown = withValue('l2.rpcUrls', [chain.anvil.rpcUrl, 'http://127.0.0.1:1']);
    const down = await runCli(['config', 'check', '--probe', '-c', write('probe-down.yaml', fallbackDown)], {
      env,
    });
    expect(down.code, down.stderr).toBe(ExitCode.Unavailable);
    expect(down.stderr).toContain('http://127.0.0.1:1');
    const wrongNet = await runCli(
      ['config', 'check', '--probe', '-c', write('probe-net.yaml', withValue('bitcoin.network', 'signet'))],
      { env },
    );
    expect(wrongNet.code).toBe(ExitCode.Config);
    expect(wrongNet.stderr).toMatch(/bitcoin\.network: .*got signet, but its genesis block \w+ is regtest/);
  }, 60_000);

  it('vigil watch itself: exit 3 naming the key, exit 4 for an L2 that does not answer', async () => {
    const wrong = await runCli(['watch', '-c', write('wrong-chain.yaml', withValue('l2.chainId', 7))], {
      env,
    });
    expect(wrong.code, wrong.stderr).toBe(ExitCode.Config);
    expect(wrong.stderr).toMatch(/^invalid configuration: l2\.chainId: .*the node reports 31337/m);
    const down = await runCli(
      ['watch', '-c', write('down.yaml', withValue('l2.rpcUrls', ['http://127.0.0.1:1']))],
      {
        env,
      },
    );
    expect(down.code, down.stderr).toBe(ExitCode.Unavailable);
    expect(down.stderr).toMatch(/L2 RPC eth_chainId failed 3 times/);
  }, 60_000);

  describe('a bad key: vigil watch exits 3 naming the config key, never echoing the key file', () => {
    const GARBAGE = 'not-a-key-GARBAGE-1234';
    const KEY_HEX = '5f'.repeat(32);
    const keyFile = (name: string, text: string, mode: number): string => {
      const path = join(dir, name);
      writeFileSync(path, `${text}\n`);
      chmodSync(path, mode);
      return path;
    };
    const challenging = (file: string): Tree => ({
      ...goodConfig(),
      mode: 'challenge',
      keys: { watcher: { file } },
    });

    it.each([
      [
        'a key file holding neither 64 hex digits nor WIF',
        () => challenging(keyFile('garbage.key', GARBAGE, 0o600)),
        /^keys\.watcher\.file: expected a wallet key \(64 hex digits or WIF\) in .*garbage\.key/m,
      ],
      [
        'a missing key file',
        () => challenging(join(dir, 'missing.key')),
        /^keys\.watcher\.file: expected a readable wallet key file, got .*missing\.key \(ENOENT\)/m,
      ],
      [
        'a key file others can read (mode 0644)',
        () => challenging(keyFile('world.key', KEY_HEX, 0o644)),
        /^keys\.watcher\.file: .*world\.key is accessible by group or others \(mode 0644\)/m,
      ],
      [
        'a dispute.operatorKey that is not an x-only key',
        () => withValue('dispute.operatorKey', `02${'11'.repeat(32)}`),
        /^invalid configuration: dispute\.operatorKey: expected an x-only public key/m,
      ],
    ])(
      '%s',
      async (_what, tree, message) => {
        const r = await runCli(['watch', '-c', write('bad-key.yaml', tree())], { env });
        expect(r.code, r.stderr).toBe(ExitCode.Config);
        expect(r.stderr).toMatch(message);
        for (const secret of [GARBAGE, KEY_HEX]) {
          expect(r.stdout + r.stderr).not.toContain(secret);
        }
      },
      60_000,
    );
  });
});
