/**
 * The devnet operator's money: its wallet, the coin pool it splits its funding into, and the
 * transactions that fund each claim output. The pool's depth rules are in operator-coins.ts; this module
 * fills the pool from a mature coinbase, funds each claim from it, and makes coins shallower again as
 * the claims' funding confirms.
 */
import type { Logger } from 'pino';
import { addressForScript } from '../bitcoin/codec/address.ts';
import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import { taprootOutput } from '../bitcoin/taproot/output.ts';
import { displayHexToHash, serializeTx, txid } from '../bitcoin/tx/serialize.ts';
import { COINBASE_MATURITY } from '../bitcoin/wallet/wallet.ts';
import type { GraphParameters } from '../dispute/graph/parameters.ts';
import {
  CoinPool,
  type OperatorCoin,
  OperatorFundsError,
  spendCoin,
  type WalletSigner,
} from './operator-coins.ts';
import { claimValue, DEVNET_NETWORK } from './operator-graph.ts';
import { type DevnetOperatorSecrets, devnetOperatorKeys } from './operator-keys.ts';

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

export class OperatorFunding {
  readonly pool = new CoinPool(MAX_UNCONFIRMED_CHAIN);
  /** What one claim costs the pool: the claim output and its funding transaction's fee. */
  readonly perClaim: bigint;
  /** The operator's own claim-funding transactions, which deepen its coins while unconfirmed. */
  readonly #ownFunding = new Set<string>();

  private constructor(
    readonly wallet: WalletSigner,
    readonly address: string,
    private readonly params: GraphParameters,
  ) {
    this.perClaim = claimValue(params) + CLAIM_FUNDING_FEE;
  }

  /** The operator's wallet with an empty pool. */
  static #empty(params: GraphParameters, secrets: DevnetOperatorSecrets): OperatorFunding {
    const wallet: WalletSigner = {
      secret: secrets.operator,
      script: taprootOutput(devnetOperatorKeys().operator).scriptPubKey,
    };
    return new OperatorFunding(wallet, addressForScript(wallet.script, DEVNET_NETWORK) as string, params);
  }

  /** The operator's wallet, with its pool split from a fresh mature coin and confirmed. */
  static async open(
    bitcoin: DevnetBitcoin,
    params: GraphParameters,
    secrets: DevnetOperatorSecrets,
    logger: Logger | undefined,
  ): Promise<OperatorFunding> {
    const funding = OperatorFunding.#empty(params, secrets);
    await funding.#fundPool(bitcoin, logger);
    return funding;
  }

  /**
   * The operator's wallet after a restart (a served devnet): its pool is the confirmed coins its address
   * still holds, so resuming mines nothing (mining would move every open dispute's deadline). None left
   * is an OperatorFundsError.
   */
  static async reopen(
    bitcoin: DevnetBitcoin,
    params: GraphParameters,
    secrets: DevnetOperatorSecrets,
    logger: Logger | undefined,
  ): Promise<OperatorFunding> {
    const funding = OperatorFunding.#empty(params, secrets);
    const { address } = funding;
    const tip = await bitcoin.backend.getTipHeight();
    const candidates = (await bitcoin.backend.getUtxos(address)).filter(
      (u) =>
        u.height !== undefined &&
        u.value >= funding.perClaim &&
        (u.coinbase !== true || tip - u.height + 1 >= COINBASE_MATURITY),
    );
    // The chainstate does not know what the mempool spends: a claim funded just before the stop.
    const coins: typeof candidates = [];
    for (const u of candidates) {
      if (!(await bitcoin.backend.getOutspend(u.txid, u.vout)).spent) coins.push(u);
    }
    for (const u of coins) {
      funding.pool.add({
        txid: displayHexToHash(u.txid),
        vout: u.vout,
        value: u.value,
        unconfirmed: new Set(),
      });
    }
    if (coins.length === 0) {
      // Funding mines 101 blocks: every open dispute's deadline would pass on the way up.
      throw new OperatorFundsError(
        `The operator's address ${address} has no coin left worth a claim; funding it again would mine past every open deadline`,
      );
    }
    logger?.info({ coins: coins.length, address }, 'devnet operator reopened its coins');
    return funding;
  }

  /** Splits one mature funding coin into many, and confirms the split (nothing may build on it unconfirmed). */
  async #fundPool(bitcoin: DevnetBitcoin, logger: Logger | undefined): Promise<void> {
    const { address, wallet, perClaim, pool } = this;
    const backend = bitcoin.backend;
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

  /** The transaction that pays `coin` into a claim output locked by `script` (not broadcast). */
  claimFunding(coin: OperatorCoin, script: Uint8Array): ReturnType<typeof spendCoin> {
    return spendCoin(coin, [{ value: claimValue(this.params), script }], CLAIM_FUNDING_FEE, this.wallet);
  }

  /** A claim funding went to the mempool: its change is a coin again, one transaction deeper. */
  funded(fundingTxid: string, change: OperatorCoin | undefined): void {
    this.#ownFunding.add(fundingTxid);
    if (change) this.pool.add(change);
  }

  /** A transaction confirmed: when it funded a claim, the coins descending from it are shallower. */
  observe(txidHex: string): void {
    if (this.#ownFunding.delete(txidHex)) this.pool.confirmed(txidHex);
  }
}
