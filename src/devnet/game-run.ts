/**
 * `vigil devnet`: the whole system with the narrowing game (docs/protocol.md §24), which replaced Part
 * II's graph as the default (that one is `--part2`). anvil runs the L2 with the governance contracts, a
 * seeded workload and the challenger registry; Vigil's watcher, composed as `vigil watch` composes it,
 * registers its challenger key; the operator claims every epoch through the registry (game-operator.ts),
 * builds each claim graph on Vigil's bundle and kicks off the root its program reached, then plays its
 * side block by block (game-operator-play.ts); Vigil judges each kick-off and plays its game as jobs on
 * the simnet. The run is as expected when every false claim's game ended with the operator slashed and
 * every true claim was left alone and taken back.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createPublicClient, createWalletClient, http } from 'viem';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { addressForScript } from '../bitcoin/codec/address.ts';
import { btcToSats } from '../bitcoin/codec/fee-rate.ts';
import { connectDevnetBitcoin, type DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import { displayHexToHash, serializeTx, txidHex, txVsize } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { bytesToHex } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import { challengeId } from '../dispute/game/claim-graph.ts';
import { claimParameters } from '../dispute/game/claim-parameters.ts';
import { gameTx } from '../dispute/game/game-graph.ts';
import { playGame } from '../dispute/game/referee.ts';
import { ruleChallenger } from '../dispute/game/rule.ts';
import { GameStore } from '../dispute/records/game-store.ts';
import type { GameRecord } from '../dispute/records/game-types.ts';
import { bundleKeyBytes } from '../l2/challenger-registry.ts';
import { challengerRegistryAbi } from '../l2/contracts/artifacts/abis.ts';
import { deployChallengerRegistry } from '../l2/deploy.ts';
import { DEVNET_DEPLOYER, DEVNET_OPERATOR } from '../l2/devnet.ts';
import { AnvilRpc } from '../l2/driver.ts';
import { createGovernanceIngester } from '../l2/governance-ingester.ts';
import { isSequencerFault } from '../l2/rollup-sequencer.ts';
import { L2Rpc } from '../l2/rpc.ts';
import { isProgramFault, type ProgramFault } from '../machine/programs/faults.ts';
import type { RedisClient } from '../store/redis.ts';
import { deleteKeysByPrefix } from '../store/redis.ts';
import { type RaisedAlert, watchAlerts } from './alerts.ts';
import { createFeeMarket } from './fee-market.ts';
import { gameEpochsOf } from './game-epochs.ts';
import {
  BUNDLE_WINDOW,
  COMMIT_WINDOW,
  claimEpoch,
  type GameClaimEnd,
  type GameOperatorBehaviour,
  type GameOperatorOptions,
  LATE_DOCUMENT_BLOCKS,
  type OperatorGameClaim,
  operatorAddress,
  operatorWallet,
  publishDocument,
} from './game-operator.ts';
import { type PlayContext, reactToClaim } from './game-operator-play.ts';
import { type MempoolMove, STALL_FLOOR_SAT_VB, stallPad } from './game-stall.ts';
import { createGameWatcher, devnetBondAddress, devnetChallenger } from './game-watcher.ts';
import type { OperatorCoin } from './operator-coins.ts';
import { devnetOperatorKeys, devnetOperatorSecrets } from './operator-keys.ts';
import { settled } from './pacer.ts';
import { startL2Side } from './run-chains.ts';
import { DEVNET_NETWORK, type Say, StopStack, WATCHER_COINS, watcherScript } from './run-context.ts';
import { chooseOperator } from './run-operator.ts';
import { redactUrl, storyLogger } from './run-story.ts';
import { hostileBackend } from './strategies/fee-spike.ts';

export type GameRunOptions = {
  redis: RedisClient;
  redisUrl: string;
  epochs?: number;
  seed?: number;
  scenarioFile?: string;
  /** A fault of the catalogue (the operator runs its build of the governance program), or 'none'. */
  fault?: string;
  /** A lying operator that also stops: never asserts, or never sends one move. */
  behaviour?: GameOperatorBehaviour;
  logLevel?: string;
  logger?: Logger;
  /**
   * An external Bitcoin Core regtest node instead of the in-process simnet: every game transaction goes
   * to it through `sendrawtransaction` (`maxburnamount` at Core's default), and its blocks come from
   * `generatetoaddress` (and `generateblock` where a move is shown with another witness).
   */
  bitcoinRpc?: string;
  bitcoinCookieFile?: string;
  /** Give up after this many Bitcoin blocks (default 300). */
  maxBlocks?: number;
  /** Least time between two Bitcoin blocks (default 20 ms). */
  minBlockIntervalMs?: number;
  signal?: AbortSignal;
  say?: Say;
};

/** One claim's end: the operator's, and Vigil's game in it. */
export type GameClaimSummary = {
  epoch: bigint;
  /** The operator's kick-off claimed another root than the model's. */
  fraud: boolean;
  /** How the claim ended for the operator on Bitcoin (undefined: not ended when the run stopped). */
  end: GameClaimEnd | undefined;
  /** Vigil's game, when it opened one. */
  game?: {
    id: string;
    state: string;
    outcome: string | undefined;
    /** What ended it on chain: the transaction (`slash:reveal`, …) and the output it spent. */
    endedBy: string | undefined;
    endedAt: string | undefined;
    /** The transaction that ended it, as the chain has it. */
    endedTxid: string | undefined;
    moves: number;
    /** Children Vigil wrote to pay for its challenge (CPFP; the latest replaced the others). */
    challengeChildren: number;
    /** The timeouts Vigil wrote (graph ids, each rung of a ladder its own) and their fees, lowest first. */
    timeouts: { id: string; fee: bigint }[];
  };
  /** Where the game narrows the lie to: the operator's step and its rule (the pure referee's replay). */
  narrowed?: { step: number; at: string; end: string };
};

export type GameRunSummary = {
  fault: string;
  behaviour: GameOperatorBehaviour;
  claims: GameClaimSummary[];
  blocks: number;
  finished: boolean;
  /** The alerts of config/alerts.yml the run raised (mirrored on the watcher's metrics once per block). */
  alerts: RaisedAlert[];
  /** Shipped alert rules the devnet cannot evaluate. */
  alertsNotEvaluated: string[];
  ok: boolean;
  problems: string[];
};

/** Vigil's L2 account in the run (anvil's dev account #2), whose registration the operator waits for. */
const VIGIL_L2_ACCOUNT = '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc';

/** Bond coins mined to Vigil's bond address: one per false claim that may be open at once. */
const BOND_COINS = 6;

export async function runDevnetGame(o: GameRunOptions): Promise<GameRunSummary> {
  const say = o.say ?? (() => {});
  const logger = storyLogger(o, say);
  const faultName = o.fault ?? 'none';
  if (faultName !== 'none' && (isSequencerFault(faultName) || !isProgramFault(faultName))) {
    throw new VigilError(`vigil devnet plays the catalogue's faults only, not ${faultName}`);
  }
  const fault: ProgramFault = faultName === 'none' ? undefined : faultName;
  const behaviour = o.behaviour ?? {};
  if ((behaviour.feeSpike || behaviour.stallAt !== undefined) && o.bitcoinRpc !== undefined) {
    // The spike is a market everyone's estimator sees; a Core node estimates from its own history.
    const name = behaviour.feeSpike
      ? 'fee-spike'
      : `${behaviour.pin ? 'pin' : 'stall'}-at:${behaviour.stallAt}`;
    throw new VigilError(`--operator ${name} needs the in-process simnet (it sets the fee estimate)`);
  }
  const prefix = `{vigil-devnet-game-${randomUUID()}}`;
  const graphDir = await mkdtemp(join(tmpdir(), 'vigil-devnet-claims-'));
  const stops = new StopStack();
  stops.push(() => rm(graphDir, { recursive: true, force: true }));
  stops.push(() => deleteKeysByPrefix(o.redis, prefix));
  try {
    // 1. The L2: contracts, workload, commitments; then the challenger registry beside them.
    const choice = chooseOperator({ fault: faultName });
    const { l2, l2Run } = await startL2Side({ ...o, choice, logger }, stops, say);
    // The workload's driver mined its own blocks; from here on every registry call gets a block at once.
    await new AnvilRpc(l2.rpcUrl).request('evm_setAutomine', [true]);
    const transport = http(l2.rpcUrl);
    const pub = createPublicClient({ transport });
    const wallet = createWalletClient({ transport });
    const params = claimParameters(DEVNET_NETWORK);
    const registry = await deployChallengerRegistry({
      publicClient: pub,
      walletClient: wallet,
      deployer: DEVNET_DEPLOYER,
      operator: DEVNET_OPERATOR,
      epochManager: l2Run.deployment.addresses.epochManager,
      staking: l2Run.deployment.addresses.staking,
      // As many as a claim may have (W_max): the registry never lists a claim that import would refuse.
      maxChallengers: params.maxChallengers,
      bundleWindow: BUNDLE_WINDOW,
      bundleKeyBytes: bundleKeyBytes(params.shape),
      commitWindow: COMMIT_WINDOW,
    });
    say(`L2: the challenger registry at ${registry}`);
    // 2. The operator's epochs: the feed as the chain has it, each epoch's tape and its claim.
    const feed = createGovernanceIngester({
      rpc: new L2Rpc({ urls: [l2.rpcUrl] }),
      redis: o.redis,
      prefix: `${prefix}:feed`,
      deployment: l2Run.deployment,
      crossCheck: false,
    });
    await feed.ingester.syncTo(await pub.getBlockNumber());
    const epochs = gameEpochsOf(feed.derivation);
    // 3. Bitcoin: the operator's purse, Vigil's bond coins and wallet, all mature.
    const bitcoin = await connectDevnetBitcoin(
      o.bitcoinRpc === undefined ? {} : { bitcoinRpc: o.bitcoinRpc, cookieFile: o.bitcoinCookieFile },
    );
    stops.push(() => bitcoin.stop());
    const secrets = devnetOperatorSecrets();
    const operatorKey = devnetOperatorKeys();
    const identity = devnetChallenger();
    // Vigil's challenges are paid from its bond coins, its other game transactions by the game's outputs.
    // A stalling operator pays for its pads from coins of its own, mined before its purse.
    if (behaviour.stallAt !== undefined)
      await bitcoin.mine(BOND_COINS, operatorAddress(operatorKey.operator));
    await bitcoin.mine(1, operatorAddress(operatorKey.operator));
    await bitcoin.mine(BOND_COINS, devnetBondAddress(identity));
    // The wallet funds no game transaction, but the watcher checks it as it would in a daemon.
    await bitcoin.mine(WATCHER_COINS, addressForScript(watcherScript(), DEVNET_NETWORK) as string);
    await bitcoin.mine(100);
    // The coin just mined: on a regtest node used before, an older one may be spent in its mempool.
    const [purse, ...padCoins] = (await bitcoin.backend.getUtxos(operatorAddress(operatorKey.operator))).sort(
      (x, y) => (y.height ?? 0) - (x.height ?? 0),
    );
    if (purse === undefined) throw new VigilError('The devnet operator has no coin to claim with');
    const node =
      o.bitcoinRpc === undefined ? 'in-process simnet' : `regtest node at ${redactUrl(o.bitcoinRpc)}`;
    say(`bitcoin: ${node}; Vigil's bond address holds ${BOND_COINS} coins`);
    // 4. The watcher, as `vigil watch` composes it with the registry; it registers its key first.
    const lying =
      behaviour.lyingBackend === undefined
        ? undefined
        : await hostileBackend(bitcoin, behaviour.lyingBackend);
    if (lying !== undefined) {
      stops.push(lying.stop);
      say(`bitcoin: Vigil reads Bitcoin through ${lying.describe}`);
    }
    const side = createGameWatcher({
      redis: o.redis,
      redisUrl: o.redisUrl,
      prefix,
      graphDir,
      l2Run,
      l2RpcUrl: l2.rpcUrl,
      pub,
      registryAddress: registry,
      bitcoin,
      ...(lying === undefined ? {} : { backend: lying.backend }),
      logger,
    });
    const alerts = watchAlerts(side.metrics);
    await side.watcher.start();
    stops.push(async () => side.watcher.stop(new AbortController().signal));
    await registered(pub, registry, identity.key);
    say(`vigil: registered its challenger key ${bytesToHex(identity.key)} on the registry`);
    // 5. Claims, one per block, and the operator's side after each block, until everything has ended.
    const operator: GameOperatorOptions = {
      bitcoin,
      l2: { pub, wallet, registry, startBlock: l2Run.deployment.startBlock },
      graphDir,
      fault,
      secrets,
      operator: operatorKey.operator,
      committee: operatorKey.committee,
      ...(behaviour.document === undefined ? {} : { document: behaviour.document }),
    };
    const games = new GameStore(o.redis, prefix);
    const claims: OperatorGameClaim[] = [];
    const pending = [...epochs];
    let coin: OperatorCoin = { ...purse, txid: displayHexToHash(purse.txid), unconfirmed: new Set() };
    // A version of a move for the next block to mine in place of the one the mempool was shown.
    const market = createFeeMarket(bitcoin);
    let substituted = false;
    // `stallAt`: the stalled moves (display txids) and the epochs whose claims hold the market up.
    const stalledMoves = new Set<string>();
    /** Each stalled claim's epoch, and the tip its move was stalled at. */
    const stalledEpochs = new Map<bigint, number>();
    /** Stalls that did not happen as the strategy means them (no coin, a pad refused): the run says so. */
    const stallFailures: string[] = [];
    const purseSigner = operatorWallet(secrets, operatorKey.operator);
    const play: PlayContext = {
      backend: bitcoin.backend,
      secret: secrets.operator,
      script: purseSigner.script,
      behaviour,
      mineInstead: (tx: Tx) => {
        market.mineInstead(tx);
        substituted = true;
      },
      stall: {
        stalled: (id) => stalledMoves.has(id),
        pad: async (move, epoch) => {
          stalledMoves.add(txidHex(move));
          stalledEpochs.set(epoch, await probe.tip());
          const coin = padCoins.shift();
          if (coin === undefined) {
            stallFailures.push(`epoch ${epoch}: no coin left to stall its move with`);
            return 'no coin left to stall it with';
          }
          const inPool = behaviour.pin ? await mempoolMove(bitcoin.backend, txidHex(move)) : undefined;
          const pad = stallPad(
            move,
            { ...coin, txid: displayHexToHash(coin.txid) },
            purseSigner,
            inPool === undefined ? undefined : { move: inPool, floorSatVb: STALL_FLOOR_SAT_VB },
          );
          try {
            await bitcoin.backend.broadcast(serializeTx(pad));
          } catch (err) {
            const why = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
            stallFailures.push(`epoch ${epoch}: the stall's child was refused (${why})`);
            return `its stall was refused: ${why}`;
          }
          const padFee = await mempoolMove(bitcoin.backend, txidHex(pad));
          return inPool === undefined
            ? `stalled behind a ${txVsize(pad)} vB child at 1 sat/vB (${txidHex(pad)}), fees now ${STALL_FLOOR_SAT_VB} sat/vB`
            : `pinned behind a ${txVsize(pad)} vB child paying ${padFee.fee} sats (${txidHex(pad)}): the package pays ${inPool.fee + padFee.fee} sats, under ${STALL_FLOOR_SAT_VB} sat/vB`;
        },
      },
    };
    const probe = {
      tip: () => bitcoin.backend.getTipHeight(),
      watcherTip: () => side.watcher.lastPolledTip(),
      busyJobs: async () => {
        const c = await side.watcher.queue().queue.getJobCounts('waiting', 'active');
        return (c.waiting ?? 0) + (c.active ?? 0);
      },
    };
    const told = new Map<string, string>();
    let spiking = false;
    let stalling = false;
    const maxBlocks = o.maxBlocks ?? 300;
    let blocks = 0;
    let finished = false;
    while (blocks < maxBlocks && !o.signal?.aborted) {
      const tip = await probe.tip();
      for (const c of claims) for (const line of await reactToClaim(play, c, tip)) say(`  operator: ${line}`);
      for (const c of claims) {
        if (c.unpublished === undefined) continue;
        const k = (await bitcoin.backend.getTransaction(c.kickoffTxid))?.status;
        if (k?.confirmed !== true || tip < k.blockHeight + LATE_DOCUMENT_BLOCKS) continue;
        await publishDocument(c.unpublished.path, c.unpublished.text);
        c.unpublished = undefined;
        say(
          `  operator: epoch ${c.epoch}: publishes its document at last, ${tip - k.blockHeight} blocks after the kick-off`,
        );
      }
      const next = pending.shift();
      if (next !== undefined) {
        const made = await claimEpoch(operator, coin, next);
        coin = made.purse;
        claims.push(made.claim);
        say(
          `operator: claims epoch ${next.epoch} (${made.claim.game.fraud ? 'a false root' : 'the true root'}), kick-off ${made.claim.kickoffTxid}`,
        );
        if (made.claim.game.fraud && behaviour.document !== undefined)
          say(
            `  operator: epoch ${next.epoch}: ${DOCUMENT_ATTACK[behaviour.document]} (its hash is committed on the L2)`,
          );
      }
      if (behaviour.feeSpike) {
        const spike = await challengeHeld(bitcoin.backend, claims, tip);
        if (spike !== spiking) {
          spiking = spike;
          market.set(spike ? FEE_SPIKE_SAT_VB : undefined, spike ? FEE_SPIKE_SAT_VB : undefined);
          say(
            spike
              ? `bitcoin: fees spike: blocks take only packages paying ${FEE_SPIKE_SAT_VB} sat/vB, and the estimate says so`
              : 'bitcoin: the spike is over',
          );
        }
      }
      // The market stays up until every stalled claim ended: a stalled move is never mined. After a
      // pin, which nothing Vigil can send replaces, it falls PIN_HOLD_BLOCKS later and the move confirms late.
      const stall = claims.some((c) => {
        const at = stalledEpochs.get(c.epoch);
        return at !== undefined && c.end === undefined && (!behaviour.pin || tip < at + PIN_HOLD_BLOCKS);
      });
      if (stall !== stalling) {
        stalling = stall;
        market.set(stall ? STALL_FLOOR_SAT_VB : undefined, stall ? STALL_FLOOR_SAT_VB : undefined);
        say(
          stall
            ? `bitcoin: fees rise past the presigned rate: blocks take only packages paying ${STALL_FLOOR_SAT_VB} sat/vB, and the estimate says so`
            : 'bitcoin: fees are back to the presigned rate',
        );
      }
      if (substituted) {
        // Vigil's games look at the mempool's version before the block replaces it.
        if (!(await gamesLooked(side.watcher, games, Date.now(), 30_000)))
          say('  vigil: a game had no completed run in 30 s with the shown version in the mempool');
        await market.mine();
        substituted = false;
      } else if (spiking || stalling) await market.mine();
      else await bitcoin.mine(1);
      const minedAt = Date.now();
      blocks++;
      const mined = await probe.tip();
      await settled(probe, mined, 30_000);
      await alerts.sample(mined);
      for (const a of alerts.raised().filter((x) => x.atBlock === mined))
        say(`  alert ${a.name}: ${a.summary}`);
      // Each open game looked at this block before the next: its job repeats on its own clock.
      if (!(await gamesLooked(side.watcher, games, minedAt, 30_000)))
        say(`  vigil: a game had no completed run in 30 s after block ${mined} (see the watcher's log)`);
      for (const r of (await games.listAll()).records) {
        const line = `${r.state}${r.outcome === undefined ? '' : ` (${r.outcome})`}`;
        if (told.get(r.id) !== line) {
          told.set(r.id, line);
          say(`  vigil: game ${r.id} ${line}`);
        }
      }
      if (pending.length === 0 && (await allEnded(claims, games))) {
        finished = true;
        break;
      }
      const wait = o.minBlockIntervalMs ?? 20;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    return summarise(
      faultName,
      behaviour,
      claims,
      (await games.listAll()).records,
      { raised: alerts.raised(), notEvaluated: alerts.notEvaluated },
      blocks,
      finished,
      stallFailures,
    );
  } finally {
    await stops.stopAll();
  }
}

/** What `document` does with a false claim's document, for the story. */
const DOCUMENT_ATTACK = {
  withheld: 'does not publish its document',
  malformed: 'publishes half of its document',
  late: `holds its document back until ${LATE_DOCUMENT_BLOCKS} blocks after the kick-off`,
} as const;

/** Blocks the market holds above a pinned move before fees fall (within the payout's margin of one t). */
const PIN_HOLD_BLOCKS = 4;

/** A transaction's size and fee as the simnet's mempool holds it. */
async function mempoolMove(backend: DevnetBitcoin['backend'], txid: string): Promise<MempoolMove> {
  const e = await backend.rpc.call<{ vsize: number; fees: { base: number } }>('getmempoolentry', [txid]);
  return { vsize: e.vsize, fee: btcToSats(e.fees.base) };
}

/** `--operator fee-spike`'s market (sat/vB): above the devnet's challenge rate (1 sat/vB). */
const FEE_SPIKE_SAT_VB = 25;

/**
 * Whether a false claim's challenge window is open with no challenge confirmed: its kick-off confirmed,
 * T_c not reached by the next block, and no A_w spent in a block.
 */
async function challengeHeld(
  backend: BitcoinBackend,
  claims: readonly OperatorGameClaim[],
  tip: number,
): Promise<boolean> {
  for (const c of claims) {
    if (!c.game.fraud || c.end !== undefined) continue;
    const k = (await backend.getTransaction(c.kickoffTxid))?.status;
    if (k === undefined || !k.confirmed) continue;
    if (tip + 1 >= k.blockHeight + c.graph.spec.timelocks.challenge) continue;
    let confirmed = false;
    for (const [w] of c.graph.spec.challengers.entries()) {
      const ch = await backend.getTransaction(txidHex(gameTx(c.graph, challengeId(w)).tx));
      if (ch?.status.confirmed) confirmed = true;
    }
    if (!confirmed) return true;
  }
  return false;
}

async function registered(
  pub: ReturnType<typeof createPublicClient>,
  registry: `0x${string}`,
  key: Uint8Array,
): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const owner = await pub.readContract({
      address: registry,
      abi: challengerRegistryAbi,
      functionName: 'ownerOf',
      args: [`0x${bytesToHex(key)}`],
    });
    if (String(owner).toLowerCase() === VIGIL_L2_ACCOUNT) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new VigilError("Vigil's watcher did not register its challenger key within 30 s");
}

/** Waits until every unresolved game had a run that started after `since`; false after `timeoutMs`. */
async function gamesLooked(
  watcher: { queue(): { gameRunSince(id: string, since: number): boolean } },
  games: GameStore,
  since: number,
  timeoutMs: number,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const open = (await games.listAll()).records.filter((r) => r.state !== 'resolved');
    if (open.every((r) => watcher.queue().gameRunSince(r.id, since))) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function allEnded(claims: readonly OperatorGameClaim[], games: GameStore): Promise<boolean> {
  if (!claims.every((c) => c.end !== undefined)) return false;
  return (await games.listAll()).records.every((r) => r.state === 'resolved');
}

/** Alerts that say a Vigil process cannot see or act, whatever the game. */
const BLINDED = new Set([
  'VigilBackendInconsistent',
  'VigilPollStale',
  'VigilUnavailableVerdicts',
  'VigilTransactionRefused',
  'VigilJobsFailingPermanently',
]);
/** Alerts about one game (labelled `dispute`) that say its next step is not getting done. */
const GAME_ALERTS = new Set(['VigilGameDeadlineNear', 'VigilGameTxOutbid']);

/** Whether a stalled game ended as it must: by the timeout the stalled move raced (the assert's own at T_a). */
const endedByTimeout = (rec: GameRecord, stallAt: string): boolean =>
  stallAt === 'assert' ? rec.end?.by === 'assertTimeout' : rec.end?.by?.startsWith('timeout:') === true;

function summarise(
  fault: string,
  behaviour: GameOperatorBehaviour,
  claims: readonly OperatorGameClaim[],
  records: readonly GameRecord[],
  alerts: { raised: RaisedAlert[]; notEvaluated: string[] },
  blocks: number,
  finished: boolean,
  stallFailures: readonly string[],
): GameRunSummary {
  const problems: string[] = [...stallFailures];
  // A lying backend may blind Vigil, but never silently: a false claim not slashed needs an alert that
  // says Vigil cannot see or act, for its game or for the whole process (that fraud was found is no
  // explanation, nor is an alert about another game).
  const explainedFor = (game: string | undefined): boolean =>
    behaviour.lyingBackend !== undefined &&
    alerts.raised.some(
      (a) =>
        BLINDED.has(a.name) || (game !== undefined && GAME_ALERTS.has(a.name) && a.labels.dispute === game),
    );
  /** False claims not slashed whose blindness an alert explained: they keep the run from finishing. */
  let excused = 0;
  const slashed = (c: OperatorGameClaim) => c.end === 'slashed' || c.end === 'timed-out';
  // A false claim whose document was never published whole: the claim stands (the operator takes it).
  const unplayable = behaviour.document === 'withheld' || behaviour.document === 'malformed';
  const shape = claimParameters(DEVNET_NETWORK).shape;
  const out: GameClaimSummary[] = claims.map((c) => {
    const rec = records.find((r) => r.epoch === c.epoch);
    const s: GameClaimSummary = { epoch: c.epoch, fraud: c.game.fraud, end: c.end };
    if (rec !== undefined) {
      s.game = {
        id: rec.id,
        state: rec.state,
        outcome: rec.outcome,
        endedBy: rec.end?.by,
        endedAt: rec.end?.site,
        endedTxid: rec.end?.txid,
        moves: rec.progress?.moves ?? 0,
        challengeChildren: [...rec.sent.values()].filter((t) => t.role === 'game-challenge-cpfp').length,
        timeouts: [...rec.sent]
          .filter(([, t]) => t.role === 'game-timeout' || t.role === 'game-assert-timeout')
          .sort(([, a], [, b]) => (a.fee < b.fee ? -1 : a.fee > b.fee ? 1 : 0))
          .map(([id, t]) => ({ id, fee: t.fee })),
      };
    }
    if (c.game.fraud) {
      // The pure referee with the same players: the step Vigil's rule narrows the lie to.
      const pure = playGame(
        c.game.context,
        shape,
        c.game.player,
        ruleChallenger(c.game.context, shape, c.game.honest),
      );
      const at = pure.step === undefined ? undefined : c.game.stepAt(pure.step);
      if (pure.step !== undefined && at !== undefined)
        s.narrowed = { step: pure.step, at: at.at, end: pure.at };
      if (unplayable) {
        // No document Vigil can import: nobody can challenge, and Vigil must say so at once.
        if (rec !== undefined)
          problems.push(`epoch ${c.epoch}: Vigil opened game ${rec.id} without a document`);
        if (!alerts.raised.some((a) => a.name === 'VigilFalseClaimUnchallengeable'))
          problems.push(
            `epoch ${c.epoch}: a false claim nobody can challenge, and no VigilFalseClaimUnchallengeable`,
          );
      } else if (!slashed(c) && explainedFor(rec?.id)) {
        // Blinded, and said so: the operator's end is the chain's, Vigil's record may stay open.
        excused++;
      } else if (rec === undefined) problems.push(`epoch ${c.epoch}: a false claim and Vigil opened no game`);
      else if (rec.outcome !== 'operator-slashed')
        problems.push(`epoch ${c.epoch}: Vigil's game ended ${rec.state} (${rec.outcome ?? 'no outcome'})`);
      if (!slashed(c) && !explainedFor(rec?.id) && !unplayable)
        problems.push(`epoch ${c.epoch}: the false claim ended ${c.end ?? 'open'} for the operator`);
      if (
        behaviour.stallAt !== undefined &&
        !behaviour.pin &&
        rec !== undefined &&
        !endedByTimeout(rec, behaviour.stallAt)
      )
        problems.push(
          `epoch ${c.epoch}: the operator stalled its ${behaviour.stallAt} and Vigil's game ended by ${rec.end?.by ?? 'nothing'}, not the timeout it races`,
        );
      // The stall must have held: the first rung Vigil wrote was refused (stall), or even its top one (pin).
      if (
        behaviour.stallAt !== undefined &&
        !behaviour.pin &&
        s.game !== undefined &&
        s.game.timeouts.length < 2
      )
        problems.push(
          `epoch ${c.epoch}: Vigil's first timeout rung replaced the stalled ${behaviour.stallAt}`,
        );
      if (
        behaviour.pin &&
        rec !== undefined &&
        !alerts.raised.some((a) => a.name === 'VigilGameTxOutbid' && a.labels.dispute === rec.id)
      )
        problems.push(`epoch ${c.epoch}: the pin never outbid Vigil's top rung (no VigilGameTxOutbid)`);
      if (behaviour.feeSpike && rec !== undefined && s.game?.challengeChildren === 0)
        problems.push(`epoch ${c.epoch}: the fee spike held the challenge and Vigil never paid for it`);
    } else {
      if (rec !== undefined) problems.push(`epoch ${c.epoch}: a true claim and Vigil opened game ${rec.id}`);
      if (c.end !== 'taken' && c.end !== 'paid-out')
        problems.push(`epoch ${c.epoch}: the true claim ended ${c.end ?? 'open'} for the operator`);
    }
    return s;
  });
  if (!finished && excused === 0) problems.push(`not every claim and game ended in ${blocks} blocks`);
  return {
    fault,
    behaviour,
    claims: out,
    blocks,
    finished,
    alerts: alerts.raised,
    alertsNotEvaluated: alerts.notEvaluated,
    ok: problems.length === 0,
    problems,
  };
}
