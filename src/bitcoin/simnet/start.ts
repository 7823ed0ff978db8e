/**
 * Starts simnet in-process: one chain, Core's JSON-RPC and an Esplora-shaped REST front on loopback
 * (free ports), and the knobs tests and the devnet need (fee spike, transient faults).
 */
import { randomBytes } from 'node:crypto';
import type { FeeRate } from '../codec/fee-rate.ts';
import { SimChain } from './chain.ts';
import { type EsploraErrorFormat, type EsploraFrontSettings, startEsploraFront } from './esplora-front.ts';
import { FaultInjector } from './faults.ts';
import { startRpcFront } from './rpc-front.ts';
import type { SimChainOptions } from './types.ts';

export type StartSimnetOptions = SimChainOptions & {
  /** RPC credentials; a random password by default. */
  rpcUser?: string;
  rpcPassword?: string;
  /** estimatesmartfee's answer at start; undefined = a quiet chain without estimates (Core's regtest). */
  feeRate?: FeeRate;
  esploraErrorFormat?: EsploraErrorFormat;
};

export type Simnet = {
  /** Core JSON-RPC endpoint, without credentials. */
  rpcUrl: string;
  rpcAuth: { user: string; password: string };
  /** Esplora API root. */
  esploraUrl: string;
  chain: SimChain;
  faults: FaultInjector;
  /** Sets what estimatesmartfee and /fee-estimates answer (a fee spike; undefined: no estimate). */
  setFeeRate(rate: FeeRate | undefined): void;
  setEsploraErrorFormat(format: EsploraErrorFormat): void;
  stop(): Promise<void>;
};

export async function startSimnet(options: StartSimnetOptions = {}): Promise<Simnet> {
  const chain = new SimChain(options);
  chain.feeEstimate = options.feeRate;
  const faults = new FaultInjector();
  const rpcAuth = {
    user: options.rpcUser ?? 'vigil',
    password: options.rpcPassword ?? randomBytes(16).toString('hex'),
  };
  const settings: EsploraFrontSettings = { errorFormat: options.esploraErrorFormat ?? 'modern' };
  const rpc = await startRpcFront(chain, faults, rpcAuth);
  const esplora = await startEsploraFront(chain, faults, settings);
  return {
    rpcUrl: rpc.url,
    rpcAuth,
    esploraUrl: esplora.url,
    chain,
    faults,
    setFeeRate: (rate) => {
      chain.feeEstimate = rate;
    },
    setEsploraErrorFormat: (format) => {
      settings.errorFormat = format;
    },
    stop: async () => {
      faults.clear();
      await Promise.all([rpc.close(), esplora.close()]);
    },
  };
}
