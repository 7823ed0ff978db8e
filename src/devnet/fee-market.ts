/**
 * The devnet's fee market. Regtest has none: every block takes every transaction paying the relay
 * minimum, so a low-fee transaction never waits and a fee spike cannot happen. The market gives the
 * devnet's miner a floor (a package whose ancestor fee rate is below it stays in the mempool, as it
 * would when blocks are full of better-paying transactions) and sets the estimate everyone reads
 * (simnet only: a Core node estimates from its own history). Without a floor the miner is plain
 * `generatetoaddress`, as before.
 */
import { addressForScript } from '../bitcoin/codec/address.ts';
import { feeRateFromSatPerVb } from '../bitcoin/codec/fee-rate.ts';
import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import { serializeTx, txidHex } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { bytesToHex, concatBytes } from '../core/bytes.ts';
import { sha256 } from '../core/hashes.ts';

type MempoolEntryJson = { vsize: number; fees: { base: number }; depends: string[] };

export type FeeMarket = {
  /** The miner's floor in sat/vB (undefined: none). */
  floor(): number | undefined;
  /**
   * Sets the floor and, on simnet, the estimate everyone reads (undefined: none, regtest's quiet chain).
   * Both explicit: a spike nobody's estimator sees is a different market from one everybody sees.
   */
  set(floorSatVb: number | undefined, estimateSatVb: number | undefined): void;
  /** The next block mines `tx` in place of the mempool transaction with the same txid (another witness). */
  mineInstead(tx: Tx): void;
  /** Mines one block as the market allows; returns its hash. */
  mine(): Promise<string>;
};

const btcToSats = (btc: number): bigint => BigInt(Math.round(btc * 1e8));

export function createFeeMarket(bitcoin: DevnetBitcoin, address?: string): FeeMarket {
  let floor: number | undefined;
  const substitutes = new Map<string, Tx>();
  return {
    floor: () => floor,
    set(floorSatVb, estimateSatVb) {
      floor = floorSatVb;
      bitcoin.simnet?.setFeeRate(
        estimateSatVb === undefined ? undefined : feeRateFromSatPerVb(estimateSatVb),
      );
    },
    mineInstead(tx) {
      substitutes.set(txidHex(tx), tx);
    },
    async mine() {
      if (floor === undefined && substitutes.size === 0) {
        const [hash] = await bitcoin.mine(1, address);
        return hash as string;
      }
      const pool = await bitcoin.backend.rpc.call<Record<string, MempoolEntryJson>>('getrawmempool', [true]);
      const min = floor ?? 0;
      // Core's block assembly: repeatedly the package (a transaction and its ancestors not yet taken)
      // with the best fee rate, while that rate pays the floor. A parent already taken no longer lifts
      // its child, so a low-fee child of a high-fee parent stays out (that is what a pin relies on).
      const chosen = new Set<string>();
      const ancestors = (id: string, into: Set<string>) => {
        if (into.has(id) || chosen.has(id) || pool[id] === undefined) return;
        into.add(id);
        for (const p of pool[id].depends) ancestors(p, into);
      };
      for (;;) {
        let best: { ids: Set<string>; rate: number } | undefined;
        for (const id of Object.keys(pool)) {
          if (chosen.has(id)) continue;
          const ids = new Set<string>();
          ancestors(id, ids);
          let fee = 0;
          let size = 0;
          for (const a of ids) {
            fee += Number(btcToSats((pool[a] as MempoolEntryJson).fees.base));
            size += (pool[a] as MempoolEntryJson).vsize;
          }
          const rate = fee / size;
          if (best === undefined || rate > best.rate) best = { ids, rate };
        }
        if (best === undefined || best.rate < min) break;
        for (const id of best.ids) chosen.add(id);
      }
      // Parents before children: generateblock takes the list in block order.
      const ordered: string[] = [];
      const placed = new Set<string>();
      const place = (id: string) => {
        if (placed.has(id)) return;
        placed.add(id);
        for (const p of pool[id]?.depends ?? []) if (chosen.has(p)) place(p);
        ordered.push(id);
      };
      for (const id of chosen) place(id);
      const list = ordered.map((id) => {
        const other = substitutes.get(id);
        return other ? bytesToHex(serializeTx(other)) : id;
      });
      substitutes.clear();
      const burn = address ?? BURN_ADDRESS;
      const r = await bitcoin.backend.rpc.call<{ hash: string }>('generateblock', [burn, list]);
      return r.hash;
    },
  };
}

/**
 * Where the devnet's blocks pay when mined by the market: P2WSH(OP_TRUE), as devnet-bitcoin.ts's own
 * `mine` does (it does not export its address), so nobody's balance changes with the miner.
 */
const BURN_ADDRESS = addressForScript(
  concatBytes(Uint8Array.of(0x00, 0x20), sha256(Uint8Array.of(0x51))),
  'regtest',
) as string;
