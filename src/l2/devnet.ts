/**
 * The L2 half of `vigil devnet`, as a reusable module: anvil on a free loopback port, the governance
 * contracts deployed, a workload driven (a scenario file in the governance inputs format, or the seeded
 * generator), and an operator that ingests the chain like Vigil does, computes each epoch's root with
 * its executor (the reference, or a faulty one of the catalogue with `fault`) and commits it to
 * StateCommitment. Blocks obey the rollup parameters in force (src/l2/rollup-sequencer.ts), unless
 * `fault` names a faulty sequencer instead, with an honest operator. Vigil's own reference ingestion runs alongside and each epoch is told as a story line.
 * The Bitcoin side and the full watcher compose this later (`startL2Devnet` + their parts).
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { createPublicClient, createWalletClient, encodeFunctionData, type Hex, http } from 'viem';
import { bytesToHex, concatBytes, hexToBytes } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import { sha256 } from '../core/hashes.ts';
import { defaultGraphParameters } from '../dispute/graph/parameters.ts';
import { executorByName, PARAM_SPECS, REFERENCE_EXECUTOR, reexecute } from '../governance/index.ts';
import type { GovernanceInput } from '../governance/inputs.ts';
import { parseInputsFile, type RawTransaction, type SenderFunding } from '../governance/inputs-file.ts';
import type { GenesisOptions } from '../governance/state.ts';
import { generateWorkload, type Workload } from '../governance/workload.ts';
import type { RedisClient } from '../store/redis.ts';
import { deleteKeysByPrefix } from '../store/redis.ts';
import { type AnvilInstance, startAnvil } from './anvil.ts';
import { stateCommitmentAbi } from './contracts/artifacts/abis.ts';
import { type Deployment, type DeployOptions, deployGovernance } from './deploy.ts';
import type { EpochEnd } from './derivation.ts';
import { AnvilRpc, WorkloadDriver } from './driver.ts';
import { createGovernanceIngester, type L2ExecutionFault } from './governance-ingester.ts';
import type { L2Metrics } from './metrics.ts';
import { isSequencerFault, RollupSequencer, type SequencerDeviation } from './rollup-sequencer.ts';
import { L2Rpc } from './rpc.ts';

/** anvil's first two dev accounts (its default mnemonic): the deployer/faucet and the operator. */
export const DEVNET_DEPLOYER = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266' as const;
export const DEVNET_OPERATOR = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8' as const;

/** Deploys the governance contracts on the anvil at `rpcUrl`, from its first two dev accounts. */
export function deployOnAnvil(
  rpcUrl: string,
  genesis: GenesisOptions,
  bytecode?: DeployOptions['bytecode'],
): Promise<Deployment> {
  const transport = http(rpcUrl);
  return deployGovernance({
    publicClient: createPublicClient({ transport }),
    walletClient: createWalletClient({ transport }),
    deployer: DEVNET_DEPLOYER,
    operator: DEVNET_OPERATOR,
    genesis,
    ...(bytecode ? { bytecode } : {}),
  });
}

export type L2DevnetOptions = {
  redis: RedisClient;
  /** Stop after this many epochs of the random workload (default 5). */
  epochs?: number;
  seed?: number;
  /** A governance inputs file (docs/inputs-format.md) instead of the random workload. */
  scenarioFile?: string;
  /** A fault of the catalogue for the operator; 'none' or undefined = honest. */
  fault?: string;
  logger?: Logger;
  metrics?: L2Metrics;
  /** Called with each epoch as soon as Vigil's reference and the operator both have it. */
  onEpoch?: (story: EpochStory) => void;
};

export type EpochStory = {
  epoch: bigint;
  block: bigint;
  referenceRoot: string;
  committedRoot: string | undefined;
  kickoffTxid: string | undefined;
  agrees: boolean;
};

export type L2DevnetRun = {
  rpcUrl: string;
  deployment: Deployment;
  inputs: number;
  epochs: EpochStory[];
  executionFaults: L2ExecutionFault[];
  operatorExecutor: string;
  /** A faulty sequencer's first blocks that broke a parameter in force, per parameter (else empty). */
  sequencerDeviations: readonly SequencerDeviation[];
};

export type L2Devnet = {
  anvil: AnvilInstance;
  rpcUrl: string;
  deployment: Deployment;
  /** Drives the workload to the end, with the operator committing; resolves with the story. */
  run: () => Promise<L2DevnetRun>;
  stop: () => Promise<void>;
};

/** The placeholder kick-off reference until the Bitcoin side lands: sha256("vigil-kickoff" ‖ epoch ‖ root). */
export function placeholderKickoffTxid(epoch: bigint, root: string): Hex {
  const e = new Uint8Array(8);
  new DataView(e.buffer).setBigUint64(0, epoch);
  return `0x${bytesToHex(sha256(concatBytes(new TextEncoder().encode('vigil-kickoff'), e, hexToBytes(root))))}`;
}

/**
 * Share of the random workload's steps that try an input the reference refuses: on the L2 they are
 * reverted transactions, the inputs only a precondition fault accepts (docs/protocol.md §10).
 */
export const DEVNET_REJECTED_SHARE = 0.08;

/**
 * The devnet's seeded workload: the generator's inputs (some of them refused by the rules, so every
 * fault of the catalogue can bite) cut after `epochs` epoch ends.
 */
export function devnetWorkload(o: { seed?: number; epochs?: number }): Workload {
  const epochs = o.epochs ?? 5;
  const epochLength = 30;
  const w = generateWorkload({
    seed: o.seed ?? 1,
    inputs: Math.ceil(epochs * epochLength * 1.4) + 20,
    epochLength,
    rejected: DEVNET_REJECTED_SHARE,
  });
  // Cut after the requested number of epoch ends.
  let seen = 0;
  const inputs: GovernanceInput[] = [];
  for (const i of w.inputs) {
    inputs.push(i);
    if (i.kind === 'endEpoch' && ++seen === epochs) break;
  }
  return { genesis: w.genesis, inputs };
}

/**
 * The devnet's block gas limit when a scenario's genesis leaves `l2GasLimit` at the protocol default:
 * the driver gives every transaction 15M gas and mines a workload block's inputs together.
 */
export const DEVNET_L2_GAS_LIMIT = 10_000_000_000n;
/** anvil starts at a 1 gwei base fee, and the deployment's blocks lower it before the sequencer runs. */
const DEVNET_MAX_GENESIS_BASE_FEE = 100_000_000n;

async function loadWorkload(
  o: L2DevnetOptions,
): Promise<Workload & { funding?: SenderFunding; raw?: RawTransaction[] }> {
  if (!o.scenarioFile) return devnetWorkload(o);
  const w = parseInputsFile(await readFile(o.scenarioFile, 'utf8'), o.scenarioFile);
  // What the devnet's chains need where the scenario's genesis leaves the protocol defaults: room for a
  // block of inputs, and a challenge window regtest's graphs can carry (the default 432 is mainnet's).
  const params = {
    l2GasLimit: DEVNET_L2_GAS_LIMIT,
    challengeWindow: BigInt(defaultGraphParameters.regtest.timelocks.challengeWindow),
    ...w.genesis.params,
  };
  if ((params.minBaseFee ?? 0n) > DEVNET_MAX_GENESIS_BASE_FEE) {
    throw new VigilError(
      `${o.scenarioFile}: a genesis minBaseFee of ${params.minBaseFee} wei is more than the devnet can keep from its first block (${DEVNET_MAX_GENESIS_BASE_FEE})`,
      {
        metaMessages: [
          "The contracts are deployed before the devnet's sequencer sets the floor, and anvil's base fee falls from 1 gwei meanwhile; vote a higher floor in the scenario instead.",
        ],
      },
    );
  }
  return { ...w, genesis: { ...w.genesis, params } };
}

/** The gas limit a workload's genesis puts in force: anvil starts with it. */
export const genesisGasLimit = (genesis: GenesisOptions): bigint =>
  genesis.params?.l2GasLimit ?? PARAM_SPECS.l2GasLimit.default;

export async function startL2Devnet(o: L2DevnetOptions): Promise<L2Devnet> {
  const workload = await loadWorkload(o);
  const sequencerFault = o.fault !== undefined && isSequencerFault(o.fault) ? o.fault : 'none';
  const operatorExecutor =
    !o.fault || o.fault === 'none' || sequencerFault !== 'none'
      ? REFERENCE_EXECUTOR
      : executorByName(o.fault);
  const anvil = await startAnvil({ gasLimit: genesisGasLimit(workload.genesis) });
  const prefix = `{vigil-devnet-${randomUUID()}}`;
  const cleanup = () => deleteKeysByPrefix(o.redis, `${prefix}:`);
  try {
    const deployment = await deployOnAnvil(anvil.rpcUrl, workload.genesis);
    o.logger?.info({ rpcUrl: anvil.rpcUrl, ...deployment.addresses }, 'devnet: contracts deployed');
    const rpc = new AnvilRpc(anvil.rpcUrl);
    const driver = new WorkloadDriver(rpc, deployment.addresses, DEVNET_DEPLOYER);
    const sequencer = new RollupSequencer(rpc, deployment.addresses.registry, sequencerFault);
    await sequencer.start();

    const run = async (): Promise<L2DevnetRun> => {
      const l2 = new L2Rpc({ urls: [anvil.rpcUrl], metrics: o.metrics, logger: o.logger });
      const commits = new Map<bigint, { root: string; kickoff: Hex }>();
      // The operator ingests like Vigil and commits each epoch's root. An honest one commits the chain's
      // root; a faulty one re-executes the feed with its own executor, which keeps what its checks accept
      // even where the chain refused it by a rule: that is how a precondition fault (quorum not
      // checked, …) turns a refused transaction into a wrong root.
      const operatorRoot = (end: EpochEnd): string =>
        operatorExecutor === REFERENCE_EXECUTOR
          ? end.root
          : `0x${bytesToHex(
              reexecute(operator.derivation.inputs.slice(0, end.lastInput + 1), {
                genesis: workload.genesis,
                executor: operatorExecutor,
              }).root,
            )}`;
      const operator = createGovernanceIngester({
        rpc: l2,
        redis: o.redis,
        prefix: `${prefix}:operator`,
        deployment,
        crossCheck: false,
        onEpochEnd: async (end: EpochEnd) => {
          const root = operatorRoot(end);
          const kickoff = placeholderKickoffTxid(end.epoch, root);
          commits.set(end.epoch, { root, kickoff });
          await rpc.request('eth_sendTransaction', [
            {
              from: DEVNET_OPERATOR,
              to: deployment.addresses.stateCommitment,
              data: encodeFunctionData({
                abi: stateCommitmentAbi,
                functionName: 'commit',
                args: [end.epoch, root as Hex, kickoff],
              }),
              gas: '0x1e8480',
            },
          ]);
        },
      });
      // Vigil's side: the reference model with the epoch-end cross-check.
      const vigil = createGovernanceIngester({
        rpc: l2,
        redis: o.redis,
        prefix: `${prefix}:vigil`,
        deployment,
        metrics: o.metrics,
        logger: o.logger,
      });
      const replay = await driver.replay(workload.inputs, {
        ...(workload.funding ? { funding: workload.funding } : {}),
        ...(workload.raw ? { raw: workload.raw } : {}),
        sequencer,
        onBlock: async (block) => {
          await operator.ingester.syncTo(block);
        },
      });
      await sequencer.beforeBlock();
      await rpc.mine(1); // the last epoch's commitment
      await sequencer.afterBlock(await rpc.blockNumber(), [], 1); // the operator's commitment
      const head = await rpc.blockNumber();
      await vigil.ingester.syncTo(head);
      const stories: EpochStory[] = vigil.derivation.epochEnds.map((end) => {
        const committed = vigil.derivation.commitments.get(end.epoch);
        const story: EpochStory = {
          epoch: end.epoch,
          block: end.block,
          referenceRoot: end.root,
          committedRoot: committed?.stateRoot,
          kickoffTxid: committed?.kickoffTxid,
          agrees: committed?.stateRoot === end.root,
        };
        o.onEpoch?.(story);
        return story;
      });
      return {
        rpcUrl: anvil.rpcUrl,
        deployment,
        inputs: replay.sent,
        epochs: stories,
        executionFaults: vigil.faults,
        operatorExecutor: operatorExecutor.name,
        sequencerDeviations: sequencer.firstDeviations(),
      };
    };

    return {
      anvil,
      rpcUrl: anvil.rpcUrl,
      deployment,
      run,
      stop: async () => {
        await cleanup();
        await anvil.stop();
      },
    };
  } catch (err) {
    await cleanup();
    await anvil.stop();
    throw err;
  }
}
