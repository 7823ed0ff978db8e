/** The L2 ingestion metrics, registered on the registry the caller owns. */
import { Counter, Gauge, type Registry } from 'prom-client';

export type L2Metrics = {
  head: Gauge;
  processedBlock: Gauge;
  reorgs: Counter;
  rpcErrors: Counter<'kind' | 'method'>;
  inputs: Counter<'kind'>;
  undecodable: Counter;
  undecodableTxs: Counter;
  refusedTxs: Counter<'input' | 'refusal'>;
  executionFaults: Counter;
  /** L2 block headers breaking a governed rollup parameter in force (each also an execution fault). */
  rollupParamViolations: Counter<'param'>;
  /** 1 while the latest checked header breaks the parameter, else 0. */
  rollupParamViolating: Gauge<'param'>;
  /** Highest epoch whose state commitment the ingested L2 holds (-1: none yet). */
  lastCommittedEpoch: Gauge;
  /** Highest epoch with an imported operator graph (-1: none yet). */
  lastGraphEpoch: Gauge;
};

/** A gauge that reads -1 until it is first set: "none yet", not epoch 0. */
function noneYet(gauge: Gauge): Gauge {
  gauge.set(-1);
  return gauge;
}

function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createL2Metrics(registry: Registry): L2Metrics {
  const registers = [registry];
  return {
    head: getOrCreate(
      registry,
      'vigil_l2_head',
      () => new Gauge({ name: 'vigil_l2_head', help: 'Latest L2 block number seen', registers }),
    ),
    processedBlock: getOrCreate(
      registry,
      'vigil_l2_processed_block',
      () =>
        new Gauge({
          name: 'vigil_l2_processed_block',
          help: 'Highest confirmed L2 block whose inputs are applied',
          registers,
        }),
    ),
    reorgs: getOrCreate(
      registry,
      'vigil_l2_reorgs_total',
      () => new Counter({ name: 'vigil_l2_reorgs_total', help: 'L2 reorgs detected and rewound', registers }),
    ),
    rpcErrors: getOrCreate(
      registry,
      'vigil_l2_rpc_errors_total',
      () =>
        new Counter({
          name: 'vigil_l2_rpc_errors_total',
          help: 'Failed L2 RPC attempts (each retry counts)',
          labelNames: ['kind', 'method'] as const,
          registers,
        }),
    ),
    inputs: getOrCreate(
      registry,
      'vigil_l2_inputs_total',
      () =>
        new Counter({
          name: 'vigil_l2_inputs_total',
          help: 'Governance inputs decoded from L2 logs and applied',
          labelNames: ['kind'] as const,
          registers,
        }),
    ),
    undecodable: getOrCreate(
      registry,
      'vigil_l2_undecodable_logs_total',
      () =>
        new Counter({
          name: 'vigil_l2_undecodable_logs_total',
          help: 'Logs from watched contracts that could not be decoded into inputs (skipped)',
          registers,
        }),
    ),
    refusedTxs: getOrCreate(
      registry,
      'vigil_l2_refused_txs_total',
      () =>
        new Counter({
          name: 'vigil_l2_refused_txs_total',
          help: 'Reverted calls to governance entry points, by input kind and refusal (governance = an input the model must refuse; anything else is not an input)',
          labelNames: ['input', 'refusal'] as const,
          registers,
        }),
    ),
    undecodableTxs: getOrCreate(
      registry,
      'vigil_l2_undecodable_reverted_txs_total',
      () =>
        new Counter({
          name: 'vigil_l2_undecodable_reverted_txs_total',
          help: 'Reverted transactions to watched contracts whose calldata is no governance input (skipped)',
          registers,
        }),
    ),
    executionFaults: getOrCreate(
      registry,
      'vigil_l2_execution_faults_total',
      () =>
        new Counter({
          name: 'vigil_l2_execution_faults_total',
          help: 'L2 execution faults: state mismatches, accepted inputs the model rejects, reverted inputs it accepts, headers breaking a governed rollup parameter',
          registers,
        }),
    ),
    rollupParamViolations: getOrCreate(
      registry,
      'vigil_l2_rollup_param_violations_total',
      () =>
        new Counter({
          name: 'vigil_l2_rollup_param_violations_total',
          help: 'L2 block headers breaking the governed rollup parameter in force, by parameter (l2GasLimit: gasLimit differs; minBaseFee: baseFeePerGas below it), counted per block; a run of them is one reported fault',
          labelNames: ['param'] as const,
          registers,
        }),
    ),
    rollupParamViolating: getOrCreate(
      registry,
      'vigil_l2_rollup_param_violating',
      () =>
        new Gauge({
          name: 'vigil_l2_rollup_param_violating',
          help: 'Whether the latest checked L2 block header breaks the governed rollup parameter in force (1) or not (0)',
          labelNames: ['param'] as const,
          registers,
        }),
    ),
    lastCommittedEpoch: getOrCreate(registry, 'vigil_l2_last_committed_epoch', () =>
      noneYet(
        new Gauge({
          name: 'vigil_l2_last_committed_epoch',
          help: 'Highest epoch whose state commitment the ingested L2 holds (-1: none yet); each needs an operator graph',
          registers,
        }),
      ),
    ),
    lastGraphEpoch: getOrCreate(registry, 'vigil_l2_last_graph_epoch', () =>
      noneYet(
        new Gauge({
          name: 'vigil_l2_last_graph_epoch',
          help: 'Highest epoch with an operator graph imported and verified (-1: none yet)',
          registers,
        }),
      ),
    ),
  };
}
