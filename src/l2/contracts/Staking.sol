// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20Min, IStaking, Limits} from "./Common.sol";

/// Validators, self stake, delegations and their histories (docs/protocol.md §3, §4). Stake is BTR held
/// by this contract. Every successful call emits exactly one event that the model reads as one input.
contract Staking is IStaking {
    struct Validator {
        bool registered;
        uint16 commissionBps;
        uint256 selfStake;
        uint256 delegated;
    }

    struct Delegation {
        address validator;
        uint256 amount;
    }

    /// (block, value) history; for delegation histories `validator` is the delegation's validator.
    struct Checkpoint {
        uint64 blockNumber;
        address validator;
        uint256 value;
    }

    uint8 internal constant CP_SELF = 0;
    uint8 internal constant CP_DELEGATED = 1;
    uint8 internal constant CP_DELEGATION = 2;
    uint8 internal constant CP_BONDED = 3;

    IERC20Min public immutable token;
    uint256 public totalBonded;

    mapping(address => Validator) internal validators;
    address[] internal validatorList;
    mapping(address => Delegation) internal delegations;
    /// Every address that ever delegated, in order of first delegation (for enumeration by the watcher).
    address[] internal delegatorList;
    mapping(address => bool) internal everDelegated;
    /// Delegators with a non-zero delegation, per validator (≤ 32); order is irrelevant to the rules.
    mapping(address => address[]) internal activeDelegators;
    mapping(address => uint256) internal activeDelegatorIndex; // index + 1, 0 = absent

    mapping(uint8 => mapping(address => Checkpoint[])) internal checkpoints;

    event ValidatorRegistered(address indexed validator, uint16 commissionBps);
    event Staked(address indexed validator, uint256 amount);
    event Unstaked(address indexed validator, uint256 amount);
    event Delegated(address indexed delegator, address indexed validator, uint256 amount);
    event Undelegated(address indexed delegator, address indexed validator, uint256 amount);

    error Rejected(string rule);

    constructor(IERC20Min token_) {
        token = token_;
    }

    // ---- inputs ----

    function registerValidator(uint16 commissionBps) external {
        Validator storage v = validators[msg.sender];
        if (v.registered) revert Rejected("register");
        if (delegations[msg.sender].amount != 0) revert Rejected("register");
        if (commissionBps > Limits.MAX_COMMISSION_BPS) revert Rejected("register");
        if (validatorList.length >= Limits.MAX_REGISTERED_VALIDATORS) revert Rejected("register");
        v.registered = true;
        v.commissionBps = commissionBps;
        validatorList.push(msg.sender);
        emit ValidatorRegistered(msg.sender, commissionBps);
    }

    function stake(uint256 amount) external {
        Validator storage v = validators[msg.sender];
        if (!v.registered || amount == 0) revert Rejected("stake");
        if (amount > Limits.MAX_TOTAL_BONDED - totalBonded) revert Rejected("stake");
        v.selfStake += amount;
        totalBonded += amount;
        _checkpoint(CP_SELF, msg.sender, address(0), v.selfStake);
        _checkpoint(CP_BONDED, address(0), address(0), totalBonded);
        require(token.transferFrom(msg.sender, address(this), amount));
        emit Staked(msg.sender, amount);
    }

    function unstake(uint256 amount) external {
        Validator storage v = validators[msg.sender];
        if (!v.registered || amount == 0 || amount > v.selfStake) revert Rejected("unstake");
        v.selfStake -= amount;
        totalBonded -= amount;
        _checkpoint(CP_SELF, msg.sender, address(0), v.selfStake);
        _checkpoint(CP_BONDED, address(0), address(0), totalBonded);
        require(token.transfer(msg.sender, amount));
        emit Unstaked(msg.sender, amount);
    }

    function delegate(address validator, uint256 amount) external {
        if (validators[msg.sender].registered) revert Rejected("delegate");
        Validator storage v = validators[validator];
        if (!v.registered || amount == 0) revert Rejected("delegate");
        Delegation storage d = delegations[msg.sender];
        uint256 previous = d.amount;
        if (previous != 0) {
            if (d.validator != validator) revert Rejected("delegate");
        } else {
            if (activeDelegators[validator].length >= Limits.MAX_DELEGATORS_PER_VALIDATOR) revert Rejected("delegate");
        }
        if (amount > Limits.MAX_TOTAL_BONDED - totalBonded) revert Rejected("delegate");
        if (previous == 0) {
            activeDelegators[validator].push(msg.sender);
            activeDelegatorIndex[msg.sender] = activeDelegators[validator].length;
        }
        if (!everDelegated[msg.sender]) {
            everDelegated[msg.sender] = true;
            delegatorList.push(msg.sender);
        }
        d.validator = validator;
        d.amount = previous + amount;
        v.delegated += amount;
        totalBonded += amount;
        _checkpoint(CP_DELEGATION, msg.sender, validator, d.amount);
        _checkpoint(CP_DELEGATED, validator, address(0), v.delegated);
        _checkpoint(CP_BONDED, address(0), address(0), totalBonded);
        require(token.transferFrom(msg.sender, address(this), amount));
        emit Delegated(msg.sender, validator, amount);
    }

    function undelegate(address validator, uint256 amount) external {
        Delegation storage d = delegations[msg.sender];
        if (d.validator != validator || d.amount == 0 || amount == 0 || amount > d.amount) {
            revert Rejected("undelegate");
        }
        Validator storage v = validators[validator];
        d.amount -= amount;
        v.delegated -= amount;
        totalBonded -= amount;
        if (d.amount == 0) _removeActiveDelegator(validator, msg.sender);
        _checkpoint(CP_DELEGATION, msg.sender, validator, d.amount);
        _checkpoint(CP_DELEGATED, validator, address(0), v.delegated);
        _checkpoint(CP_BONDED, address(0), address(0), totalBonded);
        require(token.transfer(msg.sender, amount));
        emit Undelegated(msg.sender, validator, amount);
    }

    // ---- reads used by the other contracts ----

    function isValidator(address account) external view returns (bool) {
        return validators[account].registered;
    }

    function validatorCount() external view returns (uint256) {
        return validatorList.length;
    }

    function validatorAt(uint256 index) external view returns (address) {
        return validatorList[index];
    }

    function validatorInfo(address validator)
        external
        view
        returns (bool registered, uint16 commissionBps, uint256 selfStake, uint256 delegated, uint32 delegatorCount)
    {
        Validator storage v = validators[validator];
        return (v.registered, v.commissionBps, v.selfStake, v.delegated, uint32(activeDelegators[validator].length));
    }

    function delegatorsOf(address validator) external view returns (address[] memory) {
        return activeDelegators[validator];
    }

    function delegationOf(address delegator) external view returns (address validator, uint256 amount) {
        Delegation storage d = delegations[delegator];
        return (d.validator, d.amount);
    }

    /// `own(a)` at a block (docs/protocol.md §5 vote.power) and the delegation part of it.
    function ownPowerAt(address account, uint64 blockNumber)
        external
        view
        returns (uint256 power, address delegatedTo, uint256 delegatedAmount)
    {
        (, uint256 selfAt) = _valueAt(checkpoints[CP_SELF][account], blockNumber);
        (, uint256 delegatedAt) = _valueAt(checkpoints[CP_DELEGATED][account], blockNumber);
        (delegatedTo, delegatedAmount) = _valueAt(checkpoints[CP_DELEGATION][account], blockNumber);
        power = selfAt + delegatedAt + delegatedAmount;
    }

    function bondedAt(uint64 blockNumber) external view returns (uint256 value) {
        (, value) = _valueAt(checkpoints[CP_BONDED][address(0)], blockNumber);
    }

    // ---- enumeration for the watcher's cross-check ----

    function delegatorCount() external view returns (uint256) {
        return delegatorList.length;
    }

    function delegatorAt(uint256 index) external view returns (address) {
        return delegatorList[index];
    }

    function checkpointCount(uint8 kind, address account) external view returns (uint256) {
        return checkpoints[kind][account].length;
    }

    function checkpointAt(uint8 kind, address account, uint256 index)
        external
        view
        returns (uint64 blockNumber, address validator, uint256 value)
    {
        Checkpoint storage c = checkpoints[kind][account][index];
        return (c.blockNumber, c.validator, c.value);
    }

    // ---- internals ----

    function _checkpoint(uint8 kind, address account, address validator, uint256 value) private {
        Checkpoint[] storage list = checkpoints[kind][account];
        uint64 b = uint64(block.number);
        uint256 n = list.length;
        if (n > 0 && list[n - 1].blockNumber == b) {
            list[n - 1].validator = validator;
            list[n - 1].value = value;
        } else {
            list.push(Checkpoint(b, validator, value));
        }
    }

    /// The last checkpoint with block ≤ at, or (0, 0) (binary search).
    function _valueAt(Checkpoint[] storage list, uint64 at) private view returns (address, uint256) {
        uint256 lo = 0;
        uint256 hi = list.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (list[mid].blockNumber <= at) lo = mid + 1;
            else hi = mid;
        }
        if (lo == 0) return (address(0), 0);
        Checkpoint storage c = list[lo - 1];
        return (c.validator, c.value);
    }

    function _removeActiveDelegator(address validator, address delegator) private {
        address[] storage list = activeDelegators[validator];
        uint256 i = activeDelegatorIndex[delegator] - 1;
        uint256 last = list.length - 1;
        if (i != last) {
            address moved = list[last];
            list[i] = moved;
            activeDelegatorIndex[moved] = i + 1;
        }
        list.pop();
        activeDelegatorIndex[delegator] = 0;
    }
}
