// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Attacker (tests only)
/// @notice An attacker's account as a contract: its owner makes it send any list of calls, with value, in one atomic
/// transaction (all succeed or the whole batch reverts with the failing call's own error), and it can run another
/// list whenever it receives ETH (to re-enter the payer). Tests deploy several of these as a solver and its sock
/// accounts to play the attacks that an externally owned account, one call at a time, cannot.
contract Attacker {
    /// @notice One call of a batch.
    struct Call {
        address target;
        uint256 value;
        bytes data;
    }

    error AttackerNotOwner(address caller);

    /// @notice Emitted for every call a batch made, with what it returned.
    event Called(address indexed target, uint256 value, bytes result);

    /// @notice Who may make this contract act.
    address public immutable owner;
    /// @notice How many times `receive` ran its list (bounds re-entry to one level per payment).
    uint256 public received;

    Call[] private _onReceive;
    bool private _inReceive;

    constructor() payable {
        owner = msg.sender;
    }

    /// @notice Make every call in order, atomically; a failing call reverts the batch with its own revert data.
    /// @param calls The calls.
    /// @return results What each call returned.
    function batch(Call[] calldata calls) external payable returns (bytes[] memory results) {
        if (msg.sender != owner) revert AttackerNotOwner(msg.sender);
        results = new bytes[](calls.length);
        for (uint256 i = 0; i < calls.length; ++i) {
            results[i] = _call(calls[i].target, calls[i].value, calls[i].data);
        }
    }

    /// @notice Set the calls to make (once per payment, not recursively) whenever this contract receives ETH.
    /// @param calls The calls; an empty list turns it off.
    function setOnReceive(Call[] calldata calls) external {
        if (msg.sender != owner) revert AttackerNotOwner(msg.sender);
        delete _onReceive;
        for (uint256 i = 0; i < calls.length; ++i) {
            _onReceive.push(calls[i]);
        }
    }

    /// @notice Accept ETH and run the on-receive calls (a re-entry attempt into whoever paid).
    receive() external payable {
        if (_inReceive || _onReceive.length == 0) return;
        _inReceive = true;
        received += 1;
        for (uint256 i = 0; i < _onReceive.length; ++i) {
            Call storage c = _onReceive[i];
            _call(c.target, c.value, c.data);
        }
        _inReceive = false;
    }

    function _call(address target, uint256 value, bytes memory data) private returns (bytes memory ret) {
        bool ok;
        (ok, ret) = target.call{value: value}(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        emit Called(target, value, ret);
    }
}
