/**
 * The challenger registry on anvil (src/l2/contracts/ChallengerRegistry.sol, src/l2/challenger-registry.ts):
 * independent verifiers and a validator register keys, the operator opens an ended epoch's claim and the
 * contract lists its challengers, each posts its bundle, the operator commits the claim document's hash,
 * and Vigil reads it all back as the expectations a claim document is imported against: the document
 * built on those bundles imports, one that lists the challengers otherwise is refused. The contract
 * refuses what would let the operator pick challengers or keys.
 */
import type { Abi, Address, PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToDisplayHex } from '../../src/bitcoin/tx/serialize.ts';
import { bytesToHex } from '../../src/core/bytes.ts';
import { claimDocumentHash, claimGraphToDocument } from '../../src/dispute/game/claim-document.ts';
import { buildClaimGraph, claimOutput } from '../../src/dispute/game/claim-graph.ts';
import { importClaimGraph } from '../../src/dispute/game/claim-import.ts';
import { collectGamePresignatures, presignGame } from '../../src/dispute/game/game-spend.ts';
import { REGTEST_SEARCH } from '../../src/dispute/game/grid.ts';
import {
  bundleKeyBytes,
  type ClaimRegistration,
  decodeBundleKeys,
  encodeBundleKeys,
  listedChallengers,
  readClaimRegistration,
} from '../../src/l2/challenger-registry.ts';
import {
  btrTokenAbi,
  challengerRegistryAbi,
  epochManagerAbi,
  stakingAbi,
} from '../../src/l2/contracts/artifacts/abis.ts';
import type { Deployment } from '../../src/l2/deploy.ts';
import { DEVNET_DEPLOYER, DEVNET_OPERATOR } from '../../src/l2/devnet.ts';
import { possessionProof } from '../../src/l2/registry-possession.ts';
import { claimExpectationsOf, makeClaimFixture } from '../../testkit/dispute/claim-fixture.ts';
import { type RegistryOnAnvil, registryOnAnvil } from '../../testkit/l2/registry-on-anvil.ts';

/** Anvil's dev accounts (unlocked): two independent verifiers, a validator, a stranger. */
const VERIFIERS: Address[] = [
  '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
  '0x90F79bf6EB2c4f870365E785982E1f101E93b906',
];
const VALIDATOR: Address = '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65';
const STRANGER: Address = '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc';
const shape = REGTEST_SEARCH;
/** Challenger 0 is the validator's named key; 1 and 2 the verifiers'. */
const fx = makeClaimFixture({ shape, challengers: 3 });
const MIN_STAKE = 1_000n * 10n ** 18n;
const hex = (b: Uint8Array) => `0x${bytesToHex(b)}` as const;
const CLAIM_TXID = `0x${'ab'.repeat(32)}` as const;
const WINDOW = 20n;
const COMMIT_WINDOW = 30n;

let on: RegistryOnAnvil;
let dep: Deployment;
let registry: Address;
let pub: PublicClient;

const call = (...args: Parameters<RegistryOnAnvil['call']>) => on.call(...args);

/** `register` / `nameChallenger`'s arguments: challenger w's key with its proof of possession for `from`. */
async function keyArgs(
  w: number,
  from: Address,
): Promise<readonly [`0x${string}`, `0x${string}`, `0x${string}`]> {
  const key = fx.spec.challengers[w]?.key as Uint8Array;
  const p = possessionProof(
    fx.secrets.challengers[w] as Uint8Array,
    BigInt(await pub.getChainId()),
    registry,
    from,
    key,
  );
  return [hex(key), p.r, p.s];
}

/** The revert's custom error name, or 'ok'. */
async function outcome(from: Address, functionName: string, args: readonly unknown[]): Promise<string> {
  try {
    await pub.simulateContract({
      address: registry,
      abi: challengerRegistryAbi,
      functionName,
      args,
      account: from,
    } as never);
    return 'ok';
  } catch (err) {
    const m = /reverted with the following reason:\s*\n?\s*(\w+)|Error: (\w+)\(/.exec(String(err));
    return m?.[1] ?? m?.[2] ?? String(err).slice(0, 200);
  }
}

const bundleArgs = (w: number, epoch = 0n) => {
  const c = fx.spec.challengers[w];
  if (c === undefined) throw new Error(`no challenger ${w}`);
  return [
    epoch,
    w,
    `0x${hashToDisplayHex(c.bondCoin.txid)}`,
    c.bondCoin.vout,
    c.bondCoin.value,
    hex(encodeBundleKeys(c.keys, shape)),
  ] as const;
};

const read = async (epoch: bigint): Promise<ClaimRegistration | undefined> =>
  readClaimRegistration(pub, registry, epoch, {
    fromBlock: dep.startBlock,
    // viem caches the block number for its polling interval: a stale one would hide the last events.
    toBlock: await pub.getBlockNumber({ cacheTime: 0 }),
  });

beforeAll(async () => {
  on = await registryOnAnvil({
    shape,
    bundleWindow: WINDOW,
    maxChallengers: 10,
    commitWindow: COMMIT_WINDOW,
  });
  ({ dep, registry, pub } = on);
  for (const [i, v] of VERIFIERS.entries())
    await call(v, registry, challengerRegistryAbi as Abi, 'register', await keyArgs(1 + i, v));
  // A validator with the minimum stake, in the active set from the end of epoch 0, names its key.
  await call(DEVNET_DEPLOYER, dep.addresses.token, btrTokenAbi as Abi, 'mint', [VALIDATOR, MIN_STAKE]);
  await call(VALIDATOR, dep.addresses.token, btrTokenAbi as Abi, 'approve', [
    dep.addresses.staking,
    MIN_STAKE,
  ]);
  await call(VALIDATOR, dep.addresses.staking, stakingAbi as Abi, 'registerValidator', [500]);
  await call(VALIDATOR, dep.addresses.staking, stakingAbi as Abi, 'stake', [MIN_STAKE]);
  await call(
    VALIDATOR,
    registry,
    challengerRegistryAbi as Abi,
    'nameChallenger',
    await keyArgs(0, VALIDATOR),
  );
  await call(DEVNET_DEPLOYER, dep.addresses.epochManager, epochManagerAbi as Abi, 'endEpoch', []);
}, 60_000);

afterAll(async () => {
  await on?.anvil.stop();
});

describe('the challenger registry', () => {
  it('a bundle’s keys round-trip through their encoding, at the key plan’s size only', () => {
    const keys = fx.spec.challengers[0]?.keys;
    if (keys === undefined) throw new Error('no keys');
    const bytes = encodeBundleKeys(keys, shape);
    expect(bytes.length).toBe(bundleKeyBytes(shape));
    const back = decodeBundleKeys(bytes, shape);
    expect([...back.keys()]).toEqual([...keys.keys()]);
    for (const [label, k] of keys)
      expect(back.get(label)?.hashes.map(bytesToHex)).toEqual(k.hashes.map(bytesToHex));
    expect(() => decodeBundleKeys(bytes.slice(1), shape)).toThrow(/key plan at this shape has/);
  });

  it('only the operator opens a claim, and only of an ended epoch; keys are unique', async () => {
    expect(await outcome(STRANGER, 'openClaim', [0n, CLAIM_TXID, 0])).toBe('NotOperator');
    expect(await outcome(DEVNET_OPERATOR, 'openClaim', [1n, CLAIM_TXID, 0])).toBe('EpochNotEnded');
    expect(await outcome(STRANGER, 'register', await keyArgs(0, STRANGER))).toBe('KeyTaken');
    // The validator's own registration, copied from the mempool and sent from another account.
    expect(await outcome(STRANGER, 'register', await keyArgs(0, VALIDATOR))).toBe('NoPossession');
    expect(await outcome(STRANGER, 'nameChallenger', await keyArgs(0, STRANGER))).toBe('NotValidator');
  });

  it('the claim lists the validator’s named key, then the verifiers; each posts its own bundle; Vigil reads them back as import expects them', async () => {
    await call(DEVNET_OPERATOR, registry, challengerRegistryAbi as Abi, 'openClaim', [0n, CLAIM_TXID, 3]);
    // Slot 1 is the first verifier's: nobody else may post it, and the keys must be the plan's size.
    expect(await outcome(VERIFIERS[1] as Address, 'postBundle', bundleArgs(1))).toBe('NotKeyOwner');
    const short = bundleArgs(1);
    expect(
      await outcome(VERIFIERS[0] as Address, 'postBundle', [
        ...short.slice(0, 5),
        `${short[5].slice(0, -2)}`,
      ]),
    ).toBe('BadBundle');
    await call(VALIDATOR, registry, challengerRegistryAbi as Abi, 'postBundle', bundleArgs(0));
    await call(VERIFIERS[0] as Address, registry, challengerRegistryAbi as Abi, 'postBundle', bundleArgs(1));
    expect(await outcome(VERIFIERS[0] as Address, 'postBundle', bundleArgs(1))).toBe('BundleAlreadyPosted');
    // One bundle missing and the window open: the operator cannot commit yet.
    expect(await outcome(DEVNET_OPERATOR, 'commitClaimGraph', [0n, `0x${'00'.repeat(32)}`])).toBe(
      'BundleWindowOpen',
    );
    await call(VERIFIERS[1] as Address, registry, challengerRegistryAbi as Abi, 'postBundle', bundleArgs(2));

    // The operator builds the claim on the bundles, presigns, publishes and commits the document's hash.
    const built = buildClaimGraph(fx.spec);
    const presign = (g: Parameters<typeof presignGame>[0]) =>
      collectGamePresignatures(
        g,
        fx.secrets.covenant.map((s) => presignGame(g, s)),
      );
    const document = claimGraphToDocument(built, { claim: presign(built), games: built.games.map(presign) });
    await call(DEVNET_OPERATOR, registry, challengerRegistryAbi as Abi, 'commitClaimGraph', [
      0n,
      hex(claimDocumentHash(document)),
    ]);

    const reg = await read(0n);
    if (reg === undefined) throw new Error('the claim is not on the registry');
    expect(hashToDisplayHex(reg.claim.txid)).toBe('ab'.repeat(32));
    expect(reg.claim.vout).toBe(3);
    expect(reg.listed.map(bytesToHex)).toEqual(fx.spec.challengers.map((c) => bytesToHex(c.key)));
    expect(reg.documentHash && bytesToHex(reg.documentHash)).toBe(bytesToHex(claimDocumentHash(document)));
    const listed = listedChallengers(reg, shape);
    const claim = claimOutput(fx.spec);
    const expectations = {
      ...claimExpectationsOf(fx.spec, { value: claim.value, script: claim.output.scriptPubKey }),
      challengers: listed,
      commitment: reg.documentHash as Uint8Array,
    };
    const imported = importClaimGraph(JSON.stringify(document), expectations);
    expect(imported.graph.games).toHaveLength(3);

    // The same document against the registry with the challengers in the other order: refused.
    expect(() =>
      importClaimGraph(JSON.stringify(document), { ...expectations, challengers: [...listed].reverse() }),
    ).toThrow(/CHALLENGER_MISMATCH|not the key the L2 lists/);
    expect(await outcome(DEVNET_OPERATOR, 'commitClaimGraph', [0n, `0x${'00'.repeat(32)}`])).toBe(
      'AlreadyCommitted',
    );
  }, 120_000);

  it('a claim is committed at the latest commitWindow blocks after its bundle window; after that it has lapsed for good', async () => {
    const head = () => pub.getBlockNumber({ cacheTime: 0 });
    const mineTo = async (n: bigint) => {
      const now = await head();
      if (n > now)
        await pub.request({
          method: 'anvil_mine' as never,
          params: [`0x${(n - now).toString(16)}`] as never,
        });
      expect(await head()).toBe(n > now ? n : now);
    };
    const opened = async (epoch: bigint): Promise<bigint> => {
      await call(DEVNET_DEPLOYER, dep.addresses.epochManager, epochManagerAbi as Abi, 'endEpoch', []);
      await call(DEVNET_OPERATOR, registry, challengerRegistryAbi as Abi, 'openClaim', [
        epoch,
        CLAIM_TXID,
        4,
      ]);
      await call(VALIDATOR, registry, challengerRegistryAbi as Abi, 'postBundle', bundleArgs(0, epoch));
      const reg = await read(epoch);
      if (reg === undefined) throw new Error(`epoch ${epoch} is not opened`);
      return reg.openedAt + WINDOW + COMMIT_WINDOW;
    };
    // The last block the commitment may be in: it is mined there and taken.
    const last = await opened(1n);
    await mineTo(last - 1n);
    const taken = await call(DEVNET_OPERATOR, registry, challengerRegistryAbi as Abi, 'commitClaimGraph', [
      1n,
      `0x${'11'.repeat(32)}`,
    ]);
    expect(taken.status).toBe('success');
    expect(taken.blockNumber).toBe(last);
    expect((await read(1n))?.documentHash).toBeDefined();
    // One block later it is refused (a call at the head runs in the head's block), and for good.
    const lapsed = await opened(2n);
    await mineTo(lapsed);
    expect(await outcome(DEVNET_OPERATOR, 'commitClaimGraph', [2n, `0x${'22'.repeat(32)}`])).toBe('ok');
    await mineTo(lapsed + 1n);
    expect(await outcome(DEVNET_OPERATOR, 'commitClaimGraph', [2n, `0x${'22'.repeat(32)}`])).toBe(
      'CommitWindowClosed',
    );
    await mineTo(lapsed + 1_000n);
    expect(await outcome(DEVNET_OPERATOR, 'commitClaimGraph', [2n, `0x${'22'.repeat(32)}`])).toBe(
      'CommitWindowClosed',
    );
    expect((await read(2n))?.documentHash).toBeUndefined();
  }, 120_000);

  it('an epoch never opened reads as no claim', async () => {
    expect(await read(5n)).toBeUndefined();
  });
});
