/**
 * A claim on the simnet for the game job's tests: the claim graph imported, its kick-off (a false root by
 * default) confirmed, a game record opened for Vigil as challenger 0, the job's context on real Redis and
 * the simnet's Esplora front, and an operator that plays its side from the chain alone: it asserts at T_c,
 * answers every round with its own trace (lying where it must to keep its root), and sweeps a silent
 * challenger's pot.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { EsploraBackend } from '../../src/bitcoin/backends/esplora.ts';
import type { BitcoinBackend } from '../../src/bitcoin/backends/types.ts';
import type { MempoolEntry } from '../../src/bitcoin/simnet/mempool.ts';
import { type Simnet, startSimnet } from '../../src/bitcoin/simnet/start.ts';
import { serializeTx, txidHex } from '../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import { readGameProgress } from '../../src/challenger/game-chain.ts';
import type { GameJobContext } from '../../src/challenger/game-context.ts';
import { bytesToHex } from '../../src/core/bytes.ts';
import { anotherValue } from '../../src/devnet/game-equivocate.ts';
import { challengeId } from '../../src/dispute/game/claim-graph.ts';
import type { GameGraph } from '../../src/dispute/game/game-graph.ts';
import { nextTurn, SILENT_CHALLENGER } from '../../src/dispute/game/game-turn.ts';
import { REGTEST_SEARCH } from '../../src/dispute/game/grid.ts';
import { moveTx } from '../../src/dispute/game/move-tx.ts';
import type { MoveValues } from '../../src/dispute/game/move-values.ts';
import type { GameContext } from '../../src/dispute/game/moves.ts';
import type { OperatorPlayer } from '../../src/dispute/game/players.ts';
import type { WatcherMode } from '../../src/dispute/plan/spend-policy.ts';
import { GameStore } from '../../src/dispute/records/game-store.ts';
import { asTxid } from '../../src/dispute/records/types.ts';
import { wotsParameters } from '../../src/dispute/winternitz/parameters.ts';
import { type WatcherMetrics, watcherMetrics } from '../../src/queue/metrics.ts';
import { deleteKeysByPrefix } from '../../src/store/redis.ts';
import { REDIS_URL } from '../../testkit/queue/scenario.ts';
import { MINER } from '../dispute/game/chain-play.ts';
import {
  assertOf,
  type ClaimChain,
  claimChain,
  kickoffOf,
  operatorSweep,
} from '../dispute/game/claim-chain.ts';
import { contextOf, type Epoch, operatorOf, smallEpoch } from '../dispute/game/setup.ts';

export const shape = REGTEST_SEARCH;
export const epoch: Epoch = smallEpoch();
export const FALSE_ROOT = epoch.honest.result ^ 1n;

export type GameSetup = {
  readonly sim: Simnet;
  readonly c: ClaimChain;
  readonly backend: BitcoinBackend;
  readonly store: GameStore;
  readonly ctx: GameJobContext;
  readonly metrics: WatcherMetrics;
  readonly registry: Registry;
  readonly id: string;
  /** The Redis key prefix of the store (and of a queue beside it). */
  readonly prefix: string;
  readonly kickoffHeight: number;
  /** Ids of games the job untracked. */
  readonly untracked: string[];
  mine(n?: number): void;
  /** Mines one block of the mempool's transactions, `tx` in place of the one with its txid (another witness). */
  mineInstead(tx: Tx): void;
  stop(): Promise<void>;
};

export type SetupOptions = {
  readonly root?: bigint;
  readonly mode?: WatcherMode;
  /** Wraps the backend the job uses (a failing broadcast, say). */
  readonly wrap?: (b: BitcoinBackend) => BitcoinBackend;
  /** Vigil's fee cap in sat/vB (default 2,000). */
  readonly maxFeeRateSatVb?: number;
  /** Registered challengers of the claim (default 1); Vigil is challenger 0. */
  readonly challengers?: number;
};

export async function gameSetup(options: SetupOptions = {}): Promise<GameSetup> {
  let now = 1_700_000_000;
  const sim = await startSimnet({ clock: () => (now += 600) });
  const esplora: BitcoinBackend = new EsploraBackend({ baseUrl: sim.esploraUrl, retry: { attempts: 1 } });
  const backend = options.wrap?.(esplora) ?? esplora;
  const c = claimChain(epoch, options.challengers ?? 1, sim.chain);
  const kickoff = kickoffOf(c, options.root ?? FALSE_ROOT);
  await esplora.broadcast(serializeTx(kickoff));
  c.chain.mine(MINER);
  const kickoffHeight = c.chain.height;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const prefix = `{vigil-test-${randomUUID()}}`;
  const store = new GameStore(redis, prefix);
  const { record } = await store.open({
    epoch: c.fx.spec.epoch,
    kickoffTxid: asTxid(txidHex(kickoff)),
    kickoffHeight,
    w: 0,
    document: bytesToHex(new Uint8Array(32)),
  });
  const registry = new Registry();
  const metrics = watcherMetrics(registry);
  const untracked: string[] = [];
  const ctx: GameJobContext = {
    store,
    backend,
    mode: options.mode ?? 'challenge',
    network: 'regtest',
    allowMainnetSpending: false,
    fees: { targetBlocks: 2, maxFeeRateSatVb: options.maxFeeRateSatVb ?? 2_000, fallbackSatVb: 1 },
    confirmations: 1,
    metrics,
    logger: undefined,
    materialOf: async () => ({
      claim: c.graph,
      sigs: { claim: c.sigs, games: c.gameSigs },
      honest: epoch.view,
      root: epoch.honest.result,
      keys: {
        secret: c.fx.secrets.challengers[0] as Uint8Array,
        sign: c.fx.sign.challenger[0] as NonNullable<(typeof c.fx.sign.challenger)[number]>,
      },
    }),
    untrack: async (id) => {
      untracked.push(id);
    },
  };
  return {
    sim,
    c,
    backend,
    store,
    ctx,
    metrics,
    registry,
    id: record.id,
    prefix,
    kickoffHeight,
    untracked,
    mine(n = 1) {
      for (let i = 0; i < n; i++) c.chain.mine(MINER);
    },
    mineInstead(tx) {
      const id = txidHex(tx);
      const pool = c.chain.mempoolByFeerate().map((t) => c.chain.mempool.get(t)?.tx as Tx);
      if (!pool.some((t) => txidHex(t) === id)) throw new Error(`${id} is not in the mempool`);
      c.chain.mine(
        MINER,
        pool.map((t) => (txidHex(t) === id ? tx : t)),
      );
    },
    async stop() {
      await deleteKeysByPrefix(redis, prefix);
      await redis.quit();
      await sim.stop();
    },
  };
}

/** What the operator does when its turn comes: play its trace, or stay silent at one move. */
export type OperatorPlan = {
  readonly player?: OperatorPlayer;
  /** The operator never sends this move (its timeout is Vigil's to take). */
  readonly silentAt?: string;
  /** The operator never asserts. */
  readonly neverAsserts?: boolean;
  /** The operator asserts only from this height on (a late assert). */
  readonly assertFrom?: number;
  /** What the kick-off fixed (default: the small epoch with FALSE_ROOT claimed). */
  readonly context?: GameContext;
  /**
   * At this move the operator makes two versions of its transaction (one txid): the mempool gets one and
   * `substitute` receives the other, for the next block to mine instead. `values`: the mempool's version
   * signs another value (an equivocation), the block's is the move. `encoding`: the mempool's is the move,
   * the block's the same values with every digit pushed non-minimally (consensus-valid, no equivocation).
   */
  readonly twoVersionsAt?: {
    readonly move: string;
    readonly other: 'values' | 'encoding';
    readonly substitute: (tx: Tx) => void;
  };
};

/** `tx` with every Winternitz digit item of move `id` pushed non-minimally: 0 as 0x00, d as d 0x00. */
function nonMinimalDigits(game: GameGraph, id: string, tx: Tx): Tx {
  const count = (j: number): number => {
    const input = game.nodes.get(id)?.inputs[j];
    if (input === undefined) return 0;
    const items = (bytes: number) => 2 * wotsParameters(bytes).totalDigits;
    return (
      input.values.reduce((n, v) => n + items(v.key.messageBytes), 0) +
      input.echoes.reduce((n, e) => n + items(e.theirs.messageBytes) + items(e.ours.messageBytes), 0)
    );
  };
  return {
    ...tx,
    inputs: tx.inputs.map((inp, j) => ({
      ...inp,
      witness: inp.witness.map((item, k) =>
        k % 2 === 1 && k < count(j)
          ? item.length === 0
            ? Uint8Array.of(0)
            : Uint8Array.of(...item, 0)
          : item,
      ),
    })),
  };
}

/**
 * The operator's side for one block, from the chain alone: the assert once T_c has passed after a
 * challenge, else the move it owes (from its trace), else the sweep of a pot Vigil left for t. Returns
 * what it sent, if anything.
 */
export async function operatorActs(
  s: Pick<GameSetup, 'c' | 'sim' | 'backend' | 'kickoffHeight'>,
  plan: OperatorPlan = {},
): Promise<string | undefined> {
  const { c, sim } = s;
  const ctx = plan.context ?? contextOf(epoch, FALSE_ROOT);
  const player = plan.player ?? operatorOf(shape, epoch);
  const tip = sim.chain.height;
  const send = (tx: Tx, what: string): string | undefined => {
    try {
      sim.chain.acceptTx(tx);
      return what;
    } catch {
      return undefined;
    }
  };
  const progress = await readGameProgress(s.backend, c.graph, 0, 1);
  if (progress.onChain.assert === undefined) {
    if (plan.neverAsserts || progress.shallow.includes('assert')) return undefined;
    const challenged = sim.chain.findTx(txidHex(c.graph.txs.get(challengeId(0))?.tx as Tx));
    if (challenged === undefined || tip + 1 < s.kickoffHeight + c.fx.spec.timelocks.challenge)
      return undefined;
    if (plan.assertFrom !== undefined && tip + 1 < plan.assertFrom) return undefined;
    const move = player.assert();
    if (move === undefined) return undefined;
    const two = plan.twoVersionsAt;
    if (two?.move === 'assert' && two.other === 'values') {
      const flipped = Uint8Array.from(move.points[0] as Uint8Array);
      flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
      const decoy = assertOf(c, { ...move, points: [flipped, ...move.points.slice(1)] });
      const sent = send(decoy, 'assert (two versions)');
      if (sent !== undefined) two.substitute(assertOf(c, move));
      return sent;
    }
    return send(assertOf(c, move), 'assert');
  }
  if (progress.end !== undefined || progress.shallow.length > 0) return undefined;
  const turn = nextTurn(ctx, shape, progress.onChain, { operator: player, challenger: SILENT_CHALLENGER });
  const game = c.graph.games[0];
  if (game === undefined) throw new Error('no game');
  if (turn.kind === 'move' && turn.side === 'operator') {
    if (turn.id === plan.silentAt) return undefined;
    const build = (values: MoveValues) =>
      moveTx(
        game,
        c.gameSigs[0] as NonNullable<(typeof c.gameSigs)[number]>,
        turn.id,
        values,
        progress.published,
        c.fx.sign.operator[0] as NonNullable<(typeof c.fx.sign.operator)[number]>,
      );
    const tx = build(turn.values);
    const two = plan.twoVersionsAt;
    if (two !== undefined && two.move === turn.id) {
      const [pooled, mined] =
        two.other === 'values'
          ? [build(anotherValue(turn.values)), tx]
          : [tx, nonMinimalDigits(game, turn.id, tx)];
      if (txidHex(pooled) !== txidHex(mined)) throw new Error('two versions of one move with two txids');
      const sent = send(pooled, `${turn.id} (two versions)`);
      if (sent !== undefined) two.substitute(mined);
      return sent;
    }
    return send(tx, turn.id);
  }
  if (turn.kind === 'silent' && turn.side === 'challenger' && progress.last !== undefined) {
    if (tip + 1 < progress.last.height + c.fx.spec.timelocks.move) return undefined;
    const site = progress.last.id === 'assert' ? 'reserve' : progress.last.id;
    return send(operatorSweep(c, 0, site), `sweep:${site}`);
  }
  return undefined;
}

/**
 * One block as a market with a floor mines it: every mempool package (a transaction and its ancestors)
 * whose rate reaches `floorSatVb`, parents first. Regtest's own miner takes everything.
 */
export function mineAtFloor(g: Pick<GameSetup, 'c'>, floorSatVb: bigint): string[] {
  const pool = g.c.chain.mempool;
  const entry = (id: string) => pool.get(id) as MempoolEntry;
  const chosen = new Set<string>();
  for (const e of pool.entries.values()) {
    const family = [...pool.ancestors(e.txid, true)].map(entry);
    const fee = family.reduce((a, x) => a + x.fee, 0n);
    const vsize = family.reduce((a, x) => a + x.vsize, 0);
    if (fee >= floorSatVb * BigInt(vsize)) for (const x of family) chosen.add(x.txid);
  }
  const ordered = [...chosen].sort((a, b) => pool.ancestors(a).size - pool.ancestors(b).size);
  g.c.chain.mine(
    MINER,
    ordered.map((id) => entry(id).tx),
  );
  return ordered;
}
