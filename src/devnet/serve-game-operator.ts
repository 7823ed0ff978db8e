/**
 * The served devnet's operator in the narrowing game (`vigil devnet serve --game`): the claims of
 * game-operator.ts made one step per Bitcoin block instead of waiting, because the challengers that must
 * post bundles are other processes (`vigil watch`) that may be slow, stopped or not started yet. Each
 * ended epoch the L2 clock hands over is funded, opened on the registry, built on the bundles once they
 * are posted, committed and kicked off; then played block by block (game-operator-play.ts) until it ends.
 *
 * Every step is written to game-claims.jsonl before it is acted on (serve-game-ledger.ts), so a restart
 * resumes each claim where it stood: the funding and kick-off are sent again if the mempool lost them,
 * an opened claim is read back from the registry, and a kicked-off claim's graph is rebuilt (deterministic
 * keys and signatures) and checked against the document hash the registry holds.
 */
import type { Logger } from 'pino';
import type { BlockTx } from '../bitcoin/backends/types.ts';
import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import { parseTxHex, serializeTx, txid, txidHex } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { bytesToHex } from '../core/bytes.ts';
import { challengerRegistryAbi } from '../l2/contracts/artifacts/abis.ts';
import { isProgramFault, type ProgramFault } from '../machine/programs/faults.ts';
import { type EpochGame, epochGame, type GameEpoch, UnclaimableEpochError } from './game-epochs.ts';
import {
  completeGameClaim,
  fundGameClaim,
  type GameOperatorBehaviour,
  type GameOperatorOptions,
  gameClaimRegistration,
  LATE_DOCUMENT_BLOCKS,
  type OperatorGameClaim,
  openGameClaim,
  publishDocument,
} from './game-operator.ts';
import { type PlayContext, reactToClaim } from './game-operator-play.ts';
import type { OperatorFunding } from './operator-funding.ts';
import type { Say } from './run-context.ts';
import type { GameClaimLedger } from './serve-game-ledger.ts';
import { fundingLost } from './serve-rebroadcast.ts';

/**
 * Claims funded but not kicked off at once at most: their fundings chain on the pool's coins, and each
 * waits for bundles. The L2 clock slows down while the backlog is above this (`backlog`).
 */
const MAX_OPENING = 8;
/** Claims built (graph, presignatures, document) in one block's round at most: about a second each. */
const MAX_BUILDS_PER_ROUND = 4;

/** A claim between its funding and its kick-off. */
type Opening = {
  readonly e: GameEpoch;
  readonly fault: ProgramFault;
  /** The operator's play over the epoch: made before funding, or at the rebuild of a resumed claim. */
  game: EpochGame | undefined;
  readonly funding: Tx;
  openedAt: bigint | undefined;
  /** The kick-off journaled (before a restart, or before a broadcast that failed): rebuilt, not built anew. */
  kickoff: Tx | undefined;
};

export type ServedGameOperatorOptions = {
  readonly bitcoin: DevnetBitcoin;
  /** The game operator's keys, L2 clients and registry windows; `fault` and `document` are set per claim. */
  readonly claims: Omit<GameOperatorOptions, 'fault' | 'document'>;
  readonly ledger: GameClaimLedger;
  readonly funding: OperatorFunding;
  /** Takes the version of a move the next block must mine (the fee market's), for `equivocateAt`. */
  readonly mineInstead: (tx: Tx) => void;
  readonly say: Say;
  readonly logger?: Logger;
};

const programFault = (name: string): ProgramFault => (isProgramFault(name) ? name : undefined);

export class ServedGameOperator {
  readonly #o: ServedGameOperatorOptions;
  /** Ended epochs not funded yet, in order. */
  readonly #queue: { e: GameEpoch; fault: ProgramFault; game?: EpochGame }[] = [];
  readonly #opening = new Map<bigint, Opening>();
  readonly #live = new Map<bigint, OperatorGameClaim>();
  #behaviour: GameOperatorBehaviour = {};
  #signal: AbortSignal | undefined;
  readonly #notes: string[] = [];
  /** The last block the pool's coins were told about. */
  #scanned: number;
  #waitingTold = false;
  /** Fundings that can never be sent (display txids), whose change later fundings may spend. */
  readonly #lostFundings = new Set<string>();

  constructor(o: ServedGameOperatorOptions, tip: number) {
    this.#o = o;
    this.#scanned = tip;
  }

  /** A line for the next round's story (from the L2 clock). */
  note(line: string): void {
    this.#notes.push(line);
  }

  setBehaviour(b: GameOperatorBehaviour): void {
    this.#behaviour = b;
  }

  /** Claims the operator has not ended yet: queued, opening or live. */
  backlog(): number {
    return this.#queue.length + this.#opening.size;
  }

  /** Claims kicked off and not ended. */
  live(): number {
    return this.#live.size;
  }

  /** Whether `epoch` needs nothing more from the L2 clock: its claim is over, or in hand. */
  has(epoch: bigint): boolean {
    return (
      this.#o.ledger.isOver(epoch) ||
      this.#live.has(epoch) ||
      this.#opening.has(epoch) ||
      this.#queue.some((q) => q.e.epoch === epoch)
    );
  }

  /**
   * From the L2 clock: ended epoch `e`, whose root the operator committed with `faultName` ('none', or
   * a catalogue fault). A claim the ledger holds resumes where it stood, with the fault it was funded
   * with.
   */
  offer(e: GameEpoch, faultName: string): void {
    if (this.has(e.epoch)) return;
    const recorded = this.#o.ledger.open(e.epoch);
    if (recorded === undefined) {
      this.#queue.push({ e, fault: programFault(faultName) });
      return;
    }
    this.#opening.set(e.epoch, {
      e,
      fault: programFault(recorded.fault),
      game: undefined,
      funding: parseTxHex(recorded.funded),
      openedAt: recorded.openedAt,
      kickoff: recorded.kickoff === undefined ? undefined : parseTxHex(recorded.kickoff),
    });
  }

  /**
   * One Bitcoin block's work: the pool told of new blocks, the live claims played, new ones advanced.
   * Cut short when `signal` aborts (serve stopping): what is left is done after the restart.
   */
  async round(signal: AbortSignal): Promise<string[]> {
    this.#signal = signal;
    const lines: string[] = this.#notes.splice(0);
    const { bitcoin, funding, logger } = this.#o;
    const backend = bitcoin.backend;
    const tip = await backend.getTipHeight();
    for (let h = this.#scanned + 1; h <= tip; h++) {
      const block = await backend.getBlock(h);
      if (block === undefined) break;
      for (const btx of block.txs as readonly BlockTx[]) funding.observe(btx);
      this.#scanned = h;
    }
    const refilled = await funding.refill(backend, logger);
    if (refilled !== undefined) lines.push(refilled);
    await this.#play(tip, lines);
    await this.#fund(lines);
    await this.#advance(lines);
    return lines;
  }

  async #play(tip: number, lines: string[]): Promise<void> {
    const { bitcoin, claims, ledger } = this.#o;
    const play: PlayContext = {
      backend: bitcoin.backend,
      secret: claims.secrets.operator,
      script: this.#o.funding.wallet.script,
      behaviour: this.#behaviour,
      mineInstead: this.#o.mineInstead,
    };
    for (const c of this.#live.values()) {
      if (this.#signal?.aborted) return;
      for (const line of await reactToClaim(play, c, tip)) lines.push(line);
      if (c.unpublished !== undefined) {
        const k = (await bitcoin.backend.getTransaction(c.kickoffTxid))?.status;
        if (k?.confirmed === true && tip >= k.blockHeight + LATE_DOCUMENT_BLOCKS) {
          await publishDocument(c.unpublished.path, c.unpublished.text);
          c.unpublished = undefined;
          lines.push(
            `epoch ${c.epoch}: publishes its document at last, ${tip - k.blockHeight} blocks after the kick-off`,
          );
        }
      }
      if (c.end !== undefined) {
        ledger.ended(c.epoch, c.end);
        this.#live.delete(c.epoch);
        lines.push(
          `epoch ${c.epoch}: the claim ended ${c.end} (${c.game.fraud ? 'a false root' : 'the true root'})`,
        );
      }
    }
  }

  /**
   * Funds queued epochs while fewer than MAX_OPENING claims are opening: each funding journaled, then
   * sent (its change funds the next one).
   */
  async #fund(lines: string[]): Promise<void> {
    const { bitcoin, funding, ledger } = this.#o;
    while (this.#opening.size < MAX_OPENING && this.#signal?.aborted !== true) {
      const next = this.#queue[0];
      if (next === undefined) return;
      let game: EpochGame;
      try {
        // Kept with the entry: a round without a coin does not run it again.
        next.game ??= epochGame(next.e, next.fault);
        game = next.game;
      } catch (err) {
        // An honest claim of it could not be defended (its run is longer than the search's 2^K steps):
        // passed over for good. Anything else (the devnet's own bug) is said and dropped here only: a
        // restart tries the epoch again.
        this.#queue.shift();
        if (err instanceof UnclaimableEpochError) ledger.passedOver(next.e.epoch, errorLine(err));
        lines.push(`epoch ${next.e.epoch} cannot be claimed in the game: ${errorLine(err)}`);
        this.#o.logger?.debug({ err, epoch: String(next.e.epoch) }, 'served game epoch cannot be claimed');
        continue;
      }
      let coin: ReturnType<OperatorFunding['pool']['take']>;
      try {
        coin = funding.pool.take(funding.perClaim);
      } catch (err) {
        // Kept first in line: the pool refills, or a block makes its coins shallower.
        lines.push(`epoch ${next.e.epoch} waits for a coin (${errorLine(err)})`);
        return;
      }
      const made = fundGameClaim(this.#options(next.fault), coin, next.e);
      ledger.funded(next.e.epoch, next.fault ?? 'none', bytesToHex(serializeTx(made.tx)));
      this.#queue.shift();
      this.#opening.set(next.e.epoch, {
        ...next,
        game,
        funding: made.tx,
        openedAt: undefined,
        kickoff: undefined,
      });
      try {
        await bitcoin.backend.broadcast(serializeTx(made.tx));
      } catch (err) {
        // Journaled: sent again before the claim opens. Its change is no coin until then.
        lines.push(
          `epoch ${next.e.epoch}: its funding was refused (${errorLine(err)}); trying again next block`,
        );
        return;
      }
      funding.funded(txidHex(made.tx), made.purse);
    }
  }

  /** Opens funded claims on the registry and builds those whose bundles are in, in epoch order. */
  async #advance(lines: string[]): Promise<void> {
    const { ledger } = this.#o;
    let builds = 0;
    for (const [epoch, c] of this.#opening) {
      if (this.#signal?.aborted) return;
      const o = this.#options(c.fault);
      try {
        const lost = await fundingLost(this.#o.bitcoin.backend, c.funding, this.#lostFundings);
        if (lost !== undefined) {
          // The fundings chained on its change are lost with it: the next ones in this loop see it.
          this.#lostFundings.add(txidHex(c.funding));
          ledger.lapsed(epoch, lost);
          this.#opening.delete(epoch);
          lines.push(`epoch ${epoch}: its claim lapsed (${lost})`);
          continue;
        }
        if (c.openedAt === undefined) {
          const opened = await this.#openedAt(epoch);
          if (opened === undefined) {
            if ((await this.#registrants()) === 0n) {
              if (!this.#waitingTold)
                lines.push(`epoch ${epoch} waits: no challenger has registered on the registry yet`);
              this.#waitingTold = true;
              return;
            }
            this.#waitingTold = false;
            c.openedAt = await openGameClaim(o, epoch, c.funding);
          } else c.openedAt = opened;
          ledger.opened(epoch, c.openedAt);
        }
        // A resumed claim already kicked off is rebuilt at once, whatever the cap: its game may be due.
        if (builds >= MAX_BUILDS_PER_ROUND && c.kickoff === undefined) continue;
        const reg = await gameClaimRegistration(o, epoch, c.openedAt);
        if ('waiting' in reg) {
          // Journaled as opened, and the registry does not have it: anvil's state was saved before the
          // call (a SIGKILL). Opened again at the next round, from the same funding.
          if (reg.opened === false && (await this.#openedAt(epoch)) === undefined) {
            c.openedAt = undefined;
            lines.push(
              `epoch ${epoch}: the registry lost its claim (an L2 state older than the journal); opens it again`,
            );
          }
          continue;
        }
        if ('lapsed' in reg) {
          ledger.lapsed(epoch, reg.lapsed);
          this.#opening.delete(epoch);
          lines.push(`epoch ${epoch}: its claim lapsed (${reg.lapsed})`);
          continue;
        }
        builds++;
        if (c.game === undefined) {
          try {
            c.game = epochGame(c.e, c.fault);
          } catch (err) {
            // A resumed honest claim whose run is longer than the search's 2^K steps: it never can be.
            // Anything else is tried again next block.
            if (!(err instanceof UnclaimableEpochError)) throw err;
            ledger.lapsed(epoch, `cannot be claimed in the game: ${errorLine(err)}`);
            this.#opening.delete(epoch);
            lines.push(
              `epoch ${epoch} cannot be claimed in the game: ${errorLine(err)}; its claim is given up`,
            );
            continue;
          }
        }
        const game = c.game;
        const done = await completeGameClaim(
          o,
          c.e,
          game,
          { txid: txid(c.funding), value: c.funding.outputs[0]?.value ?? 0n },
          reg.ready,
        );
        // Signing is deterministic: a rebuilt claim's kick-off is the journaled one byte for byte (a txid
        // leaves out the witness, which carries the roots).
        const resumed = c.kickoff !== undefined;
        const rebuilt = bytesToHex(serializeTx(done.kickoff));
        if (c.kickoff !== undefined && bytesToHex(serializeTx(c.kickoff)) !== rebuilt)
          throw new Error(`the rebuilt kick-off ${txidHex(done.kickoff)} is not the one journaled`);
        if (c.kickoff === undefined) {
          ledger.kickedOff(epoch, rebuilt);
          c.kickoff = done.kickoff;
        }
        const backend = this.#o.bitcoin.backend;
        if ((await backend.getTransaction(txidHex(c.funding))) === undefined)
          await backend.broadcast(serializeTx(c.funding));
        if ((await backend.getTransaction(done.claim.kickoffTxid)) === undefined)
          await backend.broadcast(serializeTx(done.kickoff));
        this.#opening.delete(epoch);
        this.#live.set(epoch, done.claim);
        lines.push(
          `epoch ${epoch}: ${resumed ? 'follows again' : 'claims'} ${game.fraud ? 'a false root' : 'the true root'}, kick-off ${done.claim.kickoffTxid.slice(0, 12)}… (${reg.ready.bundles.length} challenger${reg.ready.bundles.length === 1 ? '' : 's'})`,
        );
      } catch (err) {
        // Tried again next block: a claim is never silently dropped. The others go on.
        lines.push(`epoch ${epoch}: ${errorLine(err)}; trying again next block`);
        this.#o.logger?.debug({ err, epoch: String(epoch) }, 'served game claim step failed');
      }
    }
  }

  #options(fault: ProgramFault): GameOperatorOptions {
    const doc = this.#behaviour.document;
    return {
      ...this.#o.claims,
      fault,
      ...(doc === undefined ? {} : { document: doc }),
      ...(this.#signal === undefined ? {} : { signal: this.#signal }),
    };
  }

  /** The L2 block the registry opened `epoch`'s claim at, if it did (a restart after the call). */
  async #openedAt(epoch: bigint): Promise<bigint | undefined> {
    const { pub, registry } = this.#o.claims.l2;
    const c = (await pub.readContract({
      address: registry,
      abi: challengerRegistryAbi,
      functionName: 'claimOf',
      args: [epoch],
    })) as { openedAt: bigint };
    return c.openedAt === 0n ? undefined : c.openedAt;
  }

  async #registrants(): Promise<bigint> {
    const { pub, registry } = this.#o.claims.l2;
    return (await pub.readContract({
      address: registry,
      abi: challengerRegistryAbi,
      functionName: 'registrantCount',
    })) as bigint;
  }
}

const errorLine = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
