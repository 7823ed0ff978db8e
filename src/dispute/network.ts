/** The Bitcoin networks a dispute graph can live on; the names match the configuration's. */
export const disputeNetworks = ['mainnet', 'testnet', 'testnet4', 'signet', 'regtest'] as const;
export type DisputeNetwork = (typeof disputeNetworks)[number];

export function isDisputeNetwork(value: unknown): value is DisputeNetwork {
  return typeof value === 'string' && (disputeNetworks as readonly string[]).includes(value);
}
