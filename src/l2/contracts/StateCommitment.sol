// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IEpochManager} from "./Common.sol";

/// The operator's claims: for each ended epoch, the governance state root after the end of that epoch and
/// the txid of the Bitcoin kick-off transaction that commits to it. Vigil re-executes and compares.
contract StateCommitment {
    struct Commitment {
        bytes32 stateRoot;
        bytes32 kickoffTxid;
        uint64 l2Block;
    }

    address public immutable operator;
    IEpochManager public immutable epochManager;
    mapping(uint64 => Commitment) internal commitments;
    mapping(uint64 => bool) public committed;

    event StateCommitted(uint64 indexed epoch, bytes32 stateRoot, bytes32 kickoffTxid, address indexed operator);

    error NotOperator();
    error EpochNotEnded(uint64 epoch);
    error AlreadyCommitted(uint64 epoch);

    constructor(address operator_, IEpochManager epochManager_) {
        operator = operator_;
        epochManager = epochManager_;
    }

    /// Epoch `e` is committable once it has ended (EpochManager.epoch() > e), once.
    function commit(uint64 epoch, bytes32 stateRoot, bytes32 kickoffTxid) external {
        if (msg.sender != operator) revert NotOperator();
        if (epoch >= epochManager.epoch()) revert EpochNotEnded(epoch);
        if (committed[epoch]) revert AlreadyCommitted(epoch);
        committed[epoch] = true;
        commitments[epoch] = Commitment(stateRoot, kickoffTxid, uint64(block.number));
        emit StateCommitted(epoch, stateRoot, kickoffTxid, msg.sender);
    }

    function commitmentOf(uint64 epoch) external view returns (Commitment memory) {
        return commitments[epoch];
    }
}
