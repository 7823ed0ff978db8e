/**
 * Checks the bytes a backend returns against what they must hash to, so a hostile backend cannot hand
 * Vigil a different transaction or block than the one asked for. Pure functions of the bytes: no
 * backend, no simnet.
 *
 * What this proves and what it does not: a transaction that hashes to the txid asked for is that
 * transaction's non-witness part; its witness is covered only inside a block (the BIP-141 commitment
 * checked here). A block that hashes to the hash asked for carries exactly the transactions its merkle
 * root commits to. Whether that hash is on the best chain, and a transaction's status, remain the
 * backend's word.
 */
import { bytesToHex, concatBytes, equalBytes } from '../../core/bytes.ts';
import { hash256 } from '../../core/hashes.ts';
import {
  type DecodedBlock,
  decodeBlock,
  decodeTx,
  hashToHex,
  txidBytes,
  wtxidBytes,
} from '../codec/codec.ts';
import type { Tx } from '../tx/types.ts';
import { type BackendKind, BackendLiedError, BackendUnavailableError, TransientFault } from './errors.ts';

/**
 * The merkle root of `hashes` (internal byte order), as Core's ComputeMerkleRoot: an odd level repeats
 * its last hash. `mutated` is Core's flag for two equal siblings (CVE-2012-2459): a block whose
 * transaction list was padded with a duplicate has the same root, and must be refused, not believed.
 */
export function computeMerkleRoot(hashes: readonly Uint8Array[]): { root: Uint8Array; mutated: boolean } {
  if (hashes.length === 0) return { root: new Uint8Array(32), mutated: false };
  let mutated = false;
  let level = hashes.slice();
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i] as Uint8Array;
      const b = level[i + 1];
      if (b !== undefined && equalBytes(a, b)) mutated = true;
      next.push(hash256(concatBytes(a, b ?? a)));
    }
    level = next;
  }
  return { root: level[0] as Uint8Array, mutated };
}

/** BIP-141's commitment output script prefix: OP_RETURN, push 36, 0xaa21a9ed. */
const COMMITMENT_PREFIX = Uint8Array.from([0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed]);

/** The last output of the coinbase that carries a witness commitment (BIP-141 takes the last one). */
function witnessCommitment(coinbase: Tx): Uint8Array | undefined {
  for (let i = coinbase.outputs.length - 1; i >= 0; i--) {
    const script = (coinbase.outputs[i] as { script: Uint8Array }).script;
    if (script.length >= 38 && equalBytes(script.subarray(0, 6), COMMITMENT_PREFIX)) {
      return script.subarray(6, 38);
    }
  }
  return undefined;
}

/**
 * Decodes a transaction and checks it is the one asked for. Bytes that do not decode are an unusable
 * reply (retried); bytes that decode to another transaction are a lie.
 */
export function verifiedTx(backend: BackendKind, txidAsked: string, raw: Uint8Array): Tx {
  let tx: Tx;
  try {
    tx = decodeTx(raw);
  } catch (err) {
    throw new TransientFault(`transaction ${txidAsked}: undecodable bytes`, { cause: err });
  }
  const got = hashToHex(txidBytes(tx));
  if (got !== txidAsked) {
    throw new BackendLiedError(backend, 'tx-hash-mismatch', `asked for transaction ${txidAsked}, got ${got}`);
  }
  return tx;
}

/**
 * Decodes a block and checks its header hashes to `hashAsked`, its transactions to the header's merkle
 * root (without duplicate-padding), and, when any transaction has a witness, the witnesses to the
 * coinbase's BIP-141 commitment.
 */
export function verifiedBlock(backend: BackendKind, hashAsked: string, raw: Uint8Array): DecodedBlock {
  let block: DecodedBlock;
  try {
    block = decodeBlock(raw);
  } catch (err) {
    throw new TransientFault(`block ${hashAsked}: undecodable bytes`, { cause: err });
  }
  const got = hashToHex(block.hash);
  if (got !== hashAsked) {
    throw new BackendLiedError(backend, 'block-hash-mismatch', `asked for block ${hashAsked}, got ${got}`);
  }
  const txs = block.txs.map((t) => t.tx);
  const { root, mutated } = computeMerkleRoot(txs.map((t) => txidBytes(t)));
  const committed = block.header.subarray(36, 68);
  if (txs.length === 0 || mutated || !equalBytes(root, committed)) {
    const why =
      txs.length === 0 ? 'no transactions' : mutated ? 'a duplicated transaction' : 'a different merkle root';
    throw new BackendLiedError(
      backend,
      'merkle-root-mismatch',
      `block ${hashAsked}: its transactions do not match its header (${why}: header ${bytesToHex(committed)}, transactions ${bytesToHex(root)})`,
    );
  }
  checkWitnessCommitment(backend, hashAsked, txs);
  return block;
}

function checkWitnessCommitment(backend: BackendKind, hash: string, txs: readonly Tx[]): void {
  const coinbase = txs[0] as Tx;
  // Without a witness anywhere there is nothing uncommitted to check (pre-segwit blocks have no commitment).
  if (!txs.some((t) => t.inputs.some((i) => i.witness.length > 0))) return;
  const commitment = witnessCommitment(coinbase);
  const reserved = coinbase.inputs[0]?.witness;
  const lie = (why: string) =>
    new BackendLiedError(backend, 'witness-commitment-mismatch', `block ${hash}: ${why}`);
  if (commitment === undefined) throw lie('witness data without a witness commitment');
  if (reserved?.length !== 1 || reserved[0]?.length !== 32) {
    throw lie('the coinbase witness is not one 32-byte reserved value');
  }
  // The coinbase's wtxid counts as all zeros (BIP-141).
  const { root } = computeMerkleRoot([new Uint8Array(32), ...txs.slice(1).map((t) => wtxidBytes(t))]);
  if (!equalBytes(hash256(concatBytes(root, reserved[0])), commitment)) {
    throw lie('the witnesses do not match the coinbase witness commitment');
  }
}

/** The parent hash and timestamp an 80-byte header commits to. */
export function headerFields(header: Uint8Array): { prevHash: string; time: number } {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  return { prevHash: hashToHex(header.subarray(4, 36)), time: view.getUint32(68, true) };
}

/** A block asked for by height must say it is at that height (its hash was the backend's answer for it). */
export function checkHeightAsked(
  backend: BackendKind,
  asked: string | number,
  header: { hash: string; height: number },
): void {
  if (typeof asked === 'number' && header.height !== asked) {
    throw new BackendLiedError(
      backend,
      'block-hash-mismatch',
      `asked for the block at height ${asked}, got ${header.hash} at height ${header.height}`,
    );
  }
}

/**
 * Runs a check outside a retry loop: an unusable reply (`TransientFault`, which only the retry loop
 * understands) surfaces as the `BackendUnavailableError` the loop would have raised.
 */
export function outsideRetry<T>(backend: BackendKind, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof TransientFault)
      throw new BackendUnavailableError(backend, err.message, 1, { cause: err });
    throw err;
  }
}
