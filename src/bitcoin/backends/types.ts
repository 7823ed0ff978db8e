/**
 * The one interface the rest of Vigil uses to reach Bitcoin. Two implementations: Bitcoin Core's
 * JSON-RPC (`core-rpc.ts`) and Esplora's REST API (`esplora.ts`); simnet serves both protocols.
 *
 * Transaction ids and block hashes are hex strings in display order (as Core's RPC and Esplora print
 * them): they are identifiers at this edge, used as map keys and log fields. Transactions and blocks
 * themselves are bytes, parsed with `src/bitcoin/tx/`. Amounts are bigint satoshis; fee rates `FeeRate`.
 */

import type { FeeRate } from '../codec/fee-rate.ts';
import type { Tx } from '../tx/types.ts';
import type { BackendKind } from './errors.ts';

export type BlockHeaderInfo = {
  hash: string;
  height: number;
  /** The parent's hash; all zeros for the genesis block. */
  prevHash: string;
  /** Header timestamp, seconds. */
  time: number;
};

export type BlockTx = { txid: string; raw: Uint8Array; tx: Tx };

export type BlockWithTxs = BlockHeaderInfo & { txs: BlockTx[] };

export type TxStatus =
  | { confirmed: false; inMempool: boolean }
  | { confirmed: true; blockHeight: number; blockHash: string };

export type TxWithStatus = { txid: string; raw: Uint8Array; tx: Tx; status: TxStatus };

export type Outspend =
  | { spent: false }
  | {
      spent: true;
      /** The spending transaction; undefined when the backend knows the output is spent but not by whom. */
      txid: string | undefined;
      vin: number | undefined;
      status: TxStatus | undefined;
    };

export type Utxo = {
  txid: string;
  vout: number;
  value: bigint;
  /** Present when the backend reports it (Core's scantxoutset does; Esplora does not). */
  script: Uint8Array | undefined;
  confirmed: boolean;
  /** Confirmation height; undefined while unconfirmed. */
  height: number | undefined;
  /** A coinbase output (spendable after 100 confirmations); undefined when the backend does not say (Esplora). */
  coinbase: boolean | undefined;
};

export type FeeEstimate = { rate: FeeRate /** the target the estimate is actually for */; blocks: number };

export type TestAcceptResult = {
  txid: string;
  allowed: boolean;
  /** Core's reject reason when not allowed. */
  reason: string | undefined;
  vsize: number | undefined;
  fee: bigint | undefined;
};

export type BroadcastOptions = {
  /** Refuse to broadcast above this rate (Core's maxfeerate; Esplora has no such guard, checked locally). */
  maxFeeRate?: FeeRate;
};

export interface BitcoinBackend {
  readonly kind: BackendKind;
  getTipHeight(): Promise<number>;
  getTipHash(): Promise<string>;
  /** The main-chain block hash at `height`, or undefined above the tip. */
  getBlockHash(height: number): Promise<string | undefined>;
  getBlockHeader(hash: string): Promise<BlockHeaderInfo | undefined>;
  /** A block with its transactions, by hash or by main-chain height; undefined when unknown. */
  getBlock(hashOrHeight: string | number): Promise<BlockWithTxs | undefined>;
  /** Undefined when the backend does not know the transaction (Core needs -txindex for confirmed ones). */
  getTransaction(txid: string): Promise<TxWithStatus | undefined>;
  getTxStatus(txid: string): Promise<TxStatus | undefined>;
  getOutspend(txid: string, vout: number): Promise<Outspend>;
  getUtxos(address: string): Promise<Utxo[]>;
  /** Undefined when the backend has no estimate (quiet chains, fresh nodes). */
  estimateFee(targetBlocks: number): Promise<FeeEstimate | undefined>;
  /** Returns the txid. Throws `BroadcastRejectedError` with Core's reason when refused. */
  broadcast(raw: Uint8Array, options?: BroadcastOptions): Promise<string>;
  /** Core's testmempoolaccept (1 to 25 transactions); undefined on backends without it. */
  readonly testAccept:
    | ((raws: Uint8Array[], options?: BroadcastOptions) => Promise<TestAcceptResult[]>)
    | undefined;
}
