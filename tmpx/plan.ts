import { gameKeyPlan } from '../src/dispute/game/key-plan.ts';
import { MAINNET_SEARCH, REGTEST_SEARCH } from '../src/dispute/game/grid.ts';
import { wotsParameters } from '../src/dispute/winternitz/parameters.ts';
for (const s of [MAINNET_SEARCH, REGTEST_SEARCH]) {
  const c = gameKeyPlan(s).filter((e) => e.signer === 'challenger');
  const bytes = c.reduce((n, e) => n + 20 * wotsParameters(e.bytes).totalDigits, 0);
  console.log(s.depth, c.length, bytes, c.map((e) => e.label).join(' '));
}
