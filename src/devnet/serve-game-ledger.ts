/**
 * The served operator's game claims (`vigil devnet serve --game`): game-claims.jsonl, one line per step
 * of a claim, each written before the step is acted on (serve-journal.ts), so a restart knows what was
 * sent and nothing is sent twice under two meanings. A claim goes funded (its funding transaction,
 * signed) → opened (on the registry, at an L2 block) → kicked off (its kick-off, signed) → ended, or
 * lapsed when the registry can no longer take it; an epoch nobody could claim is passed over before it
 * is funded. Only the claims not over are kept whole in memory.
 */
import { z } from 'zod';
import { ServeDirError } from './serve-dir-errors.ts';
import { type JournalFile, openJournal } from './serve-journal.ts';

export const GAME_CLAIMS_FORMAT = 'vigil-devnet-serve-game-claims/1';

const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/);
const rawTx = z.string().regex(/^(?:[0-9a-f]{2})+$/);
const GAME_ENDS = ['taken', 'paid-out', 'slashed', 'timed-out'] as const;

const lineShape = z.union([
  /** The program fault the claim runs ('none': honest) and its funding, signed, before it is sent. */
  z.strictObject({ epoch: decimal, funded: rawTx, fault: z.string().min(1) }),
  /** The L2 block the registry opened the claim at. */
  z.strictObject({ epoch: decimal, openedAt: decimal }),
  /** The kick-off, signed, before it is sent. */
  z.strictObject({ epoch: decimal, kickoff: rawTx }),
  z.strictObject({ epoch: decimal, ended: z.enum(GAME_ENDS) }),
  z.strictObject({ epoch: decimal, lapsed: z.string().min(1) }),
  /** An epoch passed over before any funding (an honest claim of it could not be defended), and why. */
  z.strictObject({ epoch: decimal, passedOver: z.string().min(1) }),
]);
type Line = z.infer<typeof lineShape>;

export type GameClaimEnd = (typeof GAME_ENDS)[number];

/** A claim not over yet, as the journal has it. */
export type LedgerGameClaim = {
  readonly epoch: bigint;
  readonly fault: string;
  /** The funding transaction (raw hex). */
  readonly funded: string;
  readonly openedAt?: bigint;
  /** The kick-off (raw hex). */
  readonly kickoff?: string;
};

export class GameClaimLedger {
  readonly #journal: JournalFile<Line>;
  readonly #open = new Map<bigint, LedgerGameClaim>();
  /** Epochs whose claims are over (ended or lapsed): never claimed again. */
  readonly #over = new Set<bigint>();
  /** The last funding written (whether the network has claimed before: a restart, not a creation). */
  #lastFunding: string | undefined;

  constructor(path: string) {
    this.#journal = openJournal(path, GAME_CLAIMS_FORMAT, {}, lineShape, 'the operator game claims file');
    for (const line of this.#journal.records) this.#apply(line);
  }

  #apply(line: Line): void {
    const epoch = BigInt(line.epoch);
    if ('funded' in line) {
      this.#open.set(epoch, { epoch, fault: line.fault, funded: line.funded });
      this.#lastFunding = line.funded;
      return;
    }
    if ('ended' in line || 'lapsed' in line || 'passedOver' in line) {
      this.#open.delete(epoch);
      this.#over.add(epoch);
      return;
    }
    const c = this.#open.get(epoch);
    if (c === undefined) {
      throw new ServeDirError(`The operator game claims file records epoch ${epoch} before its funding`);
    }
    this.#open.set(
      epoch,
      'openedAt' in line ? { ...c, openedAt: BigInt(line.openedAt) } : { ...c, kickoff: line.kickoff },
    );
  }

  /** The claim of `epoch` when it is not over. */
  open(epoch: bigint): LedgerGameClaim | undefined {
    return this.#open.get(epoch);
  }

  /** The claims not over, in the order they were funded. */
  openClaims(): readonly LedgerGameClaim[] {
    return [...this.#open.values()];
  }

  /** Whether `epoch` was ever claimed (over or not). */
  has(epoch: bigint): boolean {
    return this.#open.has(epoch) || this.#over.has(epoch);
  }

  isOver(epoch: bigint): boolean {
    return this.#over.has(epoch);
  }

  /** The last funding transaction written (raw hex). */
  lastFunding(): string | undefined {
    return this.#lastFunding;
  }

  funded(epoch: bigint, fault: string, rawHex: string): void {
    this.#record({ epoch: String(epoch), funded: rawHex, fault });
  }

  opened(epoch: bigint, openedAt: bigint): void {
    this.#record({ epoch: String(epoch), openedAt: String(openedAt) });
  }

  kickedOff(epoch: bigint, rawHex: string): void {
    this.#record({ epoch: String(epoch), kickoff: rawHex });
  }

  ended(epoch: bigint, end: GameClaimEnd): void {
    this.#record({ epoch: String(epoch), ended: end });
  }

  lapsed(epoch: bigint, why: string): void {
    this.#record({ epoch: String(epoch), lapsed: why });
  }

  /** `epoch` is never claimed: a restart does not try it again. */
  passedOver(epoch: bigint, why: string): void {
    this.#record({ epoch: String(epoch), passedOver: why });
  }

  close(): void {
    this.#journal.close();
  }

  #record(line: Line): void {
    const epoch = BigInt(line.epoch);
    if (this.#over.has(epoch)) throw new ServeDirError(`Epoch ${epoch}'s game claim is over already`);
    if ('passedOver' in line && this.#open.has(epoch))
      throw new ServeDirError(`Epoch ${epoch} is funded already: its claim lapses, it is not passed over`);
    if (!('funded' in line) && !('passedOver' in line) && !this.#open.has(epoch))
      throw new ServeDirError(`Epoch ${epoch} has no game claim to record a step of`);
    this.#journal.append(line);
    this.#apply(line);
  }
}
