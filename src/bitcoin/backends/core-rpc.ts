/**
 * `BitcoinBackend` over Bitcoin Core's JSON-RPC. Needs `-txindex=1` for `getTransaction` of confirmed
 * transactions that are not the node's own (Core finds mempool transactions without it).
 */
import { z } from 'zod';
import { bytesToHex, hexToBytes } from '../../core/bytes.ts';
import { decodeTx, hashToHex, txidHex } from '../codec/codec.ts';
import { feeRateToBtcPerKvb } from '../codec/fee-rate.ts';
import {
  ConfirmedTxCache,
  type ConfirmedTxCacheOptions,
  heldTx,
  keptFromBlock,
} from './confirmed-tx-cache.ts';
import { CoreRpcClient, type CoreRpcClientOptions, CoreRpcError } from './core-rpc-client.ts';
import { BackendLiedError, BroadcastRejectedError } from './errors.ts';
import {
  btcAmountField,
  btcPerKvbField,
  countField,
  expectShape,
  headerConfirmationsField,
  heightField,
  indexField,
  timeField,
} from './shape.ts';
import type {
  BitcoinBackend,
  BlockHeaderInfo,
  BlockWithTxs,
  BroadcastOptions,
  FeeEstimate,
  Outspend,
  TestAcceptResult,
  TxStatus,
  TxWithStatus,
  Utxo,
} from './types.ts';
import { checkHeightAsked, headerFields, outsideRetry, verifiedBlock, verifiedTx } from './verify.ts';

export type CoreRpcBackendOptions = CoreRpcClientOptions & {
  /** How many blocks back from the tip `getOutspend` searches for a confirmed spender (Core has no spent index). */
  outspendLookback?: number;
  /** Timeout of scantxoutset, which reads the whole UTXO set (a minute or more on mainnet). */
  scanTimeoutMs?: number;
  /** Confirmed transactions kept to answer them again with one getblockheader (confirmed-tx-cache.ts). */
  confirmedTxCache?: ConfirmedTxCacheOptions;
};

/** Core's codes for a refused transaction (rpc/protocol.h): VERIFY_ERROR, VERIFY_REJECTED, ALREADY_IN_CHAIN, DESERIALIZATION_ERROR. */
const REJECT_CODES = new Set([-25, -26, -27, -22]);
const RPC_INVALID_ADDRESS_OR_KEY = -5;
const RPC_INVALID_PARAMETER = -8;
const RPC_METHOD_NOT_FOUND = -32601;

const HEX64 = z.string().regex(/^[0-9a-f]{64}$/);
const headerShape = z.object({
  hash: HEX64,
  height: heightField,
  previousblockhash: HEX64.optional(),
  time: timeField,
  // Optional so that a front without it still reads; absent counts as in the active chain.
  confirmations: headerConfirmationsField.optional(),
});
const HEX_BYTES = z.string().regex(/^(?:[0-9a-f]{2})+$/);
const rawTxShape = z.object({
  hex: HEX_BYTES,
  blockhash: HEX64.optional(),
  confirmations: countField.optional(),
});
const estimateShape = z.object({ feerate: btcPerKvbField.optional(), blocks: countField });
const scanShape = z.object({
  success: z.boolean().optional(),
  unspents: z.array(
    z.object({
      txid: HEX64,
      vout: indexField,
      scriptPubKey: z.string(),
      amount: btcAmountField,
      coinbase: z.boolean().optional(),
      height: heightField,
    }),
  ),
});
const testAcceptShape = z.array(
  z.object({
    txid: HEX64,
    allowed: z.boolean().optional(),
    vsize: countField.optional(),
    fees: z.object({ base: btcAmountField }).optional(),
    'reject-reason': z.string().optional(),
  }),
);
const spendingShape = z.array(z.object({ txid: HEX64, vout: indexField, spendingtxid: HEX64.optional() }));

const ZERO_HASH = '0'.repeat(64);

export class CoreRpcBackend implements BitcoinBackend {
  readonly kind = 'core-rpc' as const;
  readonly rpc: CoreRpcClient;
  private readonly lookback: number;
  private readonly scanTimeoutMs: number;
  private readonly confirmed: ConfirmedTxCache;

  constructor(options: CoreRpcBackendOptions) {
    this.rpc = new CoreRpcClient(options);
    this.lookback = options.outspendLookback ?? 144;
    this.scanTimeoutMs = options.scanTimeoutMs ?? 180_000;
    this.confirmed = new ConfirmedTxCache(options.confirmedTxCache);
  }

  async getTipHeight(): Promise<number> {
    return expectShape(heightField, await this.rpc.call('getblockcount'), 'getblockcount', 'core-rpc');
  }

  async getTipHash(): Promise<string> {
    return expectShape(HEX64, await this.rpc.call('getbestblockhash'), 'getbestblockhash', 'core-rpc');
  }

  async getBlockHash(height: number): Promise<string | undefined> {
    try {
      return expectShape(HEX64, await this.rpc.call('getblockhash', [height]), 'getblockhash', 'core-rpc');
    } catch (err) {
      if (err instanceof CoreRpcError && err.code === RPC_INVALID_PARAMETER) return undefined;
      throw err;
    }
  }

  async getBlockHeader(hash: string): Promise<BlockHeaderInfo | undefined> {
    const h = await this.headerReply(hash);
    if (h === undefined) return undefined;
    return { hash: h.hash, height: h.height, prevHash: h.previousblockhash ?? ZERO_HASH, time: h.time };
  }

  /** getblockheader's reply, checked to be the block asked for; undefined for an unknown block. */
  private async headerReply(hash: string): Promise<z.infer<typeof headerShape> | undefined> {
    try {
      const h = expectShape(
        headerShape,
        await this.rpc.call('getblockheader', [hash, true]),
        'getblockheader',
        'core-rpc',
      );
      if (h.hash !== hash) {
        throw new BackendLiedError(
          'core-rpc',
          'block-hash-mismatch',
          `asked for block ${hash}, got ${h.hash}`,
        );
      }
      return h;
    } catch (err) {
      if (err instanceof CoreRpcError && err.code === RPC_INVALID_ADDRESS_OR_KEY) return undefined;
      throw err;
    }
  }

  async getBlock(hashOrHeight: string | number): Promise<BlockWithTxs | undefined> {
    const hash = typeof hashOrHeight === 'number' ? await this.getBlockHash(hashOrHeight) : hashOrHeight;
    if (hash === undefined) return undefined;
    const header = await this.getBlockHeader(hash);
    if (header === undefined) return undefined;
    checkHeightAsked('core-rpc', hashOrHeight, header);
    const hex = expectShape(HEX_BYTES, await this.rpc.call('getblock', [hash, 0]), 'getblock', 'core-rpc');
    const block = outsideRetry('core-rpc', () => verifiedBlock('core-rpc', hash, hexToBytes(hex, 'block')));
    // prevHash and time come from the verified header bytes, not from getblockheader's JSON.
    return {
      ...header,
      ...headerFields(block.header),
      txs: block.txs.map(({ raw, tx }) => ({ txid: txidHex(tx), raw, tx })),
    };
  }

  async getTransaction(txid: string): Promise<TxWithStatus | undefined> {
    const held = this.confirmed.get(txid);
    if (held !== undefined) {
      const status = await this.statusFromBlockHash(held.blockHash, undefined);
      if (status.confirmed) return heldTx(txid, held, status);
      // Its block left the active chain: the transaction may now be unconfirmed, or confirmed elsewhere.
      this.confirmed.drop(txid);
    }
    let reply: z.infer<typeof rawTxShape>;
    try {
      reply = expectShape(
        rawTxShape,
        await this.rpc.call('getrawtransaction', [txid, true]),
        'getrawtransaction',
        'core-rpc',
      );
    } catch (err) {
      if (err instanceof CoreRpcError && err.code === RPC_INVALID_ADDRESS_OR_KEY) return undefined;
      throw err;
    }
    const raw = hexToBytes(reply.hex, 'transaction');
    const tx = outsideRetry('core-rpc', () => verifiedTx('core-rpc', txid, raw));
    const status = await this.statusFromBlockHash(reply.blockhash, reply.confirmations);
    return keptFromBlock(this.confirmed, (hash) => this.getBlock(hash), { txid, raw, tx, status });
  }

  async getTxStatus(txid: string): Promise<TxStatus | undefined> {
    return (await this.getTransaction(txid))?.status;
  }

  /**
   * A transaction's status from getrawtransaction's blockhash and confirmations. With -txindex, Core
   * keeps answering the block a transaction was mined in after that block left the active chain (a
   * reorg, invalidateblock), with `confirmations: 0`; getblockheader then says `confirmations: -1`.
   * Such a transaction is not confirmed: a kick-off or a challenge in a stale block counts for nothing.
   * Core looks in the mempool before the txindex, so a transaction answered with a blockhash is not in
   * the mempool. Either answer saying "not in the active chain" is enough: between the two calls the
   * chain may have moved, and the next poll asks again.
   */
  private async statusFromBlockHash(
    blockhash: string | undefined,
    confirmations: number | undefined,
  ): Promise<TxStatus> {
    if (blockhash === undefined) return { confirmed: false, inMempool: true };
    if (confirmations === 0) return { confirmed: false, inMempool: false };
    const header = await this.headerReply(blockhash);
    if (header === undefined || header.confirmations === -1) return { confirmed: false, inMempool: false };
    return { confirmed: true, blockHeight: header.height, blockHash: header.hash };
  }

  /**
   * gettxout says whether the output is unspent (mempool included). For the spender, Core 25's
   * gettxspendingprevout covers the mempool; confirmed spenders are searched in the last
   * `outspendLookback` blocks, stopping at the block that created the output.
   */
  async getOutspend(txid: string, vout: number): Promise<Outspend> {
    const utxo = await this.rpc.call<unknown>('gettxout', [txid, vout, true]);
    if (utxo !== null && utxo !== undefined) return { spent: false };
    const funding = await this.getTransaction(txid);
    if (funding === undefined || vout >= funding.tx.outputs.length) return { spent: false };
    if (!funding.status.confirmed && !funding.status.inMempool) return { spent: false };
    try {
      const spending = expectShape(
        spendingShape,
        await this.rpc.call('gettxspendingprevout', [[{ txid, vout }]]),
        'gettxspendingprevout',
        'core-rpc',
      );
      const spender = spending[0]?.spendingtxid;
      if (spender !== undefined) {
        const tx = await this.getTransaction(spender);
        const vin = tx?.tx.inputs.findIndex((i) => hashToHex(i.prevTxid) === txid && i.vout === vout);
        return { spent: true, txid: spender, vin: vin === -1 ? undefined : vin, status: tx?.status };
      }
    } catch (err) {
      if (!(err instanceof CoreRpcError && err.code === RPC_METHOD_NOT_FOUND)) throw err;
    }
    const tip = await this.getTipHeight();
    const floor = Math.max(
      funding.status.confirmed ? funding.status.blockHeight : 0,
      tip - this.lookback + 1,
    );
    for (let h = tip; h >= floor; h--) {
      const block = await this.getBlock(h);
      if (block === undefined) break;
      for (const btx of block.txs) {
        const vin = btx.tx.inputs.findIndex((i) => i.vout === vout && hashToHex(i.prevTxid) === txid);
        if (vin !== -1) {
          return {
            spent: true,
            txid: btx.txid,
            vin,
            status: { confirmed: true, blockHeight: block.height, blockHash: block.hash },
          };
        }
      }
    }
    return { spent: true, txid: undefined, vin: undefined, status: undefined };
  }

  /** Confirmed UTXOs only: scantxoutset reads the chainstate, not the mempool. */
  async getUtxos(address: string): Promise<Utxo[]> {
    const reply = expectShape(
      scanShape,
      await this.rpc.call('scantxoutset', ['start', [`addr(${address})`]], this.scanTimeoutMs),
      'scantxoutset',
      'core-rpc',
    );
    return reply.unspents.map((u) => ({
      txid: u.txid,
      vout: u.vout,
      value: u.amount,
      script: hexToBytes(u.scriptPubKey, 'scriptPubKey'),
      confirmed: true,
      height: u.height,
      coinbase: u.coinbase,
    }));
  }

  async estimateFee(targetBlocks: number): Promise<FeeEstimate | undefined> {
    const reply = expectShape(
      estimateShape,
      await this.rpc.call('estimatesmartfee', [targetBlocks]),
      'estimatesmartfee',
      'core-rpc',
    );
    // A quiet chain or a fresh node answers { errors: ["Insufficient data or no feerate found"], blocks }.
    if (reply.feerate === undefined || reply.feerate.satPerKvb === 0n) return undefined;
    return { rate: reply.feerate, blocks: reply.blocks };
  }

  async broadcast(raw: Uint8Array, options: BroadcastOptions = {}): Promise<string> {
    const params: unknown[] = [bytesToHex(raw)];
    if (options.maxFeeRate !== undefined) params.push(feeRateToBtcPerKvb(options.maxFeeRate));
    try {
      return expectShape(
        HEX64,
        await this.rpc.call('sendrawtransaction', params),
        'sendrawtransaction',
        'core-rpc',
      );
    } catch (err) {
      if (err instanceof CoreRpcError && REJECT_CODES.has(err.code ?? 0)) {
        throw new BroadcastRejectedError(err.rpcMessage, err.code, safeTxid(raw), { cause: err });
      }
      throw err;
    }
  }

  readonly testAccept = async (
    raws: Uint8Array[],
    options: BroadcastOptions = {},
  ): Promise<TestAcceptResult[]> => {
    const params: unknown[] = [raws.map((r) => bytesToHex(r))];
    if (options.maxFeeRate !== undefined) params.push(feeRateToBtcPerKvb(options.maxFeeRate));
    const reply = expectShape(
      testAcceptShape,
      await this.rpc.call('testmempoolaccept', params),
      'testmempoolaccept',
      'core-rpc',
    );
    return reply.map((r) => ({
      txid: r.txid,
      allowed: r.allowed === true,
      reason: r['reject-reason'],
      vsize: r.vsize,
      fee: r.fees?.base,
    }));
  };
}

function safeTxid(raw: Uint8Array): string | undefined {
  try {
    return txidHex(decodeTx(raw));
  } catch {
    return undefined;
  }
}
