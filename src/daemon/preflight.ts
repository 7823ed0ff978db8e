/**
 * What `vigil watch` checks before it starts, against the services themselves: a daemon pointed at the
 * wrong chain, at addresses with no contract, or at a Bitcoin node of another network would otherwise
 * start, call itself healthy and watch nothing. Each problem names its configuration key (exit 3); a
 * service that does not answer is exit 4 (the errors the L2 RPC and the backend throw).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { decodeFunctionResult, encodeFunctionData } from 'viem';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { GENESIS_BLOCK_HASH, networkOfGenesis } from '../bitcoin/network.ts';
import { ConfigError, type ConfigProblem } from '../config/errors.ts';
import { redactUrl } from '../config/redact.ts';
import type { VigilConfig } from '../config/schema.ts';
import { bytesToHex } from '../core/bytes.ts';
import { claimParameters } from '../dispute/game/claim-parameters.ts';
import { defaultGraphParameters } from '../dispute/graph/parameters.ts';
import { ZERO_ADDRESS } from '../governance/encoding.ts';
import { PARAM_SPECS } from '../governance/params.ts';
import { bundleKeyBytes } from '../l2/challenger-registry.ts';
import { challengerRegistryAbi, paramRegistryAbi } from '../l2/contracts/artifacts/abis.ts';
import { nameToBytes32 } from '../l2/names.ts';
import { possessionMessage } from '../l2/registry-possession.ts';
import type { L2Rpc } from '../l2/rpc.ts';
import { genesisFromConfig } from '../watcher/from-config.ts';

const CONTRACT_KEYS = [
  'token',
  'staking',
  'governor',
  'paramRegistry',
  'epochManager',
  'stateCommitment',
  'challengerRegistry',
] as const;

/** The L2 node's chain id and the code at every configured contract address. */
export async function checkL2(config: VigilConfig, rpc: L2Rpc): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  const url = redactUrl(rpc.urls[0] ?? '');
  const id = await rpc.call('eth_chainId', (c) => c.getChainId());
  if (id !== config.l2.chainId) {
    problems.push({
      key: 'l2.chainId',
      expected: `the chain id of the L2 node at ${url}`,
      got: `${config.l2.chainId}, but the node reports ${id}`,
    });
    return problems; // the contracts of another chain say nothing about this one
  }
  for (const key of CONTRACT_KEYS) {
    const address = config.l2.contracts[key];
    if (address === undefined) continue;
    const code = await rpc.call('eth_getCode', (c) => c.getCode({ address: address as `0x${string}` }));
    if (code === undefined || code === '0x') {
      problems.push({
        key: `l2.contracts.${key}`,
        expected: `a contract on chain ${id}`,
        got: `${address}, which holds no code at ${url}`,
      });
    }
  }
  // Both contract checks need every address to hold code; each reports its own problems.
  const codeFound = problems.length === 0;
  if (codeFound) problems.push(...(await checkChallengerRegistry(config, rpc)));
  const registry = config.l2.contracts.paramRegistry;
  if (codeFound && registry !== undefined) {
    // Contracts from before governed rollup parameters compute other state roots: judging their operator
    // by this version's rules would call every honest root fraud.
    const probe = await rpc.callRevertData(
      {
        from: ZERO_ADDRESS,
        to: registry as `0x${string}`,
        data: encodeFunctionData({
          abi: paramRegistryAbi,
          functionName: 'isNextEpochKey',
          args: [nameToBytes32('l2GasLimit')],
        }),
        gas: 1_000_000n,
      },
      await rpc.blockNumber(),
    );
    if (probe.reverted) {
      problems.push({
        key: 'l2.contracts.paramRegistry',
        expected: 'a ParamRegistry that governs rollup parameters (pending changes, docs/protocol.md §2)',
        got: `${registry}, which does not know isNextEpochKey: governance contracts older than this Vigil`,
      });
    }
  }
  return problems;
}

/**
 * The challenger registry against the network's claim parameters: a registry that lists more challengers
 * than a claim may have (W_max) would open claims whose documents Vigil refuses, and one whose bundles
 * are sized for another search shape would refuse Vigil's bundle (docs/protocol.md §24.11 item 43).
 */
async function checkChallengerRegistry(config: VigilConfig, rpc: L2Rpc): Promise<ConfigProblem[]> {
  const address = config.l2.contracts.challengerRegistry as `0x${string}` | undefined;
  if (address === undefined) return [];
  const key = 'l2.contracts.challengerRegistry';
  const params = claimParameters(config.bitcoin.network);
  const head = await rpc.blockNumber();
  const notRegistry = (why: string): ConfigProblem[] => [
    { key, expected: 'a ChallengerRegistry (docs/protocol.md §24.1)', got: `${address}, which ${why}` },
  ];
  // commitWindow: a registry without a commitment deadline (an older one) lets a claim opened and never
  // committed hold Vigil's bond coin and the epoch's history for good (docs/protocol.md §24.11 item 41).
  const getters = [
    'maxChallengers',
    'bundleKeyBytes',
    'epochManager',
    'staking',
    'bundleWindow',
    'commitWindow',
  ] as const;
  const values = new Map<(typeof getters)[number], unknown>();
  for (const functionName of getters) {
    const data = encodeFunctionData({ abi: challengerRegistryAbi, functionName });
    const probe = await rpc.callRevertData({ from: ZERO_ADDRESS, to: address, data, gas: 1_000_000n }, head);
    if (probe.reverted) return notRegistry(`does not know ${functionName}`);
    const answer = await rpc.call(`eth_call ${functionName}`, (c) =>
      c.call({ to: address, data, blockNumber: head }),
    );
    try {
      values.set(
        functionName,
        decodeFunctionResult({ abi: challengerRegistryAbi, functionName, data: answer.data ?? '0x' }),
      );
    } catch {
      // A contract with a fallback answers anything: not with a registry's value.
      return notRegistry(`answers ${functionName} with no value a registry returns`);
    }
  }
  // Vigil registers its key with a proof of possession (registry-possession.ts): a registry without it
  // (or with another message) refuses the registration, and lets anyone register Vigil's key first.
  const probeKey = new Uint8Array(32).fill(1);
  const message = encodeFunctionData({
    abi: challengerRegistryAbi,
    functionName: 'possessionMessage',
    args: [ZERO_ADDRESS, `0x${bytesToHex(probeKey)}`],
  });
  const asked = await rpc.callRevertData(
    { from: ZERO_ADDRESS, to: address, data: message, gas: 1_000_000n },
    head,
  );
  if (asked.reverted) return notRegistry('checks no proof of possession (an older registry)');
  const chainId = BigInt(await rpc.call('eth_chainId', (c) => c.getChainId()));
  const theirs = await rpc.call('eth_call possessionMessage', (c) =>
    c.call({ to: address, data: message, blockNumber: head }),
  );
  const ours = `0x${bytesToHex(possessionMessage(chainId, address, ZERO_ADDRESS, probeKey))}`;
  if (theirs.data?.toLowerCase() !== ours) {
    return notRegistry(`asks keys to sign another possession message than Vigil signs (${theirs.data})`);
  }
  const problems: ConfigProblem[] = [];
  const listed = Number(values.get('maxChallengers'));
  if (listed > params.maxChallengers) {
    problems.push({
      key,
      expected: `a registry that lists at most W_max = ${params.maxChallengers} challengers per claim on ${config.bitcoin.network}`,
      got: `${address}, which lists up to ${listed}: claims with more would be refused at import`,
    });
  }
  const want = bundleKeyBytes(params.shape);
  const keyBytes = Number(values.get('bundleKeyBytes'));
  if (keyBytes !== want) {
    problems.push({
      key,
      expected: `bundles of ${want} key bytes (the ${config.bitcoin.network} search shape)`,
      got: `${address}, whose bundles hold ${keyBytes}`,
    });
  }
  // Only a Vigil that posts bundles names bond coins (mode challenge with keys.l2: from-config.ts).
  if (config.mode === 'challenge' && config.keys.l2 !== undefined) {
    problems.push(
      ...claimWindowProblems(config, address, values.get('bundleWindow'), values.get('commitWindow')),
    );
  }
  // A registry bound to other governance contracts lists another chain's validators and epochs.
  for (const [getter, contract] of [
    ['epochManager', 'epochManager'],
    ['staking', 'staking'],
  ] as const) {
    const configured = config.l2.contracts[contract];
    const bound = String(values.get(getter));
    if (configured !== undefined && bound.toLowerCase() !== configured.toLowerCase()) {
      problems.push({
        key,
        expected: `a registry bound to l2.contracts.${contract} (${configured})`,
        got: `${address}, bound to ${bound}`,
      });
    }
  }
  return problems;
}

/**
 * The registry's windows against what a Vigil that posts bundles can live with (docs/protocol.md §24.11
 * item 41). Vigil reads a claim once its opening is `l2.confirmations` deep (at least 1: the follower's
 * depth) and the registry takes a bundle up to `bundleWindow` blocks after the opening, so a window shorter
 * than that depth closes before Vigil reads the claim, and one equal to it leaves a single block for the
 * bundle to be mined in: either way Vigil would, in practice, play no game. And a claim never committed
 * holds one of Vigil's bond coins until its commit window closes: windows longer than
 * `l2.maxClaimHoldBlocks` let an operator that opens a claim each epoch, for the price of an L2 call, tie
 * up Vigil's coins that long.
 */
function claimWindowProblems(
  config: VigilConfig,
  address: string,
  bundle: unknown,
  commit: unknown,
): ConfigProblem[] {
  const key = 'l2.contracts.challengerRegistry';
  const bundleWindow = BigInt(bundle as bigint);
  const hold = bundleWindow + BigInt(commit as bigint);
  const problems: ConfigProblem[] = [];
  const depth = BigInt(Math.max(1, config.l2.confirmations));
  if (bundleWindow <= depth) {
    const left =
      bundleWindow < depth ? 'it closes before Vigil reads a claim' : 'it leaves Vigil one block to post in';
    problems.push({
      key,
      expected: `a bundle window longer than the depth Vigil reads a claim at (l2.confirmations, at least 1: ${depth} L2 blocks)`,
      got: `${address}, whose bundle window is ${bundleWindow} blocks: ${left}, so Vigil would play no game`,
    });
  }
  const max = BigInt(config.l2.maxClaimHoldBlocks);
  if (hold > max) {
    problems.push({
      key,
      expected: `a claim open uncommitted for at most l2.maxClaimHoldBlocks = ${max} L2 blocks (bundleWindow + commitWindow)`,
      got: `${address}, where one may stay open ${hold} blocks (bundle window ${bundleWindow}, commit window ${hold - bundleWindow}), holding one of Vigil's bond coins each; raise l2.maxClaimHoldBlocks only with the bond coins to match`,
    });
  }
  return problems;
}

/** The Bitcoin node's chain, by its genesis block, against `bitcoin.network`. */
export async function checkBitcoinNetwork(
  config: VigilConfig,
  backend: BitcoinBackend,
): Promise<ConfigProblem[]> {
  const genesis = await backend.getBlockHash(0);
  const want = config.bitcoin.network;
  if (genesis === GENESIS_BLOCK_HASH[want]) return [];
  const found = genesis === undefined ? undefined : networkOfGenesis(genesis);
  return [
    {
      key: 'bitcoin.network',
      expected: `the network of the Bitcoin ${config.bitcoin.backend} at ${redactUrl(config.bitcoin.url)}`,
      got: `${want}, but its genesis block ${genesis ?? '(none)'} is ${found ?? 'no network Vigil knows'}`,
    },
  ];
}

/** Files the configuration names: the genesis file parses, the graph directory can be listed. */
export function checkFiles(config: VigilConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.l2.genesisFile !== undefined) {
    try {
      genesisFromConfig(config);
    } catch (err) {
      problems.push({
        key: 'l2.genesisFile',
        expected: 'a readable genesis (docs/inputs-format.md)',
        got: err instanceof Error ? err.message.split('\n')[0] : String(err),
      });
    }
  }
  problems.push(...checkGovernedWindow(config));
  const dir = config.dispute.graphDir;
  if (dir !== undefined) {
    try {
      if (!statSync(dir).isDirectory()) throw new Error('not a directory');
      accessSync(dir, constants.R_OK | constants.X_OK);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      problems.push({
        key: 'dispute.graphDir',
        expected: 'a directory Vigil can list',
        got: `${dir} (${why})`,
      });
    }
  }
  return problems;
}

/**
 * The genesis challenge window against the network's graphs: a window not shorter than the assert window
 * makes every graph of the network unimportable (docs/protocol.md §20), so the watcher would watch nothing.
 */
export function checkGovernedWindow(config: VigilConfig): ConfigProblem[] {
  // Without the governance contracts the watcher follows no L2 and imports no graph.
  if (!Object.values(config.l2.contracts ?? {}).some((a) => a !== undefined)) return [];
  let genesis: ReturnType<typeof genesisFromConfig>;
  try {
    genesis = genesisFromConfig(config);
  } catch {
    return []; // the genesis file's own problem is named by checkFiles
  }
  const window = genesis.params?.challengeWindow ?? PARAM_SPECS.challengeWindow.default;
  const { assertWindow } = defaultGraphParameters[config.bitcoin.network].timelocks;
  if (window < BigInt(assertWindow)) return [];
  return [
    {
      key: 'l2.genesisFile',
      expected: `a genesis challengeWindow shorter than ${config.bitcoin.network}'s assert window (${assertWindow} blocks): the L2's governed T_c`,
      got: `challengeWindow ${window}${genesis.params?.challengeWindow === undefined ? ' (the protocol default: the genesis file does not set it)' : ''}, so no graph of this network can be imported`,
    },
  ];
}

/** Every check; throws one ConfigError naming every problem found. */
export async function preflight(
  config: VigilConfig,
  parts: { rpc: L2Rpc | undefined; backend: BitcoinBackend },
): Promise<void> {
  const problems = [...checkFiles(config)];
  if (parts.rpc) problems.push(...(await checkL2(config, parts.rpc)));
  problems.push(...(await checkBitcoinNetwork(config, parts.backend)));
  if (problems.length > 0) throw new ConfigError(problems);
}

/**
 * `vigil config check --probe`: the same checks, endpoint by endpoint (every L2 URL, fallbacks
 * included, when contracts are configured; the Bitcoin backend always), one line per endpoint that
 * answered as configured. Problems throw as at start (exit 3); an endpoint that does not answer, exit 4.
 */
export async function probeEndpoints(
  config: VigilConfig,
  backend: BitcoinBackend,
  makeRpc: (url: string) => L2Rpc,
): Promise<string[]> {
  const lines: string[] = [];
  const problems = checkFiles(config);
  const contracts = CONTRACT_KEYS.filter((k) => config.l2.contracts[k] !== undefined).length;
  if (contracts === 0) {
    lines.push('l2: not probed (no l2.contracts configured: vigil watch finds no kick-offs without them)');
  } else {
    for (const url of config.l2.rpcUrls) {
      const found = await checkL2(config, makeRpc(url));
      problems.push(...found);
      if (found.length === 0) {
        lines.push(
          `l2: ${redactUrl(url)} answers: chain id ${config.l2.chainId}, contract code at ${contracts} addresses`,
        );
      }
    }
  }
  const network = await checkBitcoinNetwork(config, backend);
  problems.push(...network);
  if (network.length === 0) {
    lines.push(
      `bitcoin: ${config.bitcoin.backend} at ${redactUrl(config.bitcoin.url)} answers: network ${config.bitcoin.network}`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return lines;
}
