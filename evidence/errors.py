"""Errors the tool reports to its user.

Each carries a one-line French message; the CLI maps `exit_code` to the process exit status
(0 ok, 1 a check or an attempt failed, 2 bad input or usage).
"""


class PreuvesError(Exception):
    """Base of every error shown to the user as one line."""

    exit_code = 1


class BadInput(PreuvesError):
    """The user gave something unusable; nothing was changed."""

    exit_code = 2


class NotFound(BadInput):
    """A case, capture or letter named by the user does not exist."""


class WorkspaceError(PreuvesError):
    """The workspace is missing, unreadable, or from another version of the tool."""

    exit_code = 2


class StoreError(PreuvesError):
    """Writing evidence failed (disk full, permissions); no partial record was kept."""

    exit_code = 1


class EvidenceDamaged(PreuvesError):
    """The database is missing or damaged, or the workspace vanished: evidence may be lost."""

    exit_code = 1
