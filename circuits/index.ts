/**
 * The step circuits a graph can name (its `circuit` id). The watcher expects the one its configuration
 * names (`dispute.circuit`); a graph naming another is refused at import.
 */
import type { StepCircuit } from '../src/dispute/graph/scripts.ts';
import { identityStepCircuit } from './identity.ts';

export const STEP_CIRCUITS: readonly StepCircuit[] = [identityStepCircuit];

export const STEP_CIRCUIT_IDS = ['test-identity-v1'] as const;
export type StepCircuitId = (typeof STEP_CIRCUIT_IDS)[number];

/** The circuit graphs use until the governance step circuits land (docs/protocol.md §21). */
export const DEFAULT_STEP_CIRCUIT_ID: StepCircuitId = 'test-identity-v1';

export function stepCircuitById(id: StepCircuitId): StepCircuit {
  const found = STEP_CIRCUITS.find((c) => c.id === id);
  // STEP_CIRCUIT_IDS and STEP_CIRCUITS are kept together; a test checks they name the same circuits.
  if (!found) throw new RangeError(`no step circuit ${id}`);
  return found;
}
