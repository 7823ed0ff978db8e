/** A graph for tests: deterministic keys, derived Winternitz keys, a claim outpoint, presigned. */
import * as ecc from 'tiny-secp256k1';
import { identityStepCircuit } from '../../circuits/identity.ts';
import type { BitcoinNetwork } from '../../src/bitcoin/network.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import { buildGraph, type Graph, type GraphSpec } from '../../src/dispute/graph/build.ts';
import type { GraphExpectations } from '../../src/dispute/graph/import.ts';
import {
  defaultGraphParameters,
  type GraphParameters,
  GraphValue,
} from '../../src/dispute/graph/parameters.ts';
import { collectSignatures, type PresignedSignatures, presignGraph } from '../../src/dispute/graph/sign.ts';
import type { KickoffSecrets } from '../../src/dispute/graph/spend.ts';
import { deriveWotsSecretKey, type WotsSecretKey, wotsPublicKey } from '../../src/dispute/winternitz/keys.ts';

export const secretOf = (label: string): Uint8Array => sha256(utf8(`vigil test key ${label}`));
export const xOnly = (secret: Uint8Array): Uint8Array => Uint8Array.from(ecc.xOnlyPointFromScalar(secret));

export type GraphFixture = {
  graph: Graph;
  sigs: PresignedSignatures;
  operatorSecret: Uint8Array;
  committeeSecrets: Uint8Array[];
  kickoffSecrets: KickoffSecrets;
  traceSecrets: WotsSecretKey[];
  wotsSeed: Uint8Array;
};

/** What a watcher expects of the fixture's graphs: regtest parameters, the identity circuit, its keys. */
export function fixtureExpectations(): GraphExpectations {
  return {
    network: 'regtest',
    params: defaultGraphParameters.regtest,
    circuit: identityStepCircuit,
    operator: xOnly(secretOf('operator')),
    committee: [xOnly(secretOf('committee 1'))],
  };
}

export function makeGraphSpec(
  options: {
    network?: BitcoinNetwork;
    params?: GraphParameters;
    epoch?: bigint;
    claimTxid?: Uint8Array;
    claimVout?: number;
    wotsSeed?: Uint8Array;
  } = {},
): { spec: GraphSpec; kickoffSecrets: KickoffSecrets; traceSecrets: WotsSecretKey[] } {
  const network = options.network ?? 'regtest';
  const params = options.params ?? defaultGraphParameters[network];
  const epoch = options.epoch ?? 42n;
  const operator = xOnly(secretOf('operator'));
  const seed = options.wotsSeed ?? sha256(utf8('vigil test wots seed'));
  const key = (valueIndex: number, messageBytes: number) =>
    deriveWotsSecretKey(seed, { network, operator, epoch, instance: 0, valueIndex, messageBytes });
  const kickoffSecrets: KickoffSecrets = {
    epoch: key(GraphValue.epoch, 8),
    stateRoot: key(GraphValue.stateRoot, 32),
    l2BlockHash: key(GraphValue.l2BlockHash, 32),
  };
  const traceSecrets = Array.from({ length: params.traceSteps }, (_, i) => key(GraphValue.traceBase + i, 32));
  const spec: GraphSpec = {
    network,
    params,
    operator,
    committee: [xOnly(secretOf('committee 1'))],
    epoch,
    instance: 0,
    claim: {
      txid: options.claimTxid ?? sha256(utf8('claim funding')),
      vout: options.claimVout ?? 0,
      value: params.stake + 2n * params.connectorValue + params.fees.kickoff,
    },
    wots: {
      epoch: wotsPublicKey(kickoffSecrets.epoch),
      stateRoot: wotsPublicKey(kickoffSecrets.stateRoot),
      l2BlockHash: wotsPublicKey(kickoffSecrets.l2BlockHash),
      trace: traceSecrets.map(wotsPublicKey),
    },
    circuit: identityStepCircuit,
  };
  return { spec, kickoffSecrets, traceSecrets };
}

export function makeGraph(options: Parameters<typeof makeGraphSpec>[0] = {}): GraphFixture {
  const { spec, kickoffSecrets, traceSecrets } = makeGraphSpec(options);
  const graph = buildGraph(spec);
  const operatorSecret = secretOf('operator');
  const committeeSecrets = [secretOf('committee 1')];
  const sigs = collectSignatures(
    graph,
    [operatorSecret, ...committeeSecrets].map((s) => presignGraph(graph, s)),
  );
  return {
    graph,
    sigs,
    operatorSecret,
    committeeSecrets,
    kickoffSecrets,
    traceSecrets,
    wotsSeed: options.wotsSeed ?? sha256(utf8('vigil test wots seed')),
  };
}
