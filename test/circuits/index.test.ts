/** The step circuits a configuration can name, and the configuration key that names one. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_STEP_CIRCUIT_ID,
  STEP_CIRCUIT_IDS,
  STEP_CIRCUITS,
  stepCircuitById,
} from '../../circuits/index.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { defaultConfig, loadConfig } from '../../src/config/load.ts';

describe('step circuits', () => {
  it('the ids a configuration may name are exactly the circuits there are', () => {
    expect([...STEP_CIRCUIT_IDS].sort()).toEqual(STEP_CIRCUITS.map((c) => c.id).sort());
    for (const id of STEP_CIRCUIT_IDS) expect(stepCircuitById(id).id).toBe(id);
    expect(STEP_CIRCUIT_IDS).toContain(DEFAULT_STEP_CIRCUIT_ID);
  });

  it('dispute.circuit defaults to the default circuit and refuses an unknown one, naming the key', () => {
    expect(defaultConfig().dispute.circuit).toBe(DEFAULT_STEP_CIRCUIT_ID);
    let err: unknown;
    try {
      loadConfig({ flags: { 'dispute.circuit': 'sha256-v9' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.key)).toContain('dispute.circuit');
  });
});
