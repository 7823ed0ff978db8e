/**
 * The registry's proof of possession on anvil (ChallengerRegistry.sol `provesPossession`, Bip340.sol;
 * src/l2/registry-possession.ts): the message Vigil signs is the contract's, byte for byte; a BIP-340
 * signature by tiny-secp256k1 verifies for random keys and accounts, and every alteration fails (another
 * account, another key, a bit of R or s, s at or above n, R with odd y, a key off the curve or at or
 * above n). A registration copied from the mempool cannot be sent from another account.
 */
import * as ecc from 'tiny-secp256k1';
import type { Abi, Address, Hex, PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import { REGTEST_SEARCH } from '../../src/dispute/game/grid.ts';
import { createRng } from '../../src/governance/workload.ts';
import { challengerRegistryAbi } from '../../src/l2/contracts/artifacts/abis.ts';
import { possessionMessage, possessionProof } from '../../src/l2/registry-possession.ts';
import { type RegistryOnAnvil, registryOnAnvil } from '../../testkit/l2/registry-on-anvil.ts';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const OWNER: Address = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const THIEF: Address = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';

let on: RegistryOnAnvil;
let pub: PublicClient;
let registry: Address;
let chainId: bigint;

beforeAll(async () => {
  on = await registryOnAnvil({ shape: REGTEST_SEARCH, bundleWindow: 20n, maxChallengers: 10 });
  ({ pub, registry } = on);
  chainId = BigInt(await pub.getChainId());
}, 60_000);

afterAll(async () => {
  await on?.anvil.stop();
});

const hex = (b: Uint8Array): Hex => `0x${bytesToHex(b)}`;
const word = (n: bigint): Hex => `0x${n.toString(16).padStart(64, '0')}`;

const proves = (account: Address, key: Hex, r: Hex, s: Hex): Promise<boolean> =>
  pub.readContract({
    address: registry,
    abi: challengerRegistryAbi,
    functionName: 'provesPossession',
    args: [account, key, r, s],
  }) as Promise<boolean>;

/** A secret whose x-only key is under n (ecrecover takes no r at or above it). */
function secretOf(seed: number): Uint8Array {
  for (let i = 0; ; i++) {
    const secret = sha256(Uint8Array.of(seed, i));
    const key = ecc.xOnlyPointFromScalar(secret);
    if (BigInt(hex(key)) < N) return secret;
  }
}

describe('the registry’s proof of possession', () => {
  it('signs the contract’s own message', async () => {
    const key = ecc.xOnlyPointFromScalar(secretOf(1));
    const onChain = (await pub.readContract({
      address: registry,
      abi: challengerRegistryAbi,
      functionName: 'possessionMessage',
      args: [OWNER, hex(key)],
    })) as Hex;
    expect(onChain).toBe(hex(possessionMessage(chainId, registry, OWNER, key)));
  });

  it('verifies BIP-340 signatures of random keys and accounts, and refuses every alteration', async () => {
    const rng = createRng(340);
    for (let i = 0; i < 12; i++) {
      const secret = secretOf(10 + i);
      const key = ecc.xOnlyPointFromScalar(secret);
      const account = `0x${bytesToHex(sha256(Uint8Array.of(i)).subarray(0, 20))}` as Address;
      const p = possessionProof(secret, chainId, registry, account, key);
      expect(await proves(account, hex(key), p.r, p.s)).toBe(true);
      // The same proof from another account, or for another key.
      expect(await proves(THIEF, hex(key), p.r, p.s)).toBe(false);
      expect(await proves(account, hex(ecc.xOnlyPointFromScalar(secretOf(100 + i))), p.r, p.s)).toBe(false);
      // One bit of R or s.
      const bit = 1n << BigInt(Math.floor(rng() * 256));
      expect(await proves(account, hex(key), word(BigInt(p.r) ^ bit), p.s)).toBe(false);
      expect(await proves(account, hex(key), p.r, word(BigInt(p.s) ^ bit))).toBe(false);
      // s + n is the same scalar, but BIP-340 refuses s ≥ n.
      if (BigInt(p.s) + N < 1n << 256n)
        expect(await proves(account, hex(key), p.r, word(BigInt(p.s) + N))).toBe(false);
    }
  });

  it('refuses a signature whose R has odd y, a key off the curve and a key at or above n', async () => {
    const secret = secretOf(7);
    const key = ecc.xOnlyPointFromScalar(secret);
    const m = possessionMessage(chainId, registry, OWNER, key);
    const sig = ecc.signSchnorr(m, secret, new Uint8Array(32));
    expect(await proves(OWNER, hex(key), hex(sig.subarray(0, 32)), hex(sig.subarray(32)))).toBe(true);
    // s = k + e·d for a nonce k whose point R has odd y: s·G − e·P is R itself, whose x is the signature's
    // but not lift_x's. BIP-340 (and the contract) refuse it; a check of x alone would not.
    const scalar = (b: Uint8Array) => BigInt(hex(b));
    const d = ecc.pointFromScalar(secret, true)?.[0] === 0x02 ? scalar(secret) : N - scalar(secret);
    let k = 1n;
    while (ecc.pointFromScalar(hexToBytes(word(k).slice(2)), true)?.[0] !== 0x03) k++;
    const rx = (ecc.pointFromScalar(hexToBytes(word(k).slice(2)), true) as Uint8Array).subarray(1);
    const tag = sha256(utf8('BIP0340/challenge'));
    const e = scalar(sha256(concatBytes(tag, tag, rx, key, m))) % N;
    const oddS = (k + e * d) % N;
    expect(await proves(OWNER, hex(key), hex(rx), word(oddS))).toBe(false);
    // The same construction with an even-y nonce is a valid signature: the check above is the parity's.
    let k2 = 1n;
    while (ecc.pointFromScalar(hexToBytes(word(k2).slice(2)), true)?.[0] !== 0x02) k2++;
    const rx2 = (ecc.pointFromScalar(hexToBytes(word(k2).slice(2)), true) as Uint8Array).subarray(1);
    const e2 = scalar(sha256(concatBytes(tag, tag, rx2, key, m))) % N;
    expect(await proves(OWNER, hex(key), hex(rx2), word((k2 + e2 * d) % N))).toBe(true);
    // The x of a point with no y on the curve (x = 5: 5³ + 7 = 132 is not a square mod p).
    expect(ecc.isXOnlyPoint(hexToBytes(word(5n).slice(2)))).toBe(false);
    expect(await proves(OWNER, word(5n), hex(sig.subarray(0, 32)), hex(sig.subarray(32)))).toBe(false);
    expect(await proves(OWNER, hex(key), word(5n), hex(sig.subarray(32)))).toBe(false);
    expect(await proves(OWNER, word(N), hex(sig.subarray(0, 32)), hex(sig.subarray(32)))).toBe(false);
    expect(await proves(OWNER, hex(key), hex(sig.subarray(0, 32)), word(0n))).toBe(false);
  });

  it('a registration copied from the mempool is refused from another account; the owner’s goes through', async () => {
    const secret = secretOf(42);
    const key = ecc.xOnlyPointFromScalar(secret);
    const p = possessionProof(secret, chainId, registry, OWNER, key);
    await expect(
      pub.simulateContract({
        address: registry,
        abi: challengerRegistryAbi,
        functionName: 'register',
        args: [hex(key), p.r, p.s],
        account: THIEF,
      }),
    ).rejects.toThrow(/NoPossession/);
    await expect(
      on.call(THIEF, registry, challengerRegistryAbi as Abi, 'register', [hex(key), p.r, p.s]),
    ).rejects.toThrow(/reverted/);
    await on.call(OWNER, registry, challengerRegistryAbi as Abi, 'register', [hex(key), p.r, p.s]);
    const owner = (await pub.readContract({
      address: registry,
      abi: challengerRegistryAbi,
      functionName: 'ownerOf',
      args: [hex(key)],
    })) as Address;
    expect(owner.toLowerCase()).toBe(OWNER.toLowerCase());
  });
});
