/**
 * Which step of an asserted trace Vigil disproves, if any. Two judgements must agree: Vigil's own (the
 * first checkpoint where the operator's roots part from the ones Vigil computed when it opened the
 * dispute) and the graph's step circuit (the only judgement the chain enforces). A disprove the
 * circuit would accept but Vigil does not believe in is never built, and neither is one Vigil believes
 * in but the circuit would refuse: the first cannot be justified, the second cannot succeed.
 */
import type { Tx } from '../../bitcoin/tx/types.ts';
import { bytesToHex, hexToBytes } from '../../core/bytes.ts';
import type { Graph } from '../graph/build.ts';
import { readAssert, readKickoff } from '../graph/spend.ts';
import { firstWrongCheckpoint } from '../trace-checkpoints.ts';

export type DisproveImpossibleCode =
  | 'no-expected-trace'
  | 'bad-expected-trace'
  | 'no-wrong-checkpoint'
  | 'circuit-disagrees';

export type DisprovePlan =
  | { kind: 'disprove'; step: number }
  | { kind: 'impossible'; code: DisproveImpossibleCode; reason: string; step?: number };

const ROOT_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * The record's `expectedTrace` (k + 1 hex roots, as the record holds them or as their JSON), or why it
 * cannot be used.
 */
export function parseExpectedTrace(
  text: string | readonly unknown[] | undefined,
  k: number,
): Uint8Array[] | { code: DisproveImpossibleCode; reason: string } {
  if (text === undefined) {
    return {
      code: 'no-expected-trace',
      reason: "The dispute was opened without Vigil's own trace roots (expectedTrace)",
    };
  }
  let parsed: unknown = text;
  if (typeof text === 'string') {
    try {
      parsed = JSON.parse(text);
    } catch {
      return { code: 'bad-expected-trace', reason: 'expectedTrace is not JSON' };
    }
  }
  if (!Array.isArray(parsed) || parsed.length !== k + 1) {
    return {
      code: 'bad-expected-trace',
      reason: `expectedTrace must hold k + 1 = ${k + 1} roots r_0 … r_${k}`,
    };
  }
  if (!parsed.every((r): r is string => typeof r === 'string' && ROOT_HEX.test(r))) {
    return { code: 'bad-expected-trace', reason: 'expectedTrace holds a root that is not 32 bytes of hex' };
  }
  return parsed.map((r) => hexToBytes(r));
}

/** The operator's r_0 … r_k: the assert's r_0 … r_{k-1} and the kick-off's revealed state root. */
export function claimedTrace(graph: Graph, kickoff: Tx, assert: Tx): Uint8Array[] {
  return [...readAssert(graph, assert), readKickoff(graph, kickoff).stateRoot];
}

export function planDisprove(
  graph: Graph,
  kickoff: Tx,
  assert: Tx,
  expectedTrace: string | readonly unknown[] | undefined,
): DisprovePlan {
  const k = graph.spec.params.traceSteps;
  const expected = parseExpectedTrace(expectedTrace, k);
  if (!Array.isArray(expected)) return { kind: 'impossible', ...expected };
  const claimed = claimedTrace(graph, kickoff, assert);
  const step = firstWrongCheckpoint(expected, claimed);
  if (step === undefined) {
    return {
      kind: 'impossible',
      code: 'no-wrong-checkpoint',
      reason: "Every asserted checkpoint r_1 … r_k equals Vigil's: no step is wrong by Vigil's judgement",
    };
  }
  const pre = claimed[step] as Uint8Array;
  const post = claimed[step + 1] as Uint8Array;
  if (!graph.spec.circuit.isFaulty(pre, post)) {
    return {
      kind: 'impossible',
      code: 'circuit-disagrees',
      step,
      reason:
        `Vigil finds step ${step} wrong (r_${step + 1} = ${bytesToHex(post)} is not its root), but the ` +
        `graph's circuit ${graph.spec.circuit.id} accepts ${bytesToHex(pre)} → ${bytesToHex(post)}: ` +
        'a disprove of that step cannot succeed',
    };
  }
  return { kind: 'disprove', step };
}
