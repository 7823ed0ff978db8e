/** The committed artifacts are exactly what the pinned solc makes of the committed sources. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARTIFACTS_DIR, compileContracts } from '../../src/l2/contracts/build.ts';

describe('contract artifacts', () => {
  // One compile for the file (solc-js takes several seconds).
  const compiled = compileContracts();

  it('recompiling the sources reproduces every artifact byte for byte', () => {
    for (const [name, content] of compiled) {
      expect(readFileSync(join(ARTIFACTS_DIR, name), 'utf8'), name).toBe(content);
    }
  });

  it('the artifacts directory holds nothing the build does not produce', () => {
    expect(readdirSync(ARTIFACTS_DIR).sort()).toEqual([...compiled.keys()].sort());
  });

  it('every artifact has an ABI and creation bytecode', () => {
    for (const [name, content] of compiled) {
      if (!name.endsWith('.json')) continue;
      const a = JSON.parse(content) as { abi: unknown[]; bytecode: string };
      expect(a.abi.length, name).toBeGreaterThan(0);
      expect(a.bytecode, name).toMatch(/^0x(?:[0-9a-f]{2})+$/);
    }
  });
});
