/**
 * `vigil watch` and the narrowing game, end to end on real parts: the L2's challenger registry on anvil,
 * the simnet behind its Esplora front, Redis and the dispute queue. Vigil's key (derived from its wallet
 * key) is registered, its bundle posted for the claim; the operator opens the claim, builds its graph on
 * the bundles, commits the document's hash, publishes it as `claim-<epoch>.json` and kicks off. The
 * watcher reads the registry, imports the document, judges the kick-off and, on a false root, opens its
 * game and plays it through the game job against an operator that answers every round, to the operator's
 * slash. An honest claim is judged valid and opens nothing; a document that is not the committed one is
 * refused until the committed one is published; a claim whose listed challenger never posted imports,
 * funded for W_max with the surplus back on the kick-off's anchor; a claim opened and never committed lapses at
 * the end of the registry's commit window, and Vigil's bond coin is free for the next claim.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Abi, Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EsploraBackend } from '../../src/bitcoin/backends/esplora.ts';
import { startSimnet } from '../../src/bitcoin/simnet/start.ts';
import { hashToDisplayHex } from '../../src/bitcoin/tx/serialize.ts';
import { bytesToHex, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import { challengerIdentity } from '../../src/dispute/game/challenger-identity.ts';
import { claimDocumentHash } from '../../src/dispute/game/claim-document.ts';
import { claimNeedsFor, claimOutput } from '../../src/dispute/game/claim-graph.ts';
import { bondCoinMinimum, claimParameters } from '../../src/dispute/game/claim-parameters.ts';
import type { GameStore } from '../../src/dispute/records/game-store.ts';
import { type BondCoin, type BundlePosterOptions, createBundlePoster } from '../../src/l2/bundle-poster.ts';
import { type ClaimRegistration, readClaimRegistration } from '../../src/l2/challenger-registry.ts';
import { createClaimFollower } from '../../src/l2/claim-follower.ts';
import { challengerRegistryAbi } from '../../src/l2/contracts/artifacts/abis.ts';
import { DEVNET_OPERATOR } from '../../src/l2/devnet.ts';
import { possessionProof } from '../../src/l2/registry-possession.ts';
import { l2Sender } from '../../src/l2/registry-sender.ts';
import { redisClaimDocuments } from '../../src/watcher/claim-ledger.ts';
import { makeClaimFixture } from '../../testkit/dispute/claim-fixture.ts';
import { REDIS_URL } from '../../testkit/queue/scenario.ts';
import { operatorActs } from '../challenger/game-play-setup.ts';
import { MINER } from '../dispute/game/chain-play.ts';

import {
  call,
  claimOn,
  endEpoch,
  epochRun,
  FALSE_ROOT,
  hex,
  identity,
  kickOffOn,
  openClaimOn,
  registryParts,
  settle,
  shape,
  startRegistry,
  stopRegistry,
  VIGIL_L2_KEY,
  watcherOn,
} from './claim-games-harness.ts';

beforeAll(startRegistry, 60_000);
afterAll(stopRegistry);

describe('the watcher opens and plays the claims of the challenger registry', () => {
  it('a false claim: Vigil opens its game from the registry and the published document, and plays it to the slash, through a restart that finds the published document deleted', async () => {
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
        // Mid-game, Vigil restarts: the new process holds nothing but Redis and reads the rest again. The
        // published file is gone meanwhile: the game's own copy of the document, kept in Redis, is played.
        if (!restarted && rec?.state === 'playing' && (rec.progress?.moves ?? 0) >= 3) {
          restarted = true;
          await v.halt();
          rmSync(claim.path);
          v = await watcherOn(sim, dir, v.prefix);
          trail.push(`${sim.chain.height}: Vigil restarted`);
        }
        const did = rec === undefined ? undefined : await operatorActs(s);
        if (did !== undefined) trail.push(`${sim.chain.height + 1}: operator ${did}`);
        sim.chain.mine(MINER);
        // Vigil's reply to a move is its own work, not the chain's (blocks are 10 minutes apart on
        // mainnet): the next block waits for it, so a loaded machine (a restarted process importing the
        // claim and rebuilding its run) does not see its window close in a few hundred milliseconds.
        if (did !== undefined && !did.startsWith('sweep') && rec !== undefined) {
          const sentBefore = rec.sent.size;
          for (let i = 0; i < 200; i++) {
            const now = (await v.games.listAll()).records[0];
            if (now === undefined || now.state === 'resolved' || now.sent.size > sentBefore) break;
            await settle(100);
          }
        }
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

  it('an honest claim is judged valid and opens nothing; a document other than the committed one is refused until the committed one is published, and a copy planted in Redis under its hash does not lock Vigil out', async () => {
    let now = 1_700_000_000;
    const sim = await startSimnet({ clock: () => (now += 600) });
    const dir = mkdtempSync(join(tmpdir(), 'vigil-claims-'));
    const v = await watcherOn(sim, dir);
    try {
      const honest = await claimOn(sim, 1n, dir, epochRun.honest.result);
      // Epoch 2's claim is false, but the file published for it is epoch 1's document.
      const wrong = await claimOn(sim, 2n, dir, FALSE_ROOT, { publish: false });
      writeFileSync(wrong.path, honest.document);
      const judged = (epoch: string, outcome: string) =>
        v.lines.some((l) => l.msg === 'claim judged' && l.epoch === epoch && l.outcome === outcome);
      const alerted = () =>
        v.lines.some(
          (l) => l.epoch === '2' && /^VigilFalseClaimUnchallengeable: .*HASH_MISMATCH/.test(l.msg),
        );
      for (let i = 0; i < 200 && !(judged('1', 'valid') && alerted()); i++) await settle(50);
      expect(judged('1', 'valid')).toBe(true);
      expect(v.lines.some((l) => l.epoch === '2' && /HASH_MISMATCH/.test(l.msg))).toBe(true);
      expect((await v.games.listAll()).records).toEqual([]);
      // Its kick-off is at depth with no graph Vigil can play: alerted at once, and still followed while
      // T_c runs (the committed document may yet be published).
      expect(alerted()).toBe(true);

      // Vigil's own copy, in Redis under the committed hash, is another document (planted, or kept by a
      // Vigil whose rules this one refuses): it is refused, the published file is played, and the copy
      // put right.
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
      const kept = redisClaimDocuments(redis, v.prefix);
      const committed = bytesToHex(claimDocumentHash(JSON.parse(wrong.document)));
      await kept.put(2n, committed, honest.document);
      writeFileSync(wrong.path, wrong.document);
      // The record opens within the poll, the log line after it: wait for both.
      let records = (await v.games.listAll()).records;
      for (let i = 0; i < 200 && (records.length === 0 || !judged('2', 'fraud')); i++) {
        await settle(50);
        records = (await v.games.listAll()).records;
      }
      expect(records.map((r) => [r.epoch, r.w])).toEqual([[2n, 0]]);
      expect(judged('2', 'fraud')).toBe(true);
      expect(
        v.lines.some(
          (l) =>
            l.epoch === '2' &&
            l.msg ===
              "Vigil's own copy of the claim document is refused: the published file is read instead" &&
            /HASH_MISMATCH/.test((l as { reason?: string }).reason ?? ''),
        ),
      ).toBe(true);
      expect(await kept.get(2n, committed)).toBe(wrong.document);
      await redis.quit();
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
    const { on, dep, registry, pub } = registryParts();
    const squatter: Address = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
    const other = challengerIdentity((tag) => sha256(utf8(`a squatted identity ${tag}`)));
    const proof = possessionProof(
      other.secret,
      BigInt(await pub.getChainId()),
      registry,
      squatter,
      other.key,
    );
    await call(squatter, registry, challengerRegistryAbi as Abi, 'register', [
      hex(other.key),
      proof.r,
      proof.s,
    ]);
    const fx = makeClaimFixture({ shape, challengers: 1 });
    const posterOf = (id: typeof identity, coins: BondCoin[], extra: Partial<BundlePosterOptions> = {}) =>
      createBundlePoster({
        read: (_what, fn) => fn(pub),
        ...l2Sender({ url: on.anvil.rpcUrl, secret: VIGIL_L2_KEY, registry, timeoutMs: 5_000 }),
        address: registry,
        identity: id,
        shape,
        claimOf: (epoch) => ({ network: 'regtest', operator: fx.spec.operator, epoch, instance: 0 }),
        bondCoins: async () => coins,
        bondCoinSpent: async () => false,
        bondMinimum: bondCoinMinimum(claimParameters('regtest')),
        ...extra,
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
    const poor = posterOf(identity, [small]);
    expect(await poor.post([await read()])).toMatchObject([{ epoch, outcome: 'no-bond-coin', first: true }]);
    // Tried again on every poll while the claim is followed: logged (and counted) the first time only.
    expect(await poor.post([await read()])).toMatchObject([{ epoch, outcome: 'no-bond-coin', first: false }]);
    // A coin a game holds for its fees (C_w's change, a child's output) is never named while its claim is
    // open, in a block or not; once that claim is judged for good, the hold goes.
    const coin: BondCoin = { txid: 'ef'.repeat(32), vout: 1, value: 5_000_000n };
    const holds = new Map([[`${coin.txid}:${coin.vout}`, 2n]]);
    const holding: BundlePosterOptions['reservations'] = {
      all: async () => new Map(),
      reserve: async () => undefined,
      release: async () => undefined,
      held: async () => new Map(holds),
      releaseHeld: async (c) => {
        holds.delete(c);
      },
    };
    expect(
      await posterOf(identity, [coin], { reservations: holding, settled: async () => false }).post([
        await read(),
      ]),
    ).toMatchObject([{ epoch, outcome: 'no-bond-coin' }]);
    expect(holds.size).toBe(1);
    // A coin a bundle named is let go once the chain shows it spent, never because the backend listed no
    // coins (a lie, a glitch, an index behind): the next claim would then name it too (§24.11 item 32).
    const named: BondCoin = { txid: 'f0'.repeat(32), vout: 2, value: 5_000_000n };
    const names = new Map([[`${named.txid}:${named.vout}`, 2n]]);
    const naming: BundlePosterOptions['reservations'] = {
      all: async () => new Map(names),
      reserve: async (c, e) => {
        names.set(c, e);
      },
      release: async (c) => {
        names.delete(c);
      },
    };
    const asked: string[] = [];
    const spentIs = (answer: boolean) => async (c: { txid: string; vout: number }) => {
      asked.push(`${c.txid}:${c.vout}`);
      return answer;
    };
    const emptyAnswer = { reservations: naming, settled: async () => false };
    expect(
      await posterOf(identity, [], { ...emptyAnswer, bondCoinSpent: spentIs(false) }).post([await read()]),
    ).toMatchObject([{ epoch, outcome: 'no-bond-coin' }]);
    expect([...names.keys()]).toEqual([`${named.txid}:2`]);
    expect(asked).toEqual([`${named.txid}:2`]);
    // Listed: not asked about at all. Spent on chain: free again.
    await posterOf(identity, [named], { ...emptyAnswer, bondCoinSpent: spentIs(true) }).post([await read()]);
    expect(names.size).toBe(1);
    expect(asked.length).toBe(1);
    // A check the backend cannot answer keeps the reservation, and the claims are still served.
    const failing = async () => {
      throw new Error('the backend cannot produce the spender');
    };
    expect(
      await posterOf(identity, [], { ...emptyAnswer, bondCoinSpent: failing }).post([await read()]),
    ).toMatchObject([{ epoch, outcome: 'no-bond-coin' }]);
    expect(names.size).toBe(1);
    await posterOf(identity, [], { ...emptyAnswer, bondCoinSpent: spentIs(true) }).post([await read()]);
    expect(names.size).toBe(0);
    // Past the bundle window: nothing is posted, and it says why.
    await pub.request({ method: 'anvil_mine' as never, params: ['0x40'] as never });
    expect(
      await posterOf(identity, [coin], { reservations: holding, settled: async (e) => e === 2n }).post([
        await read(),
      ]),
    ).toMatchObject([{ epoch, outcome: 'window-closed' }]);
    expect(holds.size).toBe(0);
    expect((await read()).bundles).toEqual([]);
  }, 60_000);

  // Runs after the test above: its squatter stays registered, is listed for every later claim, and never posts.
  it('a listed challenger that never posts: the operator funded for W_max, built for Vigil alone, and the true claim imports and is judged valid', async () => {
    let now = 1_700_000_000;
    const sim = await startSimnet({ clock: () => (now += 600) });
    const dir = mkdtempSync(join(tmpdir(), 'vigil-claims-'));
    const v = await watcherOn(sim, dir);
    try {
      const W = claimParameters('regtest').maxChallengers;
      const honest = await claimOn(sim, 4n, dir, epochRun.honest.result, { fundFor: W });
      const { dep, registry, pub } = registryParts();
      const reg = (await readClaimRegistration(pub, registry, 4n, {
        fromBlock: dep.startBlock,
        toBlock: await pub.getBlockNumber({ cacheTime: 0 }),
      })) as ClaimRegistration;
      expect(reg.listed).toHaveLength(2);
      expect(reg.bundles).toHaveLength(1);
      // The anchor returned what one game does not use of W_max's funding.
      const graph = honest.c.graph;
      const needs = claimOutput({ ...graph.spec }).value;
      expect(graph.claim.value).toBe(claimNeedsFor(graph.spec, W));
      const kickoff = sim.chain.findTx(honest.kickoffTxid)?.tx;
      expect(kickoff?.outputs.at(-1)?.value).toBe(330n + graph.claim.value - needs);
      const judged = () =>
        v.lines.some((l) => l.msg === 'claim judged' && l.epoch === '4' && l.outcome === 'valid');
      for (let i = 0; i < 200 && !judged(); i++) await settle(50);
      expect(judged()).toBe(true);
      expect(v.lines.filter((l) => l.epoch === '4' && /AMOUNT_MISMATCH|Unchallengeable/.test(l.msg))).toEqual(
        [],
      );
      expect((await v.games.listAll()).records).toEqual([]);
    } finally {
      await v.stop();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  // Runs after the tests above: the squatter is listed for every claim and never posts.
  it('a claim opened and never committed lapses at the end of the commit window: Vigil lets go of its only bond coin and names it for the next claim, whose fraud it challenges', async () => {
    let now = 1_700_000_000;
    const sim = await startSimnet({ clock: () => (now += 600) });
    const dir = mkdtempSync(join(tmpdir(), 'vigil-claims-'));
    const v = await watcherOn(sim, dir);
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
    try {
      const { dep, registry, pub } = registryParts();
      const mineTo = async (n: bigint) => {
        const head = await pub.getBlockNumber({ cacheTime: 0 });
        if (n > head)
          await pub.request({
            method: 'anvil_mine' as never,
            params: [`0x${(n - head).toString(16)}`] as never,
          });
      };
      const coins = () => redis.hgetall(`${v.prefix}:claims:bond-coins`);
      // Vigil's one bond coin, named for epoch 5's claim, which the operator never commits.
      const first = await openClaimOn(sim, 5n);
      const bond = first.posted.bondCoin;
      const coin = `${hashToDisplayHex(bond.txid)}:${bond.vout}`;
      expect(await coins()).toEqual({ [coin]: '5' });
      // The harness's registry: bundles for 50 blocks after the opening, the commitment 100 more.
      const lastCommitBlock = first.openedAt + 50n + 100n;
      const follower = createClaimFollower({
        read: (_what, fn) => fn(pub),
        address: registry,
        startBlock: dep.startBlock,
        confirmations: 1,
      });
      const lapsed = () =>
        v.lines.some(
          (l) =>
            l.epoch === '5' &&
            l.msg ===
              'a claim lapsed uncommitted on the registry: Vigil lets go of its bond coin and the epoch it held',
        );
      await mineTo(lastCommitBlock);
      await follower.sync();
      expect(follower.claim(5n)?.lapsed).toBeUndefined();
      // The watcher polls on (every 100 ms) with the commitment still possible: it holds the coin.
      await settle(1_000);
      expect(lapsed()).toBe(false);
      expect(await coins()).toEqual({ [coin]: '5' });
      await mineTo(lastCommitBlock + 1n);
      await follower.sync();
      expect(follower.claim(5n)?.lapsed).toBe(true);
      // The warning is logged before the ledger is written (lapse() in claim-games.ts): wait for both.
      const judged5 = () => redis.hget(`${v.prefix}:claims:judged`, '5');
      for (let i = 0; i < 200 && (!lapsed() || (await judged5()) !== 'lapsed'); i++) await settle(50);
      expect(lapsed()).toBe(true);
      expect(await judged5()).toBe('lapsed');

      // The next claim, false, brings Vigil no new coin: it names the one it let go of, and challenges.
      const W = claimParameters('regtest').maxChallengers;
      await claimOn(sim, 6n, dir, FALSE_ROOT, { fundFor: W, bondCoin: false });
      const reg = (await readClaimRegistration(pub, registry, 6n, {
        fromBlock: dep.startBlock,
        toBlock: await pub.getBlockNumber({ cacheTime: 0 }),
      })) as ClaimRegistration;
      expect(reg.bundles.map((b) => `${hashToDisplayHex(b.bondCoin.txid)}:${b.bondCoin.vout}`)).toEqual([
        coin,
      ]);
      expect(await coins()).toEqual({ [coin]: '6' });
      const opened = () =>
        v.lines.some((l) => l.epoch === '6' && l.msg === 'a false claim: Vigil plays its game');
      for (let i = 0; i < 200 && !opened(); i++) {
        await settle(50);
        if (i % 20 === 19) sim.chain.mine(MINER);
      }
      expect(opened()).toBe(true);
      expect((await v.games.listAll()).records.map((r) => r.epoch)).toEqual([6n]);
      expect(v.lines.filter((l) => /no free bond coin/.test(l.msg))).toEqual([]);

      // The lapsed claim's output was on chain: it is still watched, and its kick-off (a graph never
      // committed, which nobody can dispute) is alerted once at depth.
      const lapsedOutputs = `${v.prefix}:claims:lapsed-outputs`;
      expect(await redis.hget(lapsedOutputs, '5')).toBe(`${hashToDisplayHex(first.fundingTxid)}:0`);
      const kicked = await kickOffOn(sim, first, dir, FALSE_ROOT, { commit: false, publish: false });
      const alerted = () =>
        v.lines.filter(
          (l) => l.epoch === '5' && l.msg.startsWith('VigilFalseClaimUnchallengeable: the claim output'),
        );
      for (let i = 0; i < 200 && alerted().length === 0; i++) await settle(50);
      expect(alerted()).toHaveLength(1);
      expect(alerted()[0]?.msg).toContain(kicked.kickoffTxid);
      expect(await redis.hget(lapsedOutputs, '5')).toBeNull();
      sim.chain.mine(MINER);
      await settle(500);
      expect(alerted()).toHaveLength(1);
    } finally {
      await redis.quit();
      await v.stop();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
