/**
 * The devnet's Bitcoin: simnet in-process, or — with `--bitcoin-rpc <url>` — an external Bitcoin Core
 * regtest node. Either way the rest of Vigil talks to it through the same `CoreRpcBackend`, and the
 * devnet funds wallets and advances the chain with the same RPC (`generatetoaddress`), so the flow is
 * identical on real Core.
 */
import { concatBytes } from '../../core/bytes.ts';
import { VigilError } from '../../core/errors.ts';
import { sha256 } from '../../core/hashes.ts';
import { redactUrl } from '../../core/redact.ts';
import { CoreRpcBackend } from '../backends/core-rpc.ts';
import type { RetryPolicy } from '../backends/http.ts';
import { addressForScript } from '../codec/address.ts';
import { type Simnet, type StartSimnetOptions, startSimnet } from './start.ts';

/**
 * Where the devnet's mined coins that nobody needs go: P2WSH(OP_TRUE), which anyone can spend, so it
 * is a dump, not a burn (regtest only). Not to be confused with the dispute graph's burn output.
 */
export const ANYONE_CAN_SPEND_SCRIPT = concatBytes(Uint8Array.of(0x00, 0x20), sha256(Uint8Array.of(0x51)));
/** Its regtest address, for whatever else in the devnet mines blocks nobody should own. */
export const ANYONE_CAN_SPEND_ADDRESS = addressForScript(ANYONE_CAN_SPEND_SCRIPT, 'regtest') as string;

export class NotRegtestError extends VigilError {
  override name = 'NotRegtestError';
}

export type DevnetBitcoin = {
  backend: CoreRpcBackend;
  /** Set when the chain is the in-process simnet. */
  simnet: Simnet | undefined;
  /** Mines `blocks` blocks paying `address`; returns their hashes. */
  mine(blocks: number, address?: string): Promise<string[]>;
  /** Gives `address` one mature coinbase output (one block to it, then 100 more). */
  fund(address: string): Promise<void>;
  stop(): Promise<void>;
};

export type ConnectDevnetBitcoinOptions = {
  /** An external Bitcoin Core regtest node, e.g. http://user:pass@127.0.0.1:18443. */
  bitcoinRpc?: string;
  cookieFile?: string;
  simnet?: StartSimnetOptions;
  retry?: Partial<RetryPolicy>;
};

export async function connectDevnetBitcoin(
  options: ConnectDevnetBitcoinOptions = {},
): Promise<DevnetBitcoin> {
  let simnet: Simnet | undefined;
  let backend: CoreRpcBackend;
  if (options.bitcoinRpc === undefined) {
    simnet = await startSimnet(options.simnet);
    backend = new CoreRpcBackend({
      url: simnet.rpcUrl,
      auth: simnet.rpcAuth,
      ...(options.retry ? { retry: options.retry } : {}),
    });
  } else {
    backend = new CoreRpcBackend({
      url: options.bitcoinRpc,
      ...(options.cookieFile ? { auth: { cookieFile: options.cookieFile } } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
    });
    const info = await backend.rpc.call<{ chain?: string }>('getblockchaininfo');
    if (info.chain !== 'regtest') {
      throw new NotRegtestError(
        `The devnet only runs on regtest; ${redactUrl(options.bitcoinRpc)} is on "${info.chain}"`,
        {
          metaMessages: ['Start bitcoind with -regtest (it mines blocks on demand with generatetoaddress).'],
        },
      );
    }
  }
  const dump = ANYONE_CAN_SPEND_ADDRESS;
  const mine = (blocks: number, address = dump) =>
    backend.rpc.call<string[]>('generatetoaddress', [blocks, address]);
  return {
    backend,
    simnet,
    mine,
    fund: async (address) => {
      await mine(1, address);
      await mine(100, dump);
    },
    stop: async () => {
      await simnet?.stop();
    },
  };
}
