import { describe, expect, it } from 'vitest';
import { bytesToHex, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import { FAULTS, reexecute } from '../../src/governance/index.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { type EpochEvidence, judgeEpoch, type ReasonCode } from '../../src/judge/verdict.ts';

// Real roots: the reference model and a faulty executor on the same seeded workload.
const workload = generateWorkload({ seed: 8, inputs: 400 });
const honest = reexecute(workload.inputs, { genesis: workload.genesis });
const faultyRoots = FAULTS.map((f) => ({
  name: f.name,
  epochs: reexecute(workload.inputs, { genesis: workload.genesis, executor: f }).epochs,
}));
const firstEpoch = honest.epochs[0];
if (!firstEpoch) throw new Error('the workload has no epoch');
const EPOCH = firstEpoch.epoch;
const ROOT = firstEpoch.root;
const OTHER = sha256(utf8('some other root'));
const L2_BLOCK = sha256(utf8('l2 block at epoch end'));

function evidence(patch: Partial<EpochEvidence> = {}): EpochEvidence {
  return {
    epoch: EPOCH,
    reexecution: { complete: true, root: ROOT },
    l2: {
      inputsFinal: true,
      behind: false,
      epochEndBlockHash: L2_BLOCK,
      commitment: { status: 'committed', root: ROOT, depth: 12 },
    },
    kickoff: {
      status: 'seen',
      txid: 'aa'.repeat(32),
      depth: 6,
      revealed: { epoch: EPOCH, stateRoot: ROOT, l2BlockHash: L2_BLOCK },
    },
    graphVerified: true,
    depth: { l2: 12, bitcoin: 6 },
    ...patch,
  };
}

const seenKickoff = (
  revealed: Partial<{ epoch: bigint; stateRoot: Uint8Array; l2BlockHash: Uint8Array }>,
  depth = 6,
) =>
  ({
    status: 'seen',
    txid: 'aa'.repeat(32),
    depth,
    revealed: { epoch: EPOCH, stateRoot: ROOT, l2BlockHash: L2_BLOCK, ...revealed },
  }) as const;

type Row = {
  name: string;
  patch: Partial<EpochEvidence>;
  outcome: 'valid' | 'fraud' | 'unavailable';
  challengeable: boolean;
  equivocation: boolean;
  codes: ReasonCode[];
};

const l2 = (patch: Partial<EpochEvidence['l2']>): EpochEvidence['l2'] => ({ ...evidence().l2, ...patch });

const table: Row[] = [
  {
    name: 'honest operator',
    patch: {},
    outcome: 'valid',
    challengeable: false,
    equivocation: false,
    codes: [],
  },
  {
    name: 'honest kick-off, no L2 commitment yet',
    patch: { l2: l2({ commitment: { status: 'missing' } }) },
    outcome: 'valid',
    challengeable: false,
    equivocation: false,
    codes: ['l2-commitment-missing'],
  },
  {
    name: 'wrong root on both chains (consistent lie)',
    patch: {
      kickoff: seenKickoff({ stateRoot: OTHER }),
      l2: l2({ commitment: { status: 'committed', root: OTHER, depth: 12 } }),
    },
    outcome: 'fraud',
    challengeable: true,
    equivocation: false,
    codes: ['root-mismatch', 'l2-commitment-wrong'],
  },
  {
    name: 'right on the L2, wrong on Bitcoin (equivocation, challengeable)',
    patch: { kickoff: seenKickoff({ stateRoot: OTHER }) },
    outcome: 'fraud',
    challengeable: true,
    equivocation: true,
    codes: ['root-mismatch', 'equivocation'],
  },
  {
    name: 'right on Bitcoin, wrong on the L2 (equivocation, nothing to challenge on Bitcoin)',
    patch: { l2: l2({ commitment: { status: 'committed', root: OTHER, depth: 12 } }) },
    outcome: 'fraud',
    challengeable: false,
    equivocation: true,
    codes: ['l2-commitment-wrong', 'equivocation'],
  },
  {
    name: 'wrong root on Bitcoin, L2 commitment missing: judged on the kick-off alone',
    patch: { kickoff: seenKickoff({ stateRoot: OTHER }), l2: l2({ commitment: { status: 'missing' } }) },
    outcome: 'fraud',
    challengeable: true,
    equivocation: false,
    codes: ['root-mismatch', 'l2-commitment-missing'],
  },
  {
    name: 'kick-off for another epoch',
    patch: { kickoff: seenKickoff({ epoch: EPOCH + 1n }) },
    outcome: 'fraud',
    challengeable: true,
    equivocation: false,
    codes: ['epoch-mismatch'],
  },
  {
    name: 'kick-off names another L2 block',
    patch: { kickoff: seenKickoff({ l2BlockHash: OTHER }) },
    outcome: 'fraud',
    challengeable: true,
    equivocation: false,
    codes: ['l2-block-mismatch'],
  },
  {
    name: 'L2 commitment not yet at depth is not compared',
    patch: { l2: l2({ commitment: { status: 'committed', root: OTHER, depth: 3 } }) },
    outcome: 'valid',
    challengeable: false,
    equivocation: false,
    codes: ['l2-commitment-missing'],
  },
  // Fail closed: a visible mismatch is still "unavailable" until every fact is complete and deep.
  {
    name: 'wrong root but kick-off not at depth',
    patch: { kickoff: seenKickoff({ stateRoot: OTHER }, 5) },
    outcome: 'unavailable',
    challengeable: false,
    equivocation: false,
    codes: ['kickoff-not-at-depth'],
  },
  {
    name: 'wrong root but re-execution incomplete',
    patch: {
      kickoff: seenKickoff({ stateRoot: OTHER }),
      reexecution: { complete: false, reason: 'inputs gap' },
    },
    outcome: 'unavailable',
    challengeable: false,
    equivocation: false,
    codes: ['reexecution-incomplete'],
  },
  {
    name: 'wrong root but the L2 node is behind',
    patch: { kickoff: seenKickoff({ stateRoot: OTHER }), l2: l2({ behind: true, inputsFinal: false }) },
    outcome: 'unavailable',
    challengeable: false,
    equivocation: false,
    codes: ['l2-behind'],
  },
  {
    name: 'wrong root but L2 inputs not final',
    patch: { kickoff: seenKickoff({ stateRoot: OTHER }), l2: l2({ inputsFinal: false }) },
    outcome: 'unavailable',
    challengeable: false,
    equivocation: false,
    codes: ['l2-not-at-depth'],
  },
  {
    name: 'wrong root but graph not verified',
    patch: { kickoff: seenKickoff({ stateRoot: OTHER }), graphVerified: false },
    outcome: 'unavailable',
    challengeable: false,
    equivocation: false,
    codes: ['graph-unverified'],
  },
  {
    name: 'no kick-off yet',
    patch: { kickoff: { status: 'not-seen' } },
    outcome: 'unavailable',
    challengeable: false,
    equivocation: false,
    codes: ['kickoff-not-seen'],
  },
  {
    name: 'kick-off witness unreadable',
    patch: { kickoff: { status: 'unreadable', txid: 'bb'.repeat(32), reason: 'bad digit' } },
    outcome: 'unavailable',
    challengeable: false,
    equivocation: false,
    codes: ['kickoff-unreadable'],
  },
  {
    name: 'everything missing at once lists every reason',
    patch: {
      reexecution: { complete: false, reason: 'x' },
      l2: l2({ inputsFinal: false }),
      kickoff: { status: 'not-seen' },
      graphVerified: false,
    },
    outcome: 'unavailable',
    challengeable: false,
    equivocation: false,
    codes: ['reexecution-incomplete', 'l2-not-at-depth', 'kickoff-not-seen', 'graph-unverified'],
  },
];

describe('judgeEpoch', () => {
  it.each(table)('$name → $outcome', (row) => {
    const v = judgeEpoch(evidence(row.patch));
    expect(v.outcome).toBe(row.outcome);
    expect(v.challengeable).toBe(row.challengeable);
    expect(v.equivocation).toBe(row.equivocation);
    expect(v.reasons.map((r) => r.code)).toEqual(row.codes);
    expect(v.epoch).toBe(EPOCH);
  });

  it('never calls a verdict challengeable unless it is fraud', () => {
    for (const row of table) {
      const v = judgeEpoch(evidence(row.patch));
      if (v.challengeable) expect(v.outcome).toBe('fraud');
    }
  });

  it('every fault of the catalogue that changes an epoch root is judged fraud at that epoch, and only there', () => {
    let caught = 0;
    for (const f of faultyRoots) {
      honest.epochs.forEach((e, i) => {
        const claimed = f.epochs[i]?.root ?? OTHER;
        const v = judgeEpoch(
          evidence({
            epoch: e.epoch,
            reexecution: { complete: true, root: e.root },
            kickoff: seenKickoff({ epoch: e.epoch, stateRoot: claimed }),
            l2: l2({ commitment: { status: 'committed', root: claimed, depth: 12 } }),
          }),
        );
        const differs = bytesToHex(claimed) !== bytesToHex(e.root);
        expect(v.outcome).toBe(differs ? 'fraud' : 'valid');
        expect(v.challengeable).toBe(differs);
        if (differs) caught++;
      });
    }
    // The workload makes the faults fire: at least some epochs must differ, or the test proves nothing.
    expect(caught).toBeGreaterThan(0);
  });

  it('an honest operator over every epoch of a 2000-input workload: zero fraud verdicts', () => {
    const w = generateWorkload({ seed: 81, inputs: 2000, epochLength: 30 });
    const r = reexecute(w.inputs, { genesis: w.genesis });
    expect(r.epochs.length).toBeGreaterThanOrEqual(50);
    const outcomes = r.epochs.map(
      (e) =>
        judgeEpoch(
          evidence({
            epoch: e.epoch,
            reexecution: { complete: true, root: e.root },
            kickoff: seenKickoff({ epoch: e.epoch, stateRoot: Uint8Array.from(e.root) }),
            l2: l2({ commitment: { status: 'committed', root: Uint8Array.from(e.root), depth: 12 } }),
          }),
        ).outcome,
    );
    expect(new Set(outcomes)).toEqual(new Set(['valid']));
  });
});
