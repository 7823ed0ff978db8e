/**
 * A graph-registry poll in its own process, for tests that need another user than root (file
 * permissions do not bite on root). Polls the directory twice and prints what it saw as one JSON line.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createGraphRegistry } from '../../src/watcher/graph-registry.ts';
import { secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';

const dir = process.argv[2] as string;
const logged: { file?: string; reason?: string; err?: string; msg: string }[] = [];
const registry = new Registry();
const reg = createGraphRegistry({
  dir,
  network: 'regtest',
  operator: xOnly(secretOf('operator')),
  committee: [xOnly(secretOf('committee 1'))],
  logger: pino({ level: 'info' }, { write: (s: string) => logged.push(JSON.parse(s)) }),
  registry,
});
await reg.graphs();
const graphs = await reg.graphs();
const metric = await registry.getSingleMetric('vigil_graph_files_refused_total')?.get();
process.stdout.write(
  `${JSON.stringify({
    epochs: graphs.map((g) => g.graph.spec.epoch.toString()),
    refusedFiles: [...reg.refusedFiles()],
    logged: logged
      .filter((l) => l.msg.startsWith('operator graph file refused'))
      .map(({ file, reason, err }) => ({ file, reason, err })),
    counted: Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.reason), v.value])),
  })}\n`,
);
