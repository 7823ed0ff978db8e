/**
 * The operator's side of a devnet run: which operator (fault, strategy, behaviour), its view of the L2
 * feed and so its claims and what the run must find, and the operator itself on Bitcoin with the fee
 * market its strategy moves.
 */

import type { Logger } from 'pino';
import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import { VigilError } from '../core/errors.ts';
import { type Executor, executorByName, REFERENCE_EXECUTOR } from '../governance/index.ts';
import { createGovernanceIngester } from '../l2/governance-ingester.ts';
import { isSequencerFault } from '../l2/rollup-sequencer.ts';
import { L2Rpc } from '../l2/rpc.ts';
import type { RedisClient } from '../store/redis.ts';
import { createFeeMarket, type FeeMarket } from './fee-market.ts';
import { type DevnetOperator, type OperatorBehaviour, startDevnetOperator } from './operator.ts';
import { type DevnetPlan, planDevnet } from './plan.ts';
import type { Say } from './run-context.ts';
import { type ExpectedEnd, type OperatorStrategy, strategyByName } from './strategies/index.ts';

export type OperatorChoice = {
  /** A fault of the catalogue, a faulty sequencer (src/l2/rollup-sequencer.ts), or 'none' = honest. */
  faultName: string;
  executor: Executor;
  strategy: OperatorStrategy;
  behaviour: OperatorBehaviour;
};

/** The operator the options ask for; refuses a simnet-only strategy against an external node. */
export function chooseOperator(o: {
  fault?: string;
  behaviour?: OperatorBehaviour;
  strategy?: string;
  bitcoinRpc?: string;
}): OperatorChoice {
  const faultName = o.fault ?? 'none';
  // A sequencer fault breaks the L2's blocks, not the governance rules: the operator stays honest.
  const executor =
    faultName === 'none' || isSequencerFault(faultName) ? REFERENCE_EXECUTOR : executorByName(faultName);
  const strategy = strategyByName(o.strategy ?? o.behaviour ?? 'assert');
  const behaviour: OperatorBehaviour = strategy.name === 'never-assert' ? 'never-assert' : 'assert';
  if (strategy.simnetOnly && o.bitcoinRpc) {
    throw new VigilError(
      `The operator strategy ${strategy.name} needs the in-process simnet (its fee knob or its Esplora front)`,
      { metaMessages: ['Run it without --bitcoin-rpc.'] },
    );
  }
  return { faultName, executor, strategy, behaviour };
}

/** The operator's view of the feed, its claims, and what the run must find (told when a fault bites). */
export async function planOperatorClaims(
  o: {
    redis: RedisClient;
    prefix: string;
    rpcUrl: string;
    deployment: Parameters<typeof createGovernanceIngester>[0]['deployment'];
    choice: OperatorChoice;
    traceSteps: number;
  },
  say: Say,
): Promise<DevnetPlan> {
  const plan = await planFromChain(
    o.redis,
    o.prefix,
    o.rpcUrl,
    o.deployment,
    o.choice.executor,
    o.traceSteps,
    o.choice.strategy.expect,
  );
  if (plan.firstFault) {
    const f = plan.firstFault;
    say(
      `(the devnet knows: the fault first bites at epoch ${f.epoch}, step ${f.step} (${f.inputKind}), rule ${f.rule})`,
    );
  }
  return plan;
}

/** The challenge window in force during `epoch`, as the reference model's feed has it. */
function governedWindow(params: { challengeWindow: bigint } | undefined, epoch: bigint): bigint {
  if (params === undefined)
    throw new VigilError(`The devnet's feed has no parameters for epoch ${epoch}, whose end it saw`);
  return params.challengeWindow;
}

async function planFromChain(
  redis: RedisClient,
  prefix: string,
  rpcUrl: string,
  deployment: Parameters<typeof createGovernanceIngester>[0]['deployment'],
  executor: Executor,
  traceSteps: number,
  expect: ExpectedEnd,
): Promise<DevnetPlan> {
  const rpc = new L2Rpc({ urls: [rpcUrl] });
  // The feed as the chain has it; planDevnet re-executes it with the operator's executor, which keeps
  // what its own checks accept (a faulty operator) where the chain refused it by a rule.
  const feed = createGovernanceIngester({ rpc, redis, prefix, deployment, crossCheck: false });
  await feed.ingester.syncTo(await rpc.blockNumber());
  return planDevnet({
    inputs: feed.derivation.inputs,
    genesis: deployment.genesis,
    operator: executor,
    epochEnds: feed.derivation.epochEnds.map((e) => ({
      epoch: e.epoch,
      blockHash: e.blockHash,
      challengeWindow: governedWindow(feed.derivation.paramsOfEpoch(e.epoch), e.epoch),
    })),
    traceSteps,
    expect,
  });
}

/** The operator on Bitcoin, and the fee market its strategy starts it in (told when there is one). */
export async function startOperatorSide(
  o: { bitcoin: DevnetBitcoin; graphDir: string; choice: OperatorChoice; logger: Logger },
  say: Say,
): Promise<{ operator: DevnetOperator; market: FeeMarket }> {
  const { strategy } = o.choice;
  const market = createFeeMarket(o.bitcoin);
  const operator = await startDevnetOperator({
    bitcoin: o.bitcoin,
    graphDir: o.graphDir,
    behaviour: o.choice.behaviour,
    logger: o.logger,
    hooks: strategy.hooks(),
    market,
  });
  if (strategy.market) {
    market.set(strategy.market.floorSatVb, strategy.market.estimateSatVb);
    say(
      `bitcoin: a fee market — blocks take packages from ${strategy.market.floorSatVb ?? 0} sat/vB, the estimate is ${strategy.market.estimateSatVb ?? 'none'}`,
    );
  }
  return { operator, market };
}
