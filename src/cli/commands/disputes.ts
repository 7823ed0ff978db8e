import { Command } from 'commander';
import { addConfigOptions, loadConfigFromCommand } from '../../config/cli-options.ts';
import { checkSecretFiles, redisUrlFromConfig } from '../../config/secrets.ts';
import { VigilError } from '../../core/errors.ts';
import { eventToJson } from '../../dispute/records/codec.ts';
import { gameEventToJson } from '../../dispute/records/game-codec.ts';
import type { GameStore } from '../../dispute/records/game-store.ts';
import type { GameEvent, GameRecord } from '../../dispute/records/game-types.ts';
import type { DisputeRecord, DisputeStore } from '../../dispute/records/store.ts';
import { withExamples } from '../help.ts';

export class DisputeNotFoundError extends VigilError {
  override name = 'DisputeNotFoundError';
}

/** Opens the stores on the configured Redis, runs `f`, closes the connection. */
async function withStores<T>(
  command: Command,
  f: (stores: { disputes: DisputeStore; games: GameStore }) => Promise<T>,
): Promise<T> {
  const config = loadConfigFromCommand(command).config;
  // Loaded lazily: ioredis is the slowest import and `--help` must not pay for it.
  const { closeRedis } = await import('../../store/redis.ts');
  const { connectRedisAny } = await import('../../store/connect.ts');
  const { DisputeStore: Store } = await import('../../dispute/records/store.ts');
  const { GameStore: Games } = await import('../../dispute/records/game-store.ts');
  checkSecretFiles(config);
  const redis = await connectRedisAny(redisUrlFromConfig(config), {
    role: 'command',
    name: 'vigil:disputes',
  });
  try {
    return await f({
      disputes: new Store(redis, config.redis.keyPrefix),
      games: new Games(redis, config.redis.keyPrefix),
    });
  } finally {
    await closeRedis(redis);
  }
}

/** Runs `f` on the dispute store alone. */
const withStore = <T>(command: Command, f: (store: DisputeStore) => Promise<T>): Promise<T> =>
  withStores(command, (s) => f(s.disputes));

async function requireDispute(store: DisputeStore, id: string, games?: GameStore): Promise<DisputeRecord> {
  const rec = await store.get(id);
  if (!rec) {
    const gameIds = games === undefined ? [] : (await games.listAll()).records.map((r) => r.id);
    const known = [...(await store.list()).map((r) => r.id), ...gameIds];
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

function gameSummary(g: GameRecord) {
  const p = g.progress;
  const next =
    g.state === 'resolved' || p === undefined
      ? '-'
      : p.owes === 'none'
        ? 'over on chain'
        : `${p.owes === 'vigil' ? 'Vigil' : 'the operator'} owes ${p.at ?? 'a move'}${p.dueBy === undefined ? '' : ` (timeout from height ${p.dueBy})`}`;
  return {
    id: g.id,
    epoch: g.epoch.toString(),
    w: g.w,
    state: g.state,
    outcome: g.outcome ?? null,
    kickoffTxid: g.kickoffTxid,
    moves: p?.moves ?? 0,
    last: p?.last ?? null,
    next,
    end: g.end ?? null,
    updatedAt: new Date(g.updatedAt).toISOString(),
  };
}

/** A game as people read it: where it stands, each round as the chain showed it, what Vigil sent, the history. */
function showGame(g: GameRecord, history: readonly GameEvent[]): string[] {
  const r = gameSummary(g);
  const rounds = history.flatMap((e) =>
    e.type === 'move-seen'
      ? [`  ${e.detail.id.padEnd(12)} by ${e.detail.by.padEnd(8)} at height ${e.detail.height}`]
      : [],
  );
  const sent = [...g.sent]
    .sort(([a, x], [b, y]) => x.height - y.height || a.localeCompare(b))
    .map(([id, t]) => `  ${id.padEnd(18)} ${t.txid}  fee ${t.fee} sat  written at height ${t.height}`);
  return [
    `game ${r.id}`,
    `  epoch        ${r.epoch}, Vigil is challenger ${r.w}`,
    `  state        ${r.state}${r.outcome ? ` (${r.outcome})` : ''}`,
    `  kick-off     ${r.kickoffTxid} at height ${g.kickoffHeight}`,
    `  position     ${r.moves} moves at depth${r.last ? `, last ${r.last.id} at height ${r.last.height}` : ''}`,
    `  next         ${r.next}`,
    ...(g.end
      ? [`  ended by     ${g.end.by} on ${g.end.site}: ${g.end.txid} at height ${g.end.height}`]
      : []),
    'rounds (moves at depth):',
    ...(rounds.length > 0 ? rounds : ['  none yet']),
    "Vigil's transactions (written ahead):",
    ...(sent.length > 0 ? sent : ['  none yet']),
    'history:',
    ...history.map(
      (e) =>
        `  ${e.seq}. ${new Date(e.at).toISOString()} ${e.type}${e.to ? ` ${e.from ?? ''}→${e.to}` : ''}${
          'detail' in e && e.detail ? ` ${JSON.stringify(gameEventToJson(e).detail)}` : ''
        }`,
    ),
  ];
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
    const { rows, games } = await withStores(command, async (s) => ({
      rows: (await s.disputes.list()).map(summary),
      games: (await s.games.listAll()).records.map(gameSummary),
    }));
    if (opts.json) {
      process.stdout.write(`${json(games.length === 0 ? rows : [...rows, ...games])}\n`);
      return;
    }
    if (rows.length === 0 && games.length === 0) {
      process.stdout.write('no disputes\n');
      return;
    }
    for (const r of rows) {
      process.stdout.write(
        `${r.id}  epoch ${r.epoch}  ${r.state}${r.outcome ? ` (${r.outcome})` : ''}  challenge ${r.challengeTxid ?? '-'}\n`,
      );
    }
    for (const g of games) {
      process.stdout.write(
        `${g.id}  epoch ${g.epoch}  game as w ${g.w}  ${g.state}${g.outcome ? ` (${g.outcome})` : ''}  ${g.moves} moves, next: ${g.next}\n`,
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
    await withStores(command, async ({ disputes: s, games }) => {
      const game = await games.get(id);
      if (game !== undefined) {
        const history = await games.events(id);
        process.stdout.write(
          opts.json
            ? `${json({ game: gameSummary(game), sent: [...game.sent].map(([k, t]) => ({ id: k, ...t, raw: undefined })), history: history.map(gameEventToJson) })}\n`
            : `${showGame(game, history).join('\n')}\n`,
        );
        return;
      }
      const rec = await requireDispute(s, id, games);
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
