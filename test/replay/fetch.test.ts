/**
 * `vigil replay fetch` against real parts and no Vigil state: a devnet L2 on anvil whose operator runs a
 * faulty executor (so its epoch-0 commitment is wrong), and a simnet on which that operator kicked off
 * epoch 0 with its wrong root, a challenge answered it and the operator asserted. The bundle carries the
 * epoch's history (its re-execution gives the reference root), the operator's commitment, the kick-off
 * and every dispute transaction, and replays offline to the fault; the run from the configuration and the
 * command write it, and the missing pieces (an epoch not ended, no graph, a graph of another epoch, no
 * kick-off) are specific errors.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CoreRpcBackend } from '../../src/bitcoin/backends/core-rpc.ts';
import { type Simnet, startSimnet } from '../../src/bitcoin/simnet/start.ts';
import { taprootOutput } from '../../src/bitcoin/taproot/output.ts';
import { txid, txidHex } from '../../src/bitcoin/tx/serialize.ts';
import { SIGHASH_DEFAULT } from '../../src/bitcoin/tx/sighash.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { VigilConfig } from '../../src/config/schema.ts';
import { bytesToHex, hexToBytes, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import { buildChallenge, signKeyPathInput } from '../../src/dispute/graph/challenge.ts';
import { graphToDocument } from '../../src/dispute/graph/document.ts';
import { defaultGraphParameters } from '../../src/dispute/graph/parameters.ts';
import { completeAssert, completeKickoff } from '../../src/dispute/graph/spend.ts';
import { reexecute } from '../../src/governance/index.ts';
import { serializeInputsFile } from '../../src/governance/inputs-file.ts';
import type { L2Entry } from '../../src/l2/decode.ts';
import { devnetWorkload, type L2Devnet, type L2DevnetRun, startL2Devnet } from '../../src/l2/devnet.ts';
import { MemoryJournalStore } from '../../src/l2/memory-journal-store.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { BUNDLE_VERSION } from '../../src/replay/bundle.ts';
import { parseBundle } from '../../src/replay/bundle-codec.ts';
import { replayBundle } from '../../src/replay/engine.ts';
import {
  fetchDisputeBundle,
  ingestProgressReporter,
  ReplayFetchGraphError,
  ReplayFetchNoGraphError,
  ReplayFetchNoKickoffError,
  runReplayFetch,
} from '../../src/replay/fetch.ts';
import { EpochNotEndedError } from '../../src/verify/epoch.ts';
import { graphExpectationsFromConfig } from '../../src/watcher/from-config.ts';
import { graphFileName } from '../../src/watcher/graph-registry.ts';
import { type GraphFixture, makeGraph, secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';
import { runCli } from '../cli/run-cli.ts';

// Seed 12: the power-cap fault changes epoch 0's root (test/verify/epoch.test.ts finds the same).
const SEED = 12;
const EPOCHS = 2;
const FAULT = 'power-cap-not-applied';
const params = defaultGraphParameters.regtest;
const p2tr = (label: string) => taprootOutput(xOnly(secretOf(label))).scriptPubKey;
const miner = p2tr('miner');

let redis: Redis;
let devnet: L2Devnet;
let run: L2DevnetRun;
let sim: Simnet;
let dir: string;
let config: VigilConfig;
const env: Record<string, string> = {};
/** The dispute of epoch 0 on simnet. */
let fx: GraphFixture;
let dispute: { funding: Tx; kickoff: Tx; challenge: Tx; assert: Tx };

/** The operator's epoch-0 claim, its kick-off revealing `root`, a two-coin challenge and the assert. */
function disputeOnSimnet(root: Uint8Array): typeof dispute {
  const chain = sim.chain;
  const funderScript = p2tr('funder');
  chain.mine(funderScript);
  for (let i = 0; i < 100; i++) chain.mine(miner);
  const coinbase = chain.blockAt(chain.height - 100)?.txs[0]?.tx as Tx;
  const subsidy = coinbase.outputs[0]?.value as bigint;
  const claimValue = params.stake + 2n * params.connectorValue + params.fees.kickoff;
  const funding: Tx = {
    version: 2,
    locktime: 0,
    inputs: [
      { prevTxid: txid(coinbase), vout: 0, scriptSig: new Uint8Array(), sequence: 0xfffffffd, witness: [] },
    ],
    outputs: [
      { value: claimValue, script: makeGraph({ epoch: 0n }).graph.outputs.claim.scriptPubKey },
      { value: 1_800_000n, script: p2tr('challenger') },
      { value: subsidy - claimValue - 1_800_000n - 10_000n, script: funderScript },
    ],
  };
  signKeyPathInput(
    { tx: funding, prevouts: [{ value: subsidy, script: funderScript }] },
    0,
    secretOf('funder'),
    SIGHASH_DEFAULT,
  );
  chain.acceptTx(funding);
  chain.mine(miner);
  fx = makeGraph({ epoch: 0n, claimTxid: txid(funding), claimVout: 0 });
  const kickoff = completeKickoff(fx.graph, fx.operatorSecret, fx.kickoffSecrets, {
    stateRoot: root,
    l2BlockHash: sha256(utf8('l2 block')),
  }).tx;
  chain.acceptTx(kickoff);
  chain.mine(miner);
  const coin = { txid: txid(funding), vout: 1, prevout: { value: 1_800_000n, script: p2tr('challenger') } };
  const c = buildChallenge(fx.graph, fx.sigs, [coin], [{ value: 490_000n, script: p2tr('challenger') }]);
  signKeyPathInput(c, 1, secretOf('challenger'));
  chain.acceptTx(c.tx);
  chain.mine(miner);
  const r = (label: string) => sha256(utf8(label));
  const assert = completeAssert(fx.graph, fx.sigs, fx.traceSecrets, [r('r0'), r('r1'), root]).tx;
  chain.acceptTx(assert);
  chain.mine(miner);
  return { funding, kickoff, challenge: c.tx, assert };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-replay-fetch-'));
  mkdirSync(join(dir, 'graphs'));
  redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 3 });
  sim = await startSimnet();
  env.FETCH_TEST_BTC_PASSWORD = sim.rpcAuth.password;
  devnet = await startL2Devnet({ redis, epochs: EPOCHS, seed: SEED, fault: FAULT });
  run = await devnet.run();
  const genesis = devnetWorkload({ seed: SEED, epochs: EPOCHS }).genesis;
  writeFileSync(join(dir, 'genesis.json'), serializeInputsFile({ genesis, inputs: [] }));
  dispute = disputeOnSimnet(hexToBytes(run.epochs[0]?.committedRoot as string));
  writeFileSync(join(dir, 'graphs', graphFileName(0n)), JSON.stringify(graphToDocument(fx.graph, fx.sigs)));
  const a = run.deployment.addresses;
  const file = join(dir, 'vigil.yaml');
  writeFileSync(
    file,
    stringify({
      l2: {
        rpcUrls: [run.rpcUrl],
        chainId: 31337,
        confirmations: 0,
        startBlock: Number(run.deployment.startBlock),
        genesisFile: join(dir, 'genesis.json'),
        requestTimeoutMs: 2000,
        contracts: {
          token: a.token,
          staking: a.staking,
          governor: a.governor,
          paramRegistry: a.registry,
          epochManager: a.epochManager,
          stateCommitment: a.stateCommitment,
        },
      },
      redis: { url: 'redis://127.0.0.1:1' },
      bitcoin: {
        backend: 'core-rpc',
        url: sim.rpcUrl,
        network: 'regtest',
        auth: { user: sim.rpcAuth.user, passwordEnv: 'FETCH_TEST_BTC_PASSWORD' },
      },
      dispute: {
        graphDir: join(dir, 'graphs'),
        operatorKey: bytesToHex(fx.graph.spec.operator),
        committeeKeys: fx.graph.spec.committee.map((k) => bytesToHex(k)),
      },
    }),
  );
  config = loadConfig({ file, env }).config;
}, 120_000);

afterAll(async () => {
  await devnet?.stop();
  await sim?.stop();
  redis?.disconnect();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** fetchDisputeBundle's L2 and Bitcoin parts, with a fresh in-memory journal. */
function parts() {
  return {
    rpc: new L2Rpc({ urls: [run.rpcUrl] }),
    deployment: {
      addresses: run.deployment.addresses,
      startBlock: run.deployment.startBlock,
      genesis: devnetWorkload({ seed: SEED, epochs: EPOCHS }).genesis,
    },
    store: new MemoryJournalStore<L2Entry>(),
    confirmations: 0,
    chainId: 31337,
    backend: new CoreRpcBackend({ url: sim.rpcUrl, auth: sim.rpcAuth, retry: { attempts: 1 } }),
  };
}

const graphOf = (g: GraphFixture) => ({
  document: graphToDocument(g.graph, g.sigs),
  name: 'test graph',
  expectations: graphExpectationsFromConfig(config),
});

describe('vigil replay fetch, from the two chains alone', () => {
  it("epoch 0's bundle: the history that re-executes to the reference root, the wrong commitment, the dispute", async () => {
    const story = run.epochs[0];
    expect(story?.agrees).toBe(false);
    const b = await fetchDisputeBundle({ ...parts(), epoch: 0n, graph: graphOf(fx) });
    expect(b).toMatchObject({ version: BUNDLE_VERSION, source: 'chains', epoch: 0n, watcher: undefined });
    // Epoch 0: its inputs are the history since genesis, the first of them its first.
    expect(b.governance.epochStart).toBe(0);
    const workload = devnetWorkload({ seed: SEED, epochs: EPOCHS }).inputs;
    const firstEnd = workload.findIndex((i) => i.kind === 'endEpoch');
    expect(b.governance.inputs).toHaveLength(firstEnd + 1);
    expect(b.governance.inputs.map((i) => i.kind)).toEqual(
      workload.slice(0, firstEnd + 1).map((i) => i.kind),
    );
    const { root } = reexecute(b.governance.inputs, { genesis: b.governance.genesis });
    expect(`0x${bytesToHex(root)}`).toBe(story?.referenceRoot);

    expect(b.l2).toMatchObject({ chainId: 31337, epochEndBlock: story?.block });
    expect(b.l2.epochEndBlockHash).toMatch(/^0x[0-9a-f]{64}$/);
    const header = await new L2Rpc({ urls: [run.rpcUrl] }).header(story?.block as bigint);
    expect(b.l2.epochEndBlockHash).toBe(header.hash.toLowerCase());
    const c = b.l2.commitment;
    expect(`0x${bytesToHex(c?.stateRoot as Uint8Array)}`).toBe(story?.committedRoot);
    expect(c?.kickoffTxid).toBe(story?.kickoffTxid?.slice(2));
    expect(c?.block).toBeGreaterThan(story?.block as bigint);
    const receipt = await new L2Rpc({ urls: [run.rpcUrl] }).receipt(c?.txHash as `0x${string}`);
    expect(receipt.to?.toLowerCase()).toBe(run.deployment.addresses.stateCommitment.toLowerCase());
    expect(receipt.blockNumber).toBe(c?.block);

    expect(b.graph.expectations).toMatchObject({
      network: 'regtest',
      circuit: 'test-identity-v1',
      governedChallengeWindow: params.timelocks.challengeWindow,
      commitment: undefined,
    });
    expect(b.graph.document).toEqual(graphToDocument(fx.graph, fx.sigs));
    expect(b.kickoffTxid).toBe(txidHex(dispute.kickoff));
    expect(b.transactions.map((t) => [t.role, t.txid])).toEqual([
      ['claim', txidHex(dispute.funding)],
      ['kickoff', txidHex(dispute.kickoff)],
      ['challenge', txidHex(dispute.challenge)],
      ['assert', txidHex(dispute.assert)],
    ]);
    for (const t of b.transactions) {
      const onChain = sim.chain.findTx(t.txid);
      expect(t.confirmation).toEqual({
        height: onChain?.block?.height,
        blockHash: onChain?.block?.hash,
      });
    }
    // Offline, the bundle alone: the operator's root is fraud, located at the faulty executor's step.
    const replay = replayBundle(b);
    expect(replay).toMatchObject({
      verdict: { outcome: 'fraud' },
      roots: {
        vigil: story?.referenceRoot,
        kickoff: story?.committedRoot,
        l2Commitment: story?.committedRoot,
      },
      graph: { imported: true },
      chainChecksOk: true,
      divergence: { found: true, fault: FAULT },
    });
  }, 60_000);

  it('from the configuration: the graph found in dispute.graphDir, the bundle written, progress in plain lines', async () => {
    const stderr = new PassThrough();
    let said = '';
    stderr.on('data', (d: Buffer) => {
      said += d.toString();
    });
    const out = join(dir, 'bundle.json');
    const r = await runReplayFetch(config, { epoch: 0n, out, cacheDir: join(dir, 'cache'), env }, { stderr });
    expect(r.out).toBe(out);
    expect(readFileSync(out, 'utf8')).toBe(r.text);
    const back = parseBundle(readFileSync(out, 'utf8'));
    expect(back).toEqual(r.bundle);
    expect(r.bundle.kickoffTxid).toBe(txidHex(dispute.kickoff));
    expect(r.bundle.transactions).toHaveLength(4);
    // Not a terminal: one plain line per tenth, ending at 100%, then the Bitcoin side.
    const lines = said.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('L2 blocks read: ')).at(-1)).toMatch(/^L2 blocks read: 100% /);
    expect(lines.filter((l) => l.startsWith('L2 blocks read: ')).length).toBeLessThanOrEqual(11);
    expect(said).not.toContain('\r');
    expect(lines.at(-1)).toBe(
      `collecting the dispute's Bitcoin transactions from kick-off ${txidHex(dispute.kickoff)}`,
    );
  }, 60_000);

  it('an epoch not ended, no graph, a graph of another epoch, no kick-off: specific errors', async () => {
    const stderr = new PassThrough();
    const notEnded = await fetchDisputeBundle({ ...parts(), epoch: 7n, graph: graphOf(fx) }).catch((e) => e);
    expect(notEnded).toBeInstanceOf(EpochNotEndedError);
    expect(notEnded.shortMessage).toMatch(/^epoch 7 has not ended on the L2 ingested through block \d+$/);

    const noGraph = await runReplayFetch(config, { epoch: 1n, cacheDir: false, env }, { stderr }).catch(
      (e) => e,
    );
    expect(noGraph).toBeInstanceOf(ReplayFetchNoGraphError);
    expect(noGraph.shortMessage).toBe('no operator graph for epoch 1');
    expect(noGraph.category).toBe('usage');
    const absent = join(dir, 'absent.json');
    const noFile = await runReplayFetch(config, { epoch: 1n, graph: absent, env }, { stderr }).catch(
      (e) => e,
    );
    expect(noFile).toBeInstanceOf(ReplayFetchNoGraphError);
    expect(noFile.shortMessage).toBe(`the graph file ${absent} does not exist`);

    const other = await fetchDisputeBundle({ ...parts(), epoch: 1n, graph: graphOf(fx) }).catch((e) => e);
    expect(other).toBeInstanceOf(ReplayFetchGraphError);
    expect(other.shortMessage).toMatch(/^the operator's graph test graph is refused: /);

    // Epoch 1's graph, whose claim output nobody spent.
    const unspent = makeGraph({ epoch: 1n });
    const none = await fetchDisputeBundle({ ...parts(), epoch: 1n, graph: graphOf(unspent) }).catch((e) => e);
    expect(none).toBeInstanceOf(ReplayFetchNoKickoffError);
    expect(none.shortMessage).toBe('epoch 1 has no kick-off on Bitcoin');
    expect(none.category).toBe('usage');
  }, 60_000);

  it('the command: vigil replay fetch writes the bundle (a file or stdout); an epoch not ended is exit 2', async () => {
    const cliEnv = { ...env, XDG_CACHE_HOME: join(dir, 'xdg-cache') };
    const config = join(dir, 'vigil.yaml');
    const out = join(dir, 'cli-bundle.json');
    const written = await runCli(['replay', 'fetch', '-c', config, '--epoch', '0', '-o', out], {
      env: cliEnv,
    });
    expect(written.code, written.stderr).toBe(0);
    expect(written.stderr).toContain(`wrote ${out}`);
    const b = parseBundle(readFileSync(out, 'utf8'));
    expect(b.kickoffTxid).toBe(txidHex(dispute.kickoff));
    expect(b.transactions.map((t) => t.role)).toEqual(['claim', 'kickoff', 'challenge', 'assert']);
    const printed = await runCli(['replay', 'fetch', '-c', config, '--epoch', '0'], { env: cliEnv });
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toBe(readFileSync(out, 'utf8'));
    // Given a graph file: the L2 is read, and the epoch has not ended on it.
    const graph = join(dir, 'graphs', graphFileName(0n));
    const future = await runCli(['replay', 'fetch', '-c', config, '--epoch', '9', '--graph', graph], {
      env: cliEnv,
    });
    expect(future.code).toBe(2);
    expect(future.stderr).toContain('epoch 9 has not ended');
  }, 60_000);

  it('on a terminal the progress is one bar redrawn in place', () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true });
    let said = '';
    stream.on('data', (d: Buffer) => {
      said += d.toString();
    });
    const bar = ingestProgressReporter(stream);
    bar.update({ start: 10n, cursor: 10n, head: 110n });
    bar.update({ start: 10n, cursor: 60n, head: 110n });
    bar.update({ start: 10n, cursor: 110n, head: 110n });
    bar.done();
    expect(said).toBe(
      `\rL2 blocks [${'.'.repeat(30)}] 10/110` +
        `\rL2 blocks [${'#'.repeat(15)}${'.'.repeat(15)}] 60/110` +
        `\rL2 blocks [${'#'.repeat(30)}] 110/110\n`,
    );
  });
});
