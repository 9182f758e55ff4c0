"""newsdesk: a chat assistant over a news archive that answers with verified, cited quotes.

Importing the package only defines names; the encoder, Chroma and llama-index load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import Settings
from .errors import NewsdeskError
from .records import Answer, Article, Chunk, Filters, Hit, Quote, Source

if TYPE_CHECKING:
    from .chat import Newsdesk
    from .indexing import rebuild, update

__all__ = ["Answer", "Article", "Chunk", "Filters", "Hit", "Newsdesk", "NewsdeskError", "Quote", "Settings", "Source", "rebuild", "update"]

_LAZY = {"Newsdesk": "chat", "rebuild": "indexing", "update": "indexing"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)
