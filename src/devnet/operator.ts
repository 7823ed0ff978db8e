/**
 * The devnet's operator on Bitcoin. For each epoch it builds and presigns the dispute graph, publishes
 * it, funds the claim output and broadcasts the kick-off (operator-kickoff.ts); then, once per block, it
 * plays its side of the graph (operator-reactions.ts): it asserts its trace when challenged (or, as a
 * faulty operator may, never does), takes the stake back when nobody challenged, and takes the payout
 * when nobody disproved. It follows the chain by reading each new block once and matching the spends of
 * the outputs it watches (operator-claims.ts); the transactions it will ever sign itself (take, assert,
 * payout) have ids fixed by the graph, so any other spender of the same outputs is a challenger's or a
 * slasher's. A strategy's hooks (strategies/) see it through operator-strategy.ts.
 *
 * Regtest only: its keys are derived from public labels (operator-keys.ts).
 */
import type { Logger } from 'pino';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import { hashToDisplayHex } from '../bitcoin/tx/serialize.ts';
import { createFeeMarket, type FeeMarket } from './fee-market.ts';
import { ClaimBook, checkClaim, type EpochClaim, stateOf } from './operator-claims.ts';
import { OperatorFundsError } from './operator-coins.ts';
import type { OperatorBehaviour, OperatorContext } from './operator-context.ts';
import { OperatorFunding } from './operator-funding.ts';
import { claimValue, devnetGraphParameters } from './operator-graph.ts';
import { devnetOperatorSecrets } from './operator-keys.ts';
import { type ClaimResult, kickOffEpoch, type RecordedClaim, retrackClaim } from './operator-kickoff.ts';
import { reactToChain } from './operator-reactions.ts';
import { strategyApi } from './operator-strategy.ts';
import type { ClaimState, OperatorHooks } from './strategies/types.ts';

export { DevnetOperatorError, type EpochClaim } from './operator-claims.ts';
export type { OperatorBehaviour } from './operator-context.ts';
export { devnetOperatorKeys } from './operator-keys.ts';
export type { ClaimState };
export { OperatorFundsError };

export type DevnetOperator = {
  /**
   * Builds the epoch's graph, presigns it (operator + committee), publishes `${graphDir}/epoch-${epoch}.json`
   * atomically, funds the claim output and broadcasts the kick-off revealing stateRoot and l2BlockHash.
   * Does not mine.
   */
  claim(c: EpochClaim): Promise<ClaimResult | AlreadyClaimed>;
  /** One round of reactions to the chain (call after each block); returns what it did, one line each. */
  react(): Promise<string[]>;
  claims(): { epoch: bigint; kickoffTxid: string; state: ClaimState; neverAssert: boolean }[];
  /**
   * Forgets the claims settled on Bitcoin (taken, paid out, slashed, disproved) and returns their epochs:
   * a long-running devnet keeps only its open claims in memory. A forgotten epoch must not be claimed
   * again; `claims()` no longer lists it.
   */
  forgetSettled(): bigint[];
  /** Plays another strategy from the next round on (a served devnet's `vigil devnet operator`). */
  setStrategy(behaviour: OperatorBehaviour, hooks: OperatorHooks): void;
};

/** A claim of an epoch claimed before: nothing was broadcast this time. */
export type AlreadyClaimed = { kickoffTxid: string; graphFile: string; fundingTxid: string; already: true };

export type StartDevnetOperatorOptions = {
  bitcoin: DevnetBitcoin;
  graphDir: string;
  behaviour: OperatorBehaviour;
  logger?: Logger;
  /** A strategy's hooks (src/devnet/strategies/); absent hooks keep the behaviour's defaults. */
  hooks?: OperatorHooks;
  /** The devnet's fee market; strategies move it, the operator mines nothing itself. */
  market?: FeeMarket;
  /**
   * Claims made before a restart (a served devnet): tracked again, and the chain scanned from
   * `scanFrom` (a height at or before the first of their kick-offs) instead of from the tip (the tip
   * when absent: no claim is open).
   */
  resume?: { claims: readonly RecordedClaim[]; scanFrom?: number };
  /** How many claims a new operator's funding should carry (default: one pool of about 480). */
  fundFor?: number;
  /**
   * The seed of the graphs' Winternitz keys (default: fresh). A served devnet keeps its own, so graphs
   * rebuilt after a restart are the graphs it published.
   */
  wotsSeed?: Uint8Array;
};

/** Reads each new block once, in order, and hands its transactions to the funding and the claims. */
class ChainScan {
  private constructor(
    private readonly backend: BitcoinBackend,
    private readonly funding: OperatorFunding,
    private readonly claims: ClaimBook,
    private readonly logger: Logger | undefined,
    private scanned: number,
    private tipHash: string,
  ) {}

  /**
   * Starts at the current tip (what was mined before is not the operator's concern), or after block
   * `from` when claims made before a restart must be followed again.
   */
  static async fromTip(
    backend: BitcoinBackend,
    funding: OperatorFunding,
    claims: ClaimBook,
    logger: Logger | undefined,
    from?: number,
  ): Promise<ChainScan> {
    const tip = await backend.getTipHeight();
    const scanned = from === undefined ? tip : Math.min(Math.max(0, from), tip);
    const block = from === undefined ? undefined : await backend.getBlock(scanned);
    const tipHash = block?.hash ?? (await backend.getTipHash());
    return new ChainScan(backend, funding, claims, logger, scanned, tipHash);
  }

  /** The height the next broadcast can first be mined at. */
  next(): number {
    return this.scanned + 1;
  }

  /** Reads every block since the last scan: confirmations and spends of the watched outputs. */
  async scan(): Promise<void> {
    const tip = await this.backend.getTipHeight();
    for (let h = this.scanned + 1; h <= tip; h++) {
      const block = await this.backend.getBlock(h);
      if (block === undefined) break;
      if (block.prevHash !== this.tipHash) {
        // The devnet does not reorganise its chain; if it ever does, state may lag until re-observed.
        this.logger?.warn(
          { height: h },
          'devnet operator saw a reorganisation; continuing from the new chain',
        );
      }
      for (const btx of block.txs) {
        this.funding.observe(btx);
        this.claims.observe(btx, h);
      }
      this.scanned = h;
      this.tipHash = block.hash;
    }
  }
}

export async function startDevnetOperator(o: StartDevnetOperatorOptions): Promise<DevnetOperator> {
  const { bitcoin, graphDir, behaviour, logger } = o;
  const hooks = o.hooks ?? {};
  const market = o.market ?? createFeeMarket(bitcoin);
  const backend = bitcoin.backend;
  const params = devnetGraphParameters;
  const secrets = { ...devnetOperatorSecrets(), ...(o.wotsSeed ? { wotsSeed: o.wotsSeed } : {}) };
  const funding = o.resume
    ? await OperatorFunding.reopen(bitcoin, claimValue(params), secrets, logger)
    : await OperatorFunding.open(bitcoin, claimValue(params), secrets, logger, o.fundFor);
  const claims = new ClaimBook();
  const chain = await ChainScan.fromTip(backend, funding, claims, logger, o.resume?.scanFrom);
  const ctx: OperatorContext = {
    bitcoin,
    backend,
    params,
    secrets,
    graphDir,
    behaviour,
    hooks,
    market,
    logger,
    funding,
    claims,
    next: () => chain.next(),
  };

  for (const r of o.resume?.claims ?? []) retrackClaim(ctx, r);

  /** Lines a strategy said while claiming; told with the next round's. */
  const pendingLines: string[] = [];

  async function claimOnce(e: EpochClaim): Promise<ClaimResult | AlreadyClaimed> {
    checkClaim(e);
    claims.checkNotSignedOtherwise(e);
    const existing = claims.get(e.epoch);
    if (existing !== undefined) {
      const fundingTxid = hashToDisplayHex(
        existing.graph.txs.kickoff.inputs[0]?.prevTxid ?? new Uint8Array(32),
      );
      return { kickoffTxid: existing.kickoffTxid, graphFile: existing.graphFile, fundingTxid, already: true };
    }
    await chain.scan();
    return kickOffEpoch(ctx, e, pendingLines);
  }

  async function reactOnce(): Promise<string[]> {
    await chain.scan();
    const lines: string[] = [];
    const refilled = await funding.refill(backend, logger);
    if (refilled !== undefined) lines.push(refilled);
    await reactToChain(ctx, strategyApi(ctx, lines), lines);
    return lines;
  }

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
      [...claims.all()].map((c) => ({
        epoch: c.epoch,
        kickoffTxid: c.kickoffTxid,
        state: stateOf(c),
        neverAssert: c.neverAssert,
      })),
    forgetSettled: () => claims.forgetSettled(),
    setStrategy: (behaviour, newHooks) => {
      ctx.behaviour = behaviour;
      ctx.hooks = newHooks;
    },
  };
}
