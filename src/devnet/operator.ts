/**
 * The devnet's operator on Bitcoin. For each epoch it builds and presigns the dispute graph, publishes
 * it, funds the claim output and broadcasts the kick-off; then, once per block, it plays its side of the
 * graph: it asserts its trace when challenged (or, as a faulty operator may, never does), takes the stake
 * back when nobody challenged, and takes the payout when nobody disproved. It follows the chain by
 * reading each new block once and matching the spends of the outputs it watches; the transactions it
 * will ever sign itself (take, assert, payout) have ids fixed by the graph, so any other spender of the
 * same outputs is a challenger's or a slasher's.
 *
 * Regtest only: its keys are derived from public labels (operator-keys.ts).
 */
import type { Logger } from 'pino';
import { addressForScript } from '../bitcoin/backends/address.ts';
import { BroadcastRejectedError } from '../bitcoin/backends/errors.ts';
import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import { taprootOutput } from '../bitcoin/taproot/output.ts';
import { displayHexToHash, hashToDisplayHex, serializeTx, txid, txidHex } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { COINBASE_MATURITY } from '../bitcoin/wallet/wallet.ts';
import { bytesToHex, equalBytes } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import type { Graph } from '../dispute/graph/build.ts';
import type { PresignedSignatures } from '../dispute/graph/sign.ts';
import {
  completeAssert,
  completeKickoff,
  completePayout,
  completeTake,
  readKickoff,
} from '../dispute/graph/spend.ts';
import type { WotsSecretKey } from '../dispute/winternitz/keys.ts';
import { createFeeMarket, type FeeMarket } from './fee-market.ts';
import { CoinPool, OperatorFundsError, spendCoin, type WalletSigner } from './operator-coins.ts';
import {
  claimScript,
  claimValue,
  DEVNET_NETWORK,
  devnetGraphParameters,
  epochKeys,
  graphDocumentText,
  graphFileOf,
  presignedGraph,
  publishGraph,
  writeGraphText,
} from './operator-graph.ts';
import { devnetOperatorKeys, devnetOperatorSecrets } from './operator-keys.ts';
import type {
  ClaimState,
  ClaimView,
  KickoffPlan,
  OperatorApi,
  OperatorHooks,
  SendKind,
} from './strategies/types.ts';

export { devnetOperatorKeys } from './operator-keys.ts';
export { OperatorFundsError };

export class DevnetOperatorError extends VigilError {
  override name = 'DevnetOperatorError';
}

export type EpochClaim = {
  epoch: bigint;
  stateRoot: Uint8Array;
  l2BlockHash: Uint8Array;
  /** r_0 … r_k, k = the graph's trace steps; checkpoints[k] equals stateRoot. */
  checkpoints: Uint8Array[];
  /** The reference model's root, when the devnet knows it (strategies aim their attacks with it). */
  referenceRoot?: Uint8Array;
};

export type OperatorBehaviour = 'assert' | 'never-assert';

export type { ClaimState };

export type DevnetOperator = {
  /**
   * Builds the epoch's graph, presigns it (operator + committee), publishes `${graphDir}/epoch-${epoch}.json`
   * atomically, funds the claim output and broadcasts the kick-off revealing stateRoot and l2BlockHash.
   * Does not mine.
   */
  claim(c: EpochClaim): Promise<{ kickoffTxid: string; graphFile: string }>;
  /** One round of reactions to the chain (call after each block); returns what it did, one line each. */
  react(): Promise<string[]>;
  claims(): { epoch: bigint; kickoffTxid: string; state: ClaimState }[];
};

export type StartDevnetOperatorOptions = {
  bitcoin: DevnetBitcoin;
  graphDir: string;
  behaviour: OperatorBehaviour;
  logger?: Logger;
  /** A strategy's hooks (src/devnet/strategies/); absent hooks keep the behaviour's defaults. */
  hooks?: OperatorHooks;
  /** The devnet's fee market; strategies move it, the operator mines nothing itself. */
  market?: FeeMarket;
};

/** Fee of a claim-funding transaction (one key-path input, two outputs: ~150 vB). */
const CLAIM_FUNDING_FEE = 1_000n;
/** Fee of the transaction that splits the funding coinbase into coins (~1.8 kvB). */
const SPLIT_FEE = 10_000n;
/** Coins the funding is split into; each carries claims until it runs dry (~20 claims from 50 BTC / 24). */
const SPLIT_COINS = 24;
/**
 * Unconfirmed claims one coin's change chain may carry: the first funding transaction then has at most
 * 2 × 10 descendants (claims and kick-offs), inside the mempool's limit of 25. With SPLIT_COINS, 240
 * claims fit before a block.
 */
const MAX_UNCONFIRMED_CHAIN = 10;

type TrackedClaim = {
  epoch: bigint;
  fraud: boolean | undefined;
  checkpoints: Uint8Array[];
  graph: Graph;
  sigs: PresignedSignatures;
  traceSecrets: WotsSecretKey[];
  graphFile: string;
  kickoffTxid: string;
  /** The ids of the operator's own spends, fixed by the graph. */
  ids: Record<SendKind, string>;
  kickoffHeight: number | undefined;
  assertHeight: number | undefined;
  /** Confirmed spenders of connector A, the stake S and the asserted output D. */
  spent: { a?: string; s?: string; d?: string };
  /** The operator's broadcasts the mempool accepted. */
  sent: Set<SendKind>;
  reported: ClaimState;
  /** The strategy said it will never assert this claim. */
  neverAssert: boolean;
};

type Watch = { claim: TrackedClaim; output: 'a' | 's' | 'd' };

const short = (h: string) => `${h.slice(0, 12)}…`;
const outpointKey = (txidHex: string, vout: number) => `${txidHex}:${vout}`;

/** The state a claim is in, from what the chain confirmed and what the operator broadcast since. */
function stateOf(c: TrackedClaim): ClaimState {
  const { a, s, d } = c.spent;
  if (d !== undefined) return d === c.ids.payout ? 'paid-out' : 'disproved';
  if (s !== undefined && s !== c.ids.take && s !== c.ids.assert) return 'slashed';
  if (s === c.ids.take || a === c.ids.take) return 'taken';
  if (s === c.ids.assert || c.sent.has('assert')) return c.sent.has('payout') ? 'paid-out' : 'asserted';
  if (a !== undefined) return 'challenged';
  return c.sent.has('take') ? 'taken' : 'kicked-off';
}

/** A strategy's read-only window on a tracked claim (a snapshot of its state now). */
function viewOf(c: TrackedClaim): ClaimView {
  return {
    epoch: c.epoch,
    fraud: c.fraud,
    graph: c.graph,
    sigs: c.sigs,
    checkpoints: c.checkpoints,
    kickoffTxid: c.kickoffTxid,
    kickoffHeight: c.kickoffHeight,
    assertHeight: c.assertHeight,
    spent: { ...c.spent },
    sent: new Set(c.sent),
    state: stateOf(c),
  };
}

const fraudOf = (e: EpochClaim): boolean | undefined =>
  e.referenceRoot === undefined ? undefined : !equalBytes(e.referenceRoot, e.stateRoot);

/** The caller's arrays are its own to reuse. */
const copyClaim = (e: EpochClaim): EpochClaim => ({
  ...(e.referenceRoot ? { referenceRoot: Uint8Array.from(e.referenceRoot) } : {}),
  epoch: e.epoch,
  stateRoot: Uint8Array.from(e.stateRoot),
  l2BlockHash: Uint8Array.from(e.l2BlockHash),
  checkpoints: e.checkpoints.map((r) => Uint8Array.from(r)),
});

function sameClaim(a: EpochClaim, b: EpochClaim): boolean {
  return (
    equalBytes(a.stateRoot, b.stateRoot) &&
    equalBytes(a.l2BlockHash, b.l2BlockHash) &&
    a.checkpoints.length === b.checkpoints.length &&
    a.checkpoints.every((r, i) => equalBytes(r, b.checkpoints[i] as Uint8Array))
  );
}

function checkClaim(c: EpochClaim): void {
  const k = devnetGraphParameters.traceSteps;
  if (c.epoch < 0n || c.epoch >= 1n << 64n) throw new DevnetOperatorError(`Epoch ${c.epoch} is not a u64`);
  for (const [name, v] of [
    ['state root', c.stateRoot],
    ['L2 block hash', c.l2BlockHash],
  ] as const) {
    if (v.length !== 32)
      throw new DevnetOperatorError(`Epoch ${c.epoch}: the ${name} is ${v.length} bytes, not 32`);
  }
  if (c.checkpoints.length !== k + 1 || c.checkpoints.some((r) => r.length !== 32)) {
    throw new DevnetOperatorError(
      `Epoch ${c.epoch}: the claim needs ${k + 1} 32-byte checkpoints r_0…r_${k}, got ${c.checkpoints.length}`,
    );
  }
  if (!equalBytes(c.checkpoints[k] as Uint8Array, c.stateRoot)) {
    throw new DevnetOperatorError(`Epoch ${c.epoch}: checkpoint r_${k} is not the claimed state root`);
  }
}

export async function startDevnetOperator(o: StartDevnetOperatorOptions): Promise<DevnetOperator> {
  const { bitcoin, graphDir, behaviour, logger } = o;
  const hooks = o.hooks ?? {};
  const market = o.market ?? createFeeMarket(bitcoin);
  const backend = bitcoin.backend;
  const params = devnetGraphParameters;
  const secrets = devnetOperatorSecrets();
  const wallet: WalletSigner = {
    secret: secrets.operator,
    script: taprootOutput(devnetOperatorKeys().operator).scriptPubKey,
  };
  const address = addressForScript(wallet.script, DEVNET_NETWORK) as string;
  const perClaim = claimValue(params) + CLAIM_FUNDING_FEE;

  const pool = new CoinPool(MAX_UNCONFIRMED_CHAIN);
  await fundPool();

  const tracked = new Map<bigint, TrackedClaim>();
  const watched = new Map<string, Watch>();
  /** Txids whose confirmation height matters: kick-offs and asserts. */
  const heights = new Map<string, { claim: TrackedClaim; of: 'kickoff' | 'assert' }>();
  /** The operator's own claim-funding transactions, which deepen its coins while unconfirmed. */
  const ownFunding = new Set<string>();
  /** What each epoch's Winternitz keys signed (or were about to): they must never sign anything else. */
  const signed = new Map<bigint, EpochClaim>();
  let scanned = await backend.getTipHeight();
  let tipHash = await backend.getTipHash();

  /** Splits one mature funding coin into many, and confirms the split (nothing may build on it unconfirmed). */
  async function fundPool(): Promise<void> {
    await bitcoin.fund(address);
    const tip = await backend.getTipHeight();
    const mature = (await backend.getUtxos(address)).filter(
      (u) => u.coinbase !== true || (u.height !== undefined && tip - u.height + 1 >= COINBASE_MATURITY),
    );
    const coin = mature.sort((x, y) => (x.value < y.value ? 1 : x.value > y.value ? -1 : 0))[0];
    const n =
      coin === undefined ? 0 : Math.min(SPLIT_COINS, Number((coin.value - SPLIT_FEE) / (2n * perClaim)));
    if (coin === undefined || n < 1) {
      throw new OperatorFundsError(`The operator's address ${address} has no mature coin worth a claim`);
    }
    const each = (coin.value - SPLIT_FEE) / BigInt(n);
    const { tx } = spendCoin(
      { txid: displayHexToHash(coin.txid), vout: coin.vout, value: coin.value, unconfirmed: new Set() },
      Array.from({ length: n }, () => ({ value: each, script: wallet.script })),
      // The fee takes the split's rounding remainder too.
      coin.value - each * BigInt(n),
      wallet,
    );
    await backend.broadcast(serializeTx(tx));
    await bitcoin.mine(1);
    const id = txid(tx);
    for (let vout = 0; vout < n; vout++) pool.add({ txid: id, vout, value: each, unconfirmed: new Set() });
    logger?.info({ coins: n, each: each.toString(), address }, 'devnet operator funded');
  }

  /** Reads every block since the last scan: confirmations and spends of the watched outputs. */
  async function scan(): Promise<void> {
    const tip = await backend.getTipHeight();
    for (let h = scanned + 1; h <= tip; h++) {
      const block = await backend.getBlock(h);
      if (block === undefined) break;
      if (block.prevHash !== tipHash) {
        // The devnet does not reorganise its chain; if it ever does, state may lag until re-observed.
        logger?.warn({ height: h }, 'devnet operator saw a reorganisation; continuing from the new chain');
      }
      for (const btx of block.txs) {
        if (ownFunding.delete(btx.txid)) pool.confirmed(btx.txid);
        const at = heights.get(btx.txid);
        if (at?.of === 'kickoff') at.claim.kickoffHeight = h;
        if (at?.of === 'assert') at.claim.assertHeight = h;
        for (const input of btx.tx.inputs) {
          const w = watched.get(outpointKey(hashToDisplayHex(input.prevTxid), input.vout));
          if (w !== undefined) w.claim.spent[w.output] = btx.txid;
        }
      }
      scanned = h;
      tipHash = block.hash;
    }
  }

  /** Broadcasts one of the operator's graph transactions; a refusal is a line, not a failure. */
  async function send(c: TrackedClaim, kind: SendKind, tx: Tx, why: string, lines: string[]): Promise<void> {
    try {
      await backend.broadcast(serializeTx(tx));
      c.sent.add(kind);
      lines.push(`epoch ${c.epoch}: ${why} — broadcast the ${kind} ${short(txidHex(tx))}`);
      logger?.info({ epoch: c.epoch.toString(), kind, txid: txidHex(tx) }, 'devnet operator broadcast');
    } catch (err) {
      if (!(err instanceof BroadcastRejectedError)) throw err;
      lines.push(`epoch ${c.epoch}: the ${kind} was refused (${err.reason})`);
      logger?.warn(
        { epoch: c.epoch.toString(), kind, reason: err.reason },
        'devnet operator broadcast refused',
      );
    }
  }

  /** The strategy's view of the operator, writing its story lines to `lines`. */
  function apiFor(lines: string[]): OperatorApi {
    return {
      bitcoin,
      params,
      next: () => scanned + 1,
      claims: () => [...tracked.values()].map(viewOf),
      wallet,
      takeCoin: (value) => pool.take(value),
      returnCoin: (coin) => pool.add(coin),
      broadcast: async (tx, what) => {
        try {
          const id = await backend.broadcast(serializeTx(tx));
          logger?.info({ what, txid: id }, 'devnet operator strategy broadcast');
          return { ok: true, txid: id };
        } catch (err) {
          if (!(err instanceof BroadcastRejectedError)) throw err;
          logger?.warn({ what, reason: err.reason }, 'devnet operator strategy broadcast refused');
          return { ok: false, reason: err.reason };
        }
      },
      sendTake: async (v, why) => {
        const c = tracked.get(v.epoch);
        if (c) await send(c, 'take', completeTake(c.graph, c.sigs).tx, why, lines);
      },
      say: (line) => lines.push(line),
      market,
    };
  }

  /** What to do when challenged this block: the strategy's answer, or the behaviour's default. */
  function assertDecision(c: TrackedClaim, api: OperatorApi): readonly Uint8Array[] | 'wait' | 'never' {
    if (hooks.assert) return hooks.assert(viewOf(c), api);
    return behaviour === 'never-assert' ? 'never' : c.checkpoints.slice(0, params.traceSteps);
  }

  async function reactOnce(): Promise<string[]> {
    await scan();
    const next = scanned + 1;
    const t = params.timelocks;
    const lines: string[] = [];
    const api = apiFor(lines);
    await hooks.round?.(api);
    for (const c of tracked.values()) {
      const state = stateOf(c);
      if (
        state === 'kicked-off' &&
        c.kickoffHeight !== undefined &&
        next >= c.kickoffHeight + t.challengeWindow
      ) {
        await send(
          c,
          'take',
          completeTake(c.graph, c.sigs).tx,
          'unchallenged for the challenge window',
          lines,
        );
      } else if (state === 'challenged' && !c.sent.has('assert') && !c.neverAssert) {
        const decision = assertDecision(c, api);
        if (decision === 'never') c.neverAssert = true;
        else if (decision !== 'wait') {
          const assert = completeAssert(c.graph, c.sigs, c.traceSecrets, decision).tx;
          await send(c, 'assert', assert, `challenged by ${short(c.spent.a ?? '')}`, lines);
        }
      } else if (
        state === 'asserted' &&
        c.assertHeight !== undefined &&
        c.spent.d === undefined &&
        next >= c.assertHeight + t.disproveWindow
      ) {
        await send(
          c,
          'payout',
          completePayout(c.graph, c.sigs).tx,
          'undisproved for the disprove window',
          lines,
        );
      }
      const now = stateOf(c);
      if (now !== c.reported) {
        if (now === 'challenged') {
          lines.push(
            `epoch ${c.epoch}: challenged by ${short(c.spent.a ?? '')}${c.neverAssert ? '; it will not assert' : ''}`,
          );
        } else if (now === 'slashed') {
          lines.push(`epoch ${c.epoch}: slashed — the stake was spent by ${short(c.spent.s ?? '')}`);
        } else if (now === 'disproved') {
          lines.push(
            `epoch ${c.epoch}: disproved — the asserted stake was spent by ${short(c.spent.d ?? '')}`,
          );
        }
        c.reported = now;
      }
    }
    return lines;
  }

  async function claimOnce(e: EpochClaim): Promise<{ kickoffTxid: string; graphFile: string }> {
    checkClaim(e);
    const before = signed.get(e.epoch);
    if (before !== undefined && !sameClaim(before, e)) {
      // A second kick-off under the same Winternitz keys would sign a second message with them.
      throw new DevnetOperatorError(`Epoch ${e.epoch} was already claimed with other values`);
    }
    const existing = tracked.get(e.epoch);
    if (existing !== undefined) return { kickoffTxid: existing.kickoffTxid, graphFile: existing.graphFile };
    await scan();
    const ek = epochKeys(secrets, e.epoch);
    const script = claimScript(ek);
    const coin = pool.take(perClaim);
    let funding: ReturnType<typeof spendCoin>;
    let built: ReturnType<typeof presignedGraph>;
    let graphFile: string;
    try {
      funding = spendCoin(coin, [{ value: claimValue(params), script }], CLAIM_FUNDING_FEE, wallet);
      built = presignedGraph(ek, secrets, { txid: txid(funding.tx), vout: 0, script });
      graphFile = hooks.publish
        ? graphFileOf(graphDir, e.epoch)
        : await publishGraph(graphDir, built.graph, built.sigs);
      if (hooks.publish) {
        await hooks.publish(
          { epoch: e.epoch, text: graphDocumentText(built.graph, built.sigs), fraud: fraudOf(e) },
          { dir: graphDir, write: (epoch, text) => writeGraphText(graphDir, epoch, text) },
        );
      }
      await backend.broadcast(serializeTx(funding.tx));
    } catch (err) {
      pool.add(coin);
      throw new DevnetOperatorError(`Epoch ${e.epoch}: the claim could not be funded`, { cause: err });
    }
    const { graph, sigs } = built;
    const fundingTxid = txidHex(funding.tx);
    ownFunding.add(fundingTxid);
    if (funding.change) pool.add(funding.change);
    const claim = copyClaim(e);
    signed.set(e.epoch, claim);
    const values = { stateRoot: e.stateRoot, l2BlockHash: e.l2BlockHash };
    const kplan: KickoffPlan = hooks.kickoff
      ? hooks.kickoff({
          graph,
          operatorSecret: secrets.operator,
          secrets: ek.kickoff,
          values,
          referenceRoot: e.referenceRoot,
        })
      : { broadcast: completeKickoff(graph, secrets.operator, ek.kickoff, values).tx };
    const kickoff = kplan.broadcast;
    try {
      await backend.broadcast(serializeTx(kickoff));
    } catch (err) {
      throw new DevnetOperatorError(`Epoch ${e.epoch}: the kick-off was refused`, { cause: err });
    }
    if (kplan.mineInstead) {
      market.mineInstead(kplan.mineInstead);
      const shown = readKickoff(graph, kickoff).stateRoot;
      const mined = readKickoff(graph, kplan.mineInstead).stateRoot;
      pendingLines.push(
        `epoch ${e.epoch}: equivocates — the mempool's kick-off reveals root ${short(bytesToHex(shown))}, the block mines the same txid revealing ${short(bytesToHex(mined))}`,
      );
    }
    const kickoffTxid = txidHex(kickoff);
    const c: TrackedClaim = {
      epoch: e.epoch,
      fraud: fraudOf(e),
      checkpoints: claim.checkpoints,
      graph,
      sigs,
      traceSecrets: ek.trace,
      graphFile,
      kickoffTxid,
      ids: {
        take: txidHex(graph.txs.take),
        assert: txidHex(graph.txs.assert),
        payout: txidHex(graph.txs.payout),
      },
      kickoffHeight: undefined,
      assertHeight: undefined,
      spent: {},
      sent: new Set(),
      reported: 'kicked-off',
      neverAssert: false,
    };
    tracked.set(e.epoch, c);
    watched.set(outpointKey(kickoffTxid, 0), { claim: c, output: 'a' });
    watched.set(outpointKey(kickoffTxid, 2), { claim: c, output: 's' });
    watched.set(outpointKey(c.ids.assert, 0), { claim: c, output: 'd' });
    heights.set(kickoffTxid, { claim: c, of: 'kickoff' });
    heights.set(c.ids.assert, { claim: c, of: 'assert' });
    logger?.info(
      { epoch: e.epoch.toString(), kickoffTxid, fundingTxid, stateRoot: bytesToHex(e.stateRoot), graphFile },
      'devnet operator claimed an epoch',
    );
    if (hooks.afterKickoff) {
      const lines: string[] = [];
      await hooks.afterKickoff(viewOf(c), apiFor(lines));
      pendingLines.push(...lines);
    }
    return { kickoffTxid, graphFile };
  }

  /** Lines a strategy said while claiming; told with the next round's. */
  const pendingLines: string[] = [];

  // claim and react share the coin pool and the scan position: one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const run = queue.then(f, f);
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    claim: (c) => serial(() => claimOnce(c)),
    react: () => serial(async () => [...pendingLines.splice(0), ...(await reactOnce())]),
    claims: () =>
      [...tracked.values()].map((c) => ({ epoch: c.epoch, kickoffTxid: c.kickoffTxid, state: stateOf(c) })),
  };
}
