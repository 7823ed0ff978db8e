import { describe, expect, it } from 'vitest';
import { SpendingRefusedError, spendDecision } from '../../../src/dispute/plan/spend-policy.ts';

describe('spending decision', () => {
  it.each([
    { mode: 'watch', network: 'mainnet', allow: false, out: 'withhold' },
    { mode: 'dry-run', network: 'mainnet', allow: false, out: 'build-only' },
    { mode: 'challenge', network: 'regtest', allow: false, out: 'broadcast' },
    { mode: 'challenge', network: 'mainnet', allow: true, out: 'broadcast' },
    { mode: 'challenge', network: 'mainnet', allow: false, out: 'refused' },
  ] as const)('$mode on $network (switch $allow) → $out', ({ mode, network, allow, out }) => {
    const run = () => spendDecision(mode, network, allow);
    if (out === 'refused') expect(run).toThrow(SpendingRefusedError);
    else expect(run()).toBe(out);
  });
});
