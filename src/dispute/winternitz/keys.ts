/**
 * Winternitz keys. A one-time key signs exactly one message; signing two different messages under one
 * key lets anyone forge a third. Clementine learned this twice (keys reused across collaterals, #928; no
 * network in the derivation, #1098), so every secret here is derived from a domain that names the
 * network, the operator, the epoch, the graph instance, the value and its size, and nothing else.
 */

import type { BitcoinNetwork } from '../../bitcoin/network.ts';
import { concatBytes, utf8 } from '../../core/bytes.ts';
import { hash160, taggedHash } from '../../core/hashes.ts';
import { WotsVerificationError } from './errors.ts';
import {
  WOTS_HASH_BYTES,
  WOTS_MAX_DIGIT,
  WotsParameterError,
  type WotsParameters,
  wotsParameters,
} from './parameters.ts';

export const WOTS_DERIVATION_TAG = 'Vigil/WOTS/secret/v1';
export const WOTS_MIN_SEED_BYTES = 32;

/** Everything a Winternitz key is bound to. Two domains that differ anywhere give unrelated keys. */
export type WotsDomain = {
  network: BitcoinNetwork;
  /** The operator's 32-byte x-only public key. */
  operator: Uint8Array;
  /** The L2 epoch the graph claims. */
  epoch: bigint;
  /** Distinguishes two graphs for the same epoch (a re-issued claim); 0 for the first. */
  instance: number;
  /** Which committed value of the graph (see the graph's value table). */
  valueIndex: number;
  /** The size of that value; part of the domain so that one index never serves two sizes. */
  messageBytes: number;
};

/** A Winternitz secret key in BitVM's sense: the digit secrets are hash160(secret || digit index). */
export type WotsSecretKey = { messageBytes: number; secret: Uint8Array };

/** One hash160 per digit (message digits, then checksum digits). */
export type WotsPublicKey = { messageBytes: number; hashes: readonly Uint8Array[] };

function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

function u64be(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, false);
  return out;
}

function checkU32(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new WotsParameterError(`Winternitz domain ${what} ${n} is not a 32-bit unsigned integer`);
  }
}

/** The canonical, prefix-free encoding of a domain (every field fixed-size or length-prefixed). */
export function encodeWotsDomain(domain: WotsDomain): Uint8Array {
  if (domain.operator.length !== 32) {
    throw new WotsParameterError('Winternitz domain operator must be a 32-byte x-only public key', {
      metaMessages: [`Got ${domain.operator.length} bytes.`],
    });
  }
  if (domain.epoch < 0n || domain.epoch >= 1n << 64n) {
    throw new WotsParameterError(`Winternitz domain epoch ${domain.epoch} is not a 64-bit unsigned integer`);
  }
  checkU32('instance', domain.instance);
  checkU32('value index', domain.valueIndex);
  wotsParameters(domain.messageBytes);
  const network = utf8(domain.network);
  return concatBytes(
    Uint8Array.of(network.length),
    network,
    domain.operator,
    u64be(domain.epoch),
    u32be(domain.instance),
    u32be(domain.valueIndex),
    u32be(domain.messageBytes),
  );
}

/** Derives the one-time secret key of `domain` from the operator's master seed. */
export function deriveWotsSecretKey(seed: Uint8Array, domain: WotsDomain): WotsSecretKey {
  if (seed.length < WOTS_MIN_SEED_BYTES) {
    throw new WotsParameterError(`Winternitz seed is too short (${seed.length} bytes)`, {
      metaMessages: [`A seed needs at least ${WOTS_MIN_SEED_BYTES} bytes of entropy.`],
    });
  }
  const secret = taggedHash(WOTS_DERIVATION_TAG, Uint8Array.of(seed.length), seed, encodeWotsDomain(domain));
  return { messageBytes: domain.messageBytes, secret };
}

/** Digit index as BitVM appends it to the secret: little-endian, without trailing zero bytes (0 → empty). */
function digitIndexBytes(index: number): Uint8Array {
  const bytes: number[] = [];
  for (let v = index; v > 0; v = Math.floor(v / 256)) bytes.push(v & 0xff);
  return Uint8Array.from(bytes);
}

/** The start of chain `index`. */
export function digitSecret(key: WotsSecretKey, index: number): Uint8Array {
  return hash160(concatBytes(key.secret, digitIndexBytes(index)));
}

/** Applies hash160 `times` times. */
export function hashChain(start: Uint8Array, times: number): Uint8Array {
  let h = start;
  for (let i = 0; i < times; i++) h = hash160(h);
  return h;
}

export function wotsPublicKey(key: WotsSecretKey): WotsPublicKey {
  const params = wotsParameters(key.messageBytes);
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < params.totalDigits; i++) hashes.push(hashChain(digitSecret(key, i), WOTS_MAX_DIGIT));
  return { messageBytes: key.messageBytes, hashes };
}

/** Throws unless `key` has one 20-byte hash per digit of its message size. */
export function checkWotsPublicKeyShape(key: WotsPublicKey): WotsParameters {
  const params = wotsParameters(key.messageBytes);
  if (key.hashes.length !== params.totalDigits) {
    throw new WotsVerificationError(
      'KEY_SHAPE',
      `Winternitz public key has ${key.hashes.length} hashes; a ${key.messageBytes}-byte value needs ${params.totalDigits}`,
    );
  }
  key.hashes.forEach((h, i) => {
    if (h.length !== WOTS_HASH_BYTES) {
      throw new WotsVerificationError(
        'KEY_SHAPE',
        `Winternitz public key hash ${i} is ${h.length} bytes, not 20`,
        i,
      );
    }
  });
  return params;
}
