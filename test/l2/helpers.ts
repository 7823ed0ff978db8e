/** Shared test setup: a real anvil with the governance contracts, a real Redis, unique key prefixes. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Address } from 'viem';
import type { GenesisOptions } from '../../src/governance/index.ts';
import { type AnvilInstance, type AnvilOptions, startAnvil } from '../../src/l2/anvil.ts';
import { compileContracts } from '../../src/l2/contracts/build.ts';
import type { Deployment, DeployOptions } from '../../src/l2/deploy.ts';
import { DEVNET_L2_GAS_LIMIT, deployOnAnvil, genesisGasLimit } from '../../src/l2/devnet.ts';
import { AnvilRpc, WorkloadDriver } from '../../src/l2/driver.ts';
import { createL2Metrics, type L2Metrics } from '../../src/l2/metrics.ts';

export const DEPLOYER = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266' as Address;
export const OPERATOR = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8' as Address;

export type Chain = {
  anvil: AnvilInstance;
  rpc: AnvilRpc;
  deployment: Deployment;
  driver: WorkloadDriver;
  stop: () => Promise<void>;
};

/**
 * anvil with the contracts deployed from `genesis`. The chain runs with the genesis gas limit, which is
 * `DEVNET_L2_GAS_LIMIT` unless `genesis` sets one (the driver gives every transaction 15M gas and mines a
 * block's inputs together), so Vigil's header checks find the chain obeying its governance.
 */
export async function startChain(
  genesisIn: GenesisOptions,
  anvilOptions: AnvilOptions = {},
  bytecode?: DeployOptions['bytecode'],
): Promise<Chain> {
  const genesis = { ...genesisIn, params: { l2GasLimit: DEVNET_L2_GAS_LIMIT, ...genesisIn.params } };
  const anvil = await startAnvil({ gasLimit: genesisGasLimit(genesis), ...anvilOptions });
  const deployment = await deployOnAnvil(anvil.rpcUrl, genesis, bytecode);
  const rpc = new AnvilRpc(anvil.rpcUrl);
  const driver = new WorkloadDriver(rpc, deployment.addresses, DEPLOYER);
  return { anvil, rpc, deployment, driver, stop: () => anvil.stop() };
}

export function testRedis(): { redis: Redis; prefix: string; cleanup: () => Promise<void> } {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: false, maxRetriesPerRequest: 3 });
  const prefix = `vigil-test-${randomUUID()}`;
  return {
    redis,
    prefix,
    cleanup: async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
}

export function testMetrics(): { registry: Registry; metrics: L2Metrics } {
  const registry = new Registry();
  return { registry, metrics: createL2Metrics(registry) };
}

/** A pino logger that keeps records in memory, for assertions on what was logged. */
export function memoryLogger(): {
  logger: pino.Logger;
  records: { level: number; msg: string; [k: string]: unknown }[];
} {
  const records: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        records.push(JSON.parse(line) as { level: number; msg: string });
      },
    },
  );
  return { logger, records };
}

export async function metricValue(registry: Registry, name: string): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return (m?.values ?? []).reduce((s, v) => s + v.value, 0);
}

/**
 * Creation bytecode of the governance contracts with their sources rewritten: a deliberately wrong L2 for
 * tests. Each `[file, from, to]` must match once, so a source edit that moves the line fails loudly.
 */
export function patchedBytecode(
  patches: readonly (readonly [file: string, from: string, to: string])[],
): NonNullable<DeployOptions['bytecode']> {
  const files = compileContracts((file, source) => {
    let out = source;
    for (const [f, from, to] of patches) {
      if (f !== file) continue;
      if (out.split(from).length !== 2)
        throw new Error(`patch for ${f} does not match exactly once: ${from}`);
      out = out.replace(from, to);
    }
    return out;
  });
  const bytecode: NonNullable<DeployOptions['bytecode']> = {};
  for (const [file] of patches) {
    const name = file.replace(/\.sol$/, '') as keyof NonNullable<DeployOptions['bytecode']>;
    const json = files.get(`${name}.json`);
    if (!json) throw new Error(`no artifact for ${name}`);
    bytecode[name] = (JSON.parse(json) as { bytecode: string }).bytecode;
  }
  return bytecode;
}
