/**
 * The governance contracts and the challenger registry on a fresh anvil, for the registry's tests: the
 * clients, and `call`, which sends a contract call from an unlocked dev account and waits for it.
 */
import {
  type Abi,
  type Address,
  createPublicClient,
  createWalletClient,
  http,
  type PublicClient,
  type TransactionReceipt,
  type WalletClient,
} from 'viem';
import type { SearchShape } from '../../src/dispute/game/grid.ts';
import { type AnvilInstance, startAnvil } from '../../src/l2/anvil.ts';
import { bundleKeyBytes } from '../../src/l2/challenger-registry.ts';
import { type Deployment, deployChallengerRegistry } from '../../src/l2/deploy.ts';
import { DEVNET_DEPLOYER, DEVNET_OPERATOR, deployOnAnvil } from '../../src/l2/devnet.ts';

export type RegistryOnAnvil = {
  readonly anvil: AnvilInstance;
  readonly dep: Deployment;
  readonly registry: Address;
  readonly pub: PublicClient;
  readonly wallet: WalletClient;
  /** Sends `functionName` from `from` and waits for its receipt; throws when it reverted. */
  call(
    from: Address,
    address: Address,
    abi: Abi,
    functionName: string,
    args: readonly unknown[],
  ): Promise<TransactionReceipt>;
};

export async function registryOnAnvil(options: {
  shape: SearchShape;
  bundleWindow: bigint;
  maxChallengers: number;
  /** L2 blocks after the bundle window within which a claim must be committed (default 100). */
  commitWindow?: bigint;
}): Promise<RegistryOnAnvil> {
  const anvil = await startAnvil();
  const dep = await deployOnAnvil(anvil.rpcUrl, {});
  const transport = http(anvil.rpcUrl);
  const pub = createPublicClient({ transport });
  const wallet = createWalletClient({ transport });
  const registry = await deployChallengerRegistry({
    publicClient: pub,
    walletClient: wallet,
    deployer: DEVNET_DEPLOYER,
    operator: DEVNET_OPERATOR,
    epochManager: dep.addresses.epochManager,
    staking: dep.addresses.staking,
    maxChallengers: options.maxChallengers,
    bundleWindow: options.bundleWindow,
    bundleKeyBytes: bundleKeyBytes(options.shape),
    commitWindow: options.commitWindow ?? 100n,
  });
  return {
    anvil,
    dep,
    registry,
    pub,
    wallet,
    async call(from, address, abi, functionName, args) {
      const hash = await wallet.writeContract({
        address,
        abi,
        functionName,
        args,
        account: from,
        chain: null,
      });
      const r = await pub.waitForTransactionReceipt({ hash, pollingInterval: 20 });
      if (r.status !== 'success') throw new Error(`${functionName} reverted`);
      return r;
    },
  };
}
