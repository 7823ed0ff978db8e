/**
 * The L2 half of a dispute bundle, read from the chain alone: the governance history an epoch's root is
 * computed from (genesis and every input since, overruled ones left out, as the watcher re-executes
 * them), where the epoch ends, and what the operator committed for it. Ingestion is `vigil verify`'s
 * (`ingestL2`): the same journal cache serves both commands.
 */
import { equalBytes, hexToBytes } from '../core/bytes.ts';
import type { GenesisOptions, GovernanceInput } from '../governance/index.ts';
import type { JournalStore } from '../l2/cursor-store.ts';
import type { L2Entry, StateCommitmentRecord } from '../l2/decode.ts';
import type { EpochEnd } from '../l2/derivation.ts';
import type { WatchedDeployment } from '../l2/governance-contracts.ts';
import type { L2Rpc } from '../l2/rpc.ts';
import { findEpochEnd, type IngestProgress, ingestL2, inputsBetween } from '../verify/epoch.ts';
import type { BundleL2Commitment } from './bundle.ts';

export type L2HistoryOptions = {
  rpc: L2Rpc;
  deployment: WatchedDeployment;
  store: JournalStore<L2Entry>;
  epoch: bigint;
  /** Blocks on top of the L2 head before a block is ingested (config `l2.confirmations`). */
  confirmations: number;
  /** The chain id the L2 node must report; without it the node's own is recorded. */
  chainId?: number;
  maxRange?: bigint;
  onProgress?: (p: IngestProgress) => void;
};

export type L2History = {
  epoch: bigint;
  genesis: GenesisOptions;
  /** Every input since genesis through the epoch's endEpoch, in L2 order, overruled ones left out. */
  inputs: GovernanceInput[];
  /** Index in `inputs` of the epoch's first input. */
  epochStart: number;
  chainId: number;
  epochEndBlock: bigint;
  /** 0x-hex. */
  epochEndBlockHash: string;
  /** Vigil's root for the epoch (the reference model's), 0x-hex. */
  root: string;
  /** The operator's commitment of the epoch on the L2, when it committed one. */
  commitment: BundleL2Commitment | undefined;
  /** The challenge window governance had in force during the epoch (blocks), when the model knows it. */
  governedChallengeWindow: number | undefined;
  /**
   * The graph document hash the operator committed on the L2. The StateCommitment contract records
   * none today (a commitment names a state root and a kick-off txid only), so this is undefined.
   */
  graphCommitment: Uint8Array | undefined;
  /** The blocks read from the L2 in this run (0 when the cache already had them). */
  blocksRead: bigint;
};

const ZERO_HASH = new Uint8Array(32);

/**
 * The L2 transaction that committed: the one at the commitment's position, when it is a call to the
 * StateCommitment contract (the journal records the position, not the hash).
 */
async function commitmentTxHash(
  rpc: L2Rpc,
  c: StateCommitmentRecord,
  stateCommitment: string,
): Promise<string | undefined> {
  const block = await rpc.blockWithTransactions(c.position.block);
  const tx = block.transactions[c.position.txIndex];
  if (tx === undefined || tx.to?.toLowerCase() !== stateCommitment.toLowerCase()) return undefined;
  return tx.hash.toLowerCase();
}

async function bundleCommitment(
  rpc: L2Rpc,
  c: StateCommitmentRecord | undefined,
  stateCommitment: string,
): Promise<BundleL2Commitment | undefined> {
  if (c === undefined) return undefined;
  const kickoff = hexToBytes(c.kickoffTxid, 'the committed kick-off txid');
  return {
    stateRoot: hexToBytes(c.stateRoot, 'the committed state root'),
    block: c.position.block,
    txHash: await commitmentTxHash(rpc, c, stateCommitment),
    // Bitcoin txids in the bundle are display-order hex without 0x, as the backends print them; a
    // zero hash names no kick-off.
    kickoffTxid: equalBytes(kickoff, ZERO_HASH) ? undefined : c.kickoffTxid.replace(/^0x/, ''),
  };
}

/** Ingests the L2 (through the journal cache) and returns epoch `epoch`'s history and commitment. */
export async function readL2History(o: L2HistoryOptions): Promise<L2History> {
  const { derivation, start, through } = await ingestL2(o);
  const end: EpochEnd = findEpochEnd(derivation, o.epoch, through);
  const chainId = o.chainId ?? (await o.rpc.call('eth_chainId', (c) => c.getChainId()));
  const prior = inputsBetween(derivation, 0, end.firstInput);
  const inputs = [...prior, ...inputsBetween(derivation, end.firstInput, end.lastInput + 1)];
  const window = derivation.paramsOfEpoch(end.epoch)?.challengeWindow;
  return {
    epoch: end.epoch,
    genesis: derivation.genesis,
    inputs,
    epochStart: prior.length,
    chainId,
    epochEndBlock: end.block,
    epochEndBlockHash: end.blockHash.toLowerCase(),
    root: end.root.toLowerCase(),
    commitment: await bundleCommitment(
      o.rpc,
      derivation.commitments.get(end.epoch),
      o.deployment.addresses.stateCommitment,
    ),
    governedChallengeWindow: window === undefined ? undefined : Number(window),
    graphCommitment: undefined,
    blocksRead: through === undefined ? 0n : through - start,
  };
}
