/**
 * Import of a published graph. Vigil trusts nothing in the document: it rebuilds the graph from its own
 * protocol parameters and the document's keys, compares every transaction field by field, checks every
 * presigned signature against its sighash, and refuses the first defect with its name and place.
 */

import type { Tx } from '../../bitcoin/tx/types.ts';
import { bytesToHex, equalBytes, hexToBytes } from '../../core/bytes.ts';
import type { DisputeNetwork } from '../network.ts';
import type { WotsPublicKey } from '../winternitz/keys.ts';
import { wotsParameters } from '../winternitz/parameters.ts';
import { buildGraph, type Graph, type GraphSpec } from './build.ts';
import {
  claimTxidFromJson,
  decodeTxHex,
  GRAPH_DOCUMENT_VERSION,
  type GraphDocument,
  graphDocumentHash,
  graphDocumentSchema,
  parametersFromJson,
} from './document.ts';
import { type GraphDefect, GraphImportError, GraphParameterError } from './errors.ts';
import { EPOCH_VALUE_BYTES, type GraphParameters, ROOT_VALUE_BYTES } from './parameters.ts';
import type { StepCircuit } from './scripts.ts';
import { checkPresigned, type PresignedSignatures, presignedKey } from './sign.ts';

export type GraphExpectations = {
  network: DisputeNetwork;
  /** Vigil's own protocol parameters for this network (never the document's). */
  params: GraphParameters;
  circuit: StepCircuit;
  /** The operator and committee keys Vigil knows from the L2's registry. */
  operator: Uint8Array;
  committee: readonly Uint8Array[];
  /** The epoch the claim must be about, when known. */
  epoch?: bigint;
  /** The document hash the operator committed on the L2. */
  commitment?: Uint8Array;
  /**
   * The claim output as the chain has it (from the backend). The kick-off's own Winternitz keys live
   * only in the claim output's script, so without it those keys are checked against the document alone.
   */
  claimPrevout?: { value: bigint; script: Uint8Array };
  /** Winternitz public-key hashes of graphs imported before (hex): none may appear again. */
  knownWotsHashes?: ReadonlySet<string>;
};

export type ImportedGraph = {
  graph: Graph;
  sigs: PresignedSignatures;
  hash: Uint8Array;
  document: GraphDocument;
};

function refuse(defect: GraphDefect, where: string, message: string): never {
  throw new GraphImportError(defect, where, message);
}

function compareParameters(doc: GraphParameters, own: GraphParameters): void {
  const t = own.timelocks;
  for (const name of Object.keys(t) as (keyof typeof t)[]) {
    if (doc.timelocks[name] !== t[name]) {
      const shorter = doc.timelocks[name] < t[name] ? 'shorter than' : 'different from';
      refuse(
        'TIMELOCK_MISMATCH',
        `parameters.timelocks.${name}`,
        `${doc.timelocks[name]} blocks, ${shorter} the protocol's ${t[name]}`,
      );
    }
  }
  const amounts: [string, bigint, bigint][] = [
    ['stake', doc.stake, own.stake],
    ['connectorValue', doc.connectorValue, own.connectorValue],
    ['challengeAmount', doc.challengeAmount, own.challengeAmount],
    ...(Object.keys(own.fees) as (keyof GraphParameters['fees'])[]).map((k): [string, bigint, bigint] => [
      `fees.${k}`,
      doc.fees[k],
      own.fees[k],
    ]),
  ];
  for (const [name, got, want] of amounts) {
    if (got !== want)
      refuse('AMOUNT_MISMATCH', `parameters.${name}`, `${got} sats, the protocol says ${want}`);
  }
  const others: [string, number, number][] = [
    ['timeoutBurnBps', doc.timeoutBurnBps, own.timeoutBurnBps],
    ['disproveBurnBps', doc.disproveBurnBps, own.disproveBurnBps],
    ['traceSteps', doc.traceSteps, own.traceSteps],
  ];
  for (const [name, got, want] of others) {
    if (got !== want) refuse('PARAMETER_MISMATCH', `parameters.${name}`, `${got}, the protocol says ${want}`);
  }
}

function wotsKeys(doc: GraphDocument): { name: string; key: WotsPublicKey }[] {
  const k = (name: string, bytes: number, hashes: string[]) => ({
    name,
    key: { messageBytes: bytes, hashes: hashes.map((h) => hexToBytes(h)) },
  });
  return [
    k('wots.epoch', EPOCH_VALUE_BYTES, doc.wots.epoch),
    k('wots.stateRoot', ROOT_VALUE_BYTES, doc.wots.stateRoot),
    k('wots.l2BlockHash', ROOT_VALUE_BYTES, doc.wots.l2BlockHash),
    ...doc.wots.trace.map((t, i) => k(`wots.trace[${i}]`, ROOT_VALUE_BYTES, t)),
  ];
}

/** Every Winternitz chain of the graph must be fresh: a repeated hash means a reused one-time key. */
function checkWots(
  keys: { name: string; key: WotsPublicKey }[],
  known: ReadonlySet<string> | undefined,
): void {
  const seen = new Map<string, string>();
  for (const { name, key } of keys) {
    const expected = wotsParameters(key.messageBytes).totalDigits;
    if (key.hashes.length !== expected) {
      refuse(
        'WOTS_KEY_SHAPE',
        name,
        `${key.hashes.length} hashes; a ${key.messageBytes}-byte value needs ${expected}`,
      );
    }
    key.hashes.forEach((h, i) => {
      const id = bytesToHex(h);
      const where = `${name}[${i}]`;
      const before = seen.get(id);
      if (before) refuse('WOTS_KEY_REUSE', where, `the same Winternitz chain as ${before}`);
      if (known?.has(id))
        refuse('WOTS_KEY_REUSE', where, 'a Winternitz chain already used by an earlier graph');
      seen.set(id, where);
    });
  }
}

function compareTx(name: string, got: Tx, want: Tx): void {
  if (got.version !== want.version || got.locktime !== want.locktime) {
    refuse(
      'TX_MISMATCH',
      name,
      `version/locktime ${got.version}/${got.locktime}, expected ${want.version}/${want.locktime}`,
    );
  }
  if (got.inputs.length !== want.inputs.length) {
    refuse('TX_MISMATCH', name, `${got.inputs.length} inputs, expected ${want.inputs.length}`);
  }
  want.inputs.forEach((w, i) => {
    const g = got.inputs[i] as Tx['inputs'][number];
    if (!equalBytes(g.prevTxid, w.prevTxid) || g.vout !== w.vout) {
      refuse('TX_MISMATCH', `${name}.input${i}`, 'spends another outpoint than the graph says');
    }
    if (g.sequence !== w.sequence) {
      refuse('TIMELOCK_MISMATCH', `${name}.input${i}`, `nSequence ${g.sequence}, expected ${w.sequence}`);
    }
    if (g.scriptSig.length !== 0 || g.witness.length !== 0) {
      refuse(
        'TX_MISMATCH',
        `${name}.input${i}`,
        'carries a scriptSig or witness; published transactions are unsigned',
      );
    }
  });
  if (got.outputs.length !== want.outputs.length) {
    refuse('TX_MISMATCH', name, `${got.outputs.length} outputs, expected ${want.outputs.length}`);
  }
  want.outputs.forEach((w, i) => {
    const g = got.outputs[i] as Tx['outputs'][number];
    if (!equalBytes(g.script, w.script))
      refuse(
        'SCRIPT_MISMATCH',
        `${name}.output${i}`,
        `script ${bytesToHex(g.script)}, expected ${bytesToHex(w.script)}`,
      );
    if (g.value !== w.value)
      refuse('AMOUNT_MISMATCH', `${name}.output${i}`, `${g.value} sats, expected ${w.value}`);
  });
}

/** Parses, rebuilds and verifies a published graph; throws GraphImportError naming the first defect. */
export function importGraph(input: unknown, expect: GraphExpectations): ImportedGraph {
  let raw = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch (err) {
      throw new GraphImportError('MALFORMED', 'document', 'not JSON', { cause: err });
    }
  }
  if (typeof raw === 'object' && raw !== null && 'version' in raw && raw.version !== GRAPH_DOCUMENT_VERSION) {
    refuse(
      'UNSUPPORTED_VERSION',
      'version',
      `version ${String(raw.version)}; this Vigil reads version ${GRAPH_DOCUMENT_VERSION}`,
    );
  }
  const parsed = graphDocumentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    refuse('MALFORMED', issue?.path.join('.') || 'document', issue?.message ?? 'does not match the schema');
  }
  const doc = parsed.data;
  const hash = graphDocumentHash(doc);
  if (expect.commitment && !equalBytes(hash, expect.commitment)) {
    refuse(
      'HASH_MISMATCH',
      'document',
      `hash ${bytesToHex(hash)} is not the committed ${bytesToHex(expect.commitment)}`,
    );
  }
  if (doc.network !== expect.network)
    refuse('PARAMETER_MISMATCH', 'network', `${doc.network}, expected ${expect.network}`);
  if (doc.circuit !== expect.circuit.id)
    refuse('PARAMETER_MISMATCH', 'circuit', `${doc.circuit}, expected ${expect.circuit.id}`);
  const params = parametersFromJson(doc.parameters);
  compareParameters(params, expect.params);
  if (doc.operator !== bytesToHex(expect.operator))
    refuse('KEY_MISMATCH', 'operator', 'not the registered operator key');
  const committee = expect.committee.map(bytesToHex);
  if (doc.committee.length !== committee.length || doc.committee.some((k, i) => k !== committee[i])) {
    refuse('KEY_MISMATCH', 'committee', 'not the registered committee');
  }
  const epoch = BigInt(doc.epoch);
  if (expect.epoch !== undefined && epoch !== expect.epoch)
    refuse('PARAMETER_MISMATCH', 'epoch', `${epoch}, expected ${expect.epoch}`);
  const keys = wotsKeys(doc);
  if (doc.wots.trace.length !== expect.params.traceSteps) {
    refuse(
      'WOTS_KEY_SHAPE',
      'wots.trace',
      `${doc.wots.trace.length} trace keys for ${expect.params.traceSteps} steps`,
    );
  }
  checkWots(keys, expect.knownWotsHashes);

  const [epochKey, stateRoot, l2BlockHash, ...trace] = keys.map((k) => k.key) as WotsPublicKey[];
  const spec: GraphSpec = {
    network: expect.network,
    params: expect.params,
    operator: expect.operator,
    committee: [...expect.committee],
    epoch,
    instance: doc.instance,
    claim: { txid: claimTxidFromJson(doc.claim.txid), vout: doc.claim.vout, value: BigInt(doc.claim.value) },
    wots: {
      epoch: epochKey as WotsPublicKey,
      stateRoot: stateRoot as WotsPublicKey,
      l2BlockHash: l2BlockHash as WotsPublicKey,
      trace,
    },
    circuit: expect.circuit,
  };
  let graph: Graph;
  try {
    graph = buildGraph(spec);
  } catch (err) {
    if (err instanceof GraphParameterError)
      throw new GraphImportError('AMOUNT_MISMATCH', 'claim', err.shortMessage, { cause: err });
    throw err;
  }

  const claimScript = graph.outputs.claim.scriptPubKey;
  if (doc.claim.script !== bytesToHex(claimScript)) {
    refuse(
      'SCRIPT_MISMATCH',
      'claim.script',
      "the claim output does not commit to the graph's Winternitz keys",
    );
  }
  if (expect.claimPrevout) {
    if (!equalBytes(expect.claimPrevout.script, claimScript)) {
      refuse(
        'SCRIPT_MISMATCH',
        'claim (on chain)',
        'the claim output on chain does not commit to these Winternitz keys',
      );
    }
    if (expect.claimPrevout.value !== spec.claim.value) {
      refuse(
        'AMOUNT_MISMATCH',
        'claim (on chain)',
        `${expect.claimPrevout.value} sats on chain, ${spec.claim.value} in the graph`,
      );
    }
  }

  const t = doc.transactions;
  const decode = (name: string, h: string): Tx => {
    try {
      return decodeTxHex(h);
    } catch (err) {
      throw new GraphImportError('MALFORMED', `transactions.${name}`, 'not a transaction', { cause: err });
    }
  };
  const pairs: [string, string, Tx][] = [
    ['kickoff', t.kickoff, graph.txs.kickoff],
    ['challenge', t.challenge, graph.txs.challenge],
    ['take', t.take, graph.txs.take],
    ['assert', t.assert, graph.txs.assert],
    ['assertTimeout', t.assertTimeout, graph.txs.assertTimeout],
    ['payout', t.payout, graph.txs.payout],
  ];
  if (t.disprove.length !== graph.txs.disprove.length) {
    refuse(
      'TX_MISMATCH',
      'transactions.disprove',
      `${t.disprove.length} disprove transactions, expected ${graph.txs.disprove.length}`,
    );
  }
  graph.txs.disprove.forEach((d, i) => {
    pairs.push([`disprove[${i}]`, t.disprove[i] as string, d]);
  });
  for (const [name, h, want] of pairs) compareTx(name, decode(name, h), want);

  const sigs: PresignedSignatures = graph.presigned.map((p) => {
    const where = presignedKey(p);
    const list = doc.signatures[where];
    if (!list || list.length !== graph.covenant.length) {
      refuse(
        'MISSING_SIGNATURE',
        where,
        `${list?.length ?? 0} of ${graph.covenant.length} covenant signatures`,
      );
    }
    const bytes = list.map((s) => hexToBytes(s));
    const check = checkPresigned(graph, p, bytes);
    if (!check.ok) refuse('BAD_SIGNATURE', `${where} member ${check.member}`, check.reason);
    return bytes;
  });
  const expectedKeys = new Set(graph.presigned.map(presignedKey));
  for (const k of Object.keys(doc.signatures)) {
    if (!expectedKeys.has(k)) refuse('MALFORMED', `signatures.${k}`, 'a signature for no presigned input');
  }
  return { graph, sigs, hash, document: doc };
}
