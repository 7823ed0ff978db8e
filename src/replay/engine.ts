/**
 * `vigil replay <bundle>`'s judgement, from the bundle alone: the epoch re-executed from genesis, its
 * root and checkpoints recomputed, the graph imported again with the checks import makes, the kick-off
 * and assert read through it, the verdict recomputed by the same judge the watcher runs, the first
 * divergent step located by the fault catalogue, every transaction re-verified by the interpreter
 * against the outputs it spends, and all of it compared with what the watcher recorded at the time.
 *
 * Pure and deterministic: no clock, no I/O, so two runs over one bundle give the same result.
 */

import {
  DEFAULT_STEP_CIRCUIT_ID,
  STEP_CIRCUIT_IDS,
  type StepCircuitId,
  stepCircuitById,
} from '../../circuits/index.ts';
import { hashToHex } from '../bitcoin/codec/codec.ts';
import { CONSENSUS_FLAGS } from '../bitcoin/script/flags.ts';
import { parseTx, txWeight } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { verifyTransaction } from '../bitcoin/tx/verify.ts';
import { bytesToHex, equalBytes, hexToBytes } from '../core/bytes.ts';
import { GraphImportError } from '../dispute/graph/errors.ts';
import { type ImportedGraph, importGraph } from '../dispute/graph/import.ts';
import { defaultGraphParameters } from '../dispute/graph/parameters.ts';
import { readKickoff } from '../dispute/graph/spend.ts';
import { claimedTrace, planDisprove } from '../dispute/plan/disprove-plan.ts';
import { disproveBy, disputeDeadlines } from '../dispute/records/deadlines.ts';
import { traceCheckpoints } from '../dispute/trace-checkpoints.ts';
import {
  computeStateRoot,
  createGenesisState,
  executorByName,
  type GovernanceInput,
  type GovernanceState,
  REFERENCE_EXECUTOR,
  reexecute,
  type TraceStep,
} from '../governance/index.ts';
import { diagnoseFraud, type FraudDiagnosis } from '../judge/diagnose.ts';
import { type EpochEvidence, judgeEpoch, type KickoffFact, type L2Fact } from '../judge/verdict.ts';
import type { BundleTx, DisputeBundleV2 } from './bundle.ts';
import { type TxConsistency, transactionConsistency } from './consistency.ts';
import { leafDifferencesAt } from './leaf-diff.ts';
import type {
  ReplayAgreement,
  ReplayDivergence,
  ReplayInputCheck,
  ReplayResult,
  ReplayStep,
  ReplayTxCheck,
} from './result.ts';

export type ReplayOptions = {
  /** Longest history (inputs since genesis) re-executed once per catalogue fault to locate the divergence. */
  diagnoseMaxInputs?: number;
};

const root0x = (b: Uint8Array): string => `0x${bytesToHex(b)}`;

/** The state before input `index` of `inputs`, from genesis. */
function stateBefore(b: DisputeBundleV2, index: number): GovernanceState {
  const state = createGenesisState(b.governance.genesis);
  if (index > 0) reexecute(b.governance.inputs.slice(0, index), { state });
  return state;
}

function importBundleGraph(b: DisputeBundleV2, kickoffTx: BundleTx | undefined): ReplayGraph {
  const e = b.graph.expectations;
  const circuitId = (STEP_CIRCUIT_IDS as readonly string[]).includes(e.circuit)
    ? (e.circuit as StepCircuitId)
    : undefined;
  if (circuitId === undefined) {
    return {
      imported: undefined,
      error: `unknown step circuit ${e.circuit} (this Vigil knows ${STEP_CIRCUIT_IDS.join(', ')})`,
    };
  }
  // The kick-off spends the claim output: its first prevout is the claim as the chain has it.
  const claimPrevout = kickoffTx?.prevouts[0];
  try {
    const imported = importGraph(b.graph.document, {
      network: e.network,
      params: defaultGraphParameters[e.network],
      circuit: stepCircuitById(circuitId ?? DEFAULT_STEP_CIRCUIT_ID),
      operator: e.operator,
      committee: e.committee,
      epoch: b.epoch,
      ...(e.governedChallengeWindow !== undefined
        ? { governedChallengeWindow: e.governedChallengeWindow }
        : {}),
      ...(e.commitment !== undefined ? { commitment: e.commitment } : {}),
      ...(claimPrevout !== undefined ? { claimPrevout } : {}),
    });
    return { imported, error: undefined };
  } catch (err) {
    if (err instanceof GraphImportError) return { imported: undefined, error: err.shortMessage };
    throw err;
  }
}

type ReplayGraph = { imported: ImportedGraph | undefined; error: string | undefined };

function parsedTx(t: BundleTx | undefined): Tx | undefined {
  return t === undefined ? undefined : parseTx(t.raw);
}

/** The size of the leaf a script-path spend runs (the witness item before the control block). */
function leafBytes(witness: readonly Uint8Array[]): number | undefined {
  let items = witness;
  // BIP-341: a last item starting 0x50 with two or more items is the annex.
  if (items.length >= 2 && items.at(-1)?.[0] === 0x50) items = items.slice(0, -1);
  if (items.length < 2) return undefined;
  const control = items.at(-1) as Uint8Array;
  if (control.length < 33 || (control.length - 33) % 32 !== 0 || ((control[0] as number) & 0xfe) !== 0xc0) {
    return undefined;
  }
  return (items.at(-2) as Uint8Array).length;
}

function checkTransactions(txs: readonly BundleTx[], graph: ImportedGraph | undefined): ReplayTxCheck[] {
  const parsed = txs.map((t) => parseTx(t.raw));
  const consistency = transactionConsistency(txs, parsed, graph?.graph);
  return txs.map((t, n) => {
    const tx = parsed[n] as Tx;
    const c = consistency[n] as TxConsistency;
    // Over the work budget: not run at all, and not ok.
    const verdict = c.overBudget ? undefined : verifyTransaction(tx, t.prevouts, CONSENSUS_FLAGS);
    const inputs: ReplayInputCheck[] = (verdict?.inputs ?? []).map((v) => ({
      index: v.index,
      ok: v.ok,
      error: v.ok ? undefined : v.error,
      leafBytes: leafBytes(tx.inputs[v.index]?.witness ?? []),
    }));
    return {
      role: t.role,
      txid: t.txid,
      height: t.confirmation?.height,
      blockHash: t.confirmation?.blockHash,
      weight: txWeight(tx),
      ok: verdict?.ok === true && c.problems.length === 0,
      inputs,
      problems: c.problems,
      externalInputs: c.externalInputs,
    };
  });
}

/**
 * Where the bundle contradicts itself outside any one transaction: the epoch's inputs must start right
 * after the previous epoch's end and end with this epoch's, and the claim output the graph was imported
 * against must be the claim transaction's own output.
 */
function bundleConsistency(
  b: DisputeBundleV2,
  priorEnds: readonly { epoch: bigint; stepIndex: number }[],
  epochEnds: readonly { epoch: bigint; stepIndex: number }[],
  epochInputs: number,
  g: ImportedGraph | undefined,
): string[] {
  const out: string[] = [];
  const start = b.governance.epochStart;
  const lastPrior = priorEnds.at(-1);
  if (BigInt(priorEnds.length) !== b.epoch || (start > 0 && lastPrior?.stepIndex !== start - 1)) {
    out.push(
      `the inputs before epochStart ${start} end ${priorEnds.length} epochs, the last at input ${lastPrior?.stepIndex ?? 'none'}: epoch ${b.epoch} must start right after the endEpoch of epoch ${b.epoch - 1n}`,
    );
  }
  const last = epochEnds.at(-1);
  if (
    epochEnds.length !== 1 ||
    last === undefined ||
    last.stepIndex !== epochInputs - 1 ||
    last.epoch !== b.epoch
  ) {
    out.push(
      `the epoch's inputs hold ${epochEnds.length} accepted endEpoch inputs${last ? ` (the last at step ${last.stepIndex} of ${epochInputs}, epoch ${last.epoch})` : ''}: exactly one, last, ending epoch ${b.epoch} is required`,
    );
  }
  if (g !== undefined) {
    const claimTxid = hashToHex(g.graph.spec.claim.txid);
    if (!b.transactions.some((t) => t.txid === claimTxid)) {
      out.push(
        `the claim transaction ${claimTxid} is not in the bundle: the claim output the graph was imported against is the bundle's word`,
      );
    }
  }
  return out;
}

function kickoffFact(graph: ImportedGraph | undefined, t: BundleTx | undefined): KickoffFact {
  if (t === undefined) return { status: 'not-seen' };
  if (graph === undefined) {
    return { status: 'unreadable', reason: "the operator's graph does not import", txid: t.txid };
  }
  try {
    const revealed = readKickoff(graph.graph, parseTx(t.raw));
    // The bundle records confirmations, not the tip: a confirmed kick-off counts as deep enough.
    return { status: 'seen', txid: t.txid, depth: t.confirmation ? 1 : 0, revealed };
  } catch (err) {
    return { status: 'unreadable', reason: err instanceof Error ? err.message : String(err), txid: t.txid };
  }
}

function l2Fact(b: DisputeBundleV2): L2Fact {
  const c = b.l2.commitment;
  return {
    // Both writers take the epoch's inputs at the configured L2 depth.
    inputsFinal: true,
    behind: false,
    epochEndBlockHash: hexToBytes(b.l2.epochEndBlockHash),
    commitment:
      c === undefined ? { status: 'missing' } : { status: 'committed', root: c.stateRoot, depth: 1 },
  };
}

function stepRows(
  inputs: readonly GovernanceInput[],
  ref: readonly TraceStep[],
  claim?: readonly TraceStep[],
): ReplayStep[] {
  return ref.map((s, i) => {
    const c = claim?.[i];
    const input = inputs[i] as GovernanceInput;
    return {
      index: i,
      kind: input.kind,
      block: input.position.block.toString(),
      txIndex: input.position.txIndex,
      logIndex: input.position.logIndex,
      rules: [...s.rules],
      expectedRoot: root0x(s.root),
      expectedAccepted: s.accepted,
      claimedRoot: c === undefined ? undefined : root0x(c.root),
      claimedAccepted: c?.accepted,
    };
  });
}

function divergenceOf(
  b: DisputeBundleV2,
  d: FraudDiagnosis,
  ref: readonly TraceStep[],
  claim: readonly TraceStep[] | undefined,
): ReplayDivergence {
  if (d.fault === undefined) return { found: false, reason: d.reason };
  const start = b.governance.epochStart;
  const leaves = leafDifferencesAt({
    genesis: b.governance.genesis,
    priorInputs: b.governance.inputs.slice(0, start),
    epochInputs: b.governance.inputs.slice(start),
    step: d.step,
    reference: REFERENCE_EXECUTOR,
    claimed: executorByName(d.fault),
  });
  const e = ref[d.step] as TraceStep;
  const c = claim?.[d.step];
  return {
    found: true,
    fault: d.fault,
    rule: d.rule,
    step: d.step,
    globalStep: d.globalStep,
    inputKind: d.inputKind,
    expectedRoot: root0x(e.root),
    claimedRoot: c === undefined ? 'unknown' : root0x(c.root),
    leaves: leaves.differences,
    leavesTotal: leaves.total,
  };
}

function agreementWith(b: DisputeBundleV2, r: Omit<ReplayResult, 'agreement'>): ReplayAgreement {
  const w = b.watcher;
  if (w === undefined)
    return { compared: false, reason: 'the bundle was fetched from the chains: no watcher record' };
  const differences: string[] = [];
  if (w.verdict.outcome !== r.verdict.outcome) {
    differences.push(
      `verdict: the watcher decided ${w.verdict.outcome}, the replay finds ${r.verdict.outcome}`,
    );
  }
  if (w.verdict.equivocation !== r.verdict.equivocation) {
    differences.push(
      `equivocation: the watcher found ${w.verdict.equivocation}, the replay finds ${r.verdict.equivocation}`,
    );
  }
  const notRecorded: string[] = [];
  const wd = w.diagnosis;
  const rd = r.divergence;
  if (wd === undefined) notRecorded.push('the diagnosis (fault, rule, step)');
  if (w.expectedTrace.length === 0) notRecorded.push("Vigil's trace roots r_0 … r_k");
  const kickoffHeight = b.transactions.find((t) => t.txid === b.kickoffTxid)?.confirmation?.height;
  if (kickoffHeight !== w.kickoffHeight) {
    differences.push(
      `kick-off height: the watcher saw the kick-off at ${w.kickoffHeight}, the bundle's is ${kickoffHeight ?? 'unconfirmed'}`,
    );
  }
  const slashing = b.transactions.some(
    (t) => (t.role === 'disprove' || t.role === 'assert-timeout') && t.confirmation !== undefined,
  );
  if (w.outcome === 'operator-slashed' && !slashing) {
    differences.push(
      'outcome: the watcher recorded the operator slashed, but no confirmed disprove or assert-timeout is in the bundle',
    );
  } else if (w.outcome !== undefined && w.outcome !== 'operator-slashed' && slashing) {
    differences.push(
      `outcome: the watcher recorded ${w.outcome}, but a confirmed disprove or assert-timeout is in the bundle`,
    );
  }
  if (wd !== undefined) {
    if (wd.fault !== undefined && !rd.found) {
      differences.push(
        `divergence: the watcher located ${wd.fault} at step ${wd.step}, the replay finds none (${rd.reason})`,
      );
    } else if (wd.fault === undefined && rd.found) {
      differences.push(
        `divergence: the watcher located none, the replay finds ${rd.fault} at step ${rd.step}`,
      );
    } else if (wd.fault !== undefined && rd.found) {
      if (wd.fault !== rd.fault)
        differences.push(`fault: the watcher named ${wd.fault}, the replay ${rd.fault}`);
      if (wd.rule !== rd.rule) differences.push(`rule: the watcher named ${wd.rule}, the replay ${rd.rule}`);
      if (wd.step !== rd.step)
        differences.push(`step: the watcher located step ${wd.step}, the replay step ${rd.step}`);
    }
  }
  if (r.checkpoints.firstRecordedMismatch !== undefined) {
    differences.push(
      `checkpoints: the watcher's r_${r.checkpoints.firstRecordedMismatch} differs from the replay's`,
    );
  }
  if (w.disprovedStep !== undefined && r.checkpoints.disproveStep !== w.disprovedStep) {
    differences.push(
      `disprove: the watcher disproved step ${w.disprovedStep}, the replay targets ${r.checkpoints.disproveStep ?? 'none'}`,
    );
  }
  return { compared: true, agrees: differences.length === 0, differences, notRecorded };
}

/** Replays one bundle; throws only on a bundle the codec should have refused (a programming error). */
export function replayBundle(b: DisputeBundleV2, o: ReplayOptions = {}): ReplayResult {
  const byRole = (role: BundleTx['role']) => b.transactions.find((t) => t.role === role);
  const kickoffTx = b.transactions.find((t) => t.txid === b.kickoffTxid);
  const assertTx = byRole('assert');

  // 1. The epoch, from genesis.
  const start = b.governance.epochStart;
  const epochInputs = b.governance.inputs.slice(start);
  const state = createGenesisState(b.governance.genesis);
  const priorEpochs = start > 0 ? reexecute(b.governance.inputs.slice(0, start), { state }).epochs : [];
  const preRoot = computeStateRoot(state);
  const ref = reexecute(epochInputs, { state, trace: true });
  const refTrace = ref.trace as TraceStep[];

  // 2. The graph, imported as the watcher imports it (minus the history of earlier graphs' keys).
  const graph = importBundleGraph(b, kickoffTx);
  const g = graph.imported;
  const k = g?.graph.spec.params.traceSteps;
  const expected =
    k === undefined || refTrace.length === 0
      ? []
      : traceCheckpoints(
          preRoot,
          refTrace.map((s) => s.root),
          k,
        );

  // 3. The verdict, by the watcher's judge.
  const kickoff = kickoffFact(g, kickoffTx);
  const evidence: EpochEvidence = {
    epoch: b.epoch,
    reexecution: { complete: true, root: ref.root, checkpoints: expected },
    l2: l2Fact(b),
    kickoff,
    graphVerified: g !== undefined,
    depth: { l2: 1, bitcoin: 1 },
  };
  const verdict = judgeEpoch(evidence);

  // 4. Where the claim departs: the kick-off's root, else the L2 commitment's.
  const claimedRoot =
    kickoff.status === 'seen' ? kickoff.revealed.stateRoot : (b.l2.commitment?.stateRoot ?? undefined);
  const max = o.diagnoseMaxInputs ?? 20_000;
  let diagnosis: FraudDiagnosis;
  if (claimedRoot === undefined) diagnosis = { fault: undefined, reason: 'no claimed root to explain' };
  else if (b.governance.inputs.length > max) {
    diagnosis = {
      fault: undefined,
      reason: `not diagnosed: ${b.governance.inputs.length} inputs since genesis, more than ${max}`,
    };
  } else {
    diagnosis = diagnoseFraud({
      genesis: b.governance.genesis,
      priorInputs: b.governance.inputs.slice(0, start),
      epochInputs,
      claimedRoot,
    });
  }
  const claimTrace =
    diagnosis.fault === undefined
      ? undefined
      : (reexecute(epochInputs, {
          state: stateBefore(b, start),
          executor: executorByName(diagnosis.fault),
          trace: true,
        }).trace as TraceStep[]);

  // 5. The asserted trace and the step a disprove targets.
  let asserted: string[] | undefined;
  let disproveStep: number | undefined;
  let disproveImpossible: string | undefined;
  const kickoffParsed = parsedTx(kickoffTx);
  const assertParsed = parsedTx(assertTx);
  if (g !== undefined && kickoffParsed !== undefined && assertParsed !== undefined) {
    try {
      asserted = claimedTrace(g.graph, kickoffParsed, assertParsed).map(root0x);
      const plan = planDisprove(
        g.graph,
        kickoffParsed,
        assertParsed,
        expected.map((r) => bytesToHex(r)),
      );
      if (plan.kind === 'disprove') disproveStep = plan.step;
      else disproveImpossible = `${plan.code}: ${plan.reason}`;
    } catch (err) {
      disproveImpossible = `the assert does not read: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  let firstRecordedMismatch: number | undefined;
  const recorded = b.watcher?.expectedTrace ?? [];
  if (recorded.length > 0) {
    const n = Math.max(recorded.length, expected.length);
    for (let i = 0; i < n; i++) {
      const a = recorded[i];
      const e = expected[i];
      if (a === undefined || e === undefined || !equalBytes(a, e)) {
        firstRecordedMismatch = i;
        break;
      }
    }
  }

  // 6. Every transaction against its prevouts, under consensus rules.
  const transactions = checkTransactions(b.transactions, g);

  const consistency = bundleConsistency(b, priorEpochs, ref.epochs, epochInputs.length, g);

  // 7. The timeline.
  const deadlines: { name: string; height: number }[] = [];
  const kickoffHeight = kickoffTx?.confirmation?.height;
  if (g !== undefined && kickoffHeight !== undefined) {
    const t = g.graph.spec.params.timelocks;
    const d = disputeDeadlines(kickoffHeight, t);
    deadlines.push(
      { name: 'challenge by', height: d.challengeBy },
      { name: 'assert timeout from', height: d.assertTimeoutFrom },
    );
    const assertHeight = assertTx?.confirmation?.height;
    if (assertHeight !== undefined)
      deadlines.push({ name: 'disprove by', height: disproveBy(assertHeight, t.disproveWindow) });
  }

  const partial: Omit<ReplayResult, 'agreement'> = {
    epoch: b.epoch.toString(),
    source: b.source,
    verdict: {
      outcome: verdict.outcome,
      challengeable: verdict.challengeable,
      equivocation: verdict.equivocation,
      reasons: verdict.reasons.map((r) => ({ code: r.code, message: r.message })),
    },
    roots: {
      vigil: root0x(ref.root),
      kickoff: kickoff.status === 'seen' ? root0x(kickoff.revealed.stateRoot) : undefined,
      l2Commitment: b.l2.commitment === undefined ? undefined : root0x(b.l2.commitment.stateRoot),
    },
    checkpoints: {
      expected: expected.map(root0x),
      firstRecordedMismatch,
      asserted,
      disproveStep,
      disproveImpossible,
    },
    divergence: divergenceOf(b, diagnosis, refTrace, claimTrace),
    steps: stepRows(epochInputs, refTrace, claimTrace),
    graph: {
      imported: g !== undefined,
      error: graph.error,
      hash: g === undefined ? undefined : bytesToHex(g.hash),
    },
    transactions,
    consistency,
    chainChecksOk: g !== undefined && consistency.length === 0 && transactions.every((t) => t.ok),
    timeline: {
      l2: {
        epochEndBlock: b.l2.epochEndBlock.toString(),
        commitmentBlock: b.l2.commitment?.block.toString(),
      },
      bitcoin: b.transactions.map((t) => ({ role: t.role, txid: t.txid, height: t.confirmation?.height })),
      deadlines,
    },
  };
  return { ...partial, agreement: agreementWith(b, partial) };
}
