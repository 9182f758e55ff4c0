"""Every error whose message is meant for the user, with its exit code and its one line for the chat.

Library code raises these; only the edges (the CLI, the chat UI) turn them into an exit code or a
short message. ``str(error)`` is a complete sentence a user can act on; ``chat_message`` is the
shorter line the chat shows, which never carries a path or a stack trace.
"""

from __future__ import annotations

import re
from enum import Enum

REBUILD_COMMAND = "newsdesk index rebuild PATH"
REBUILD_HINT = f"Rebuild it with: {REBUILD_COMMAND}"
BUILD_HINT = f"Build one with: {REBUILD_COMMAND} (for example: newsdesk index rebuild seeds/)"


class NewsdeskError(Exception):
    """Base error: ``str(error)`` is a complete sentence a user can act on."""

    exit_code = 1

    def chat_message(self) -> str:
        """The line the chat shows: the message without file-system paths, at most 300 characters."""
        return _without_paths(str(self))[:300]


class BadInputError(NewsdeskError):
    """A file, record, option or question that cannot be used; the message names its location."""

    exit_code = 2


class ConfigError(NewsdeskError):
    """A setting that cannot be used."""

    exit_code = 2


class InputError(BadInputError):
    """A question or filter the reader has to correct (a date that is not a date, an empty range)."""


class QuestionSetError(BadInputError):
    """An evaluation question set that cannot be used; the message lists each problem as file:line."""


class EmptyArchiveError(BadInputError):
    """A rebuild or update that found no article at all; the live index is left as it was."""


class IndexMissingError(NewsdeskError):
    exit_code = 3

    def chat_message(self) -> str:
        return f"No index — build one with: {REBUILD_COMMAND}, then reload this page."


class MismatchCause(Enum):
    """Why an index cannot be used with the current settings; each cause is worded on its own."""

    MODEL = "model"  # built with another embedding model or dimension
    STORE = "store"  # embedded store vs Chroma server
    CHUNKER = "chunker"  # other chunking settings (an update needs the same ones)
    FORMAT = "format"  # written by an earlier version of newsdesk


_MISMATCH_CHAT = {
    MismatchCause.MODEL: "The index was built with a different embedding model.",
    MismatchCause.STORE: "The index keeps its vectors in a different Chroma store than the one configured.",
    MismatchCause.CHUNKER: "The index was built with other chunking settings.",
    MismatchCause.FORMAT: "The index was written by an earlier version of newsdesk.",
}


class IndexMismatchError(NewsdeskError):
    """The index cannot be used with the current settings; ``cause`` says why."""

    exit_code = 4

    def __init__(self, message: str, cause: MismatchCause = MismatchCause.MODEL) -> None:
        super().__init__(message)
        self.cause = cause

    def chat_message(self) -> str:
        return f"{_MISMATCH_CHAT[self.cause]} {REBUILD_HINT}"


class IndexDamagedError(NewsdeskError):
    exit_code = 5

    def chat_message(self) -> str:
        return f"The index is damaged. {REBUILD_HINT}"


class ArticleDamagedError(IndexDamagedError):
    """An article's stored text no longer matches the hash recorded when it was indexed (damage that
    kept the file's size). It is never quoted: the question fails with this error instead."""

    def chat_message(self) -> str:
        return (
            "An article in the index is damaged (its stored text no longer matches what was indexed), "
            f"so it cannot be quoted. {REBUILD_HINT}"
        )


class IndexLockedError(NewsdeskError):
    exit_code = 6


class IndexWriteError(NewsdeskError):
    """The index directory cannot be written (full disk, read-only, no permission)."""

    exit_code = 7

    def chat_message(self) -> str:
        return "The index could not be written (disk full or read-only); the live index is unchanged."


class ChromaUnavailableError(NewsdeskError):
    """The configured Chroma server cannot be reached."""

    exit_code = 8

    def chat_message(self) -> str:
        return "The vector store (Chroma server) cannot be reached right now; try again shortly."


class ChromaSetupError(ChromaUnavailableError):
    """The Chroma server answers but has no tenant or database of the configured name: waiting will
    not help, so the chat says what to check rather than "try again"."""

    def chat_message(self) -> str:
        return ("The vector store (Chroma server) has no tenant or database of the configured name; "
                "check NEWSDESK_CHROMA_TENANT and NEWSDESK_CHROMA_DATABASE.")


class PromptError(ValueError):
    """A prompt was rendered with missing or unexpected variables (a programming error, not the user's)."""


class WriterTimeout(TimeoutError):
    """The LLM writer did not finish within its time limit; the offline answer is shown instead."""


class UnsupportedDraft(ValueError):
    """The LLM writer quoted its articles, but no sentence of its answer is carried by its quotes; the offline answer is shown instead."""


UNEXPECTED = "Something went wrong while answering; the error was logged."


def chat_message(exc: BaseException) -> str:
    """A short message for the reader: never a stack trace or a path."""
    return exc.chat_message() if isinstance(exc, NewsdeskError) else UNEXPECTED


def without_paths(text: str) -> str:
    """``text`` with every file-system path replaced by an ellipsis (for the chat)."""
    return _without_paths(text)


def _without_paths(text: str) -> str:
    return re.sub(r"(?:[A-Za-z]:)?(?:[\\/][\w.~-]+){2,}[\\/]?", "…", text)
