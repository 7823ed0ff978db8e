import { Command, Option } from 'commander';
import { stringify } from 'yaml';
import { addConfigOptions, configOverridesHelp, loadConfigFromCommand } from '../../config/cli-options.ts';
import { redactValue } from '../../config/redact.ts';
import type { VigilConfig } from '../../config/schema.ts';
import { checkSecretFiles, readSecret, redisUrlFromConfig } from '../../config/secrets.ts';
import { withExamples } from '../help.ts';

/**
 * What `--probe` checks beyond the schema: Redis answers, every named secret can be read, and every
 * endpoint answers as configured (the L2 URLs' chain and contracts, the Bitcoin backend's network).
 */
async function probe(config: VigilConfig): Promise<string[]> {
  const lines: string[] = [];
  // Loaded here, not at the top: ioredis is the slowest import and only --probe needs it.
  const { closeRedis, clientEvictionPolicy, RedisEvictionPolicyError } = await import('../../store/redis.ts');
  const { connectRedisAny } = await import('../../store/connect.ts');
  checkSecretFiles(config);
  const url = redisUrlFromConfig(config);
  const redis = await connectRedisAny(url, { role: 'command', name: 'vigil:probe' });
  try {
    const { policy, source } = await clientEvictionPolicy(redis);
    if (policy === undefined) {
      lines.push(
        'redis: answers; maxmemory-policy unknown (CONFIG and INFO refused): make sure it is noeviction',
      );
    } else if (policy !== 'noeviction') {
      throw new RedisEvictionPolicyError(url, policy);
    } else {
      lines.push(
        `redis: answers; maxmemory-policy noeviction (${source === 'config' ? 'CONFIG GET' : 'INFO'})`,
      );
    }
  } finally {
    await closeRedis(redis);
  }
  if (config.redis.passwordEnv ?? config.redis.passwordFile) lines.push('redis password: readable');
  if (config.keys.watcher) {
    readSecret(config.keys.watcher, 'keys.watcher');
    lines.push('keys.watcher: readable');
  }
  const auth = config.bitcoin.auth;
  if (auth.passwordEnv !== undefined) readSecret({ env: auth.passwordEnv }, 'bitcoin.auth.passwordEnv');
  if (auth.passwordFile !== undefined) readSecret({ file: auth.passwordFile }, 'bitcoin.auth.passwordFile');
  if (auth.cookieFile !== undefined) readSecret({ file: auth.cookieFile }, 'bitcoin.auth.cookieFile');
  if (auth.passwordEnv ?? auth.passwordFile ?? auth.cookieFile) lines.push('bitcoin.auth: readable');
  const { probeEndpoints } = await import('../../daemon/preflight.ts');
  const { backendFromConfig } = await import('../../watcher/from-config.ts');
  const { L2Rpc } = await import('../../l2/rpc.ts');
  const makeRpc = (url: string) =>
    new L2Rpc({
      urls: [url],
      timeoutMs: config.l2.requestTimeoutMs,
      retry: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 500 },
    });
  lines.push(...(await probeEndpoints(config, backendFromConfig(config), makeRpc)));
  return lines;
}

export function configCommand(): Command {
  const cmd = new Command('config')
    .description('Validate and show configuration')
    .addHelpText('after', configOverridesHelp());
  const check = cmd
    .command('check')
    .description(
      'Validate the configuration (defaults < file < VIGIL_* env < flags) and print the effective config with secrets redacted',
    )
    .addOption(new Option('--format <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .option(
      '--probe',
      'also check that Redis answers, every named secret can be read, and every L2 and Bitcoin endpoint answers as configured',
    );
  withExamples(check, [
    ['vigil config check -c vigil.yaml', 'the effective configuration, secrets redacted'],
    ['vigil config check -c vigil.yaml --probe', 'also reach Redis, every endpoint and every secret'],
    ['VIGIL_REDIS_URL=redis://r:6379 vigil config check --format json', 'env over the file, as JSON'],
  ]);
  addConfigOptions(check);
  check.action(async (opts: { format: 'yaml' | 'json'; probe?: boolean }, command: Command) => {
    const loaded = loadConfigFromCommand(command);
    for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
    const shown = redactValue(loaded.config);
    if (opts.format === 'json') {
      process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
    } else {
      const source = loaded.file ?? 'no file: defaults, VIGIL_* env and flags';
      process.stdout.write(`# effective configuration (${source}); secrets redacted\n${stringify(shown)}`);
    }
    if (opts.probe) {
      for (const line of await probe(loaded.config)) process.stderr.write(`probe: ${line}\n`);
    }
  });
  return cmd;
}
