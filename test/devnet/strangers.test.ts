/**
 * Transactions a stranger can send for the price of a penny, through the whole devnet (`vigil devnet
 * --scenario … --fault none`): a stake for more BTR than the sender holds, a delegation it never approved,
 * a delegate() whose address argument has dirty upper bytes, a commission of 65536 and of -1, a module
 * version of 2^64, a stake that runs out of gas, and the total bonded stake driven to its bound with an
 * end of epoch after it. Each must give no L2 execution fault, no crash and no accusation: the honest
 * operator is never disputed, and every epoch is judged valid.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { encodeFunctionData } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDevnet } from '../../src/devnet/run.ts';
import { MAX_TOTAL_BONDED } from '../../src/governance/params.ts';
import { stakingAbi } from '../../src/l2/contracts/artifacts/abis.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
let redis: Redis;
let dir: string;
beforeAll(async () => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  dir = await mkdtemp(join(tmpdir(), 'vigil-strangers-'));
});
afterAll(async () => {
  await redis.quit();
  await rm(dir, { recursive: true, force: true });
});

const V1 = '0xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1';
const V2 = '0xb2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2';
const D1 = '0xd3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3';
/** Holds 5 wei of BTR. */
const POOR = '0xe1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1';
/** Holds BTR but never approved Staking. */
const UNAPPROVED = '0xe2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2';
const STRANGER = '0xe3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3e3';
const E18 = 10n ** 18n;

type Row = Record<string, unknown>;
let txIndex = 0;
const at = (block: number, kind: string, sender: string, rest: Row = {}): Row => ({
  block: String(block),
  txIndex: txIndex++,
  logIndex: 0,
  kind,
  sender,
  ...rest,
});

function scenario(): string {
  const bonded = 2_000n * E18 + 1_500n * E18 + 500n * E18;
  const clean = encodeFunctionData({ abi: stakingAbi, functionName: 'delegate', args: [V1, 5n] });
  const stake = encodeFunctionData({ abi: stakingAbi, functionName: 'stake', args: [1_000n] });
  const inputs = [
    at(100, 'registerValidator', V1, { commissionBps: 1000 }),
    at(100, 'stake', V1, { amount: String(2_000n * E18) }),
    at(101, 'registerValidator', V2, { commissionBps: 500 }),
    at(101, 'stake', V2, { amount: String(1_500n * E18) }),
    at(101, 'registerValidator', POOR, { commissionBps: 100 }),
    at(101, 'registerValidator', UNAPPROVED, { commissionBps: 100 }),
    at(102, 'delegate', D1, { validator: V1, amount: String(500n * E18) }),
    // The griefer's pennies.
    at(103, 'stake', POOR, { amount: '10' }),
    at(103, 'stake', UNAPPROVED, { amount: '10' }),
    at(103, 'registerValidator', STRANGER, { commissionBps: 65536 }),
    at(104, 'registerValidator', STRANGER, { commissionBps: -1 }),
    at(104, 'propose', V1, {
      actions: [
        {
          kind: 'upgradeModule',
          moduleId: 'privacy',
          version: String(1n << 64n),
          codeHash: `0x${'22'.repeat(32)}`,
        },
      ],
    }),
    at(110, 'endEpoch', V1),
    // The bound: the total bonded stake reaches MAX_TOTAL_BONDED exactly, one more wei is refused by
    // both the model and Staking, and the end of epoch after it computes every product without overflow.
    at(112, 'stake', V2, { amount: String(MAX_TOTAL_BONDED - bonded) }),
    at(113, 'delegate', D1, { validator: V1, amount: '1' }),
    at(120, 'endEpoch', V2),
    at(130, 'endEpoch', V1),
  ];
  return JSON.stringify({
    format: 'vigil-governance-inputs/1',
    genesis: {
      params: { votingPeriod: '10', timelock: '5', minStake: '1' },
      modules: [{ id: 'privacy', version: '1', codeHash: `0x${'11'.repeat(32)}` }],
    },
    inputs,
    funding: { [POOR]: { balance: '5' }, [UNAPPROVED]: { allowance: '0' } },
    raw: [
      // delegate(V1, 5) with non-zero upper bytes in the address word: Solidity's decoder refuses it.
      { block: '105', sender: STRANGER, to: 'staking', data: `${clean.slice(0, 10)}ff${clean.slice(12)}` },
      // A stake the rules accept, with too little gas.
      { block: '105', sender: V1, to: 'staking', data: stake, gas: '30000' },
    ],
  });
}

describe('transactions a stranger can send', () => {
  it('raise no L2 execution fault, crash nothing and accuse no one', async () => {
    const file = join(dir, 'strangers.json');
    await writeFile(file, scenario());
    const s = await runDevnet({ redis, redisUrl: REDIS_URL, scenarioFile: file, fault: 'none' });
    expect(s.problems).toEqual([]);
    expect(s.ok).toBe(true);
    expect(s.verdicts).toEqual({ valid: 3, fraud: 0, unavailable: 0 });
    expect(s.disputes).toEqual([]);
    expect(s.operatorEnds.every((e) => !e.fraud)).toBe(true);
  }, 300_000);
});
