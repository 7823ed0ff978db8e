/**
 * The port through which the sender writes a transaction ahead of its broadcast and reads back what was
 * written. The sender owns the rule (bytes are recorded before they leave, and only recorded bytes are
 * ever broadcast, so a crash between build and broadcast resends the same bytes and never a conflicting
 * spend); the challenger owns the record, so it implements the slot: which fields hold a role's bytes,
 * which events and idempotency keys say so. The sender never learns the record's layout.
 */
import type { SentTx, Txid } from '../dispute/records/types.ts';
import type { Actionable } from './send.ts';

/** The bytes a slot holds for its role: what a send or a rebroadcast puts on the wire. */
export type RecordedTx = { txid: Txid; raw: Uint8Array; fee: bigint };

/** What writing ahead did: written by this call, written before under the same key, or the slot held another transaction first. */
export type WriteStatus = 'applied' | 'duplicate' | 'taken';

/**
 * One role's place in a dispute record (the challenge, the assert-timeout, the disprove), as read at
 * one version of the record. `Entry` is what the challenger asks to record (a new version, a rebuilt
 * one); the slot turns it into the record's event, patch and idempotency key.
 */
export type RecordSlot<Entry> = {
  readonly disputeId: string;
  readonly what: SentTx;
  /** The bytes recorded for this role when the slot was read; undefined when none are. */
  recorded(): RecordedTx | undefined;
  /** Records `entry` for this role, idempotently (same entry, same key: one write). */
  record(entry: Entry): Promise<WriteStatus>;
  /**
   * Waits until what was recorded is on a replica, where the store has one: written on a primary
   * alone, a failover could lose it after the bytes went out.
   */
  durable(): Promise<void>;
  /** The node took the recorded bytes (`accepted`, not `already-known`): recorded if the role says so. */
  noteAccepted(txid: Txid, result: 'sent' | 'rebroadcast'): Promise<void>;
  /** The node answered with something the caller acts on (rebuild or follow): recorded and counted. */
  noteActionable(txid: Txid, outcome: Actionable): Promise<void>;
};

/** Writes `entry` ahead into `slot`, durably. Call it before any send of the bytes it holds. */
export async function writeAhead<Entry>(slot: RecordSlot<Entry>, entry: Entry): Promise<WriteStatus> {
  const status = await slot.record(entry);
  // A duplicate may be a write of another process that has not reached a replica either.
  await slot.durable();
  return status;
}
