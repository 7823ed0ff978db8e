/**
 * Vigil's own part in the L2's challenger registry (docs/protocol.md §24.1): its challenger key registered
 * once from its L2 account, and its bundle posted for every claim that lists the key, while the claim's
 * bundle window is open: the Winternitz keys its seed derives for that claim's game and a bond coin of
 * its own (a confirmed coin at its bond address holding at least the bond and the challenge's fee, not
 * named for another claim still open). Without a bundle Vigil has no game in the claim: it can only
 * alert on a false one.
 *
 * What it sends is checked against the chain before it is sent (the key's owner, the slot's bundle), so
 * a poll run twice, or by a restarted process, does not post twice; a post the contract refuses is
 * logged with its reason and tried again on the next poll only while the window is open.
 */
import type { Logger } from 'pino';
import type { Address, Hex, PublicClient } from 'viem';
import { hashToDisplayHex } from '../bitcoin/tx/serialize.ts';
import { bytesToHex, equalBytes, hexToBytes } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import {
  bundleKeysOf,
  type ChallengerIdentity,
  challengerScope,
} from '../dispute/game/challenger-identity.ts';
import type { SearchShape } from '../dispute/game/grid.ts';
import type { GameClaim } from '../dispute/game/key-plan.ts';
import { type ClaimRegistration, encodeBundleKeys } from './challenger-registry.ts';
import { challengerRegistryAbi } from './contracts/artifacts/abis.ts';
import { possessionProof } from './registry-possession.ts';

export class BundlePosterError extends VigilError {
  override name = 'BundlePosterError';
}

/** A coin Vigil may name as its bond: txid in display order. */
export type BondCoin = { readonly txid: string; readonly vout: number; readonly value: bigint };

/**
 * The coins Vigil named in its bundles (`txid:vout` → epoch), durable: a coin is reserved before its
 * bundle is sent and released once it is spent (its challenge) or its claim was judged for good, so no
 * coin is named for two claims that may both need a challenge.
 */
export type BondReservations = {
  all(): Promise<Map<string, bigint>>;
  reserve(coin: string, epoch: bigint): Promise<void>;
  release(coin: string): Promise<void>;
  /**
   * Coins a game holds at the bond address to pay for its moves (the game job's children): never named
   * in a bundle, and free again only once their claim is judged for good, even while not in a block.
   */
  held?(): Promise<Map<string, bigint>>;
  releaseHeld?(coin: string): Promise<void>;
};

export type BundlePosterOptions = {
  /** Runs a read on the L2. */
  readonly read: <T>(what: string, fn: (client: PublicClient) => Promise<T>) => Promise<T>;
  /** Sends a registry call from Vigil's L2 account and waits for its receipt (status 'success' or 'reverted'). */
  readonly send: (
    functionName: 'register' | 'postBundle',
    args: readonly unknown[],
  ) => Promise<'success' | 'reverted'>;
  readonly address: Address;
  /** Vigil's L2 account: the owner its key is registered to. */
  readonly account: Address;
  readonly identity: ChallengerIdentity;
  readonly shape: SearchShape;
  /** The claim a game's keys are bound to, but for its epoch (network, operator, instance). */
  readonly claimOf: (epoch: bigint) => GameClaim;
  /** Vigil's confirmed coins at its bond address. */
  readonly bondCoins: () => Promise<readonly BondCoin[]>;
  /**
   * Whether the chain shows this coin spent by a transaction the backend produced and that spends it
   * (`spentByVerifiedTx`). A reserved coin missing from `bondCoins` is let go only then: a backend that
   * answers an empty list (a lie, a glitch, an index behind) must not free a coin a bundle just named, or
   * the next claim would name it too. A check that throws keeps the reservation.
   */
  readonly bondCoinSpent: (coin: { readonly txid: string; readonly vout: number }) => Promise<boolean>;
  /** The least a bond coin must hold (claim-parameters.ts `bondCoinMinimum`). */
  readonly bondMinimum: bigint;
  /** The coins named so far (default: in memory only). */
  readonly reservations?: BondReservations;
  /** The claim of `epoch` was judged for good (claim-games.ts's ledger): its coin is free again. */
  readonly settled?: (epoch: bigint) => Promise<boolean>;
  /** L2 blocks deep the watcher reads the registry at: the bundle window must leave time after it. */
  readonly confirmations?: number;
  readonly logger?: Logger;
};

export type PostOutcome = {
  readonly epoch: bigint;
  readonly slot: number;
  readonly outcome: 'posted' | 'already-posted' | NotPosted;
  readonly bond?: BondCoin;
  /**
   * Whether this is the first time this outcome is reported for this claim: a bundle not posted is tried
   * again every poll while the claim is followed, and logged (and counted by the watcher) once.
   */
  readonly first?: boolean;
};

/** Why Vigil posted no bundle for a claim that lists it: it then has no game in that claim. */
export type NotPosted = 'window-closed' | 'no-bond-coin' | 'refused';

export type BundlePoster = {
  /**
   * Registers Vigil's key to its L2 account unless it already is, with the key's proof of possession
   * (registry-possession.ts); a key owned by another account is an error that says so.
   */
  ensureRegistered(): Promise<'registered' | 'already'>;
  /** Posts Vigil's bundle in every claim of `claims` that lists its key and has none from it yet. */
  post(claims: readonly ClaimRegistration[]): Promise<PostOutcome[]>;
};

const ZERO = `0x${'00'.repeat(32)}`;
const outpointKey = (c: { txid: string; vout: number }) => `${c.txid}:${c.vout}`;
const outpointOf = (key: string): { txid: string; vout: number } => {
  const [txid = '', vout = ''] = key.split(':');
  return { txid, vout: Number(vout) };
};

function memoryReservations(): BondReservations {
  const named = new Map<string, bigint>();
  return {
    all: async () => new Map(named),
    reserve: async (coin, epoch) => {
      named.set(coin, epoch);
    },
    release: async (coin) => {
      named.delete(coin);
    },
  };
}

export function createBundlePoster(o: BundlePosterOptions): BundlePoster {
  const key = `0x${bytesToHex(o.identity.key)}` as Hex;
  const reservations = o.reservations ?? memoryReservations();
  let registered = false;
  let window: bigint | undefined;
  /** The outcomes already reported per followed claim, so that each is logged once, not every poll. */
  const told = new Map<bigint, Set<NotPosted>>();

  function notPosted(epoch: bigint, slot: number, outcome: NotPosted, log: () => void): PostOutcome {
    const seen = told.get(epoch) ?? new Set<NotPosted>();
    told.set(epoch, seen);
    const first = !seen.has(outcome);
    if (first) {
      seen.add(outcome);
      log();
    }
    return { epoch, slot, outcome, first };
  }

  async function bundleWindow(): Promise<bigint> {
    if (window === undefined) {
      window = await readRegistry<bigint>('bundleWindow', []);
      const depth = BigInt(o.confirmations ?? 0);
      if (window <= depth) {
        o.logger?.error(
          { bundleWindow: String(window), confirmations: String(depth) },
          "the registry's bundle window is no longer than l2.confirmations: Vigil sees each claim after its window closed and can post no bundle",
        );
      }
    }
    return window;
  }

  const readRegistry = <T>(functionName: string, args: readonly unknown[]): Promise<T> =>
    o.read(`eth_call ${functionName}`, (c) =>
      c.readContract({ address: o.address, abi: challengerRegistryAbi, functionName, args } as never),
    ) as Promise<T>;

  async function ensureRegistered(): Promise<'registered' | 'already'> {
    if (registered) return 'already';
    const owner = (await readRegistry<Address>('ownerOf', [key])).toLowerCase();
    if (owner === o.account.toLowerCase()) {
      registered = true;
      return 'already';
    }
    if (owner !== '0x0000000000000000000000000000000000000000') {
      throw new BundlePosterError(
        `Vigil's challenger key ${key} is registered to ${owner}, not to its L2 account ${o.account}: it cannot post bundles`,
        {
          metaMessages: [
            'Another account registered the key first; Vigil needs its own key registered to its account.',
          ],
        },
      );
    }
    const mine = await readRegistry<Hex>('registrantKey', [o.account]);
    if (mine !== ZERO) {
      throw new BundlePosterError(
        `The L2 account ${o.account} already registered another key (${mine}): one key per account`,
      );
    }
    const chainId = BigInt(await o.read('eth_chainId', (c) => c.getChainId()));
    const proof = possessionProof(o.identity.secret, chainId, o.address, o.account, o.identity.key);
    if ((await o.send('register', [key, proof.r, proof.s])) !== 'success') {
      throw new BundlePosterError(`Registering Vigil's challenger key ${key} was refused by the registry`);
    }
    registered = true;
    o.logger?.info({ key, account: o.account }, "Vigil's challenger key is registered on the L2");
    return 'registered';
  }

  /**
   * Whether a reserved coin missing from the list is spent by the chain's word (a verified spender). A
   * check that fails keeps the reservation and is logged: one coin the backend cannot answer for must not
   * stop the bundles of every claim.
   */
  async function spentOnChain(coin: string): Promise<boolean> {
    try {
      return await o.bondCoinSpent(outpointOf(coin));
    } catch (err) {
      o.logger?.warn(
        { coin, err: err instanceof Error ? err.message : String(err) },
        'a reserved bond coin is missing from the backend’s list and its spender cannot be checked: it stays reserved',
      );
      return false;
    }
  }

  async function post(claims: readonly ClaimRegistration[]): Promise<PostOutcome[]> {
    const out: PostOutcome[] = [];
    const followed = new Set(claims.map((c) => c.epoch));
    for (const epoch of told.keys()) if (!followed.has(epoch)) told.delete(epoch);
    // A lapsed claim can never be committed: a bundle for it would only tie up a coin.
    const due = claims.filter(
      (c) => c.documentHash === undefined && c.lapsed !== true && slotOf(c) !== undefined && !hasOurs(c),
    );
    if (due.length === 0) return out;
    const closesAfter = await bundleWindow();
    const head = await o.read('eth_blockNumber', (c) => c.getBlockNumber({ cacheTime: 0 }));
    const utxos = await o.bondCoins();
    // A reserved coin is free again once spent (gone from the coins, and the chain shows its spender) or
    // once its claim was judged for good.
    const reserved = await reservations.all();
    const present = new Set(utxos.map(outpointKey));
    for (const [coin, epoch] of reserved) {
      if ((!present.has(coin) && (await spentOnChain(coin))) || (await o.settled?.(epoch)) === true) {
        await reservations.release(coin);
        reserved.delete(coin);
      }
    }
    const held = (await reservations.held?.()) ?? new Map<string, bigint>();
    for (const [coin, epoch] of held) {
      if ((await o.settled?.(epoch)) === true) {
        await reservations.releaseHeld?.(coin);
        held.delete(coin);
      }
    }
    // Coins named in bundles on the registry count too (posted by a process whose reservations are gone).
    const named = new Set([
      ...reserved.keys(),
      ...held.keys(),
      ...claims.flatMap((c) =>
        c.bundles
          .filter((b) => equalBytes(b.key, o.identity.key))
          .map((b) => outpointKey({ txid: hashToDisplayHex(b.bondCoin.txid), vout: b.bondCoin.vout })),
      ),
    ]);
    const coins = utxos.filter((c) => c.value >= o.bondMinimum && !named.has(outpointKey(c)));
    for (const reg of due) {
      const slot = slotOf(reg) as number;
      // At the head, before the window: Vigil's own post is not at depth yet for `confirmations` blocks,
      // and a closed window then is no failure to report.
      const posted = await readRegistry<Hex>('bundleHash', [reg.epoch, slot]);
      if (posted !== ZERO) {
        out.push({ epoch: reg.epoch, slot, outcome: 'already-posted' });
        continue;
      }
      // Sent now, the post is mined at head + 1 at the earliest; the contract takes it up to openedAt + window.
      if (head >= reg.openedAt + closesAfter) {
        out.push(
          notPosted(reg.epoch, slot, 'window-closed', () =>
            o.logger?.error(
              { epoch: String(reg.epoch), slot },
              "the claim's bundle window closed before Vigil posted its bundle: it has no game in this claim",
            ),
          ),
        );
        continue;
      }
      const bond = coins.shift();
      if (bond === undefined) {
        out.push(
          notPosted(reg.epoch, slot, 'no-bond-coin', () =>
            o.logger?.error(
              { epoch: String(reg.epoch), slot, minimum: String(o.bondMinimum), named: named.size },
              'no free bond coin: Vigil cannot post its bundle, so it will have no game in this claim (fund its bond address)',
            ),
          ),
        );
        continue;
      }
      const site = { registry: hexToBytes(o.address), claim: reg.claim };
      const keys = bundleKeysOf(o.identity, challengerScope(o.identity, o.shape, o.claimOf(reg.epoch), site));
      // Reserved before it is sent: a crash after the send cannot free a coin a bundle names.
      await reservations.reserve(outpointKey(bond), reg.epoch);
      const result = await o.send('postBundle', [
        reg.epoch,
        slot,
        `0x${bond.txid}`,
        bond.vout,
        bond.value,
        `0x${bytesToHex(encodeBundleKeys(keys, o.shape))}`,
      ]);
      if (result !== 'success') {
        await reservations.release(outpointKey(bond));
        out.push(
          notPosted(reg.epoch, slot, 'refused', () =>
            o.logger?.error({ epoch: String(reg.epoch), slot }, "the registry refused Vigil's bundle"),
          ),
        );
        continue;
      }
      o.logger?.info(
        { epoch: String(reg.epoch), slot, bond: outpointKey(bond) },
        "Vigil's bundle is posted: it has a game in this claim",
      );
      out.push({ epoch: reg.epoch, slot, outcome: 'posted', bond });
    }
    return out;
  }

  function slotOf(reg: ClaimRegistration): number | undefined {
    const i = reg.listed.findIndex((k) => equalBytes(k, o.identity.key));
    return i < 0 ? undefined : i;
  }
  const hasOurs = (reg: ClaimRegistration) => reg.bundles.some((b) => equalBytes(b.key, o.identity.key));

  return { ensureRegistered, post };
}
