import { describe, expect, it } from 'vitest';
import { STANDARD_FLAGS } from '../../../src/bitcoin/script/flags.ts';
import { checkPolicy } from '../../../src/bitcoin/tx/policy.ts';
import { checkScriptPolicy } from '../../../src/bitcoin/tx/script-policy.ts';
import { cloneTx } from '../../../src/bitcoin/tx/serialize.ts';
import { verifyTransaction } from '../../../src/bitcoin/tx/verify.ts';
import { type SpendKind, signedFixture, verifyRaw } from '../../../testkit/bitcoin/tx/signed-fixtures.ts';

const MIXED: SpendKind[] = Array.from(
  { length: 100 },
  (_, i) => (['p2pkh', 'p2wpkh', 'p2tr-key', 'p2tr-script'] as const)[i % 4]!,
);

describe('verifyTransaction on signed transactions', () => {
  const f = signedFixture(MIXED);

  it('accepts a correctly signed 100-input mixed transaction under the standard flags', () => {
    expect(verifyRaw(f.raw)).toBe(true);
    const v = verifyTransaction(f.tx, f.prevouts, STANDARD_FLAGS);
    expect(v.inputs.filter((i) => !i.ok)).toEqual([]);
    expect(v.ok).toBe(true);
    expect(checkPolicy(f.tx, f.prevouts)).toEqual({ ok: true });
  });

  it.each([
    [0, 'p2pkh'],
    [1, 'p2wpkh'],
    [2, 'p2tr-key'],
    [3, 'p2tr-script'],
  ] as const)(
    'a wrong amount on input %i (%s) fails exactly the inputs whose sighash commits to it',
    (index, _kind) => {
      const prevouts = f.prevouts.map((p, i) => (i === index ? { ...p, value: p.value + 1n } : p));
      const v = verifyTransaction(f.tx, prevouts, STANDARD_FLAGS);
      expect(v.ok).toBe(false);
      // Legacy sighashes commit to no amount, BIP-143 to the input's own, BIP-341 to every input's.
      const expected = MIXED.flatMap((kind, i) =>
        kind.startsWith('p2tr') || (kind === 'p2wpkh' && i === index) ? [i] : [],
      );
      const failing = v.inputs.filter((i) => !i.ok);
      expect(failing.map((i) => i.index)).toEqual(expected);
      for (const i of failing) {
        if (i.ok) continue;
        // A failed non-empty ECDSA signature is NULLFAIL under the standard flags.
        expect(i.error).toBe(MIXED[i.index] === 'p2wpkh' ? 'NULLFAIL' : 'SCHNORR_SIG');
      }
    },
  );

  it('reports a changed output as a failure of every input, and CheckTransaction problems separately', () => {
    const tx = cloneTx(f.tx);
    tx.outputs[0]!.value -= 1n;
    const v = verifyTransaction(tx, f.prevouts, STANDARD_FLAGS);
    expect(v.inputs.every((i) => !i.ok)).toBe(true);
    const dup = cloneTx(f.tx);
    dup.inputs[1] = { ...dup.inputs[1]!, prevTxid: dup.inputs[0]!.prevTxid, vout: dup.inputs[0]!.vout };
    const d = verifyTransaction(dup, f.prevouts, STANDARD_FLAGS);
    expect(d.check).toEqual({ ok: false, reason: 'bad-txns-inputs-duplicate' });
    expect(d.ok).toBe(false);
  });

  it('verifies only the inputs asked for', () => {
    const v = verifyTransaction(f.tx, f.prevouts, STANDARD_FLAGS, { inputs: [3, 7] });
    expect(v.inputs.map((i) => i.index)).toEqual([3, 7]);
  });
});

describe('script policy (standard vs consensus flags)', () => {
  const f = signedFixture(['p2wpkh', 'p2tr-key']);

  it('passes a standard spend', () => {
    expect(checkScriptPolicy(f.tx, f.prevouts)).toEqual({ ok: true });
  });

  it('calls a consensus failure mandatory, with Core’s reason text', () => {
    const prevouts = f.prevouts.map((p, i) => (i === 1 ? { ...p, value: p.value + 1n } : p));
    const r = checkScriptPolicy(f.tx, prevouts);
    expect(r).toMatchObject({ ok: false, mandatory: true, error: 'SCHNORR_SIG' });
    if (!r.ok) expect(r.reason).toMatch(/^mandatory-script-verify-flag-failed \(.+\)$/);
  });

  it('calls a policy-only failure non-mandatory', () => {
    // A non-minimal push (OP_PUSHDATA1 for one byte) spending "OP_DROP OP_1": valid by consensus,
    // refused under MINIMALDATA.
    const tx = {
      ...f.tx,
      inputs: [{ ...f.tx.inputs[0]!, scriptSig: Uint8Array.of(0x4c, 0x01, 0x01), witness: [] }],
    };
    const r = checkScriptPolicy(tx, [{ value: 1000n, script: Uint8Array.of(0x75, 0x51) }]);
    expect(r).toMatchObject({ ok: false, mandatory: false, error: 'MINIMALDATA' });
    if (!r.ok) expect(r.reason).toMatch(/^non-mandatory-script-verify-flag \(.+\)$/);
  });
});
