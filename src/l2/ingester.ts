/**
 * Reorg-safe ingestion of L2 logs (and, when asked, reverted transactions) into a derived state.
 *
 * One step: read the head, take the next range of blocks that are `confirmations` deep (bounded by
 * `maxRange`), check that its first block's parent is our cursor (else: reorg), fetch its logs in adaptive
 * sub-ranges and its reverted transactions to the watched addresses, make sure the chain did not move
 * under us while fetching, decode both in L2 order (block, tx index, log index), persist the range's journal and the new cursor atomically, then apply it
 * to the in-memory derived state and run the per-block hooks (the epoch-end cross-check).
 *
 * The derived state is a pure function of the journal, so rewinding after a reorg is "drop the journal
 * above the fork point, reset, replay", and a restart is "replay the journal, continue from the cursor".
 *
 * With `checkHeader`, every block header of a range is read too (batched: the range's headers replace
 * its two end headers, ceil(n / 200) HTTP requests) and handed to `checkHeader` in chain order, each
 * before its own block's entries are applied: the derived state it sees is the one after every block
 * below it. A step that fails after committing its range (a hook's RPC outage, a crash) leaves headers
 * unchecked above the hooked mark; the next step reads them again, linked to the cursor, and checks them.
 */
import type { Logger } from 'pino';
import type { Address, Hash, Log } from 'viem';
import { VigilError } from '../core/errors.ts';
import type { BlockRef, JournalBase, JournalBlock, JournalStore } from './cursor-store.ts';
import { AdaptiveLogFetcher } from './log-fetcher.ts';
import type { L2Metrics } from './metrics.ts';
import { type RevertedTx, RevertedTxFetcher } from './revert-fetcher.ts';
import type { BlockHeader, L2Rpc } from './rpc.ts';

export class UndecodableLogError extends VigilError {
  override name = 'UndecodableLogError';
}

/** A reverted transaction's calldata is no input: it is skipped (the rules would refuse it anyway). */
export class UndecodableTxError extends VigilError {
  override name = 'UndecodableTxError';
}

/**
 * A consumer of decoded entries; must be a pure function of its base (genesis when none) and the entries
 * applied since `reset()`. `fromEntry` skips the first entries of a block (the base's block: the base
 * holds them). A derivation that cannot start from a base throws when given one.
 */
export type Derivation<T> = {
  reset(base?: JournalBase): void;
  applyBlock(block: JournalBlock<T>, fromEntry?: number): void;
};

export type IngesterOptions<T> = {
  rpc: L2Rpc;
  store: JournalStore<T>;
  addresses: readonly Address[];
  /** Turns one log into entries ([] to ignore it); throw UndecodableLogError (or anything) to skip it. */
  decode: (log: Log) => T[];
  /**
   * Turns one REVERTED transaction to a watched address into entries ([] to ignore it; throw to skip it,
   * counted as undecodable). When set, every block of a range is also read for reverted transactions.
   */
  decodeReverted?: (tx: RevertedTx) => T[];
  derivation: Derivation<T>;
  /** First block that can hold relevant logs (the deployment block). */
  startBlock: bigint;
  confirmations?: number;
  /** Upper bound on blocks per step and per eth_getLogs call. */
  maxRange?: bigint;
  metrics?: L2Metrics;
  logger?: Logger;
  /** Runs after a new block's entries are applied (not during replays): the epoch-end cross-check. */
  afterBlock?: (block: JournalBlock<T>) => Promise<void>;
  /** Runs after a rewind, so consumers can retract what they derived from orphaned blocks. */
  onRewind?: (forkPoint: BlockRef, orphanedFrom: bigint) => void;
  /**
   * Runs on every block header the ingester follows (not during replays), in chain order, before that
   * block's entries are applied: the L2 header checks. Must not throw.
   */
  checkHeader?: (header: BlockHeader) => void;
  /** Metric label for an entry. */
  entryKind?: (entry: T) => string;
  pollIntervalMs?: number;
};

export type StepResult = 'progressed' | 'idle' | 'reorg' | 'moved';

/** A log or a reverted transaction at its chain position (a reverted tx has no logs: index -1). */
type Positioned = { block: bigint; tx: number; index: number } & (
  | { log: Log; reverted?: undefined }
  | { reverted: RevertedTx; log?: undefined }
);

export class L2Ingester<T> {
  private readonly o: Required<Pick<IngesterOptions<T>, 'confirmations' | 'maxRange' | 'pollIntervalMs'>> &
    IngesterOptions<T>;
  private readonly fetcher: AdaptiveLogFetcher;
  private readonly revertFetcher: RevertedTxFetcher | undefined;
  private cursorRef: BlockRef | undefined;
  private initialized = false;
  private pending: JournalBlock<T>[] = [];
  private stopped = false;
  private wake: (() => void) | undefined;
  /** The last block whose header `checkHeader` saw (or that needs none: at or below the start). */
  private headersChecked = -1n;
  /** Headers read but not checked yet, by number (at most a range, or a resumed range). */
  private headerCache = new Map<bigint, BlockHeader>();
  /** The block of the pruned journal's base, when it has one: no rewind can reach below it. */
  private baseBlock: bigint | undefined;

  constructor(options: IngesterOptions<T>) {
    this.o = {
      ...options,
      confirmations: options.confirmations ?? 0,
      maxRange: options.maxRange ?? 1_000n,
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
    };
    this.fetcher = new AdaptiveLogFetcher(options.rpc, options.addresses, this.o.maxRange);
    this.revertFetcher = options.decodeReverted
      ? new RevertedTxFetcher(options.rpc, options.addresses, options.logger)
      : undefined;
  }

  get cursor(): BlockRef | undefined {
    return this.cursorRef;
  }

  /** True when the derived state covers every journaled block and every after-block hook has run. */
  get synced(): boolean {
    const headersDone = !this.o.checkHeader || this.headersChecked >= (this.cursorRef?.number ?? -1n);
    return this.initialized && this.pending.length === 0 && headersDone;
  }

  /**
   * Restores the derived state from the journal in Redis and positions the cursor. Blocks whose hooks had
   * not completed (a crash or an RPC outage during the cross-check) are queued to be applied with hooks.
   */
  async init(): Promise<void> {
    const stored = await this.o.store.cursor();
    this.pending = [];
    if (stored) {
      await this.replayJournal();
      this.cursorRef = stored;
      this.o.logger?.info(
        { cursor: stored.number.toString(), pendingBlocks: this.pending.length },
        'L2 ingestion resumed from the stored cursor',
      );
    } else {
      this.o.derivation.reset();
      const before = this.o.startBlock - 1n;
      const h = before >= 0n ? await this.o.rpc.header(before) : undefined;
      this.cursorRef = { number: before, hash: (h?.hash ?? `0x${'0'.repeat(64)}`) as Hash };
    }
    this.o.metrics?.processedBlock.set(Number(this.cursorRef.number));
    await this.resetHeaderMark();
    this.initialized = true;
  }

  /**
   * Headers are checked along with the hooks: every header at or below the hooked mark was checked, and
   * the ones above it (a step that failed after its commit) are read again and checked.
   */
  private async resetHeaderMark(): Promise<void> {
    const hooked = await this.o.store.hooked();
    const floor = this.o.startBlock - 1n;
    this.headersChecked = hooked > floor ? hooked : floor;
    this.headerCache.clear();
  }

  /**
   * Reads the headers of blocks ingested whose headers were not checked (a step failed after its
   * commit): false when they no longer lead to the cursor (the chain reorganised meanwhile).
   */
  private async readUncheckedHeaders(cursor: BlockRef): Promise<boolean> {
    if (!this.o.checkHeader || this.headersChecked >= cursor.number) return true;
    if (this.headerCache.has(this.headersChecked + 1n)) return true;
    const headers = await this.o.rpc.headers(this.headersChecked + 1n, cursor.number);
    if (!linked(headers) || headers[headers.length - 1]?.hash !== cursor.hash) return false;
    for (const h of headers) this.headerCache.set(h.number, h);
    return true;
  }

  /** Hands every header up to `through` not checked yet to `checkHeader`, in order. */
  private checkHeadersThrough(through: bigint): void {
    if (!this.o.checkHeader) return;
    while (this.headersChecked < through) {
      const n = this.headersChecked + 1n;
      const h = this.headerCache.get(n);
      if (!h) throw new VigilError(`L2 header ${n} was not read before its block was applied`);
      this.o.checkHeader(h);
      this.headerCache.delete(n);
      this.headersChecked = n;
    }
  }

  /**
   * Rebuilds the derived state from the base (genesis when the journal was never pruned) and the journal:
   * blocks whose hooks ran are applied, the rest queued. The base's block is applied from its first entry
   * the base does not hold, and the blocks below it (a prune that raced this read) are skipped.
   */
  private async replayJournal(): Promise<void> {
    const base = await this.o.store.base?.();
    this.o.derivation.reset(base);
    this.baseBlock = base?.block;
    const hooked = await this.o.store.hooked();
    this.pending = [];
    for (const b of await this.o.store.journal()) {
      if (base !== undefined && b.number < base.block) continue;
      const from = base !== undefined && b.number === base.block ? base.entries : 0;
      if (b.number <= hooked) this.o.derivation.applyBlock(b, from);
      else if (from === 0) this.pending.push(b);
      else throw new VigilError(`L2 journal base at block ${b.number} is above the hooked mark ${hooked}`);
    }
  }

  /**
   * Prunes the journal: `base` (built by the derivation from its state) is stored and the blocks below its
   * block dropped, all or nothing. Only for a base whose block is hooked and applied (the derivation
   * builds it from what it applied). False when the store cannot prune or holds a newer base.
   */
  async compact(base: JournalBase): Promise<boolean> {
    if (!this.o.store.compact) return false;
    if (!this.initialized || this.pending.length > 0) {
      throw new VigilError('L2 journal compaction asked while blocks are waiting to be applied');
    }
    if (base.block > (this.cursorRef?.number ?? -1n)) {
      throw new VigilError(`L2 journal base at block ${base.block} is above the cursor`);
    }
    const moved = await this.o.store.compact(base);
    if (moved) this.baseBlock = base.block;
    return moved;
  }

  /**
   * Applies the queued blocks in order, each followed by its hook. A hook failure leaves the derived
   * state ahead of the hooks, so the next step rebuilds it from the journal (init) and retries the hook.
   */
  private async drainPending(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const b = this.pending[0] as JournalBlock<T>;
        // The header of b (and of the blocks without entries before it) against the state before b.
        this.checkHeadersThrough(b.number);
        this.o.derivation.applyBlock(b);
        if (this.o.afterBlock) await this.o.afterBlock(b);
        this.pending.shift();
        await this.o.store.setHooked(b.number);
      }
    } catch (err) {
      this.initialized = false;
      throw err;
    }
  }

  /** Processes at most one range. */
  async step(): Promise<StepResult> {
    if (!this.initialized) await this.init();
    const cursor = this.cursorRef as BlockRef;
    if (!(await this.readUncheckedHeaders(cursor))) {
      await this.handleReorg(cursor);
      return 'reorg';
    }
    if (this.pending.length > 0 || (this.o.checkHeader && this.headersChecked < cursor.number)) {
      await this.drainPending();
      this.checkHeadersThrough(cursor.number);
      await this.o.store.setHooked(cursor.number);
      return 'progressed';
    }
    const head = await this.o.rpc.blockNumber();
    this.o.metrics?.head.set(Number(head));
    const safe = head - BigInt(this.o.confirmations);
    if (safe <= cursor.number) {
      // Nothing new to act on, but the blocks we acted on may have been replaced (a reorg to a chain of
      // the same or smaller height): check that our cursor is still canonical.
      if (cursor.number >= this.o.startBlock) {
        const now = await this.o.rpc.headerIfExists(cursor.number);
        if (now?.hash !== cursor.hash) {
          await this.handleReorg(cursor);
          return 'reorg';
        }
      }
      return 'idle';
    }
    const from = cursor.number + 1n;
    const to = cursor.number + this.o.maxRange < safe ? cursor.number + this.o.maxRange : safe;

    let toHeader: BlockHeader;
    let fromHeader: BlockHeader;
    let rangeHeaders: BlockHeader[] = [];
    if (this.o.checkHeader) {
      rangeHeaders = await this.o.rpc.headers(from, to);
      fromHeader = rangeHeaders[0] as BlockHeader;
      toHeader = rangeHeaders[rangeHeaders.length - 1] as BlockHeader;
    } else {
      toHeader = await this.o.rpc.header(to);
      fromHeader = from === to ? toHeader : await this.o.rpc.header(from);
    }
    if (cursor.number >= 0n && fromHeader.parentHash !== cursor.hash) {
      await this.handleReorg(cursor);
      return 'reorg';
    }
    if (!linked(rangeHeaders)) return 'moved';
    const logs = await this.fetcher.fetch(from, to);
    const reverted = this.revertFetcher ? await this.revertFetcher.fetch(from, to) : [];
    const toAgain = await this.o.rpc.header(to);
    if (toAgain.hash !== toHeader.hash) return 'moved';

    const ordered: Positioned[] = [];
    for (const log of logs) {
      if (log.blockNumber === null || log.transactionIndex === null || log.logIndex === null) continue;
      if (log.removed) continue;
      if (log.blockNumber === to && log.blockHash !== toHeader.hash) return 'moved';
      if (log.blockNumber === from && log.blockHash !== fromHeader.hash) return 'moved';
      ordered.push({ log, block: log.blockNumber, tx: log.transactionIndex, index: log.logIndex });
    }
    for (const r of reverted) {
      if (r.block === to && r.blockHash !== toHeader.hash) return 'moved';
      if (r.block === from && r.blockHash !== fromHeader.hash) return 'moved';
      ordered.push({ reverted: r, block: r.block, tx: r.txIndex, index: -1 });
    }
    ordered.sort((a, b) =>
      a.block !== b.block ? (a.block < b.block ? -1 : 1) : a.tx !== b.tx ? a.tx - b.tx : a.index - b.index,
    );

    const blocks: JournalBlock<T>[] = [];
    for (const p of ordered) {
      let entries: T[];
      try {
        entries = p.reverted ? this.decodeReverted(p.reverted) : this.o.decode(p.log);
      } catch (err) {
        if (p.reverted) {
          this.o.metrics?.undecodableTxs.inc();
          this.o.logger?.warn(
            {
              block: p.block.toString(),
              txIndex: p.tx,
              tx: p.reverted.hash,
              to: p.reverted.to,
              selector: p.reverted.input.slice(0, 10),
              err: err instanceof Error ? err.message.split('\n')[0] : String(err),
            },
            'skipping a reverted L2 transaction whose calldata is no governance input',
          );
          continue;
        }
        this.o.metrics?.undecodable.inc();
        this.o.logger?.warn(
          {
            block: p.block.toString(),
            txIndex: p.tx,
            logIndex: p.index,
            address: p.log?.address,
            topic0: p.log?.topics[0],
            err: err instanceof Error ? err.message.split('\n')[0] : String(err),
          },
          'skipping an undecodable L2 log',
        );
        continue;
      }
      if (entries.length === 0) continue;
      let last = blocks[blocks.length - 1];
      if (!last || last.number !== p.block) {
        last = {
          number: p.block,
          hash: (p.reverted ? p.reverted.blockHash : p.log.blockHash) as Hash,
          entries: [],
        };
        blocks.push(last);
      }
      last.entries.push(...entries);
    }

    const newCursor: BlockRef = { number: to, hash: toHeader.hash };
    await this.o.store.commit(blocks, [{ number: from, hash: fromHeader.hash }], newCursor);
    this.cursorRef = newCursor;
    if (this.o.metrics) {
      for (const b of blocks) {
        for (const e of b.entries) this.o.metrics.inputs.inc({ kind: this.o.entryKind?.(e) ?? 'entry' });
      }
    }
    for (const h of rangeHeaders) this.headerCache.set(h.number, h);
    this.pending.push(...blocks);
    await this.drainPending();
    this.checkHeadersThrough(to);
    await this.o.store.setHooked(to);
    this.o.metrics?.processedBlock.set(Number(to));
    return 'progressed';
  }

  private decodeReverted(tx: RevertedTx): T[] {
    if (!this.o.decodeReverted) return [];
    return this.o.decodeReverted(tx);
  }

  private async handleReorg(cursor: BlockRef): Promise<void> {
    this.o.metrics?.reorgs.inc();
    let fork: BlockRef | undefined;
    let below = cursor.number;
    search: while (below >= this.o.startBlock - 1n) {
      const candidates = await this.o.store.checkpoints(below);
      if (candidates.length === 0) break;
      for (const c of candidates) {
        if (c.number < 0n) continue;
        const canonical = await this.o.rpc.headerIfExists(c.number);
        if (canonical?.hash === c.hash) {
          fork = c;
          break search;
        }
      }
      below = (candidates[candidates.length - 1] as BlockRef).number - 1n;
    }
    if (fork && this.baseBlock !== undefined && fork.number < this.baseBlock) {
      // The journal below the base is gone: re-ingest everything rather than rebuild from a state the
      // new chain never had (the rewind drops the base).
      this.o.logger?.error(
        {
          cursor: cursor.number.toString(),
          forkPoint: fork.number.toString(),
          base: this.baseBlock.toString(),
        },
        'L2 reorg below the pruned journal base: re-ingesting from the start block',
      );
      fork = undefined;
    }
    if (!fork) {
      const before = this.o.startBlock - 1n;
      const h = before >= 0n ? await this.o.rpc.header(before) : undefined;
      fork = { number: before, hash: (h?.hash ?? `0x${'0'.repeat(64)}`) as Hash };
      this.o.logger?.error(
        { cursor: cursor.number.toString() },
        'L2 reorg deeper than every known checkpoint: re-ingesting from the start block',
      );
    }
    await this.o.store.rewind(fork);
    await this.replayJournal();
    await this.resetHeaderMark();
    this.cursorRef = fork;
    this.o.metrics?.processedBlock.set(Number(fork.number));
    this.o.logger?.warn(
      {
        orphanedFrom: (fork.number + 1n).toString(),
        previousCursor: cursor.number.toString(),
        forkPoint: fork.number.toString(),
      },
      'L2 reorg detected: rewound the derived state to the fork point',
    );
    this.o.onRewind?.(fork, fork.number + 1n);
  }

  /** Steps until the cursor reaches `target` (or the chain's safe head, if lower and `untilIdle`). */
  async syncTo(target: bigint): Promise<void> {
    while ((this.cursorRef?.number ?? -1n) < target || !this.synced) {
      const r = await this.step();
      if (r === 'idle') await new Promise((res) => setTimeout(res, 20));
    }
  }

  /** Runs until `stop()`: steps back to back while behind, polls when idle, pauses on RPC outages. */
  async run(): Promise<void> {
    this.stopped = false;
    while (!this.stopped) {
      let pause = 0;
      try {
        const r = await this.step();
        if (r === 'idle') pause = this.o.pollIntervalMs;
      } catch (err) {
        this.o.logger?.error({ err }, 'L2 ingestion step failed; retrying after a pause');
        pause = this.o.pollIntervalMs;
        // The in-memory state may be ahead of or behind Redis: rebuild it from the durable journal.
        this.initialized = false;
      }
      if (pause > 0 && !this.stopped) {
        await new Promise<void>((res) => {
          const t = setTimeout(res, pause);
          this.wake = () => {
            clearTimeout(t);
            res();
          };
        });
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }
}

/** Each header's parent is the one before it (headers read in one batch are of one chain). */
function linked(headers: readonly BlockHeader[]): boolean {
  for (let i = 1; i < headers.length; i++)
    if ((headers[i] as BlockHeader).parentHash !== (headers[i - 1] as BlockHeader).hash) return false;
  return true;
}
