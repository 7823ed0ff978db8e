/**
 * Where `vigil verify` keeps its L2 journal between runs: one directory per deployment (chain id,
 * contract addresses, start block and genesis), so two L2s or two deployments never share a journal.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, utf8 } from '../core/bytes.ts';
import { sha256 } from '../core/hashes.ts';
import { computeStateRoot, createGenesisState } from '../governance/index.ts';
import type { WatchedDeployment } from '../l2/governance-contracts.ts';

/** `$XDG_CACHE_HOME/vigil/verify`, else `~/.cache/vigil/verify`. */
export function defaultCacheRoot(env: Record<string, string | undefined> = process.env): string {
  const base =
    env.XDG_CACHE_HOME && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'vigil', 'verify');
}

/** The deployment's own subdirectory name: `<chainId>-<first 16 hex of a hash of the deployment>`. */
export function deploymentCacheName(chainId: number, d: WatchedDeployment): string {
  const a = d.addresses;
  const genesisRoot = bytesToHex(computeStateRoot(createGenesisState(d.genesis)));
  const key = [
    chainId,
    a.token,
    a.registry,
    a.staking,
    a.governor,
    a.epochManager,
    a.stateCommitment,
    d.startBlock,
    genesisRoot,
  ].join('|');
  return `${chainId}-${bytesToHex(sha256(utf8(key))).slice(0, 16)}`;
}
