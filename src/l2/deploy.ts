/**
 * Deploys the governance contracts and wires them together. Genesis parameters and modules use the same
 * `GenesisOptions` as the reference model, so a model built with `createGenesisState(genesis)` starts from
 * the state the contracts start from.
 */
import { type Abi, type Address, getAddress, type Hex, type PublicClient, type WalletClient } from 'viem';
import { VigilError } from '../core/errors.ts';
import type { GenesisOptions } from '../governance/index.ts';
import { PARAM_KEYS, PARAM_SPECS } from '../governance/params.ts';
import {
  btrTokenAbi,
  challengerRegistryAbi,
  epochManagerAbi,
  governorAbi,
  paramRegistryAbi,
  stakingAbi,
  stateCommitmentAbi,
} from './contracts/artifacts/abis.ts';
import BtrToken from './contracts/artifacts/BtrToken.json' with { type: 'json' };
import ChallengerRegistry from './contracts/artifacts/ChallengerRegistry.json' with { type: 'json' };
import EpochManager from './contracts/artifacts/EpochManager.json' with { type: 'json' };
import Governor from './contracts/artifacts/Governor.json' with { type: 'json' };
import ParamRegistry from './contracts/artifacts/ParamRegistry.json' with { type: 'json' };
import Staking from './contracts/artifacts/Staking.json' with { type: 'json' };
import StateCommitment from './contracts/artifacts/StateCommitment.json' with { type: 'json' };
import type { GovernanceAddresses } from './governance-contracts.ts';
import { nameToBytes32 } from './names.ts';

export class DeploymentError extends VigilError {
  override name = 'DeploymentError';
}

export type Deployment = {
  addresses: GovernanceAddresses;
  /** The block of the first deployment transaction: ingestion starts here. */
  startBlock: bigint;
  /** The block after which every contract is deployed and wired. */
  readyBlock: bigint;
  genesis: GenesisOptions;
  deployer: Address;
  operator: Address;
};

export type DeployOptions = {
  publicClient: PublicClient;
  walletClient: WalletClient;
  deployer: Address;
  operator: Address;
  genesis?: GenesisOptions;
  /** EpochManager's minimum distance between two epoch ends, in blocks. */
  minEpochBlocks?: bigint;
  /**
   * Creation bytecode to deploy instead of the shipped artifact, per contract (0x-hex). Only tests use it,
   * to deploy a deliberately wrong contract and show that Vigil reports it.
   */
  bytecode?: Partial<
    Record<'BtrToken' | 'ParamRegistry' | 'Staking' | 'Governor' | 'EpochManager' | 'StateCommitment', string>
  >;
};

export async function deployGovernance(options: DeployOptions): Promise<Deployment> {
  const { publicClient, walletClient, deployer } = options;
  const genesis = options.genesis ?? {};
  let startBlock: bigint | undefined;
  const deploy = async (abi: Abi, bytecode: string, args: readonly unknown[]): Promise<Address> => {
    const hash = await walletClient.deployContract({
      abi,
      bytecode: bytecode as Hex,
      args,
      account: deployer,
      chain: null,
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    if (receipt.status !== 'success' || !receipt.contractAddress) {
      throw new DeploymentError('a governance contract failed to deploy', { metaMessages: [`tx ${hash}`] });
    }
    startBlock ??= receipt.blockNumber;
    return getAddress(receipt.contractAddress);
  };
  const send = async (address: Address, abi: Abi, functionName: string, args: readonly unknown[]) => {
    const hash = await walletClient.writeContract({
      address,
      abi,
      functionName,
      args,
      account: deployer,
      chain: null,
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    if (receipt.status !== 'success') throw new DeploymentError(`wiring call ${functionName} reverted`);
    return receipt.blockNumber;
  };

  const params = PARAM_KEYS.map((key) => {
    const spec = PARAM_SPECS[key];
    return {
      key: nameToBytes32(key),
      value: genesis.params?.[key] ?? spec.default,
      min: spec.min,
      max: spec.max,
      // The rollup's own keys: a change waits as pending until the next end of epoch (docs/protocol.md §2).
      nextEpoch: spec.activation === 'next-epoch',
    };
  });
  const modules = (genesis.modules ?? []).map((m) => ({
    id: nameToBytes32(m.id),
    version: m.version,
    codeHash: m.codeHash,
  }));

  const token = await deploy(btrTokenAbi as Abi, options.bytecode?.BtrToken ?? BtrToken.bytecode, []);
  const registry = await deploy(
    paramRegistryAbi as Abi,
    options.bytecode?.ParamRegistry ?? ParamRegistry.bytecode,
    [params, modules],
  );
  const staking = await deploy(stakingAbi as Abi, options.bytecode?.Staking ?? Staking.bytecode, [token]);
  const governor = await deploy(governorAbi as Abi, options.bytecode?.Governor ?? Governor.bytecode, [
    staking,
    registry,
  ]);
  const epochManager = await deploy(
    epochManagerAbi as Abi,
    options.bytecode?.EpochManager ?? EpochManager.bytecode,
    [staking, registry, governor, options.minEpochBlocks ?? 0n],
  );
  const stateCommitment = await deploy(
    stateCommitmentAbi as Abi,
    options.bytecode?.StateCommitment ?? StateCommitment.bytecode,
    [options.operator, epochManager],
  );
  await send(registry, paramRegistryAbi as Abi, 'setGovernor', [governor]);
  await send(registry, paramRegistryAbi as Abi, 'setEpochManager', [epochManager]);
  const readyBlock = await send(governor, governorAbi as Abi, 'setEpochManager', [epochManager]);
  return {
    addresses: { token, registry, staking, governor, epochManager, stateCommitment },
    startBlock: startBlock as bigint,
    readyBlock,
    genesis,
    deployer,
    operator: options.operator,
  };
}

/** What the challenger registry is deployed with (ChallengerRegistry.sol's constructor). */
export type ChallengerRegistryOptions = {
  publicClient: PublicClient;
  walletClient: WalletClient;
  deployer: Address;
  operator: Address;
  epochManager: Address;
  staking: Address;
  /** W_max: more than the 8 slots kept for independent verifiers. */
  maxChallengers: number;
  /** L2 blocks a claim's challengers have to post their bundles. */
  bundleWindow: bigint;
  /** One bundle's key bytes at the network's search shape (challenger-registry.ts `bundleKeyBytes`). */
  bundleKeyBytes: number;
  /** L2 blocks after the bundle window closes within which the operator must commit a claim. */
  commitWindow: bigint;
  /** Creation bytecode other than the shipped artifact's (tests deploy deliberately wrong registries). */
  bytecode?: Hex;
};

/** Deploys the challenger registry (docs/protocol.md §24.1) beside a governance deployment. */
export async function deployChallengerRegistry(o: ChallengerRegistryOptions): Promise<Address> {
  const hash = await o.walletClient.deployContract({
    abi: challengerRegistryAbi as Abi,
    bytecode: o.bytecode ?? (ChallengerRegistry.bytecode as Hex),
    args: [
      o.operator,
      o.epochManager,
      o.staking,
      o.maxChallengers,
      o.bundleWindow,
      o.bundleKeyBytes,
      o.commitWindow,
    ],
    account: o.deployer,
    chain: null,
  });
  const receipt = await o.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    throw new DeploymentError('the challenger registry failed to deploy', { metaMessages: [`tx ${hash}`] });
  }
  return getAddress(receipt.contractAddress);
}
