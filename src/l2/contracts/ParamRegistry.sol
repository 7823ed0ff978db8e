// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Action, IParamRegistry, Names} from "./Common.sol";

/// Rollup parameters with their bounds, and the module registry (docs/protocol.md §2, §5 execute.bounds).
/// Only the Governor changes them, through `applyActions` (all or nothing).
contract ParamRegistry is IParamRegistry {
    struct Param {
        bool known;
        uint256 value;
        uint256 min;
        uint256 max;
    }

    struct Module {
        uint64 version;
        bytes32 codeHash;
    }

    struct GenesisParam {
        bytes32 key;
        uint256 value;
        uint256 min;
        uint256 max;
    }

    struct GenesisModule {
        bytes32 id;
        uint64 version;
        bytes32 codeHash;
    }

    address public immutable deployer;
    address public governor;
    bytes32[] internal keys;
    mapping(bytes32 => Param) internal params;
    bytes32[] internal moduleIds;
    mapping(bytes32 => Module) internal modules;

    event ParameterSet(bytes32 indexed key, uint256 value);
    event ModuleUpgraded(bytes32 indexed id, uint64 version, bytes32 codeHash);
    event GovernorSet(address governor);

    error NotGovernor();
    error AlreadyWired();
    error BadGenesis(bytes32 key);

    constructor(GenesisParam[] memory genesisParams, GenesisModule[] memory genesisModules) {
        deployer = msg.sender;
        for (uint256 i = 0; i < genesisParams.length; i++) {
            GenesisParam memory p = genesisParams[i];
            if (!Names.isValid(p.key) || params[p.key].known || p.min > p.max || p.value < p.min || p.value > p.max) {
                revert BadGenesis(p.key);
            }
            params[p.key] = Param(true, p.value, p.min, p.max);
            keys.push(p.key);
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

    function get(bytes32 key) external view returns (uint256) {
        return params[key].value;
    }

    function isKnownKey(bytes32 key) external view returns (bool) {
        return params[key].known;
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
                params[a.key].value = a.value;
                emit ParameterSet(a.key, a.value);
            } else {
                if (modules[a.key].version == 0) moduleIds.push(a.key);
                modules[a.key] = Module(a.version, a.codeHash);
                emit ModuleUpgraded(a.key, a.version, a.codeHash);
            }
        }
        return true;
    }
}
