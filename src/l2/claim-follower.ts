/**
 * Follows the L2's challenger registry (docs/protocol.md §24.1) for the watcher: every claim opened at
 * depth, then its bundles and the document hash the operator commits, until the watcher has judged it and
 * lets go. Only blocks `confirmations` deep are read, so what it reports is final for the watcher's
 * purposes (as the governance ingestion's facts are).
 *
 * The claims it holds live in memory: after a restart it reads the registry again from `startBlock`,
 * which costs one log query per `maxRange` blocks and one read per claim not yet let go of.
 */
import type { Address, PublicClient } from 'viem';
import { type ClaimRegistration, readClaimRegistration } from './challenger-registry.ts';
import { challengerRegistryAbi } from './contracts/artifacts/abis.ts';

export type ClaimFollowerOptions = {
  /** Runs a read on the L2 (the daemon's L2Rpc with its fallbacks, or a client directly). */
  readonly read: <T>(what: string, fn: (client: PublicClient) => Promise<T>) => Promise<T>;
  readonly address: Address;
  /** The first L2 block the registry can have events in (its deployment, or the L2's start block). */
  readonly startBlock: bigint;
  /** L2 blocks deep a block must be before its events count (at least 1). */
  readonly confirmations: number;
  /** Blocks per log query (default 10,000). */
  readonly maxRange?: bigint;
};

export type ClaimFollower = {
  /** Reads the registry up to the deepest block that counts; throws when the L2 cannot be read. */
  sync(): Promise<void>;
  /** The claims opened and not let go of, by epoch, as last read. */
  claims(): readonly ClaimRegistration[];
  /** The claim of `epoch`, when it was opened and not let go of. */
  claim(epoch: bigint): ClaimRegistration | undefined;
  /** The watcher judged `epoch`'s claim for good: its registration is not read again. */
  forget(epoch: bigint): void;
  /** The last block read, once a sync succeeded. */
  readonly cursor: bigint | undefined;
};

export function createClaimFollower(o: ClaimFollowerOptions): ClaimFollower {
  const range = o.maxRange ?? 10_000n;
  const depth = BigInt(Math.max(1, o.confirmations));
  const open = new Map<bigint, ClaimRegistration>();
  let cursor: bigint | undefined;
  let windows: { bundle: bigint; commit: bigint } | undefined;
  const closed = new Set<bigint>();

  const registryValue = (functionName: 'bundleWindow' | 'commitWindow') =>
    o.read(`eth_call ${functionName}`, (c) =>
      c.readContract({ address: o.address, abi: challengerRegistryAbi, functionName }),
    );

  async function sync(): Promise<void> {
    const head = await o.read('eth_blockNumber', (c) => c.getBlockNumber({ cacheTime: 0 }));
    const safe = head - depth + 1n;
    if (safe < o.startBlock) return;
    for (let from = cursor === undefined ? o.startBlock : cursor + 1n; from <= safe; from += range) {
      const to = from + range - 1n < safe ? from + range - 1n : safe;
      const opened = await o.read('eth_getLogs', (c) =>
        c.getContractEvents({
          abi: challengerRegistryAbi,
          address: o.address,
          eventName: 'ClaimOpened',
          fromBlock: from,
          toBlock: to,
          strict: true,
        }),
      );
      for (const e of opened) {
        const epoch = e.args.epoch;
        if (!open.has(epoch)) {
          const reg = await read(epoch, e.blockNumber, safe);
          if (reg !== undefined) open.set(epoch, reg);
        }
      }
      cursor = to;
    }
    // A claim's bundles and commitment come after its opening: read again until the graph is committed
    // (after that the contract accepts nothing more for the claim) or the claim has lapsed.
    windows ??= { bundle: await registryValue('bundleWindow'), commit: await registryValue('commitWindow') };
    for (const [epoch, reg] of open) {
      if (reg.documentHash !== undefined || closed.has(epoch)) continue;
      const now = await read(epoch, reg.openedAt, safe);
      if (now === undefined) continue;
      // The registry takes a commitment only with a bundle posted, and only up to the end of the commit
      // window: read through `safe` with none, a claim past either can never be committed. It is not read
      // again, and is handed on as lapsed (the watcher then lets go of what it held for it).
      const bundlesClosed = safe > now.openedAt + windows.bundle;
      const commitClosed = safe > now.openedAt + windows.bundle + windows.commit;
      const noBundle = bundlesClosed && now.bundles.length === 0;
      const lapsed =
        now.documentHash === undefined &&
        (noBundle || commitClosed) &&
        (await stateAgrees(epoch, now, safe, commitClosed));
      open.set(epoch, lapsed ? { ...now, lapsed: true } : now);
      if (lapsed) closed.add(epoch);
    }
  }

  /**
   * Letting go of a claim is for good (the watcher's ledger), so the logs' silence is not enough: a node
   * that lags behind `safe`, or answers a log query with nothing, would make Vigil drop a claim still to
   * be committed. The registry's own state at block `safe` must agree: the claim opened where the logs
   * say, not committed, and (when the lapse rests on the bundle window alone) no bundle posted. A node
   * without that block fails the call instead of answering empty.
   */
  async function stateAgrees(
    epoch: bigint,
    reg: ClaimRegistration,
    safe: bigint,
    commitClosed: boolean,
  ): Promise<boolean> {
    const c = await o.read('eth_call claimOf', (client) =>
      client.readContract({
        address: o.address,
        abi: challengerRegistryAbi,
        functionName: 'claimOf',
        args: [epoch],
        blockNumber: safe,
      }),
    );
    return c.openedAt === reg.openedAt && !c.committed && (commitClosed || c.posted === 0);
  }

  const read = (epoch: bigint, fromBlock: bigint, toBlock: bigint) =>
    o.read('eth_getLogs', (c) => readClaimRegistration(c, o.address, epoch, { fromBlock, toBlock }, range));

  return {
    sync,
    claims: () => [...open.values()].sort((a, b) => (a.epoch < b.epoch ? -1 : a.epoch > b.epoch ? 1 : 0)),
    claim: (epoch) => open.get(epoch),
    forget(epoch) {
      // Its opening is behind the cursor: only a restart reads it again.
      open.delete(epoch);
      closed.delete(epoch);
    },
    get cursor() {
      return cursor;
    },
  };
}
