"""One exception tree for everything a user can act on.

Every error Trainyard raises on purpose derives from :class:`TrainyardError`; the CLI prints its message on one
line and exits with code 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class TrainyardError(Exception):
    """Base class: a problem the user can act on; ``str(err)`` says what and how."""


class SpecError(TrainyardError):
    """The job spec is malformed or its values cannot work."""


class ProgramError(SpecError, ValueError):
    """A training program (trainyard.program) is malformed, breaks its header's limits, or does not fit the
    tensors it is run on; a spec carries its program, hence a SpecError."""


class DatasetError(TrainyardError, ValueError):
    """A dataset file is not a usable .npz (empty, truncated, another format, wrong arrays); also a ValueError, as
    the dataset reader raised before."""


class StoreError(TrainyardError):
    """The content store cannot give or keep the bytes asked for."""


class CIDMismatch(StoreError):
    """Bytes read back do not hash to the CID they were asked for."""


class ConfigError(TrainyardError):
    """Settings, keys or the deployments file are missing or wrong."""


class ChainError(TrainyardError):
    """The node refused or could not be reached."""


class NodeUnreachable(ChainError):
    """No node answers at the configured URL."""


class ContractError(ChainError):
    """A contract call reverted; ``name`` and ``args`` are the decoded custom error when there is one."""

    def __init__(self, message: str, name: str | None = None, args: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.name = name
        self.error_args = args
