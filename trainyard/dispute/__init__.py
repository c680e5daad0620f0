"""The Python side of the dispute game (docs/disputes.md): the arguments of its moves and a reference of what the
contract recomputes (:mod:`trainyard.dispute.witness`)."""
