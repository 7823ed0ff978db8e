/**
 * The Bitcoin Core JSON-RPC methods simnet answers: the ones Vigil's Core backend and devnet use, over
 * one chain, with Core's result shapes and error codes. The HTTP server around them is `rpc-front.ts`.
 */
import { bytesToHex, hexToBytes } from '../../core/bytes.ts';
import { addressForScript, scriptForAddress } from '../codec/address.ts';
import { txVsize, txWeight } from '../codec/codec.ts';
import { feeRateToBtcPerKvb, satsToBtcNumber } from '../codec/fee-rate.ts';
import type { Tx } from '../tx/types.ts';
import type { SimChain } from './chain.ts';
import { hexOf, type MempoolEntry } from './mempool.ts';
import { TxReject } from './rules.ts';
import { decodeRawArgument, maxFeeRateFromValue, RpcError, sendRawTransaction } from './sendraw.ts';
import type { ChainBlock } from './types.ts';

/**
 * Encoding an address (bech32m checksum) costs more than the rest of a verbose transaction reply;
 * pollers ask for the same few transactions many times a second, so remember the recent scripts.
 */
const addressCache = new Map<string, string | undefined>();
function regtestAddress(script: Uint8Array): string | undefined {
  const key = bytesToHex(script);
  if (addressCache.has(key)) return addressCache.get(key);
  const address = addressForScript(script, 'regtest');
  if (addressCache.size >= 4096) addressCache.clear();
  addressCache.set(key, address);
  return address;
}

/** A method's positional parameters, as the request's `params` array. */
export type RpcParams = unknown[];
/** Method name → handler; a handler returns the result or throws RpcError. */
export type RpcMethods = Record<string, (p: RpcParams) => unknown>;

export function rpcMethods(chain: SimChain): RpcMethods {
  const blockByHashOrThrow = (hash: unknown): ChainBlock => {
    const b = typeof hash === 'string' ? chain.blockByHash(hash) : undefined;
    if (!b) throw new RpcError(-5, 'Block not found');
    return b;
  };
  const headerJson = (b: ChainBlock) => ({
    hash: b.hash,
    confirmations: chain.confirmations(b),
    height: b.height,
    version: 0x20000000,
    versionHex: '20000000',
    merkleroot: bytesToHex(b.header.slice(36, 68).reverse()),
    time: b.time,
    mediantime: chain.isActive(b) ? chain.medianTimePast(b.height) : b.time,
    nonce: new DataView(b.header.buffer, b.header.byteOffset).getUint32(76, true),
    bits: '207fffff',
    difficulty: 4.656542373906925e-10,
    nTx: b.txs.length,
    ...(b.height > 0 ? { previousblockhash: b.prevHash } : {}),
    ...(chain.isActive(b) && chain.blockAt(b.height + 1)
      ? { nextblockhash: chain.blockAt(b.height + 1)?.hash }
      : {}),
  });
  const txJson = (tx: Tx, raw: Uint8Array, txid: string) => ({
    txid,
    hash: txid,
    version: tx.version,
    size: raw.length,
    vsize: txVsize(tx),
    weight: txWeight(tx),
    locktime: tx.locktime,
    vin: tx.inputs.map((i) => ({
      txid: hexOf(i.prevTxid),
      vout: i.vout,
      scriptSig: { hex: bytesToHex(i.scriptSig) },
      txinwitness: i.witness.map((w) => bytesToHex(w)),
      sequence: i.sequence,
    })),
    vout: tx.outputs.map((o, n) => ({
      value: satsToBtcNumber(o.value),
      n,
      scriptPubKey: { hex: bytesToHex(o.script), address: regtestAddress(o.script) },
    })),
    hex: bytesToHex(raw),
  });
  const parseRaw = (hex: unknown): Tx => decodeRawArgument(typeof hex === 'string' ? hex : '');
  const script = (addr: unknown): Uint8Array => {
    try {
      return scriptForAddress(String(addr), 'regtest');
    } catch {
      throw new RpcError(-5, 'Error: Invalid address');
    }
  };
  const mempoolEntryJson = (e: MempoolEntry) => {
    const anc = chain.ancestorStats(e.txid);
    const desc = chain.descendantStats(e.txid);
    return {
      vsize: e.vsize,
      weight: e.weight,
      time: e.time,
      height: e.height,
      descendantcount: desc.count,
      descendantsize: desc.size,
      ancestorcount: anc.count,
      ancestorsize: anc.size,
      wtxid: e.wtxid,
      fees: {
        base: satsToBtcNumber(e.fee),
        modified: satsToBtcNumber(e.fee),
        ancestor: satsToBtcNumber(anc.fees),
        descendant: satsToBtcNumber(desc.fees),
      },
      depends: [...e.parents],
      spentby: [...e.children],
      'bip125-replaceable': true,
      unbroadcast: false,
    };
  };

  return {
    getblockcount: () => chain.height,
    getbestblockhash: () => chain.tip.hash,
    getblockhash: ([h]) => {
      const b = typeof h === 'number' ? chain.blockAt(h) : undefined;
      if (!b) throw new RpcError(-8, 'Block height out of range');
      return b.hash;
    },
    getblockheader: ([hash, verbose]) => {
      const b = blockByHashOrThrow(hash);
      return verbose === false ? bytesToHex(b.header) : headerJson(b);
    },
    getblock: ([hash, verbosity]) => {
      const b = blockByHashOrThrow(hash);
      const v = verbosity === undefined ? 1 : Number(verbosity);
      if (v === 0) return bytesToHex(b.raw);
      return {
        ...headerJson(b),
        size: b.raw.length,
        tx: v === 1 ? b.txs.map((t) => t.txid) : b.txs.map((t) => txJson(t.tx, t.raw, t.txid)),
      };
    },
    getblockchaininfo: () => ({
      chain: 'regtest',
      blocks: chain.height,
      headers: chain.height,
      bestblockhash: chain.tip.hash,
      mediantime: chain.medianTimePast(),
      initialblockdownload: false,
      pruned: false,
    }),
    getrawtransaction: ([txid, verbose]) => {
      const found = typeof txid === 'string' ? chain.findTx(txid) : undefined;
      if (!found) {
        throw new RpcError(
          -5,
          'No such mempool or blockchain transaction. Use gettransaction for wallet transactions.',
        );
      }
      if (!verbose) return bytesToHex(found.raw);
      const b = found.block;
      return {
        ...txJson(found.tx, found.raw, txid as string),
        ...(b
          ? { blockhash: b.hash, confirmations: chain.confirmations(b), time: b.time, blocktime: b.time }
          : {}),
      };
    },
    gettxout: ([txid, n, includeMempool]) => {
      const vout = Number(n);
      const coin =
        includeMempool === false
          ? chain.confirmedCoin(String(txid), vout)
          : chain.unspentCoin(String(txid), vout);
      if (!coin) return null;
      return {
        bestblock: chain.tip.hash,
        confirmations: coin.height > chain.height ? 0 : chain.height - coin.height + 1,
        value: satsToBtcNumber(coin.value),
        scriptPubKey: { hex: bytesToHex(coin.script), address: regtestAddress(coin.script) },
        coinbase: coin.coinbase,
      };
    },
    gettxspendingprevout: ([outputs]) => {
      if (!Array.isArray(outputs)) throw new RpcError(-8, 'Invalid parameter, outputs must be an array');
      return outputs.map((o: { txid: string; vout: number }) => {
        const spend = chain.spenderOf(o.txid, o.vout);
        return spend && spend.blockHash === undefined
          ? { txid: o.txid, vout: o.vout, spendingtxid: spend.txid }
          : { txid: o.txid, vout: o.vout };
      });
    },
    scantxoutset: ([action, descs]) => {
      if (action !== 'start') throw new RpcError(-8, 'Invalid action');
      if (!Array.isArray(descs)) throw new RpcError(-8, 'Scan objects must be an array');
      const unspents: unknown[] = [];
      let total = 0n;
      for (const d of descs as string[]) {
        const m = /^(addr|raw)\((.+)\)$/.exec(String(d));
        if (!m) throw new RpcError(-5, `Invalid descriptor: ${d}`);
        const s = m[1] === 'addr' ? script(m[2]) : hexToBytes(m[2] as string);
        for (const u of chain.utxosForScript(s, false)) {
          total += u.value;
          const b = u.height === undefined ? undefined : chain.blockAt(u.height);
          unspents.push({
            txid: u.txid,
            vout: u.vout,
            scriptPubKey: bytesToHex(s),
            desc: d,
            amount: satsToBtcNumber(u.value),
            coinbase: chain.confirmedCoin(u.txid, u.vout)?.coinbase ?? false,
            height: u.height,
            blockhash: b?.hash,
          });
        }
      }
      return {
        success: true,
        txouts: unspents.length,
        height: chain.height,
        bestblock: chain.tip.hash,
        unspents,
        total_amount: satsToBtcNumber(total),
      };
    },
    estimatesmartfee: ([target]) => {
      const t = Number(target);
      if (!Number.isInteger(t) || t < 1 || t > 1008) {
        throw new RpcError(-8, 'Invalid conf_target, must be between 1 and 1008');
      }
      const rate = chain.feeEstimate;
      if (rate === undefined) return { errors: ['Insufficient data or no feerate found'], blocks: 0 };
      return { feerate: feeRateToBtcPerKvb(rate), blocks: Math.max(2, t) };
    },
    // Core's checks before the mempool (maxburnamount, maxfeerate, argument types) live in sendraw.ts,
    // shared with the Esplora front.
    sendrawtransaction: ([hexstring, maxfeerate, maxburnamount]) =>
      sendRawTransaction(chain, { hexstring, maxfeerate, maxburnamount }),
    // No maxburnamount here: Core's testmempoolaccept has no such argument and accepts a burn.
    testmempoolaccept: ([rawtxs, maxfeerate]) => {
      if (!Array.isArray(rawtxs) || rawtxs.length < 1 || rawtxs.length > 25) {
        throw new RpcError(-8, 'Array must contain between 1 and 25 transactions.');
      }
      const maxFeeRate = maxFeeRateFromValue(maxfeerate);
      const raws = rawtxs.map((h) => {
        parseRaw(h);
        return hexToBytes(String(h));
      });
      return chain.testAccept(raws, maxFeeRate).map((r) =>
        r.ok
          ? {
              txid: r.result.txid,
              wtxid: r.result.wtxid,
              allowed: true,
              vsize: r.result.vsize,
              fees: { base: satsToBtcNumber(r.result.fee) },
            }
          : { txid: r.txid, wtxid: r.wtxid, allowed: false, 'reject-reason': r.error.testAcceptReason },
      );
    },
    generatetoaddress: ([n, addr]) => {
      const s = script(addr);
      const hashes: string[] = [];
      for (let i = 0; i < Number(n); i++) hashes.push(chain.mine(s).hash);
      return hashes;
    },
    generateblock: ([output, txs]) => {
      const s = script(output);
      const list = (Array.isArray(txs) ? txs : []).map((t: unknown) => {
        const m = typeof t === 'string' && t.length === 64 ? chain.mempool.get(t) : undefined;
        return m ? m.tx : parseRaw(t);
      });
      try {
        return { hash: chain.mine(s, list).hash };
      } catch (err) {
        if (err instanceof TxReject) throw new RpcError(-25, `TestBlockValidity failed: ${err.message}`);
        throw err;
      }
    },
    invalidateblock: ([hash]) => {
      blockByHashOrThrow(hash);
      chain.invalidateBlock(String(hash));
      return null;
    },
    reconsiderblock: ([hash]) => {
      blockByHashOrThrow(hash);
      chain.reconsiderBlock(String(hash));
      return null;
    },
    getrawmempool: ([verbose]) => {
      const ids = chain.mempoolByFeerate();
      if (!verbose) return ids;
      return Object.fromEntries(
        ids.map((id) => [id, mempoolEntryJson(chain.mempool.get(id) as MempoolEntry)]),
      );
    },
    getmempoolentry: ([txid]) => {
      const e = typeof txid === 'string' ? chain.mempool.get(txid) : undefined;
      if (!e) throw new RpcError(-5, 'Transaction not in mempool');
      return mempoolEntryJson(e);
    },
    getmempoolinfo: () => ({ loaded: true, size: chain.mempool.size, minrelaytxfee: 0.00001, fullrbf: true }),
    getnetworkinfo: () => ({
      version: 280000,
      subversion: '/Satoshi:28.0.0(vigil-simnet)/',
      relayfee: 0.00001,
    }),
  };
}
