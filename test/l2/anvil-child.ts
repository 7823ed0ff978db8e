/** Starts anvil through the launcher, prints its URL, and waits to be killed (orphan tests). */
import { startAnvil } from '../../src/l2/anvil.ts';

const anvil = await startAnvil();
process.stdout.write(`${anvil.rpcUrl} ${anvil.pid} ${anvil.home}\n`);
setInterval(() => {}, 1_000);
