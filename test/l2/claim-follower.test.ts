/**
 * The claim follower (src/l2/claim-follower.ts) against the challenger registry on anvil: when a claim has
 * lapsed (docs/protocol.md §24.11 item 41). Letting go of a claim is for good, so the follower says
 * `lapsed` only once the registry can never take its commitment: read at depth past the commit window
 * with none, or past the bundle window with no bundle, and the registry's state at that depth agreeing.
 * A claim committed in the window's last block, one still inside its window, and a node that answers the
 * commitment's log query with nothing are not lapsed.
 */
import type { Abi, Address, PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToDisplayHex } from '../../src/bitcoin/tx/serialize.ts';
import { bytesToHex } from '../../src/core/bytes.ts';
import { REGTEST_SEARCH } from '../../src/dispute/game/grid.ts';
import { encodeBundleKeys } from '../../src/l2/challenger-registry.ts';
import { createClaimFollower } from '../../src/l2/claim-follower.ts';
import { challengerRegistryAbi, epochManagerAbi } from '../../src/l2/contracts/artifacts/abis.ts';
import { DEVNET_DEPLOYER, DEVNET_OPERATOR } from '../../src/l2/devnet.ts';
import { possessionProof } from '../../src/l2/registry-possession.ts';
import { makeClaimFixture } from '../../testkit/dispute/claim-fixture.ts';
import { type RegistryOnAnvil, registryOnAnvil } from '../../testkit/l2/registry-on-anvil.ts';

const shape = REGTEST_SEARCH;
const fx = makeClaimFixture({ shape, challengers: 1 });
/** Anvil's dev account #2: the one registered verifier, listed in every claim. */
const VERIFIER: Address = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const BUNDLE_WINDOW = 20n;
const COMMIT_WINDOW = 30n;
const DEPTH = 2;
const hex = (b: Uint8Array) => `0x${bytesToHex(b)}` as const;

let on: RegistryOnAnvil;
let pub: PublicClient;
let registry: Address;

const call = (from: Address, functionName: string, args: readonly unknown[]) =>
  on.call(from, registry, challengerRegistryAbi as Abi, functionName, args);
const head = () => pub.getBlockNumber({ cacheTime: 0 });
const mineTo = async (n: bigint) => {
  const now = await head();
  if (n > now)
    await pub.request({ method: 'anvil_mine' as never, params: [`0x${(n - now).toString(16)}`] as never });
};

/** Opens `epoch`'s claim (ending it first) and, with `bundle`, posts the verifier's bundle; its opening block. */
async function open(epoch: bigint, bundle: boolean): Promise<bigint> {
  await on.call(DEVNET_DEPLOYER, on.dep.addresses.epochManager, epochManagerAbi as Abi, 'endEpoch', []);
  const opened = await call(DEVNET_OPERATOR, 'openClaim', [epoch, `0x${'ab'.repeat(32)}`, Number(epoch)]);
  const c = fx.spec.challengers[0];
  if (c === undefined) throw new Error('no challenger');
  if (bundle)
    await call(VERIFIER, 'postBundle', [
      epoch,
      0,
      `0x${hashToDisplayHex(c.bondCoin.txid)}`,
      c.bondCoin.vout,
      c.bondCoin.value,
      hex(encodeBundleKeys(c.keys, shape)),
    ]);
  return opened.blockNumber;
}

/** A follower at depth DEPTH whose node may hide the commitments' logs. */
function follower(hideCommitments = false) {
  return createClaimFollower({
    read: (_what, fn) =>
      fn(
        hideCommitments
          ? (new Proxy(pub, {
              get(target, prop, receiver) {
                const real = Reflect.get(target, prop, receiver);
                if (prop !== 'getContractEvents') return real;
                return async (args: { eventName: string }) =>
                  args.eventName === 'ClaimGraphCommitted' ? [] : real.call(target, args);
              },
            }) as PublicClient)
          : pub,
      ),
    address: registry,
    startBlock: on.dep.startBlock,
    confirmations: DEPTH,
  });
}

beforeAll(async () => {
  on = await registryOnAnvil({
    shape,
    bundleWindow: BUNDLE_WINDOW,
    maxChallengers: 10,
    commitWindow: COMMIT_WINDOW,
  });
  ({ pub, registry } = on);
  const key = fx.spec.challengers[0]?.key as Uint8Array;
  const p = possessionProof(
    fx.secrets.challengers[0] as Uint8Array,
    BigInt(await pub.getChainId()),
    registry,
    VERIFIER,
    key,
  );
  await call(VERIFIER, 'register', [hex(key), p.r, p.s]);
}, 60_000);

afterAll(async () => {
  await on?.anvil.stop();
});

describe('the claim follower: lapsed claims', () => {
  it('a claim never committed lapses once the block after its commit window is at depth, not before', async () => {
    const openedAt = await open(0n, true);
    const last = openedAt + BUNDLE_WINDOW + COMMIT_WINDOW;
    const f = follower();
    // The last block the commitment may be in is at depth: still not lapsed.
    await mineTo(last + BigInt(DEPTH) - 1n);
    await f.sync();
    expect(f.claim(0n)?.bundles).toHaveLength(1);
    expect(f.claim(0n)?.lapsed).toBeUndefined();
    // The block after it is at depth: lapsed, and it stays so.
    await mineTo(last + BigInt(DEPTH));
    await f.sync();
    expect(f.claim(0n)?.lapsed).toBe(true);
    await f.sync();
    expect(f.claim(0n)?.lapsed).toBe(true);
  }, 60_000);

  it('a claim committed in the last block of its window is followed with its commitment and never lapses', async () => {
    const openedAt = await open(1n, true);
    const last = openedAt + BUNDLE_WINDOW + COMMIT_WINDOW;
    await mineTo(last - 1n);
    const committed = await call(DEVNET_OPERATOR, 'commitClaimGraph', [1n, `0x${'11'.repeat(32)}`]);
    expect(committed.blockNumber).toBe(last);
    await mineTo(last + 100n);
    const f = follower();
    await f.sync();
    expect(f.claim(1n)?.documentHash && bytesToHex(f.claim(1n)?.documentHash as Uint8Array)).toBe(
      '11'.repeat(32),
    );
    expect(f.claim(1n)?.lapsed).toBeUndefined();
  }, 60_000);

  it('a node that answers the commitment log query with nothing does not make a committed claim lapse', async () => {
    // Epoch 1 was committed in the last block of its window (above); this node hides that.
    const f = follower(true);
    await f.sync();
    expect(f.claim(1n)?.documentHash).toBeUndefined();
    expect(f.claim(1n)?.lapsed).toBeUndefined();
    // The same node sees epoch 0, never committed, lapse: the registry's state agrees there.
    expect(f.claim(0n)?.lapsed).toBe(true);
  }, 60_000);

  it('a claim with no bundle lapses once its bundle window has passed at depth (the registry commits none without one)', async () => {
    const openedAt = await open(2n, false);
    const f = follower();
    await mineTo(openedAt + BUNDLE_WINDOW + BigInt(DEPTH) - 1n);
    await f.sync();
    expect(f.claim(2n)?.lapsed).toBeUndefined();
    await mineTo(openedAt + BUNDLE_WINDOW + BigInt(DEPTH));
    await f.sync();
    expect(f.claim(2n)?.bundles).toEqual([]);
    expect(f.claim(2n)?.lapsed).toBe(true);
  }, 60_000);
});
