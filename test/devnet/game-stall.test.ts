/**
 * The stalling operator's child (src/devnet/game-stall.ts): it spends the stalled move's anchor and a coin
 * of the operator's, is standard and validly signed, pays exactly the relay minimum for its own size (so
 * the package stays below any market above 1 sat/vB), is large (what a replacement must outbid), and is
 * refused for a move whose anchor is not the operator's (Vigil's own moves cannot be stalled so).
 */
import * as ecc from 'tiny-secp256k1';
import { describe, expect, it } from 'vitest';
import { STANDARD_FLAGS } from '../../src/bitcoin/script/flags.ts';
import { taprootOutput } from '../../src/bitcoin/taproot/output.ts';
import { txid, txVsize } from '../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import { verifyTransaction } from '../../src/bitcoin/tx/verify.ts';
import { equalBytes } from '../../src/core/bytes.ts';
import { stallPad } from '../../src/devnet/game-stall.ts';

const xOnlyPublicKey = (secret: Uint8Array): Uint8Array => Uint8Array.from(ecc.xOnlyPointFromScalar(secret));
const secret = new Uint8Array(32).fill(7);
const wallet = { secret, script: taprootOutput(xOnlyPublicKey(secret)).scriptPubKey };
const other = taprootOutput(xOnlyPublicKey(new Uint8Array(32).fill(9))).scriptPubKey;

/** A move as the game builds one: a pot, then its 330-sat anchor last. */
const moveTo = (anchorScript: Uint8Array): Tx => ({
  version: 2,
  locktime: 0,
  inputs: [
    {
      prevTxid: new Uint8Array(32).fill(1),
      vout: 0,
      scriptSig: new Uint8Array(),
      sequence: 0xfffffffd,
      witness: [],
    },
  ],
  outputs: [
    { value: 500_000n, script: other },
    { value: 330n, script: anchorScript },
  ],
});

const coin = { txid: new Uint8Array(32).fill(2), vout: 3, value: 5_000_000_000n };

describe('the stalling operator’s child', () => {
  it('spends the move’s anchor and its coin, validly, at exactly 1 sat/vB, and is large', () => {
    const move = moveTo(wallet.script);
    const pad = stallPad(move, coin, wallet);
    expect(equalBytes(pad.inputs[0]?.prevTxid as Uint8Array, txid(move))).toBe(true);
    expect(pad.inputs[0]?.vout).toBe(1);
    expect(equalBytes(pad.inputs[1]?.prevTxid as Uint8Array, coin.txid)).toBe(true);
    expect(pad.inputs[1]?.vout).toBe(3);
    const prevouts = [
      { value: 330n, script: wallet.script },
      { value: coin.value, script: wallet.script },
    ];
    expect(verifyTransaction(pad, prevouts, STANDARD_FLAGS).ok).toBe(true);
    const fee = 330n + coin.value - pad.outputs.reduce((s, o) => s + o.value, 0n);
    expect(fee).toBe(BigInt(txVsize(pad)));
    expect(txVsize(pad)).toBeGreaterThan(40_000);
    // Under Core's standard weight (400,000 WU) and, with the heaviest move, its 101 kvB package limit.
    expect(txVsize(pad)).toBeLessThan(101_000 - 50_000);
    expect(pad.outputs.every((o) => equalBytes(o.script, wallet.script))).toBe(true);
  });

  it('refuses a move whose anchor is not the operator’s, and a coin too small to pay for it', () => {
    expect(() => stallPad(moveTo(other), coin, wallet)).toThrow(/anchor is not the operator's/);
    expect(() => stallPad(moveTo(wallet.script), { ...coin, value: 1_000_000n }, wallet)).toThrow(
      /cannot pay for the stall/,
    );
  });
});
