import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identityStepCircuit } from '../../circuits/identity.ts';
import { bytesToHex } from '../../src/core/bytes.ts';
import { type GraphDocument, graphToDocument } from '../../src/dispute/graph/document.ts';
import { GraphImportError } from '../../src/dispute/graph/errors.ts';
import { type GraphExpectations, importGraph } from '../../src/dispute/graph/import.ts';
import {
  adoptGraphImportReply,
  graphImportJob,
  runGraphImportJob,
} from '../../src/dispute/graph/import-job.ts';
import type { StepCircuit } from '../../src/dispute/graph/scripts.ts';
import { fixtureExpectations, makeGraph, secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';

const fx = makeGraph();
const good = graphToDocument(fx.graph, fx.sigs);
const text = (d: GraphDocument) => JSON.stringify(d);
const clone = (d: GraphDocument): GraphDocument => JSON.parse(JSON.stringify(d));
const expectations: GraphExpectations = { ...fixtureExpectations(), epoch: 42n };

/** Every Winternitz hash of a document (hex), as an earlier graph would have left them known. */
const hashesOf = (d: GraphDocument) =>
  new Set([...d.wots.epoch, ...d.wots.stateRoot, ...d.wots.l2BlockHash, ...d.wots.trace.flat()]);

function inPlace(doc: string, known?: Set<string>): string {
  try {
    importGraph(doc, { ...expectations, ...(known ? { knownWotsHashes: known } : {}) });
    return 'accepted';
  } catch (err) {
    if (err instanceof GraphImportError) return `${err.defect} @ ${err.where}: ${err.reason}`;
    throw err;
  }
}

/** The same import as a job: run, sent through structured clone (a worker's message), adopted. */
function asJob(doc: string, known?: Set<string>): string {
  const reply = structuredClone(runGraphImportJob(graphImportJob(doc, expectations), identityStepCircuit));
  try {
    adoptGraphImportReply(reply, identityStepCircuit, known);
    return 'accepted';
  } catch (err) {
    if (err instanceof GraphImportError) return `${err.defect} @ ${err.where}: ${err.reason}`;
    throw err;
  }
}

describe('a graph import run as a job and adopted', () => {
  it('adopts the graph an import in place gives, with the caller’s own circuit object', () => {
    const want = importGraph(text(good), expectations);
    const reply = structuredClone(
      runGraphImportJob(graphImportJob(text(good), expectations), identityStepCircuit),
    );
    expect(reply.kind).toBe('imported');
    const got = adoptGraphImportReply(reply, identityStepCircuit, undefined);
    expect(got).toEqual(want);
    expect(got.graph.spec.circuit).toBe(identityStepCircuit);
    // The presigned inputs still name the graph's own outputs (one object, not copies).
    expect(got.graph.presigned.some((p) => p.output === got.graph.outputs.stake)).toBe(true);
  });

  it('names the first defect an import in place names, the earlier graphs’ Winternitz keys checked in their place', () => {
    const known = hashesOf(good);
    const badSig = clone(good);
    const s = badSig.signatures['disprove[0].input0'] as string[];
    s[0] = `${(s[0] as string).slice(0, 10)}${(s[0] as string)[10] === '0' ? '1' : '0'}${(s[0] as string).slice(11)}`;
    const wrongKey = clone(good);
    wrongKey.operator = bytesToHex(xOnly(secretOf('someone else')));
    const cases: [string, string, Set<string> | undefined, RegExp][] = [
      ['valid', text(good), undefined, /^accepted$/],
      // Reuse comes before the signatures: a document with both is refused for the reuse.
      ['reused keys and a bad signature', text(badSig), known, /^WOTS_KEY_REUSE @ wots\.epoch\[0\]/],
      ['a bad signature alone', text(badSig), undefined, /^BAD_SIGNATURE @ disprove\[0\]\.input0 member 0/],
      ['reused keys alone', text(good), known, /^WOTS_KEY_REUSE/],
      // A defect before the Winternitz keys is named whatever the earlier graphs used.
      ['another operator key and reused keys', text(wrongKey), known, /^KEY_MISMATCH @ operator/],
      ['not JSON', '{"version":', known, /^MALFORMED/],
    ];
    for (const [name, doc, k, want] of cases) {
      const here = inPlace(doc, k);
      expect([name, here]).toEqual([name, expect.stringMatching(want)]);
      expect([name, asJob(doc, k)]).toEqual([name, here]);
    }
  });

  it('reaches the verdict of an import in place for any one-character change of the document', () => {
    const known = new Set([...hashesOf(good)].slice(0, 3));
    const raw = text(good);
    fc.assert(
      fc.property(
        fc.nat({ max: raw.length - 1 }),
        fc.integer({ min: 32, max: 126 }),
        fc.boolean(),
        (at, code, withKnown) => {
          const doc = raw.slice(0, at) + String.fromCharCode(code) + raw.slice(at + 1);
          const k = withKnown ? known : undefined;
          expect(asJob(doc, k)).toBe(inPlace(doc, k));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reports a failure that is no verdict as a plain error, never as a refusal', () => {
    const broken: StepCircuit = {
      ...identityStepCircuit,
      append: () => {
        throw new Error('circuit exploded');
      },
    };
    const reply = runGraphImportJob(graphImportJob(text(good), expectations), broken);
    expect(reply).toEqual({ kind: 'failed', message: 'circuit exploded' });
    expect(() => adoptGraphImportReply(reply, identityStepCircuit, undefined)).toThrow(/circuit exploded/);
    try {
      adoptGraphImportReply(reply, identityStepCircuit, undefined);
    } catch (err) {
      expect(err).not.toBeInstanceOf(GraphImportError);
    }
  });
});
