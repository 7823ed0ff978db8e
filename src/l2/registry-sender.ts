/**
 * Vigil's writes to the L2's challenger registry (docs/protocol.md §24.1), from its own L2 account: each
 * call is simulated first, so a refusal is read as the contract's error and not paid for, then sent and
 * its receipt waited for. The account's key is held by viem's local account only, never logged.
 */
import { type Address, createPublicClient, createWalletClient, type Hex, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { VigilError } from '../core/errors.ts';
import type { BundlePosterOptions } from './bundle-poster.ts';
import { challengerRegistryAbi } from './contracts/artifacts/abis.ts';

export class L2KeyError extends VigilError {
  override name = 'L2KeyError';
}

/** A sender of registry calls from the account of `secret` (64 hex digits), through `url`. */
export function l2Sender(o: { url: string; secret: string; registry: Address; timeoutMs: number }): {
  account: Address;
  send: BundlePosterOptions['send'];
} {
  const clean = o.secret.trim().replace(/^0x/, '');
  if (!/^[0-9a-fA-F]{64}$/.test(clean)) {
    throw new L2KeyError('keys.l2: not a 64-hex-digit private key');
  }
  const account = privateKeyToAccount(`0x${clean}` as Hex);
  const transport = http(o.url, { timeout: o.timeoutMs });
  const pub = createPublicClient({ transport });
  const wallet = createWalletClient({ account, transport });
  return {
    account: account.address,
    send: async (functionName, args) => {
      const request = {
        address: o.registry,
        abi: challengerRegistryAbi,
        functionName,
        args,
        account,
      } as never;
      try {
        await pub.simulateContract(request);
      } catch {
        return 'reverted';
      }
      const hash = await wallet.writeContract({ ...(request as object), chain: null } as never);
      const receipt = await pub.waitForTransactionReceipt({ hash, timeout: 120_000, pollingInterval: 200 });
      return receipt.status;
    },
  };
}
