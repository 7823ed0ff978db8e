/**
 * `vigil verify --epoch N`: one epoch checked from the chains alone, with no Redis and no daemon. The
 * L2 is ingested into a journal store (a cache directory, so the next run reads only new blocks), the
 * reference model re-executes every input, and Vigil's root for the epoch is compared with each root
 * there is to compare: the one a validator is about to commit, the operator's L2 commitment, and the
 * root Winternitz-signed in the Bitcoin kick-off (read through the operator's graph). A root that
 * differs is explained, when a catalogue fault reproduces it, by the first step and the rule it broke.
 */
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { verifiedOutspend } from '../bitcoin/backends/verified-outspend.ts';
import { hashToDisplayHex } from '../bitcoin/tx/serialize.ts';
import { bytesToHex, equalBytes, hexToBytes } from '../core/bytes.ts';
import { VigilError, type VigilErrorCategory } from '../core/errors.ts';
import { type GraphExpectations, type ImportedGraph, importGraph } from '../dispute/graph/import.ts';
import { readKickoff } from '../dispute/graph/spend.ts';
import {
  type Address,
  createGenesisState,
  type GovernanceInput,
  REFERENCE_EXECUTOR,
  reexecute,
} from '../governance/index.ts';
import { diagnoseFraud, type FraudDiagnosis } from '../judge/diagnose.ts';
import { ContractCrossChecker } from '../l2/cross-check.ts';
import type { JournalStore } from '../l2/cursor-store.ts';
import type { L2Entry } from '../l2/decode.ts';
import type { EpochEnd, GovernanceDerivation } from '../l2/derivation.ts';
import type { WatchedDeployment } from '../l2/governance-contracts.ts';
import { createGovernanceIngester, type L2ExecutionFault } from '../l2/governance-ingester.ts';
import { type ViolationRun, ViolationRuns } from '../l2/header-check.ts';
import type { L2Rpc } from '../l2/rpc.ts';
import { type AccountVerification, verifyAccount } from './account-run.ts';

/** The epoch asked for has not ended on the L2 ingested so far. */
export class EpochNotEndedError extends VigilError {
  override name = 'EpochNotEndedError';
  override readonly category: VigilErrorCategory = 'usage';
}

/** The L2 node is another chain than the configuration names. */
export class VerifyChainMismatchError extends VigilError {
  override name = 'VerifyChainMismatchError';
  override readonly category: VigilErrorCategory = 'config';
}

export type IngestProgress = { start: bigint; cursor: bigint; head: bigint };

/** The operator's graph for the epoch, and where to read its kick-off. */
export type GraphSource = {
  document: unknown;
  /** Where the document came from, for messages. */
  name: string;
  expectations: Omit<GraphExpectations, 'epoch' | 'commitment'>;
  /** Without one the graph is imported and checked, but the kick-off is not read. */
  backend?: BitcoinBackend;
};

export type VerifyEpochOptions = {
  rpc: L2Rpc;
  deployment: WatchedDeployment;
  store: JournalStore<L2Entry>;
  /** The epoch, or the last one that ended on the ingested L2. */
  epoch: bigint | 'latest';
  /** Blocks on top of the L2 head before a block is ingested (config `l2.confirmations`). */
  confirmations: number;
  /** The chain id the L2 node must report. */
  chainId?: number;
  maxRange?: bigint;
  /** The root a validator is about to commit. */
  root?: Uint8Array;
  /** The operator's graph, or how to find it once the epoch is known (`--latest`). */
  graph?: GraphSource | ((epoch: bigint) => GraphSource | undefined);
  /** Also read the contracts at the epoch's end block and compare every field with the model (default true). */
  crossCheck?: boolean;
  /** Longest history (inputs since genesis) re-executed once per catalogue fault to explain a wrong root. */
  diagnoseMaxInputs?: number;
  onProgress?: (p: IngestProgress) => void;
  /** Also report one validator's or delegator's figures, proofs and the contracts' answers (lowercase). */
  account?: Address;
};

export type RootSource = 'given' | 'l2-commitment' | 'bitcoin-kickoff';

export type RootCheck = {
  source: RootSource;
  /** agrees/disagrees: compared; missing: nothing to compare yet; unchecked: cannot be read here. */
  status: 'agrees' | 'disagrees' | 'missing' | 'unchecked';
  /** The root the source gives, 0x-hex. */
  root?: string;
  detail?: string;
  /** Why the root differs, when a catalogue fault reproduces it (or why none does). */
  diagnosis?: FraudDiagnosis;
};

export type EpochVerification = {
  epoch: bigint;
  /** The L2 block of the epoch's end, its hash, and how deep it is under the head. */
  endBlock: bigint;
  endBlockHash: string;
  depth: number;
  /** Vigil's root for the epoch, 0x-hex. */
  root: string;
  /** The epoch's inputs, reverted ones included, and every input since genesis. */
  epochInputs: number;
  inputsSinceGenesis: number;
  checks: RootCheck[];
  /** The contracts read at the epoch's end block against the model (absent when turned off). */
  crossCheck?: { ok: boolean; differences: string[]; calls: number };
  /** L2 execution faults ingestion saw in the epoch's blocks: the L2 broke the rules itself. */
  l2Faults: L2ExecutionFault[];
  graph?: { name: string; imported: boolean; error?: string; kickoffTxid?: string };
  /** The account asked for with `account`. */
  account?: AccountVerification;
  /** The blocks read from the L2 in this run (0 when the cache already had them). */
  blocksRead: bigint;
  /** How many roots were compared (sources that agree or disagree; missing and unchecked ones are not). */
  compared: number;
  /** At least one root was compared, every compared one agrees, the contracts match and the L2 broke no rule. */
  ok: boolean;
  /** Something compared disagreed, or the L2 broke a rule. */
  disagreement: boolean;
};

const hex0x = (b: Uint8Array): string => `0x${bytesToHex(b)}`;

/** The derivation's inputs in [from, to), without those the chain overruled (as the watcher does). */
export function inputsBetween(d: GovernanceDerivation, from: number, to: number): GovernanceInput[] {
  const overruled = d.overruledInputs;
  const slice = d.inputs.slice(from, to);
  if (overruled.size === 0) return slice;
  return slice.filter((_, i) => !overruled.has(from + i));
}

/** The end of `epoch` (or the last epoch that ended) in the ingested history; EpochNotEndedError if none. */
export function findEpochEnd(
  d: GovernanceDerivation,
  epoch: bigint | 'latest',
  through: bigint | undefined,
): EpochEnd {
  const ends = d.epochEnds;
  const last = ends.at(-1);
  const at = `the L2 ingested through block ${through ?? 'none'}`;
  if (epoch === 'latest') {
    if (last === undefined) throw new EpochNotEndedError(`no epoch has ended on ${at}`);
    return last;
  }
  for (let i = ends.length - 1; i >= 0; i--)
    if ((ends[i] as EpochEnd).epoch === epoch) return ends[i] as EpochEnd;
  throw new EpochNotEndedError(`epoch ${epoch} has not ended on ${at}`, {
    metaMessages: [
      last === undefined ? 'No epoch has ended yet.' : `The last epoch that ended is ${last.epoch}.`,
      'An epoch is verified once its end block is l2.confirmations deep.',
    ],
  });
}

export type IngestL2Options = Pick<
  VerifyEpochOptions,
  'rpc' | 'deployment' | 'store' | 'confirmations' | 'chainId' | 'maxRange' | 'onProgress'
>;

/** The governance history ingested from the L2, as far as it is deep enough. */
export type IngestedL2 = {
  derivation: GovernanceDerivation;
  /** The block ingestion started after (the cache's cursor, or the block before the deployment). */
  start: bigint;
  /** The last block ingested, undefined when none is yet. */
  through: bigint | undefined;
  /** The L2 head when ingestion stopped. */
  head: bigint;
};

/**
 * Ingests the L2 into the journal store up to its head (less `confirmations`) with the reference
 * executor, after checking the node is the chain asked for: what `vigil verify` and `vigil replay
 * fetch` both read an epoch from.
 */
export async function ingestL2(o: IngestL2Options): Promise<IngestedL2> {
  if (o.chainId !== undefined) {
    const id = await o.rpc.call('eth_chainId', (c) => c.getChainId());
    if (id !== o.chainId) {
      throw new VerifyChainMismatchError(`The L2 node reports chain id ${id}, not ${o.chainId}`, {
        metaMessages: ['Check l2.rpcUrls and l2.chainId: Vigil verifies one chain only.'],
      });
    }
  }
  const ingestion = createGovernanceIngester({
    rpc: o.rpc,
    store: o.store,
    deployment: o.deployment,
    confirmations: o.confirmations,
    maxRange: o.maxRange,
    executor: REFERENCE_EXECUTOR,
    // One cross-check by the caller, at the epoch asked for: not one per epoch of the whole history.
    crossCheck: false,
  });
  const { ingester, derivation } = ingestion;
  await ingester.init();
  const start = ingester.cursor?.number ?? o.deployment.startBlock - 1n;
  for (;;) {
    const r = await ingester.step();
    if (o.onProgress) {
      const head = await o.rpc.blockNumber();
      o.onProgress({ start, cursor: ingester.cursor?.number ?? start, head });
    }
    if (r === 'idle') break;
  }
  const head = await o.rpc.blockNumber();
  return { derivation, start, through: ingester.cursor?.number, head };
}

/** Ingests the L2 up to its head (less `confirmations`) and verifies one epoch. */
export async function verifyEpoch(o: VerifyEpochOptions): Promise<EpochVerification> {
  const { derivation, start, through, head } = await ingestL2(o);
  const end = findEpochEnd(derivation, o.epoch, through);
  const vigilRoot = hexToBytes(end.root);
  const prior = inputsBetween(derivation, 0, end.firstInput);
  const epochInputs = inputsBetween(derivation, end.firstInput, end.lastInput + 1);
  const maxDiagnose = o.diagnoseMaxInputs ?? 20_000;
  const explain = (claimed: Uint8Array): FraudDiagnosis =>
    end.lastInput + 1 > maxDiagnose
      ? {
          fault: undefined,
          reason: `not diagnosed: ${end.lastInput + 1} inputs since genesis, more than ${maxDiagnose}`,
        }
      : diagnoseFraud({ genesis: derivation.genesis, priorInputs: prior, epochInputs, claimedRoot: claimed });
  const compare = (source: RootSource, root: Uint8Array, detail?: string): RootCheck => {
    const same = equalBytes(root, vigilRoot);
    return {
      source,
      status: same ? 'agrees' : 'disagrees',
      root: hex0x(root),
      ...(detail !== undefined ? { detail } : {}),
      ...(same ? {} : { diagnosis: explain(root) }),
    };
  };

  const checks: RootCheck[] = [];
  if (o.root !== undefined) checks.push(compare('given', o.root));
  const commitment = derivation.commitments.get(end.epoch);
  checks.push(
    commitment === undefined
      ? {
          source: 'l2-commitment',
          status: 'missing',
          detail: `no commitment for epoch ${end.epoch} on the L2 through block ${through ?? 'none'}`,
        }
      : compare(
          'l2-commitment',
          hexToBytes(commitment.stateRoot),
          `block ${commitment.position.block}, operator ${commitment.operator}`,
        ),
  );
  const graph = typeof o.graph === 'function' ? o.graph(end.epoch) : o.graph;
  const graphReport = graph
    ? await checkKickoff(
        graph,
        end.epoch,
        derivation.paramsOfEpoch(end.epoch)?.challengeWindow,
        commitment?.kickoffTxid,
        checks,
        compare,
      )
    : undefined;
  if (!graph) {
    checks.push({
      source: 'bitcoin-kickoff',
      status: 'unchecked',
      detail: "no operator graph given: the kick-off's signed root is read through the graph",
    });
  }

  let crossCheck: EpochVerification['crossCheck'];
  if (o.crossCheck !== false) {
    // The contracts at the end block hold every input of that block, including any after the endEpoch.
    let last = end.lastInput;
    while ((derivation.inputs[last + 1]?.position.block ?? end.block + 1n) === end.block) last++;
    const state = createGenesisState(derivation.genesis);
    reexecute(inputsBetween(derivation, 0, last + 1), { state });
    const checker = new ContractCrossChecker(o.deployment.addresses);
    const r = await o.rpc.call('eth_call', (client) => checker.check(client, state, end.block));
    crossCheck = { ok: r.ok, differences: r.differences, calls: r.calls };
  }
  const l2Faults = [
    ...l2FaultsIn(derivation, end),
    ...(await headerFaultsIn(o.rpc, derivation, end, o.deployment.startBlock)),
  ];
  const account =
    o.account === undefined
      ? undefined
      : await verifyAccount({
          derivation,
          end,
          account: o.account,
          rpc: o.rpc,
          addresses: o.deployment.addresses,
        });
  const compared = checks.filter((c) => c.status === 'agrees' || c.status === 'disagrees').length;
  const disagreement =
    checks.some((c) => c.status === 'disagrees') ||
    (account !== undefined && (account.findings.length > 0 || !account.proofsVerify)) ||
    (crossCheck !== undefined && !crossCheck.ok) ||
    l2Faults.length > 0 ||
    (graphReport !== undefined && !graphReport.imported);
  return {
    epoch: end.epoch,
    endBlock: end.block,
    endBlockHash: end.blockHash,
    depth: head >= end.block ? Number(head - end.block) + 1 : 0,
    root: end.root.toLowerCase(),
    epochInputs: end.lastInput - end.firstInput + 1,
    inputsSinceGenesis: end.lastInput + 1,
    checks,
    ...(crossCheck ? { crossCheck } : {}),
    l2Faults,
    ...(graphReport ? { graph: graphReport } : {}),
    ...(account ? { account } : {}),
    blocksRead: through === undefined ? 0n : through - start,
    compared,
    ok: !disagreement && compared > 0,
    disagreement,
  };
}

/**
 * The L2 execution faults the derivation recorded in the epoch's blocks (after the previous epoch's end
 * block, up to its own): a fault in an earlier epoch is that epoch's finding, not every later one's.
 */
function l2FaultsIn(d: GovernanceDerivation, end: EpochEnd): L2ExecutionFault[] {
  const index = d.epochEnds.indexOf(end);
  const after = index > 0 ? (d.epochEnds[index - 1] as EpochEnd).block : -1n;
  const inEpoch = (block: bigint) => block > after && block <= end.block;
  const faults: L2ExecutionFault[] = [];
  for (const r of d.rejected) {
    if (!inEpoch(r.input.position.block)) continue;
    faults.push({
      kind: 'rejected-input',
      block: r.input.position.block,
      rule: r.rule,
      reason: r.reason,
      inputKind: r.input.kind,
    });
  }
  for (const r of d.revertedAccepted) {
    if (!inEpoch(r.input.position.block)) continue;
    faults.push({
      kind: 'reverted-input-accepted',
      block: r.input.position.block,
      txHash: r.txHash,
      inputKind: r.input.kind,
      rule: r.rule ?? 'unknown',
    });
  }
  return faults;
}

/**
 * The epoch's block headers against the rollup parameters in force during it (the blocks after the
 * previous epoch's end block, up to its own): read again here, since a cached journal keeps no headers.
 */
async function headerFaultsIn(
  rpc: L2Rpc,
  d: GovernanceDerivation,
  end: EpochEnd,
  startBlock: bigint,
): Promise<L2ExecutionFault[]> {
  const index = d.epochEnds.indexOf(end);
  const from = index > 0 ? (d.epochEnds[index - 1] as EpochEnd).block + 1n : startBlock;
  const params = d.paramsOfEpoch(end.epoch);
  if (params === undefined || from > end.block) return [];
  const headers = await rpc.headers(from, end.block);
  const last = headers[headers.length - 1];
  const linked = headers.every((h, i) => i === 0 || h.parentHash === (headers[i - 1] as typeof h).hash);
  if (!linked || last?.hash !== end.blockHash) {
    throw new VigilError(`the L2 reorganised under epoch ${end.epoch} while its headers were read`, {
      metaMessages: ['Run vigil verify again.'],
    });
  }
  // One fault per run of blocks breaking a parameter the same way, with the run's length in the epoch.
  const runs = new ViolationRuns();
  const found: ViolationRun[] = [];
  for (const h of headers) found.push(...runs.check(h, params).started);
  return found.map(
    (r): L2ExecutionFault => ({
      kind: 'rollup-param-violated',
      block: r.firstBlock,
      blockHash: r.firstHash,
      param: r.param,
      voted: r.voted,
      observed: r.observed,
      blocks: r.blocks,
    }),
  );
}

/**
 * Imports the operator's graph for the epoch (every check the watcher makes) and, with a backend, reads
 * the root its kick-off reveals. The kick-off is found as the spender of the graph's claim output.
 */
async function checkKickoff(
  g: GraphSource,
  epoch: bigint,
  /** The challenge window in force during the epoch (the ingested model's): the graph must carry it. */
  governed: bigint | undefined,
  committedKickoff: string | undefined,
  checks: RootCheck[],
  compare: (source: RootSource, root: Uint8Array, detail?: string) => RootCheck,
): Promise<NonNullable<EpochVerification['graph']>> {
  let imported: ImportedGraph;
  try {
    imported = importGraph(g.document, {
      ...g.expectations,
      epoch,
      ...(governed !== undefined ? { governedChallengeWindow: Number(governed) } : {}),
    });
  } catch (err) {
    const error = err instanceof Error ? err.message.split('\n')[0] : String(err);
    checks.push({ source: 'bitcoin-kickoff', status: 'unchecked', detail: `the graph is refused: ${error}` });
    return { name: g.name, imported: false, ...(error !== undefined ? { error } : {}) };
  }
  if (!g.backend) {
    checks.push({ source: 'bitcoin-kickoff', status: 'unchecked', detail: 'no Bitcoin backend configured' });
    return { name: g.name, imported: true };
  }
  const claim = imported.graph.spec.claim;
  const claimTxid = hashToDisplayHex(claim.txid);
  const spend = await verifiedOutspend(g.backend, claimTxid, claim.vout);
  if (!spend.spent) {
    checks.push({
      source: 'bitcoin-kickoff',
      status: 'missing',
      detail: `the graph's claim output ${claimTxid}:${claim.vout} is unspent: no kick-off yet`,
    });
    return { name: g.name, imported: true };
  }
  if (spend.txid === undefined) {
    checks.push({
      source: 'bitcoin-kickoff',
      status: 'unchecked',
      detail: 'the backend says the claim output is spent but cannot name the kick-off',
    });
    return { name: g.name, imported: true };
  }
  const txid = spend.txid;
  let revealed: ReturnType<typeof readKickoff>;
  try {
    revealed = readKickoff(imported.graph, spend.spender.tx);
  } catch (err) {
    const detail = `the kick-off ${txid} does not reveal a root: ${err instanceof Error ? err.message : String(err)}`;
    checks.push({ source: 'bitcoin-kickoff', status: 'disagrees', detail });
    return { name: g.name, imported: true, kickoffTxid: txid };
  }
  if (revealed.epoch !== epoch) {
    checks.push({
      source: 'bitcoin-kickoff',
      status: 'disagrees',
      detail: `the kick-off ${txid} signs epoch ${revealed.epoch}, not ${epoch}`,
    });
    return { name: g.name, imported: true, kickoffTxid: txid };
  }
  const status = spend.spender.status;
  const where = status.confirmed ? `confirmed at height ${status.blockHeight}` : 'in the mempool';
  const other =
    committedKickoff !== undefined && committedKickoff.replace(/^0x/, '') !== txid
      ? `; the L2 commitment names kick-off ${committedKickoff}`
      : '';
  checks.push(compare('bitcoin-kickoff', revealed.stateRoot, `kick-off ${txid}, ${where}${other}`));
  return { name: g.name, imported: true, kickoffTxid: txid };
}
