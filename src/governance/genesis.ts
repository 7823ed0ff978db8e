/** The genesis state, from options checked against the protocol bounds (docs/protocol.md). */

import { InvalidGenesisError } from './errors.ts';
import { isHash32, isName } from './inputs.ts';
import { DEFAULT_PARAMS, isParamKey, PARAM_SPECS, type ParamKey, paramInBounds } from './params.ts';
import { buildGenesisState, type GenesisOptions, type GovernanceState } from './state.ts';

/** Validates genesis options against the protocol bounds and builds the genesis state. */
export function createGenesisState(options: GenesisOptions = {}): GovernanceState {
  const params = { ...DEFAULT_PARAMS } as Record<ParamKey, bigint>;
  for (const [key, value] of Object.entries(options.params ?? {})) {
    if (!isParamKey(key)) throw new InvalidGenesisError(`unknown parameter "${key}"`);
    if (typeof value !== 'bigint' || !paramInBounds(key, value)) {
      const spec = PARAM_SPECS[key];
      throw new InvalidGenesisError(
        `parameter ${key} = ${String(value)} is outside [${spec.min}, ${spec.max}]`,
      );
    }
    params[key] = value;
  }
  const seen = new Set<string>();
  for (const m of options.modules ?? []) {
    if (!isName(m.id)) throw new InvalidGenesisError(`module id "${m.id}" is not 1..32 of [A-Za-z0-9_-]`);
    if (seen.has(m.id)) throw new InvalidGenesisError(`module "${m.id}" is listed twice`);
    seen.add(m.id);
    if (m.version < 1n || m.version >= 1n << 64n) {
      throw new InvalidGenesisError(`module "${m.id}" version ${m.version} is outside [1, 2^64)`);
    }
    if (!isHash32(m.codeHash)) throw new InvalidGenesisError(`module "${m.id}" code hash is not 32-byte hex`);
  }
  return buildGenesisState(params, options);
}
