/** Shared test fixture: keys, scripts and hand-built signed spends for simnet tests. */
import { script as libScript } from 'bitcoinjs-lib';
import { addressForScript } from '../../../src/bitcoin/codec/address.ts';
import { encodeTx, txidHex } from '../../../src/bitcoin/codec/codec.ts';
import type { SimChain } from '../../../src/bitcoin/simnet/chain.ts';
import { TxReject } from '../../../src/bitcoin/simnet/rules.ts';
import { SIGHASH_ALL, segwitV0Sighash } from '../../../src/bitcoin/tx/sighash.ts';
import type { Tx, TxOutput } from '../../../src/bitcoin/tx/types.ts';
import { WalletKey } from '../../../src/bitcoin/wallet/keys.ts';
import { concatBytes, hexToBytes } from '../../../src/core/bytes.ts';
import { hash160, sha256 } from '../../../src/core/hashes.ts';

export const KEY = WalletKey.fromBytes(sha256(new TextEncoder().encode('vigil simnet test key')));
export const P2WPKH = concatBytes(Uint8Array.from([0x00, 0x14]), hash160(KEY.publicKey));
export const ADDRESS = addressForScript(P2WPKH, 'regtest') as string;
/** OP_TRUE in a P2WSH: anyone can spend it with the witness [script]. */
export const TRUE_SCRIPT = Uint8Array.from([0x51]);
export const P2WSH_TRUE = concatBytes(Uint8Array.from([0x00, 0x20]), sha256(TRUE_SCRIPT));

/** A spendable output; `witness` overrides how it is spent (scripts that need no signature). */
export type Coin = { txid: string; vout: number; value: bigint; script: Uint8Array; witness?: Uint8Array[] };

export const p2wsh = (script: Uint8Array): Uint8Array =>
  concatBytes(Uint8Array.from([0x00, 0x20]), sha256(script));

export type SpendSpec = {
  coins: Coin[];
  outputs: TxOutput[];
  sequence?: number;
  locktime?: number;
  version?: number;
  /** Corrupt the signature (flip a byte). */
  badSig?: boolean;
};

/** Signs P2WPKH coins with KEY and spends P2WSH(OP_TRUE) coins with their script. */
export function spend(spec: SpendSpec): { tx: Tx; raw: Uint8Array; txid: string } {
  const tx: Tx = {
    version: spec.version ?? 2,
    locktime: spec.locktime ?? 0,
    inputs: spec.coins.map((c) => ({
      prevTxid: hexToBytes(c.txid).reverse(),
      vout: c.vout,
      scriptSig: new Uint8Array(0),
      sequence: spec.sequence ?? 0xfffffffd,
      witness: [],
    })),
    outputs: spec.outputs,
  };
  const scriptCode = concatBytes(
    Uint8Array.from([0x76, 0xa9, 0x14]),
    hash160(KEY.publicKey),
    Uint8Array.from([0x88, 0xac]),
  );
  spec.coins.forEach((c, i) => {
    const input = tx.inputs[i] as Tx['inputs'][number];
    if (c.witness !== undefined) {
      input.witness = c.witness;
      return;
    }
    if (c.script[0] === 0x00 && c.script.length === 34) {
      input.witness = [TRUE_SCRIPT];
      return;
    }
    const h = segwitV0Sighash(tx, i, scriptCode, c.value, SIGHASH_ALL);
    const sig = Uint8Array.from(libScript.signature.encode(KEY.signEcdsa(h), SIGHASH_ALL));
    if (spec.badSig) sig[10] = (sig[10] as number) ^ 1;
    input.witness = [sig, KEY.publicKey];
  });
  return { tx, raw: encodeTx(tx), txid: txidHex(tx) };
}

/** Mines `n` blocks to the test key and returns the coinbase coins in height order. */
export function mineCoins(chain: SimChain, n: number): Coin[] {
  const coins: Coin[] = [];
  for (let i = 0; i < n; i++) {
    const b = chain.mine(P2WPKH);
    const cb = b.txs[0] as (typeof b.txs)[number];
    coins.push({ txid: cb.txid, vout: 0, value: cb.tx.outputs[0]?.value as bigint, script: P2WPKH });
  }
  return coins;
}

export const out = (value: bigint, script: Uint8Array = P2WPKH): TxOutput => ({ value, script });

/** The coin `vout` of a transaction built by `spend`. */
export function coinOf(t: { tx: Tx; txid: string }, vout = 0, witness?: Uint8Array[]): Coin {
  const o = t.tx.outputs[vout] as TxOutput;
  return { txid: t.txid, vout, value: o.value, script: o.script, ...(witness ? { witness } : {}) };
}

/** What the chain says to `tx`: 'accepted' (it is now in the mempool), or the reason it refused it. */
export function rejection(chain: SimChain, tx: Tx): string {
  try {
    chain.acceptTx(tx);
    return 'accepted';
  } catch (err) {
    if (err instanceof TxReject) return err.reason;
    throw err;
  }
}
