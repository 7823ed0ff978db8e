/**
 * What `vigil watch` checks before it starts, against the services themselves: a daemon pointed at the
 * wrong chain, at addresses with no contract, or at a Bitcoin node of another network would otherwise
 * start, call itself healthy and watch nothing. Each problem names its configuration key (exit 3); a
 * service that does not answer is exit 4 (the errors the L2 RPC and the backend throw).
 */
import { accessSync, constants, statSync } from 'node:fs';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { GENESIS_BLOCK_HASH, networkOfGenesis } from '../bitcoin/network.ts';
import { ConfigError, type ConfigProblem } from '../config/errors.ts';
import { redactUrl } from '../config/redact.ts';
import type { VigilConfig } from '../config/schema.ts';
import type { L2Rpc } from '../l2/rpc.ts';
import { genesisFromConfig } from '../watcher/from-config.ts';

const CONTRACT_KEYS = [
  'token',
  'staking',
  'governor',
  'paramRegistry',
  'epochManager',
  'stateCommitment',
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
