import { Command } from 'commander';
import { notImplemented } from '../not-implemented.ts';

export function txCommand(): Command {
  const cmd = new Command('tx').description(
    'Verify and debug Bitcoin transactions with Vigil’s script engine',
  );
  cmd
    .command('verify [txhex]')
    .description('Verify every input of a transaction against its prevouts (txhex or - for stdin)')
    .option(
      '--prevouts <file>',
      'JSON array of { "amount": "<sats>", "scriptPubKey": "<hex>" }, one per input',
    )
    .option(
      '--flags <list>',
      'comma-separated verification flags (default: all consensus and standard flags)',
    )
    .option('--batch <file>', 'JSON lines of { "tx", "prevouts", "flags", "input"? }; one verdict line each')
    .option('--json', 'print JSON')
    .action(notImplemented('vigil tx verify', 'the Bitcoin script engine (issue #5)'));
  cmd
    .command('debug [txhex]')
    .description('Step through an input’s scripts opcode by opcode (btcdeb-like)')
    .option('--prevouts <file>', 'JSON array of prevouts, one per input')
    .option('--input <n>', 'the input to debug', '0')
    .action(notImplemented('vigil tx debug', 'the Bitcoin script engine (issue #5)'));
  return cmd;
}
