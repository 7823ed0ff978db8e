/** The inputs half of GVM-1's tape (docs/protocol.md §23): its layout for every input kind. */
import { describe, expect, it } from 'vitest';
import { encodeAction } from '../../src/governance/encoding.ts';
import { type GovernanceInput, INPUT_KINDS } from '../../src/governance/inputs.ts';
import { sha256Concat } from '../../src/governance/sha.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { wordOf } from '../../src/machine/isa.ts';
import {
  ACTION_WORDS,
  encodeInputsTape,
  INPUT_RECORD_WORDS,
} from '../../src/machine/programs/inputs-tape.ts';

const at = { block: 7n, txIndex: 2, logIndex: 1 };
const sender = '0x00000000000000000000000000000000000000aa' as const;

describe('the inputs tape', () => {
  it('lays out a workload: count, one 16-word record per input, actions after the records', () => {
    const { inputs } = generateWorkload({ seed: 3, inputs: 300 });
    const words = encodeInputsTape(inputs);
    expect(words[0]).toBe(BigInt(inputs.length));
    const kinds = new Set<string>();
    inputs.forEach((input, i) => {
      const r = words.slice(1 + INPUT_RECORD_WORDS * i, 1 + INPUT_RECORD_WORDS * (i + 1));
      expect(r[0]).toBe(BigInt(INPUT_KINDS.indexOf(input.kind) + 1));
      expect(r[1]).toBe(BigInt(input.sender));
      expect(r[2]).toBe(input.position.block);
      kinds.add(input.kind);
      if (input.kind === 'propose') {
        const first = Number(r[5]);
        expect(r[6]).toBe(BigInt(input.actions.length));
        expect(r[7]).toBe(wordOf(sha256Concat(input.actions.map(encodeAction))));
        input.actions.forEach((a, k) => {
          const w = words.slice(first + ACTION_WORDS * k, first + ACTION_WORDS * (k + 1));
          expect(w[0]).toBe(a.kind === 'setParameter' ? 0n : 1n);
          if (a.kind === 'setParameter') expect(w[2]).toBe(a.value);
        });
      }
    });
    expect(kinds.size).toBeGreaterThanOrEqual(8);
  });

  it.each<[string, GovernanceInput, bigint[]]>([
    ['registerValidator', { kind: 'registerValidator', sender, position: at, commissionBps: 500 }, [500n]],
    ['stake', { kind: 'stake', sender, position: at, amount: 10n ** 18n }, [10n ** 18n]],
    [
      'delegate',
      { kind: 'delegate', sender, position: at, validator: `0x${'0b'.repeat(20)}`, amount: 3n },
      [BigInt(`0x${'0b'.repeat(20)}`), 3n],
    ],
    ['vote', { kind: 'vote', sender, position: at, proposalId: 4n, support: 'abstain' }, [4n, 2n]],
    ['endEpoch', { kind: 'endEpoch', sender, position: at }, []],
  ])('%s: kind code, sender, position, arguments', (_, input, args) => {
    const r = encodeInputsTape([input]).slice(1, 17);
    expect(r.slice(0, 5)).toEqual([BigInt(INPUT_KINDS.indexOf(input.kind) + 1), 0xaan, 7n, 2n, 1n]);
    expect(r.slice(5, 5 + args.length)).toEqual(args);
    expect(r.slice(5 + args.length).every((w) => w === 0n)).toBe(true);
  });

  it('a malformed input is kind 0 with nothing else (the program rejects it as the model does)', () => {
    const bad: GovernanceInput[] = [
      { kind: 'stake', sender: '0xAA' as `0x${string}`, position: at, amount: 1n },
      { kind: 'stake', sender, position: at, amount: 1n << 256n },
      { kind: 'registerValidator', sender, position: at, commissionBps: 1.5 },
    ];
    const words = encodeInputsTape(bad);
    expect(words.slice(1).every((w) => w === 0n)).toBe(true);
    expect(words.length).toBe(1 + 3 * INPUT_RECORD_WORDS);
    expect(words[0]).toBe(3n);
  });
});
