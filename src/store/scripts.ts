/**
 * Lua scripts kept in `.lua` files beside the code that calls them, as BullMQ keeps its own: each file
 * starts with a comment naming its KEYS and ARGV. A script is read once when its module loads and
 * registered on a connection the first time it runs there (ioredis `defineCommand`: EVALSHA, with a
 * fallback to EVAL when Redis answers NOSCRIPT after a restart or SCRIPT FLUSH).
 */
import { readFileSync } from 'node:fs';
import type { RedisClient } from './redis.ts';

export type RedisScript = {
  /** The command name it is registered under (unique per script). */
  readonly name: string;
  readonly lua: string;
  readonly numberOfKeys: number;
};

/** Reads `file` (a URL beside the caller: `new URL('./x.lua', import.meta.url)`) once. */
export function redisScript(name: string, file: URL, numberOfKeys: number): RedisScript {
  return { name, lua: readFileSync(file, 'utf8'), numberOfKeys };
}

type ScriptCommand = (...args: string[]) => Promise<unknown>;

/** Runs `script` with `keys` and `args` on `redis`, registering it there on first use. */
export async function runScript(
  redis: RedisClient,
  script: RedisScript,
  keys: readonly string[],
  args: readonly string[],
): Promise<unknown> {
  if (keys.length !== script.numberOfKeys) {
    throw new RangeError(`${script.name} takes ${script.numberOfKeys} keys, not ${keys.length}`);
  }
  const commands = redis as unknown as Record<string, ScriptCommand | undefined>;
  if (typeof commands[script.name] !== 'function') {
    redis.defineCommand(script.name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
  }
  const command = commands[script.name] as ScriptCommand;
  return command.call(redis, ...keys, ...args);
}
