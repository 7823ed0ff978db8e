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
import { addressForScript } from '../../src/bitcoin/codec/address.ts';
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
import { bondCoinMinimum, claimParameters } from '../../src/dispute/game/claim-parameters.ts';
import { completeKickoff } from '../../src/dispute/game/claim-spend.ts';
import { collectGamePresignatures, presignGame } from '../../src/dispute/game/game-spend.ts';
import { GameStore } from '../../src/dispute/records/game-store.ts';
import { type BondCoin, createBundlePoster } from '../../src/l2/bundle-poster.ts';
import {
  type ClaimRegistration,
  encodeBundleKeys,
  readClaimRegistration,
} from '../../src/l2/challenger-registry.ts';
import { createClaimFollower } from '../../src/l2/claim-follower.ts';
import { challengerRegistryAbi, epochManagerAbi } from '../../src/l2/contracts/artifacts/abis.ts';
import type { Deployment } from '../../src/l2/deploy.ts';
import { DEVNET_DEPLOYER, DEVNET_OPERATOR } from '../../src/l2/devnet.ts';
import { l2Sender } from '../../src/l2/registry-sender.ts';
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
/** Anvil's dev account #2 (0x3C44…93BC), Vigil's L2 account: the watcher registers and posts from it. */
const VIGIL_L2_KEY = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';
const WALLET_SECRET = sha256(utf8('vigil claim-games test wallet'));
const identity = challengerIdentity((tag) => WalletKey.fromBytes(WALLET_SECRET).derivedSecret(tag));
const VIGIL_L2_ADDRESS = '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc';
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
  // Vigil's watcher sees the claim list its key and posts its bundle: the operator builds on that.
  let reg: ClaimRegistration | undefined;
  for (let i = 0; i < 200 && (reg?.bundles.length ?? 0) === 0; i++) {
    await settle(50);
    reg = await readClaimRegistration(pub, registry, epoch, {
      fromBlock: dep.startBlock,
      toBlock: await pub.getBlockNumber({ cacheTime: 0 }),
    });
  }
  const posted = reg?.bundles[0];
  if (posted === undefined) throw new Error(`Vigil posted no bundle for epoch ${epoch}`);
  const ours = bundleKeysOf(
    identity,
    challengerScope(identity, shape, {
      network: 'regtest',
      operator: fx.spec.operator,
      epoch,
      instance: REGISTRY_CLAIM_INSTANCE,
    }),
  );
  expect(bytesToHex(posted.keys)).toBe(bytesToHex(encodeBundleKeys(ours, shape)));
  // One of Vigil's coins at its bond address (a coin no claim still open names).
  expect(posted.bondCoin.value).toBe(bond);
  const spec = fundedSpec(fx, { txid: fundingTxid, vout: 0 }, [posted.bondCoin]);
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

async function watcherOn(
  sim: Simnet,
  dir: string,
  prefix = `{vigil-claims-${Date.now()}-${Math.random().toString(36).slice(2)}}`,
) {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const metrics = new Registry();
  const lines: { msg: string; epoch?: string; outcome?: string }[] = [];
  const backend = new EsploraBackend({ baseUrl: sim.esploraUrl, retry: { attempts: 1 } });
  const params = claimParameters('regtest');
  const fx = makeClaimFixture({ shape, challengers: 1 });
  const bondAddress = addressForScript(bondCoinScript(identity), 'regtest') as string;
  const poster = createBundlePoster({
    read: (_what, fn) => fn(pub),
    ...l2Sender({ url: on.anvil.rpcUrl, secret: VIGIL_L2_KEY, registry, timeoutMs: 5_000 }),
    address: registry,
    identity,
    shape,
    claimOf: (epoch) => ({
      network: 'regtest',
      operator: fx.spec.operator,
      epoch,
      instance: REGISTRY_CLAIM_INSTANCE,
    }),
    bondCoins: async () => (await backend.getUtxos(bondAddress)).filter((u) => u.confirmed),
    bondMinimum: bondCoinMinimum(params),
  });
  const follower = createClaimFollower({
    read: (_what, fn) => fn(pub),
    address: registry,
    startBlock: dep.startBlock,
    confirmations: 1,
  });
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
      poster,
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
  // Vigil registers its challenger key on its first poll: only then do claims list it.
  for (let i = 0; i < 200; i++) {
    const owner = await pub.readContract({
      address: registry,
      abi: challengerRegistryAbi,
      functionName: 'ownerOf',
      args: [hex(identity.key)],
    });
    if (owner.toLowerCase() === VIGIL_L2_ADDRESS) break;
    await settle(50);
  }
  return {
    watcher,
    prefix,
    games: new GameStore(redis, prefix),
    lines,
    /** Stops this process as a restart would: Redis keeps everything. */
    async halt() {
      await watcher.stop(new AbortController().signal);
      await redis.quit();
    },
    async stop() {
      await watcher.stop(new AbortController().signal);
      await deleteKeysByPrefix(redis, prefix);
      await redis.quit();
    },
  };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the watcher opens and plays the claims of the challenger registry', () => {
  it('a false claim: Vigil opens its game from the registry and the published document, and plays it to the slash, through a restart', async () => {
    let now = 1_700_000_000;
    const sim = await startSimnet({ clock: () => (now += 600) });
    const dir = mkdtempSync(join(tmpdir(), 'vigil-claims-'));
    let v = await watcherOn(sim, dir);
    const first = v.lines;
    let restarted = false;
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
        // Mid-game, Vigil restarts: the new process holds nothing but Redis and reads the rest again.
        if (!restarted && rec?.state === 'playing' && (rec.progress?.moves ?? 0) >= 3) {
          restarted = true;
          await v.halt();
          v = await watcherOn(sim, dir, v.prefix);
          trail.push(`${sim.chain.height}: Vigil restarted`);
        }
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
      expect(restarted, why).toBe(true);
      // The first process opened the game; the restarted one found it open and played it on.
      expect(first.some((l) => l.msg === 'a false claim: Vigil plays its game')).toBe(true);
      expect(v.lines.some((l) => l.msg === 'a false claim: Vigil plays its game')).toBe(false);
      expect(v.lines.some((l) => l.msg === 'a false claim whose game is already open')).toBe(true);
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
        i < 200 && !(judged('1', 'valid') && v.lines.some((l) => /HASH_MISMATCH/.test(l.msg)));
        i++
      )
        await settle(50);
      expect(judged('1', 'valid')).toBe(true);
      expect(v.lines.some((l) => l.epoch === '2' && /HASH_MISMATCH/.test(l.msg))).toBe(true);
      expect((await v.games.listAll()).records).toEqual([]);

      writeFileSync(wrong.path, wrong.document);
      // The record opens within the poll, the log line after it: wait for both.
      let records = (await v.games.listAll()).records;
      for (let i = 0; i < 200 && (records.length === 0 || !judged('2', 'fraud')); i++) {
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

  it('the bundle poster: a squatted key is an error that says so; no bond coin or a closed window posts nothing', async () => {
    const squatter: Address = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
    const other = challengerIdentity((tag) => sha256(utf8(`a squatted identity ${tag}`)));
    await call(squatter, registry, challengerRegistryAbi as Abi, 'register', [hex(other.key)]);
    const fx = makeClaimFixture({ shape, challengers: 1 });
    const posterOf = (id: typeof identity, coins: BondCoin[]) =>
      createBundlePoster({
        read: (_what, fn) => fn(pub),
        ...l2Sender({ url: on.anvil.rpcUrl, secret: VIGIL_L2_KEY, registry, timeoutMs: 5_000 }),
        address: registry,
        identity: id,
        shape,
        claimOf: (epoch) => ({ network: 'regtest', operator: fx.spec.operator, epoch, instance: 0 }),
        bondCoins: async () => coins,
        bondMinimum: bondCoinMinimum(claimParameters('regtest')),
      });
    await expect(posterOf(other, []).ensureRegistered()).rejects.toThrow(
      /is registered to 0x90f79bf6eb2c4f870365e785982e1f101e93b906, not to its L2 account/,
    );
    // Vigil's own key is registered to its account already: nothing is sent.
    const vigil = posterOf(identity, []);
    expect(await vigil.ensureRegistered()).toBe('already');

    // A claim listing Vigil (and the squatter), with no coin at Vigil's bond address big enough.
    await endEpoch();
    const epoch = 3n;
    await call(DEVNET_OPERATOR, registry, challengerRegistryAbi as Abi, 'openClaim', [
      epoch,
      `0x${'cd'.repeat(32)}`,
      0,
    ]);
    const read = async () =>
      (await readClaimRegistration(pub, registry, epoch, {
        fromBlock: dep.startBlock,
        toBlock: await pub.getBlockNumber({ cacheTime: 0 }),
      })) as ClaimRegistration;
    const small: BondCoin = { txid: 'ee'.repeat(32), vout: 0, value: 1_000n };
    expect(await posterOf(identity, [small]).post([await read()])).toMatchObject([
      { epoch, outcome: 'no-bond-coin' },
    ]);
    // Past the bundle window: nothing is posted, and it says why.
    await pub.request({ method: 'anvil_mine' as never, params: ['0x40'] as never });
    const coin: BondCoin = { txid: 'ef'.repeat(32), vout: 1, value: 5_000_000n };
    expect(await posterOf(identity, [coin]).post([await read()])).toMatchObject([
      { epoch, outcome: 'window-closed' },
    ]);
    expect((await read()).bundles).toEqual([]);
  }, 60_000);
});
