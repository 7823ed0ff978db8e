/**
 * `vigil verify --account`: one validator's or delegator's figures at an epoch end, with the leaves and
 * proofs that back them, and the same figures read from the contracts at that block. Any difference
 * between the two is a finding.
 */
import type { Address } from '../governance/index.ts';
import type { EpochEnd, GovernanceDerivation } from '../l2/derivation.ts';
import type { GovernanceAddresses } from '../l2/governance-contracts.ts';
import type { L2Rpc } from '../l2/rpc.ts';
import { type AccountReport, accountReport } from './account.ts';
import { type AccountFinding, compareAccountWithChain } from './account-chain.ts';
import { replayToBlockEnd, replayToEpochEnd } from './epoch-replay.ts';
import { type ProofFile, proofFileFromReport, verifyProofFile } from './proof-file.ts';

export type AccountVerification = {
  report: AccountReport;
  proofs: ProofFile;
  /** Every proof checked against the epoch's root before it is shown or written. */
  proofsVerify: boolean;
  findings: AccountFinding[];
  calls: number;
};

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

export function isAccountAddress(value: string): boolean {
  return ADDRESS.test(value);
}

export async function verifyAccount(p: {
  derivation: GovernanceDerivation;
  end: EpochEnd;
  account: Address;
  rpc: L2Rpc;
  addresses: GovernanceAddresses;
}): Promise<AccountVerification> {
  const d = p.derivation;
  const params = {
    genesis: d.genesis,
    inputs: d.inputs,
    overruled: d.overruledInputs,
    firstInput: p.end.firstInput,
    lastInput: p.end.lastInput,
  };
  const atEnd = replayToEpochEnd(params);
  const report = accountReport(atEnd.state, atEnd.ledger, p.account);
  // The contracts are read at the end of the block: inputs after the endEpoch in that block count there.
  const chainReport =
    atEnd.blockTail === 0
      ? report
      : (() => {
          const tail = replayToBlockEnd(params);
          return accountReport(tail.state, tail.ledger, p.account);
        })();
  const index = d.epochEnds.indexOf(p.end);
  const previous = index > 0 ? d.epochEnds[index - 1] : undefined;
  const { findings, calls } = await p.rpc.call('eth_call', (client) =>
    compareAccountWithChain(client, {
      addresses: p.addresses,
      report: chainReport,
      blockNumber: p.end.block,
      previousEpochEndBlock: previous?.block,
    }),
  );
  const proofs = proofFileFromReport(report);
  const proofsVerify = verifyProofFile(proofs, p.end.root).ok;
  return { report, proofs, proofsVerify, findings, calls };
}
