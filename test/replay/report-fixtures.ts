/**
 * Replay results and bundles for the report's tests, its benchmark and the docs screenshot.
 *
 * - `fraudFixture`: a real epoch run twice through the reference model, once as the reference and once
 *   under a catalogue fault (`out-of-bounds-applied`), so the trace diff, the divergent step and its
 *   roots are the model's own; the Bitcoin side (heights, txids, sizes, input checks) is a plausible
 *   dispute made up around it, since the renderer only shows those values.
 * - `hostileFixture`: the same with operator-controlled strings replaced by markup that would run or
 *   fetch if it were not escaped.
 * - `largeFixture`: a synthetic result with a given number of steps, every claimed root differing (the
 *   largest a trace diff of that length can be).
 */
import { createHash } from 'node:crypto';
import { bytesToHex } from '../../src/core/bytes.ts';
import {
  computeStateRoot,
  createGenesisState,
  executorByName,
  firstDivergence,
  type GovernanceInput,
  INPUT_KINDS,
  RULE_IDS,
  reexecuteEpoch,
  type TraceStep,
} from '../../src/governance/index.ts';
import { generateWorkload, workloadAddress } from '../../src/governance/workload.ts';
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  type BundleTx,
  type BundleTxRole,
  type DisputeBundleV2,
} from '../../src/replay/bundle.ts';
import { leafDifferencesAt } from '../../src/replay/leaf-diff.ts';
import type { ScriptTrace } from '../../src/replay/report/index.ts';
import type { ReplayResult, ReplayStep, ReplayTxCheck } from '../../src/replay/result.ts';

export type ReportFixture = { result: ReplayResult; bundle: DisputeBundleV2; scripts: ScriptTrace[] };

export const FRAUD_FAULT = 'out-of-bounds-applied';

/** Deterministic 32-byte hex from a label (stand-in txids and block hashes). */
function digest(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}

/** `n` deterministic bytes (a stand-in raw transaction: the report shows its size only). */
function filler(label: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let block = createHash('sha256').update(label).digest();
  for (let i = 0; i < n; i++) {
    if (i % 32 === 0 && i > 0) block = createHash('sha256').update(block).digest();
    out[i] = block[i % 32] as number;
  }
  return out;
}

const root0x = (bytes: Uint8Array) => `0x${bytesToHex(bytes)}`;

/** One epoch of 80 inputs closed by an endEpoch: the same workload every time. */
function epochInputs(): {
  genesis: ReturnType<typeof generateWorkload>['genesis'];
  inputs: GovernanceInput[];
} {
  const w = generateWorkload({ seed: 11, inputs: 79, epochLength: 80, weights: { endEpoch: 0 } });
  const last = w.inputs[w.inputs.length - 1];
  w.inputs.push({
    kind: 'endEpoch',
    sender: workloadAddress('delegator', 0),
    position: { block: (last?.position.block ?? 1n) + 1n, txIndex: 0, logIndex: 0 },
  });
  return w;
}

type DisputeTx = { role: BundleTxRole; height: number; rawBytes: number; inputs: { leafBytes?: number }[] };

const KICKOFF_HEIGHT = 840_112;
const DISPUTE_TXS: DisputeTx[] = [
  { role: 'kickoff', height: KICKOFF_HEIGHT, rawBytes: 1_046, inputs: [{}] },
  { role: 'challenge', height: 840_118, rawBytes: 312, inputs: [{ leafBytes: 74 }, {}] },
  { role: 'assert', height: 840_139, rawBytes: 14_872, inputs: [{ leafBytes: 13_918 }] },
  { role: 'disprove', height: 840_141, rawBytes: 4_207, inputs: [{ leafBytes: 3_981 }, {}] },
];

/** A plausible opcode trace of the disprove leaf: the committed roots' digits checked, then the verdict. */
function disproveTrace(txid: string): ScriptTrace {
  const lines: ScriptTrace['lines'][number][] = [];
  let i = 0;
  const stack: string[] = [];
  for (let d = 0; d < 6; d++) {
    const digit = (d * 7 + 3) % 16;
    stack.push(digit.toString(16).padStart(2, '0'));
    lines.push({
      stage: 'tapscript',
      index: i++,
      instruction: `OP_${digit}`,
      executed: true,
      stack: [...stack],
      label: `expected root r_59, digit ${d}`,
    });
    lines.push({
      stage: 'tapscript',
      index: i++,
      instruction: 'OP_TOALTSTACK',
      executed: true,
      stack: stack.slice(0, -1),
    });
    stack.pop();
  }
  lines.push({ stage: 'tapscript', index: i++, instruction: 'OP_IF', executed: true, stack: [] });
  lines.push({ stage: 'tapscript', index: i++, instruction: 'OP_RETURN', executed: false, stack: [] });
  lines.push({ stage: 'tapscript', index: i++, instruction: 'OP_ENDIF', executed: true, stack: [] });
  lines.push({
    stage: 'tapscript',
    index: i++,
    instruction: '<32 bytes>',
    executed: true,
    stack: [digest('key')],
  });
  lines.push({ stage: 'tapscript', index: i++, instruction: 'OP_CHECKSIG', executed: true, stack: ['01'] });
  return { txid, input: 0, lines };
}

export function fraudFixture(): ReportFixture {
  const { genesis, inputs } = epochInputs();
  const expected = reexecuteEpoch(inputs, { genesis });
  const claimed = reexecuteEpoch(inputs, { genesis, executor: executorByName(FRAUD_FAULT) });
  const d = firstDivergence(expected.trace, claimed.trace);
  if (d === undefined) throw new Error(`fixture: ${FRAUD_FAULT} does not diverge on the fixture epoch`);

  const steps: ReplayStep[] = expected.trace.map((e: TraceStep, i) => {
    const c = claimed.trace[i] as TraceStep;
    return {
      index: e.index,
      kind: e.input.kind,
      block: e.input.position.block.toString(),
      txIndex: e.input.position.txIndex,
      logIndex: e.input.position.logIndex,
      rules: [...e.rules],
      expectedRoot: root0x(e.root),
      expectedAccepted: e.accepted,
      claimedRoot: root0x(c.root),
      claimedAccepted: c.accepted,
    };
  });
  const genesisRoot = root0x(computeStateRoot(createGenesisState(genesis)));
  const k = 8;
  const checkpoints = [genesisRoot];
  for (let i = 1; i <= k; i++) {
    checkpoints.push(steps[Math.round((i * steps.length) / k) - 1]?.expectedRoot ?? genesisRoot);
  }
  // The operator's asserted checkpoints: the claim's roots at the same steps; a disprove targets the
  // first one that differs.
  const claimedCheckpoints = [genesisRoot];
  for (let i = 1; i <= k; i++) {
    claimedCheckpoints.push(steps[Math.round((i * steps.length) / k) - 1]?.claimedRoot ?? genesisRoot);
  }
  const firstWrong = claimedCheckpoints.findIndex((r, i) => r !== checkpoints[i]);
  const disproveStep = firstWrong < 0 ? undefined : firstWrong;
  const leaves = leafDifferencesAt({
    genesis,
    priorInputs: [],
    epochInputs: inputs,
    step: d.index,
    reference: executorByName('reference'),
    claimed: executorByName(FRAUD_FAULT),
  });
  const vigilRoot = root0x(expected.root);
  const claimedRoot = root0x(claimed.root);
  const lastBlock = inputs[inputs.length - 1]?.position.block ?? 0n;

  const bundleTxs: BundleTx[] = DISPUTE_TXS.map((t) => ({
    role: t.role,
    txid: digest(`txid:${t.role}`),
    raw: filler(`raw:${t.role}`, t.rawBytes),
    confirmation: {
      height: t.height,
      blockHash: `00000000000000000002${digest(`block:${t.height}`).slice(20)}`,
    },
    prevouts: t.inputs.map((inp, i) => ({
      value: 10_000n + BigInt(i) * 330n,
      script: filler(`spk:${t.role}:${i}`, inp.leafBytes === undefined ? 22 : 34),
    })),
  }));
  const checks: ReplayTxCheck[] = DISPUTE_TXS.map((t, n) => ({
    role: t.role,
    txid: bundleTxs[n]?.txid as string,
    height: t.height,
    blockHash: bundleTxs[n]?.confirmation?.blockHash,
    weight: t.rawBytes * 3 + 40,
    ok: true,
    inputs: t.inputs.map((inp, i) => ({ index: i, ok: true, error: undefined, leafBytes: inp.leafBytes })),
    problems: [],
    externalInputs: 0,
  }));
  const kickoffTxid = bundleTxs[0]?.txid as string;
  const disproveTxid = bundleTxs[3]?.txid as string;

  const reasons = [
    {
      code: 'root-mismatch',
      message: `the operator committed ${claimedRoot.slice(0, 18)}… but the epoch's inputs give ${vigilRoot.slice(0, 18)}…`,
    },
  ];
  const result: ReplayResult = {
    epoch: '0',
    source: 'records',
    verdict: { outcome: 'fraud', challengeable: true, equivocation: false, reasons },
    roots: { vigil: vigilRoot, kickoff: claimedRoot, l2Commitment: claimedRoot },
    checkpoints: {
      expected: checkpoints,
      firstRecordedMismatch: undefined,
      asserted: claimedCheckpoints,
      disproveStep,
      disproveImpossible: undefined,
    },
    divergence: {
      found: true,
      fault: FRAUD_FAULT,
      rule: d.rules[d.rules.length - 1] ?? 'unknown',
      step: d.index,
      globalStep: d.index,
      inputKind: d.input.kind,
      expectedRoot: root0x(d.expected.root),
      claimedRoot: root0x(d.actual.root),
      leaves: leaves.differences,
      leavesTotal: leaves.total,
    },
    steps,
    graph: { imported: true, error: undefined, hash: `0x${digest('graph')}` },
    transactions: checks,
    consistency: [],
    chainChecksOk: true,
    agreement: { compared: true, agrees: true, differences: [], notRecorded: [] },
    timeline: {
      l2: { epochEndBlock: lastBlock.toString(), commitmentBlock: (lastBlock + 12n).toString() },
      bitcoin: DISPUTE_TXS.map((t, n) => ({
        role: t.role,
        txid: bundleTxs[n]?.txid as string,
        height: t.height,
      })),
      deadlines: [
        { name: 'challenge by', height: KICKOFF_HEIGHT + 72 },
        { name: 'assert timeout from', height: 840_118 + 30 },
        { name: 'disprove by', height: 840_139 + 72 },
      ],
    },
  };
  const bundle: DisputeBundleV2 = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    source: 'records',
    epoch: 0n,
    governance: { genesis, inputs, epochStart: 0 },
    l2: {
      chainId: 31337,
      epochEndBlock: lastBlock,
      epochEndBlockHash: `0x${digest(`l2:${lastBlock}`)}`,
      commitment: {
        stateRoot: claimed.root,
        block: lastBlock + 12n,
        txHash: `0x${digest('l2-commit')}`,
        kickoffTxid,
      },
    },
    graph: {
      document: { version: 1 },
      expectations: {
        network: 'regtest',
        circuit: 'test-identity-v1',
        operator: filler('operator', 33),
        committee: [filler('committee:0', 33), filler('committee:1', 33)],
        governedChallengeWindow: 72,
        commitment: filler('graph', 32),
      },
    },
    kickoffTxid,
    transactions: bundleTxs,
    watcher: {
      disputeId: `0:${kickoffTxid.slice(0, 16)}`,
      state: 'disproved',
      outcome: 'won',
      kickoffHeight: KICKOFF_HEIGHT,
      verdict: { outcome: 'fraud', equivocation: false, reasons },
      diagnosis: {
        fault: FRAUD_FAULT,
        rule: d.rules[d.rules.length - 1] ?? 'unknown',
        step: d.index,
        globalStep: d.index,
        inputKind: d.input.kind,
      },
      expectedTrace: checkpoints.map((r) => Buffer.from(r.slice(2), 'hex')),
      disprovedStep: d.index,
      history: [
        { type: 'opened', height: KICKOFF_HEIGHT },
        { type: 'challenged', txid: bundleTxs[1]?.txid, height: 840_118 },
        { type: 'asserted', txid: bundleTxs[2]?.txid, height: 840_139 },
        { type: 'disproved', txid: disproveTxid, step: d.index, height: 840_141 },
      ],
    },
  };
  return { result, bundle, scripts: [disproveTrace(disproveTxid)] };
}

/** Markup an operator could plant in any string the bundle carries. */
export const HOSTILE_SCRIPT = '<script>alert(1)</script>';
export const HOSTILE_IMG = '"><img src=x onerror=alert(2)>';
export const HOSTILE_LINK =
  "'><a href=\"http://127.0.0.1:9/x\">click</a><style>@import 'http://127.0.0.1:9/y'</style>";

/** The fraud fixture with hostile strings wherever the operator (or the chain data) chooses the text. */
export function hostileFixture(): ReportFixture {
  const f = fraudFixture();
  const { result, bundle } = f;
  const evilTxid = `${HOSTILE_IMG}${HOSTILE_SCRIPT}`;
  const tx = result.transactions[1] as ReplayTxCheck;
  const btx = bundle.transactions[1] as BundleTx;
  tx.txid = evilTxid;
  btx.txid = evilTxid;
  tx.ok = false;
  tx.role = HOSTILE_LINK;
  (tx.inputs[0] as ReplayTxCheck['inputs'][number]).ok = false;
  (tx.inputs[0] as ReplayTxCheck['inputs'][number]).error = HOSTILE_SCRIPT;
  tx.blockHash = HOSTILE_IMG;
  result.epoch = HOSTILE_SCRIPT;
  result.verdict.reasons.push({ code: HOSTILE_IMG, message: HOSTILE_SCRIPT });
  result.agreement = {
    compared: true,
    agrees: false,
    differences: [HOSTILE_LINK],
    notRecorded: [HOSTILE_IMG],
  };
  result.consistency = [HOSTILE_SCRIPT];
  tx.problems = [HOSTILE_IMG];
  if (result.divergence.found) {
    result.divergence.fault = HOSTILE_SCRIPT;
    result.divergence.rule = HOSTILE_IMG;
    result.divergence.inputKind = HOSTILE_LINK;
  }
  const step = result.steps[3] as ReplayStep;
  step.kind = HOSTILE_SCRIPT;
  step.rules = [HOSTILE_IMG, HOSTILE_LINK];
  step.block = HOSTILE_IMG;
  result.graph = { imported: false, error: HOSTILE_SCRIPT, hash: HOSTILE_IMG };
  result.timeline.bitcoin.push({ role: HOSTILE_SCRIPT, txid: HOSTILE_IMG, height: 840_150 });
  result.timeline.deadlines.push({ name: HOSTILE_IMG, height: 840_160 });
  result.timeline.l2.commitmentBlock = HOSTILE_SCRIPT;
  bundle.kickoffTxid = HOSTILE_LINK;
  bundle.l2.epochEndBlockHash = HOSTILE_SCRIPT;
  if (bundle.watcher !== undefined) {
    bundle.watcher.disputeId = HOSTILE_IMG;
    bundle.watcher.state = HOSTILE_SCRIPT;
    bundle.watcher.history.push({ type: HOSTILE_SCRIPT, detail: HOSTILE_IMG, note: HOSTILE_LINK });
  }
  f.scripts.push({
    txid: evilTxid,
    input: 0,
    lines: [
      { stage: HOSTILE_SCRIPT, index: 0, instruction: HOSTILE_IMG, executed: true, label: HOSTILE_LINK },
      {
        stage: 'tapscript',
        index: 1,
        instruction: 'OP_VERIFY',
        executed: true,
        stack: [HOSTILE_SCRIPT],
        error: HOSTILE_IMG,
      },
    ],
  });
  return f;
}

/**
 * A result of `n` steps built without the model (10,000 inputs of re-execution would only slow the
 * tests): every claimed root differs from step 0 on, the trace diff's largest form.
 */
export function largeFixture(n: number): ReportFixture {
  const base = fraudFixture();
  const steps: ReplayStep[] = [];
  for (let i = 0; i < n; i++) {
    const kind = INPUT_KINDS[i % INPUT_KINDS.length] as string;
    steps.push({
      index: i,
      kind,
      block: String(1_000 + Math.floor(i / 3)),
      txIndex: i % 3,
      logIndex: i % 2,
      rules: [
        RULE_IDS[0],
        RULE_IDS[(i % (RULE_IDS.length - 1)) + 1] as string,
        RULE_IDS[(i * 7) % RULE_IDS.length] as string,
      ].filter((r): r is string => r !== undefined),
      expectedRoot: `0x${digest(`e:${i}`)}`,
      expectedAccepted: true,
      claimedRoot: `0x${digest(`c:${i}`)}`,
      claimedAccepted: true,
    });
  }
  const first = steps[0] as ReplayStep;
  base.result.steps = steps;
  base.result.divergence = {
    found: true,
    fault: FRAUD_FAULT,
    rule: first.rules[first.rules.length - 1] ?? 'unknown',
    step: 0,
    globalStep: 0,
    inputKind: first.kind,
    expectedRoot: first.expectedRoot,
    claimedRoot: first.claimedRoot as string,
    leaves: [],
    leavesTotal: 0,
  };
  base.result.timeline.l2 = {
    epochEndBlock: String(1_000 + Math.floor(n / 3)),
    commitmentBlock: String(1_012 + Math.floor(n / 3)),
  };
  return base;
}

/**
 * Opcode traces shaped like the ones `vigil replay --report` passes for a real dispute (every input of
 * every transaction; the kick-off, assert and disprove leaves cut at MAX_TRACE_LINES_PER_INPUT, pushes of
 * 32-byte values, six stack items of 20 bytes each), the largest a report carries.
 */
export function realisticTraces(f: ReportFixture, linesPerLeaf = 5_001): ScriptTrace[] {
  const traces: ScriptTrace[] = [];
  for (const t of f.bundle.transactions) {
    t.prevouts.forEach((_, input) => {
      const leaf = t.role !== 'challenge' || input === 0;
      const n = leaf ? linesPerLeaf : 2;
      const lines: ScriptTrace['lines'][number][] = [];
      for (let i = 0; i < n; i++) {
        lines.push({
          stage: 'tapscript',
          index: i,
          instruction: i % 3 === 0 ? `<0x${digest(`push:${i}`)}>` : 'OP_HASH160',
          executed: true,
          stack: Array.from({ length: 6 }, (_, k) => `${digest(`item:${i}:${k}`).slice(0, 40)}…`),
        });
      }
      traces.push({ txid: t.txid, input, lines });
    });
  }
  return traces;
}
