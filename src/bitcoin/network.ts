/**
 * The Bitcoin networks Vigil knows, named as the configuration names them (`bitcoin.network`). The one
 * definition: the configuration schema, addresses, taproot, Winternitz keys and dispute graphs use it.
 */
export const bitcoinNetworks = ['mainnet', 'testnet', 'testnet4', 'signet', 'regtest'] as const;

export type BitcoinNetwork = (typeof bitcoinNetworks)[number];

/**
 * Each network's genesis block hash (Bitcoin Core's chainparams.cpp), in display order: the one fact
 * that names a chain through any backend, since Esplora has no "which network" call.
 */
export const GENESIS_BLOCK_HASH: Readonly<Record<BitcoinNetwork, string>> = {
  mainnet: '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
  testnet: '000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943',
  testnet4: '00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043',
  signet: '00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6',
  regtest: '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
};

/** The network whose genesis block has this hash, if Vigil knows it. */
export function networkOfGenesis(hash: string): BitcoinNetwork | undefined {
  const h = hash.toLowerCase();
  return bitcoinNetworks.find((n) => GENESIS_BLOCK_HASH[n] === h);
}
