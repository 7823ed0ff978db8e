// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Bip340} from "./Bip340.sol";
import {IEpochManager, IStaking} from "./Common.sol";

interface IActiveSet {
    function activeSet() external view returns (address[] memory validators, uint256[] memory powers);
}

/// Who may challenge a claim, and the game keys each challenger commits (docs/protocol.md §24.1). Every
/// move of a game is presigned for one challenger, so the challengers of a claim are fixed before its
/// graph is built, in three steps, each an event Vigil reads:
///   1. the operator opens the claim of an ended epoch (its claim outpoint): the contract lists its
///      challengers, the active validators' named keys (the most powerful first, at most
///      VALIDATOR_SLOTS) and, in the free slots (at least MIN_FREE_SLOTS), registered independent
///      verifiers in rotation from offset epoch × free mod N;
///   2. within bundleWindow blocks each listed challenger posts its bundle: its game's Winternitz public
///      keys (the key plan's challenger keys, in its order) and its bond coin;
///   3. the operator commits the hash of the claim document built on the bundles posted, within
///      commitWindow blocks of the bundle window's close. The contract cannot read the document; import
///      refuses one whose challengers differ from these bundles. A claim not committed by then has
///      lapsed for good: nobody can play its game, so no challenger holds a bond coin or the epoch's
///      history for it any longer (docs/protocol.md §24.11 item 41).
/// A key is an x-only public key, unique in the registry. Anyone registers one as an independent
/// verifier; a registered validator names one for its slot. Either way the sender proves it holds the
/// key's secret: a BIP-340 signature of `possessionMessage(sender, key)`, which names this chain, this
/// registry and the sender, so a registration seen in the mempool cannot be replayed from another
/// account to lock its key's owner out (docs/protocol.md §24.11 item 36).
contract ChallengerRegistry {
    struct Claim {
        uint64 openedAt;
        uint8 listed;
        uint8 posted;
        bool committed;
        bytes32 documentHash;
    }

    uint8 public constant VALIDATOR_SLOTS = 24;
    uint8 public constant MIN_FREE_SLOTS = 8;

    address public immutable operator;
    IEpochManager public immutable epochManager;
    IStaking public immutable staking;
    /// W_max: the challengers of one claim.
    uint8 public immutable maxChallengers;
    /// L2 blocks after a claim opens during which its challengers post their bundles.
    uint64 public immutable bundleWindow;
    /// The bytes of one bundle's keys at the network's search shape (the key plan's challenger keys).
    uint32 public immutable bundleKeyBytes;
    /// L2 blocks after the bundle window closes during which the operator may still commit the claim.
    uint64 public immutable commitWindow;

    bytes32[] internal registrants;
    mapping(bytes32 => address) public ownerOf;
    mapping(address => bytes32) public validatorKey;
    mapping(address => bytes32) public registrantKey;

    mapping(uint64 => Claim) internal claims;
    /// epoch → slot → the listed key.
    mapping(uint64 => mapping(uint8 => bytes32)) public listedKey;
    /// epoch → slot → the hash of the bundle posted (zero: none).
    mapping(uint64 => mapping(uint8 => bytes32)) public bundleHash;

    event ChallengerRegistered(address indexed owner, bytes32 key, uint256 index);
    event ChallengerNamed(address indexed validator, bytes32 key);
    event ClaimOpened(uint64 indexed epoch, bytes32 claimTxid, uint32 claimVout, bytes32[] challengers);
    event BundlePosted(
        uint64 indexed epoch,
        uint8 indexed slot,
        bytes32 key,
        bytes32 bondTxid,
        uint32 bondVout,
        uint64 bondValue,
        bytes keys
    );
    event ClaimGraphCommitted(uint64 indexed epoch, bytes32 documentHash, uint8 challengers);

    error NotOperator();
    error NotValidator();
    error BadKey();
    error NoPossession(bytes32 key);
    error KeyTaken(bytes32 key);
    error AlreadyRegistered();
    error EpochNotEnded(uint64 epoch);
    error ClaimAlreadyOpened(uint64 epoch);
    error ClaimNotOpened(uint64 epoch);
    error NoChallengers(uint64 epoch);
    error NotListed(uint64 epoch, uint8 slot);
    error NotKeyOwner();
    error BundleWindowClosed(uint64 epoch);
    error BundleWindowOpen(uint64 epoch, uint64 closesAt);
    error BundleAlreadyPosted(uint64 epoch, uint8 slot);
    error BadBundle(string reason);
    error AlreadyCommitted(uint64 epoch);
    error CommitWindowClosed(uint64 epoch, uint64 closedAt);

    constructor(
        address operator_,
        IEpochManager epochManager_,
        IStaking staking_,
        uint8 maxChallengers_,
        uint64 bundleWindow_,
        uint32 bundleKeyBytes_,
        uint64 commitWindow_
    ) {
        require(maxChallengers_ > MIN_FREE_SLOTS, "W_max leaves no room for independent verifiers");
        require(bundleKeyBytes_ > 0 && bundleKeyBytes_ % 20 == 0, "keys are 20-byte hashes");
        operator = operator_;
        epochManager = epochManager_;
        staking = staking_;
        maxChallengers = maxChallengers_;
        bundleWindow = bundleWindow_;
        bundleKeyBytes = bundleKeyBytes_;
        commitWindow = commitWindow_;
    }

    // ---- keys ----

    /// What the holder of `key` signs (BIP-340) to register it, or name it, from `account` here.
    function possessionMessage(address account, bytes32 key) public view returns (bytes32) {
        return sha256(
            abi.encodePacked("Vigil/challenger-registry/possession/v1", block.chainid, address(this), account, key)
        );
    }

    /// Whether (sigR, sigS) proves that `account` holds the secret of `key`.
    function provesPossession(address account, bytes32 key, bytes32 sigR, bytes32 sigS)
        public
        view
        returns (bool)
    {
        return Bip340.verify(key, possessionMessage(account, key), sigR, sigS);
    }

    /// Registers `key` as an independent verifier, once per address, with the key's proof of possession.
    function register(bytes32 key, bytes32 sigR, bytes32 sigS) external {
        if (key == bytes32(0)) revert BadKey();
        if (!provesPossession(msg.sender, key, sigR, sigS)) revert NoPossession(key);
        if (ownerOf[key] != address(0)) revert KeyTaken(key);
        if (registrantKey[msg.sender] != bytes32(0)) revert AlreadyRegistered();
        ownerOf[key] = msg.sender;
        registrantKey[msg.sender] = key;
        registrants.push(key);
        emit ChallengerRegistered(msg.sender, key, registrants.length - 1);
    }

    /// A registered validator names the key of its slot (replacing the one it named before), with the
    /// key's proof of possession.
    function nameChallenger(bytes32 key, bytes32 sigR, bytes32 sigS) external {
        if (!staking.isValidator(msg.sender)) revert NotValidator();
        if (key == bytes32(0)) revert BadKey();
        if (!provesPossession(msg.sender, key, sigR, sigS)) revert NoPossession(key);
        if (ownerOf[key] != address(0)) revert KeyTaken(key);
        bytes32 old = validatorKey[msg.sender];
        if (old != bytes32(0)) delete ownerOf[old];
        ownerOf[key] = msg.sender;
        validatorKey[msg.sender] = key;
        emit ChallengerNamed(msg.sender, key);
    }

    function registrantCount() external view returns (uint256) {
        return registrants.length;
    }

    // ---- claims ----

    /// Step 1: the operator opens the claim of ended epoch `epoch`; the contract lists its challengers.
    function openClaim(uint64 epoch, bytes32 claimTxid, uint32 claimVout) external {
        if (msg.sender != operator) revert NotOperator();
        if (epoch >= epochManager.epoch()) revert EpochNotEnded(epoch);
        Claim storage c = claims[epoch];
        if (c.openedAt != 0) revert ClaimAlreadyOpened(epoch);
        bytes32[] memory list = _challengers(epoch);
        if (list.length == 0) revert NoChallengers(epoch);
        c.openedAt = uint64(block.number);
        c.listed = uint8(list.length);
        for (uint8 i = 0; i < list.length; i++) listedKey[epoch][i] = list[i];
        emit ClaimOpened(epoch, claimTxid, claimVout, list);
    }

    /// The validators' named keys (the most powerful first), then registrants in rotation.
    function _challengers(uint64 epoch) internal view returns (bytes32[] memory list) {
        (address[] memory validators,) = IActiveSet(address(epochManager)).activeSet();
        uint256 validatorSlots = maxChallengers - MIN_FREE_SLOTS;
        if (validatorSlots > VALIDATOR_SLOTS) validatorSlots = VALIDATOR_SLOTS;
        bytes32[] memory out = new bytes32[](maxChallengers);
        uint256 n = 0;
        for (uint256 i = 0; i < validators.length && n < validatorSlots; i++) {
            bytes32 k = validatorKey[validators[i]];
            if (k != bytes32(0)) out[n++] = k;
        }
        uint256 free = maxChallengers - n;
        uint256 total = registrants.length;
        uint256 take = free < total ? free : total;
        uint256 offset = total == 0 ? 0 : (uint256(epoch) * free) % total;
        for (uint256 j = 0; j < take; j++) out[n++] = registrants[(offset + j) % total];
        list = new bytes32[](n);
        for (uint256 i = 0; i < n; i++) list[i] = out[i];
    }

    /// Step 2: the owner of slot `slot`'s key posts its bundle, once, within the bundle window.
    function postBundle(
        uint64 epoch,
        uint8 slot,
        bytes32 bondTxid,
        uint32 bondVout,
        uint64 bondValue,
        bytes calldata keys
    ) external {
        Claim storage c = claims[epoch];
        if (c.openedAt == 0) revert ClaimNotOpened(epoch);
        if (block.number > uint256(c.openedAt) + bundleWindow) revert BundleWindowClosed(epoch);
        if (slot >= c.listed) revert NotListed(epoch, slot);
        bytes32 key = listedKey[epoch][slot];
        if (ownerOf[key] != msg.sender) revert NotKeyOwner();
        if (bundleHash[epoch][slot] != bytes32(0)) revert BundleAlreadyPosted(epoch, slot);
        if (keys.length != bundleKeyBytes) revert BadBundle("keys are not the key plan's size");
        if (bondValue == 0) revert BadBundle("no bond");
        bundleHash[epoch][slot] = keccak256(abi.encode(key, bondTxid, bondVout, bondValue, keys));
        c.posted++;
        emit BundlePosted(epoch, slot, key, bondTxid, bondVout, bondValue, keys);
    }

    /// Step 3: the operator commits the claim document's hash, after the bundle window (or every bundle)
    /// and at the latest commitWindow blocks after it closed.
    function commitClaimGraph(uint64 epoch, bytes32 documentHash) external {
        if (msg.sender != operator) revert NotOperator();
        Claim storage c = claims[epoch];
        if (c.openedAt == 0) revert ClaimNotOpened(epoch);
        if (c.committed) revert AlreadyCommitted(epoch);
        uint64 closesAt = c.openedAt + bundleWindow;
        if (c.posted < c.listed && block.number <= closesAt) revert BundleWindowOpen(epoch, closesAt);
        if (block.number > uint256(closesAt) + commitWindow) {
            revert CommitWindowClosed(epoch, uint64(uint256(closesAt) + commitWindow));
        }
        if (c.posted == 0) revert NoChallengers(epoch);
        c.committed = true;
        c.documentHash = documentHash;
        emit ClaimGraphCommitted(epoch, documentHash, c.posted);
    }

    function claimOf(uint64 epoch) external view returns (Claim memory) {
        return claims[epoch];
    }
}
