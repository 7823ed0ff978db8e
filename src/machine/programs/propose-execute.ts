/**
 * propose and execute in the governance program (docs/protocol.md §5, §23). Not written yet: both fault
 * the run on purpose, so a run never silently skips them.
 */
import type { Assembler } from '../assembler.ts';
import type { ProgramFault } from './faults.ts';
import { emitFault, type Scratch } from './lib.ts';
import type { ProposalRuleVars } from './proposal-rules.ts';

/** The slots propose and execute read besides a proposal rule's own. */
export type ProposeExecuteVars = ProposalRuleVars & {
  /** Propose's second and third arguments: the action count and the actionsHash. */
  readonly arg1: number;
  readonly arg2: number;
};

export function proposeRule(a: Assembler, s: Scratch, _v: ProposeExecuteVars, _fault: ProgramFault): void {
  a.label('rule.propose');
  emitFault(a, s);
}

export function executeRule(a: Assembler, s: Scratch, _v: ProposeExecuteVars, _fault: ProgramFault): void {
  a.label('rule.execute');
  emitFault(a, s);
}
