/**
 * Vigil's challenger identity (src/dispute/game/challenger-identity.ts): derived from the wallet key under
 * two tags, the same every time, unrelated to the wallet key itself, and never shown whole.
 */
import { describe, expect, it } from 'vitest';
import { WalletKey } from '../../../src/bitcoin/wallet/keys.ts';
import { bytesToHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/hashes.ts';
import {
  bondCoinScript,
  bundleKeysOf,
  CHALLENGER_KEY_TAG,
  CHALLENGER_SEED_TAG,
  challengerIdentity,
  challengerScope,
  challengerSignerOf,
} from '../../../src/dispute/game/challenger-identity.ts';
import { bondCoinMinimum, claimParameters } from '../../../src/dispute/game/claim-parameters.ts';
import { searchRounds } from '../../../src/dispute/game/grid.ts';
import { deriveSignerKeys } from '../../../src/dispute/game/signer-keys.ts';
import { isValidWotsSignature } from '../../../src/dispute/winternitz/verify.ts';

const wallet = WalletKey.fromBytes(sha256(utf8('identity test wallet')));
const identityOf = (w: WalletKey) => challengerIdentity((tag) => w.derivedSecret(tag));

describe("Vigil's challenger identity", () => {
  it('is derived from the wallet key, the same on every start, and distinct from it and per tag', () => {
    const a = identityOf(wallet);
    const b = identityOf(WalletKey.fromBytes(sha256(utf8('identity test wallet'))));
    expect(bytesToHex(a.key)).toBe(bytesToHex(b.key));
    expect(bytesToHex(a.seed)).toBe(bytesToHex(b.seed));
    expect(bytesToHex(a.key)).not.toBe(bytesToHex(wallet.xOnlyPublicKey));
    expect(bytesToHex(wallet.derivedSecret(CHALLENGER_KEY_TAG))).not.toBe(
      bytesToHex(wallet.derivedSecret(CHALLENGER_SEED_TAG)),
    );
    const other = identityOf(WalletKey.fromBytes(sha256(utf8('another wallet'))));
    expect(bytesToHex(other.key)).not.toBe(bytesToHex(a.key));
    // Its bond coins sit at a key-path P2TR of its own key, not at the wallet's address.
    expect(bondCoinScript(a).subarray(0, 2)).toEqual(Uint8Array.of(0x51, 0x20));
  });

  it('shows its public key only when logged or serialized', () => {
    const a = identityOf(wallet);
    const text = `${JSON.stringify({ identity: a })} ${String(a)}`;
    expect(text).toContain(bytesToHex(a.key));
    expect(text).not.toContain(bytesToHex(a.secret));
    expect(text).not.toContain(bytesToHex(a.seed));
  });

  it('binds its bundle keys to the claim: another epoch, operator, registry or claim output, other keys', () => {
    const a = identityOf(wallet);
    const p = claimParameters('regtest');
    const claim = {
      network: 'regtest' as const,
      operator: new Uint8Array(32).fill(2),
      epoch: 4n,
      instance: 0,
    };
    const site = {
      registry: new Uint8Array(20).fill(7),
      claim: { txid: new Uint8Array(32).fill(8), vout: 0 },
    };
    const keys = (c: typeof claim, s: typeof site = site) =>
      [...bundleKeysOf(a, challengerScope(a, p.shape, c, s)).values()][0]?.hashes[0];
    const first = keys(claim);
    expect(first).toEqual(keys(claim));
    expect(keys({ ...claim, epoch: 5n })).not.toEqual(first);
    expect(keys({ ...claim, operator: new Uint8Array(32).fill(3) })).not.toEqual(first);
    // The same epoch listed by a redeployed registry, or reopened on another claim output: other keys, so
    // no key ever signs two values (protocol §24.11 item 34).
    expect(keys(claim, { ...site, registry: new Uint8Array(20).fill(9) })).not.toEqual(first);
    expect(keys(claim, { ...site, claim: { ...site.claim, vout: 1 } })).not.toEqual(first);
    expect(keys(claim, { ...site, claim: { ...site.claim, txid: new Uint8Array(32).fill(1) } })).not.toEqual(
      first,
    );
    // The signer signs under the keys the bundle posts, and under no other site's.
    const scope = challengerScope(a, p.shape, claim, site);
    const [label, posted] = [...bundleKeysOf(a, scope).entries()][0] ?? [];
    if (label === undefined || posted === undefined) throw new Error('no planned key');
    const value = new Uint8Array(posted.messageBytes).fill(5);
    const sig = challengerSignerOf(a, scope)(label, value);
    expect(isValidWotsSignature(posted, value, sig)).toBe(true);
    const other = challengerScope(a, p.shape, claim, { ...site, registry: new Uint8Array(20).fill(9) });
    expect(isValidWotsSignature(posted, value, challengerSignerOf(a, other)(label, value))).toBe(false);
    expect(() => challengerScope(a, p.shape, claim, { ...site, registry: new Uint8Array(19) })).toThrow(
      /20 bytes/,
    );
    // The first derivation (no site), kept for games whose bundle was posted before keys were bound to it:
    // the identity's seed itself, other keys than any site's.
    const legacy = bundleKeysOf(a, challengerScope(a, p.shape, claim, undefined));
    const v1 = deriveSignerKeys(a.seed, { shape: p.shape, claim, challenger: a.key }, 'challenger');
    expect([...legacy.values()][0]?.hashes[0]).toEqual([...v1.values()][0]?.hashes[0]);
    expect([...legacy.values()][0]?.hashes[0]).not.toEqual(first);
  });

  it('asks each bond coin for the bond, the challenge fee and change', () => {
    for (const network of ['mainnet', 'testnet', 'regtest'] as const) {
      const p = claimParameters(network);
      expect(bondCoinMinimum(p)).toBeGreaterThan(p.values.bond);
      // The graph's timelock rules: the bond refunds after the latest forfeit, T_pay = (4R + 4)·t.
      expect(p.timelocks.bondRefund).toBeGreaterThanOrEqual(p.timelocks.assertWindow + p.timelocks.move);
      expect(p.timelocks.challenge).toBeLessThan(p.timelocks.assertWindow);
      expect(p.timelocks.payout).toBe((4 * searchRounds(p.shape) + 4) * p.timelocks.move);
    }
  });
});
