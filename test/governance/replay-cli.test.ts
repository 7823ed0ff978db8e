import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runReplay } from '../../src/cli/commands/replay.ts';
import { main } from '../../src/cli/main.ts';
import { bytesToHex } from '../../src/core/bytes.ts';
import {
  FAULTS,
  InputsFileError,
  parseInputsFile,
  reexecute,
  serializeInputsFile,
} from '../../src/governance/index.ts';
import { generateWorkload } from '../../src/governance/workload.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const example = join(root, 'docs/examples/governance-inputs.json');
const dir = mkdtempSync(join(tmpdir(), 'vigil-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeTemp(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Runs `vigil …` in-process and captures what it prints. */
async function vigil(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
    out += String(c);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => {
    err += String(c);
    return true;
  });
  try {
    const code = await main(['node', 'vigil', ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('inputs file', () => {
  it('round-trips a workload through serialize and parse with the same roots', () => {
    const w = generateWorkload({ seed: 9, inputs: 200 });
    const parsed = parseInputsFile(serializeInputsFile(w));
    expect(parsed.inputs).toEqual(w.inputs);
    expect(bytesToHex(reexecute(parsed.inputs, { genesis: parsed.genesis }).root)).toBe(
      bytesToHex(reexecute(w.inputs, { genesis: w.genesis }).root),
    );
  });

  it.each([
    { name: 'not JSON', text: '{', message: /not valid JSON/ },
    { name: 'wrong format tag', text: '{"format":"x","inputs":[]}', message: /format/ },
    {
      name: 'amount as a JSON number',
      text: JSON.stringify({
        format: 'vigil-governance-inputs/1',
        inputs: [
          { block: '1', txIndex: 0, logIndex: 0, kind: 'stake', sender: `0x${'aa'.repeat(20)}`, amount: 5 },
        ],
      }),
      message: /inputs\[0\]\.amount/,
    },
    {
      name: 'checksummed address',
      text: JSON.stringify({
        format: 'vigil-governance-inputs/1',
        inputs: [{ block: '1', txIndex: 0, logIndex: 0, kind: 'endEpoch', sender: `0x${'AA'.repeat(20)}` }],
      }),
      message: /inputs\[0\]\.sender: expected a lowercase 0x address/,
    },
    {
      name: 'unknown parameter at genesis',
      text: JSON.stringify({
        format: 'vigil-governance-inputs/1',
        genesis: { params: { foo: '1' } },
        inputs: [],
      }),
      message: /genesis\.params/,
    },
    {
      name: 'a value above uint256',
      text: JSON.stringify({
        format: 'vigil-governance-inputs/1',
        inputs: [
          {
            block: '1',
            txIndex: 0,
            logIndex: 0,
            kind: 'stake',
            sender: `0x${'aa'.repeat(20)}`,
            amount: `1${'0'.repeat(78)}`,
          },
        ],
      }),
      message: /inputs\[0\]\.amount/,
    },
  ])('rejects $name with a message naming the problem', ({ text, message }) => {
    expect(() => parseInputsFile(text)).toThrow(InputsFileError);
    expect(() => parseInputsFile(text)).toThrow(message);
  });
});

describe('vigil replay', () => {
  it('prints the root of every epoch of the documented example', async () => {
    const parsed = parseInputsFile(readFileSync(example, 'utf8'));
    const expected = reexecute(parsed.inputs, { genesis: parsed.genesis });
    const { code, out } = await vigil('replay', '--inputs', example);
    expect(code).toBe(0);
    expect(expected.epochs.length).toBe(2);
    for (const e of expected.epochs)
      expect(out).toContain(`epoch ${e.epoch}  (step ${e.stepIndex})  root 0x${bytesToHex(e.root)}`);
  });

  it('--json --trace gives one step per input and the epoch roots', async () => {
    const { code, out } = await vigil('replay', '--inputs', example, '--json', '--trace');
    expect(code).toBe(0);
    const json = JSON.parse(out) as {
      trace: { index: number; root: string }[];
      epochs: { step: number; root: string }[];
    };
    expect(json.trace.length).toBe(14);
    for (const e of json.epochs) expect(json.trace[e.step]?.root).toBe(e.root);
  });

  it('--fault names the first divergent step and the rule it evaluated', () => {
    const { text } = runReplay({ inputs: example, fault: 'delegator-override-ignored', json: true });
    const json = JSON.parse(text) as {
      fault: { divergence: { step: number; kind: string; rules: string[] } };
    };
    expect(json.fault.divergence.step).toBe(8);
    expect(json.fault.divergence.kind).toBe('vote');
    expect(json.fault.divergence.rules).toContain('vote.override');
  });

  it('every fault name is accepted; an unknown one is a usage error listing the known ones', async () => {
    for (const f of FAULTS) expect(() => runReplay({ inputs: example, fault: f.name })).not.toThrow();
    const { code, err } = await vigil('replay', '--inputs', example, '--fault', 'nope');
    expect(code).toBe(2);
    expect(err).toContain('unknown fault "nope"');
    expect(err).toContain('delegator-override-ignored');
  });

  it('exits 2 with a clear line for a missing option, a missing file and a bad file', async () => {
    const missing = await vigil('replay');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--inputs');
    const absent = await vigil('replay', '--inputs', join(dir, 'absent.json'));
    expect(absent.code).toBe(2);
    expect(absent.err).toContain('cannot read inputs file');
    const bad = writeTemp('bad.json', '{"format":"vigil-governance-inputs/1","inputs":[{"kind":"stake"}]}');
    const res = await vigil('replay', '--inputs', bad);
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/inputs\[0\]/);
  });

  it('warns on stderr when the reference rejects inputs of the file', async () => {
    const w = generateWorkload({ seed: 4, inputs: 30 });
    const replayed = { ...w, inputs: [...w.inputs, ...w.inputs.slice(0, 3)] }; // out of order: rejected
    const path = writeTemp('dupes.json', serializeInputsFile(replayed));
    const { code, out, err } = await vigil('replay', '--inputs', path);
    expect(code).toBe(0);
    expect(out).toContain('rejected 3');
    expect(err).toContain('rejected 3 input(s)');
  });

  it('runs as a real process with the documented exit codes', () => {
    const bin = join(root, 'bin/vigil.js');
    const ok = execFileSync(process.execPath, [bin, 'replay', '--inputs', example], { encoding: 'utf8' });
    expect(ok).toContain('final root 0x');
    const bad = spawnSync(process.execPath, [bin, 'replay', '--inputs', join(dir, 'absent.json')], {
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
  });
});
