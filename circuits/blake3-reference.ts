/**
 * BLAKE3 in TypeScript, the twin of the script gadget in `blake3.ts` (Node has no BLAKE3). The full
 * hash mode (any input length: chunks of 1,024 bytes, blocks of 64, the binary tree of chaining
 * values, a 32-byte output) is here so the official vectors pin it; the gadget computes one
 * compression: `blake3Node`, the hash of exactly 64 bytes (one block of one chunk, flags
 * CHUNK_START | CHUNK_END | ROOT, counter 0, block length 64), which is how a Merkle node
 * `H(left ‖ right)` of two 32-byte children is hashed.
 */

export const BLAKE3_IV: readonly number[] = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/** The message word order of each of the 7 rounds (the permutation applied 0..6 times). */
export const BLAKE3_MSG_PERMUTATION: readonly number[] = [
  2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8,
];

export const CHUNK_START = 1;
export const CHUNK_END = 2;
export const PARENT = 4;
export const ROOT = 8;

const BLOCK_LEN = 64;
const CHUNK_LEN = 1024;

/** Message word indices used in round r (0-based): schedule[r][k] is the k-th word G reads. */
export const BLAKE3_SCHEDULE: readonly (readonly number[])[] = (() => {
  const out: number[][] = [];
  let order = Array.from({ length: 16 }, (_, i) => i);
  for (let r = 0; r < 7; r++) {
    out.push(order);
    order = BLAKE3_MSG_PERMUTATION.map((p) => order[p] as number);
  }
  return out;
})();

/** The column and diagonal steps of one round: state indices (a, b, c, d) of G k, k = 0..7. */
export const BLAKE3_G_INDICES: readonly (readonly [number, number, number, number])[] = [
  [0, 4, 8, 12],
  [1, 5, 9, 13],
  [2, 6, 10, 14],
  [3, 7, 11, 15],
  [0, 5, 10, 15],
  [1, 6, 11, 12],
  [2, 7, 8, 13],
  [3, 4, 9, 14],
];

const rotr = (x: number, n: number): number => ((x >>> n) | (x << (32 - n))) >>> 0;

/**
 * The compression function: the 16-word state after 7 rounds, before the output feed-forward.
 * `words` are the 16 message words (little-endian u32 of the block).
 */
export function blake3Rounds(
  chainingValue: readonly number[],
  words: readonly number[],
  counter: bigint,
  blockLen: number,
  flags: number,
): number[] {
  const s = [
    ...chainingValue,
    ...BLAKE3_IV.slice(0, 4),
    Number(counter & 0xffffffffn),
    Number((counter >> 32n) & 0xffffffffn),
    blockLen,
    flags,
  ];
  for (let r = 0; r < 7; r++) {
    const sched = BLAKE3_SCHEDULE[r] as readonly number[];
    for (let k = 0; k < 8; k++) {
      const [a, b, c, d] = BLAKE3_G_INDICES[k] as readonly [number, number, number, number];
      const mx = words[sched[2 * k] as number] as number;
      const my = words[sched[2 * k + 1] as number] as number;
      s[a] = ((s[a] as number) + (s[b] as number) + mx) >>> 0;
      s[d] = rotr((s[d] as number) ^ (s[a] as number), 16);
      s[c] = ((s[c] as number) + (s[d] as number)) >>> 0;
      s[b] = rotr((s[b] as number) ^ (s[c] as number), 12);
      s[a] = ((s[a] as number) + (s[b] as number) + my) >>> 0;
      s[d] = rotr((s[d] as number) ^ (s[a] as number), 8);
      s[c] = ((s[c] as number) + (s[d] as number)) >>> 0;
      s[b] = rotr((s[b] as number) ^ (s[c] as number), 7);
    }
  }
  return s;
}

/** The 8-word chaining value of one compression (the first half of the output). */
function compressCv(
  cv: readonly number[],
  words: readonly number[],
  counter: bigint,
  len: number,
  flags: number,
) {
  const s = blake3Rounds(cv, words, counter, len, flags);
  return Array.from({ length: 8 }, (_, i) => ((s[i] as number) ^ (s[i + 8] as number)) >>> 0);
}

function blockWords(block: Uint8Array): number[] {
  const padded = new Uint8Array(BLOCK_LEN);
  padded.set(block);
  const view = new DataView(padded.buffer);
  return Array.from({ length: 16 }, (_, i) => view.getUint32(4 * i, true));
}

function wordsToBytes(words: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 * words.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < words.length; i++) view.setUint32(4 * i, words[i] as number, true);
  return out;
}

/** Chaining value of one chunk (all its blocks but the last), and the last block's parameters. */
function chunkState(chunk: Uint8Array, counter: bigint, rootFlag: number): number[] {
  let cv: readonly number[] = BLAKE3_IV;
  const blocks = Math.max(1, Math.ceil(chunk.length / BLOCK_LEN));
  for (let b = 0; b < blocks; b++) {
    const block = chunk.subarray(b * BLOCK_LEN, (b + 1) * BLOCK_LEN);
    let flags = 0;
    if (b === 0) flags |= CHUNK_START;
    if (b === blocks - 1) flags |= CHUNK_END | rootFlag;
    cv = compressCv(cv, blockWords(block), counter, block.length, flags);
  }
  return [...cv];
}

function parentCv(left: readonly number[], right: readonly number[], rootFlag: number): number[] {
  return compressCv(BLAKE3_IV, [...left, ...right], 0n, BLOCK_LEN, PARENT | rootFlag);
}

/** BLAKE3 hash mode, 32-byte output, any input length. */
export function blake3(input: Uint8Array): Uint8Array {
  const chunks = Math.max(1, Math.ceil(input.length / CHUNK_LEN));
  if (chunks === 1) return wordsToBytes(chunkState(input, 0n, ROOT));
  // The tree: merge while the number of completed chunks has trailing zeros (the reference's stack).
  const stack: number[][] = [];
  for (let c = 0; c < chunks - 1; c++) {
    let cv = chunkState(input.subarray(c * CHUNK_LEN, (c + 1) * CHUNK_LEN), BigInt(c), 0);
    let total = c + 1;
    while ((total & 1) === 0) {
      cv = parentCv(stack.pop() as number[], cv, 0);
      total >>= 1;
    }
    stack.push(cv);
  }
  let right = chunkState(input.subarray((chunks - 1) * CHUNK_LEN), BigInt(chunks - 1), 0);
  while (stack.length > 0) {
    const left = stack.pop() as number[];
    right = parentCv(left, right, stack.length === 0 ? ROOT : 0);
  }
  return wordsToBytes(right);
}

/** BLAKE3 of exactly 64 bytes: the one compression the script gadget computes. */
export function blake3Node(message: Uint8Array): Uint8Array {
  if (message.length !== BLOCK_LEN) throw new RangeError(`blake3Node hashes 64 bytes, got ${message.length}`);
  return wordsToBytes(
    compressCv(BLAKE3_IV, blockWords(message), 0n, BLOCK_LEN, CHUNK_START | CHUNK_END | ROOT),
  );
}
