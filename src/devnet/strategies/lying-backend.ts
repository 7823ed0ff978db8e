/**
 * A Bitcoin backend that lies to the watcher (the operator controls its data source): a hostile
 * Esplora front in front of simnet that hides the spends of the assert (the watcher does not see the
 * operator answer its challenge), or answers garbage every third request. The watcher may be blinded;
 * it must never be blinded silently.
 */
import { hostileBackend } from './fee-spike.ts';
import type { OperatorStrategy } from './types.ts';

export const hideSpendsStrategy: OperatorStrategy = {
  name: 'lying-backend-hide-spends',
  doc: "the watcher's Esplora front hides every spend of an output other than vout 0 (the assert is invisible); the operator asserts",
  expect: 'slashed-or-alert',
  simnetOnly: true,
  hooks: () => ({}),
  watcherBackend: async (bitcoin) => hostileBackend(bitcoin, 'hide-spends'),
};

export const garbageStrategy: OperatorStrategy = {
  name: 'lying-backend-garbage',
  doc: "the watcher's Esplora front answers every third request with garbage (HTTP 200); the operator asserts",
  expect: 'slashed-or-alert',
  simnetOnly: true,
  hooks: () => ({}),
  watcherBackend: async (bitcoin) => hostileBackend(bitcoin, 'garbage'),
};
