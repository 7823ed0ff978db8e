import { describe, expect, it } from 'vitest';
import {
  checkPolicy,
  dustThreshold,
  isStandardTx,
  isWitnessStandard,
  solveOutput,
  txSigOpCost,
} from '../../../src/bitcoin/tx/policy.ts';
import type { Prevout, Tx, TxInput } from '../../../src/bitcoin/tx/types.ts';
import { concatBytes, hexToBytes } from '../../../src/core/bytes.ts';

const KEY33 = hexToBytes(`02${'79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'}`);
const p2pkh = hexToBytes(`76a914${'11'.repeat(20)}88ac`);
const p2wpkh = hexToBytes(`0014${'11'.repeat(20)}`);
const p2wsh = hexToBytes(`0020${'11'.repeat(32)}`);
const p2tr = hexToBytes(`5120${'11'.repeat(32)}`);
const p2sh = hexToBytes(`a914${'11'.repeat(20)}87`);
const multisig = (m: number, n: number) =>
  concatBytes(
    Uint8Array.of(0x50 + m),
    ...Array.from({ length: n }, () => concatBytes(Uint8Array.of(33), KEY33)),
    Uint8Array.of(0x50 + n, 0xae),
  );

const input = (over: Partial<TxInput> = {}): TxInput => ({
  prevTxid: new Uint8Array(32).fill(9),
  vout: 0,
  scriptSig: new Uint8Array(),
  sequence: 0xfffffffd,
  witness: [],
  ...over,
});
const tx = (over: Partial<Tx> = {}): Tx => ({
  version: 2,
  locktime: 0,
  inputs: [input()],
  outputs: [
    { value: 10_000n, script: p2wpkh },
    { value: 10_000n, script: p2tr },
  ],
  ...over,
});

describe('output types (Core’s Solver)', () => {
  it.each([
    [p2pkh, 'pubkeyhash'],
    [p2wpkh, 'witness_v0_keyhash'],
    [p2wsh, 'witness_v0_scripthash'],
    [p2tr, 'witness_v1_taproot'],
    [p2sh, 'scripthash'],
    [concatBytes(Uint8Array.of(33), KEY33, Uint8Array.of(0xac)), 'pubkey'],
    [multisig(1, 2), 'multisig'],
    [hexToBytes('6a0568656c6c6f'), 'nulldata'],
    [hexToBytes('6a'), 'nulldata'],
    [hexToBytes(`5214${'11'.repeat(20)}`), 'witness_unknown'],
    [hexToBytes(`0015${'11'.repeat(21)}`), 'nonstandard'],
    [hexToBytes('51'), 'nonstandard'],
    [hexToBytes('6a6a'), 'nonstandard'],
  ])('%# is %s', (script, type) => {
    expect(solveOutput(script).type).toBe(type);
  });

  it.each([
    [p2pkh, 546n],
    [p2wpkh, 294n],
    [p2tr, 330n],
    [p2wsh, 330n],
    [p2sh, 540n],
    [hexToBytes('6a'), 0n],
  ])('dust threshold %# is %s sat at 3 sat/vB', (script, threshold) => {
    expect(dustThreshold({ value: 0n, script })).toBe(threshold);
  });
});

describe('IsStandardTx', () => {
  it.each([
    ['a plain tx', tx(), undefined],
    ['version 0', tx({ version: 0 }), 'version'],
    ['version 3 (Core 26)', tx({ version: 3 }), 'version'],
    [
      'over 400,000 WU',
      tx({ outputs: [{ value: 0n, script: concatBytes(hexToBytes('6a'), new Uint8Array(100_001)) }] }),
      'tx-size',
    ],
    ['a 1651-byte scriptSig', tx({ inputs: [input({ scriptSig: new Uint8Array(1651) })] }), 'scriptsig-size'],
    [
      'a non-push scriptSig',
      tx({ inputs: [input({ scriptSig: hexToBytes('76') })] }),
      'scriptsig-not-pushonly',
    ],
    ['a nonstandard output', tx({ outputs: [{ value: 10_000n, script: hexToBytes('51') }] }), 'scriptpubkey'],
    ['a 4-key bare multisig', tx({ outputs: [{ value: 10_000n, script: multisig(1, 4) }] }), 'scriptpubkey'],
    [
      'a dust output',
      tx({
        outputs: [
          { value: 293n, script: p2wpkh },
          { value: 10_000n, script: p2tr },
        ],
      }),
      'dust',
    ],
    [
      'exactly the dust threshold',
      tx({
        outputs: [
          { value: 294n, script: p2wpkh },
          { value: 10_000n, script: p2tr },
        ],
      }),
      undefined,
    ],
    [
      'two OP_RETURN outputs',
      tx({
        outputs: [
          { value: 0n, script: hexToBytes('6a01ff') },
          { value: 0n, script: hexToBytes('6a01ff') },
          { value: 1000n, script: p2tr },
        ],
      }),
      'multi-op-return',
    ],
    [
      'an 84-byte OP_RETURN',
      tx({
        outputs: [
          { value: 0n, script: concatBytes(hexToBytes('6a4c51'), new Uint8Array(81)) },
          { value: 1000n, script: p2tr },
        ],
      }),
      'scriptpubkey',
    ],
    [
      'under 65 bytes without witness',
      tx({ outputs: [{ value: 0n, script: hexToBytes('6a') }] }),
      'tx-size-small',
    ],
  ] as const)('%s', (_name, t, reason) => {
    const r = isStandardTx(t);
    expect(r.ok ? undefined : r.reason).toBe(reason);
  });
});

describe('witness and input standardness', () => {
  const control = (leafVersion: number) => concatBytes(Uint8Array.of(leafVersion), new Uint8Array(32));
  const cases: [string, Uint8Array, Uint8Array[], string | undefined][] = [
    ['tapscript with 80-byte items', p2tr, [new Uint8Array(80), hexToBytes('51'), control(0xc0)], undefined],
    [
      'tapscript with an 81-byte item',
      p2tr,
      [new Uint8Array(81), hexToBytes('51'), control(0xc0)],
      'bad-witness-nonstandard',
    ],
    [
      'unknown leaf version with a big item',
      p2tr,
      [new Uint8Array(81), hexToBytes('51'), control(0xc2)],
      undefined,
    ],
    ['a taproot annex', p2tr, [new Uint8Array(64), hexToBytes('50')], 'bad-witness-nonstandard'],
    ['key path', p2tr, [new Uint8Array(64)], undefined],
    ['P2WSH 81-byte stack item', p2wsh, [new Uint8Array(81), hexToBytes('51')], 'bad-witness-nonstandard'],
    ['P2WSH 3601-byte script', p2wsh, [new Uint8Array(3601)], 'bad-witness-nonstandard'],
    ['witness on a non-witness output', p2pkh, [new Uint8Array(1)], 'bad-witness-nonstandard'],
  ];
  it.each(cases)('%s', (_name, spk, witness, reason) => {
    const t = tx({ inputs: [input({ witness })] });
    const r = isWitnessStandard(t, [{ value: 100_000n, script: spk }]);
    expect(r.ok ? undefined : r.reason).toBe(reason);
  });

  it('refuses spends of nonstandard and unknown-witness outputs, and P2SH with too many sigops', () => {
    const prev = (script: Uint8Array): Prevout[] => [{ value: 100_000n, script }];
    expect(checkPolicy(tx(), prev(hexToBytes('51')))).toMatchObject({
      reason: 'bad-txns-nonstandard-inputs',
    });
    expect(checkPolicy(tx(), prev(hexToBytes(`5214${'11'.repeat(20)}`)))).toMatchObject({
      reason: 'bad-txns-nonstandard-inputs',
    });
    // A redeem script with 16 CHECKSIGs.
    const redeem = new Uint8Array(16).fill(0xac);
    const withRedeem = tx({ inputs: [input({ scriptSig: concatBytes(Uint8Array.of(16), redeem) })] });
    expect(checkPolicy(withRedeem, prev(p2sh))).toMatchObject({ reason: 'bad-txns-nonstandard-inputs' });
    expect(checkPolicy(tx(), prev(p2wpkh))).toEqual({ ok: true });
  });

  it('counts sigop cost as Core does (legacy ×4, P2SH accurate ×4, witness ×1)', () => {
    const t = tx({
      inputs: [
        input({ witness: [new Uint8Array(72), KEY33] }),
        input({ vout: 1, scriptSig: concatBytes(Uint8Array.of(2), hexToBytes('52ae')) }),
      ],
      outputs: [{ value: 10_000n, script: p2pkh }],
    });
    // Output P2PKH: 1 legacy sigop (4); input 0 P2WPKH: 1; input 1 P2SH redeem "OP_2 CHECKMULTISIG": 2 accurate (8).
    expect(
      txSigOpCost(t, [
        { value: 1n, script: p2wpkh },
        { value: 1n, script: p2sh },
      ]),
    ).toBe(4 + 1 + 8);
  });
});
