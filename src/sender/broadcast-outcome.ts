/**
 * The one place that reads a node's answer to a broadcast (or to testmempoolaccept) and says what it
 * means for Vigil. Callers branch on `kind`, never on message text: Core's reject reasons and
 * Esplora's wrappings of them are matched here and nowhere else.
 *
 * Kinds, and what a caller does with each:
 * - `accepted` / `already-known`: the bytes are in the mempool or the chain.
 * - `conflict`: an input is spent by another transaction (mempool or chain) or is missing. Retrying
 *   the same bytes cannot help: find out on chain who spent what, then rebuild or follow.
 * - `fee-too-low`: below the relay or mempool minimum, or not enough to replace a conflict. Rebuild at
 *   `neededFee` / `neededRate` when the node said how much, within the caps.
 * - `premature`: a timelock has not matured yet (non-BIP68-final, non-final): the same bytes later.
 * - `refused`: no retry of these bytes can cure it (script failure, non-standard output, a burn or
 *   fee above what the node's RPC allows). A permanent failure with an alert.
 * - `unavailable`: the backend did not answer; retried.
 */
import { BackendUnavailableError, BroadcastRejectedError } from '../bitcoin/backends/errors.ts';

export type BroadcastOutcome =
  | { kind: 'accepted' }
  | { kind: 'already-known'; reason: string }
  | { kind: 'conflict'; reason: string }
  | {
      kind: 'fee-too-low';
      reason: string;
      /** The node's floor for this transaction's fee, in sats, when it said. */
      neededFee: bigint | undefined;
      /** The fee must rise by at least this much, in sats, when the node said (BIP-125 rule 4). */
      neededExtra: bigint | undefined;
      /** The rate to beat, sat/kvB, when the node said (a replacement's feerate rule). */
      neededRate: bigint | undefined;
    }
  | { kind: 'premature'; reason: string }
  | { kind: 'refused'; reason: string }
  | { kind: 'unavailable'; reason: string };

export type BroadcastOutcomeKind = BroadcastOutcome['kind'];

/** Core's FormatMoney output ("0.00012345") in sats; undefined when it is not one. */
function btcToSats(text: string): bigint | undefined {
  const m = /^(\d{1,8})\.(\d{1,8})$/.exec(text);
  if (!m) return undefined;
  return BigInt(m[1] as string) * 100_000_000n + BigInt((m[2] as string).padEnd(8, '0'));
}

/**
 * What a fee refusal says is needed, in Core's texts:
 * - `min relay fee not met, 100 < 141` (sats: fee paid < fee needed);
 * - `mempool min fee not met, 100 < 141` (the same, at the mempool's floor);
 * - `insufficient fee, rejecting replacement <txid>, less fees than conflicting txs; 0.0001 < 0.0002`;
 * - `insufficient fee, rejecting replacement <txid>, not enough additional fees to relay; 0.00000100 < 0.00000263`
 *   (the replacement must add that much on top of the conflicts' fees);
 * - `insufficient fee, rejecting replacement <txid>; new feerate 0.00001000 BTC/kvB <= old feerate 0.00002000 BTC/kvB`.
 */
function feeNeeded(reason: string): {
  neededFee: bigint | undefined;
  neededExtra: bigint | undefined;
  neededRate: bigint | undefined;
} {
  const none = { neededFee: undefined, neededExtra: undefined, neededRate: undefined };
  const sats = /fee not met,? (\d+) < (\d+)/.exec(reason);
  if (sats) return { ...none, neededFee: BigInt(sats[2] as string) };
  const less = /less fees than conflicting txs; ([\d.]+) < ([\d.]+)/.exec(reason);
  if (less) {
    const conflicts = btcToSats(less[2] as string);
    return { ...none, neededFee: conflicts === undefined ? undefined : conflicts + 1n };
  }
  const additional = /not enough additional fees to relay; ([\d.]+) < ([\d.]+)/.exec(reason);
  if (additional) {
    const have = btcToSats(additional[1] as string);
    const need = btcToSats(additional[2] as string);
    return { ...none, neededExtra: have !== undefined && need !== undefined ? need - have : undefined };
  }
  const rate = /old feerate ([\d.]+) BTC\/kvB/.exec(reason);
  if (rate) {
    const old = btcToSats(rate[1] as string);
    // BTC/kvB read as sats is sat/kvB; the replacement must be strictly above it.
    return { ...none, neededRate: old === undefined ? undefined : old + 1n };
  }
  const satVb = /old feerate (\d+)\.(\d{3}) sat\/vB/.exec(reason);
  if (satVb) return { ...none, neededRate: BigInt(`${satVb[1]}${satVb[2]}`) + 1n };
  return none;
}

const ALREADY = [
  /already in (the )?(mempool|block ?chain)/i,
  /txn-already-(in-mempool|known)/i,
  /txn-same-nonwitness-data-in-mempool/i,
  /outputs already in utxo set/i,
  /transaction already in block chain/i,
];
const CONFLICT = [
  /missingorspent/i,
  /missing-inputs/i,
  /txn-mempool-conflict/i,
  /bad-txns-spends-conflicting-tx/i,
  /replacement-adds-unconfirmed/i,
  /too many potential replacements/i,
];
const FEE = [/min relay fee not met/i, /mempool min fee not met/i, /insufficient fee/i, /mempool full/i];
const PREMATURE = [/non-BIP68-final/i, /^non-final/i, /premature/i, /too-long-mempool-chain/i];

/** Classifies a reject reason as Core or Esplora worded it. */
export function classifyRejectReason(reason: string): Exclude<BroadcastOutcome, { kind: 'accepted' }> {
  if (ALREADY.some((r) => r.test(reason))) return { kind: 'already-known', reason };
  if (CONFLICT.some((r) => r.test(reason))) return { kind: 'conflict', reason };
  if (FEE.some((r) => r.test(reason))) return { kind: 'fee-too-low', reason, ...feeNeeded(reason) };
  if (PREMATURE.some((r) => r.test(reason))) return { kind: 'premature', reason };
  // Script failures, policy (dust, scriptpubkey, tx-size...), the RPC's maxfeerate and maxburnamount:
  // the node will refuse these bytes however often they are sent.
  return { kind: 'refused', reason };
}

/** Classifies whatever a backend's broadcast threw. Unknown errors are unavailable (retried), never swallowed. */
export function classifyBroadcastError(err: unknown): Exclude<BroadcastOutcome, { kind: 'accepted' }> {
  if (err instanceof BroadcastRejectedError) return classifyRejectReason(err.reason);
  if (err instanceof BackendUnavailableError) return { kind: 'unavailable', reason: err.message };
  return { kind: 'unavailable', reason: err instanceof Error ? err.message : String(err) };
}
