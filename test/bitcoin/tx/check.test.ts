import { describe, expect, it } from 'vitest';
import { checkTransaction, MAX_MONEY } from '../../../src/bitcoin/tx/check.ts';
import type { Tx, TxInput } from '../../../src/bitcoin/tx/types.ts';

const input = (fill: number, vout = 0, scriptSig = new Uint8Array()): TxInput => ({
  prevTxid: new Uint8Array(32).fill(fill),
  vout,
  scriptSig,
  sequence: 0xffffffff,
  witness: [],
});
const base: Tx = {
  version: 2,
  locktime: 0,
  inputs: [input(1)],
  outputs: [{ value: 1000n, script: Uint8Array.of(0x51) }],
};

describe('CheckTransaction', () => {
  const cases: [string, Tx, string | undefined][] = [
    ['a plain transaction', base, undefined],
    ['no inputs', { ...base, inputs: [] }, 'bad-txns-vin-empty'],
    ['no outputs', { ...base, outputs: [] }, 'bad-txns-vout-empty'],
    [
      'over 1 MB without witness',
      { ...base, outputs: [{ value: 0n, script: new Uint8Array(1_000_000) }] },
      'bad-txns-oversize',
    ],
    [
      'a negative output',
      { ...base, outputs: [{ value: -1n, script: new Uint8Array() }] },
      'bad-txns-vout-negative',
    ],
    [
      'an output above MAX_MONEY',
      { ...base, outputs: [{ value: MAX_MONEY + 1n, script: new Uint8Array() }] },
      'bad-txns-vout-toolarge',
    ],
    [
      'outputs summing above MAX_MONEY',
      {
        ...base,
        outputs: [
          { value: MAX_MONEY, script: new Uint8Array() },
          { value: 1n, script: new Uint8Array() },
        ],
      },
      'bad-txns-txouttotal-toolarge',
    ],
    ['exactly MAX_MONEY', { ...base, outputs: [{ value: MAX_MONEY, script: new Uint8Array() }] }, undefined],
    ['a duplicate input', { ...base, inputs: [input(1), input(2), input(1)] }, 'bad-txns-inputs-duplicate'],
    ['same txid, other index', { ...base, inputs: [input(1, 0), input(1, 1)] }, undefined],
    [
      'coinbase with a 1-byte scriptSig',
      { ...base, inputs: [input(0, -1, new Uint8Array(1))] },
      'bad-cb-length',
    ],
    [
      'coinbase with a 101-byte scriptSig',
      { ...base, inputs: [input(0, -1, new Uint8Array(101))] },
      'bad-cb-length',
    ],
    [
      'coinbase with a 2-byte scriptSig',
      { ...base, inputs: [input(0, 0xffffffff, new Uint8Array(2))] },
      undefined,
    ],
    [
      'a null prevout beside another input',
      { ...base, inputs: [input(1), input(0, 0xffffffff)] },
      'bad-txns-prevout-null',
    ],
  ];
  it.each(cases)('%s', (_name, tx, reason) => {
    expect(checkTransaction(tx)).toEqual(reason === undefined ? { ok: true } : { ok: false, reason });
  });
});
