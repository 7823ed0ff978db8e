/**
 * simnet throughput: transactions validated and accepted per second (every input through the
 * project's interpreter), blocks mined per second, and the Core RPC backend's request rate. Baselines
 * in the same run: bare script verification of the same transactions, and bare fetch of the same RPC.
 */

import { script as libScript } from 'bitcoinjs-lib';
import { CoreRpcBackend } from '../src/bitcoin/backends/core-rpc.ts';
import { encodeTx, txidHex } from '../src/bitcoin/codec/codec.ts';
import { STANDARD_FLAGS } from '../src/bitcoin/script/flags.ts';
import { SimChain } from '../src/bitcoin/simnet/chain.ts';
import { startSimnet } from '../src/bitcoin/simnet/start.ts';
import { SIGHASH_ALL, segwitV0Sighash } from '../src/bitcoin/tx/sighash.ts';
import type { Prevout, Tx } from '../src/bitcoin/tx/types.ts';
import { verifyTransaction } from '../src/bitcoin/tx/verify.ts';
import { WalletKey } from '../src/bitcoin/wallet/keys.ts';
import { concatBytes } from '../src/core/bytes.ts';
import { hash160, sha256 } from '../src/core/hashes.ts';
import type { Benchmark } from './harness.ts';
import { withRatio } from './harness.ts';

const KEY = WalletKey.fromBytes(sha256(new TextEncoder().encode('vigil bench key')));
const SCRIPT = concatBytes(Uint8Array.of(0x00, 0x14), hash160(KEY.publicKey));
const SCRIPT_CODE = concatBytes(
  Uint8Array.of(0x76, 0xa9, 0x14),
  hash160(KEY.publicKey),
  Uint8Array.of(0x88, 0xac),
);

function signed(inputs: { txid: string; vout: number; value: bigint }[], outputs: Tx['outputs']): Tx {
  const tx: Tx = {
    version: 2,
    locktime: 0,
    inputs: inputs.map((i) => ({
      prevTxid: Uint8Array.from(Buffer.from(i.txid, 'hex').reverse()),
      vout: i.vout,
      scriptSig: new Uint8Array(0),
      sequence: 0xfffffffd,
      witness: [],
    })),
    outputs,
  };
  inputs.forEach((i, n) => {
    const h = segwitV0Sighash(tx, n, SCRIPT_CODE, i.value, SIGHASH_ALL);
    (tx.inputs[n] as Tx['inputs'][number]).witness = [
      Uint8Array.from(libScript.signature.encode(KEY.signEcdsa(h), SIGHASH_ALL)),
      KEY.publicKey,
    ];
  });
  return tx;
}

/** A chain with `n` confirmed P2WPKH coins and `n` signed 1-in-1-out spends of them. */
function prepare(n: number): { chain: SimChain; spends: { tx: Tx; prevouts: Prevout[] }[] } {
  const chain = new SimChain();
  for (let i = 0; i < 101; i++) chain.mine(SCRIPT);
  const cb = chain.blockAt(1)?.txs[0] as { txid: string; tx: Tx };
  const value = 10_000_000n;
  const fan = signed(
    [{ txid: cb.txid, vout: 0, value: cb.tx.outputs[0]?.value as bigint }],
    Array.from({ length: n }, () => ({ value, script: SCRIPT })),
  );
  // The fan-out pays its own fee: the rest of the coinbase.
  chain.accept(encodeTx(fan));
  chain.mine(SCRIPT);
  const fanId = txidHex(fan);
  const spends = Array.from({ length: n }, (_, vout) => ({
    tx: signed([{ txid: fanId, vout, value }], [{ value: value - 2_000n, script: SCRIPT }]),
    prevouts: [{ value, script: SCRIPT }],
  }));
  return { chain, spends };
}

export const benchmarks: Benchmark[] = [
  {
    name: 'bitcoin.simnet.accept',
    run: async () => {
      const n = 400;
      const { chain, spends } = prepare(n);
      const raws = spends.map((s) => encodeTx(s.tx));
      // Warm both paths up (JIT, wasm) on throwaway work so neither figure pays for it alone.
      for (const s of spends.slice(0, 50)) verifyTransaction(s.tx, s.prevouts, STANDARD_FLAGS);
      const warm = prepare(50);
      for (const s of warm.spends) warm.chain.accept(encodeTx(s.tx));
      // Interleaved in chunks so machine load hits both figures alike.
      let acceptMs = 0;
      let verifyMs = 0;
      for (let i = 0; i < n; i += 20) {
        const t0 = performance.now();
        for (const r of raws.slice(i, i + 20)) chain.accept(r);
        const t1 = performance.now();
        for (const s of spends.slice(i, i + 20)) verifyTransaction(s.tx, s.prevouts, STANDARD_FLAGS);
        acceptMs += t1 - t0;
        verifyMs += performance.now() - t1;
      }
      const t2 = performance.now();
      const block = chain.mine(SCRIPT);
      const mineFullMs = performance.now() - t2;
      if (block.txs.length !== n + 1)
        throw new Error(`expected ${n} transactions in the block, got ${block.txs.length - 1}`);
      return [
        withRatio({
          name: 'bitcoin.simnet.accept.p2wpkh',
          value: Math.round((n / acceptMs) * 1000),
          unit: 'txs/s',
          baseline: Math.round((n / verifyMs) * 1000),
        }),
        { name: 'bitcoin.simnet.mine.400tx-block', value: Number(mineFullMs.toFixed(1)), unit: 'ms' },
      ];
    },
  },
  {
    name: 'bitcoin.simnet.mine',
    run: async () => {
      const chain = new SimChain();
      const n = 300;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) chain.mine(SCRIPT);
      const ms = performance.now() - t0;
      return [{ name: 'bitcoin.simnet.mine.empty', value: Math.round((n / ms) * 1000), unit: 'blocks/s' }];
    },
  },
  {
    name: 'bitcoin.backend.core-rpc',
    run: async () => {
      const sim = await startSimnet();
      try {
        const backend = new CoreRpcBackend({ url: sim.rpcUrl, auth: sim.rpcAuth });
        const n = 500;
        const authorization = `Basic ${Buffer.from(`${sim.rpcAuth.user}:${sim.rpcAuth.password}`).toString('base64')}`;
        const raw = async (id: number) => {
          const res = await fetch(sim.rpcUrl, {
            method: 'POST',
            headers: { authorization, 'content-type': 'application/json' },
            body: JSON.stringify({ jsonrpc: '1.0', id, method: 'getblockcount', params: [] }),
          });
          await res.json();
        };
        // Warm both paths, then interleave chunks so machine load hits both alike.
        for (let i = 0; i < 50; i++) {
          await backend.getTipHeight();
          await raw(i);
        }
        let backendMs = 0;
        let rawMs = 0;
        for (let i = 0; i < n; i += 25) {
          const t0 = performance.now();
          for (let j = 0; j < 25; j++) await backend.getTipHeight();
          const t1 = performance.now();
          for (let j = 0; j < 25; j++) await raw(j);
          backendMs += t1 - t0;
          rawMs += performance.now() - t1;
        }
        return [
          withRatio({
            name: 'bitcoin.backend.core-rpc.getblockcount',
            value: Math.round((n / backendMs) * 1000),
            unit: 'req/s',
            baseline: Math.round((n / rawMs) * 1000),
          }),
        ];
      } finally {
        await sim.stop();
      }
    },
  },
];
