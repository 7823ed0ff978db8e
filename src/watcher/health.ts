/**
 * What /healthz means for the watcher, as pure decisions over facts the watcher gathers (so each rule is
 * unit-tested without a chain). 503 when:
 *
 * - `bitcoin-follow`: nobody holds the follow lease, or this process holds it and its last *fully
 *   completed* poll is older than the max age (a poll in which any step failed did not complete);
 * - `dispute-deadlines`: an open dispute's next deadline is at risk, whatever its state (a `detected`
 *   dispute not challenged yet, a `challenged` one whose connector A is not spent in a block, an
 *   `asserted` one with no disprove in a block), with the safety margin or fewer blocks left;
 * - `watcher-wallet`: in mode `challenge`, the wallet's spendable coins cannot fund the next challenge.
 */

import type { Utxo } from '../bitcoin/backends/types.ts';
import { type FeeRate, feeForVsize, feeRateFromSatPerVb } from '../bitcoin/codec/fee-rate.ts';
import { isMatureCoin } from '../bitcoin/wallet/wallet.ts';
import type { GraphParameters } from '../dispute/graph/parameters.ts';
import { blocksLeft } from '../dispute/records/deadlines.ts';
import type { GameRecord } from '../dispute/records/game-types.ts';
import type { DisputeState } from '../dispute/records/state-machine.ts';
import type { DisputeRecord } from '../dispute/records/store.ts';
import type { HealthStatus } from '../observability/health.ts';

// ------------------------------------------------------------------------------------------------
// Following Bitcoin

export type PollFailure = { at: number; reason: string };

export function followHealth(f: {
  holder: string | null;
  self: string;
  /** When this process last completed a poll with every step successful (ms). */
  lastPollOk: number | undefined;
  /** The last poll that did not complete, and why. */
  lastFailure?: PollFailure | undefined;
  now: number;
  maxAgeMs: number;
}): HealthStatus {
  if (f.holder === null) return { healthy: false, reason: 'no Vigil process follows Bitcoin (lease free)' };
  if (f.holder !== f.self) return { healthy: true, reason: 'another process follows Bitcoin' };
  if (f.lastPollOk !== undefined && f.now - f.lastPollOk <= f.maxAgeMs) return { healthy: true };
  const since =
    f.lastPollOk === undefined
      ? 'has not completed a poll yet'
      : `has not completed a poll for ${Math.round((f.now - f.lastPollOk) / 1000)} s`;
  // The failure is named only when it is newer than the last success: an old one explains nothing.
  const failure =
    f.lastFailure !== undefined && (f.lastPollOk === undefined || f.lastFailure.at > f.lastPollOk)
      ? ` (last failure: ${f.lastFailure.reason})`
      : '';
  return { healthy: false, reason: `this process holds the lease but ${since}${failure}` };
}

// ------------------------------------------------------------------------------------------------
// Dispute deadlines

/** Who spends connector A (kick-off output 0): a challenge, ours or anyone's, unless the take did. */
export type ConnectorAFact = { spent: false } | { spent: true; confirmed: boolean };

/** Who spends the asserted stake D (assert output 0): a disprove, or the operator's payout after T_d. */
export type AssertedStakeFact = { spent: false } | { spent: true; confirmed: boolean; byPayout: boolean };

/** What the chain says about one dispute near its deadline; `error` when it could not be read. */
export type DeadlineChainFacts = {
  connectorA?: ConnectorAFact;
  assertedStake?: AssertedStakeFact;
  error?: string;
};

export type DeadlineName = 'challenge' | 'disprove';

/** A dispute whose deadline is within the margin, and the chain fact that decides whether it is met. */
export type NearDeadline = {
  record: DisputeRecord;
  deadline: DeadlineName;
  by: number;
  left: number;
  /** The chain read that tells whether the deadline is met already (none: the state says it is not). */
  needs: 'nothing' | 'connector-a' | 'asserted-stake';
};

export type DeadlineRisk = {
  id: string;
  state: DisputeState;
  deadline: DeadlineName;
  left: number;
  why: string;
};

/**
 * The deadline a dispute races in its state, when `marginBlocks` or fewer blocks are left (or it has
 * passed). Only these need a chain read: health stays cheap however many disputes are open.
 * `confirmed` and later states race no deadline Vigil can miss: the challenge is in a block at depth,
 * so the take can never be valid, and the assert-timeout is Vigil's to take, not a cliff.
 */
export function nearDeadline(
  record: DisputeRecord,
  tip: number,
  marginBlocks: number,
): NearDeadline | undefined {
  let deadline: DeadlineName;
  let by: number | undefined;
  let needs: NearDeadline['needs'];
  switch (record.state) {
    case 'detected':
      deadline = 'challenge';
      by = record.opened.challengeBy;
      needs = 'nothing';
      break;
    case 'challenged':
      deadline = 'challenge';
      by = record.opened.challengeBy;
      needs = 'connector-a';
      break;
    case 'asserted':
      // Written by the disprove job once the assert is in a block (T_d counts from that block); before
      // that there is no deadline yet.
      deadline = 'disprove';
      by = record.assert.disproveBy;
      needs = 'asserted-stake';
      break;
    default:
      return undefined;
  }
  if (by === undefined) return undefined;
  const left = blocksLeft(by, tip);
  if (left > marginBlocks) return undefined;
  return { record, deadline, by, left, needs };
}

const blocksText = (left: number, deadline: DeadlineName, by: number): string =>
  left < 0
    ? `the ${deadline} deadline (height ${by}) has passed`
    : `${left} block${left === 1 ? '' : 's'} left before the ${deadline} deadline (height ${by})`;

/**
 * Whether a dispute near its deadline is at risk, given the chain facts read for it. A fact that is
 * needed but missing (the read failed) counts as at risk: health fails closed.
 */
export function deadlineRisk(
  near: NearDeadline,
  facts: DeadlineChainFacts | undefined,
): DeadlineRisk | undefined {
  const r = near.record;
  const risk = (why: string): DeadlineRisk => ({
    id: r.id,
    state: r.state,
    deadline: near.deadline,
    left: near.left,
    why: `${why}; ${blocksText(near.left, near.deadline, near.by)}`,
  });
  switch (near.needs) {
    case 'nothing':
      return risk('challenge not broadcast');
    case 'connector-a': {
      const a = facts?.connectorA;
      if (a === undefined) return risk(`connector A not readable (${facts?.error ?? 'no answer'})`);
      // A in a block is all that counts: whoever's challenge spent it, the take can never be valid.
      if (a.spent && a.confirmed) return undefined;
      return risk(
        a.spent ? 'challenge not confirmed' : 'connector A unspent: no challenge on chain or in the mempool',
      );
    }
    case 'asserted-stake': {
      const d = facts?.assertedStake;
      if (d === undefined) return risk(`asserted stake not readable (${facts?.error ?? 'no answer'})`);
      if (d.spent && d.confirmed && !d.byPayout) return undefined;
      if (d.spent && d.byPayout) return risk('the operator’s payout spent the asserted stake');
      return risk(d.spent ? 'disprove not confirmed' : 'asserted stake unspent: no disprove on chain');
    }
  }
}

/** Every open dispute's deadline risk at `tip`; `facts` holds the chain reads of those near it, by id. */
export function deadlineRisks(
  records: readonly DisputeRecord[],
  tip: number,
  marginBlocks: number,
  facts: ReadonlyMap<string, DeadlineChainFacts> = new Map(),
): DeadlineRisk[] {
  const out: DeadlineRisk[] = [];
  for (const rec of records) {
    const near = nearDeadline(rec, tip, marginBlocks);
    if (!near) continue;
    const risk = deadlineRisk(near, facts.get(rec.id));
    if (risk) out.push(risk);
  }
  return out;
}

export function deadlineHealthOf(risks: readonly DeadlineRisk[]): HealthStatus {
  if (risks.length === 0) return { healthy: true };
  return {
    healthy: false,
    reason: `deadline at risk for ${risks.map((r) => `${r.id} (${r.state}: ${r.why})`).join(', ')}`,
  };
}

export function deadlineHealth(
  records: readonly DisputeRecord[],
  tip: number,
  marginBlocks: number,
  facts: ReadonlyMap<string, DeadlineChainFacts> = new Map(),
): HealthStatus {
  return deadlineHealthOf(deadlineRisks(records, tip, marginBlocks, facts));
}

/**
 * The games whose next move Vigil owes with `t / 3` blocks or fewer left before the operator may take the
 * timeout (docs/protocol.md §24.9), as the job last saw them: the move is not at depth yet, whether or
 * not it was sent. The same line as the `VigilGameDeadlineNear` alert.
 */
export function gameDeadlineHealth(
  games: readonly Pick<GameRecord, 'id' | 'state' | 'progress'>[],
  tip: number,
  moveBlocks: number,
): HealthStatus {
  // Blocks left as vigil_game_deadline_blocks counts them: before the next block, the first that may carry it.
  const late = games.filter(
    (g) =>
      g.state !== 'resolved' &&
      g.progress?.owes === 'vigil' &&
      g.progress.dueBy !== undefined &&
      3 * (g.progress.dueBy - (tip + 1)) <= moveBlocks,
  );
  if (late.length === 0) return { healthy: true };
  return {
    healthy: false,
    reason: `Vigil's move is due with t / 3 = ${moveBlocks / 3} blocks or fewer left for ${late
      .map((g) => `${g.id} (${g.progress?.at ?? 'a move'} by ${g.progress?.dueBy})`)
      .join(', ')}`,
  };
}

// ------------------------------------------------------------------------------------------------
// The watcher wallet

/**
 * vsize assumed for the next challenge: the graph's input and output plus a couple of wallet inputs
 * and change. One wallet input measures 263 vB (docs/protocol.md §17); the slack covers a second coin.
 */
export const TYPICAL_CHALLENGE_VSIZE = 300;

/**
 * Sats the wallet must hold to send the next challenge: what the wallet adds to the connector to pay
 * the operator's challenge amount, the fee at the configured cap (the rate Vigil may have to pay near a
 * deadline), and the reserve the challenge must leave for fee bumps.
 */
export function challengeFundingNeed(f: {
  params: Pick<GraphParameters, 'challengeAmount' | 'connectorValue'>;
  maxFeeRateSatVb: number;
  reserve: bigint;
  vsize?: number;
}): bigint {
  const rate: FeeRate = feeRateFromSatPerVb(f.maxFeeRateSatVb);
  return (
    f.params.challengeAmount -
    f.params.connectorValue +
    feeForVsize(rate, f.vsize ?? TYPICAL_CHALLENGE_VSIZE) +
    f.reserve
  );
}

/**
 * What a challenge may spend now: confirmed, mature coins not already committed to a stored challenge
 * (the UTXO set still lists a coin whose spender is only in the mempool).
 */
export function spendableBalance(
  utxos: readonly Pick<Utxo, 'txid' | 'vout' | 'value' | 'confirmed' | 'coinbase' | 'height'>[],
  tip: number,
  reserved: ReadonlySet<string>,
): bigint {
  let total = 0n;
  for (const u of utxos) {
    if (u.confirmed && isMatureCoin(u, tip) && !reserved.has(`${u.txid}:${u.vout}`)) total += u.value;
  }
  return total;
}

export type WalletCheck =
  | { at: number; ok: true; spendable: bigint; required: bigint }
  | { at: number; ok: false; error: string };

export function walletHealth(f: {
  /** The last successful check and the last check (the same when it succeeded). */
  lastOk: Extract<WalletCheck, { ok: true }> | undefined;
  last: WalletCheck | undefined;
  now: number;
  maxAgeMs: number;
}): HealthStatus {
  const { lastOk, last } = f;
  if (lastOk === undefined || f.now - lastOk.at > f.maxAgeMs) {
    const why = last !== undefined && !last.ok ? `: ${last.error}` : '';
    return {
      healthy: false,
      reason:
        lastOk === undefined
          ? `the watcher wallet has not been read yet${why}`
          : `the watcher wallet was last read ${Math.round((f.now - lastOk.at) / 1000)} s ago${why}`,
    };
  }
  if (lastOk.spendable < lastOk.required) {
    return {
      healthy: false,
      reason: `the watcher wallet cannot fund the next challenge: ${lastOk.spendable} sat spendable, ${lastOk.required} sat needed (challenge amount − connector + fee at the cap + reserve)`,
    };
  }
  return { healthy: true, reason: `${lastOk.spendable} sat spendable, ${lastOk.required} sat needed` };
}
