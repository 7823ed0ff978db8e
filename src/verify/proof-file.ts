/**
 * The account proof file (docs/verify-proofs.md): the leaves behind an account report, each with its Merkle
 * proof, and the root they prove against, as versioned JSON. Anyone holding the file and a root they trust
 * (the operator's commitment for the epoch) can check it with BLAKE3 alone (docs/verify-proofs.md);
 * `verifyProofFile` does so with nothing but the tree's hash function, and decodes each leaf for display.
 * Version 2 proves against the state image tree (docs/protocol.md §8); version 1 files proved against the
 * SHA-256 tree of earlier Vigils and are refused with that said.
 */
import { z } from 'zod';
import { bytesToHex, equalBytes, hexToBytes } from '../core/bytes.ts';
import { VigilError, type VigilErrorCategory, type VigilErrorOptions } from '../core/errors.ts';
import { MAX_RECORDS, type MerkleProof, RECORDS_DEPTH, verifyProof } from '../governance/merkle.ts';
import type { AccountReport } from './account.ts';

export const PROOF_FILE_FORMAT = 'vigil-account-proofs';
export const PROOF_FILE_VERSION = 2;

export type ProofFileLeaf = { id: string; what: string; leaf: Uint8Array; proof: MerkleProof };

export type ProofFile = {
  format: typeof PROOF_FILE_FORMAT;
  version: typeof PROOF_FILE_VERSION;
  /** The epoch that ended; `root` is the state root right after its endEpoch. */
  epoch: bigint;
  root: Uint8Array;
  account: `0x${string}`;
  leaves: ProofFileLeaf[];
};

/** A proof file that cannot be read: bad JSON, another format or version, bad hex, wrong lengths. */
export class ProofFileError extends VigilError {
  override name = 'ProofFileError';
  override readonly category: VigilErrorCategory = 'usage';
  constructor(message: string, options: VigilErrorOptions = {}) {
    super(message, { docsPath: 'docs/verify-proofs.md', ...options });
  }
}

/** The proof file of a report: every leaf it cites, with its proof. */
export function proofFileFromReport(report: AccountReport): ProofFile {
  return {
    format: PROOF_FILE_FORMAT,
    version: PROOF_FILE_VERSION,
    epoch: report.epoch,
    root: report.root,
    account: report.account,
    leaves: report.leaves.map((l) => ({ id: l.id, what: l.what, leaf: l.leaf, proof: l.proof })),
  };
}

const hex = (b: Uint8Array): string => `0x${bytesToHex(b)}`;

export function encodeProofFile(file: ProofFile): string {
  const json = {
    format: file.format,
    version: file.version,
    epoch: file.epoch.toString(),
    root: hex(file.root),
    account: file.account,
    leaves: file.leaves.map((l) => ({
      id: l.id,
      what: l.what,
      leaf: hex(l.leaf),
      proof: { index: l.proof.index, siblings: l.proof.siblings.map(hex) },
    })),
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

// Non-capturing groups: a capturing group repeated millions of times (a hostile 20 MB hex string)
// overflows the regexp stack and throws a RangeError instead of a ProofFileError.
const HEX = /^0x(?:[0-9a-f]{2})*$/;
// `what` is printed as is: a control or format character (newline, carriage return, ESC, bidi override)
// could draw lines the verdict did not say.
const LABEL = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u;
// Messages follow the JSON path the error names (`invalid proof file at root: …`).
const hexString = () => z.string().regex(HEX, 'lowercase 0x-prefixed hex, whole bytes');
const hash32 = () => hexString().length(66, '32 bytes (0x + 64 hex digits)');
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const schema = z.strictObject({
  format: z.literal(PROOF_FILE_FORMAT, `expected "${PROOF_FILE_FORMAT}"`),
  version: z.literal(PROOF_FILE_VERSION, `this Vigil reads version ${PROOF_FILE_VERSION} only`),
  epoch: z.string().regex(/^(0|[1-9][0-9]*)$/, 'a decimal integer as a string'),
  root: hash32(),
  account: z.string().regex(/^0x[0-9a-f]{40}$/, 'lowercase 0x + 40 hex digits'),
  leaves: z.array(
    z.strictObject({
      id: z.string().regex(/^(?:[0-9a-f]{2})+$/, 'lowercase hex of the key bytes, no 0x'),
      what: z.string().regex(LABEL, 'a printable label (no control or format characters)'),
      leaf: hexString().min(4, 'at least one byte'),
      proof: z.strictObject({
        index: count,
        siblings: z.array(hash32()).max(64, 'at most 64'),
      }),
    }),
  ),
});

/** Reads a proof file; throws ProofFileError naming the first problem (and its path in the JSON). */
export function parseProofFile(text: string): ProofFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ProofFileError('the proof file is not JSON', { cause });
  }
  // The version first: a newer file should say so, not fail on a field this version does not know.
  if (typeof raw === 'object' && raw !== null && 'version' in raw && raw.version !== PROOF_FILE_VERSION) {
    throw new ProofFileError(
      `unsupported proof file version ${JSON.stringify(raw.version)} (this Vigil reads version ${PROOF_FILE_VERSION})`,
      raw.version === 1
        ? {
            metaMessages: [
              'Version 1 files prove against the SHA-256 state tree that the state image tree replaced (docs/protocol.md §8); make the file again with this Vigil (vigil verify --epoch N --account 0x… --proof-out file.json).',
            ],
          }
        : {},
    );
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new ProofFileError(`invalid proof file${at}: ${issue?.message ?? 'unknown problem'}`, {
      metaMessages: parsed.error.issues.slice(1, 5).map((i) => `${i.path.join('.')}: ${i.message}`),
    });
  }
  const f = parsed.data;
  return {
    format: PROOF_FILE_FORMAT,
    version: PROOF_FILE_VERSION,
    epoch: BigInt(f.epoch),
    root: hexToBytes(f.root, 'root'),
    account: f.account as `0x${string}`,
    leaves: f.leaves.map((l) => ({
      id: l.id,
      what: l.what,
      leaf: hexToBytes(l.leaf, 'leaf'),
      proof: {
        index: l.proof.index,
        siblings: l.proof.siblings.map((s) => hexToBytes(s, 'sibling')),
      },
    })),
  };
}

// ---- verification ----

/** A leaf's fields as docs/protocol.md §8 lays them out (the kinds an account report cites). */
export type DecodedLeaf =
  | {
      kind: 'global';
      epoch: bigint;
      lastBlock: bigint;
      lastTx: number;
      lastLog: number;
      proposalCount: bigint;
      activeCount: number;
      totalBonded: bigint;
      totalIssued: bigint;
      treasury: bigint;
    }
  | { kind: 'param'; key: string; value: bigint }
  | {
      kind: 'validator';
      address: string;
      commissionBps: number;
      selfStake: bigint;
      delegated: bigint;
      delegatorCount: number;
    }
  | { kind: 'delegation'; delegator: string; validator: string; amount: bigint }
  | { kind: 'active-slot'; index: number; validator: string; power: bigint }
  | { kind: 'reward'; account: string; accrued: bigint }
  | { kind: 'other'; tag: number };

export type LeafVerdict = {
  id: string;
  what: string;
  ok: boolean;
  /** Why the leaf fails; undefined when ok. */
  reason: string | undefined;
  /** Undefined when the bytes are not a well-formed leaf of their tag. */
  fields: DecodedLeaf | undefined;
};

export type ProofFileVerdict = {
  /** Every leaf verifies against the file's root, and that root equals the expected one when given. */
  ok: boolean;
  /** Problems with the file as a whole (the root), before any leaf's. */
  reasons: string[];
  leaves: LeafVerdict[];
};

/**
 * Checks every leaf of `file` against its root and, when `rootHex` is given (the root the operator
 * committed), that the file's root is that one. Nothing but BLAKE3 and the tree layout is trusted.
 */
export function verifyProofFile(file: ProofFile, rootHex?: string): ProofFileVerdict {
  const reasons: string[] = [];
  if (file.root.length !== 32) reasons.push(`the file's root is ${file.root.length} bytes, not 32`);
  if (rootHex !== undefined) {
    let expected: Uint8Array | undefined;
    try {
      expected = hexToBytes(rootHex, 'expected root');
    } catch {
      reasons.push(`the expected root ${rootHex} is not hex`);
    }
    if (expected && !equalBytes(expected, file.root)) {
      reasons.push(`the file's root ${hex(file.root)} is not the expected root ${rootHex.toLowerCase()}`);
    }
  }
  if (file.leaves.length === 0) reasons.push('the file holds no leaves');
  const leaves = file.leaves.map((l) => verifyLeaf(file.root, l));
  return { ok: reasons.length === 0 && leaves.every((l) => l.ok), reasons, leaves };
}

function verifyLeaf(root: Uint8Array, l: ProofFileLeaf): LeafVerdict {
  const fields = decodeLeaf(l.leaf);
  const fail = (reason: string): LeafVerdict => ({ id: l.id, what: l.what, ok: false, reason, fields });
  // The id is the leaf's key bytes: a leaf whose key differs is another leaf than the one named.
  if (!bytesToHex(l.leaf).startsWith(l.id)) return fail(`the leaf's key bytes are not its id ${l.id}`);
  if (fields === undefined) return fail(`the leaf is not a well-formed leaf of tag 0x${hexByte(l.leaf[0])}`);
  const { index, siblings } = l.proof;
  if (index >= MAX_RECORDS)
    return fail(`index ${index} is not below ${MAX_RECORDS}, the image's record count`);
  if (siblings.length !== RECORDS_DEPTH) {
    return fail(`the proof has ${siblings.length} siblings; every proof has ${RECORDS_DEPTH}`);
  }
  if (!verifyProof(root, l.leaf, l.proof)) {
    return fail('the leaf and its siblings do not hash to the root (a changed leaf, sibling or root)');
  }
  return { id: l.id, what: l.what, ok: true, reason: undefined, fields };
}

const hexByte = (b: number | undefined): string => (b ?? 0).toString(16).padStart(2, '0');

/** The fields of a leaf, or undefined when its length does not fit its tag. */
export function decodeLeaf(leaf: Uint8Array): DecodedLeaf | undefined {
  const r = new Reader(leaf);
  const tag = r.u8();
  const lengths: Record<number, number> = { 1: 133, 2: 65, 4: 91, 5: 73, 6: 57, 7: 53 };
  const length = lengths[tag];
  if (length === undefined) return { kind: 'other', tag };
  if (leaf.length !== length) return undefined;
  switch (tag) {
    case 1:
      return {
        kind: 'global',
        epoch: r.u64(),
        lastBlock: r.u64(),
        lastTx: r.u32(),
        lastLog: r.u32(),
        proposalCount: r.u64(),
        activeCount: r.u32(),
        totalBonded: r.u256(),
        totalIssued: r.u256(),
        treasury: r.u256(),
      };
    case 2:
      return { kind: 'param', key: r.name32(), value: r.u256() };
    case 4:
      return {
        kind: 'validator',
        address: r.address(),
        commissionBps: r.u16(),
        selfStake: r.u256(),
        delegated: r.u256(),
        delegatorCount: r.u32(),
      };
    case 5:
      return { kind: 'delegation', delegator: r.address(), validator: r.address(), amount: r.u256() };
    case 6:
      return { kind: 'active-slot', index: r.u32(), validator: r.address(), power: r.u256() };
    default:
      return { kind: 'reward', account: r.address(), accrued: r.u256() };
  }
}

/** Big-endian reads over a leaf whose length was checked first. */
class Reader {
  private off = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(): number {
    return this.view.getUint8(this.off++);
  }
  u16(): number {
    const v = this.view.getUint16(this.off);
    this.off += 2;
    return v;
  }
  u32(): number {
    const v = this.view.getUint32(this.off);
    this.off += 4;
    return v;
  }
  u64(): bigint {
    const v = this.view.getBigUint64(this.off);
    this.off += 8;
    return v;
  }
  u256(): bigint {
    const v = BigInt(`0x${bytesToHex(this.bytes.subarray(this.off, this.off + 32))}`);
    this.off += 32;
    return v;
  }
  address(): string {
    const v = `0x${bytesToHex(this.bytes.subarray(this.off, this.off + 20))}`;
    this.off += 20;
    return v;
  }
  /** An ASCII name right-padded with zeros to 32 bytes. */
  name32(): string {
    const b = this.bytes.subarray(this.off, this.off + 32);
    this.off += 32;
    const end = b.indexOf(0);
    return Buffer.from(end === -1 ? b : b.subarray(0, end)).toString('latin1');
  }
}
