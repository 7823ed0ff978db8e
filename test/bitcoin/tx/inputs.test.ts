import { describe, expect, it } from 'vitest';
import { ScriptFlag, STANDARD_FLAGS } from '../../../src/bitcoin/script/flags.ts';
import {
  parsePrevoutsText,
  readBatchLine,
  readFlags,
  readTxHex,
  TxInputError,
} from '../../../src/bitcoin/tx/inputs.ts';

const TX =
  '0100000001000100000000000000000000000000000000000000000000000000000000000000000000000000000001000000000000000000ff64cd1d';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TxInputError);
    return (err as TxInputError).shortMessage;
  }
  throw new Error('expected a TxInputError');
}

describe('tx tool inputs', () => {
  it('reads prevouts with string or integer amounts', () => {
    expect(
      parsePrevoutsText('[{"amount":"5000000000","scriptPubKey":"51"},{"amount":7,"scriptPubKey":""}]'),
    ).toEqual([
      { value: 5_000_000_000n, script: Uint8Array.of(0x51) },
      { value: 7n, script: new Uint8Array() },
    ]);
  });

  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['not an array', '{}', /must be a JSON array/],
    ['an entry that is not an object', '[1]', /\[0\] is not an object/],
    ['a fractional amount', '[{"amount":"1.5","scriptPubKey":"51"}]', /amount must be an integer/],
    ['an amount beyond 64 bits', '[{"amount":"9223372036854775808","scriptPubKey":"51"}]', /outside 64 bits/],
    [
      'an unsafe JSON number',
      '[{"amount":9007199254740993,"scriptPubKey":"51"}]',
      /amount must be an integer/,
    ],
    ['a script that is not hex', '[{"amount":"1","scriptPubKey":"5"}]', /scriptPubKey is not valid hex/],
    ['a missing script', '[{"amount":"1"}]', /scriptPubKey must be a hex string/],
  ])('refuses prevouts with %s', (_name, text, message) => {
    expect(errorOf(() => parsePrevoutsText(text))).toMatch(message);
  });

  it.each([
    ['empty', '', /is empty/],
    ['odd hex', 'abc', /Cannot read the transaction/],
    ['truncated', TX.slice(0, 30), /Cannot read the transaction/],
    ['trailing bytes', `${TX}00`, /Cannot read the transaction/],
  ])('refuses %s transaction hex', (_name, hex, message) => {
    expect(errorOf(() => readTxHex(hex))).toMatch(message);
  });

  it('reads flag lists, defaulting to the standard flags', () => {
    expect(readFlags(undefined)).toBe(STANDARD_FLAGS);
    expect(readFlags('P2SH,WITNESS')).toBe(ScriptFlag.P2SH | ScriptFlag.WITNESS);
    expect(readFlags('NONE')).toBe(0);
    expect(errorOf(() => readFlags('P2SH,BOGUS'))).toMatch(/Unknown verification flag/);
  });

  it('reads batch lines and names the line in every error', () => {
    const prevouts = [{ amount: '0', scriptPubKey: '51' }];
    const ok = readBatchLine(JSON.stringify({ tx: TX, prevouts, flags: 'P2SH', input: 0 }), 3);
    expect(ok.flags).toBe(ScriptFlag.P2SH);
    expect(ok.input).toBe(0);
    expect(errorOf(() => readBatchLine('[]', 4))).toMatch(/^batch line 4 must be a JSON object/);
    expect(errorOf(() => readBatchLine(JSON.stringify({ tx: TX, prevouts: [] }), 5))).toMatch(
      /^batch line 5: 0 prevouts for 1/,
    );
    expect(errorOf(() => readBatchLine(JSON.stringify({ tx: TX, prevouts, input: 1 }), 6))).toMatch(
      /input 1 does not exist/,
    );
    expect(errorOf(() => readBatchLine(JSON.stringify({ tx: TX, prevouts, input: -1 }), 7))).toMatch(
      /non-negative integer/,
    );
    expect(errorOf(() => readBatchLine(JSON.stringify({ tx: TX, prevouts, flags: 3 }), 8))).toMatch(
      /"flags" must be/,
    );
  });
});
