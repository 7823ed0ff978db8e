/**
 * One epoch's graph on the devnet operator's side: Winternitz keys derived from the devnet seed (one key
 * per operator, epoch and value, so each signs once), the graph built on the claim outpoint, presigned by
 * the operator and the committee, and published atomically as `epoch-<n>.json`.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ecc from 'tiny-secp256k1';
import { identityStepCircuit } from '../../circuits/identity.ts';
import { taprootOutput, UNSPENDABLE_INTERNAL_KEY } from '../bitcoin/taproot/output.ts';
import { buildTapTree } from '../bitcoin/taproot/tree.ts';
import { equalBytes } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import { buildGraph, type Graph, type GraphSpec } from '../dispute/graph/build.ts';
import { encodeGraphDocument, graphToDocument } from '../dispute/graph/document.ts';
import { defaultGraphParameters, type GraphParameters, GraphValue } from '../dispute/graph/parameters.ts';
import { kickoffLeaf } from '../dispute/graph/scripts.ts';
import { collectSignatures, type PresignedSignatures, presignGraph } from '../dispute/graph/sign.ts';
import type { KickoffSecrets } from '../dispute/graph/spend.ts';
import { deriveWotsSecretKey, type WotsSecretKey, wotsPublicKey } from '../dispute/winternitz/keys.ts';
import type { DevnetOperatorSecrets } from './operator-keys.ts';

export class ClaimScriptMismatchError extends VigilError {
  override name = 'ClaimScriptMismatchError';
}

export const DEVNET_NETWORK = 'regtest' as const;
export const devnetGraphParameters: GraphParameters = defaultGraphParameters[DEVNET_NETWORK];

/** What the claim output must hold: stake, both connectors and the kick-off's fee. */
export const claimValue = (p: GraphParameters): bigint => p.stake + 2n * p.connectorValue + p.fees.kickoff;

export type EpochKeys = {
  kickoff: KickoffSecrets;
  trace: WotsSecretKey[];
  spec: Omit<GraphSpec, 'claim'>;
};

/** The devnet's graph parameters with an epoch's governed challenge window (T_c). */
export const graphParametersFor = (challengeWindow: number): GraphParameters => ({
  ...devnetGraphParameters,
  timelocks: { ...devnetGraphParameters.timelocks, challengeWindow },
});

/**
 * The epoch's Winternitz keys and the graph's specification, short of the claim outpoint. The graph's
 * challenge window is the governed one in force during the epoch: Vigil refuses any other (§20).
 */
export function epochKeys(secrets: DevnetOperatorSecrets, epoch: bigint, challengeWindow: number): EpochKeys {
  const params = graphParametersFor(challengeWindow);
  const operator = Uint8Array.from(ecc.xOnlyPointFromScalar(secrets.operator));
  const key = (valueIndex: number, messageBytes: number) =>
    deriveWotsSecretKey(secrets.wotsSeed, {
      network: DEVNET_NETWORK,
      operator,
      epoch,
      instance: 0,
      valueIndex,
      messageBytes,
    });
  const kickoff: KickoffSecrets = {
    epoch: key(GraphValue.epoch, 8),
    stateRoot: key(GraphValue.stateRoot, 32),
    l2BlockHash: key(GraphValue.l2BlockHash, 32),
  };
  const trace = Array.from({ length: params.traceSteps }, (_, i) => key(GraphValue.traceBase + i, 32));
  return {
    kickoff,
    trace,
    spec: {
      network: DEVNET_NETWORK,
      params,
      operator,
      committee: secrets.committee.map((s) => Uint8Array.from(ecc.xOnlyPointFromScalar(s))),
      epoch,
      instance: 0,
      wots: {
        epoch: wotsPublicKey(kickoff.epoch),
        stateRoot: wotsPublicKey(kickoff.stateRoot),
        l2BlockHash: wotsPublicKey(kickoff.l2BlockHash),
        trace: trace.map(wotsPublicKey),
      },
      circuit: identityStepCircuit,
    },
  };
}

/**
 * The claim output's script. It commits to the kick-off's Winternitz keys and the operator only, not to
 * the claim outpoint, so it is known before the transaction that creates the output.
 */
export function claimScript(keys: EpochKeys): Uint8Array {
  // As buildGraph makes it; presignedGraph checks the two agree. Building a whole graph just for this
  // output would double the cost of a claim.
  const w = keys.spec.wots;
  const leaf = kickoffLeaf(keys.spec.operator, [w.epoch, w.stateRoot, w.l2BlockHash]);
  return taprootOutput(UNSPENDABLE_INTERNAL_KEY, buildTapTree({ script: leaf })).scriptPubKey;
}

/** The graph on its claim outpoint, presigned by the operator and every committee member. */
export function presignedGraph(
  keys: EpochKeys,
  secrets: DevnetOperatorSecrets,
  claim: { txid: Uint8Array; vout: number; script: Uint8Array },
): { graph: Graph; sigs: PresignedSignatures } {
  const graph = buildGraph({
    ...keys.spec,
    claim: { txid: claim.txid, vout: claim.vout, value: claimValue(keys.spec.params) },
  });
  if (!equalBytes(graph.outputs.claim.scriptPubKey, claim.script)) {
    throw new ClaimScriptMismatchError(
      `Epoch ${keys.spec.epoch}: the funded claim output is not the graph's claim output`,
    );
  }
  const sigs = collectSignatures(
    graph,
    [secrets.operator, ...secrets.committee].map((s) => presignGraph(graph, s)),
  );
  return { graph, sigs };
}

export const graphFileOf = (graphDir: string, epoch: bigint): string => join(graphDir, `epoch-${epoch}.json`);

/** The graph's canonical document, as the operator publishes it. */
export const graphDocumentText = (graph: Graph, sigs: PresignedSignatures): string =>
  new TextDecoder().decode(encodeGraphDocument(graphToDocument(graph, sigs)));

/** Writes the graph's canonical document: to a temporary name first, so a reader never sees half a file. */
export async function publishGraph(
  graphDir: string,
  graph: Graph,
  sigs: PresignedSignatures,
): Promise<string> {
  return writeGraphText(graphDir, graph.spec.epoch, graphDocumentText(graph, sigs));
}

/** Writes any text as the epoch's graph file, atomically (strategies publish malformed documents too). */
export async function writeGraphText(graphDir: string, epoch: bigint, text: string): Promise<string> {
  const file = graphFileOf(graphDir, epoch);
  // The temporary name does not match the registry's `epoch-<n>.json` pattern.
  const tmp = join(graphDir, `.epoch-${epoch}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return file;
}
