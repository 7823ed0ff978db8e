/**
 * The Bitcoin networks Vigil knows, named as the configuration names them (`bitcoin.network`). The one
 * definition: the configuration schema, addresses, taproot, Winternitz keys and dispute graphs use it.
 */
export const bitcoinNetworks = ['mainnet', 'testnet', 'testnet4', 'signet', 'regtest'] as const;

export type BitcoinNetwork = (typeof bitcoinNetworks)[number];
