/**
 * Blocks as regtest makes them: a BIP-34 coinbase paying subsidy + fees, the BIP-141 witness
 * commitment, the merkle root, and an 80-byte header ground to regtest's target (0x207fffff).
 */
import { concatBytes, equalBytes, hexToBytes } from '../../core/bytes.ts';
import { hash256 } from '../../core/hashes.ts';
import { encodeTx, txidBytes, wtxidBytes } from '../codec/codec.ts';
import { encodeCompactSize } from '../compact-size.ts';
import type { Tx } from '../tx/types.ts';

export const REGTEST_BITS = 0x207fffff;
export const HALVING_INTERVAL = 150; // regtest's nSubsidyHalvingInterval
export const COINBASE_MATURITY = 100;
export const MAX_BLOCK_WEIGHT = 4_000_000;
const WITNESS_COMMITMENT_HEADER = Uint8Array.from([0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed]);

/** Bitcoin Core's regtest genesis block (chainparams.cpp), as raw bytes. */
export const REGTEST_GENESIS_HEX =
  '0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4adae5494dffff7f20020000000101000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000';
export const REGTEST_GENESIS = hexToBytes(REGTEST_GENESIS_HEX);

export function blockSubsidy(height: number): bigint {
  const halvings = Math.floor(height / HALVING_INTERVAL);
  if (halvings >= 64) return 0n;
  return (50n * 100_000_000n) >> BigInt(halvings);
}

export function merkleRoot(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return new Uint8Array(32);
  let level = hashes.slice();
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i] as Uint8Array;
      const b = level[i + 1] ?? a;
      next.push(hash256(concatBytes(a, b)));
    }
    level = next;
  }
  return level[0] as Uint8Array;
}

/** CScriptNum push of the height (BIP-34), minimal encoding. */
function heightPush(height: number): Uint8Array {
  if (height === 0) return Uint8Array.from([0x00]);
  if (height >= 1 && height <= 16) return Uint8Array.from([0x50 + height]);
  const bytes: number[] = [];
  let n = height;
  while (n > 0) {
    bytes.push(n & 0xff);
    n = Math.floor(n / 256);
  }
  if (((bytes[bytes.length - 1] as number) & 0x80) !== 0) bytes.push(0);
  return Uint8Array.from([bytes.length, ...bytes]);
}

export function buildCoinbase(
  height: number,
  payoutScript: Uint8Array,
  value: bigint,
  txs: readonly Tx[],
  extraNonce: number,
): Tx {
  // Height push + an extra-nonce push keep every coinbase unique and scriptSig within 2..100 bytes.
  const scriptSig = concatBytes(heightPush(height), Uint8Array.from([0x04]), u32le(extraNonce));
  const coinbase: Tx = {
    version: 2,
    locktime: 0,
    inputs: [
      {
        prevTxid: new Uint8Array(32),
        vout: 0xffffffff,
        scriptSig,
        sequence: 0xffffffff,
        witness: [new Uint8Array(32)],
      },
    ],
    outputs: [{ value, script: payoutScript }],
  };
  // BIP-141: the coinbase's wtxid counts as zero; the reserved value is the 32 zero bytes of its witness.
  const witnessRoot = merkleRoot([new Uint8Array(32), ...txs.map((t) => wtxidBytes(t))]);
  const commitment = hash256(concatBytes(witnessRoot, new Uint8Array(32)));
  coinbase.outputs.push({ value: 0n, script: concatBytes(WITNESS_COMMITMENT_HEADER, commitment) });
  return coinbase;
}

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

/** regtest's target: 0x7fffff × 256^(0x20−3), compared with the hash read as a little-endian number. */
function meetsTarget(hash: Uint8Array): boolean {
  // hash[31] is the most significant byte; the target's top byte is 0x7f followed by 0xff 0xff.
  const top = hash[31] as number;
  return top < 0x7f || (top === 0x7f && ((hash[30] as number) < 0xff || (hash[29] as number) < 0xff));
}

export function buildHeader(
  prevHash: Uint8Array,
  root: Uint8Array,
  time: number,
): { header: Uint8Array; hash: Uint8Array } {
  const header = new Uint8Array(80);
  const view = new DataView(header.buffer);
  view.setInt32(0, 0x20000000, true);
  header.set(prevHash, 4);
  header.set(root, 36);
  view.setUint32(68, time >>> 0, true);
  view.setUint32(72, REGTEST_BITS, true);
  for (let nonce = 0; ; nonce++) {
    view.setUint32(76, nonce, true);
    const hash = hash256(header);
    if (meetsTarget(hash)) return { header, hash };
  }
}

export function serializeBlock(header: Uint8Array, txs: readonly Tx[]): Uint8Array {
  return concatBytes(header, encodeCompactSize(txs.length), ...txs.map((t) => encodeTx(t)));
}

export function checkMerkleRoot(header: Uint8Array, txs: readonly Tx[]): boolean {
  return equalBytes(header.slice(36, 68), merkleRoot(txs.map((t) => txidBytes(t))));
}
