/** What `vigil verify --epoch` prints: a few lines for a person, or one JSON document for a program. */
import type { FraudDiagnosis } from '../judge/diagnose.ts';
import type { L2ExecutionFault } from '../l2/governance-ingester.ts';
import { accountJson, accountText } from './account-report.ts';
import type { EpochVerification, RootCheck } from './epoch.ts';

const SOURCE_NAME: Record<RootCheck['source'], string> = {
  given: 'given root',
  'l2-commitment': 'L2 commitment',
  'bitcoin-kickoff': 'Bitcoin kick-off',
};

function diagnosisText(d: FraudDiagnosis): string {
  if (d.fault === undefined) return `    why: ${d.reason}`;
  return (
    `    first divergent step ${d.step} of the epoch (${d.globalStep} since genesis), a ${d.inputKind}: ` +
    `rule ${d.rule} broken (catalogue fault ${d.fault})`
  );
}

function faultText(f: L2ExecutionFault): string {
  switch (f.kind) {
    case 'rejected-input':
      return `  L2 execution fault at block ${f.block}: the chain accepted a ${f.inputKind} the rules refuse (rule ${f.rule}: ${f.reason})`;
    case 'reverted-input-accepted':
      return `  L2 execution fault at block ${f.block}: the contracts refused ${f.txHash} (${f.inputKind}) naming rule ${f.rule}, which the rules accept`;
    case 'state-mismatch':
      return `  L2 execution fault at epoch ${f.epochEnd.epoch}: ${f.differences.join('; ')}`;
    case 'rollup-param-violated':
      return `${
        f.param === 'l2GasLimit'
          ? `  L2 execution fault at block ${f.block} (${f.blockHash}): gasLimit ${f.observed}, the governed l2GasLimit is ${f.voted}`
          : `  L2 execution fault at block ${f.block} (${f.blockHash}): baseFeePerGas ${f.observed}, below the governed minBaseFee ${f.voted}`
      }${f.blocks !== undefined && f.blocks > 1 ? ` (and the next ${f.blocks - 1} blocks of the epoch)` : ''}`;
  }
}

export function verificationText(v: EpochVerification): string {
  const lines = [
    `epoch ${v.epoch}: ${v.ok ? 'OK' : v.disagreement ? 'DISAGREEMENT' : 'NOTHING TO COMPARE (no root given, no commitment yet, no kick-off read)'}`,
    `  ended at L2 block ${v.endBlock} (${v.endBlockHash}), ${v.depth} deep; ${v.epochInputs} inputs in the epoch, ${v.inputsSinceGenesis} since genesis`,
    `  Vigil's root ${v.root}`,
  ];
  for (const c of v.checks) {
    const name = SOURCE_NAME[c.source];
    const root = c.root !== undefined ? ` ${c.root}` : '';
    const detail = c.detail !== undefined ? ` (${c.detail})` : '';
    lines.push(`  ${name}: ${c.status}${root}${detail}`);
    if (c.diagnosis) lines.push(diagnosisText(c.diagnosis));
  }
  if (v.crossCheck) {
    lines.push(
      v.crossCheck.ok
        ? `  contracts at block ${v.endBlock}: match the model (${v.crossCheck.calls} calls)`
        : `  contracts at block ${v.endBlock}: differ from the model: ${v.crossCheck.differences.join('; ')}`,
    );
  }
  for (const f of v.l2Faults) lines.push(faultText(f));
  if (v.graph && !v.graph.imported) lines.push(`  graph ${v.graph.name}: refused: ${v.graph.error ?? ''}`);
  return `${lines.join('\n')}\n${v.account ? accountText(v.account) : ''}`;
}

function faultJson(f: L2ExecutionFault): Record<string, unknown> {
  if (f.kind === 'state-mismatch') {
    return { kind: f.kind, epoch: f.epochEnd.epoch.toString(), differences: f.differences };
  }
  if (f.kind === 'rollup-param-violated') {
    return { ...f, block: f.block.toString(), voted: f.voted.toString(), observed: f.observed.toString() };
  }
  return { ...f, block: f.block.toString() };
}

export function verificationJson(v: EpochVerification): Record<string, unknown> {
  return {
    epoch: v.epoch.toString(),
    ok: v.ok,
    disagreement: v.disagreement,
    compared: v.compared,
    endBlock: v.endBlock.toString(),
    endBlockHash: v.endBlockHash,
    depth: v.depth,
    root: v.root,
    epochInputs: v.epochInputs,
    inputsSinceGenesis: v.inputsSinceGenesis,
    checks: v.checks,
    crossCheck: v.crossCheck ?? null,
    l2Faults: v.l2Faults.map(faultJson),
    graph: v.graph ?? null,
    blocksRead: v.blocksRead.toString(),
    ...(v.account ? { account: accountJson(v.account) } : {}),
  };
}
