"""Errors whose message is meant for the user. Front ends turn them into exit codes or UI text."""

from __future__ import annotations


class NewsdeskError(Exception):
    """Base error: ``str(error)`` is a complete sentence a user can act on."""

    exit_code = 1


class IndexMissingError(NewsdeskError):
    exit_code = 3


class IndexMismatchError(NewsdeskError):
    exit_code = 4


class IndexDamagedError(NewsdeskError):
    exit_code = 5


class IndexLockedError(NewsdeskError):
    exit_code = 6


class BadInputError(NewsdeskError):
    """A file or record that cannot be read; the message names its location."""

    exit_code = 2


class ConfigError(NewsdeskError):
    exit_code = 2


class QuestionSetError(BadInputError):
    """An evaluation question set that cannot be used; the message lists each problem as file:line."""
