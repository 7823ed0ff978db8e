import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identityStepCircuit } from '../../circuits/identity.ts';
import { parseTx, serializeTx } from '../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import { bytesToHex, hexToBytes } from '../../src/core/bytes.ts';
import { buildGraph } from '../../src/dispute/graph/build.ts';
import {
  GRAPH_DOCUMENT_MAX_BYTES,
  type GraphDocument,
  graphDocumentHash,
  graphToDocument,
} from '../../src/dispute/graph/document.ts';
import { type GraphDefect, GraphImportError } from '../../src/dispute/graph/errors.ts';
import {
  type GraphExpectations,
  graphDocumentLimits,
  importGraph,
  importGraphYielding,
  presignedInputCount,
} from '../../src/dispute/graph/import.ts';
import { defaultGraphParameters } from '../../src/dispute/graph/parameters.ts';
import { collectSignatures, presignGraph } from '../../src/dispute/graph/sign.ts';
import { makeGraph, makeGraphSpec, secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';

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

describe('graph import refuses what no valid graph can be, before any costly work', () => {
  const exp = { ...expectations, commitment: undefined };
  const text = JSON.stringify(good);
  function refusal(input: unknown, e: GraphExpectations = exp): string {
    try {
      importGraph(input, e);
      return 'accepted';
    } catch (err) {
      if (err instanceof GraphImportError) return err.shortMessage;
      throw err;
    }
  }
  /** Time and heap growth (heap and buffers outside it) of one call. */
  function measured(f: () => string): { out: string; ms: number; mb: number } {
    const m0 = process.memoryUsage();
    const t0 = performance.now();
    const out = f();
    const ms = performance.now() - t0;
    const m1 = process.memoryUsage();
    return { out, ms, mb: (m1.heapUsed + m1.arrayBuffers - m0.heapUsed - m0.arrayBuffers) / 2 ** 20 };
  }
  const withExtraKeys = (n: number): GraphDocument => {
    const d = clone(good);
    for (let i = 0; i < n; i++) d.signatures[`x${i}`] = [];
    return d;
  };

  it('bounds presigned inputs and values to what buildGraph makes for the parameters', () => {
    for (const network of ['regtest', 'mainnet'] as const) {
      const p = defaultGraphParameters[network];
      const g = makeGraph({ network });
      expect(presignedInputCount(p.traceSteps)).toBe(g.graph.presigned.length);
      const doc = graphToDocument(g.graph, g.sigs);
      let values = 0;
      const count = (v: unknown): void => {
        values++;
        if (Array.isArray(v)) v.forEach(count);
        else if (typeof v === 'object' && v !== null) Object.values(v).forEach(count);
      };
      count(doc);
      const limits = graphDocumentLimits({ params: p, committee: [xOnly(secretOf('committee 1'))] });
      // The bound is twice the valid document's own count, plus room for unknown fields.
      expect(values).toBeLessThanOrEqual((limits.maxValues - 64) / 2);
      expect(values).toBeGreaterThan((limits.maxValues - 64) / 2 - 4);
    }
  });

  it("refuses the issue's 12.9 MB document with a million extra signature keys from its size, at once", () => {
    const big = JSON.stringify(withExtraKeys(1_000_000));
    expect(big.length).toBeGreaterThan(12_900_000);
    const r = measured(() => refusal(big));
    expect(r.out).toBe(
      `Graph refused (DOCUMENT_TOO_LARGE at document): at least ${big.length} bytes; a graph document is at most 4194304`,
    );
    // It took 11–17 s of CPU before; refused now without parsing a byte of it.
    expect(r.ms).toBeLessThan(250);
    expect(r.mb).toBeLessThan(32);
  }, 60_000);

  it('refuses a document under the size cap with 300,000 extra signature keys at the 135th key', () => {
    const big = JSON.stringify(withExtraKeys(1_000_000));
    const cut = `${big.slice(0, big.lastIndexOf(',"x', GRAPH_DOCUMENT_MAX_BYTES - 8))}}}`;
    expect(Object.keys(JSON.parse(cut).signatures).length).toBeGreaterThan(300_000);
    const r = measured(() => refusal(cut));
    expect(r.out).toBe(
      'Graph refused (SHAPE at signatures): more than 134 entries; no object of a graph has more',
    );
    // JSON.parse alone of this text takes 0.6 s; the scan stops long before the end.
    expect(r.ms).toBeLessThan(250);
    expect(r.mb).toBeLessThan(32);
  }, 60_000);

  it('refuses 4 MB of nesting, a 4 MB string and 4 MB of list entries cheaply, each with its place', () => {
    const deep = `${'['.repeat(2_000_000)}${']'.repeat(2_000_000)}`;
    const longString = text.replace(/"assert":"[0-9a-f]{100,}"/, `"assert":"${'ab'.repeat(1_500_000)}"`);
    const longList = text.replace('"committee":[', `"committee":[${'"00",'.repeat(700_000)}`);
    const cases: [string, string][] = [
      [deep, 'Graph refused (SHAPE at [0][0][0][0]): nested deeper than 4 levels; a graph document is not'],
      [
        longString,
        'Graph refused (SHAPE at transactions.assert): a string of 3000000 characters; no string of a graph is longer than 1024',
      ],
      [longList, 'Graph refused (SHAPE at committee): more than 134 entries; no list of a graph has more'],
    ];
    for (const [input, message] of cases) {
      expect(input.length).toBeGreaterThan(3_000_000);
      expect(input.length).toBeLessThanOrEqual(GRAPH_DOCUMENT_MAX_BYTES);
      const r = measured(() => refusal(input));
      expect(r.out).toBe(message);
      expect(r.ms).toBeLessThan(250);
      expect(r.mb).toBeLessThan(32);
    }
  });

  it('refuses a list or record longer than the parameters and committee allow, before the schema', () => {
    const cases: [string, (d: GraphDocument) => void, string][] = [
      [
        'one signature entry more than the presigned inputs',
        (d) => {
          d.signatures['payout.input1'] = [];
        },
        'Graph refused (SHAPE at signatures): 12 entries; a graph of 3 trace steps has 11 presigned inputs',
      ],
      [
        'one signature more than the covenant',
        (d) => {
          d.signatures['take.input0']!.push(d.signatures['take.input0']![0]!);
        },
        'Graph refused (SHAPE at signatures.take.input0): 3 entries; the covenant has 2 keys, one signature each',
      ],
      [
        'a Winternitz key one hash longer',
        (d) => {
          d.wots.trace[2]!.push(d.wots.trace[2]![0]!);
        },
        'Graph refused (SHAPE at wots.trace[2]): 68 entries; a 32-byte value has 67 Winternitz hashes',
      ],
      [
        'an epoch key one hash longer',
        (d) => {
          d.wots.epoch.push(d.wots.epoch[0]!);
        },
        'Graph refused (SHAPE at wots.epoch): 19 entries; a 8-byte value has 18 Winternitz hashes',
      ],
      [
        'a trace key more than the steps',
        (d) => {
          d.wots.trace.push(d.wots.trace[0]!);
        },
        'Graph refused (SHAPE at wots.trace): 4 entries; the protocol has 3 trace steps',
      ],
      [
        'a disprove transaction more than the steps',
        (d) => {
          d.transactions.disprove.push(d.transactions.disprove[0]!);
        },
        'Graph refused (SHAPE at transactions.disprove): 4 entries; the protocol has 3 trace steps, one disprove each',
      ],
      [
        'a committee key more than registered',
        (d) => {
          d.committee.push(d.operator);
        },
        'Graph refused (SHAPE at committee): 2 entries; the registered committee has 1 keys',
      ],
    ];
    for (const [name, mutate, message] of cases) {
      const d = clone(good);
      mutate(d);
      // The same verdict for the document as text and as a parsed object.
      expect([name, refusal(JSON.stringify(d))]).toEqual([name, message]);
      expect([name, refusal(d)]).toEqual([name, message]);
    }
    // One fewer is not a bound: the checks that name what is missing still do.
    const fewer = clone(good);
    fewer.signatures['take.input0']!.pop();
    expect(refusal(fewer)).toBe(
      'Graph refused (MISSING_SIGNATURE at take.input0): 1 of 2 covenant signatures',
    );
  });

  it('echoes no more than a few words of what the operator wrote', () => {
    const d = { ...clone(good), version: 'v'.repeat(1000) };
    const out = refusal(JSON.stringify(d));
    expect(out).toBe(
      `Graph refused (UNSUPPORTED_VERSION at version): version ${'v'.repeat(32)}…; this Vigil reads version 1`,
    );
  });

  it('the yielding import gives the event loop turns and reaches the same verdicts', async () => {
    let turns = 0;
    const count = (): void => {
      turns++;
      if (turns < 1_000) setImmediate(count);
    };
    setImmediate(count);
    const imported = await importGraphYielding(text, exp, 0);
    // Parse, schema, hash, keys, rebuild, transactions and each of the 11 presigned inputs.
    expect(turns).toBeGreaterThanOrEqual(6 + fx.graph.presigned.length);
    turns = 1_000;
    expect(bytesToHex(imported.hash)).toBe(bytesToHex(graphDocumentHash(good)));
    const forged = clone(good);
    forged.signatures['disprove[1].input0']![1] = forged.signatures['challenge.input0']![1]!;
    await expect(importGraphYielding(forged, exp)).rejects.toMatchObject({
      defect: 'BAD_SIGNATURE',
      where: 'disprove[1].input0 member 1',
    });
  });
});
