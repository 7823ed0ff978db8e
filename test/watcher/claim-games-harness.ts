/**
 * The harness of the claim-games tests: the L2's challenger registry on anvil, claims of the registry on
 * the simnet as an operator makes them (opened, built on Vigil's posted bundle, committed, published,
 * kicked off), and a Vigil watcher that follows the registry, posts its bundle and plays its games.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Abi, Address, PublicClient } from 'viem';
import { expect } from 'vitest';
import { EsploraBackend } from '../../src/bitcoin/backends/esplora.ts';
import { spentByVerifiedTx } from '../../src/bitcoin/backends/verified-outspend.ts';
import { addressForScript } from '../../src/bitcoin/codec/address.ts';
import type { Simnet } from '../../src/bitcoin/simnet/start.ts';
import { taprootOutput } from '../../src/bitcoin/taproot/output.ts';
import { hashToDisplayHex, txid, txidHex } from '../../src/bitcoin/tx/serialize.ts';
import { WalletKey } from '../../src/bitcoin/wallet/keys.ts';
import { bytesToHex, hexToBytes, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import {
  bondCoinScript,
  bundleKeysOf,
  challengerIdentity,
  challengerScope,
} from '../../src/dispute/game/challenger-identity.ts';
import { claimDocumentHash, claimGraphToDocument } from '../../src/dispute/game/claim-document.ts';
import { buildClaimGraph, claimNeedsFor, claimOutput } from '../../src/dispute/game/claim-graph.ts';
import { bondCoinMinimum, claimParameters } from '../../src/dispute/game/claim-parameters.ts';
import { completeKickoff } from '../../src/dispute/game/claim-spend.ts';
import { collectGamePresignatures, presignGame } from '../../src/dispute/game/game-spend.ts';
import { GameStore } from '../../src/dispute/records/game-store.ts';
import { createBundlePoster } from '../../src/l2/bundle-poster.ts';
import {
  type ClaimRegistration,
  encodeBundleKeys,
  listedChallengers,
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
import { type EndedEpoch, REGISTRY_CLAIM_INSTANCE } from '../../src/watcher/claim-games.ts';
import { redisBondReservations, redisClaimLedger } from '../../src/watcher/claim-ledger.ts';
import { createWatcher, type Watcher } from '../../src/watcher/watcher.ts';
import { type Coin, coinOf, mineCoins, out, spend } from '../../testkit/bitcoin/simnet/fixture.ts';
import {
  bondCoinValue,
  fundedSpec,
  kickoffSignaturesOf,
  makeClaimFixture,
} from '../../testkit/dispute/claim-fixture.ts';
import { type RegistryOnAnvil, registryOnAnvil } from '../../testkit/l2/registry-on-anvil.ts';
import { REDIS_URL } from '../../testkit/queue/scenario.ts';
import { MINER } from '../dispute/game/chain-play.ts';
import { L2_BLOCK } from '../dispute/game/claim-chain.ts';
import { type Epoch, smallEpoch } from '../dispute/game/setup.ts';

export const shape = claimParameters('regtest').shape;
export const epochRun: Epoch = smallEpoch();
export const FALSE_ROOT = epochRun.honest.result ^ 1n;
/** Anvil's dev account #2 (0x3C44…93BC), Vigil's L2 account: the watcher registers and posts from it. */
export const VIGIL_L2_KEY = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';
const WALLET_SECRET = sha256(utf8('vigil claim-games test wallet'));
export const identity = challengerIdentity((tag) => WalletKey.fromBytes(WALLET_SECRET).derivedSecret(tag));
const VIGIL_L2_ADDRESS = '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc';
export const hex = (b: Uint8Array) => `0x${bytesToHex(b)}` as const;

let on: RegistryOnAnvil;
let dep: Deployment;
let registry: Address;
let pub: PublicClient;
/** The operator's purse on each simnet: the change of its last claim's funding. */
const purses = new WeakMap<Simnet, Coin>();
/** Each claimed epoch's run, as the L2 epoch source would give its tape. */
const runs = new Map<bigint, Epoch>();

/** The registry on anvil and its clients, once `startRegistry` ran. */
export const registryParts = () => ({ on, dep, registry, pub });

export const call = (...args: Parameters<RegistryOnAnvil['call']>) => on.call(...args);
export const endEpoch = () =>
  call(DEVNET_DEPLOYER, dep.addresses.epochManager, epochManagerAbi as Abi, 'endEpoch', []);

/** Starts anvil with the governance contracts and the challenger registry (a file's beforeAll). */
export async function startRegistry(): Promise<void> {
  on = await registryOnAnvil({ shape, bundleWindow: 50n, maxChallengers: 10 });
  ({ dep, registry, pub } = on);
}

export const stopRegistry = async (): Promise<void> => {
  await on?.anvil.stop();
};

/**
 * The first half of a claim: the operator funds the claim output (and, unless `bondCoin` is false, one
 * more coin at Vigil's bond address), opens the claim on the registry and waits for Vigil's watcher to post
 * its bundle. Throws when Vigil posts none within 10 s.
 */
export async function openClaimOn(
  sim: Simnet,
  epoch: bigint,
  options: { run?: Epoch; fundFor?: number; bondCoin?: boolean } = {},
) {
  const run = options.run ?? epochRun;
  runs.set(epoch, run);
  await endEpoch();
  const fx = makeClaimFixture({
    shape,
    challengers: 1,
    epoch,
    identities: [identity],
    agreedImageRoot: run.tape.imageRoot,
  });
  const chain = sim.chain;
  // One coinbase (matured) per simnet funds every claim on it: each funding's change is the next one's coin.
  let coin = purses.get(sim);
  if (coin === undefined) {
    const [mined] = mineCoins(chain, 1);
    if (mined === undefined) throw new Error('no coin');
    for (let i = 0; i < 100; i++) chain.mine(MINER);
    coin = mined;
  }
  const claim = {
    ...claimOutput(fx.spec),
    ...(options.fundFor === undefined ? {} : { value: claimNeedsFor(fx.spec, options.fundFor) }),
  };
  // Output 1 is a new coin at Vigil's bond address, or without one a dust coin of the operator's (the
  // outputs keep their places).
  const second =
    options.bondCoin === false
      ? out(546n, taprootOutput(fx.spec.operator).scriptPubKey)
      : out(bondCoinValue(fx.spec.values), bondCoinScript(identity));
  const funding = spend({
    coins: [coin],
    outputs: [
      out(claim.value, claim.output.scriptPubKey),
      second,
      out(100_000_000n, taprootOutput(fx.spec.operator).scriptPubKey),
      out(coin.value - claim.value - second.value - 100_000_000n - 10_000n),
    ],
  });
  chain.acceptTx(funding.tx);
  chain.mine(MINER);
  purses.set(sim, coinOf(funding, 3));
  const fundingTxid = txid(funding.tx);
  const opened = await call(DEVNET_OPERATOR, registry, challengerRegistryAbi as Abi, 'openClaim', [
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
    challengerScope(
      identity,
      shape,
      { network: 'regtest', operator: fx.spec.operator, epoch, instance: REGISTRY_CLAIM_INSTANCE },
      { registry: hexToBytes(registry), claim: { txid: fundingTxid, vout: 0 } },
    ),
  );
  expect(bytesToHex(posted.keys)).toBe(bytesToHex(encodeBundleKeys(ours, shape)));
  // One of Vigil's coins at its bond address (a coin no claim still open names).
  // (the change of an earlier challenge, back at the bond address, is such a coin too).
  expect(posted.bondCoin.value).toBeGreaterThanOrEqual(bondCoinMinimum(claimParameters('regtest')));
  return {
    fx,
    run,
    fundingTxid,
    claim,
    reg: reg as ClaimRegistration,
    posted,
    openedAt: opened.blockNumber,
  };
}

/**
 * One claim of `epoch` on the simnet and the registry, Vigil its one challenger, up to its kick-off of
 * `root`: the operator opens it, waits for Vigil's watcher to post its bundle, builds the graph on it,
 * commits and (unless `publish` is false) publishes the document. `run` is the epoch's run (default the
 * small epoch). `fundFor`: the claim output is funded for that many challengers (the kick-off's anchor
 * returns the rest), and the operator waits for the bundle window to close before it commits (another
 * listed challenger never posts).
 */
export async function claimOn(
  sim: Simnet,
  epoch: bigint,
  dir: string,
  root: bigint,
  options: { publish?: boolean; run?: Epoch; fundFor?: number; bondCoin?: boolean } = {},
) {
  return kickOffOn(sim, await openClaimOn(sim, epoch, options), dir, root, options);
}

/**
 * The second half of a claim opened by `openClaimOn`: the operator builds the graph on Vigil's bundle,
 * commits it (unless `commit` is false: the registry may have let the claim lapse), publishes the
 * document (unless `publish` is false) and kicks off.
 */
export async function kickOffOn(
  sim: Simnet,
  opened: Awaited<ReturnType<typeof openClaimOn>>,
  dir: string,
  root: bigint,
  options: { publish?: boolean; fundFor?: number; commit?: boolean } = {},
) {
  const { fx, run, fundingTxid, claim, reg, posted } = opened;
  const epoch = reg.epoch;
  const funded = fundedSpec(fx, { txid: fundingTxid, vout: 0 }, [posted.bondCoin]);
  // The operator builds on what the bundle posted: its keys (bound to this claim's site) and bond coin.
  const listed = listedChallengers(reg, shape)[0];
  if (listed === undefined) throw new Error('the registry lists no challenger');
  const spec = {
    ...funded,
    claimValue: claim.value,
    challengers: funded.challengers.map((c) => ({ ...c, keys: listed.keys, bondCoin: posted.bondCoin })),
  };
  // The registry takes the commitment once every listed challenger posted, or once the window closed.
  if (options.fundFor !== undefined)
    await pub.request({ method: 'anvil_mine' as never, params: ['0x40'] as never });
  const built = buildClaimGraph(spec);
  const chain = sim.chain;
  const presign = (g: Parameters<typeof presignGame>[0]) =>
    collectGamePresignatures(
      g,
      fx.secrets.covenant.map((s) => presignGame(g, s)),
    );
  const sigs = presign(built);
  const gameSigs = built.games.map(presign);
  const document = claimGraphToDocument(built, { claim: sigs, games: gameSigs });
  if (options.commit ?? true)
    await call(DEVNET_OPERATOR, registry, challengerRegistryAbi as Abi, 'commitClaimGraph', [
      epoch,
      hex(claimDocumentHash(document)),
    ]);
  const path = join(dir, `claim-${epoch}.json`);
  if (options.publish ?? true) writeFileSync(path, JSON.stringify(document));
  const kickoff = completeKickoff(
    built,
    fx.secrets.operator,
    kickoffSignaturesOf(fx, {
      root,
      l2BlockHash: L2_BLOCK,
      imageRoot: run.tape.imageRoot,
      inputsRoot: run.tape.inputRoot,
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
      epoch: run,
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

/** Each claimed epoch, as the L2 epoch source would give it (undefined: not ended yet). */
const endedOf = (epoch: bigint): EndedEpoch | undefined => {
  const run = runs.get(epoch);
  return run === undefined
    ? undefined
    : {
        epoch,
        preRoot: run.tape.imageRoot,
        root: wordBytes(run.honest.result),
        tapeSource: () => ({ tape: run.tape }),
      };
};

/** A Vigil watcher on the simnet, Redis and the registry: it registers its key before this returns. */
export async function watcherOn(
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
  const ledger = redisClaimLedger(redis, prefix);
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
    bondCoinSpent: (c) => spentByVerifiedTx(backend, c.txid, c.vout),
    bondMinimum: bondCoinMinimum(params),
    reservations: redisBondReservations(redis, prefix),
    settled: (epoch) => ledger.has(epoch),
    confirmations: 1,
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
      ledger,
      follower,
      registry,
      documentOf: claimDocumentReader(dir, 64 * 1024 * 1024),
      endedEpoch: endedOf,
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

export const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
