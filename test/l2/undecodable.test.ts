/**
 * Logs that are not governance inputs — another contract's events, or a watched contract's event with
 * data that does not decode — are counted, logged with their position and skipped; ingestion goes on and
 * every real input still arrives.
 */

import { toEventSelector } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorkload } from '../../src/governance/workload.ts';
import { CursorStore } from '../../src/l2/cursor-store.ts';
import { createLogDecoder, entryKind, type L2Entry } from '../../src/l2/decode.ts';
import { GovernanceDerivation } from '../../src/l2/derivation.ts';
import { watchedAddresses } from '../../src/l2/governance-contracts.ts';
import { L2Ingester } from '../../src/l2/ingester.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { type Chain, memoryLogger, metricValue, startChain, testMetrics, testRedis } from './helpers.ts';

describe('undecodable and unexpected logs', () => {
  let chain: Chain;
  let r: ReturnType<typeof testRedis>;
  let inputs: number;

  beforeAll(async () => {
    const w = generateWorkload({ seed: 31, inputs: 80, epochLength: 20 });
    inputs = w.inputs.length;
    chain = await startChain(w.genesis);
    await chain.driver.replay(w.inputs);
    // A "Staked" event with no data from the Staking address: the topic is known, the data is not.
    const topic = toEventSelector('Staked(address,uint256)').slice(2);
    const code = `0x7f${topic}60006000a100`;
    await chain.rpc.request('anvil_setCode', [chain.deployment.addresses.staking, code]);
    await chain.rpc.request('eth_sendTransaction', [
      { from: chain.deployment.deployer, to: chain.deployment.addresses.staking, data: '0x', gas: '0x30000' },
    ]);
    await chain.rpc.mine(1);
    r = testRedis();
  });
  afterAll(async () => {
    await r?.cleanup();
    await chain?.stop();
  });

  it('are counted, logged and skipped without stopping', async () => {
    const m = testMetrics();
    const log = memoryLogger();
    const { addresses } = chain.deployment;
    const derivation = new GovernanceDerivation(chain.deployment.genesis);
    const ingester = new L2Ingester<L2Entry>({
      rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl] }),
      store: new CursorStore<L2Entry>(r.redis, r.prefix),
      // The token is watched too, so its Transfer/Approval logs arrive: unexpected for the decoder.
      addresses: [...watchedAddresses(addresses), addresses.token],
      decode: createLogDecoder(addresses),
      derivation,
      startBlock: chain.deployment.startBlock,
      maxRange: 50n,
      metrics: m.metrics,
      logger: log.logger,
      entryKind,
    });
    const head = await chain.rpc.blockNumber();
    await ingester.syncTo(head);
    expect(ingester.cursor?.number).toBe(head);
    expect(derivation.inputs.length).toBe(inputs);
    const skipped = log.records.filter((x) => x.msg === 'skipping an undecodable L2 log');
    expect(skipped.length).toBeGreaterThan(1);
    expect(await metricValue(m.registry, 'vigil_l2_undecodable_logs_total')).toBe(skipped.length);
    // Both kinds were seen: the token's events and the malformed Staked.
    expect(skipped.some((x) => String(x.address).toLowerCase() === addresses.token.toLowerCase())).toBe(true);
    expect(skipped.some((x) => String(x.address).toLowerCase() === addresses.staking.toLowerCase())).toBe(
      true,
    );
    expect(await metricValue(m.registry, 'vigil_l2_inputs_total')).toBe(inputs);
  });
});
