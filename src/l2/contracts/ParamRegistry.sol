// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Action, IEpochManager, IParamRegistry, Names} from "./Common.sol";

/// Rollup parameters with their bounds, and the module registry (docs/protocol.md §2, §5 execute.bounds).
/// Only the Governor changes them, through `applyActions` (all or nothing). A key marked `nextEpoch` at
/// genesis (the rollup's own parameters) is not written at execute: the change waits as the key's pending
/// value until the EpochManager's end of the current epoch puts it in force (§2, §6.6 epoch.params.activate).
contract ParamRegistry is IParamRegistry {
    struct Param {
        bool known;
        bool nextEpoch;
        uint256 value;
        uint256 min;
        uint256 max;
    }

    struct Module {
        uint64 version;
        bytes32 codeHash;
    }

    /// A scheduled change of a nextEpoch key; activationEpoch 0 means nothing is pending (a real activation
    /// epoch is at least 1).
    struct Pending {
        uint256 value;
        uint64 activationEpoch;
    }

    struct GenesisParam {
        bytes32 key;
        uint256 value;
        uint256 min;
        uint256 max;
        bool nextEpoch;
    }

    struct GenesisModule {
        bytes32 id;
        uint64 version;
        bytes32 codeHash;
    }

    address public immutable deployer;
    address public governor;
    IEpochManager public epochManager;
    bytes32[] internal keys;
    mapping(bytes32 => Param) internal params;
    /// The nextEpoch keys in genesis order: the order §6.6 activates them in.
    bytes32[] internal nextEpochKeys;
    mapping(bytes32 => Pending) internal pending;
    bytes32[] internal moduleIds;
    mapping(bytes32 => Module) internal modules;

    event ParameterSet(bytes32 indexed key, uint256 value);
    event ParameterScheduled(bytes32 indexed key, uint256 value, uint64 activationEpoch);
    event ModuleUpgraded(bytes32 indexed id, uint64 version, bytes32 codeHash);
    event GovernorSet(address governor);

    error NotGovernor();
    error NotEpochManager();
    error AlreadyWired();
    error BadGenesis(bytes32 key);

    constructor(GenesisParam[] memory genesisParams, GenesisModule[] memory genesisModules) {
        deployer = msg.sender;
        for (uint256 i = 0; i < genesisParams.length; i++) {
            GenesisParam memory p = genesisParams[i];
            if (!Names.isValid(p.key) || params[p.key].known || p.min > p.max || p.value < p.min || p.value > p.max) {
                revert BadGenesis(p.key);
            }
            params[p.key] = Param(true, p.nextEpoch, p.value, p.min, p.max);
            keys.push(p.key);
            if (p.nextEpoch) nextEpochKeys.push(p.key);
        }
        for (uint256 i = 0; i < genesisModules.length; i++) {
            GenesisModule memory m = genesisModules[i];
            if (!Names.isValid(m.id) || modules[m.id].version != 0 || m.version == 0) revert BadGenesis(m.id);
            modules[m.id] = Module(m.version, m.codeHash);
            moduleIds.push(m.id);
        }
    }

    /// Wires the Governor once (the two contracts reference each other).
    function setGovernor(address governor_) external {
        if (msg.sender != deployer || governor != address(0)) revert AlreadyWired();
        governor = governor_;
        emit GovernorSet(governor_);
    }

    /// Wires the EpochManager once: it supplies the epoch a scheduled change activates after, and it alone
    /// may activate (the two contracts reference each other).
    function setEpochManager(IEpochManager epochManager_) external {
        if (msg.sender != deployer || address(epochManager) != address(0)) revert AlreadyWired();
        epochManager = epochManager_;
    }

    function get(bytes32 key) external view returns (uint256) {
        return params[key].value;
    }

    function isKnownKey(bytes32 key) external view returns (bool) {
        return params[key].known;
    }

    /// True for the keys whose changes wait for the next epoch (§2).
    function isNextEpochKey(bytes32 key) external view returns (bool) {
        return params[key].nextEpoch;
    }

    /// The key's pending value and the epoch it takes effect at; (0, 0) when nothing is pending.
    function pendingOf(bytes32 key) external view returns (uint256 value, uint64 activationEpoch) {
        Pending storage q = pending[key];
        return (q.value, q.activationEpoch);
    }

    function bounds(bytes32 key) external view returns (uint256 min, uint256 max) {
        return (params[key].min, params[key].max);
    }

    function paramCount() external view returns (uint256) {
        return keys.length;
    }

    function paramAt(uint256 index) external view returns (bytes32 key, uint256 value) {
        key = keys[index];
        value = params[key].value;
    }

    function moduleCount() external view returns (uint256) {
        return moduleIds.length;
    }

    function moduleAt(uint256 index) external view returns (bytes32 id, uint64 version, bytes32 codeHash) {
        id = moduleIds[index];
        Module storage m = modules[id];
        return (id, m.version, m.codeHash);
    }

    function moduleOf(bytes32 id) external view returns (uint64 version, bytes32 codeHash) {
        Module storage m = modules[id];
        return (m.version, m.codeHash);
    }

    /// execute.bounds: every action is checked in order against the state as the earlier actions of the
    /// same proposal would leave it; if all pass they are applied in order, otherwise nothing is.
    function applyActions(Action[] calldata actions) external returns (bool applied) {
        if (msg.sender != governor) revert NotGovernor();
        for (uint256 i = 0; i < actions.length; i++) {
            Action calldata a = actions[i];
            if (a.kind == 0) {
                Param storage p = params[a.key];
                if (!p.known || a.value < p.min || a.value > p.max) return false;
            } else {
                uint64 current = modules[a.key].version;
                // The latest earlier action of this proposal on the same module sets the bar; it passed, so
                // it is also the highest.
                for (uint256 j = i; j > 0; j--) {
                    Action calldata earlier = actions[j - 1];
                    if (earlier.kind == 1 && earlier.key == a.key) {
                        current = earlier.version;
                        break;
                    }
                }
                if (a.version <= current) return false;
            }
        }
        for (uint256 i = 0; i < actions.length; i++) {
            Action calldata a = actions[i];
            if (a.kind == 0) {
                if (params[a.key].nextEpoch) {
                    // A later action or proposal on the same key in the same epoch overwrites the pending one.
                    uint64 activationEpoch = epochManager.epoch() + 1;
                    pending[a.key] = Pending(a.value, activationEpoch);
                    emit ParameterScheduled(a.key, a.value, activationEpoch);
                } else {
                    params[a.key].value = a.value;
                    emit ParameterSet(a.key, a.value);
                }
            } else {
                if (modules[a.key].version == 0) moduleIds.push(a.key);
                modules[a.key] = Module(a.version, a.codeHash);
                emit ModuleUpgraded(a.key, a.version, a.codeHash);
            }
        }
        return true;
    }

    /// §6.6 epoch.params.activate, called by EpochManager.endEpoch once `epoch` is the new epoch: every
    /// nextEpoch key, in genesis order, whose pending change is due (activationEpoch != 0 and <= epoch) takes
    /// its pending value, and its pending entry is cleared.
    function activate(uint64 epoch) external {
        if (msg.sender != address(epochManager)) revert NotEpochManager();
        for (uint256 i = 0; i < nextEpochKeys.length; i++) {
            bytes32 key = nextEpochKeys[i];
            Pending storage q = pending[key];
            if (q.activationEpoch == 0 || q.activationEpoch > epoch) continue;
            uint256 value = q.value;
            params[key].value = value;
            delete pending[key];
            emit ParameterSet(key, value);
        }
    }
}
