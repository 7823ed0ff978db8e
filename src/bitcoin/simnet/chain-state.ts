/**
 * simnet's chain state: the active chain and every block seen, the invalid set, the UTXO set with each
 * block's undo data, the transaction and spent-output indexes, and the mempool. Connecting and
 * disconnecting a block (ConnectBlock / DisconnectBlock's coin bookkeeping) live here; what decides
 * which blocks to connect lives in `mining.ts` and `reorg.ts`, what enters the mempool in `acceptance.ts`.
 */
import { hash256 } from '../../core/hashes.ts';
import { decodeTx, hashToHex, txidHex } from '../codec/codec.ts';
import { verifyScript } from '../script/verify.ts';
import { MAX_BLOCK_WEIGHT, REGTEST_GENESIS } from './block-builder.ts';
import { hexOf, Mempool, outpointKey } from './mempool.ts';
import { isUnspendable, type SpentCoin } from './rules.ts';
import { engineVerifier } from './script-check.ts';
import { type ChainBlock, SimChainError, type SimChainOptions, type Spend } from './types.ts';

const ZERO_HASH = '0'.repeat(64);

/**
 * Told of every block connected to or disconnected from the active chain (mining, restore, reorgs),
 * after the state changed; how the persistence journal follows the chain (`persist.ts`).
 */
export type ChainListener = {
  connected?(block: ChainBlock): void;
  disconnected?(block: ChainBlock): void;
};

export class ChainState {
  readonly mempool = new Mempool();
  /** The active chain; index = height. */
  readonly active: ChainBlock[] = [];
  readonly blocks = new Map<string, ChainBlock>();
  readonly invalid = new Set<string>();
  readonly utxos = new Map<string, SpentCoin>();
  readonly txIndex = new Map<string, { blockHash: string; index: number }>();
  readonly spentIndex = new Map<string, Spend>();
  readonly options: Required<SimChainOptions>;
  readonly listeners = new Set<ChainListener>();
  private extraNonce = 0;

  constructor(options: SimChainOptions = {}) {
    this.options = {
      verifyScripts: options.verifyScripts ?? engineVerifier(verifyScript),
      standardness: options.standardness ?? true,
      minRelayFeeRate: options.minRelayFeeRate ?? { satPerKvb: 1000n },
      incrementalRelayFeeRate: options.incrementalRelayFeeRate ?? { satPerKvb: 1000n },
      fullRbf: options.fullRbf ?? false,
      clock: options.clock ?? (() => Math.floor(Date.now() / 1000)),
      blockMaxWeight: options.blockMaxWeight ?? MAX_BLOCK_WEIGHT,
    };
    const genesisTx = decodeTx(REGTEST_GENESIS.slice(81));
    const header = REGTEST_GENESIS.slice(0, 80);
    const genesis: ChainBlock = {
      hash: hashToHex(hash256(header)),
      height: 0,
      prevHash: ZERO_HASH,
      time: new DataView(header.buffer, header.byteOffset).getUint32(68, true),
      header,
      raw: REGTEST_GENESIS,
      txs: [{ txid: txidHex(genesisTx), tx: genesisTx, raw: REGTEST_GENESIS.slice(81) }],
      undo: [],
    };
    // As in Core, the genesis coinbase is not in the UTXO set.
    this.blocks.set(genesis.hash, genesis);
    this.active.push(genesis);
    this.txIndex.set(genesis.txs[0]?.txid as string, { blockHash: genesis.hash, index: 0 });
  }

  get tip(): ChainBlock {
    return this.active[this.active.length - 1] as ChainBlock;
  }

  get height(): number {
    return this.active.length - 1;
  }

  isActive(block: ChainBlock): boolean {
    return this.active[block.height]?.hash === block.hash;
  }

  /** Median of the last 11 block times ending at `height` (GetMedianTimePast). */
  medianTimePast(height: number = this.height): number {
    const times: number[] = [];
    for (let h = height; h >= 0 && times.length < 11; h--) times.push((this.active[h] as ChainBlock).time);
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)] as number;
  }

  /** The extra nonce of the next coinbase: keeps every coinbase unique. */
  nextExtraNonce(): number {
    return this.extraNonce++;
  }

  /** A restored block's coinbase used `n`: later coinbases take higher extra nonces, so none collides. */
  noteExtraNonce(n: number): void {
    if (n >= this.extraNonce) this.extraNonce = n + 1;
  }

  /** Connects a block on the tip: spends its inputs (keeping undo data), adds its outputs, clears the mempool of it. */
  connect(block: ChainBlock): void {
    block.undo = [];
    block.txs.forEach(({ txid, tx }, index) => {
      const coinbase = index === 0;
      if (!coinbase) {
        tx.inputs.forEach((input, vin) => {
          const key = outpointKey(hexOf(input.prevTxid), input.vout);
          const coin = this.utxos.get(key);
          if (!coin) throw new SimChainError(`block ${block.hash} spends missing coin ${key}`);
          block.undo.push({ key, coin, tx: index });
          this.utxos.delete(key);
          this.spentIndex.set(key, { txid, vin, blockHash: block.hash });
          // A different mempool transaction spending the same coin is now a conflict.
          const spender = this.mempool.spenders.get(key);
          if (spender !== undefined && spender !== txid) this.mempool.removeWithDescendants(spender);
        });
      }
      tx.outputs.forEach((o, vout) => {
        if (isUnspendable(o.script)) return; // Core's AddCoins leaves provably unspendable outputs out
        this.utxos.set(outpointKey(txid, vout), {
          value: o.value,
          script: o.script,
          height: block.height,
          coinbase,
        });
      });
      this.txIndex.set(txid, { blockHash: block.hash, index });
      this.mempool.removeMined(txid);
    });
    this.active.push(block);
    for (const l of this.listeners) l.connected?.(block);
  }

  /**
   * DisconnectBlock: transactions in reverse order, each removing its outputs and then restoring the
   * coins it spent, so an output created and spent inside the same block ends up in neither state.
   */
  disconnectTip(): ChainBlock {
    const block = this.active.pop() as ChainBlock;
    for (let index = block.txs.length - 1; index >= 0; index--) {
      const { txid, tx } = block.txs[index] as ChainBlock['txs'][number];
      for (let vout = 0; vout < tx.outputs.length; vout++) this.utxos.delete(outpointKey(txid, vout));
      if (this.txIndex.get(txid)?.blockHash === block.hash) this.txIndex.delete(txid);
      for (const u of block.undo) {
        if (u.tx !== index) continue;
        this.utxos.set(u.key, u.coin);
        this.spentIndex.delete(u.key);
      }
    }
    block.undo = [];
    for (const l of this.listeners) l.disconnected?.(block);
    return block;
  }
}
