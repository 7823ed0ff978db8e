import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError } from '../../src/bitcoin/backends/errors.ts';
import { InsecureWalletKeyFileError } from '../../src/bitcoin/wallet/keys.ts';
import { ExitCode, exitCodeFor } from '../../src/cli/exit-codes.ts';
import { buildProgram } from '../../src/cli/main.ts';
import { ConfigError, SecretUnavailableError } from '../../src/config/errors.ts';
import { configLeaves } from '../../src/config/fields.ts';
import { VigilError } from '../../src/core/errors.ts';
import { InputsFileError, UnknownFaultError } from '../../src/governance/errors.ts';
import { JournalCacheBusyError } from '../../src/l2/file-journal-store.ts';
import { L2RpcUnavailableError } from '../../src/l2/rpc.ts';
import { HttpListenError } from '../../src/observability/http-server.ts';
import { RedisAuthError, RedisEvictionPolicyError, RedisUnavailableError } from '../../src/store/redis.ts';
import { EpochNotEndedError } from '../../src/verify/epoch.ts';

function sub(cmd: Command, name: string): Command {
  const found = cmd.commands.find((c) => c.name() === name);
  if (!found) throw new Error(`no command ${name}`);
  return found;
}

describe('exit codes', () => {
  it.each([
    ['ConfigError', new ConfigError([{ key: 'mode', expected: 'x' }]), ExitCode.Config],
    ['SecretUnavailableError', new SecretUnavailableError('keys.watcher: cannot read'), ExitCode.Config],
    ['RedisUnavailableError', new RedisUnavailableError('redis://127.0.0.1:1'), ExitCode.Unavailable],
    ['RedisAuthError', new RedisAuthError('redis://127.0.0.1:1', new Error('NOAUTH')), ExitCode.Config],
    [
      'RedisEvictionPolicyError',
      new RedisEvictionPolicyError('redis://127.0.0.1:1', 'allkeys-lru'),
      ExitCode.Unavailable,
    ],
    ['InsecureWalletKeyFileError', new InsecureWalletKeyFileError('key file is readable'), ExitCode.Config],
    ['InputsFileError', new InputsFileError('inputs.json: not JSON'), ExitCode.Usage],
    ['UnknownFaultError', new UnknownFaultError('no fault x'), ExitCode.Usage],
    ['HttpListenError', new HttpListenError('cannot listen'), ExitCode.Unavailable],
    [
      'L2RpcUnavailableError',
      new L2RpcUnavailableError('L2 RPC eth_chainId failed 3 times'),
      ExitCode.Unavailable,
    ],
    [
      'BackendUnavailableError',
      new BackendUnavailableError('core-rpc', 'getblockcount', 3),
      ExitCode.Unavailable,
    ],
    ['JournalCacheBusyError', new JournalCacheBusyError('the cache is in use'), ExitCode.Unavailable],
    ['EpochNotEndedError', new EpochNotEndedError('epoch 9 has not ended'), ExitCode.Usage],
    ['a VigilError without a code', new VigilError('the answer is no'), ExitCode.Failed],
    ['anything else (a bug)', new TypeError('undefined is not a function'), ExitCode.Internal],
  ])('%s → %i', (_name, err, code) => {
    expect(exitCodeFor(err)).toBe(code);
  });

  it('are all documented in the README table', () => {
    const readme = readFileSync('README.md', 'utf8');
    const documented = new Set(
      [...readme.matchAll(/^\| ([\d, ]+) \|/gm)].flatMap((m) =>
        (m[1] as string).split(',').map((c) => Number(c.trim())),
      ),
    );
    expect(Object.values(ExitCode).filter((c) => !documented.has(c))).toEqual([]);
  });

  it('are distinct', () => {
    const values = Object.values(ExitCode);
    expect(new Set(values).size).toBe(values.length);
  });
});

describe('the program', () => {
  it('loads only the command asked for, and every command otherwise', async () => {
    const names = (p: Command) => p.commands.map((c) => c.name());
    const all = ['watch', 'devnet', 'verify', 'replay', 'disputes', 'tx', 'wallet', 'config'];
    expect(names(await buildProgram(['node', 'vigil', 'config', 'check']))).toEqual(['config']);
    expect(names(await buildProgram(['node', 'vigil', '--help']))).toEqual(all);
    expect(names(await buildProgram(['node', 'vigil', 'frobnicate']))).toEqual(all);
    expect(names(await buildProgram()).sort()).toEqual([...all].sort());
  });
});

describe('vigil config check', () => {
  it('has one flag per configuration key, named by the rule', async () => {
    const check = sub(sub(await buildProgram(), 'config'), 'check');
    const flags = new Set(check.options.map((o) => o.long));
    const missing = configLeaves().filter((l) => !flags.has(`--${l.flag}`));
    expect(missing.map((l) => l.key)).toEqual([]);
    expect(flags).toContain('--config');
    expect(flags).toContain('--log-format');
  });
});
