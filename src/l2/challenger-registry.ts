/**
 * The L2's challenger registry as Vigil reads it (src/l2/contracts/ChallengerRegistry.sol, docs/protocol.md
 * §24.1): for one epoch's claim, the challengers the contract listed, the bundle each posted (its game's
 * Winternitz keys and its bond coin) and the claim document hash the operator committed. These are what
 * a claim document is imported against (`ClaimExpectations.challengers` and `commitment`): the operator
 * chooses neither the challengers nor their keys.
 *
 * A bundle's keys are the key plan's challenger keys (key-plan.ts), in the plan's order, each as its
 * digits' 20-byte hashes concatenated: `encodeBundleKeys` and `decodeBundleKeys` are the one encoding.
 * Txids in the contract's events are in display order (as explorers show them).
 */
import { type Address, type Hex, type PublicClient, hexToBytes as viemHexToBytes } from 'viem';
import { displayHexToHash } from '../bitcoin/tx/serialize.ts';
import { concatBytes } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import type { ListedChallenger } from '../dispute/game/claim-import.ts';
import type { SearchShape } from '../dispute/game/grid.ts';
import { gameKeyPlan } from '../dispute/game/key-plan.ts';
import type { SignerKeys } from '../dispute/game/signer-keys.ts';
import type { WotsPublicKey } from '../dispute/winternitz/keys.ts';
import { wotsParameters } from '../dispute/winternitz/parameters.ts';
import { challengerRegistryAbi } from './contracts/artifacts/abis.ts';

export class ChallengerRegistryError extends VigilError {
  override name = 'ChallengerRegistryError';
}

const HASH_BYTES = 20;

const challengerPlan = (shape: SearchShape) => gameKeyPlan(shape).filter((e) => e.signer === 'challenger');

/** The bytes of one bundle's keys at `shape`: what the contract's `bundleKeyBytes` must be. */
export function bundleKeyBytes(shape: SearchShape): number {
  return challengerPlan(shape).reduce((n, e) => n + HASH_BYTES * wotsParameters(e.bytes).totalDigits, 0);
}

/** A challenger's game keys as its bundle carries them. */
export function encodeBundleKeys(keys: SignerKeys, shape: SearchShape): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of challengerPlan(shape)) {
    const k = keys.get(e.label);
    if (k === undefined) throw new ChallengerRegistryError(`The keys have no ${e.label}`);
    if (k.messageBytes !== e.bytes || k.hashes.length !== wotsParameters(e.bytes).totalDigits)
      throw new ChallengerRegistryError(`The key of ${e.label} is not the key of a ${e.bytes}-byte value`);
    parts.push(...k.hashes);
  }
  return concatBytes(...parts);
}

/** A bundle's keys, by label; refused unless they are exactly the key plan's size at `shape`. */
export function decodeBundleKeys(bytes: Uint8Array, shape: SearchShape): SignerKeys {
  const expected = bundleKeyBytes(shape);
  if (bytes.length !== expected)
    throw new ChallengerRegistryError(
      `A bundle carries ${bytes.length} bytes of keys; the key plan at this shape has ${expected}`,
    );
  const keys = new Map<string, WotsPublicKey>();
  let at = 0;
  for (const e of challengerPlan(shape)) {
    const digits = wotsParameters(e.bytes).totalDigits;
    const hashes = Array.from({ length: digits }, (_, i) =>
      bytes.slice(at + HASH_BYTES * i, at + HASH_BYTES * (i + 1)),
    );
    keys.set(e.label, { messageBytes: e.bytes, hashes });
    at += HASH_BYTES * digits;
  }
  return keys;
}

/** One challenger's bundle as the contract recorded it. */
export type RegisteredBundle = {
  readonly slot: number;
  readonly key: Uint8Array;
  /** The bond coin: its txid in internal byte order (as an outpoint holds it). */
  readonly bondCoin: { readonly txid: Uint8Array; readonly vout: number; readonly value: bigint };
  readonly keys: Uint8Array;
  readonly block: bigint;
};

/** One claim as the registry shows it. */
export type ClaimRegistration = {
  readonly epoch: bigint;
  /** The claim outpoint (txid in internal byte order). */
  readonly claim: { readonly txid: Uint8Array; readonly vout: number };
  /** The keys the contract listed, by slot. */
  readonly listed: readonly Uint8Array[];
  readonly openedAt: bigint;
  /** The bundles posted, by slot. */
  readonly bundles: readonly RegisteredBundle[];
  /** The claim document hash the operator committed, once it has. */
  readonly documentHash?: Uint8Array;
  /**
   * Set by the follower once the registry, read at depth, can never take this claim's commitment: no
   * bundle by the end of its bundle window, or no commitment by the end of its commit window. Nobody can
   * play its game.
   */
  readonly lapsed?: true;
};

/**
 * The challengers a claim document must list: those that posted a bundle, in slot order, with the keys
 * and bond coin of their bundles.
 */
export function listedChallengers(reg: ClaimRegistration, shape: SearchShape): ListedChallenger[] {
  return [...reg.bundles]
    .sort((a, b) => a.slot - b.slot)
    .map((b) => ({ key: b.key, bondCoin: b.bondCoin, keys: decodeBundleKeys(b.keys, shape) }));
}

const bytes = (h: Hex): Uint8Array => viemHexToBytes(h);
const outpointTxid = (h: Hex): Uint8Array => displayHexToHash(h.slice(2));

/**
 * Reads epoch `epoch`'s claim off the registry at `address`, between `fromBlock` and `toBlock` (the L2
 * blocks deep enough to trust): undefined when the claim was not opened there. A second open or a
 * bundle that does not fit is impossible by the contract; seen, it means another contract: refused.
 */
export async function readClaimRegistration(
  client: PublicClient,
  address: Address,
  epoch: bigint,
  range: { fromBlock: bigint; toBlock: bigint },
  /** Blocks per log query (a node may refuse larger ranges): the range is read in chunks of this. */
  maxRange?: bigint,
): Promise<ClaimRegistration | undefined> {
  const chunks: { fromBlock: bigint; toBlock: bigint }[] = [];
  const step = maxRange !== undefined && maxRange > 0n ? maxRange : range.toBlock - range.fromBlock + 1n;
  for (let from = range.fromBlock; from <= range.toBlock; from += step) {
    chunks.push({
      fromBlock: from,
      toBlock: from + step - 1n < range.toBlock ? from + step - 1n : range.toBlock,
    });
  }
  const inChunks = async <E>(
    read: (r: { fromBlock: bigint; toBlock: bigint }) => Promise<E[]>,
  ): Promise<E[]> => {
    const out: E[] = [];
    for (const c of chunks) out.push(...(await read(c)));
    return out;
  };
  const filter = { address, args: { epoch }, strict: true } as const;
  const opened = await inChunks((r) =>
    client.getContractEvents({ abi: challengerRegistryAbi, eventName: 'ClaimOpened', ...filter, ...r }),
  );
  if (opened.length === 0) return undefined;
  if (opened.length > 1) throw new ChallengerRegistryError(`Epoch ${epoch}'s claim was opened twice`);
  const o = opened[0] as (typeof opened)[number];
  const posted = await inChunks((r) =>
    client.getContractEvents({ abi: challengerRegistryAbi, eventName: 'BundlePosted', ...filter, ...r }),
  );
  const seen = new Set<number>();
  const listed = o.args.challengers.map(bytes);
  const bundles = posted.map((e): RegisteredBundle => {
    const slot = e.args.slot;
    if (seen.has(slot) || slot >= listed.length)
      throw new ChallengerRegistryError(
        `Epoch ${epoch}: a second bundle, or one for no slot, at slot ${slot}`,
      );
    seen.add(slot);
    return {
      slot,
      key: bytes(e.args.key),
      bondCoin: { txid: outpointTxid(e.args.bondTxid), vout: e.args.bondVout, value: e.args.bondValue },
      keys: bytes(e.args.keys),
      block: e.blockNumber,
    };
  });
  const committed = await inChunks((r) =>
    client.getContractEvents({
      abi: challengerRegistryAbi,
      eventName: 'ClaimGraphCommitted',
      ...filter,
      ...r,
    }),
  );
  const c = committed[0];
  return {
    epoch,
    claim: { txid: outpointTxid(o.args.claimTxid), vout: o.args.claimVout },
    listed,
    openedAt: o.blockNumber,
    bundles,
    ...(c === undefined ? {} : { documentHash: bytes(c.args.documentHash) }),
  };
}
