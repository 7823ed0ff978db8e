import { identityStepCircuit } from '../circuits/identity.ts';
import { NoSignatureChecker } from '../src/bitcoin/script/checker.ts';
import { CONSENSUS_FLAGS } from '../src/bitcoin/script/flags.ts';
import { ScriptExecution } from '../src/bitcoin/script/interpreter.ts';
import {
  controlBlock,
  taprootOutput,
  UNSPENDABLE_INTERNAL_KEY,
  verifyControlBlock,
} from '../src/bitcoin/taproot/output.ts';
import { balancedShape, buildTapTree } from '../src/bitcoin/taproot/tree.ts';
import { utf8 } from '../src/core/bytes.ts';
import { sha256 } from '../src/core/hashes.ts';
import { graphDocumentHash, graphToDocument } from '../src/dispute/graph/document.ts';
import { importGraph } from '../src/dispute/graph/import.ts';
import { defaultGraphParameters } from '../src/dispute/graph/parameters.ts';
import { deriveWotsSecretKey, wotsPublicKey } from '../src/dispute/winternitz/keys.ts';
import { wotsVerifyScript } from '../src/dispute/winternitz/script.ts';
import { encodeWotsWitness, wotsSign } from '../src/dispute/winternitz/sign.ts';
import { recoverWotsMessage } from '../src/dispute/winternitz/verify.ts';
import { makeGraph, secretOf, xOnly } from '../testkit/dispute/graph-fixture.ts';
import { type BenchFigure, type Benchmark, timeBest, withRatio } from './harness.ts';

const key = (messageBytes: number) =>
  deriveWotsSecretKey(sha256(utf8('bench seed')), {
    network: 'regtest',
    operator: sha256(utf8('bench operator')),
    epoch: 1n,
    instance: 0,
    valueIndex: 0,
    messageBytes,
  });

/** Dispute figures: Winternitz script size and speed, taproot trees, graph build and import. */
export const benchmarks: Benchmark[] = [
  {
    name: 'dispute.wots',
    run: async () => {
      const figures: BenchFigure[] = [];
      for (const bytes of [4, 8, 32]) {
        const script = wotsVerifyScript(wotsPublicKey(key(bytes)));
        figures.push({
          name: `dispute.wots.script.${bytes}B`,
          value: Number((script.length / (8 * bytes)).toFixed(2)),
          unit: 'script bytes / committed bit',
          target: "as circuits.wots.perBit (its baseline: BitVM's ≈ 26.1, PR #121)",
        });
      }
      const k = key(32);
      const pk = wotsPublicKey(k);
      const message = sha256(utf8('message'));
      const witness = encodeWotsWitness(wotsSign(k, message));
      const sign = await timeBest(() => wotsSign(k, message));
      const verifyTs = await timeBest(() => recoverWotsMessage(pk, witness));
      const script = wotsVerifyScript(pk);
      const verifyScript = await timeBest(() =>
        new ScriptExecution({
          script,
          stack: witness,
          flags: CONSENSUS_FLAGS,
          checker: NoSignatureChecker,
          sigVersion: 'tapscript',
          execData: { codeseparatorPos: 0xffffffff, tapleafHash: new Uint8Array(32) },
        }).run(),
      );
      figures.push(
        { name: 'dispute.wots.sign.32B', value: Math.round(1000 / sign), unit: 'signatures/s' },
        { name: 'dispute.wots.verify.ts.32B', value: Math.round(1000 / verifyTs), unit: 'verifications/s' },
        withRatio({
          name: 'dispute.wots.verify.script.32B',
          value: Number(verifyScript.toFixed(3)),
          unit: 'ms per value in the interpreter (baseline: TypeScript verifier)',
          baseline: Number(verifyTs.toFixed(3)),
        }),
      );
      return figures;
    },
  },
  {
    name: 'dispute.taproot',
    run: async () => {
      const leaves = Array.from({ length: 4096 }, (_, i) => ({ script: utf8(`leaf ${i}`) }));
      const build = await timeBest(
        () => taprootOutput(UNSPENDABLE_INTERNAL_KEY, buildTapTree(balancedShape(leaves))),
        300,
        2,
      );
      const out = taprootOutput(UNSPENDABLE_INTERNAL_KEY, buildTapTree(balancedShape(leaves)));
      const blocks = out.leaves.map((_, i) => controlBlock(out, i));
      const verify = await timeBest(() => {
        for (let i = 0; i < 256; i++) verifyControlBlock(out.outputKey, out.leaves[i]!.script, blocks[i]!);
      });
      return [
        {
          name: 'dispute.taproot.build.4096',
          value: Number(build.toFixed(1)),
          unit: 'ms (tree, paths, output key)',
        },
        {
          name: 'dispute.taproot.verifyControlBlock',
          value: Math.round((256 / verify) * 1000),
          unit: 'control blocks/s',
        },
      ];
    },
  },
  {
    name: 'dispute.graph',
    run: async () => {
      const build = await timeBest(() => makeGraph(), 300, 2);
      const fx = makeGraph();
      const doc = graphToDocument(fx.graph, fx.sigs);
      const expectations = {
        network: 'regtest' as const,
        params: defaultGraphParameters.regtest,
        circuit: identityStepCircuit,
        operator: xOnly(secretOf('operator')),
        committee: [xOnly(secretOf('committee 1'))],
        commitment: graphDocumentHash(doc),
      };
      const imp = await timeBest(() => importGraph(doc, expectations), 300, 2);
      return [
        {
          name: 'dispute.graph.buildAndPresign.regtest',
          value: Number(build.toFixed(1)),
          unit: 'ms (2 signers)',
        },
        {
          name: 'dispute.graph.import.regtest',
          value: Number(imp.toFixed(1)),
          unit: 'ms (rebuild + all checks)',
        },
      ];
    },
  },
];
