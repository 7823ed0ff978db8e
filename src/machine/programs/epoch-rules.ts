/**
 * endEpoch in the governance program (docs/protocol.md §6, §23). Not written yet: it faults the run on
 * purpose, so a run never silently skips it.
 */
import type { Assembler } from '../assembler.ts';
import type { ProgramFault } from './faults.ts';
import { emitFault, type Scratch } from './lib.ts';

export function endEpochRule(a: Assembler, s: Scratch, _fault: ProgramFault): void {
  a.label('rule.endEpoch');
  emitFault(a, s);
}
