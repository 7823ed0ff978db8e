/**
 * simnet's reorgs: invalidateblock and reconsiderblock mark blocks, then the best valid chain is
 * activated (ActivateBestChain: disconnect to the fork point, connect the new branch), and the mempool
 * is refilled as Core's MaybeUpdateMempoolForReorg does.
 */
import type { Tx } from '../tx/types.ts';
import { acceptTransaction } from './acceptance.ts';
import type { ChainState } from './chain-state.ts';
import { TxReject } from './rules.ts';
import { type ChainBlock, SimChainError } from './types.ts';

/** invalidateblock: the block and its descendants become invalid; the best valid chain becomes active. */
export function invalidateBlock(state: ChainState, hash: string): void {
  if (!state.blocks.has(hash)) throw new SimChainError(`Block not found: ${hash}`);
  if (hash === state.active[0]?.hash) throw new SimChainError('Cannot invalidate the genesis block');
  state.invalid.add(hash);
  activateBestChain(state);
}

/** reconsiderblock: forget the invalidity of the block and its ancestors; reorg to the best chain. */
export function reconsiderBlock(state: ChainState, hash: string): void {
  let b = state.blocks.get(hash);
  if (!b) throw new SimChainError(`Block not found: ${hash}`);
  while (b) {
    state.invalid.delete(b.hash);
    b = state.blocks.get(b.prevHash);
  }
  for (const other of state.blocks.values())
    if (descendsFrom(state, other, hash)) state.invalid.delete(other.hash);
  activateBestChain(state);
}

function descendsFrom(state: ChainState, block: ChainBlock, ancestor: string): boolean {
  let b: ChainBlock | undefined = block;
  while (b) {
    if (b.hash === ancestor) return true;
    b = state.blocks.get(b.prevHash);
  }
  return false;
}

function isValidBranch(state: ChainState, block: ChainBlock): boolean {
  let b: ChainBlock | undefined = block;
  while (b) {
    if (state.invalid.has(b.hash)) return false;
    if (state.isActive(b)) return true;
    b = state.blocks.get(b.prevHash);
  }
  return true;
}

function activateBestChain(state: ChainState): void {
  // Disconnect invalid blocks from the tip first.
  const disconnected: ChainBlock[] = [];
  while (state.active.length > 1 && state.active.some((b) => state.invalid.has(b.hash))) {
    disconnected.push(state.disconnectTip());
  }
  // Equal work per block on regtest: the highest valid tip wins; the current tip wins ties.
  let best = state.tip;
  for (const b of state.blocks.values()) {
    if (b.height > best.height && isValidBranch(state, b)) best = b;
  }
  const connected: ChainBlock[] = [];
  if (best.hash !== state.tip.hash) {
    const branch: ChainBlock[] = [];
    let b: ChainBlock | undefined = best;
    while (b && !state.isActive(b)) {
      branch.push(b);
      b = state.blocks.get(b.prevHash);
    }
    const fork = b as ChainBlock;
    while (state.height > fork.height) disconnected.push(state.disconnectTip());
    for (const nb of branch.reverse()) {
      state.connect(nb);
      connected.push(nb);
    }
  }
  if (disconnected.length > 0) refillMempool(state, disconnected);
}

/**
 * MaybeUpdateMempoolForReorg: transactions of disconnected blocks go back (oldest block first, no fee
 * floor), then the old mempool is re-validated; whatever no longer fits (conflicts with the new
 * chain, immature coinbase spends, unmet timelocks) is dropped.
 */
function refillMempool(state: ChainState, disconnected: ChainBlock[]): void {
  const old = state.mempool.ordered();
  state.mempool.clear();
  const blocks = [...disconnected].sort((a, b) => a.height - b.height);
  for (const block of blocks) {
    for (const { txid, tx } of block.txs.slice(1)) {
      if (state.txIndex.has(txid)) continue; // mined again on the new branch
      tryAccept(state, tx, true);
    }
  }
  for (const e of old) tryAccept(state, e.tx, true);
}

function tryAccept(state: ChainState, tx: Tx, bypassLimits: boolean): void {
  try {
    acceptTransaction(state, tx, { bypassLimits });
  } catch (err) {
    if (!(err instanceof TxReject)) throw err;
  }
}
