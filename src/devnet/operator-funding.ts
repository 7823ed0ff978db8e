/**
 * The devnet operator's money: its wallet, the coin pool it splits its funding into, and the
 * transactions that fund each claim output. The pool's depth rules are in operator-coins.ts; this module
 * fills the pool from a mature coinbase, funds each claim from it, and makes coins shallower again as
 * the claims' funding confirms.
 *
 * A long run needs more than one pool. Every confirmed coin paying the operator's wallet that the pool
 * does not hold (the stake a take brings back, a payout, a challenger's challenge amount, the other
 * coinbases mined at creation) goes to a reserve; when the pool can fund fewer than LOW_WATER claims,
 * the operator splits reserve coins into a new pool with one transaction, which the next block confirms.
 * No block is mined for it: a mined block would move every open dispute's deadline. An honest claim
 * costs the operator its fees (~26,000 sats on regtest), a disproved or slashed one most of its stake.
 */
import type { Logger } from 'pino';
import type { BitcoinBackend, BlockTx } from '../bitcoin/backends/types.ts';
import { addressForScript } from '../bitcoin/codec/address.ts';
import { blockSubsidy } from '../bitcoin/simnet/block-builder.ts';
import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import { taprootOutput } from '../bitcoin/taproot/output.ts';
import { displayHexToHash, hashToDisplayHex, serializeTx, txid } from '../bitcoin/tx/serialize.ts';
import { COINBASE_MATURITY } from '../bitcoin/wallet/wallet.ts';
import { equalBytes } from '../core/bytes.ts';
import {
  CoinPool,
  type OperatorCoin,
  OperatorFundsError,
  spendCoin,
  splitCoins,
  type WalletSigner,
} from './operator-coins.ts';
import { DEVNET_NETWORK } from './operator-graph.ts';
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
/** Below this many claims' worth in the pool, reserve coins are split into a new pool. */
const LOW_WATER = 60;
/** Reserve coins one refill spends at most (~58 vB each: a 35 kvB transaction, well under 100 kvB). */
const MAX_REFILL_INPUTS = 600;
/** Fee rate of a refill, sat/vB: above regtest's relay minimum with room to spare. */
const REFILL_FEE_RATE = 10n;
/** Blocks mined to the operator at creation at most, however many claims are planned. */
const MAX_FUNDING_BLOCKS = 150;

/** A confirmed coin of the wallet outside the pool. */
type ReserveCoin = Omit<OperatorCoin, 'unconfirmed'>;
const outpointKey = (txidHex: string, vout: number) => `${txidHex}:${vout}`;
const isCoinbase = (btx: BlockTx) => btx.tx.inputs[0]?.prevTxid.every((b) => b === 0) === true;

export class OperatorFunding {
  readonly pool = new CoinPool(MAX_UNCONFIRMED_CHAIN);
  /** What one claim costs the pool: the claim output and its funding transaction's fee. */
  readonly perClaim: bigint;
  /** The operator's own claim-funding transactions, which deepen its coins while unconfirmed. */
  readonly #ownFunding = new Set<string>();
  /** Confirmed coins of the wallet outside the pool, by outpoint (display hex). */
  readonly #reserve = new Map<string, ReserveCoin>();
  /** A refill in the mempool: its coins join the pool when it confirms. */
  #refill: { txid: string; coins: OperatorCoin[] } | undefined;

  private constructor(
    readonly wallet: WalletSigner,
    readonly address: string,
    /** What one claim output holds (Part II's graph, or a claim of the narrowing game). */
    private readonly claimValue: bigint,
  ) {
    this.perClaim = claimValue + CLAIM_FUNDING_FEE;
  }

  /** The operator's wallet with an empty pool. */
  static #empty(claimValue: bigint, secrets: DevnetOperatorSecrets): OperatorFunding {
    const wallet: WalletSigner = {
      secret: secrets.operator,
      script: taprootOutput(devnetOperatorKeys().operator).scriptPubKey,
    };
    return new OperatorFunding(wallet, addressForScript(wallet.script, DEVNET_NETWORK) as string, claimValue);
  }

  /**
   * The operator's wallet, with its pool split from a fresh mature coin and confirmed. `claims`: how
   * many claims the run plans (default: one pool's worth); enough coinbases are mined to the wallet to
   * pay that many claims' outputs even if none came back (at most MAX_FUNDING_BLOCKS), the ones not
   * split kept in reserve.
   */
  static async open(
    bitcoin: DevnetBitcoin,
    claimValue: bigint,
    secrets: DevnetOperatorSecrets,
    logger: Logger | undefined,
    claims?: number,
  ): Promise<OperatorFunding> {
    const funding = OperatorFunding.#empty(claimValue, secrets);
    await funding.#fundPool(bitcoin, logger, claims);
    return funding;
  }

  /**
   * The operator's wallet after a restart (a served devnet): its pool is the confirmed coins its address
   * still holds, so resuming mines nothing (mining would move every open dispute's deadline). None left
   * is an OperatorFundsError.
   */
  static async reopen(
    bitcoin: DevnetBitcoin,
    claimValue: bigint,
    secrets: DevnetOperatorSecrets,
    logger: Logger | undefined,
  ): Promise<OperatorFunding> {
    const funding = OperatorFunding.#empty(claimValue, secrets);
    const { address } = funding;
    const tip = await bitcoin.backend.getTipHeight();
    const candidates = (await bitcoin.backend.getUtxos(address)).filter(
      (u) => u.height !== undefined && (u.coinbase !== true || tip - u.height + 1 >= COINBASE_MATURITY),
    );
    // The chainstate does not know what the mempool spends: a claim funded just before the stop.
    const coins: typeof candidates = [];
    for (const u of candidates) {
      if (!(await bitcoin.backend.getOutspend(u.txid, u.vout)).spent) coins.push(u);
    }
    for (const u of coins) {
      const coin = { txid: displayHexToHash(u.txid), vout: u.vout, value: u.value };
      // A coin worth a claim funds claims at once; smaller ones (stakes taken back) wait for a refill.
      if (u.value >= funding.perClaim) funding.pool.add({ ...coin, unconfirmed: new Set() });
      else funding.#reserve.set(outpointKey(u.txid, u.vout), coin);
    }
    if (funding.pool.size === 0 && funding.#reserveValue() < 2n * funding.perClaim) {
      // Funding mines 101 blocks: every open dispute's deadline would pass on the way up.
      throw new OperatorFundsError(
        `The operator's address ${address} has no coin left worth a claim; funding it again would mine past every open deadline`,
      );
    }
    logger?.info(
      { coins: funding.pool.size, reserve: funding.#reserve.size, address },
      'devnet operator reopened its coins',
    );
    return funding;
  }

  /** Splits one mature funding coin into many, and confirms the split (nothing may build on it unconfirmed). */
  async #fundPool(bitcoin: DevnetBitcoin, logger: Logger | undefined, claims?: number): Promise<void> {
    const { address, wallet, perClaim, pool } = this;
    const backend = bitcoin.backend;
    const blocks = fundingBlocks(await backend.getTipHeight(), BigInt(claims ?? 0) * perClaim);
    if (blocks > 1) await bitcoin.mine(blocks - 1, address);
    await bitcoin.fund(address);
    const tip = await backend.getTipHeight();
    const mature = (await backend.getUtxos(address)).filter(
      (u) => u.coinbase !== true || (u.height !== undefined && tip - u.height + 1 >= COINBASE_MATURITY),
    );
    const [coin, ...rest] = mature.sort((x, y) => (x.value < y.value ? 1 : x.value > y.value ? -1 : 0));
    for (const u of rest) {
      this.#reserve.set(outpointKey(u.txid, u.vout), {
        txid: displayHexToHash(u.txid),
        vout: u.vout,
        value: u.value,
      });
    }
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
    logger?.info(
      { coins: n, each: each.toString(), reserve: this.#reserveValue().toString(), address },
      'devnet operator funded',
    );
  }

  #reserveValue(): bigint {
    let sum = 0n;
    for (const c of this.#reserve.values()) sum += c.value;
    return sum;
  }

  /** The wallet's confirmed coins outside the pool (what a refill can spend). */
  get reserve(): { coins: number; value: bigint } {
    return { coins: this.#reserve.size, value: this.#reserveValue() };
  }

  /**
   * When the pool runs low, splits reserve coins into a new pool (broadcast, not mined: the next block
   * confirms it, and its coins join the pool then). One refill at a time. A coin the chain says is
   * spent (a restart's mempool, a rescanned block) leaves the reserve. Returns a line when it refilled.
   */
  async refill(backend: BitcoinBackend, logger: Logger | undefined): Promise<string | undefined> {
    if (this.#refill !== undefined || this.pool.worth(this.perClaim) >= LOW_WATER) return undefined;
    const target = BigInt(SPLIT_COINS) * 20n * this.perClaim;
    const picked: ReserveCoin[] = [];
    let sum = 0n;
    const byValue = [...this.#reserve.entries()].sort(([, x], [, y]) =>
      x.value < y.value ? 1 : x.value > y.value ? -1 : 0,
    );
    for (const [key, c] of byValue) {
      if (sum >= target || picked.length >= MAX_REFILL_INPUTS) break;
      if ((await backend.getOutspend(hashToDisplayHex(c.txid), c.vout)).spent) {
        this.#reserve.delete(key);
        continue;
      }
      picked.push(c);
      sum += c.value;
    }
    // ~58 vB an input, ~43 an output, ~11 of the rest.
    const vsize = (n: number) => BigInt(11 + 58 * picked.length + 43 * n);
    const n = Math.min(
      SPLIT_COINS,
      Number((sum - REFILL_FEE_RATE * vsize(SPLIT_COINS)) / (2n * this.perClaim)),
    );
    if (n < 1) return undefined;
    const { tx, each } = splitCoins(picked, n, REFILL_FEE_RATE * vsize(n), this.wallet);
    const id = txid(tx);
    const idHex = hashToDisplayHex(id);
    try {
      await backend.broadcast(serializeTx(tx));
    } catch (err) {
      // The coins stay in the reserve; the next round checks them again.
      logger?.warn({ err, inputs: picked.length }, 'devnet operator refill refused');
      return `its coin pool runs low and the refill from ${picked.length} reserve coins was refused (${err instanceof Error ? err.message : String(err)})`;
    }
    for (const c of picked) this.#reserve.delete(outpointKey(hashToDisplayHex(c.txid), c.vout));
    this.#refill = {
      txid: idHex,
      coins: Array.from({ length: n }, (_, vout) => ({
        txid: id,
        vout,
        value: each,
        unconfirmed: new Set(),
      })),
    };
    logger?.info({ txid: idHex, inputs: picked.length, coins: n }, 'devnet operator refills its pool');
    return `its coin pool runs low: splits ${picked.length} reserve coins into ${n} new coins (${idHex.slice(0, 12)}…)`;
  }

  /** The transaction that pays `coin` into a claim output locked by `script` (not broadcast). */
  claimFunding(coin: OperatorCoin, script: Uint8Array): ReturnType<typeof spendCoin> {
    return spendCoin(coin, [{ value: this.claimValue, script }], CLAIM_FUNDING_FEE, this.wallet);
  }

  /** A claim funding went to the mempool: its change is a coin again, one transaction deeper. */
  funded(fundingTxid: string, change: OperatorCoin | undefined): void {
    this.#ownFunding.add(fundingTxid);
    if (change) this.pool.add(change);
  }

  /**
   * A transaction confirmed: when it funded a claim, the coins descending from it are shallower; when it
   * is the refill, its coins join the pool; any other output paying the wallet joins the reserve, and a
   * reserve coin it spends leaves it.
   */
  observe(btx: BlockTx): void {
    const id = btx.txid;
    for (const input of btx.tx.inputs)
      this.#reserve.delete(outpointKey(hashToDisplayHex(input.prevTxid), input.vout));
    if (this.#ownFunding.delete(id)) {
      // Its change is a pool coin already.
      this.pool.confirmed(id);
      return;
    }
    if (this.#refill?.txid === id) {
      for (const c of this.#refill.coins) this.pool.add(c);
      this.#refill = undefined;
      return;
    }
    // A coinbase is not spendable for 100 blocks; the devnet mines its blocks to nobody anyway.
    if (isCoinbase(btx)) return;
    btx.tx.outputs.forEach((o, vout) => {
      if (!equalBytes(o.script, this.wallet.script) || this.pool.has(id, vout)) return;
      this.#reserve.set(outpointKey(id, vout), { txid: displayHexToHash(id), vout, value: o.value });
    });
  }
}

/** Blocks to mine to the wallet so their coinbases pay at least `value` (one at least). */
function fundingBlocks(tip: number, value: bigint): number {
  let sum = 0n;
  let blocks = 0;
  while (blocks < MAX_FUNDING_BLOCKS && (blocks === 0 || sum < value)) {
    blocks++;
    sum += blockSubsidy(tip + blocks);
  }
  return blocks;
}
