// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// One action of a proposal (docs/protocol.md §5). kind 0 = setParameter(key, value);
/// kind 1 = upgradeModule(key = module id, version, codeHash). Unused fields must be zero.
struct Action {
    uint8 kind;
    bytes32 key;
    uint256 value;
    uint64 version;
    bytes32 codeHash;
}

/// Protocol constants (docs/protocol.md §2): not governable, they bound the gas of the loops below.
library Limits {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_COMMISSION_BPS = 10_000;
    uint256 internal constant MAX_REGISTERED_VALIDATORS = 256;
    uint256 internal constant MAX_DELEGATORS_PER_VALIDATOR = 32;
    uint256 internal constant MAX_PROPOSAL_ACTIONS = 16;
    /// Bounds every product of §6 and the vote count (docs/protocol.md §2): none can overflow uint256.
    uint256 internal constant MAX_TOTAL_BONDED = type(uint128).max;
}

library Names {
    /// A parameter key or module id: ASCII [A-Za-z0-9_-], 1..32 characters, right-padded with zero bytes.
    function isValid(bytes32 name) internal pure returns (bool) {
        bool ended = false;
        uint256 length = 0;
        for (uint256 i = 0; i < 32; i++) {
            uint8 c = uint8(name[i]);
            if (c == 0) {
                ended = true;
                continue;
            }
            if (ended) return false;
            bool ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d
                || c == 0x5f;
            if (!ok) return false;
            length++;
        }
        return length > 0;
    }
}

/// The pieces of the Staking contract the other contracts read.
interface IStaking {
    function isValidator(address account) external view returns (bool);
    function validatorCount() external view returns (uint256);
    function validatorAt(uint256 index) external view returns (address);
    function validatorInfo(address validator)
        external
        view
        returns (bool registered, uint16 commissionBps, uint256 selfStake, uint256 delegated, uint32 delegatorCount);
    function delegatorsOf(address validator) external view returns (address[] memory);
    function delegationOf(address delegator) external view returns (address validator, uint256 amount);
    function ownPowerAt(address account, uint64 blockNumber) external view returns (uint256 power, address delegatedTo, uint256 delegatedAmount);
    function bondedAt(uint64 blockNumber) external view returns (uint256);
}

interface IParamRegistry {
    function get(bytes32 key) external view returns (uint256);
    function isKnownKey(bytes32 key) external view returns (bool);
    function applyActions(Action[] calldata actions) external returns (bool applied);
    function activate(uint64 epoch) external;
}

interface IGovernor {
    function executedInEpoch(uint64 epoch) external view returns (uint256[] memory);
    function validatorVoters(uint256 proposalId) external view returns (address[] memory);
}

interface IEpochManager {
    function epoch() external view returns (uint64);
}

interface IERC20Min {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
}
