/**
 * `vigil devnet`'s command line (the narrowing game): its operator strategies, and the options it refuses before
 * anything starts (each a usage error naming what it can do instead).
 */
import { describe, expect, it } from 'vitest';
import { runGameCommand } from '../../src/cli/commands/devnet-game.ts';
import { UsageError } from '../../src/core/errors.ts';
import { gameBehaviour } from '../../src/devnet/game-strategies.ts';

const base = { fault: 'none', operator: 'assert', redisUrl: 'redis://127.0.0.1:6379', logLevel: 'silent' };
const noRedis = async () => {
  throw new Error('Redis must not be reached');
};

describe('vigil devnet options (the narrowing game)', () => {
  it('reads the operator strategies of a game run', () => {
    expect(gameBehaviour('assert')).toEqual({});
    expect(gameBehaviour('never-assert')).toEqual({ neverAssert: true });
    expect(gameBehaviour('late')).toEqual({ late: true });
    expect(gameBehaviour('fee-spike')).toEqual({ feeSpike: true });
    expect(gameBehaviour('silent-at:answer3')).toEqual({ silentAt: 'answer3' });
    expect(gameBehaviour('silent-at:reveal')).toEqual({ silentAt: 'reveal' });
    expect(gameBehaviour('equivocate-at:answer2')).toEqual({ equivocateAt: 'answer2' });
    expect(gameBehaviour('equivocate-at:assert')).toEqual({ equivocateAt: 'assert' });
    expect(() => gameBehaviour('equivocate-at:')).toThrow(/equivocate-at:<move>/);
    expect(gameBehaviour('stall-at:answer2')).toEqual({ stallAt: 'answer2' });
    expect(gameBehaviour('stall-at:assert')).toEqual({ stallAt: 'assert' });
    expect(() => gameBehaviour('stall-at:')).toThrow(/stall-at:<move>/);
    expect(gameBehaviour('pin-at:answer2')).toEqual({ stallAt: 'answer2', pin: true });
    expect(() => gameBehaviour('pin-at:')).toThrow(/pin-at:<move>/);
    expect(gameBehaviour('lying-backend-hide-spends')).toEqual({ lyingBackend: 'hide-spends' });
    expect(gameBehaviour('lying-backend-garbage')).toEqual({ lyingBackend: 'garbage' });
    expect(gameBehaviour('document-withheld')).toEqual({ document: 'withheld' });
    expect(gameBehaviour('document-malformed')).toEqual({ document: 'malformed' });
    expect(gameBehaviour('document-late')).toEqual({ document: 'late' });
    expect(() => gameBehaviour('fee-squeeze')).toThrow(UsageError);
    expect(() => gameBehaviour('nonsense-at:answer2')).toThrow(
      /not a game strategy: assert, never-assert, late/,
    );
    // A returned behaviour is the caller's own: changing it changes no other run's.
    const mine = gameBehaviour('late') as { late?: boolean };
    mine.late = false;
    expect(gameBehaviour('late')).toEqual({ late: true });
    expect(() => gameBehaviour('silent-at:')).toThrow(/silent-at:<move>/);
  });

  it('refuses what a game run does not do, before anything starts', async () => {
    await expect(
      runGameCommand({ ...base, operator: 'fee-spike', bitcoinRpc: 'http://u:p@127.0.0.1:18443' }, noRedis),
    ).rejects.toThrow(/fee-spike needs the in-process simnet/);
    await expect(
      runGameCommand(
        { ...base, operator: 'stall-at:answer2', bitcoinRpc: 'http://u:p@127.0.0.1:18443' },
        noRedis,
      ),
    ).rejects.toThrow(/stall-at:answer2 needs the in-process simnet/);
    await expect(
      runGameCommand(
        { ...base, operator: 'lying-backend-garbage', bitcoinRpc: 'http://u:p@127.0.0.1:18443' },
        noRedis,
      ),
    ).rejects.toThrow(/lying-backend-garbage needs the in-process simnet/);
    await expect(runGameCommand({ ...base, exportBundles: '/tmp/x' }, noRedis)).rejects.toThrow(
      /a game run has none/,
    );
    await expect(runGameCommand({ ...base, fault: 'rollup-param-ignored' }, noRedis)).rejects.toThrow(
      /fault of the L2 sequencer.*--part2/,
    );
    await expect(runGameCommand({ ...base, fault: 'no-such-fault' }, noRedis)).rejects.toThrow(
      /unknown fault "no-such-fault": the narrowing game plays the catalogue's faults: .*commission-not-taken/,
    );
    await expect(runGameCommand({ ...base, operator: 'strip-and-steal' }, noRedis)).rejects.toThrow(
      /not a game strategy.*--part2/,
    );
    await expect(runGameCommand({ ...base, logLevel: 'loud' }, noRedis)).rejects.toThrow(/--log-level/);
  });
});
