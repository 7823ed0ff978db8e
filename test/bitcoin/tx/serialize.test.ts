import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBitcoinjs, toBitcoinjs } from '../../../src/bitcoin/tx/bitcoinjs.ts';
import {
  displayHexToHash,
  hashToDisplayHex,
  parseTx,
  parseTxHex,
  serializeTx,
  TxDecodeError,
  txid,
  txVsize,
  txWeight,
  wtxid,
} from '../../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../../src/bitcoin/tx/types.ts';
import { bytesToHex, hexToBytes } from '../../../src/core/bytes.ts';
import { readFixture, readTxVectors } from './vectors.ts';

// BIP-143's native P2WPKH example, signed (segwit serialization), and its known ids.
const SEGWIT_TX =
  '01000000000102fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f00000000494830450221008b9d1dc26ba6a9cb62127b02742fa9d754cd3bebf337f7a55d114c8e5cdd30be022040529b194ba3f9281a99f2b1c0a19c0489bc22ede944ccf4ecbab4cc618ef3ed01eeffffffef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206000000001976a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42dbee7e4dbe6a21b2d50ce2f0167faa815988ac000247304402203609e17b84f6a7d30c80bfa610b5b4542f32a8a0d5447a12fb1366d7f01cc44a0220573a954c4518331561406f90300e8f3358f51928d43c212a8caed02de67eebee0121025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee635711000000';

describe('transaction serialization', () => {
  it('round-trips every vector transaction byte for byte', () => {
    const hexes = [
      ...readTxVectors('tx_valid.json').map((r) => r.tx),
      ...readTxVectors('tx_invalid.json').map((r) => r.tx),
      ...readFixture<unknown[][]>('sighash.json')
        .slice(1)
        .map((r) => r[0] as string),
      SEGWIT_TX,
    ];
    expect(hexes.length).toBeGreaterThan(700);
    for (const hex of hexes) {
      expect(bytesToHex(serializeTx(parseTxHex(hex)))).toBe(hex);
    }
  });

  it('computes txid, wtxid, weight and vsize like Core', () => {
    const tx = parseTxHex(SEGWIT_TX);
    const base = serializeTx(tx, { witness: false }).length;
    const total = hexToBytes(SEGWIT_TX).length;
    expect(txWeight(tx)).toBe(base * 3 + total);
    expect(txVsize(tx)).toBe(Math.ceil((base * 3 + total) / 4));
    // Without witness data txid == wtxid; with it they differ and the txid ignores the witness.
    expect(bytesToHex(txid(tx))).not.toBe(bytesToHex(wtxid(tx)));
    const stripped = { ...tx, inputs: tx.inputs.map((i) => ({ ...i, witness: [] })) };
    expect(bytesToHex(wtxid(stripped))).toBe(bytesToHex(txid(tx)));
    // Display order is the reverse of internal order.
    const id = txid(tx);
    expect(displayHexToHash(hashToDisplayHex(id))).toEqual(id);
    expect(toBitcoinjs(tx).getId()).toBe(hashToDisplayHex(id));
    expect(fromBitcoinjs(toBitcoinjs(tx))).toEqual(tx);
  });

  const garbage: [string, string, string][] = [
    ['empty input', '', 'end-of-data'],
    ['truncated version', '010000', 'end-of-data'],
    ['input count larger than the data', '01000000fd0001', 'end-of-data'],
    ['non-canonical input count', '01000000fd0100', 'non-canonical-compact-size'],
    ['count above MAX_SIZE', '01000000ff0000000004000000', 'size-too-large'],
    // marker 00, flag 01, one input, one output, then an empty witness stack: superfluous.
    [
      'witness flag with only empty witnesses',
      `0100000000010100000000000000000000000000000000000000000000000000000000000000000000000000ffffffff0100000000000000000000000000`,
      'superfluous-witness-record',
    ],
    [
      'unknown optional data flag',
      `0100000000020100000000000000000000000000000000000000000000000000000000000000000000000000ffffffff010000000000000000000000000000`,
      'unknown-optional-data',
    ],
    ['trailing bytes', '01000000000000000000ff', 'trailing-data'],
  ];
  it.each(garbage)('rejects %s with a bounded, exact error', (_name, hex, reason) => {
    let caught: unknown;
    try {
      parseTx(hexToBytes(hex));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TxDecodeError);
    expect((caught as TxDecodeError).reason).toBe(reason);
  });

  it('parses a zero-input, zero-output transaction as Core does (the 00 is read as the flag)', () => {
    const tx = parseTx(hexToBytes('01000000000000000000'));
    expect(tx.inputs).toHaveLength(0);
    expect(tx.outputs).toHaveLength(0);
    expect(bytesToHex(serializeTx(tx))).toBe('01000000000000000000');
  });

  it('never throws anything but TxDecodeError on random bytes, and round-trips what it accepts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        let tx: Tx;
        try {
          tx = parseTx(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(TxDecodeError);
          return;
        }
        expect(bytesToHex(serializeTx(tx))).toBe(bytesToHex(bytes));
      }),
      { numRuns: 3000 },
    );
  });
});
