/**
 * The devnet operator's keys: fixed, derived from public labels, so the watcher of a devnet run knows the
 * operator and committee without any exchange. Anyone can derive the secrets too, which is why they are
 * for regtest only and never leave this module except to the devnet operator itself.
 */
import * as ecc from 'tiny-secp256k1';
import { utf8 } from '../core/bytes.ts';
import { sha256 } from '../core/hashes.ts';

const COMMITTEE_SIZE = 2;

const secretOf = (label: string): Uint8Array => sha256(utf8(`vigil devnet ${label} (regtest only)`));
const xOnly = (secret: Uint8Array): Uint8Array => Uint8Array.from(ecc.xOnlyPointFromScalar(secret));

export type DevnetOperatorSecrets = {
  /** Signs the kick-off, the presigned graph (as a covenant member) and the operator's wallet coins. */
  operator: Uint8Array;
  committee: Uint8Array[];
  /**
   * Seed of every Winternitz key of the operator's graphs: fresh for every operator started, so a run on
   * a regtest node that already saw an earlier run never signs a second value with the same key.
   */
  wotsSeed: Uint8Array;
};

export function devnetOperatorSecrets(): DevnetOperatorSecrets {
  return {
    operator: secretOf('operator key'),
    committee: Array.from({ length: COMMITTEE_SIZE }, (_, i) => secretOf(`committee key ${i + 1}`)),
    wotsSeed: crypto.getRandomValues(new Uint8Array(32)),
  };
}

/** x-only public keys of the devnet operator and its presigning committee. */
export function devnetOperatorKeys(): { operator: Uint8Array; committee: Uint8Array[] } {
  const s = devnetOperatorSecrets();
  return { operator: xOnly(s.operator), committee: s.committee.map(xOnly) };
}
