// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Action, IEpochManager, IGovernor, IParamRegistry, IStaking, Limits, Names} from "./Common.sol";

/// Proposals, votes with delegator override, queue, execute, cancel (docs/protocol.md §5). Stake-weighted:
/// voting power is read from the Staking histories at the proposal's snapshot block.
contract Governor is IGovernor {
    uint8 public constant ACTIVE = 0;
    uint8 public constant QUEUED = 1;
    uint8 public constant EXECUTED = 2;
    uint8 public constant CANCELED = 3;
    uint8 public constant FAILED = 4;

    struct Proposal {
        address proposer;
        uint64 createdBlock;
        uint64 snapshotBlock;
        uint64 voteEnd;
        uint16 quorumBps;
        uint16 thresholdBps;
        uint64 timelock;
        uint8 status;
        uint64 eta;
        uint64 executedEpoch;
        uint256 bondedAtSnapshot;
        uint256 forVotes;
        uint256 againstVotes;
        uint256 abstainVotes;
        bytes32 actionsHash;
    }

    struct VoteRecord {
        bool voted;
        uint8 support;
        bool isValidator;
        uint256 weight;
    }

    IStaking public immutable staking;
    IParamRegistry public immutable registry;
    address public immutable deployer;
    IEpochManager public epochManager;

    uint256 public proposalCount;
    mapping(uint256 => Proposal) internal proposals;
    mapping(uint256 => Action[]) internal proposalActions;
    mapping(uint256 => mapping(address => VoteRecord)) internal votes;
    mapping(uint256 => address[]) internal voterList;
    mapping(uint256 => address[]) internal validatorVoterList;
    mapping(uint256 => mapping(address => uint256)) internal overridden;
    mapping(uint64 => uint256[]) internal executedIn;

    event ProposalCreated(uint256 indexed proposalId, address indexed proposer, Action[] actions);
    event VoteCast(address indexed voter, uint256 indexed proposalId, uint8 support, uint256 weight);
    event ProposalQueued(uint256 indexed proposalId, address indexed caller, uint64 eta);
    event ProposalExecuted(uint256 indexed proposalId, address indexed caller, bool applied);
    event ProposalCanceled(uint256 indexed proposalId, address indexed caller);

    error Rejected(string rule);
    error AlreadyWired();

    bytes32 internal constant QUORUM = "quorumBps";
    bytes32 internal constant THRESHOLD = "thresholdBps";
    bytes32 internal constant VOTING_PERIOD = "votingPeriod";
    bytes32 internal constant TIMELOCK = "timelock";

    constructor(IStaking staking_, IParamRegistry registry_) {
        staking = staking_;
        registry = registry_;
        deployer = msg.sender;
    }

    function setEpochManager(IEpochManager epochManager_) external {
        if (msg.sender != deployer || address(epochManager) != address(0)) revert AlreadyWired();
        epochManager = epochManager_;
    }

    // ---- inputs ----

    function propose(Action[] calldata actions) external returns (uint256 id) {
        if (block.number < 1) revert Rejected("propose");
        if (actions.length == 0 || actions.length > Limits.MAX_PROPOSAL_ACTIONS) revert Rejected("propose");
        bytes memory encoded;
        for (uint256 i = 0; i < actions.length; i++) {
            Action calldata a = actions[i];
            if (a.kind == 0) {
                if (!registry.isKnownKey(a.key) || a.version != 0 || a.codeHash != bytes32(0)) {
                    revert Rejected("propose");
                }
                encoded = bytes.concat(encoded, bytes1(0x00), a.key, bytes32(a.value));
            } else if (a.kind == 1) {
                if (!Names.isValid(a.key) || a.version == 0 || a.value != 0) revert Rejected("propose");
                encoded = bytes.concat(encoded, bytes1(0x01), a.key, bytes8(a.version), a.codeHash);
            } else {
                revert Rejected("propose");
            }
        }
        id = ++proposalCount;
        Proposal storage p = proposals[id];
        p.proposer = msg.sender;
        p.createdBlock = uint64(block.number);
        p.snapshotBlock = uint64(block.number - 1);
        uint256 votingPeriod = registry.get(VOTING_PERIOD);
        p.voteEnd = uint64(block.number + votingPeriod);
        p.quorumBps = uint16(registry.get(QUORUM));
        p.thresholdBps = uint16(registry.get(THRESHOLD));
        p.timelock = uint64(registry.get(TIMELOCK));
        p.bondedAtSnapshot = staking.bondedAt(p.snapshotBlock);
        p.status = ACTIVE;
        p.actionsHash = sha256(encoded);
        Action[] storage stored = proposalActions[id];
        for (uint256 i = 0; i < actions.length; i++) stored.push(actions[i]);
        emit ProposalCreated(id, msg.sender, actions);
    }

    function castVote(uint256 proposalId, uint8 support) external {
        Proposal storage p = proposals[proposalId];
        if (proposalId == 0 || proposalId > proposalCount || p.status != ACTIVE) revert Rejected("vote.status");
        if (block.number > p.voteEnd) revert Rejected("vote.period");
        if (support > 2) revert Rejected("vote");
        VoteRecord storage mine = votes[proposalId][msg.sender];
        if (mine.voted) revert Rejected("vote.once");
        (uint256 own, address delegatedTo, uint256 delegatedAmount) = staking.ownPowerAt(msg.sender, p.snapshotBlock);
        if (own == 0) revert Rejected("vote.power");

        // vote.override, in the order of docs/protocol.md §5.
        uint256 weight = own - overridden[proposalId][msg.sender];
        _addTally(p, support, weight);
        if (delegatedAmount > 0) {
            overridden[proposalId][delegatedTo] += delegatedAmount;
            VoteRecord storage theirs = votes[proposalId][delegatedTo];
            if (theirs.voted) {
                _subTally(p, theirs.support, delegatedAmount);
                theirs.weight -= delegatedAmount;
            }
        }
        bool isValidator = staking.isValidator(msg.sender);
        mine.voted = true;
        mine.support = support;
        mine.isValidator = isValidator;
        mine.weight = weight;
        voterList[proposalId].push(msg.sender);
        if (isValidator) validatorVoterList[proposalId].push(msg.sender);
        emit VoteCast(msg.sender, proposalId, support, weight);
    }

    function queue(uint256 proposalId) external {
        Proposal storage p = proposals[proposalId];
        if (proposalId == 0 || proposalId > proposalCount || p.status != ACTIVE) revert Rejected("queue.status");
        if (block.number <= p.voteEnd) revert Rejected("queue.period");
        uint256 turnout = p.forVotes + p.againstVotes + p.abstainVotes;
        if (turnout * Limits.BPS < uint256(p.quorumBps) * p.bondedAtSnapshot) revert Rejected("queue.quorum");
        if (p.forVotes * Limits.BPS <= uint256(p.thresholdBps) * (p.forVotes + p.againstVotes)) {
            revert Rejected("queue.approval");
        }
        p.status = QUEUED;
        p.eta = uint64(block.number + p.timelock);
        emit ProposalQueued(proposalId, msg.sender, p.eta);
    }

    function execute(uint256 proposalId) external {
        Proposal storage p = proposals[proposalId];
        if (proposalId == 0 || proposalId > proposalCount || p.status != QUEUED) revert Rejected("execute.status");
        if (block.number < p.eta) revert Rejected("execute.timelock");
        bool applied = registry.applyActions(proposalActions[proposalId]);
        if (applied) {
            uint64 e = epochManager.epoch();
            p.status = EXECUTED;
            p.executedEpoch = e;
            executedIn[e].push(proposalId);
        } else {
            p.status = FAILED;
        }
        emit ProposalExecuted(proposalId, msg.sender, applied);
    }

    function cancel(uint256 proposalId) external {
        Proposal storage p = proposals[proposalId];
        if (proposalId == 0 || proposalId > proposalCount || p.proposer != msg.sender) revert Rejected("cancel");
        if (p.status != ACTIVE && p.status != QUEUED) revert Rejected("cancel");
        p.status = CANCELED;
        emit ProposalCanceled(proposalId, msg.sender);
    }

    // ---- reads ----

    function executedInEpoch(uint64 e) external view returns (uint256[] memory) {
        return executedIn[e];
    }

    function validatorVoters(uint256 proposalId) external view returns (address[] memory) {
        return validatorVoterList[proposalId];
    }

    function voters(uint256 proposalId) external view returns (address[] memory) {
        return voterList[proposalId];
    }

    function getProposal(uint256 proposalId) external view returns (Proposal memory) {
        return proposals[proposalId];
    }

    function getActions(uint256 proposalId) external view returns (Action[] memory) {
        return proposalActions[proposalId];
    }

    function getVote(uint256 proposalId, address voter) external view returns (VoteRecord memory) {
        return votes[proposalId][voter];
    }

    function _addTally(Proposal storage p, uint8 support, uint256 w) private {
        if (support == 0) p.againstVotes += w;
        else if (support == 1) p.forVotes += w;
        else p.abstainVotes += w;
    }

    function _subTally(Proposal storage p, uint8 support, uint256 w) private {
        if (support == 0) p.againstVotes -= w;
        else if (support == 1) p.forVotes -= w;
        else p.abstainVotes -= w;
    }
}
