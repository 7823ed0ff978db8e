import { Command } from 'commander';
import { addConfigOptions, loadConfigFromCommand } from '../../config/cli-options.ts';
import { checkSecretFiles, redisUrlFromConfig } from '../../config/secrets.ts';
import { VigilError } from '../../core/errors.ts';
import { eventToJson } from '../../dispute/records/codec.ts';
import type { DisputeRecord, DisputeStore } from '../../dispute/records/store.ts';
import { withExamples } from '../help.ts';

export class DisputeNotFoundError extends VigilError {
  override name = 'DisputeNotFoundError';
}

/** Opens the store on the configured Redis, runs `f`, closes the connection. */
async function withStore<T>(command: Command, f: (store: DisputeStore) => Promise<T>): Promise<T> {
  const config = loadConfigFromCommand(command).config;
  // Loaded lazily: ioredis is the slowest import and `--help` must not pay for it.
  const { closeRedis } = await import('../../store/redis.ts');
  const { connectRedisAny } = await import('../../store/connect.ts');
  const { DisputeStore: Store } = await import('../../dispute/records/store.ts');
  checkSecretFiles(config);
  const redis = await connectRedisAny(redisUrlFromConfig(config), {
    role: 'command',
    name: 'vigil:disputes',
  });
  try {
    return await f(new Store(redis, config.redis.keyPrefix));
  } finally {
    await closeRedis(redis);
  }
}

async function requireDispute(store: DisputeStore, id: string): Promise<DisputeRecord> {
  const rec = await store.get(id);
  if (!rec) {
    const known = (await store.list()).map((r) => r.id);
    throw new DisputeNotFoundError(`No dispute ${id}`, {
      metaMessages: [known.length > 0 ? `Known: ${known.join(', ')}` : 'No disputes recorded.'],
    });
  }
  return rec;
}

const json = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2);

function summary(r: DisputeRecord) {
  return {
    id: r.id,
    epoch: r.epoch.toString(),
    state: r.state,
    outcome: r.outcome ?? null,
    kickoffTxid: r.kickoffTxid,
    challengeTxid: r.challenge.txid ?? null,
    challengeBy: r.opened.challengeBy ?? null,
    updatedAt: new Date(r.updatedAt).toISOString(),
  };
}

export function disputesCommand(): Command {
  const cmd = new Command('disputes').description('Inspect the disputes this Vigil follows');
  const list = cmd
    .command('list')
    .description('List disputes with their state')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--json', 'print JSON');
  withExamples(list, [['vigil disputes list -c vigil.yaml', 'every dispute and its state']]);
  addConfigOptions(list);
  list.action(async (opts: { json?: boolean }, command: Command) => {
    const rows = await withStore(command, async (s) => (await s.list()).map(summary));
    if (opts.json) {
      process.stdout.write(`${json(rows)}\n`);
      return;
    }
    if (rows.length === 0) {
      process.stdout.write('no disputes\n');
      return;
    }
    for (const r of rows) {
      process.stdout.write(
        `${r.id}  epoch ${r.epoch}  ${r.state}${r.outcome ? ` (${r.outcome})` : ''}  challenge ${r.challengeTxid ?? '-'}\n`,
      );
    }
  });

  const show = cmd
    .command('show <id>')
    .description('Show one dispute: state, history, transactions and the re-execution trace')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--json', 'print JSON');
  withExamples(show, [['vigil disputes show -c vigil.yaml <id> --json', 'one dispute with its history']]);
  addConfigOptions(show);
  show.action(async (id: string, opts: { json?: boolean }, command: Command) => {
    await withStore(command, async (s) => {
      const rec = await requireDispute(s, id);
      const history = await s.events(id);
      if (opts.json) {
        const { disputeBundle } = await import('../../dispute/records/bundle.ts');
        process.stdout.write(`${json(disputeBundle(rec, history))}\n`);
        return;
      }
      const r = summary(rec);
      const lines = [
        `dispute ${r.id}`,
        `  epoch        ${r.epoch}`,
        `  state        ${r.state}${r.outcome ? ` (${r.outcome})` : ''}`,
        `  kick-off     ${r.kickoffTxid} at height ${rec.kickoffHeight}`,
        `  challenge by height ${r.challengeBy ?? '-'}; assert-timeout from ${rec.opened.assertTimeoutFrom ?? '-'}`,
        `  challenge    ${r.challengeTxid ?? '-'}`,
        ...(rec.timeout.txid ? [`  timeout      ${rec.timeout.txid}`] : []),
        `  verdict      ${rec.opened.verdict}`,
        'history:',
        ...history.map(
          (e) =>
            `  ${e.seq}. ${new Date(e.at).toISOString()} ${e.type}${e.to ? ` ${e.from ?? ''}→${e.to}` : ''}${
              e.detail ? ` ${JSON.stringify(eventToJson(e).detail)}` : ''
            }`,
        ),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  });

  const exp = cmd
    .command('export <id>')
    .description(
      "Write a self-contained bundle of one dispute for offline replay (vigil replay): Vigil's record plus the epoch's inputs and every dispute transaction read from the two chains",
    )
    .option('-c, --config <file>', 'YAML configuration file')
    .option('-o, --out <file>', 'output file');
  withExamples(exp, [['vigil disputes export -c vigil.yaml <id> -o d.json', 'a bundle for offline replay']]);
  addConfigOptions(exp);
  exp.action(async (id: string, opts: { out?: string }, command: Command) => {
    const config = loadConfigFromCommand(command).config;
    const { rec, history } = await withStore(command, async (s) => {
      const rec = await requireDispute(s, id);
      return { rec, history: await s.events(id) };
    });
    const { l2FromConfig } = await import('../../verify/run.ts');
    const { backendFromConfig, graphExpectationsFromConfig } = await import('../../watcher/from-config.ts');
    const { exportDisputeBundle } = await import('../../replay/export.ts');
    const { ingestProgressReporter } = await import('../../replay/fetch.ts');
    const { serializeBundle } = await import('../../replay/bundle-codec.ts');
    const l2 = l2FromConfig(config, {
      command: 'vigil disputes export',
      onCacheDiscarded: (reason) =>
        process.stderr.write(`warning: the L2 cache could not be read and starts over: ${reason}\n`),
    });
    const progress = ingestProgressReporter(process.stderr);
    let text: string;
    try {
      const bundle = await exportDisputeBundle({
        rpc: l2.rpc,
        deployment: l2.deployment,
        store: l2.store,
        confirmations: config.l2.confirmations,
        chainId: config.l2.chainId,
        maxRange: BigInt(config.l2.maxRange),
        backend: backendFromConfig(config),
        expectations: graphExpectationsFromConfig(config),
        record: rec,
        history,
        onProgress: progress.update,
        onPhase: (message) => {
          progress.done();
          process.stderr.write(`${message}\n`);
        },
      });
      text = serializeBundle(bundle);
    } finally {
      progress.done();
      l2.close();
    }
    if (opts.out) {
      const { writeOutputFile } = await import('../../store/atomic-file.ts');
      writeOutputFile(opts.out, text, 'the bundle');
      process.stderr.write(`wrote ${opts.out}\n`);
    } else process.stdout.write(text);
  });
  return cmd;
}
