/**
 * Starts simnet in-process: one chain, Core's JSON-RPC and an Esplora-shaped REST front on loopback
 * (free ports, or fixed ones), and the knobs tests and the devnet need (fee spike, transient faults).
 * With a state directory, the chain, mempool, credentials and ports outlive a stop (`persist.ts`).
 */
import { randomBytes } from 'node:crypto';
import type { FeeRate } from '../codec/fee-rate.ts';
import { SimChain } from './chain.ts';
import { type EsploraErrorFormat, type EsploraFrontSettings, startEsploraFront } from './esplora-front.ts';
import { FaultInjector } from './faults.ts';
import type { RunningFront } from './http-front.ts';
import { openSimnetState, type SimnetJournal, type SimnetRestoreReport } from './persist.ts';
import { startRpcFront } from './rpc-front.ts';
import type { SimChainOptions } from './types.ts';

export type StartSimnetOptions = SimChainOptions & {
  /** RPC credentials; a random password by default. */
  rpcUser?: string;
  rpcPassword?: string;
  /** estimatesmartfee's answer at start; undefined = a quiet chain without estimates (Core's regtest). */
  feeRate?: FeeRate;
  esploraErrorFormat?: EsploraErrorFormat;
  /**
   * A directory to keep the chain in: restored at start when it holds one (blocks, then the saved
   * mempool; the recorded credentials and ports unless given here), recorded otherwise; every block
   * is appended as it connects, the mempool saved at stop. Absent: nothing is kept.
   */
  stateDir?: string;
  /** Listen on these loopback ports (default: the recorded ones with `stateDir`, else free ones). */
  rpcPort?: number;
  esploraPort?: number;
};

export type Simnet = {
  /** Core JSON-RPC endpoint, without credentials. */
  rpcUrl: string;
  rpcAuth: { user: string; password: string };
  /** Esplora API root. */
  esploraUrl: string;
  chain: SimChain;
  faults: FaultInjector;
  /** The state directory's journal (`saveMempool()`), when started with `stateDir`. */
  journal: SimnetJournal | undefined;
  /** What was restored from `stateDir` (undefined on a fresh start or without one). */
  restored: SimnetRestoreReport | undefined;
  /** Sets what estimatesmartfee and /fee-estimates answer (a fee spike; undefined: no estimate). */
  setFeeRate(rate: FeeRate | undefined): void;
  setEsploraErrorFormat(format: EsploraErrorFormat): void;
  /** Closes both fronts; with `stateDir`, saves the mempool and releases the directory. */
  stop(): Promise<void>;
};

export async function startSimnet(options: StartSimnetOptions = {}): Promise<Simnet> {
  const chain = new SimChain(options);
  chain.feeEstimate = options.feeRate;
  const faults = new FaultInjector();
  const opened = options.stateDir === undefined ? undefined : openSimnetState(options.stateDir, chain);
  const recorded = opened?.recorded;
  const rpcAuth = {
    user: options.rpcUser ?? recorded?.rpcUser ?? 'vigil',
    password: options.rpcPassword ?? recorded?.rpcPassword ?? randomBytes(16).toString('hex'),
  };
  const settings: EsploraFrontSettings = { errorFormat: options.esploraErrorFormat ?? 'modern' };
  let rpc: RunningFront | undefined;
  let esplora: RunningFront;
  try {
    rpc = await startRpcFront(chain, faults, rpcAuth, options.rpcPort ?? recorded?.rpcPort ?? 0);
    esplora = await startEsploraFront(
      chain,
      faults,
      settings,
      options.esploraPort ?? recorded?.esploraPort ?? 0,
    );
    opened?.journal.record({
      rpcUser: rpcAuth.user,
      rpcPassword: rpcAuth.password,
      rpcPort: Number(new URL(rpc.url).port),
      esploraPort: Number(new URL(esplora.url).port),
    });
  } catch (err) {
    await rpc?.close();
    opened?.journal.close();
    throw err;
  }
  return {
    rpcUrl: rpc.url,
    rpcAuth,
    esploraUrl: esplora.url,
    chain,
    faults,
    journal: opened?.journal,
    restored: opened?.restored,
    setFeeRate: (rate) => {
      chain.feeEstimate = rate;
    },
    setEsploraErrorFormat: (format) => {
      settings.errorFormat = format;
    },
    stop: async () => {
      faults.clear();
      await Promise.all([rpc.close(), esplora.close()]);
      opened?.journal.close();
    },
  };
}
