import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/core/bytes.ts';
import { BUNDLE_FORMAT, type DisputeBundle } from '../../src/dispute/records/bundle.ts';
import { disputeId } from '../../src/dispute/records/state-machine.ts';
import { asTxid, DisputeStore } from '../../src/dispute/records/store.ts';
import { cleanup, REDIS_URL } from '../../testkit/queue/scenario.ts';
import { runCli } from '../cli/run-cli.ts';

const prefix = `{vigil-test-${randomUUID()}}`;
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
const store = new DisputeStore(redis, prefix);
const kickoff = asTxid('cd'.repeat(32));
const id = disputeId(9n, kickoff);
const out = join(tmpdir(), `vigil-bundle-${randomUUID()}.json`);
const cli = (...args: string[]) => runCli([...args, '--redis-key-prefix', prefix]);

beforeAll(async () => {
  await store.open({
    id,
    epoch: 9n,
    kickoffTxid: kickoff,
    kickoffHeight: 120,
    opened: {
      challengeBy: 125,
      assertTimeoutFrom: 131,
      verdict: JSON.stringify({ outcome: 'fraud' }),
      graph: '{"format":"x"}',
    },
  });
  const challenge = asTxid('ef'.repeat(32));
  await store.note(
    id,
    { type: 'challenge-built', detail: { txid: challenge, fee: 300n, vsize: 150 } },
    {
      key: 'built',
      onlyIfAbsent: 'challenge',
      patch: { challenge: { txid: challenge, raw: hexToBytes('0200') } },
    },
  );
  await store.transition(id, 'challenged', { key: 'c', detail: { txid: challenge } });
});
afterAll(async () => {
  await cleanup(redis, prefix);
  await redis.quit();
  await rm(out, { force: true });
});

describe('vigil disputes', () => {
  it('list --json shows the dispute with its state and challenge', async () => {
    const r = await cli('disputes', 'list', '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: string; state: string; challengeTxid: string }[];
    expect(rows).toEqual([
      expect.objectContaining({ id, state: 'challenged', challengeTxid: 'ef'.repeat(32) }),
    ]);
  });

  it('show prints the state and the history in order', async () => {
    const r = await cli('disputes', 'show', id);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`dispute ${id}`);
    expect(r.stdout).toMatch(
      /1\. .* detected[\s\S]*2\. .* challenge-built[\s\S]*3\. .* transition detected→challenged/,
    );
  });

  it('show --json prints the record: state, deadlines, the challenge built, the graph and the history', async () => {
    const r = await cli('disputes', 'show', id, '--json');
    expect(r.code).toBe(0);
    const bundle = JSON.parse(r.stdout) as DisputeBundle;
    expect(bundle.format).toBe(BUNDLE_FORMAT);
    expect(bundle.dispute).toMatchObject({ id, epoch: '9', state: 'challenged', kickoffHeight: 120 });
    expect(bundle.dispute.deadlines.challengeBy).toBe(125);
    expect(bundle.transactions.challenge).toEqual({ txid: 'ef'.repeat(32), hex: '0200' });
    expect(bundle.graph).toEqual({ format: 'x' });
    expect(bundle.history.map((e) => e.type)).toEqual(['detected', 'challenge-built', 'transition']);
  });

  it('export reads the chains too: without the L2 contracts configured it says so, exit 3, and writes nothing', async () => {
    const r = await cli('disputes', 'export', id, '--out', out);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('vigil disputes export needs the L2 contracts');
    await expect(readFile(out, 'utf8')).rejects.toThrow();
  });

  it('an unknown id is one clear line (plus the known ids) and exit 1', async () => {
    const r = await cli('disputes', 'show', 'e1-knope');
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('No dispute e1-knope');
    expect(r.stderr).toContain(`Known: ${id}`);
  });
});
