/**
 * `npm run soak -- [--epochs N] [--seed N] [--fault-every N] [--sample-every N] [--epoch-length N]
 * [--bitcoin-block-ms N] [--redis-url URL] [--json]`: the daemon against a served devnet for N epochs (default 2,000), its memory and
 * Redis's sampled every 100 judged epochs, judged flat or not (src/devnet/soak.ts, docs/operations.md
 * "Soak"). Exits 0 when the run went as expected and memory stayed within its bounds, 1 otherwise.
 */

import { runSoak, type SoakOptions } from '../src/devnet/soak.ts';
import { formatVerdict } from '../src/devnet/soak-analysis.ts';

const USAGE =
  'usage: npm run soak -- [--epochs N] [--seed N] [--fault-every N] [--sample-every N] [--epoch-length N] [--bitcoin-block-ms N] [--redis-url URL] [--json]';

function parse(argv: string[]): { options: SoakOptions; json: boolean } {
  const options: SoakOptions = { epochs: 2000 };
  let json = false;
  const int = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < 1) {
      process.stderr.write(`${flag} takes a positive integer, not ${v ?? 'nothing'}\n${USAGE}\n`);
      process.exit(2);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = true;
    else if (a === '--epochs') options.epochs = int(a, argv[++i]);
    else if (a === '--seed') options.seed = int(a, argv[++i]);
    else if (a === '--fault-every') options.faultEvery = int(a, argv[++i]);
    else if (a === '--sample-every') options.sampleEvery = int(a, argv[++i]);
    else if (a === '--epoch-length') options.epochLength = int(a, argv[++i]);
    else if (a === '--bitcoin-block-ms') options.bitcoinBlockMs = int(a, argv[++i]);
    else if (a === '--redis-url') {
      const url = argv[++i];
      if (url === undefined) {
        process.stderr.write(`--redis-url takes a URL\n${USAGE}\n`);
        process.exit(2);
      }
      options.redisUrl = url;
    } else {
      process.stderr.write(`${a === '--help' || a === '-h' ? '' : `unknown argument ${a}\n`}${USAGE}\n`);
      process.exit(a === '--help' || a === '-h' ? 0 : 2);
    }
  }
  return { options, json };
}

const { options, json } = parse(process.argv.slice(2));
const report = await runSoak({ ...options, say: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(
  json
    ? `${JSON.stringify(report)}\n`
    : `${report.epochs} epochs in ${report.seconds.toFixed(0)} s: ${report.judged} judged, ${report.faultyClaimed.length} claimed wrong, ${report.disputes.length} disputes\n  ${formatVerdict(report.verdict)}\n${report.ok ? 'as expected' : `NOT as expected:\n  ${report.problems.join('\n  ')}`}\n`,
);
process.exitCode = report.ok ? 0 : 1;
