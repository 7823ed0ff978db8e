/**
 * The account report at an epoch end, checked three ways on real chains (anvil with the governance
 * contracts, a seeded workload driven onto it):
 * - every figure equals the contracts' eth_call answer at the epoch-end block, and this epoch's payouts sum
 *   to the contract's accrued delta (zero findings);
 * - every leaf's proof verifies against the epoch root, which is the root plain re-execution computes
 *   (the ledger changes no root), and a proof file with one byte changed fails with a reason;
 * - a deliberately wrong model figure, and a faulty executor's payouts, are reported as findings.
 */
import { createPublicClient, http, type PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { type Address, executorByName, reexecute } from '../../src/governance/index.ts';
import { verifyProof } from '../../src/governance/merkle.ts';
import { generateWorkload, type Workload } from '../../src/governance/workload.ts';
import { type AccountReport, accountReport } from '../../src/verify/account.ts';
import { type AccountFinding, compareAccountWithChain } from '../../src/verify/account-chain.ts';
import { EpochReplayError, replayToBlockEnd, replayToEpochEnd } from '../../src/verify/epoch-replay.ts';
import {
  encodeProofFile,
  parseProofFile,
  proofFileFromReport,
  verifyProofFile,
} from '../../src/verify/proof-file.ts';
import { type Chain, startChain } from '../l2/helpers.ts';

const STRANGER = '0x00000000000000000000000000000000000000aa' as Address;

/** An epoch end as the derivation records it, with the chain block it landed in. */
type End = { epoch: bigint; firstInput: number; lastInput: number; block: bigint; root: string };

/** A small deterministic generator (mulberry32), so a failing pick names its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pickN = <T>(r: () => number, xs: readonly T[], n: number): T[] => {
  const pool = [...xs];
  const out: T[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(Math.floor(r() * pool.length), 1)[0] as T);
  return out;
};

type Run = { w: Workload; chain: Chain; client: PublicClient; ends: End[] };

async function drive(seed: number): Promise<Run> {
  const w = generateWorkload({ seed, inputs: 220, epochLength: 14 });
  const chain = await startChain(w.genesis);
  const { offset, reverted } = await chain.driver.replay(w.inputs, { checkReceipts: true });
  expect(reverted).toEqual([]);
  const ends: End[] = [];
  let first = 0;
  for (const e of reexecute(w.inputs, { genesis: w.genesis }).epochs) {
    const input = w.inputs[e.stepIndex];
    if (!input) throw new Error('epoch end outside the feed');
    ends.push({
      epoch: e.epoch,
      firstInput: first,
      lastInput: e.stepIndex,
      block: input.position.block + offset,
      root: `0x${bytesToHex(e.root)}`,
    });
    first = e.stepIndex + 1;
  }
  const client = createPublicClient({ transport: http(chain.anvil.rpcUrl) }) as PublicClient;
  return { w, chain, client, ends };
}

const SEEDS = [7, 19, 42];

describe.each(SEEDS)('account verification, workload seed %i', (seed) => {
  let run: Run;
  beforeAll(async () => {
    run = await drive(seed);
  });
  afterAll(async () => {
    await run?.chain.stop();
  });

  it('at random epoch ends, for random validators, delegators and a stranger: zero findings, proofs verify', async () => {
    const { w, client, ends, chain } = run;
    expect(ends.length).toBeGreaterThan(5);
    const r = rng(seed);
    let payoutsSeen = 0n;
    const kinds = new Set<string>();
    for (const endIndex of pickN(
      r,
      ends.map((_, i) => i),
      4,
    )) {
      const end = ends[endIndex] as End;
      const params = {
        genesis: w.genesis,
        inputs: w.inputs,
        firstInput: end.firstInput,
        lastInput: end.lastInput,
      };
      const replay = replayToEpochEnd(params);
      expect(replay.epoch).toBe(end.epoch);
      // The ledger observed the epoch end without changing its root.
      expect(`0x${bytesToHex(replay.root)}`).toBe(end.root);
      const atBlockEnd = replay.blockTail === 0 ? replay : replayToBlockEnd(params);
      const validators = [...replay.state.validators.keys()];
      const delegators = [...replay.state.delegations.keys()];
      const accounts = [...pickN(r, validators, 2), ...pickN(r, delegators, 2), STRANGER];
      for (const account of accounts) {
        const report = accountReport(replay.state, replay.ledger, account);
        expect(bytesToHex(report.root)).toBe(end.root.slice(2));
        for (const l of report.leaves) expect(verifyProof(report.root, l.leaf, l.proof), l.what).toBe(true);
        for (const l of report.leaves) kinds.add(l.what.split(' ')[0] as string);
        payoutsSeen += report.rewards.payouts.total;

        const file = parseProofFile(encodeProofFile(proofFileFromReport(report)));
        const verdict = verifyProofFile(file, end.root);
        expect(verdict.reasons).toEqual([]);
        expect(verdict.leaves.filter((l) => !l.ok)).toEqual([]);
        expect(verdict.ok).toBe(true);
        // One byte changed in the root (the file then proves against nothing we trust) fails every leaf.
        file.root[0] = (file.root[0] as number) ^ 0x80;
        const bad = verifyProofFile(file, end.root);
        expect(bad.ok).toBe(false);
        expect(bad.reasons[0]).toMatch(/is not the expected root/);
        expect(bad.leaves.every((l) => l.reason?.includes('do not hash to the root'))).toBe(true);

        const chainReport = accountReport(atBlockEnd.state, atBlockEnd.ledger, account);
        const previous = endIndex === 0 ? undefined : (ends[endIndex - 1] as End).block;
        const { findings } = await compareAccountWithChain(client, {
          addresses: chain.deployment.addresses,
          report: chainReport,
          blockNumber: end.block,
          previousEpochEndBlock: previous,
        });
        expect(findings, `${account} at epoch ${end.epoch}`).toEqual([]);

        if (account === STRANGER) {
          expect(report.validator).toBeNull();
          expect(report.delegation).toBeNull();
          expect(report.rewards.leaf).toBeNull();
          expect(report.rewards.accrued).toBe(0n);
        }
      }
    }
    // Not vacuous: some payouts were made and the leaves of each kind were proven.
    expect(payoutsSeen).toBeGreaterThan(0n);
    for (const k of ['global', 'param', 'validator', 'active', 'delegation', 'reward'])
      expect(kinds).toContain(k);
  });

  it('the ledger accounts for every unit issued at the epoch end', () => {
    const { w, ends } = run;
    for (const end of ends) {
      const before = end.firstInput === 0 ? 0n : totalIssuedAfter(w, ends, end);
      const replay = replayToEpochEnd({ genesis: w.genesis, inputs: w.inputs, ...end });
      const credited = replay.ledger.reduce((s, p) => s + p.amount, 0n);
      expect(credited).toBe(replay.state.totalIssued - before);
    }
  });

  it('a model figure that differs from the contracts is a finding', async () => {
    const { w, client, ends, chain } = run;
    const endIndex = ends.length - 1;
    const end = ends[endIndex] as End;
    const atBlockEnd = replayToBlockEnd({ genesis: w.genesis, inputs: w.inputs, ...end });
    const [address, v] = [...atBlockEnd.state.validators.entries()].find(([, x]) => x.selfStake > 0n) ?? [];
    if (!address || !v) throw new Error('no staked validator');
    v.selfStake += 1n;
    const report = accountReport(atBlockEnd.state, atBlockEnd.ledger, address);
    const { findings } = await compareAccountWithChain(client, {
      addresses: chain.deployment.addresses,
      report,
      blockNumber: end.block,
      previousEpochEndBlock: (ends[endIndex - 1] as End).block,
    });
    expect(findings).toContainEqual<AccountFinding>({
      figure: 'validator selfStake',
      model: String(v.selfStake),
      contract: String(v.selfStake - 1n),
    });
  });

  it("a faulty executor's payouts (rounded up) disagree with the contracts' accrued delta", async () => {
    const { w, client, ends, chain } = run;
    const faulty = executorByName('rewards-rounded-up');
    let found: AccountFinding[] = [];
    for (let i = 1; i < ends.length && found.length === 0; i++) {
      const end = ends[i] as End;
      const replay = replayToBlockEnd({ genesis: w.genesis, inputs: w.inputs, executor: faulty, ...end });
      const paid = replay.ledger.find((p) => p.kind === 'dividend');
      if (!paid || !('account' in paid)) continue;
      const report: AccountReport = accountReport(replay.state, replay.ledger, paid.account);
      found = (
        await compareAccountWithChain(client, {
          addresses: chain.deployment.addresses,
          report,
          blockNumber: end.block,
          previousEpochEndBlock: (ends[i - 1] as End).block,
        })
      ).findings;
    }
    expect(found.map((f) => f.figure)).toContain('accrued reward');
  });
});

/** totalIssued right after the epoch end before `end` (by replaying to it: the model's own figure). */
function totalIssuedAfter(w: Workload, ends: readonly End[], end: End): bigint {
  const prev = ends[ends.indexOf(end) - 1] as End;
  return replayToEpochEnd({ genesis: w.genesis, inputs: w.inputs, ...prev }).state.totalIssued;
}

describe('replayToEpochEnd refuses what is not an epoch end', () => {
  const w = generateWorkload({ seed: 3, inputs: 60, epochLength: 10 });
  const endAt = w.inputs.findIndex((i) => i.kind === 'endEpoch');
  const notEnd = w.inputs.findIndex((i) => i.kind !== 'endEpoch');
  it.each([
    ['an index past the feed', w.inputs.length, /outside the feed/],
    ['an input that is no endEpoch', notEnd, /not an endEpoch/],
  ])('%s', (_, lastInput, message) => {
    expect(() =>
      replayToEpochEnd({ genesis: w.genesis, inputs: w.inputs, firstInput: 0, lastInput }),
    ).toThrow(message);
  });
  it('an overruled endEpoch', () => {
    expect(() =>
      replayToEpochEnd({
        genesis: w.genesis,
        inputs: w.inputs,
        overruled: new Set([endAt]),
        firstInput: 0,
        lastInput: endAt,
      }),
    ).toThrow(EpochReplayError);
  });
});
