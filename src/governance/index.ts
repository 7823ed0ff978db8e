/** The governance reference model: the API the L2 ingestion, the judge and the devnet operator use. */

export { InputsFileError, InvalidGenesisError, UnknownFaultError } from './errors.ts';
export * from './executor.ts';
export * from './faults.ts';
export * from './genesis.ts';
export { leafWords, RECORD_WORDS, recordWordValues } from './image.ts';
export * from './inputs.ts';
export * from './inputs-file.ts';
export { hashLeaf, hashNode, IMAGE_DEPTH, type MerkleProof, MerkleTree, ZERO_HASHES } from './merkle.ts';
export * from './params.ts';
export * from './readers.ts';
export * from './reexecute.ts';
export * from './rule-ids.ts';
export { type RankCandidate, REFERENCE_HOOKS, type RuleHooks } from './rules/hooks.ts';
export {
  type GenesisOptions,
  type GovernanceState,
  leafIds,
  ProposalStatus,
} from './state.ts';
