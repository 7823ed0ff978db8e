/** What `vigil verify --account` and `vigil verify proof` print, for a person or as JSON. */
import { bytesToHex } from '../core/bytes.ts';
import type { AccountVerification } from './account-run.ts';
import { encodeProofFile, type ProofFileVerdict } from './proof-file.ts';

const hex0x = (b: Uint8Array): string => `0x${bytesToHex(b)}`;

/** JSON.stringify replacer: bigints as decimal strings, bytes as 0x-hex. */
export function jsonValue(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return hex0x(v);
  return v;
}

export function accountText(a: AccountVerification): string {
  const r = a.report;
  const lines = [`account ${r.account} at the end of epoch ${r.epoch} (root ${hex0x(r.root)})`];
  const v = r.validator;
  if (v) {
    const s = v.status;
    const why =
      s.reason === 'active'
        ? `active, rank ${s.rank} of ${s.candidates} candidates (top ${r.params.maxValidators.value}), power ${s.power}${s.capped ? ` (capped at ${s.cap} = maxPowerBps ${r.params.maxPowerBps.value})` : ''}`
        : s.reason === 'below-min-stake'
          ? `not active: self stake ${v.selfStake} below minStake ${r.params.minStake.value}`
          : `not active: rank ${s.rank} of ${s.candidates}, outside the top ${r.params.maxValidators.value}`;
    lines.push(
      `  validator: self stake ${v.selfStake}, delegated ${v.delegated} by ${v.delegatorCount}, commission ${v.commissionBps} bps`,
      `  active set: ${why}`,
    );
  } else {
    lines.push('  validator: not registered');
  }
  lines.push(
    r.delegation ? `  delegation: ${r.delegation.amount} to ${r.delegation.validator}` : '  delegation: none',
  );
  const p = r.rewards.payouts;
  lines.push(`  rewards accrued: ${r.rewards.accrued}`);
  lines.push(
    `  this epoch end: ${p.total} (block reward commission ${p.blockCommission}, self share ${p.blockSelfShare}` +
      `, dividends ${p.dividends.map((d) => `${d.amount} via ${d.validator}`).join(', ') || '0'}` +
      `, subsidies ${p.subsidies.map((x) => `${x.amount} for proposal ${x.proposalId}`).join(', ') || '0'})`,
  );
  const t = r.global.remainders;
  lines.push(
    `  treasury kept ${t.total} at this epoch end (reward rounding ${t.rewardRounding}, subsidy rounding ${t.subsidyRounding}, no power ${t.noPower}, no voters ${t.noVoters}); treasury ${r.global.treasury}`,
  );
  lines.push(
    `  proofs: ${a.proofs.leaves.length} leaves against the root, ${a.proofsVerify ? 'all verify' : 'SOME DO NOT VERIFY'}`,
  );
  if (a.findings.length === 0) {
    lines.push(`  contracts: every figure agrees (${a.calls} calls)`);
  } else {
    for (const f of a.findings)
      lines.push(`  FINDING ${f.figure}: model ${f.model}, contracts ${f.contract}`);
  }
  return `${lines.join('\n')}\n`;
}

export function accountJson(a: AccountVerification): unknown {
  const { leaves: _leaves, ...report } = a.report;
  return JSON.parse(
    JSON.stringify(
      {
        report,
        proofsVerify: a.proofsVerify,
        findings: a.findings,
        calls: a.calls,
        proofs: JSON.parse(encodeProofFile(a.proofs)),
      },
      jsonValue,
    ),
  );
}

export function proofVerdictText(file: string, v: ProofFileVerdict): string {
  const lines = [`${file}: ${v.ok ? 'every proof verifies' : 'REFUSED'}`];
  for (const r of v.reasons) lines.push(`  ${r}`);
  for (const l of v.leaves) {
    const fields = l.fields ? ` ${JSON.stringify(l.fields, jsonValue)}` : '';
    lines.push(`  ${l.ok ? 'ok ' : 'BAD'} ${l.what}${l.ok ? fields : `: ${l.reason}`}`);
  }
  return `${lines.join('\n')}\n`;
}
