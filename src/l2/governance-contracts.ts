/**
 * What a watcher knows of one deployment of the governance contracts: their addresses, where ingestion
 * starts, and the genesis the model starts from. Deploying them is the devnet's business (deploy.ts);
 * following them needs only this.
 */
import type { Address } from 'viem';
import type { GenesisOptions } from '../governance/state.ts';

export type GovernanceAddresses = {
  token: Address;
  registry: Address;
  staking: Address;
  governor: Address;
  epochManager: Address;
  stateCommitment: Address;
};

/** A deployment as ingestion follows it. */
export type WatchedDeployment = {
  addresses: GovernanceAddresses;
  /** The block of the first deployment transaction: ingestion starts here. */
  startBlock: bigint;
  genesis: GenesisOptions;
};

/** All deployed-contract addresses, for ingestion's getLogs filter. */
export const watchedAddresses = (a: GovernanceAddresses): Address[] => [
  a.staking,
  a.governor,
  a.epochManager,
  a.stateCommitment,
  a.registry,
];
