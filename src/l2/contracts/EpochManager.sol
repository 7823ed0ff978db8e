// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IEpochManager, IGovernor, IParamRegistry, IStaking, Limits} from "./Common.sol";

/// Ends epochs (docs/protocol.md §6): splits the epoch reward over the active set (commission, delegator
/// shares, rounding remainders to the treasury), pays the governance subsidy, chooses the next set, and
/// has the ParamRegistry put in force the rollup parameters scheduled for the new epoch (§6.6).
/// Rewards are an accrued ledger here; tokens are not minted for them on the devnet.
contract EpochManager is IEpochManager {
    IStaking public immutable staking;
    IParamRegistry public immutable registry;
    IGovernor public immutable governor;
    /// The contract's own limit on how often an epoch may end (the model accepts any ordered endEpoch).
    uint64 public immutable minEpochBlocks;

    uint64 public epoch;
    uint64 public lastEndBlock;
    uint256 public totalIssued;
    uint256 public treasury;
    mapping(address => uint256) public rewards;
    address[] internal rewardAccounts;
    mapping(address => bool) internal hasRewardEntry;
    address[] internal activeValidators;
    uint256[] internal activePowers;

    event EpochEnded(uint64 indexed epoch, address indexed caller);

    error TooEarly(uint64 nextAllowedBlock);

    bytes32 internal constant EPOCH_REWARD = "epochReward";
    bytes32 internal constant SUBSIDY = "governanceSubsidy";
    bytes32 internal constant MAX_VALIDATORS = "maxValidators";
    bytes32 internal constant MAX_POWER_BPS = "maxPowerBps";
    bytes32 internal constant MIN_STAKE = "minStake";

    constructor(IStaking staking_, IParamRegistry registry_, IGovernor governor_, uint64 minEpochBlocks_) {
        staking = staking_;
        registry = registry_;
        governor = governor_;
        minEpochBlocks = minEpochBlocks_;
    }

    function endEpoch() external {
        if (epoch > 0 && block.number < uint256(lastEndBlock) + minEpochBlocks) {
            revert TooEarly(lastEndBlock + minEpochBlocks);
        }
        uint64 e = epoch;
        _distributeEpochReward();
        _paySubsidies(e);
        _chooseNextSet();
        epoch = e + 1;
        // 6.6 epoch.params.activate, after the epoch number moved on.
        registry.activate(e + 1);
        lastEndBlock = uint64(block.number);
        emit EpochEnded(e, msg.sender);
    }

    // ---- 6.1 / 6.2 ----

    function _distributeEpochReward() private {
        uint256 reward = registry.get(EPOCH_REWARD);
        totalIssued += reward;
        uint256 n = activeValidators.length;
        uint256 total = 0;
        for (uint256 i = 0; i < n; i++) total += activePowers[i];
        if (total == 0) {
            treasury += reward;
            return;
        }
        uint256 paid = 0;
        for (uint256 i = 0; i < n; i++) {
            uint256 share = (reward * activePowers[i]) / total;
            paid += share;
            _payout(activeValidators[i], share);
        }
        treasury += reward - paid;
    }

    function _payout(address validator, uint256 amount) private {
        (, uint16 commissionBps, uint256 selfStake, uint256 delegated,) = staking.validatorInfo(validator);
        uint256 commission = (amount * commissionBps) / Limits.BPS;
        uint256 rest = amount - commission;
        uint256 base = selfStake + delegated;
        if (base == 0) {
            _credit(validator, amount);
            return;
        }
        uint256 distributed = 0;
        address[] memory delegators = staking.delegatorsOf(validator);
        for (uint256 i = 0; i < delegators.length; i++) {
            (, uint256 a) = staking.delegationOf(delegators[i]);
            if (a == 0) continue;
            uint256 s = (rest * a) / base;
            distributed += s;
            _credit(delegators[i], s);
        }
        uint256 own = (rest * selfStake) / base;
        _credit(validator, commission + own);
        treasury += rest - own - distributed;
    }

    // ---- 6.3 ----

    function _paySubsidies(uint64 e) private {
        uint256[] memory executed = governor.executedInEpoch(e);
        if (executed.length == 0) return;
        uint256 subsidy = registry.get(SUBSIDY);
        for (uint256 i = 0; i < executed.length; i++) {
            totalIssued += subsidy;
            address[] memory voters = governor.validatorVoters(executed[i]);
            if (voters.length == 0) {
                treasury += subsidy;
                continue;
            }
            uint256 each = subsidy / voters.length;
            for (uint256 j = 0; j < voters.length; j++) _credit(voters[j], each);
            treasury += subsidy % voters.length;
        }
    }

    // ---- 6.4 ----

    function _chooseNextSet() private {
        uint256 maxValidators = registry.get(MAX_VALIDATORS);
        uint256 minStake = registry.get(MIN_STAKE);
        uint256 count = staking.validatorCount();
        address[] memory top = new address[](maxValidators < count ? maxValidators : count);
        uint256[] memory totals = new uint256[](top.length);
        uint256 kept = 0;
        for (uint256 i = 0; i < count; i++) {
            address v = staking.validatorAt(i);
            (, , uint256 selfStake, uint256 delegated,) = staking.validatorInfo(v);
            if (selfStake < minStake) continue;
            uint256 t = selfStake + delegated;
            // Insertion into the kept prefix, ordered by total descending then address ascending.
            uint256 pos = kept;
            while (pos > 0 && _ranksBefore(t, v, totals[pos - 1], top[pos - 1])) pos--;
            if (pos >= top.length) continue;
            uint256 last = kept < top.length ? kept : top.length - 1;
            for (uint256 k = last; k > pos; k--) {
                top[k] = top[k - 1];
                totals[k] = totals[k - 1];
            }
            top[pos] = v;
            totals[pos] = t;
            if (kept < top.length) kept++;
        }
        uint256 sum = 0;
        for (uint256 i = 0; i < kept; i++) sum += totals[i];
        uint256 cap = (sum * registry.get(MAX_POWER_BPS)) / Limits.BPS;
        delete activeValidators;
        delete activePowers;
        for (uint256 i = 0; i < kept; i++) {
            activeValidators.push(top[i]);
            activePowers.push(totals[i] < cap ? totals[i] : cap);
        }
    }

    function _ranksBefore(uint256 totalA, address a, uint256 totalB, address b) private pure returns (bool) {
        return totalA > totalB || (totalA == totalB && a < b);
    }

    function _credit(address account, uint256 amount) private {
        if (!hasRewardEntry[account]) {
            hasRewardEntry[account] = true;
            rewardAccounts.push(account);
        }
        rewards[account] += amount;
    }

    // ---- reads for the watcher's cross-check ----

    function activeSet() external view returns (address[] memory validators, uint256[] memory powers) {
        return (activeValidators, activePowers);
    }

    function rewardAccountCount() external view returns (uint256) {
        return rewardAccounts.length;
    }

    function rewardAccountAt(uint256 index) external view returns (address account, uint256 accrued) {
        account = rewardAccounts[index];
        accrued = rewards[account];
    }
}
