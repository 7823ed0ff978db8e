/**
 * `vigil watch` and the narrowing game, end to end on real parts: the L2's challenger registry on anvil,
 * the simnet behind its Esplora front, Redis and the dispute queue. Vigil's key (derived from its wallet
 * key) is registered, its bundle posted for the claim; the operator opens the claim, builds its graph on
 * the bundles, commits the document's hash, publishes it as `claim-<epoch>.json` and kicks off. The
 * watcher reads the registry, imports the document, judges the kick-off and, on a false root, opens its
 * game and plays it through the game job against an operator that answers every round, to the operator's
 * slash. An honest claim is judged valid and opens nothing; a document that is not the committed one is
 * refused until the committed one is published.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Abi, Address, PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EsploraBackend } from '../../src/bitcoin/backends/esplora.ts';
import { type Simnet, startSimnet } from '../../src/bitcoin/simnet/start.ts';
import { taprootOutput } from '../../src/bitcoin/taproot/output.ts';
import { hashToDisplayHex, txid, txidHex } from '../../src/bitcoin/tx/serialize.ts';
import { WalletKey } from '../../src/bitcoin/wallet/keys.ts';
import { bytesToHex, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import {
  bondCoinScript,
  bundleKeysOf,
  challengerIdentity,
  challengerScope,
} from '../../src/dispute/game/challenger-identity.ts';
import { claimDocumentHash, claimGraphToDocument } from '../../src/dispute/game/claim-document.ts';
import { buildClaimGraph, claimOutput } from '../../src/dispute/game/claim-graph.ts';
import { claimParameters } from '../../src/dispute/game/claim-parameters.ts';
import { completeKickoff } from '../../src/dispute/game/claim-spend.ts';
import { collectGamePresignatures, presignGame } from '../../src/dispute/game/game-spend.ts';
import { GameStore } from '../../src/dispute/records/game-store.ts';
import { encodeBundleKeys } from '../../src/l2/challenger-registry.ts';
import { createClaimFollower } from '../../src/l2/claim-follower.ts';
import { challengerRegistryAbi, epochManagerAbi } from '../../src/l2/contracts/artifacts/abis.ts';
import type { Deployment } from '../../src/l2/deploy.ts';
import { DEVNET_DEPLOYER, DEVNET_OPERATOR } from '../../src/l2/devnet.ts';
import { wordBytes } from '../../src/machine/isa.ts';
import { HealthRegistry } from '../../src/observability/health.ts';
import { deleteKeysByPrefix } from '../../src/store/redis.ts';
import { claimDocumentReader } from '../../src/watcher/claim-documents.ts';
import { type EpochTape, REGISTRY_CLAIM_INSTANCE } from '../../src/watcher/claim-games.ts';
import { createWatcher, type Watcher } from '../../src/watcher/watcher.ts';
import { mineCoins, out, spend } from '../../testkit/bitcoin/simnet/fixture.ts';
import {
  bondCoinValue,
  fundedSpec,
  kickoffSignaturesOf,
  makeClaimFixture,
} from '../../testkit/dispute/claim-fixture.ts';
import { type RegistryOnAnvil, registryOnAnvil } from '../../testkit/l2/registry-on-anvil.ts';
import { REDIS_URL } from '../../testkit/queue/scenario.ts';
import { operatorActs } from '../challenger/game-play-setup.ts';
import { MINER } from '../dispute/game/chain-play.ts';
import { L2_BLOCK } from '../dispute/game/claim-chain.ts';
import { smallEpoch } from '../dispute/game/setup.ts';

const shape = claimParameters('regtest').shape;
const epochRun = smallEpoch();
const FALSE_ROOT = epochRun.honest.result ^ 1n;
/** Anvil's dev account standing for Vigil's L2 account (posting the bundle is not built into the daemon). */
const VIGIL_L2: Address = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const WALLET_SECRET = sha256(utf8('vigil claim-games test wallet'));
const identity = challengerIdentity((tag) => WalletKey.fromBytes(WALLET_SECRET).derivedSecret(tag));
const hex = (b: Uint8Array) => `0x${bytesToHex(b)}` as const;

let on: RegistryOnAnvil;
let dep: Deployment;
let registry: Address;
let pub: PublicClient;

const call = (...args: Parameters<RegistryOnAnvil['call']>) => on.call(...args);
const endEpoch = () =>
  call(DEVNET_DEPLOYER, dep.addresses.epochManager, epochManagerAbi as Abi, 'endEpoch', []);

beforeAll(async () => {
  on = await registryOnAnvil({ shape, bundleWindow: 50n, maxChallengers: 10 });
  ({ dep, registry, pub } = on);
  await call(VIGIL_L2, registry, challengerRegistryAbi as Abi, 'register', [hex(identity.key)]);
}, 60_000);

afterAll(async () => {
  await on?.anvil.stop();
});

/** One claim of `epoch` on the simnet and the registry, Vigil its one challenger, up to its kick-off. */
async function claimOn(sim: Simnet, epoch: bigint, dir: string, root: bigint, publish = true) {
  await endEpoch();
  const fx = makeClaimFixture({
    shape,
    challengers: 1,
    epoch,
    identities: [identity],
    agreedImageRoot: epochRun.tape.imageRoot,
  });
  const chain = sim.chain;
  const [coin] = mineCoins(chain, 1);
  if (coin === undefined) throw new Error('no coin');
  for (let i = 0; i < 100; i++) chain.mine(MINER);
  const claim = claimOutput(fx.spec);
  const bond = bondCoinValue(fx.spec.values);
  const funding = spend({
    coins: [coin],
    outputs: [
      out(claim.value, claim.output.scriptPubKey),
      out(bond, bondCoinScript(identity)),
      out(100_000_000n, taprootOutput(fx.spec.operator).scriptPubKey),
      out(coin.value - claim.value - bond - 100_000_000n - 10_000n),
    ],
  });
  chain.acceptTx(funding.tx);
  chain.mine(MINER);
  const fundingTxid = txid(funding.tx);
  await call(DEVNET_OPERATOR, registry, challengerRegistryAbi as Abi, 'openClaim', [
    epoch,
    `0x${hashToDisplayHex(fundingTxid)}`,
    0,
  ]);
  // Vigil's bundle: the keys its seed derives for this claim, and its bond coin.
  const keys = bundleKeysOf(
    identity,
    challengerScope(identity, shape, {
      network: 'regtest',
      operator: fx.spec.operator,
      epoch,
      instance: REGISTRY_CLAIM_INSTANCE,
    }),
  );
  await call(VIGIL_L2, registry, challengerRegistryAbi as Abi, 'postBundle', [
    epoch,
    0,
    `0x${hashToDisplayHex(fundingTxid)}`,
    1,
    bond,
    hex(encodeBundleKeys(keys, shape)),
  ]);
  const spec = fundedSpec(fx, { txid: fundingTxid, vout: 0 }, [{ txid: fundingTxid, vout: 1 }]);
  const built = buildClaimGraph(spec);
  const presign = (g: Parameters<typeof presignGame>[0]) =>
    collectGamePresignatures(
      g,
      fx.secrets.covenant.map((s) => presignGame(g, s)),
    );
  const sigs = presign(built);
  const gameSigs = built.games.map(presign);
  const document = claimGraphToDocument(built, { claim: sigs, games: gameSigs });
  await call(DEVNET_OPERATOR, registry, challengerRegistryAbi as Abi, 'commitClaimGraph', [
    epoch,
    hex(claimDocumentHash(document)),
  ]);
  const path = join(dir, `claim-${epoch}.json`);
  if (publish) writeFileSync(path, JSON.stringify(document));
  const kickoff = completeKickoff(
    built,
    fx.secrets.operator,
    kickoffSignaturesOf(fx, {
      root,
      l2BlockHash: L2_BLOCK,
      imageRoot: epochRun.tape.imageRoot,
      inputsRoot: epochRun.tape.inputRoot,
    }),
  );
  chain.acceptTx(kickoff);
  chain.mine(MINER);
  return {
    fx,
    path,
    document: JSON.stringify(document),
    kickoffHeight: chain.height,
    kickoffTxid: txidHex(kickoff),
    c: {
      epoch: epochRun,
      fx,
      chain,
      graph: built,
      sigs,
      gameSigs,
      operatorCoin: { txid: fundingTxid, vout: 2, value: 100_000_000n },
      document: JSON.stringify(document),
    },
  };
}

/** The epoch every claim here is about, as the L2 epoch source would give it. */
const tapeOf = (epoch: bigint): EpochTape => ({
  epoch,
  tape: epochRun.tape,
  preRoot: epochRun.tape.imageRoot,
  root: wordBytes(epochRun.honest.result),
});

async function watcherOn(sim: Simnet, dir: string) {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const prefix = `{vigil-claims-${Date.now()}-${Math.random().toString(36).slice(2)}}`;
  const metrics = new Registry();
  const lines: { msg: string; epoch?: string; outcome?: string }[] = [];
  const backend = new EsploraBackend({ baseUrl: sim.esploraUrl, retry: { attempts: 1 } });
  const follower = createClaimFollower({
    read: (_what, fn) => fn(pub),
    address: registry,
    startBlock: dep.startBlock,
    confirmations: 1,
  });
  const params = claimParameters('regtest');
  const fx = makeClaimFixture({ shape, challengers: 1 });
  const watcher: Watcher = createWatcher({
    redis,
    prefix,
    connection: { host: '127.0.0.1', port: 6379 },
    backend,
    network: 'regtest',
    mode: 'challenge',
    allowMainnetSpending: false,
    walletKey: WalletKey.fromBytes(WALLET_SECRET),
    expectations: undefined,
    source: undefined,
    claims: {
      sync: () => follower.sync(),
      follower,
      documentOf: claimDocumentReader(dir, 64 * 1024 * 1024),
      epochTape: tapeOf,
      params,
      operator: fx.spec.operator,
      committee: fx.spec.covenant.slice(1),
      identity,
    },
    fees: { targetBlocks: 2, maxFeeRateSatVb: 2_000, fallbackSatVb: 1 },
    bitcoinConfirmations: 1,
    l2Confirmations: 1,
    pollIntervalMs: 100,
    deadlineMarginBlocks: 2,
    registry: metrics,
    health: new HealthRegistry(),
    logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) }),
  });
  await watcher.start();
  return {
    watcher,
    games: new GameStore(redis, prefix),
    lines,
    async stop() {
      await watcher.stop(new AbortController().signal);
      await deleteKeysByPrefix(redis, prefix);
      await redis.quit();
    },
  };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the watcher opens and plays the claims of the challenger registry', () => {
  it('a false claim: Vigil opens its game from the registry and the published document, and plays it to the slash', async () => {
    let now = 1_700_000_000;
    const sim = await startSimnet({ clock: () => (now += 600) });
    const dir = mkdtempSync(join(tmpdir(), 'vigil-claims-'));
    const v = await watcherOn(sim, dir);
    try {
      const epoch = 0n;
      const claim = await claimOn(sim, epoch, dir, FALSE_ROOT);
      const backend = new EsploraBackend({ baseUrl: sim.esploraUrl, retry: { attempts: 1 } });
      const s = { c: claim.c, sim, backend, kickoffHeight: claim.kickoffHeight };
      let rec = undefined as Awaited<ReturnType<GameStore['listAll']>>['records'][number] | undefined;
      const trail: string[] = [];
      for (let block = 0; block < 60; block++) {
        await settle(400);
        rec = (await v.games.listAll()).records[0];
        if (rec?.state === 'resolved') break;
        const did = rec === undefined ? undefined : await operatorActs(s);
        if (did !== undefined) trail.push(`${sim.chain.height + 1}: operator ${did}`);
        sim.chain.mine(MINER);
      }
      const why = `${trail.join('\n')}\n${v.lines
        .map((l) => l.msg)
        .slice(-30)
        .join('\n')}`;
      expect(rec, why).toBeDefined();
      expect(rec?.epoch, why).toBe(epoch);
      expect(rec?.w, why).toBe(0);
      expect(rec?.document).toBe(bytesToHex(claimDocumentHash(JSON.parse(claim.document))));
      expect(rec?.state, why).toBe('resolved');
      expect(rec?.outcome, why).toBe('operator-slashed');
      expect(rec?.end, why).toMatchObject({ site: 'reveal', by: 'slash:reveal' });
      expect(v.lines.some((l) => l.msg === 'a false claim: Vigil plays its game')).toBe(true);
    } finally {
      await v.stop();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('an honest claim is judged valid and opens nothing; a document other than the committed one is refused until the committed one is published', async () => {
    let now = 1_700_000_000;
    const sim = await startSimnet({ clock: () => (now += 600) });
    const dir = mkdtempSync(join(tmpdir(), 'vigil-claims-'));
    const v = await watcherOn(sim, dir);
    try {
      const honest = await claimOn(sim, 1n, dir, epochRun.honest.result);
      // Epoch 2's claim is false, but the file published for it is epoch 1's document.
      const wrong = await claimOn(sim, 2n, dir, FALSE_ROOT, false);
      writeFileSync(wrong.path, honest.document);
      const judged = (epoch: string, outcome: string) =>
        v.lines.some((l) => l.msg === 'claim judged' && l.epoch === epoch && l.outcome === outcome);
      for (
        let i = 0;
        i < 100 && !(judged('1', 'valid') && v.lines.some((l) => /HASH_MISMATCH/.test(l.msg)));
        i++
      )
        await settle(50);
      expect(judged('1', 'valid')).toBe(true);
      expect(v.lines.some((l) => l.epoch === '2' && /HASH_MISMATCH/.test(l.msg))).toBe(true);
      expect((await v.games.listAll()).records).toEqual([]);

      writeFileSync(wrong.path, wrong.document);
      let records = (await v.games.listAll()).records;
      for (let i = 0; i < 100 && records.length === 0; i++) {
        await settle(50);
        records = (await v.games.listAll()).records;
      }
      expect(records.map((r) => [r.epoch, r.w])).toEqual([[2n, 0]]);
      expect(judged('2', 'fraud')).toBe(true);
      // The honest claim's kick-off was never challenged: its A_0 is unspent.
      const backend = new EsploraBackend({ baseUrl: sim.esploraUrl, retry: { attempts: 1 } });
      expect((await backend.getOutspend(honest.kickoffTxid, 0)).spent).toBe(false);
    } finally {
      await v.stop();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
