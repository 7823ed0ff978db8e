/**
 * The published form of a graph: a versioned JSON document (hex and decimal strings at this edge only)
 * whose SHA-256 the operator commits on the L2. The hash is over the canonical encoding — the document
 * re-encoded by `encodeGraphDocument`, keys in a fixed order, no whitespace — so formatting cannot
 * change it.
 */
import { z } from 'zod';
import { bitcoinNetworks } from '../../bitcoin/network.ts';
import { displayHexToHash, hashToDisplayHex, parseTx, serializeTx } from '../../bitcoin/tx/serialize.ts';
import type { Tx } from '../../bitcoin/tx/types.ts';
import { bytesToHex, hexToBytes, utf8 } from '../../core/bytes.ts';
import { sha256 } from '../../core/hashes.ts';
import { wotsParameters } from '../winternitz/parameters.ts';
import type { Graph } from './build.ts';
import { EPOCH_VALUE_BYTES, type GraphParameters, ROOT_VALUE_BYTES } from './parameters.ts';
import { type PresignedSignatures, presignedKey } from './sign.ts';

export const GRAPH_DOCUMENT_FORMAT = 'vigil-dispute-graph';
export const GRAPH_DOCUMENT_VERSION = 1;

/**
 * The largest graph document Vigil reads, in bytes. A mainnet graph (4 trace steps, one committee key)
 * is 24 KB (29 KB pretty-printed), one of 32 steps 117 KB and one of 32 steps under an 8-key committee
 * 154 KB: 4 MiB leaves room for any committee and formatting while keeping what an adversarial
 * document can cost to read and scan small.
 */
export const GRAPH_DOCUMENT_MAX_BYTES = 4 * 1024 * 1024;
/** The most trace steps a graph can have (the disprove tap tree and the assert leaf grow with them). */
export const GRAPH_MAX_TRACE_STEPS = 64;
/**
 * The most covenant keys (operator + committee): the n-of-n leaf needs one signature per key on the
 * witness stack, and BIP-342 caps a tapscript's initial stack at 1000 elements.
 */
export const GRAPH_MAX_COVENANT_KEYS = 1000;
/**
 * The largest unsigned graph transaction: the biggest template has 3 inputs and 3 P2TR outputs, 262
 * bytes; twice that is more than any template can reach.
 */
export const GRAPH_MAX_TX_BYTES = 512;
/** A P2TR scriptPubKey is 34 bytes; the claim script is one (room to refuse others by comparison). */
export const GRAPH_MAX_SCRIPT_BYTES = 64;
/** Digits of the Winternitz key of one value: nothing longer can be a key of the graph. */
export const GRAPH_EPOCH_KEY_HASHES = wotsParameters(EPOCH_VALUE_BYTES).totalDigits;
export const GRAPH_ROOT_KEY_HASHES = wotsParameters(ROOT_VALUE_BYTES).totalDigits;
/** A Schnorr signature with its hash-type byte, in hex. */
const SIGNATURE_HEX = 2 * 65;
/** Presigned input names are short (`disprove[63].input0`); a longer key names no input. */
export const GRAPH_MAX_SIGNATURE_KEY_CHARS = 32;

const hex = z.string().regex(/^(?:[0-9a-f]{2})*$/, 'lower-case hex');
const key32 = hex.length(64);
const hash20 = hex.length(40);
const sats = z.string().regex(/^(?:0|[1-9][0-9]{0,15})$/, 'decimal sats');
const blocks = z.number().int().min(0).max(0xffff);
const wotsKey = z.array(hash20).max(GRAPH_ROOT_KEY_HASHES);
const txHexSchema = hex.max(2 * GRAPH_MAX_TX_BYTES);

export const graphDocumentSchema = z
  .object({
    format: z.literal(GRAPH_DOCUMENT_FORMAT),
    version: z.number().int(),
    network: z.enum(bitcoinNetworks),
    circuit: z.string().min(1).max(128),
    parameters: z
      .object({
        stake: sats,
        connectorValue: sats,
        challengeAmount: sats,
        timelocks: z
          .object({ challengeWindow: blocks, assertWindow: blocks, disproveWindow: blocks })
          .strict(),
        timeoutBurnBps: z.number().int(),
        disproveBurnBps: z.number().int(),
        fees: z
          .object({
            kickoff: sats,
            take: sats,
            assert: sats,
            assertTimeout: sats,
            disprove: sats,
            payout: sats,
          })
          .strict(),
        traceSteps: z.number().int().min(1).max(GRAPH_MAX_TRACE_STEPS),
      })
      .strict(),
    operator: key32,
    committee: z
      .array(key32)
      .min(1)
      .max(GRAPH_MAX_COVENANT_KEYS - 1),
    epoch: z.string().regex(/^(?:0|[1-9][0-9]{0,19})$/),
    instance: z.number().int().min(0).max(0xffffffff),
    claim: z
      .object({
        txid: key32,
        vout: z.number().int().min(0).max(0xffffffff),
        value: sats,
        script: hex.max(2 * GRAPH_MAX_SCRIPT_BYTES),
      })
      .strict(),
    wots: z
      .object({
        epoch: wotsKey,
        stateRoot: wotsKey,
        l2BlockHash: wotsKey,
        trace: z.array(wotsKey).max(GRAPH_MAX_TRACE_STEPS),
      })
      .strict(),
    transactions: z
      .object({
        kickoff: txHexSchema,
        challenge: txHexSchema,
        take: txHexSchema,
        assert: txHexSchema,
        assertTimeout: txHexSchema,
        disprove: z.array(txHexSchema).max(GRAPH_MAX_TRACE_STEPS),
        payout: txHexSchema,
      })
      .strict(),
    signatures: z.record(
      z.string().max(GRAPH_MAX_SIGNATURE_KEY_CHARS),
      z.array(hex.max(SIGNATURE_HEX)).max(GRAPH_MAX_COVENANT_KEYS),
    ),
  })
  .strict();

export type GraphDocument = z.infer<typeof graphDocumentSchema>;

const txHex = (tx: Tx) => bytesToHex(serializeTx(tx));

function parametersJson(p: GraphParameters): GraphDocument['parameters'] {
  return {
    stake: p.stake.toString(),
    connectorValue: p.connectorValue.toString(),
    challengeAmount: p.challengeAmount.toString(),
    timelocks: {
      challengeWindow: p.timelocks.challengeWindow,
      assertWindow: p.timelocks.assertWindow,
      disproveWindow: p.timelocks.disproveWindow,
    },
    timeoutBurnBps: p.timeoutBurnBps,
    disproveBurnBps: p.disproveBurnBps,
    fees: {
      kickoff: p.fees.kickoff.toString(),
      take: p.fees.take.toString(),
      assert: p.fees.assert.toString(),
      assertTimeout: p.fees.assertTimeout.toString(),
      disprove: p.fees.disprove.toString(),
      payout: p.fees.payout.toString(),
    },
    traceSteps: p.traceSteps,
  };
}

export function parametersFromJson(p: GraphDocument['parameters']): GraphParameters {
  return {
    stake: BigInt(p.stake),
    connectorValue: BigInt(p.connectorValue),
    challengeAmount: BigInt(p.challengeAmount),
    timelocks: { ...p.timelocks },
    timeoutBurnBps: p.timeoutBurnBps,
    disproveBurnBps: p.disproveBurnBps,
    fees: {
      kickoff: BigInt(p.fees.kickoff),
      take: BigInt(p.fees.take),
      assert: BigInt(p.fees.assert),
      assertTimeout: BigInt(p.fees.assertTimeout),
      disprove: BigInt(p.fees.disprove),
      payout: BigInt(p.fees.payout),
    },
    traceSteps: p.traceSteps,
  };
}

/** The document of a built, presigned graph. */
export function graphToDocument(graph: Graph, sigs: PresignedSignatures): GraphDocument {
  const s = graph.spec;
  const keyHex = (k: { hashes: readonly Uint8Array[] }) => k.hashes.map(bytesToHex);
  const signatures: Record<string, string[]> = {};
  graph.presigned.forEach((p, i) => {
    signatures[presignedKey(p)] = (sigs[i] ?? []).map(bytesToHex);
  });
  return {
    format: GRAPH_DOCUMENT_FORMAT,
    version: GRAPH_DOCUMENT_VERSION,
    network: s.network,
    circuit: s.circuit.id,
    parameters: parametersJson(s.params),
    operator: bytesToHex(s.operator),
    committee: s.committee.map(bytesToHex),
    epoch: s.epoch.toString(),
    instance: s.instance,
    claim: {
      txid: hashToDisplayHex(s.claim.txid),
      vout: s.claim.vout,
      value: s.claim.value.toString(),
      script: bytesToHex(graph.outputs.claim.scriptPubKey),
    },
    wots: {
      epoch: keyHex(s.wots.epoch),
      stateRoot: keyHex(s.wots.stateRoot),
      l2BlockHash: keyHex(s.wots.l2BlockHash),
      trace: s.wots.trace.map(keyHex),
    },
    transactions: {
      kickoff: txHex(graph.txs.kickoff),
      challenge: txHex(graph.txs.challenge),
      take: txHex(graph.txs.take),
      assert: txHex(graph.txs.assert),
      assertTimeout: txHex(graph.txs.assertTimeout),
      disprove: graph.txs.disprove.map(txHex),
      payout: txHex(graph.txs.payout),
    },
    signatures,
  };
}

/** The canonical bytes: the schema's key order, sorted signature keys, no whitespace. */
export function encodeGraphDocument(doc: GraphDocument): Uint8Array {
  const parsed = graphDocumentSchema.parse(doc);
  const signatures: Record<string, string[]> = {};
  for (const k of Object.keys(parsed.signatures).sort()) signatures[k] = parsed.signatures[k] as string[];
  return utf8(JSON.stringify({ ...parsed, signatures }));
}

/** What the operator commits on the L2. */
export function graphDocumentHash(doc: GraphDocument): Uint8Array {
  return sha256(encodeGraphDocument(doc));
}

export const decodeTxHex = (h: string): Tx => parseTx(hexToBytes(h));
export const claimTxidFromJson = (h: string): Uint8Array => displayHexToHash(h);
