import { describe, expect, it } from 'vitest';
import { identityStepCircuit } from '../../../circuits/identity.ts';
import {
  graphChallengeDecision,
  SpendingRefusedError,
  spendDecision,
} from '../../../src/dispute/plan/spend-policy.ts';

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

  it('a Part II graph on a test circuit is never challenged on mainnet, whatever the switch; elsewhere as any spend', () => {
    expect(identityStepCircuit.test).toBe(true);
    const real = { test: false };
    expect(graphChallengeDecision('challenge', 'mainnet', true, identityStepCircuit)).toBe('test-circuit');
    expect(graphChallengeDecision('dry-run', 'mainnet', true, identityStepCircuit)).toBe('test-circuit');
    expect(graphChallengeDecision('watch', 'mainnet', true, identityStepCircuit)).toBe('withhold');
    expect(graphChallengeDecision('challenge', 'mainnet', true, real)).toBe('broadcast');
    expect(graphChallengeDecision('challenge', 'regtest', false, identityStepCircuit)).toBe('broadcast');
    expect(graphChallengeDecision('challenge', 'signet', false, identityStepCircuit)).toBe('broadcast');
    expect(() => graphChallengeDecision('challenge', 'mainnet', false, real)).toThrow(SpendingRefusedError);
  });
});
