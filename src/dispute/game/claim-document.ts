/**
 * The published form of a claim graph (claim-graph.ts): a versioned JSON document whose SHA-256 the
 * operator commits on the L2 (hex and decimal strings at this edge only). It carries what a watcher cannot
 * derive: the claim's keys and outpoints, every game's Winternitz public keys, and the covenant's
 * presignatures. It carries no transactions: a watcher builds them from the spec, and every presignature
 * must verify against the transaction Vigil built, so a signer can only have signed exactly that one.
 * The hash is over the canonical encoding (the schema's key order, labels sorted, no whitespace), so
 * formatting cannot change it.
 */
import { z } from 'zod';
import { bitcoinNetworks } from '../../bitcoin/network.ts';
import { displayHexToHash, hashToDisplayHex } from '../../bitcoin/tx/serialize.ts';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../../core/bytes.ts';
import { sha256 } from '../../core/hashes.ts';
import { programHash } from '../../machine/program.ts';
import type { WotsPublicKey } from '../winternitz/keys.ts';
import { wotsParameters } from '../winternitz/parameters.ts';
import type { ClaimGraph, ClaimGraphSpec } from './claim-graph.ts';
import type { GamePresignatures } from './game-spend.ts';
import { presignedKey } from './game-spend.ts';
import type { SignerKeys } from './signer-keys.ts';

export const CLAIM_DOCUMENT_FORMAT = 'vigil-claim-graph';
/**
 * 2: the claim output's value is stated (`claim.value`), and may exceed what the graph needs (§24.11 item
 * 37). Version 1 (no `claim.value`: the output holds exactly what the graph needs) is still read, so a game
 * opened on one goes on after an upgrade.
 */
export const CLAIM_DOCUMENT_VERSION = 2;
export const CLAIM_DOCUMENT_VERSIONS_READ = [1, 2] as const;
/** The longest label of a planned value (`echo.record.waddr`, `answer′6.point31`): room to spare. */
export const CLAIM_MAX_LABEL_CHARS = 48;
/** The longest Winternitz key, a 32-byte value's 67 chains of 20 bytes, in hex. */
export const CLAIM_MAX_KEY_HEX = 2 * 20 * wotsParameters(32).totalDigits;

const hex = z.string().regex(/^(?:[0-9a-f]{2})*$/, 'lower-case hex');
const key32 = hex.length(64);
const sats = z.string().regex(/^(?:0|[1-9][0-9]{0,15})$/, 'decimal sats');
const rate = z.string().regex(/^[1-9][0-9]{0,8}$/, 'decimal sat/vB');
const blocks = z.number().int().min(1).max(0xffff);
const bps = z.number().int().min(0).max(10_000);
const wotsKeyHex = hex.max(CLAIM_MAX_KEY_HEX);
const vout = z.number().int().min(0).max(0xffffffff);
const keysByLabel = z.record(z.string().min(1).max(CLAIM_MAX_LABEL_CHARS), wotsKeyHex);
const signatureList = z.array(hex.length(128));

export const claimDocumentSchema = z
  .object({
    format: z.literal(CLAIM_DOCUMENT_FORMAT),
    version: z.number().int(),
    network: z.enum(bitcoinNetworks),
    /** BLAKE3 of the program's canonical bytes (`programHash`). */
    program: key32,
    operator: key32,
    covenant: z.array(key32).min(2),
    epoch: z.string().regex(/^(?:0|[1-9][0-9]{0,19})$/),
    instance: z.number().int().min(0).max(0xffffffff),
    /** The claim output and the value it holds: the kick-off's anchor returns what the graph does not use. */
    claim: z.object({ txid: key32, vout, value: sats.optional() }).strict(),
    shape: z
      .object({ pointsPerRound: z.number().int().min(2).max(1024), depth: z.number().int().min(1).max(40) })
      .strict(),
    agreedImageRoot: key32,
    kickoff: z
      .object({
        epoch: wotsKeyHex,
        root: wotsKeyHex,
        l2BlockHash: wotsKeyHex,
        imageRoot: wotsKeyHex,
        inputsRoot: wotsKeyHex,
      })
      .strict(),
    timelocks: z
      .object({ challenge: blocks, assertWindow: blocks, move: blocks, payout: blocks, bondRefund: blocks })
      .strict(),
    feeRate: rate,
    challengeFeeRate: rate,
    slashFeeRates: z.array(rate).min(1).max(16),
    timeoutFeeRates: z.array(rate).min(1).max(16),
    burnBps: bps,
    assertTimeoutBurnBps: bps,
    values: z.object({ stake: sats, reserve: sats, bond: sats }).strict(),
    maxChallengers: z.number().int().min(1).max(1024),
    challengers: z
      .array(
        z
          .object({
            key: key32,
            bondCoin: z
              .object({ txid: key32, vout: z.number().int().min(0).max(0xffffffff), value: sats })
              .strict(),
            keys: keysByLabel,
            operatorKeys: keysByLabel,
          })
          .strict(),
      )
      .min(1)
      .max(1024),
    /** Per covenant member, its signatures of every presigned input in the graph's order: the claim's, then each game's. */
    signatures: z.object({ claim: z.array(signatureList), games: z.array(z.array(signatureList)) }).strict(),
  })
  .strict();

export type ClaimDocument = z.infer<typeof claimDocumentSchema>;

/** A Winternitz public key as one hex string: its chain ends, 20 bytes each, in order. */
export const wotsKeyToHex = (k: WotsPublicKey): string => bytesToHex(concatBytes(...k.hashes));

/** The key of a `messageBytes`-byte value from its hex, or undefined if the length is not that key's. */
export function wotsKeyFromHex(h: string, messageBytes: number): WotsPublicKey | undefined {
  const digits = wotsParameters(messageBytes).totalDigits;
  if (h.length !== 40 * digits) return undefined;
  const bytes = hexToBytes(h);
  return {
    messageBytes,
    hashes: Array.from({ length: digits }, (_, i) => bytes.slice(20 * i, 20 * i + 20)),
  };
}

const keysJson = (keys: SignerKeys): Record<string, string> =>
  Object.fromEntries([...keys].map(([label, k]) => [label, wotsKeyToHex(k)]));

/** The signatures of one presigned set, per member, in its `presigned` order. */
function perMember(
  presigned: readonly { tx: string; input: number }[],
  sigs: GamePresignatures,
  members: number,
): string[][] {
  return Array.from({ length: members }, (_, m) =>
    presigned.map((p) => bytesToHex((sigs.get(presignedKey(p.tx, p.input)) ?? [])[m] ?? new Uint8Array())),
  );
}

/** The document of a built claim graph and the covenant's presignatures (the claim's and each game's). */
export function claimGraphToDocument(
  graph: ClaimGraph,
  sigs: { readonly claim: GamePresignatures; readonly games: readonly GamePresignatures[] },
): ClaimDocument {
  const s = graph.spec;
  const members = s.covenant.length;
  return {
    format: CLAIM_DOCUMENT_FORMAT,
    version: CLAIM_DOCUMENT_VERSION,
    network: s.network,
    program: bytesToHex(programHash(s.program)),
    operator: bytesToHex(s.operator),
    covenant: s.covenant.map(bytesToHex),
    epoch: s.epoch.toString(),
    instance: s.instance,
    claim: { txid: hashToDisplayHex(s.claim.txid), vout: s.claim.vout, value: graph.claim.value.toString() },
    shape: { pointsPerRound: s.shape.pointsPerRound, depth: s.shape.depth },
    agreedImageRoot: bytesToHex(s.agreedImageRoot),
    kickoff: {
      epoch: wotsKeyToHex(s.kickoff.epoch),
      root: wotsKeyToHex(s.kickoff.root),
      l2BlockHash: wotsKeyToHex(s.kickoff.l2BlockHash),
      imageRoot: wotsKeyToHex(s.kickoff.imageRoot),
      inputsRoot: wotsKeyToHex(s.kickoff.inputsRoot),
    },
    timelocks: { ...s.timelocks },
    feeRate: s.feeRate.toString(),
    challengeFeeRate: (s.challengeFeeRate ?? s.feeRate).toString(),
    slashFeeRates: (s.slashFeeRates ?? [s.feeRate]).map(String),
    timeoutFeeRates: (s.timeoutFeeRates ?? [s.feeRate]).map(String),
    burnBps: s.burnBps,
    assertTimeoutBurnBps: s.assertTimeoutBurnBps,
    values: {
      stake: s.values.stake.toString(),
      reserve: s.values.reserve.toString(),
      bond: s.values.bond.toString(),
    },
    maxChallengers: s.maxChallengers,
    challengers: s.challengers.map((c) => ({
      key: bytesToHex(c.key),
      bondCoin: {
        txid: hashToDisplayHex(c.bondCoin.txid),
        vout: c.bondCoin.vout,
        value: c.bondCoin.value.toString(),
      },
      keys: keysJson(c.keys),
      operatorKeys: keysJson(c.operatorKeys),
    })),
    signatures: {
      claim: perMember(graph.presigned, sigs.claim, members),
      games: graph.games.map((g, w) => perMember(g.presigned, sigs.games[w] ?? new Map(), members)),
    },
  };
}

const sortedKeys = (r: Record<string, string>): Record<string, string> =>
  Object.fromEntries(
    Object.keys(r)
      .sort()
      .map((k) => [k, r[k] as string]),
  );

/** The canonical bytes: the schema's key order, each key record sorted by label, no whitespace. */
export function encodeClaimDocument(doc: ClaimDocument): Uint8Array {
  const parsed = claimDocumentSchema.parse(doc);
  return utf8(
    JSON.stringify({
      ...parsed,
      challengers: parsed.challengers.map((c) => ({
        ...c,
        keys: sortedKeys(c.keys),
        operatorKeys: sortedKeys(c.operatorKeys),
      })),
    }),
  );
}

/** What the operator commits on the L2. */
export function claimDocumentHash(doc: ClaimDocument): Uint8Array {
  return sha256(encodeClaimDocument(doc));
}

export const outpointTxidFromJson = (h: string): Uint8Array => displayHexToHash(h);

/** The parameters of a claim that Vigil holds for each network and never takes from a document. */
export type ClaimParameters = Pick<
  ClaimGraphSpec,
  | 'shape'
  | 'program'
  | 'timelocks'
  | 'feeRate'
  | 'challengeFeeRate'
  | 'slashFeeRates'
  | 'timeoutFeeRates'
  | 'burnBps'
  | 'assertTimeoutBurnBps'
  | 'values'
  | 'maxChallengers'
>;
