import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identityStepCircuit } from '../../circuits/identity.ts';
import { parseTx, serializeTx } from '../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import { bytesToHex, hexToBytes } from '../../src/core/bytes.ts';
import { buildGraph } from '../../src/dispute/graph/build.ts';
import { type GraphDocument, graphDocumentHash, graphToDocument } from '../../src/dispute/graph/document.ts';
import { type GraphDefect, GraphImportError } from '../../src/dispute/graph/errors.ts';
import { type GraphExpectations, importGraph } from '../../src/dispute/graph/import.ts';
import { defaultGraphParameters } from '../../src/dispute/graph/parameters.ts';
import { collectSignatures, presignGraph } from '../../src/dispute/graph/sign.ts';
import { makeGraph, makeGraphSpec, secretOf, xOnly } from './graph-fixture.ts';

const fx = makeGraph();
const good = graphToDocument(fx.graph, fx.sigs);
const expectations: GraphExpectations = {
  network: 'regtest',
  params: defaultGraphParameters.regtest,
  circuit: identityStepCircuit,
  operator: xOnly(secretOf('operator')),
  committee: [xOnly(secretOf('committee 1'))],
  epoch: 42n,
  commitment: graphDocumentHash(good),
};

const clone = (d: GraphDocument): GraphDocument => JSON.parse(JSON.stringify(d));
function withTx(name: 'kickoff' | 'take' | 'assert', mutate: (tx: Tx) => void) {
  return (d: GraphDocument) => {
    const tx = parseTx(hexToBytes(d.transactions[name]));
    mutate(tx);
    d.transactions[name] = bytesToHex(serializeTx(tx));
  };
}

/** A graph signed correctly by the real covenant members, but built on other parameters. */
function forgedUnder(params: typeof defaultGraphParameters.regtest, claimedParams = params): GraphDocument {
  const { spec } = makeGraphSpec({ params });
  const graph = buildGraph(spec);
  const sigs = collectSignatures(
    graph,
    [secretOf('operator'), secretOf('committee 1')].map((s) => presignGraph(graph, s)),
  );
  const doc = graphToDocument(graph, sigs);
  doc.parameters.timelocks = { ...claimedParams.timelocks };
  return doc;
}

function defectOf(doc: unknown, exp: GraphExpectations = { ...expectations, commitment: undefined }) {
  try {
    importGraph(doc, exp);
    return 'accepted';
  } catch (err) {
    if (err instanceof GraphImportError) return `${err.defect} @ ${err.where}`;
    throw err;
  }
}

describe('graph publication and import', () => {
  it('accepts the genuine graph, whose hash ignores formatting', () => {
    const imported = importGraph(JSON.stringify(good, null, 2), expectations);
    expect(bytesToHex(imported.hash)).toBe(bytesToHex(expectations.commitment!));
    expect(imported.sigs).toHaveLength(fx.graph.presigned.length);
    expect(bytesToHex(imported.graph.outputs.stake.outputKey)).toBe(
      bytesToHex(fx.graph.outputs.stake.outputKey),
    );
  });

  const shortened = {
    ...defaultGraphParameters.regtest,
    timelocks: { ...defaultGraphParameters.regtest.timelocks, challengeWindow: 2 },
  };
  const table: [string, (d: GraphDocument) => unknown, GraphDefect, RegExp][] = [
    [
      'one bad presigned signature',
      (d) => {
        const s = d.signatures['disprove[1].input0']!;
        s[1] = s[1]!.slice(0, 10) + (s[1]![10] === '0' ? '1' : '0') + s[1]!.slice(11);
      },
      'BAD_SIGNATURE',
      /disprove\[1\]\.input0 member 1/,
    ],
    [
      'a presigned signature with the wrong hash type',
      (d) => {
        const s = d.signatures['challenge.input0']!;
        s[0] = `${s[0]!.slice(0, 128)}81`;
      },
      'BAD_SIGNATURE',
      /challenge\.input0 member 0/,
    ],
    [
      'a missing signature',
      (d) => {
        delete d.signatures['take.input2'];
      },
      'MISSING_SIGNATURE',
      /take\.input2/,
    ],
    [
      'swapped connector scripts in the kick-off',
      withTx('kickoff', (tx) => {
        [tx.outputs[0], tx.outputs[1]] = [tx.outputs[1]!, tx.outputs[0]!];
      }),
      'SCRIPT_MISMATCH',
      /kickoff\.output0/,
    ],
    [
      'the take paying someone else',
      withTx('take', (tx) => {
        tx.outputs[0]!.script = hexToBytes(`5120${'11'.repeat(32)}`);
      }),
      'SCRIPT_MISMATCH',
      /take\.output0/,
    ],
    [
      'a wrong amount in the take',
      withTx('take', (tx) => {
        tx.outputs[0]!.value += 1000n;
      }),
      'AMOUNT_MISMATCH',
      /take\.output0/,
    ],
    [
      'a wrong stake in the parameters',
      (d) => {
        d.parameters.stake = '1';
      },
      'AMOUNT_MISMATCH',
      /parameters\.stake/,
    ],
    [
      'a shortened timelock in the parameters',
      (d) => {
        d.parameters.timelocks.challengeWindow = 2;
      },
      'TIMELOCK_MISMATCH',
      /parameters\.timelocks\.challengeWindow/,
    ],
    [
      'a shortened nSequence on the take',
      withTx('take', (tx) => {
        tx.inputs[0]!.sequence = 2;
      }),
      'TIMELOCK_MISMATCH',
      /take\.input0/,
    ],
    [
      'a whole graph re-signed under a shortened timelock, honest about it',
      () => forgedUnder(shortened),
      'TIMELOCK_MISMATCH',
      /parameters\.timelocks\.challengeWindow/,
    ],
    [
      'a whole graph re-signed under a shortened timelock, claiming the protocol one',
      () => forgedUnder(shortened, defaultGraphParameters.regtest),
      'SCRIPT_MISMATCH',
      /kickoff\.output0/,
    ],
    [
      'a Winternitz key reused across two trace values',
      (d) => {
        d.wots.trace[1] = [...d.wots.trace[0]!];
      },
      'WOTS_KEY_REUSE',
      /wots\.trace\[1\]\[0\]/,
    ],
    [
      'one Winternitz chain reused inside a value',
      (d) => {
        d.wots.stateRoot[5] = d.wots.stateRoot[4]!;
      },
      'WOTS_KEY_REUSE',
      /wots\.stateRoot\[5\]/,
    ],
    [
      'a truncated Winternitz key',
      (d) => {
        d.wots.epoch.pop();
      },
      'WOTS_KEY_SHAPE',
      /wots\.epoch/,
    ],
    [
      'another operator',
      (d) => {
        d.operator = bytesToHex(xOnly(secretOf('mallory')));
      },
      'KEY_MISMATCH',
      /operator/,
    ],
    [
      'another network',
      (d) => {
        d.network = 'signet';
      },
      'PARAMETER_MISMATCH',
      /network/,
    ],
    [
      'another epoch',
      (d) => {
        d.epoch = '41';
      },
      'PARAMETER_MISMATCH',
      /epoch/,
    ],
    [
      'an unknown version',
      (d) => {
        d.version = 2;
      },
      'UNSUPPORTED_VERSION',
      /version/,
    ],
    [
      'an unknown field',
      (d) => {
        Object.assign(d, { extra: 1 });
      },
      'MALFORMED',
      /document|^$/,
    ],
    [
      'a transaction that is not hex',
      (d) => {
        d.transactions.assert = 'zz';
      },
      'MALFORMED',
      /transactions\.assert/,
    ],
  ];

  it.each(table)('refuses %s', (_name, mutate, defect, where) => {
    const d = clone(good);
    const out = mutate(d);
    const result = defectOf(typeof out === 'object' && out !== null ? out : d);
    expect(result.split(' @ ')[0]).toBe(defect);
    expect(result.split(' @ ')[1]).toMatch(where);
  });

  it('refuses a document whose hash is not the committed one, even if it is otherwise valid', () => {
    const d = clone(good);
    d.signatures = Object.fromEntries(Object.entries(d.signatures).reverse());
    expect(defectOf(d, expectations)).toBe('accepted');
    const other = graphToDocument(
      makeGraph({ epoch: 42n, claimVout: 1 }).graph,
      makeGraph({ claimVout: 1 }).sigs,
    );
    expect(defectOf(other, expectations)).toMatch(/^HASH_MISMATCH/);
  });

  it('refuses a graph whose Winternitz keys an earlier graph already used', () => {
    const first = importGraph(good, expectations);
    const known = new Set(
      [
        first.graph.spec.wots.epoch,
        first.graph.spec.wots.stateRoot,
        first.graph.spec.wots.l2BlockHash,
        ...first.graph.spec.wots.trace,
      ]
        .flatMap((k) => k.hashes)
        .map(bytesToHex),
    );
    // An operator that reuses its keys for a second claim (another claim outpoint, same domain).
    const again = makeGraph({ claimVout: 7 });
    const doc = graphToDocument(again.graph, again.sigs);
    expect(defectOf(doc, { ...expectations, commitment: undefined, knownWotsHashes: known })).toMatch(
      /^WOTS_KEY_REUSE/,
    );
  });
});

describe('graph import never accepts a mutated document', () => {
  type Field = { name: string; holder: Record<string, string> | string[]; key: string | number };
  const fields = (d: GraphDocument): Field[] => {
    const out: Field[] = [];
    const add = (name: string, holder: Field['holder'], key: Field['key']) => {
      out.push({ name, holder, key });
    };
    const txs = d.transactions as unknown as Record<string, string | string[]>;
    for (const [k, v] of Object.entries(txs)) {
      if (typeof v === 'string') add(`tx ${k}`, txs as Record<string, string>, k);
      else for (let i = 0; i < v.length; i++) add(`tx ${k}[${i}]`, v, i);
    }
    for (const [k, list] of Object.entries(d.signatures)) {
      for (let i = 0; i < list.length; i++) add(`sig ${k}/${i}`, list, i);
    }
    const lists: [string, string[]][] = [
      ['epoch', d.wots.epoch],
      ['stateRoot', d.wots.stateRoot],
      ['l2BlockHash', d.wots.l2BlockHash],
      ...d.wots.trace.map((t, j): [string, string[]] => [`trace[${j}]`, t]),
    ];
    for (const [k, list] of lists) for (let i = 0; i < list.length; i++) add(`wots ${k}[${i}]`, list, i);
    add('claim.script', d.claim as unknown as Record<string, string>, 'script');
    return out;
  };
  const read = (f: Field): string => (f.holder as Record<string | number, string>)[f.key] as string;
  const write = (f: Field, v: string): void => {
    (f.holder as Record<string | number, string>)[f.key] = v;
  };

  it('refuses any one-character change of a transaction, signature, Winternitz key or claim script', () => {
    const n = fields(clone(good)).length;
    fc.assert(
      fc.property(fc.nat({ max: n - 1 }), fc.nat(), fc.integer({ min: 1, max: 15 }), (which, pos, delta) => {
        const d = clone(good);
        const f = fields(d)[which]!;
        const v = read(f);
        const at = pos % v.length;
        const ch = ((Number.parseInt(v[at]!, 16) + delta) % 16).toString(16);
        write(f, v.slice(0, at) + ch + v.slice(at + 1));
        expect([f.name, defectOf(d)]).not.toEqual([f.name, 'accepted']);
      }),
      { numRuns: 40 },
    );
  });

  it("refuses a claim output on chain that is not the graph's", () => {
    const exp = { ...expectations, commitment: undefined };
    const claim = fx.graph.outputs.claim.scriptPubKey;
    const value = fx.graph.spec.claim.value;
    expect(defectOf(good, { ...exp, claimPrevout: { value, script: claim } })).toBe('accepted');
    expect(
      defectOf(good, { ...exp, claimPrevout: { value, script: hexToBytes(`5120${'22'.repeat(32)}`) } }),
    ).toMatch(/^SCRIPT_MISMATCH @ claim \(on chain\)/);
    expect(defectOf(good, { ...exp, claimPrevout: { value: value - 1n, script: claim } })).toMatch(
      /^AMOUNT_MISMATCH @ claim \(on chain\)/,
    );
  });
});
