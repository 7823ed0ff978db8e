/**
 * The account proof file: it round-trips, it verifies against the epoch root, one changed byte anywhere
 * that matters (leaf, sibling, root) makes it fail with a reason, and a file that is not version-2 JSON of
 * the documented shape is refused with an error naming the problem.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import type { Address } from '../../src/governance/index.ts';
import { reexecute } from '../../src/governance/index.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { accountReport } from '../../src/verify/account.ts';
import { replayToEpochEnd } from '../../src/verify/epoch-replay.ts';
import {
  decodeLeaf,
  encodeProofFile,
  type ProofFile,
  ProofFileError,
  parseProofFile,
  proofFileFromReport,
  verifyProofFile,
} from '../../src/verify/proof-file.ts';

let file: ProofFile;
let text: string;
let rootHex: string;
let validator: Address;

beforeAll(() => {
  const w = generateWorkload({ seed: 11, inputs: 200, epochLength: 14 });
  const epochs = reexecute(w.inputs, { genesis: w.genesis }).epochs;
  const end = epochs[epochs.length - 2];
  if (!end) throw new Error('too few epochs');
  const prev = epochs[epochs.length - 3];
  const replay = replayToEpochEnd({
    genesis: w.genesis,
    inputs: w.inputs,
    firstInput: prev ? prev.stepIndex + 1 : 0,
    lastInput: end.stepIndex,
  });
  rootHex = `0x${bytesToHex(end.root)}`;
  // An active, already credited validator: its report cites every kind of leaf but the delegation.
  const active = replay.state.active.find((e) => (replay.state.rewards.get(e.validator) ?? 0n) > 0n);
  if (!active) throw new Error('no active, credited validator');
  validator = active.validator;
  file = proofFileFromReport(accountReport(replay.state, replay.ledger, validator));
  text = encodeProofFile(file);
});

/** A copy of the parsed file with one byte flipped by `edit`. */
const tampered = (edit: (f: ProofFile) => void): ProofFile => {
  const f = parseProofFile(text);
  edit(f);
  return f;
};
const flip = (b: Uint8Array | undefined, at: number): void => {
  if (!b) throw new Error('nothing to flip');
  b[at] = (b[at] as number) ^ 0x01;
};

describe('proof file', () => {
  it('round-trips and verifies against the epoch root, decoding each leaf', () => {
    const back = parseProofFile(text);
    expect(encodeProofFile(back)).toBe(text);
    const verdict = verifyProofFile(back, rootHex);
    expect(verdict.ok).toBe(true);
    expect(verdict.leaves.map((l) => l.fields?.kind)).toEqual(
      expect.arrayContaining(['global', 'param', 'validator', 'active-slot', 'reward']),
    );
    const v = verdict.leaves.find((l) => l.fields?.kind === 'validator')?.fields;
    expect(v).toMatchObject({ kind: 'validator', address: validator });
    const p = verdict.leaves.find((l) => l.fields?.kind === 'param')?.fields;
    expect(p).toMatchObject({ kind: 'param', key: 'maxValidators' });
  });

  it.each<[string, (f: ProofFile) => void, RegExp]>([
    ['a value byte of a leaf', (f) => flip(f.leaves[3]?.leaf, 40), /do not hash to the root/],
    ['a key byte of a leaf', (f) => flip(f.leaves[3]?.leaf, 5), /key bytes are not its id/],
    ['a byte of a sibling', (f) => flip(f.leaves[0]?.proof.siblings[1], 7), /do not hash to the root/],
    ['a byte of the root', (f) => flip(f.root, 31), /do not hash to the root/],
    [
      'the index',
      (f) => ((f.leaves[2] as ProofFile['leaves'][number]).proof.index ^= 1),
      /hash to the root|siblings/,
    ],
    ['a sibling dropped', (f) => f.leaves[1]?.proof.siblings.pop(), /has 24 siblings; every proof has 25/],
  ])('one change in %s fails with a reason', (_, edit, reason) => {
    const verdict = verifyProofFile(tampered(edit));
    expect(verdict.ok).toBe(false);
    const failed = verdict.leaves.filter((l) => !l.ok);
    expect(failed.length).toBeGreaterThan(0);
    for (const l of failed) expect(l.reason).toMatch(reason);
  });

  it('a root other than the expected one is named as such, even if every leaf proves against it', () => {
    const other = `0x${'ab'.repeat(32)}`;
    const verdict = verifyProofFile(parseProofFile(text), other);
    expect(verdict.ok).toBe(false);
    expect(verdict.reasons).toEqual([`the file's root ${rootHex} is not the expected root ${other}`]);
    expect(verdict.leaves.every((l) => l.ok)).toBe(true);
  });

  const json = () => JSON.parse(text) as Record<string, unknown> & { leaves: Record<string, unknown>[] };
  const leaf0 = (j: ReturnType<typeof json>) =>
    j.leaves[0] as { leaf: string; proof: { siblings: string[] } };
  it.each<[string, (j: ReturnType<typeof json>) => unknown, RegExp]>([
    ['not JSON', () => '{', /not JSON/],
    [
      'another version',
      (j) => ({ ...j, version: 3 }),
      /unsupported proof file version 3 \(this Vigil reads version 2\)/,
    ],
    ['another format', (j) => ({ ...j, format: 'x' }), /at format: expected "vigil-account-proofs"/],
    ['a root of 31 bytes', (j) => ({ ...j, root: `0x${'00'.repeat(31)}` }), /at root: 32 bytes/],
    [
      'a root in upper case',
      (j) => ({ ...j, root: rootHex.toUpperCase().replace('0X', '0x') }),
      /at root: lowercase/,
    ],
    [
      'a leaf with an odd hex digit count',
      (j) => {
        leaf0(j).leaf += '0';
        return j;
      },
      /at leaves\.0\.leaf: lowercase 0x-prefixed hex, whole bytes/,
    ],
    [
      'a sibling that is not hex',
      (j) => {
        leaf0(j).proof.siblings[0] = `0x${'zz'.repeat(32)}`;
        return j;
      },
      /at leaves\.0\.proof\.siblings\.0: lowercase/,
    ],
    [
      'a short sibling',
      (j) => {
        leaf0(j).proof.siblings[0] = '0x00';
        return j;
      },
      /at leaves\.0\.proof\.siblings\.0: 32 bytes/,
    ],
    ['an epoch as a number', (j) => ({ ...j, epoch: 3 }), /at epoch/],
    ['an unknown field', (j) => ({ ...j, extra: 1 }), /Unrecognized key/i],
  ])('refuses %s', (_, edit, message) => {
    const out = edit(json());
    const input = typeof out === 'string' ? out : JSON.stringify(out);
    expect(() => parseProofFile(input)).toThrow(ProofFileError);
    expect(() => parseProofFile(input)).toThrow(message);
  });

  it('decodes a leaf only at its documented length; every proof has 25 siblings', () => {
    const g = file.leaves[0]?.leaf as Uint8Array;
    expect(decodeLeaf(g)?.kind).toBe('global');
    expect(decodeLeaf(g.subarray(0, 100))).toBeUndefined();
    for (const l of file.leaves) expect(l.proof.siblings).toHaveLength(25);
  });

  it('a version-1 file (the SHA-256 tree) is refused with how to make a new one', () => {
    const err = (() => {
      try {
        parseProofFile(JSON.stringify({ ...json(), version: 1 }));
      } catch (e) {
        return e as ProofFileError;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ProofFileError);
    expect(err?.message).toMatch(/unsupported proof file version 1 \(this Vigil reads version 2\)/);
    expect(err?.metaMessages.join(' ')).toMatch(/SHA-256 state tree .* --proof-out/);
  });
});
