/**
 * The chains of a devnet run: the L2 on anvil (governance contracts, seeded workload, the operator's
 * commitments) and Bitcoin (the in-process simnet or an external regtest node) with the watcher's
 * wallet funded.
 */

import type { Logger } from 'pino';
import { addressForScript } from '../bitcoin/codec/address.ts';
import { connectDevnetBitcoin, type DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import { type L2Devnet, type L2DevnetRun, startL2Devnet } from '../l2/devnet.ts';
import { isSequencerFault, SEQUENCER_FAULT_DOCS } from '../l2/rollup-sequencer.ts';
import type { RedisClient } from '../store/redis.ts';
import {
  DEVNET_NETWORK,
  watcherScript as devnetWatcherScript,
  type Say,
  type StopStack,
  WATCHER_COINS,
} from './run-context.ts';
import type { OperatorChoice } from './run-operator.ts';
import { redactUrl } from './run-story.ts';

/** The L2 started and driven to the end: contracts, workload, operator commitments. */
export async function startL2Side(
  o: {
    redis: RedisClient;
    epochs?: number;
    seed?: number;
    scenarioFile?: string;
    choice: OperatorChoice;
    logger: Logger;
  },
  stops: StopStack,
  say: Say,
): Promise<{ l2: L2Devnet; l2Run: L2DevnetRun }> {
  const { faultName, executor, strategy } = o.choice;
  const l2 = await startL2Devnet({
    redis: o.redis,
    epochs: o.epochs,
    seed: o.seed,
    scenarioFile: o.scenarioFile,
    fault: faultName,
    logger: o.logger,
  });
  stops.push(() => l2.stop());
  say(`L2: anvil at ${l2.rpcUrl}, governance contracts deployed from block ${l2.deployment.startBlock}`);
  if (isSequencerFault(faultName)) {
    say(`L2 sequencer: faulty — ${faultName} (${SEQUENCER_FAULT_DOCS[faultName]})`);
    say(`operator: honest; strategy ${strategy.name}: ${strategy.doc}`);
  } else {
    say(
      `operator: ${faultName === 'none' ? 'honest' : `faulty — ${faultName} (breaks ${executor.breaks})`}; strategy ${strategy.name}: ${strategy.doc}`,
    );
  }
  const l2Run = await l2.run();
  say(
    `L2: ${l2Run.inputs} governance transactions, ${l2Run.epochs.length} epochs, each committed by the operator on the L2`,
  );
  return { l2, l2Run };
}

export type BitcoinSide = {
  bitcoin: DevnetBitcoin;
  /** The watcher wallet's output script and address, funded with `WATCHER_COINS` mature coins. */
  watcherScript: Uint8Array;
  watcherAddress: string;
};

/** Bitcoin connected, the watcher's wallet funded and its coins matured. */
export async function startBitcoinSide(
  o: { bitcoinRpc?: string; bitcoinCookieFile?: string },
  stops: StopStack,
  say: Say,
): Promise<BitcoinSide> {
  const bitcoin = await connectDevnetBitcoin(
    o.bitcoinRpc ? { bitcoinRpc: o.bitcoinRpc, cookieFile: o.bitcoinCookieFile } : {},
  );
  stops.push(() => bitcoin.stop());
  say(
    `bitcoin: ${o.bitcoinRpc ? `regtest node at ${redactUrl(o.bitcoinRpc)}` : 'in-process simnet (every transaction checked by Vigil’s interpreter)'}`,
  );
  const watcherScript = devnetWatcherScript();
  const watcherAddress = addressForScript(watcherScript, DEVNET_NETWORK) as string;
  await bitcoin.mine(WATCHER_COINS, watcherAddress);
  await bitcoin.mine(100);
  return { bitcoin, watcherScript, watcherAddress };
}
