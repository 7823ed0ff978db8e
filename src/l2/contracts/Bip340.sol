// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// BIP-340 Schnorr verification on the EVM, for the challenger registry's proof of possession.
///
/// With e = H_challenge(R.x || P.x || m) mod n, a signature (R.x, s) is valid for P = lift_x(P.x) when
/// s·G − e·P = lift_x(R.x) (the point with even y). The EVM has no point arithmetic, but ecrecover
/// computes Q = r⁻¹·(s'·R' − h·G) for the point R' with x = r and the y parity v. Taking R' = P
/// (r = P.x, v = 27: even y), s' = −e·P.x and h = −s·P.x (mod n) gives Q = s·G − e·P, and ecrecover
/// returns Q's address; the check is that it is the address of lift_x(R.x), whose y the modexp
/// precompile gives. A P.x that is not on the curve makes ecrecover fail; one at or above n (about
/// 2^-128 of keys) cannot be passed to it and is refused.
library Bip340 {
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint256 internal constant P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F;

    /// Whether (rx, s) is a BIP-340 signature of the 32-byte message `m` under the x-only key `px`.
    function verify(bytes32 px, bytes32 m, bytes32 rx, bytes32 s) internal view returns (bool) {
        uint256 x = uint256(px);
        uint256 r = uint256(rx);
        uint256 sv = uint256(s);
        if (x == 0 || x >= N || r >= P || sv >= N) return false;
        bytes32 tag = sha256("BIP0340/challenge");
        uint256 e = uint256(sha256(abi.encodePacked(tag, tag, rx, px, m))) % N;
        if (e == 0) return false;
        uint256 h = (N - mulmod(sv, x, N)) % N;
        uint256 sPrime = N - mulmod(e, x, N);
        address q = ecrecover(bytes32(h), 27, px, bytes32(sPrime));
        if (q == address(0)) return false;
        (bool onCurve, uint256 ry) = liftX(r);
        if (!onCurve) return false;
        return q == address(uint160(uint256(keccak256(abi.encodePacked(r, ry)))));
    }

    /// The even y of the curve point with x `x`, if there is one.
    function liftX(uint256 x) internal view returns (bool, uint256) {
        uint256 c = addmod(mulmod(mulmod(x, x, P), x, P), 7, P);
        // p ≡ 3 (mod 4): a square root of c is c^((p + 1) / 4).
        (bool ok, bytes memory out) =
            address(0x05).staticcall(abi.encode(uint256(32), uint256(32), uint256(32), c, (P + 1) / 4, P));
        if (!ok || out.length != 32) return (false, 0);
        uint256 y = abi.decode(out, (uint256));
        if (mulmod(y, y, P) != c) return (false, 0);
        return (true, y & 1 == 0 ? y : P - y);
    }
}
