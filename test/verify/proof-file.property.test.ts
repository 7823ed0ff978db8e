/**
 * The proof file against random mutations of its JSON text: `parseProofFile` either throws ProofFileError
 * (never another error, never hangs) or gives a file that `verifyProofFile` refuses, unless the mutation
 * left the meaning alone (whitespace, key order, the labels and claims the format leaves unverified:
 * `what`, `epoch`, `account`, a repeated leaf). A valid file, however it is laid out, verifies.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { reexecute } from '../../src/governance/index.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { accountReport } from '../../src/verify/account.ts';
import { replayToEpochEnd } from '../../src/verify/epoch-replay.ts';
import {
  encodeProofFile,
  ProofFileError,
  parseProofFile,
  proofFileFromReport,
  verifyProofFile,
} from '../../src/verify/proof-file.ts';

let text: string;
let rootHex: string;

beforeAll(() => {
  const w = generateWorkload({ seed: 23, inputs: 160, epochLength: 12 });
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
  const active = replay.state.active[0];
  if (!active) throw new Error('no active validator');
  text = encodeProofFile(proofFileFromReport(accountReport(replay.state, replay.ledger, active.validator)));
});

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

/** Every path in the tree (the root excluded), parents before children. */
function paths(v: Json, at: Path = []): Path[] {
  const out: Path[] = [];
  if (Array.isArray(v)) {
    v.forEach((c, i) => {
      out.push([...at, i], ...paths(c, [...at, i]));
    });
  } else if (v !== null && typeof v === 'object') {
    for (const [k, c] of Object.entries(v)) out.push([...at, k], ...paths(c, [...at, k]));
  }
  return out;
}

function parentOf(root: Json, path: Path): { parent: Json[] | Record<string, Json>; key: string | number } {
  let node = root;
  for (const k of path.slice(0, -1)) node = (node as Record<string | number, Json>)[k] as Json;
  return { parent: node as Json[] | Record<string, Json>, key: path.at(-1) as string | number };
}

/** A mutation of the parsed JSON, and whether it may leave the file as true as it was. */
type Mutation = { apply: (root: Json) => void; neutral: (path: Path) => boolean; name: string };

const HOSTILE: Json[] = [
  null,
  true,
  0,
  -1,
  1.5,
  -0.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 - 1,
  1e308,
  -1e308,
  '',
  '0x',
  '0x00',
  `0x${'00'.repeat(32)}`,
  `0x${'AB'.repeat(32)}`,
  '__proto__',
  'constructor',
  [],
  {},
  { __proto__: null } as unknown as Json,
];

/** Unverified by design (docs/verify-proofs.md): labels and claims that no hash covers. */
const unverified = (path: Path): boolean => {
  const last = path.at(-1);
  return (
    (path.length === 1 && (last === 'epoch' || last === 'account')) ||
    (path.length === 3 && path[0] === 'leaves' && last === 'what')
  );
};

const setAt = (path: Path, value: Json): ((root: Json) => void) => {
  return (root) => {
    const { parent, key } = parentOf(root, path);
    (parent as Record<string | number, Json>)[key] = value;
  };
};

function mutationArb(base: Json): fc.Arbitrary<{ path: Path; mutation: Mutation }> {
  const all = paths(base);
  const pathArb = fc.constantFrom(...all);
  const leafPaths = all.filter((p) => p.length === 2 && p[0] === 'leaves');
  const replace = fc
    .tuple(pathArb, fc.oneof(fc.constantFrom(...HOSTILE), fc.jsonValue() as fc.Arbitrary<Json>))
    .map(([path, value]) => ({
      path,
      mutation: {
        name: `set ${path.join('.')} = ${JSON.stringify(value)?.slice(0, 80)}`,
        apply: setAt(path, value),
        // A string for a string under an unverified key keeps the format; anything else is a change.
        neutral: (p: Path) => unverified(p) && typeof value === 'string',
      },
    }));
  const remove = pathArb.map((path) => ({
    path,
    mutation: {
      name: `delete ${path.join('.')}`,
      apply: (root: Json) => {
        const { parent, key } = parentOf(root, path);
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
      },
      // Dropping one of several leaves leaves a smaller, still true file.
      neutral: (p: Path) => p.length === 2 && p[0] === 'leaves',
    },
  }));
  const offsetIndex = fc
    .tuple(
      fc.constantFrom(...leafPaths),
      fc.constantFrom('index'),
      fc.constantFrom(1, -1, 2 ** 31, 2 ** 32, -(2 ** 32), 2 ** 52, 0.5),
    )
    .map(([leaf, field, delta]) => {
      const path = [...leaf, 'proof', field];
      return {
        path,
        mutation: {
          name: `${path.join('.')} += ${delta}`,
          apply: (root: Json) => {
            const { parent, key } = parentOf(root, path);
            const p = parent as Record<string, number>;
            p[key as string] = (p[key as string] as number) + delta;
          },
          neutral: () => false,
        },
      };
    });
  const giantSiblings = fc
    .tuple(fc.constantFrom(...leafPaths), fc.integer({ min: 65, max: 5000 }))
    .map(([leaf, n]) => ({
      path: [...leaf, 'proof', 'siblings'],
      mutation: {
        name: `${leaf.join('.')} with ${n} siblings`,
        apply: setAt([...leaf, 'proof', 'siblings'], Array(n).fill(`0x${'11'.repeat(32)}`)),
        neutral: () => false,
      },
    }));
  const duplicateLeaf = fc.constantFrom(...leafPaths).map((leaf) => ({
    path: leaf,
    mutation: {
      name: `duplicate ${leaf.join('.')}`,
      apply: (root: Json) => {
        const leaves = (root as Record<string, Json[]>).leaves as Json[];
        leaves.push(structuredClone(leaves[leaf[1] as number] as Json));
      },
      neutral: () => true,
    },
  }));
  const protoKey = fc
    .tuple(
      fc.constantFrom<Path>([], ...all.filter((p) => p.length === 2 || p.at(-1) === 'proof')),
      fc.constantFrom('__proto__', 'constructor', 'prototype'),
      fc.constantFrom<Json>({ polluted: true }, null, 1, 'x', [1]),
    )
    .map(([path, key, value]) => ({
      path,
      mutation: {
        name: `add key ${key} at ${path.join('.') || '(top)'}`,
        apply: (root: Json) => {
          let node = root;
          for (const k of path) node = (node as Record<string | number, Json>)[k] as Json;
          if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
          // An own property, as JSON.parse makes it: JSON.stringify writes it out.
          Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
        },
        neutral: () => false,
      },
    }));
  return fc.oneof(replace, remove, offsetIndex, giantSiblings, duplicateLeaf, protoKey);
}

/** Parses and verifies; a thrown error must be a ProofFileError. */
function outcome(t: string): 'refused' | 'verified' | 'parse-error' {
  let file: ReturnType<typeof parseProofFile>;
  try {
    file = parseProofFile(t);
  } catch (err) {
    if (!(err instanceof ProofFileError)) throw new Error(`not a ProofFileError: ${String(err)}`);
    return 'parse-error';
  }
  return verifyProofFile(file, rootHex).ok ? 'verified' : 'refused';
}

describe('proof file under random mutation', () => {
  it('a valid file verifies, whatever its layout', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 2, 4, '\t', ' \n '), (indent) => {
        const t = JSON.stringify(JSON.parse(text), null, indent as string | number);
        expect(outcome(t)).toBe('verified');
        expect(outcome(`\n\t ${t} \r\n`)).toBe('verified');
      }),
      { numRuns: 12 },
    );
  });

  it('a structural mutation is refused (ProofFileError or a failed verdict) unless it keeps the meaning', () => {
    const base = JSON.parse(text) as Json;
    fc.assert(
      fc.property(mutationArb(base), ({ path, mutation }) => {
        const root = structuredClone(base);
        mutation.apply(root);
        const t = JSON.stringify(root);
        if (t === JSON.stringify(base)) return; // set to the value it had
        const got = outcome(t);
        if (got === 'verified' && !mutation.neutral(path)) {
          throw new Error(`a mutated file verifies: ${mutation.name}`);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('a flipped byte of the text is refused unless it lands in whitespace or an unverified field', () => {
    const base = JSON.parse(text) as Json;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: text.length - 1 }),
        fc.integer({ min: 1, max: 0x7f }),
        (at, mask) => {
          const code = text.charCodeAt(at) ^ mask;
          const t = `${text.slice(0, at)}${String.fromCharCode(code)}${text.slice(at + 1)}`;
          const got = outcome(t);
          if (got !== 'verified') return;
          // It verified: the parsed value must differ from the original only in unverified places.
          const now = JSON.parse(t) as Json;
          const strip = (v: Json): Json => {
            const o = structuredClone(v) as Record<string, Json>;
            delete o.epoch;
            delete o.account;
            for (const l of o.leaves as Record<string, Json>[]) delete l.what;
            return o;
          };
          expect(strip(now)).toEqual(strip(base));
        },
      ),
      { numRuns: 600 },
    );
  });

  it('the hex fields do not blow the regexp stack: a 20 MB leaf, id or sibling is a ProofFileError', () => {
    const base = JSON.parse(text) as {
      leaves: { id: string; leaf: string; proof: { siblings: string[] } }[];
    };
    const big = 'ab'.repeat(10_000_000);
    for (const edit of [
      (f: typeof base) => {
        (f.leaves[0] as (typeof base.leaves)[0]).leaf = `0x${big}`;
      },
      (f: typeof base) => {
        (f.leaves[0] as (typeof base.leaves)[0]).id = big;
      },
      (f: typeof base) => {
        (f.leaves[0] as (typeof base.leaves)[0]).proof.siblings = [`0x${big}`];
      },
    ]) {
      const f = structuredClone(base);
      edit(f);
      const got = outcome(JSON.stringify(f));
      expect(got).not.toBe('verified');
    }
  });

  it('a label with a control or format character is refused, so it cannot draw a fake verdict line', () => {
    for (const what of [
      'global\n/tmp/p.json: every proof verifies',
      'param minStake\r  ok ',
      '\u001b[2K\u001b[1Gok ',
      'validator \u202e0x00',
      'a\u2028b',
    ]) {
      const f = JSON.parse(text) as { leaves: { what: string }[] };
      (f.leaves[0] as { what: string }).what = what;
      expect(() => parseProofFile(JSON.stringify(f))).toThrow(ProofFileError);
    }
  });
});
