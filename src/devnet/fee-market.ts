/**
 * The devnet's fee market. Regtest has none: every block takes every transaction paying the relay
 * minimum, so a low-fee transaction never waits and a fee spike cannot happen. The market gives the
 * devnet's miner a floor (a package whose ancestor fee rate is below it stays in the mempool, as it
 * would when blocks are full of better-paying transactions) and sets the estimate everyone reads
 * (simnet only: a Core node estimates from its own history). Without a floor the miner is plain
 * `generatetoaddress`, as before.
 */
import { addressForScript } from '../bitcoin/backends/address.ts';
import { feeRateFromSatPerVb } from '../bitcoin/backends/fee-rate.ts';
import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import { serializeTx, txidHex } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { bytesToHex, concatBytes } from '../core/bytes.ts';
import { sha256 } from '../core/hashes.ts';

type MempoolEntryJson = {
  vsize: number;
  ancestorsize: number;
  fees: { base: number; ancestor: number };
  depends: string[];
};

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
      // A transaction goes in when its package (it and its unconfirmed ancestors) pays the floor, as
      // Core's block assembly picks packages by ancestor fee rate; its ancestors come with it.
      const chosen = new Set<string>();
      const addWithAncestors = (id: string) => {
        if (chosen.has(id) || pool[id] === undefined) return;
        chosen.add(id);
        for (const p of pool[id].depends) addWithAncestors(p);
      };
      for (const [id, e] of Object.entries(pool)) {
        const rate = Number(btcToSats(e.fees.ancestor)) / e.ancestorsize;
        if (rate >= min) addWithAncestors(id);
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
