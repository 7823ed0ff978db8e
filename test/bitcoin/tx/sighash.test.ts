import { describe, expect, it } from 'vitest';
import { PrecomputedTxData } from '../../../src/bitcoin/tx/precomputed.ts';
import { hashToDisplayHex, parseTxHex } from '../../../src/bitcoin/tx/serialize.ts';
import {
  legacySighash,
  SIGHASH_ONE,
  segwitV0Sighash,
  taprootSighash,
  taprootSigMsg,
} from '../../../src/bitcoin/tx/sighash.ts';
import type { Tx } from '../../../src/bitcoin/tx/types.ts';
import { bytesToHex, hexToBytes } from '../../../src/core/bytes.ts';
import { readFixture } from './vectors.ts';

type SighashRow = [string, string, number, number, string];

describe('legacy SignatureHash (sighash.json)', () => {
  const rows = readFixture<unknown[]>('sighash.json').slice(1) as SighashRow[];
  it('has all 500 rows', () => expect(rows).toHaveLength(500));
  it.each(rows.map((r, i) => [i, ...r] as const))('row %i', (_i, txHex, script, nIn, hashType, expected) => {
    const tx = parseTxHex(txHex);
    expect(hashToDisplayHex(legacySighash(tx, nIn, hexToBytes(script), hashType))).toBe(expected);
  });

  it('returns uint256 ONE for SIGHASH_SINGLE without a matching output', () => {
    const tx = parseTxHex(rows[0]![0]);
    const single: Tx = { ...tx, outputs: tx.outputs.slice(0, 0) };
    expect(legacySighash(single, 0, new Uint8Array(), 3)).toEqual(SIGHASH_ONE);
    expect(legacySighash(single, 0, new Uint8Array(), 0x83)).toEqual(SIGHASH_ONE);
  });
});

describe('BIP-143 (the BIP text examples)', () => {
  // Native P2WPKH example from BIP-143: input 1 spends 6 BTC from a P2WPKH output.
  it('native P2WPKH', () => {
    const tx = parseTxHex(
      '0100000002fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f0000000000eeffffffef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206000000001976a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42dbee7e4dbe6a21b2d50ce2f0167faa815988ac11000000',
    );
    const scriptCode = hexToBytes('76a9141d0f172a0ecb48aee1be1f2687d2963ae33f71a188ac');
    const h = segwitV0Sighash(tx, 1, scriptCode, 600000000n, 1);
    expect(bytesToHex(h)).toBe('c37af31116d1b27caf68aae9e3ac82f1477929014d5b917657d0eb49478cb670');
  });
  // The six hash types of BIP-143's P2SH-P2WSH 6-of-6 example.
  it.each([
    [0x01, '185c0be5263dce5b4bb50a047973c1b6272bfbd0103a89444597dc40b248ee7c'],
    [0x02, 'e9733bc60ea13c95c6527066bb975a2ff29a925e80aa14c213f686cbae5d2f36'],
    [0x03, '1e1f1c303dc025bd664acb72e583e933fae4cff9148bf78c157d1e8f78530aea'],
    [0x81, '2a67f03e63a6a422125878b40b82da593be8d4efaafe88ee528af6e5a9955c6e'],
    [0x82, '781ba15f3779d5542ce8ecb5c18716733a5ee42a6f51488ec96154934e2c890a'],
    [0x83, '511e8e52ed574121fc1b654970395502128263f62662e076dc6baf05c2e6a99b'],
  ])('P2SH-P2WSH hash type %s', (hashType, expected) => {
    const tx = parseTxHex(
      '010000000136641869ca081e70f394c6948e8af409e18b619df2ed74aa106c1ca29787b96e0100000000ffffffff0200e9a435000000001976a914389ffce9cd9ae88dcc0631e88a821ffdbe9bfe2688acc0832f05000000001976a9147480a33f950689af511e6e84c138dbbd3c3ee41588ac00000000',
    );
    const witnessScript = hexToBytes(
      '56210307b8ae49ac90a048e9b53357a2354b3334e9c8bee813ecb98e99a7e07e8c3ba32103b28f0c28bfab54554ae8c658ac5c3e0ce6e79ad336331f78c428dd43eea8449b21034b8113d703413d57761b8b9781957b8c0ac1dfe69f492580ca4195f50376ba4a21033400f6afecb833092a9a21cfdf1ed1376e58c5d1f47de74683123987e967a8f42103a6d48b1131e94ba04d9737d61acdaa1322008af9602b3b14862c07a1789aac162102d8b661b0b3302ee2f162b09e07a55ad5dfbe673a9f01d9f0c19617681024306b56ae',
    );
    const h = segwitV0Sighash(tx, 0, witnessScript, 987654321n, hashType);
    expect(bytesToHex(h)).toBe(expected);
  });
});

type Bip341 = {
  keyPathSpending: {
    given: { rawUnsignedTx: string; utxosSpent: { scriptPubKey: string; amountSats: number }[] };
    intermediary: Record<
      'hashAmounts' | 'hashOutputs' | 'hashPrevouts' | 'hashScriptPubkeys' | 'hashSequences',
      string
    >;
    inputSpending: {
      given: { txinIndex: number; hashType: number };
      intermediary: { sigMsg: string; sigHash: string };
    }[];
  }[];
};

describe('BIP-341 key-path sighashes (bip341_wallet_vectors.json)', () => {
  const v = readFixture<Bip341>('bip341_wallet_vectors.json');
  const spending = v.keyPathSpending[0]!;
  const tx = parseTxHex(spending.given.rawUnsignedTx);
  const prevouts = spending.given.utxosSpent.map((u) => ({
    value: BigInt(u.amountSats),
    script: hexToBytes(u.scriptPubKey),
  }));
  const cache = new PrecomputedTxData(tx, prevouts);

  it('computes the transaction-level intermediary hashes', () => {
    expect(bytesToHex(cache.amountsSingle!)).toBe(spending.intermediary.hashAmounts);
    expect(bytesToHex(cache.outputsSingle)).toBe(spending.intermediary.hashOutputs);
    expect(bytesToHex(cache.prevoutsSingle)).toBe(spending.intermediary.hashPrevouts);
    expect(bytesToHex(cache.scriptPubkeysSingle!)).toBe(spending.intermediary.hashScriptPubkeys);
    expect(bytesToHex(cache.sequencesSingle)).toBe(spending.intermediary.hashSequences);
  });

  it('covers every hash type the vectors sign with, 0x83 included', () => {
    const types = new Set(spending.inputSpending.map((s) => s.given.hashType));
    for (const t of [0x00, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83]) expect(types.has(t)).toBe(true);
  });

  it.each(spending.inputSpending.map((s) => [s.given.txinIndex, s.given.hashType, s] as const))(
    'input %i, hash type %i: sigMsg and sigHash',
    (index, hashType, s) => {
      const msg = taprootSigMsg(cache, index, hashType, 'taproot');
      expect(msg.ok && bytesToHex(msg.msg)).toBe(s.intermediary.sigMsg);
      const h = taprootSighash(cache, index, hashType, 'taproot');
      expect(h.ok && bytesToHex(h.hash)).toBe(s.intermediary.sigHash);
    },
  );

  it('refuses invalid hash types and SIGHASH_SINGLE without a matching output, as Core does', () => {
    for (const t of [0x04, 0x7f, 0x80, 0x84, 0xff]) {
      expect(taprootSighash(cache, 0, t, 'taproot')).toEqual({ ok: false, reason: 'invalid-hash-type' });
    }
    // Two outputs: inputs 2.. have no output at their index.
    for (const t of [0x03, 0x83]) {
      expect(taprootSighash(cache, 2, t, 'taproot')).toEqual({ ok: false, reason: 'single-without-output' });
      expect(taprootSighash(cache, 1, t, 'taproot').ok).toBe(true);
    }
    expect(taprootSighash(new PrecomputedTxData(tx), 0, 0, 'taproot')).toEqual({
      ok: false,
      reason: 'missing-prevouts',
    });
  });

  it('commits to the annex, the tapleaf hash and the code separator position', () => {
    const leaf = new Uint8Array(32).fill(7);
    const base = taprootSigMsg(cache, 0, 0, 'tapscript', { tapleafHash: leaf });
    const withSep = taprootSigMsg(cache, 0, 0, 'tapscript', { tapleafHash: leaf, codeseparatorPos: 3 });
    const withAnnex = taprootSigMsg(cache, 0, 0, 'tapscript', {
      tapleafHash: leaf,
      annex: Uint8Array.of(0x50, 1),
    });
    const keyPath = taprootSigMsg(cache, 0, 0, 'taproot');
    if (!base.ok || !withSep.ok || !withAnnex.ok || !keyPath.ok) throw new Error('unexpected failure');
    // spend_type byte: ext_flag << 1 | annex; follows 1+1+4+4+4*32+32 bytes of the message.
    const at = 1 + 1 + 4 + 4 + 5 * 32;
    expect(keyPath.msg[at]).toBe(0);
    expect(base.msg[at]).toBe(2);
    expect(withAnnex.msg[at]).toBe(3);
    // key_version 0 then codesep position, little-endian, at the end.
    expect(bytesToHex(base.msg.slice(-37))).toBe(`${bytesToHex(leaf)}00ffffffff`);
    expect(bytesToHex(withSep.msg.slice(-4))).toBe('03000000');
    expect(withAnnex.msg.length).toBe(base.msg.length + 32);
  });
});
