import { Command } from 'commander';
import { notImplemented } from '../not-implemented.ts';

export function devnetCommand(): Command {
  return new Command('devnet')
    .description('Run anvil + the simulated Bitcoin chain + an operator + the watcher, and tell the story')
    .option(
      '--fault <name>',
      'make the operator commit roots from a faulty executor of the catalogue',
      'none',
    )
    .option('--epochs <n>', 'how many epochs to run')
    .option('--seed <n>', 'seed of the random workload')
    .option('--scenario <file>', 'a scenario file instead of the random workload')
    .option(
      '--bitcoin-rpc <url>',
      'use an external Bitcoin Core regtest node instead of the in-process chain',
    )
    .option('--json', 'end the output with one JSON line summarising the run')
    .action(notImplemented('vigil devnet', 'the L2 devnet (issue #4) and the watcher daemon (issue #8)'));
}
