/**
 * The catalogue faults (src/governance/faults.ts) as builds of the governance program: the program an
 * operator running that faulty rule executes. Each build differs from the honest program only in the
 * code of the one rule the fault breaks, so comparing its trace with the honest trace finds the first
 * micro-step the fault produces (docs/protocol.md §23), the step a disprove leaf then judges.
 */

/** Every catalogue fault, by its catalogue name (a test keeps this list equal to `FAULTS`). */
export const PROGRAM_FAULTS = [
  'delegator-override-ignored',
  'quorum-not-checked',
  'approval-threshold-off-by-one',
  'out-of-bounds-applied',
  'canceled-proposal-executed',
  'timelock-ignored',
  'vote-counted-twice',
  'power-cap-not-applied',
  'tie-break-flipped',
  'commission-not-taken',
  'rewards-rounded-up',
  'unstake-keeps-power',
] as const;

/** A catalogue fault compiled into the program, or undefined for the honest program. */
export type ProgramFault = (typeof PROGRAM_FAULTS)[number] | undefined;

export const isProgramFault = (name: string): name is NonNullable<ProgramFault> =>
  (PROGRAM_FAULTS as readonly string[]).includes(name);
