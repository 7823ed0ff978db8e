/**
 * Finds the transactions to the watched contracts that REVERTED in a block range. Logs only show what the
 * contracts accepted; an L2's inputs are its transactions, refused ones included, and an operator whose
 * executor skips a precondition computes its root from them too (docs/protocol.md §10).
 *
 * Per block: eth_getBlockReceipts, then the calldata of each reverted receipt to a watched address. A node
 * without eth_getBlockReceipts ("method not found") is remembered and served by eth_getBlockByNumber with
 * full transactions plus one eth_getTransactionReceipt per transaction to a watched address.
 *
 * Each reverted transaction comes with why it reverted (refusal.ts decides whether that makes it a
 * governance input): the node's call tracer (debug_traceTransaction, top call only) gives the revert data
 * of the transaction itself. A node without the debug namespace is remembered and asked with eth_call of
 * the same call at the parent block instead, which does not see earlier transactions of the same block;
 * that fallback is logged once and counted per use.
 */

import type { Logger } from 'pino';
import type { Address, Hash, Hex } from 'viem';
import type { RevertReport } from './refusal.ts';
import { type L2Rpc, MethodNotFoundError } from './rpc.ts';

/** A reverted transaction to a watched contract, where the chain put it. */
export type RevertedTx = {
  block: bigint;
  blockHash: Hash;
  txIndex: number;
  hash: Hash;
  from: Address;
  to: Address;
  input: Hex;
  /** Why the chain refused it, as the node reported it. */
  report: RevertReport;
};

/** A reverted transaction before its revert report is read. */
type Found = Omit<RevertedTx, 'report'> & { gas: bigint };

/** Blocks fetched concurrently (the RPC client batches their requests into few HTTP calls). */
const CONCURRENCY = 64;

const isReverted = (status: string): boolean => status === '0x0' || status === 'reverted';

export class RevertedTxFetcher {
  private readonly watched: Set<string>;
  private blockReceipts = true;
  private tracing = true;

  constructor(
    private readonly rpc: L2Rpc,
    addresses: readonly Address[],
    private readonly logger?: Logger,
  ) {
    this.watched = new Set(addresses.map((a) => a.toLowerCase()));
  }

  /** False once the node answered that it lacks eth_getBlockReceipts. */
  get usesBlockReceipts(): boolean {
    return this.blockReceipts;
  }

  /** False once the node answered that it lacks debug_traceTransaction. */
  get usesTracer(): boolean {
    return this.tracing;
  }

  /** The reverted transactions to watched addresses in [from, to], in chain order. */
  async fetch(from: bigint, to: bigint): Promise<RevertedTx[]> {
    const out: RevertedTx[] = [];
    for (let start = from; start <= to; start += BigInt(CONCURRENCY)) {
      const blocks: bigint[] = [];
      for (let n = start; n <= to && n < start + BigInt(CONCURRENCY); n++) blocks.push(n);
      const found = await Promise.all(blocks.map((n) => this.inBlock(n)));
      for (const f of found) out.push(...f);
    }
    return out;
  }

  private async inBlock(number: bigint): Promise<RevertedTx[]> {
    const found = await this.foundInBlock(number);
    return Promise.all(found.map(async ({ gas, ...tx }) => ({ ...tx, report: await this.report(tx, gas) })));
  }

  private async report(tx: Omit<RevertedTx, 'report'>, gas: bigint): Promise<RevertReport> {
    if (this.tracing) {
      try {
        const top = await this.rpc.traceTopCall(tx.hash);
        return { source: 'trace', data: top.output, error: top.error };
      } catch (err) {
        if (!(err instanceof MethodNotFoundError)) throw err;
        if (this.tracing) {
          this.tracing = false;
          this.logger?.warn(
            'the L2 node lacks debug_traceTransaction: learning why transactions reverted by re-running their calls at the parent block',
          );
        }
      }
    }
    const r = await this.rpc.callRevertData({ from: tx.from, to: tx.to, data: tx.input, gas }, tx.block - 1n);
    return {
      source: 'call',
      data: r.reverted ? r.data : undefined,
      error: r.reverted ? r.error : 'did not revert when re-run at the parent block',
    };
  }

  private async foundInBlock(number: bigint): Promise<Found[]> {
    if (this.blockReceipts) {
      try {
        return await this.viaBlockReceipts(number);
      } catch (err) {
        if (!(err instanceof MethodNotFoundError)) throw err;
        if (this.blockReceipts) {
          this.blockReceipts = false;
          this.logger?.warn(
            'the L2 node lacks eth_getBlockReceipts: reading reverted transactions block by block',
          );
        }
      }
    }
    return this.viaBlockTransactions(number);
  }

  private async viaBlockReceipts(number: bigint): Promise<Found[]> {
    const receipts = await this.rpc.blockReceipts(number);
    const hits = receipts.filter(
      (r) => r.to !== null && this.watched.has(r.to.toLowerCase()) && isReverted(r.status),
    );
    return Promise.all(
      hits.map(async (r) => {
        const tx = await this.rpc.transaction(r.transactionHash);
        return {
          block: number,
          blockHash: r.blockHash,
          txIndex: Number(r.transactionIndex),
          hash: r.transactionHash,
          from: r.from.toLowerCase() as Address,
          to: (r.to as Address).toLowerCase() as Address,
          input: tx.input,
          gas: tx.gas,
        };
      }),
    );
  }

  private async viaBlockTransactions(number: bigint): Promise<Found[]> {
    const block = await this.rpc.blockWithTransactions(number);
    const candidates = block.transactions.filter(
      (t) => t.to !== null && this.watched.has(t.to.toLowerCase()),
    );
    const checked = await Promise.all(
      candidates.map(async (t) => ({ t, receipt: await this.rpc.receipt(t.hash) })),
    );
    return checked
      .filter(({ receipt }) => isReverted(receipt.status))
      .map(({ t, receipt }) => ({
        block: number,
        blockHash: receipt.blockHash,
        txIndex: receipt.transactionIndex,
        hash: t.hash,
        from: t.from.toLowerCase() as Address,
        to: (t.to as Address).toLowerCase() as Address,
        input: t.input,
        gas: t.gas,
      }));
  }
}
