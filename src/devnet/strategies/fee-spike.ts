/**
 * A fee spike while the challenge is in flight: as soon as a challenge of a wrong claim is in the
 * mempool, blocks start taking only transactions paying the spike rate and the estimate says so; the
 * spike ends once that challenge confirmed. The watcher must bump its challenge (below its cap) in time.
 * With `lyingBackend`, the watcher reads Bitcoin through a front that also reports its challenge
 * confirmed while it is not, so it has no reason to bump.
 */
import { EsploraBackend } from '../../bitcoin/backends/esplora.ts';
import { startHostileEsplora } from '../hostile-esplora.ts';
import type { OperatorApi, OperatorHooks, OperatorStrategy } from './types.ts';

/** Below the devnet watcher's cap (50 sat/vB): a watcher that bumps can pay it. */
const SPIKE_SAT_VB = 20;

function spikeHooks(): OperatorHooks {
  let spiking: { epoch: bigint } | undefined;
  let done = false;
  return {
    round: async (api: OperatorApi) => {
      if (spiking) {
        const c = api.claims().find((x) => x.epoch === spiking?.epoch);
        if (c && c.state !== 'kicked-off') {
          api.market.set(undefined, undefined);
          api.say(`the fee spike ends (epoch ${c.epoch}'s connector A is spent in a block)`);
          spiking = undefined;
          done = true;
        }
        return;
      }
      if (done) return;
      for (const c of api.claims()) {
        if (c.fraud !== true || c.state !== 'kicked-off') continue;
        const spend = await api.bitcoin.backend.getOutspend(c.kickoffTxid, 0);
        if (!spend.spent || spend.status?.confirmed) continue;
        api.market.set(SPIKE_SAT_VB, SPIKE_SAT_VB);
        spiking = { epoch: c.epoch };
        api.say(`a fee spike to ${SPIKE_SAT_VB} sat/vB while epoch ${c.epoch}'s challenge is in the mempool`);
        return;
      }
    },
  };
}

export const feeSpikeStrategy: OperatorStrategy = {
  name: 'fee-spike',
  doc: `while the first challenge is in the mempool, blocks take only transactions paying ${SPIKE_SAT_VB} sat/vB (and the estimate says so)`,
  expect: 'slashed',
  simnetOnly: true,
  hooks: spikeHooks,
};

export const fakeConfirmationsStrategy: OperatorStrategy = {
  name: 'lying-backend-fake-confirmations',
  doc: "the watcher's Esplora front reports unconfirmed transactions confirmed, during a fee spike that keeps its challenge out of blocks",
  expect: 'slashed-or-alert',
  simnetOnly: true,
  hooks: spikeHooks,
  watcherBackend: async (bitcoin) => hostileBackend(bitcoin, 'fake-confirmations'),
};

export async function hostileBackend(
  bitcoin: Parameters<NonNullable<OperatorStrategy['watcherBackend']>>[0],
  mode: Parameters<typeof startHostileEsplora>[1],
) {
  if (!bitcoin.simnet) throw new Error('a hostile Esplora front needs the in-process simnet');
  const proxy = await startHostileEsplora(bitcoin.simnet.esploraUrl, mode);
  return {
    backend: new EsploraBackend({ baseUrl: proxy.url, retry: { attempts: 3, baseDelayMs: 20 } }),
    describe: `a hostile Esplora front (${mode}) at ${proxy.url}`,
    stop: proxy.stop,
  };
}
