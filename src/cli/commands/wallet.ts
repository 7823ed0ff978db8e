import { Command } from 'commander';
import { addConfigOptions, loadConfigFromCommand } from '../../config/cli-options.ts';
import type { VigilConfig } from '../../config/schema.ts';
import { VigilError, type VigilErrorCategory } from '../../core/errors.ts';
import { withExamples } from '../help.ts';

class NoWalletKeyError extends VigilError {
  override name = 'NoWalletKeyError';
  override readonly category: VigilErrorCategory = 'config';
}

/** The watcher key named by keys.watcher, whatever the mode (watch mode never loads it to spend). */
async function walletKey(config: VigilConfig) {
  const k = config.keys.watcher;
  if (k === undefined) {
    throw new NoWalletKeyError('keys.watcher is not set: the watcher has no wallet', {
      metaMessages: ['Set keys.watcher.file (or keys.watcher.env) to the key that funds challenges.'],
      docsPath: 'docs/configuration.md',
    });
  }
  const { loadWalletKey } = await import('../../bitcoin/wallet/keys.ts');
  return loadWalletKey(
    k.file !== undefined ? { file: k.file } : { env: k.env ?? '' },
    config.bitcoin.network,
    process.env,
    {
      allowInsecureFiles: config.secrets.allowInsecureFiles,
    },
  );
}

async function addressAction(_opts: unknown, command: Command): Promise<void> {
  const { config } = loadConfigFromCommand(command);
  const { watcherWalletAddress } = await import('../../bitcoin/wallet/watcher-address.ts');
  process.stdout.write(`${watcherWalletAddress(await walletKey(config), config.bitcoin.network)}\n`);
}

async function balanceAction(opts: { json?: boolean }, command: Command): Promise<void> {
  const { config } = loadConfigFromCommand(command);
  const { watcherWalletAddress } = await import('../../bitcoin/wallet/watcher-address.ts');
  const { backendFromConfig } = await import('../../watcher/from-config.ts');
  const { challengeFundingNeed, spendableBalance } = await import('../../watcher/health.ts');
  const { defaultGraphParameters } = await import('../../dispute/graph/parameters.ts');
  const address = watcherWalletAddress(await walletKey(config), config.bitcoin.network);
  const backend = backendFromConfig(config);
  const [utxos, tip] = await Promise.all([backend.getUtxos(address), backend.getTipHeight()]);
  const total = utxos.reduce((s, u) => s + u.value, 0n);
  // Coins a stored challenge already committed are not known here (no Redis): the daemon's figure is
  // vigil_wallet_spendable_sats; this is what the chain holds.
  const spendable = spendableBalance(utxos, tip, new Set());
  const required = challengeFundingNeed({
    params: defaultGraphParameters[config.bitcoin.network],
    maxFeeRateSatVb: config.fees.maxFeeRateSatVb,
    reserve: BigInt(config.fees.walletReserveSats),
  });
  const enough = spendable >= required;
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({
        address,
        coins: utxos.length,
        total: total.toString(),
        spendable: spendable.toString(),
        required: required.toString(),
        enough,
      })}\n`,
    );
  } else {
    process.stdout.write(
      [
        `address   ${address}`,
        `coins     ${utxos.length} (${total} sats, ${spendable} confirmed and mature)`,
        `required  ${required} sats for the next challenge at the fee cap, reserve included`,
        enough ? 'enough to send the next challenge' : `NOT ENOUGH: fund ${required - spendable} more sats`,
        '',
      ].join('\n'),
    );
  }
  process.exitCode = enough ? 0 : 1;
}

export function walletCommand(): Command {
  const cmd = new Command('wallet').description('The watcher wallet: the address to fund and what it holds');
  const address = cmd
    .command('address')
    .description('Print the watcher wallet address (a P2TR of keys.watcher) for bitcoin.network');
  withExamples(address, [
    ['vigil wallet address -c vigil.yaml', 'the address to send the challenge funds to'],
  ]);
  addConfigOptions(address);
  address.action(addressAction);
  const balance = cmd
    .command('balance')
    .description('What the wallet holds against what the next challenge needs (exit 1 when short)')
    .option('--json', 'print JSON');
  withExamples(balance, [['vigil wallet balance -c vigil.yaml', 'enough for the next challenge?']]);
  addConfigOptions(balance);
  balance.action(balanceAction);
  return cmd;
}
