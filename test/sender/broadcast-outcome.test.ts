import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, BroadcastRejectedError } from '../../src/bitcoin/backends/errors.ts';
import { classifyBroadcastError, classifyRejectReason } from '../../src/sender/broadcast-outcome.ts';
import { rateAfterRefusal } from '../../src/sender/rebroadcast.ts';

// Reject reasons as Bitcoin Core 26 and the simnet word them (and Esplora passes them through).
const cases: [string, string][] = [
  ['txn-already-in-mempool', 'already-known'],
  ['txn-same-nonwitness-data-in-mempool', 'already-known'],
  ['Transaction outputs already in utxo set', 'already-known'],
  ['txn-already-known', 'already-known'],
  ['bad-txns-inputs-missingorspent', 'conflict'],
  ['missing-inputs', 'conflict'],
  ['txn-mempool-conflict', 'conflict'],
  ['replacement-adds-unconfirmed, replacement abc adds unconfirmed input, idx 1', 'conflict'],
  ['min relay fee not met, 100 < 141', 'fee-too-low'],
  ['mempool min fee not met, 166 < 4000', 'fee-too-low'],
  [
    'insufficient fee, rejecting replacement ab, less fees than conflicting txs; 0.00001 < 0.0001',
    'fee-too-low',
  ],
  ['mempool full', 'fee-too-low'],
  ['non-BIP68-final', 'premature'],
  ['non-final', 'premature'],
  ['Unspendable output exceeds maximum configured by user (maxburnamount)', 'refused'],
  ['Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)', 'refused'],
  ['max-fee-exceeded', 'refused'],
  ['mandatory-script-verify-flag-failed (Invalid Schnorr signature)', 'refused'],
  ['non-mandatory-script-verify-flag (Witness program was passed an empty witness)', 'refused'],
  ['dust', 'refused'],
  ['scriptpubkey', 'refused'],
  ['tx-size', 'refused'],
];

describe('broadcast outcomes', () => {
  it.each(cases)('%s → %s', (reason, kind) => {
    expect(classifyRejectReason(reason).kind).toBe(kind);
  });

  it('reads what a fee refusal asks for', () => {
    const relay = classifyRejectReason('min relay fee not met, 100 < 141');
    expect(relay).toMatchObject({ kind: 'fee-too-low', neededFee: 141n });
    const less = classifyRejectReason(
      'insufficient fee, rejecting replacement ab, less fees than conflicting txs; 0.00001000 < 0.00012345',
    );
    expect(less).toMatchObject({ neededFee: 12_346n });
    const extra = classifyRejectReason(
      'insufficient fee, rejecting replacement ab, not enough additional fees to relay; 0.00000100 < 0.00000263',
    );
    expect(extra).toMatchObject({ neededExtra: 163n });
    const rate = classifyRejectReason(
      'insufficient fee, rejecting replacement ab; new feerate 0.00001000 BTC/kvB <= old feerate 0.00002000 BTC/kvB',
    );
    expect(rate).toMatchObject({ neededRate: 2001n });
    const simRate = classifyRejectReason(
      'insufficient fee, rejecting replacement ab; new feerate 1.000 sat/vB <= old feerate 2.500 sat/vB',
    );
    expect(simRate).toMatchObject({ neededRate: 2501n });
  });

  it('a rebuilt transaction pays at least what the node asked, and more than it paid', () => {
    const asked = classifyRejectReason('min relay fee not met, 100 < 1410');
    if (asked.kind !== 'fee-too-low') throw new Error('not a fee refusal');
    // 141 vB paying 100 sat; the node wants 1410 sat: 10,000 sat/kvB.
    expect(rateAfterRefusal(asked, 100n, 141, 1000n)).toBe(10_000n);
    const vague = classifyRejectReason('mempool full');
    if (vague.kind !== 'fee-too-low') throw new Error('not a fee refusal');
    expect(rateAfterRefusal(vague, 141_000n, 141, 1000n)).toBe(1_001_000n);
  });

  it('errors that are not a node’s answer are unavailable (retried), never swallowed', () => {
    expect(classifyBroadcastError(new BroadcastRejectedError('txn-mempool-conflict', -26)).kind).toBe(
      'conflict',
    );
    expect(classifyBroadcastError(new BackendUnavailableError('core-rpc', 'ECONNREFUSED', 3)).kind).toBe(
      'unavailable',
    );
    expect(classifyBroadcastError(new Error('socket hang up')).kind).toBe('unavailable');
  });
});
