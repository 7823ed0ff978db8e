/**
 * The devnet's sequencer makes anvil's blocks obey the rollup parameters in force, and its two faulty
 * variants break them (src/l2/rollup-sequencer.ts). Vigil's header checks, which judge with the reference
 * model, must report each break at exactly the first block the sequencer itself records (from the
 * contracts and the mined headers), and report nothing on an honest chain that changes its parameters.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeL2Faults } from '../../src/devnet/rollup-expectations.ts';
import { reexecute } from '../../src/governance/index.ts';
import { serializeInputsFile } from '../../src/governance/inputs-file.ts';
import { WORKLOAD_PARAMS } from '../../src/governance/workload.ts';
import { devnetWorkload, type L2DevnetRun, startL2Devnet } from '../../src/l2/devnet.ts';
import { AnvilRpc } from '../../src/l2/driver.ts';
import type { L2ExecutionFault } from '../../src/l2/governance-ingester.ts';
import { addr, Scenario } from '../governance/scenario.ts';
import { testRedis } from './helpers.ts';

const EPOCHS = 5;
const { redis, cleanup } = testRedis();
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-rollup-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await cleanup();
});

type Violation = Extract<L2ExecutionFault, { kind: 'rollup-param-violated' }>;
const violations = (r: L2DevnetRun): Violation[] =>
  r.executionFaults.filter((f): f is Violation => f.kind === 'rollup-param-violated');

type Header = { gasLimit: bigint; baseFeePerGas: bigint };

async function run(o: {
  fault: string;
  seed?: number;
  scenarioFile?: string;
  /** Reads headers of the run's chain before it stops. */
  headers?: (r: L2DevnetRun) => bigint[];
}): Promise<L2DevnetRun & { headers: Header[] }> {
  const { headers: which, ...options } = o;
  const d = await startL2Devnet({ redis, epochs: EPOCHS, ...options });
  try {
    const r = await d.run();
    const rpc = new AnvilRpc(d.rpcUrl);
    const headers: Header[] = [];
    for (const n of which?.(r) ?? []) {
      const h = await rpc.request<{ gasLimit: string; baseFeePerGas: string }>('eth_getBlockByNumber', [
        `0x${n.toString(16)}`,
        false,
      ]);
      headers.push({ gasLimit: BigInt(h.gasLimit), baseFeePerGas: BigInt(h.baseFeePerGas) });
    }
    return { ...r, headers };
  } finally {
    await d.stop();
  }
}

/** The first seed whose devnet workload puts a new gas limit in force within EPOCHS epochs (searched). */
function seedWithGasLimitChange(): number {
  for (let seed = 1; seed <= 80; seed++) {
    const w = devnetWorkload({ seed, epochs: EPOCHS });
    const r = reexecute(w.inputs, { genesis: w.genesis });
    if (r.state.params.l2GasLimit !== w.genesis.params?.l2GasLimit) return seed;
  }
  throw new Error('no seed in 1..80 changes the gas limit');
}

describe('rollup parameters on the devnet chain', () => {
  const seed = seedWithGasLimitChange();

  it('an honest sequencer applies every voted change and Vigil reports nothing', async () => {
    const r = await run({ fault: 'none', seed });
    expect(r.executionFaults).toEqual([]);
    expect(r.sequencerDeviations).toEqual([]);
  }, 120_000);

  it.each(['rollup-param-ignored', 'rollup-param-early'])(
    '%s: Vigil reports the first block that breaks the gas limit, as the sequencer recorded it',
    async (fault) => {
      const r = await run({ fault, seed });
      expect(r.sequencerDeviations.length).toBeGreaterThan(0);
      const first = r.sequencerDeviations[0];
      const got = violations(r).find((v) => v.param === first?.param);
      expect(got && { block: got.block, voted: got.voted, observed: got.observed }).toEqual({
        block: first?.block,
        voted: first?.inForce,
        observed: first?.observed,
      });
      expect(judgeL2Faults(r.executionFaults, r.sequencerDeviations).problems).toEqual([]);
      expect(r.epochs.every((e) => e.agrees)).toBe(true); // the operator's roots are right all along
    },
    120_000,
  );

  describe('a scenario that raises the gas limit and the base fee floor in one proposal', () => {
    const A = addr('aa');
    const NEW_GAS_LIMIT = WORKLOAD_PARAMS.l2GasLimit + 5n;
    const FLOOR = 1_000_000_000_000n; // above anvil's natural base fee, so ignoring it shows
    let file: string;
    beforeAll(() => {
      const s = new Scenario({ l2GasLimit: WORKLOAD_PARAMS.l2GasLimit });
      s.at(1).validator(A, 1000n);
      s.at(2);
      const id = s.propose(A, [
        { kind: 'setParameter', key: 'l2GasLimit', value: NEW_GAS_LIMIT },
        { kind: 'setParameter', key: 'minBaseFee', value: FLOOR },
      ]);
      s.at(3).vote(A, id, 'for');
      s.at(13).queue(id);
      expect(s.at(18).execute(id).accepted).toBe(true);
      s.at(20).stake(A, 1n);
      s.at(22).endEpoch();
      s.at(25).stake(A, 1n);
      s.at(27).endEpoch();
      expect(s.outcomes.every((o) => o.accepted)).toBe(true);
      expect(s.state.params.l2GasLimit).toBe(NEW_GAS_LIMIT);
      file = join(dir, 'raise.json');
      writeFileSync(file, serializeInputsFile({ genesis: s.genesis, inputs: s.inputs }));
    });

    /** Chain blocks of the scenario's execute (workload block 18) and first endEpoch (22). */
    const blocks = (r: L2DevnetRun) => {
      const end = r.epochs[0]?.block as bigint;
      return { execute: end - 4n, end };
    };

    it('honest: from the block after the endEpoch the headers carry both, and nothing is reported', async () => {
      const r = await run({
        fault: 'none',
        scenarioFile: file,
        headers: (x) => [blocks(x).execute + 1n, blocks(x).end, blocks(x).end + 1n, blocks(x).end + 5n],
      });
      expect(r.epochs.length).toBe(2);
      const [afterExecute, endBlock, next, later] = r.headers;
      expect(afterExecute?.gasLimit).toBe(WORKLOAD_PARAMS.l2GasLimit);
      expect(endBlock?.gasLimit).toBe(WORKLOAD_PARAMS.l2GasLimit);
      expect(next?.gasLimit).toBe(NEW_GAS_LIMIT);
      expect(later?.gasLimit).toBe(NEW_GAS_LIMIT);
      expect((next?.baseFeePerGas ?? 0n) >= FLOOR && (later?.baseFeePerGas ?? 0n) >= FLOOR).toBe(true);
      expect((endBlock?.baseFeePerGas ?? FLOOR) < FLOOR).toBe(true);
      expect(r.executionFaults).toEqual([]);
      expect(r.sequencerDeviations).toEqual([]);
    }, 120_000);

    it('ignored: both parameters are reported at the block after the endEpoch that put them in force', async () => {
      const r = await run({ fault: 'rollup-param-ignored', scenarioFile: file });
      const { end } = blocks(r);
      const first = (p: string) => violations(r).find((v) => v.param === p);
      expect(first('l2GasLimit')).toMatchObject({
        block: end + 1n,
        voted: NEW_GAS_LIMIT,
        observed: WORKLOAD_PARAMS.l2GasLimit,
      });
      expect(first('minBaseFee')).toMatchObject({ block: end + 1n, voted: FLOOR });
      expect((first('minBaseFee')?.observed ?? FLOOR) < FLOOR).toBe(true);
      expect(judgeL2Faults(r.executionFaults, r.sequencerDeviations).problems).toEqual([]);
    }, 120_000);

    it('early: the gas limit is reported at the block after the execute; a higher floor applied early breaks nothing', async () => {
      const r = await run({ fault: 'rollup-param-early', scenarioFile: file });
      const { execute } = blocks(r);
      const v = violations(r);
      expect(v[0]).toMatchObject({
        block: execute + 1n,
        param: 'l2GasLimit',
        voted: WORKLOAD_PARAMS.l2GasLimit,
        observed: NEW_GAS_LIMIT,
      });
      // Once the endEpoch puts the change in force the chain is right again.
      expect(v.every((x) => x.block <= blocks(r).end)).toBe(true);
      expect(v.some((x) => x.param === 'minBaseFee')).toBe(false);
      expect(judgeL2Faults(r.executionFaults, r.sequencerDeviations).problems).toEqual([]);
    }, 120_000);
  });
});
