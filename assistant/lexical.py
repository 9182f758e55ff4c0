"""Word-level text processing shared by the BM25 index and sentence scoring."""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path

_WORD = re.compile(r"(?u)\b\w[\w'’]*\w\b|\b\d\b")
_QUESTION_WORDS = {
    "what", "who", "whom", "whose", "which", "when", "where", "why", "how", "much", "many", "say", "said",
    "says", "tell", "told", "according", "article", "did", "does", "do", "would", "could", "also",
}


def nltk_data() -> Path:
    """The NLTK data bundled with llama-index-core, found without importing llama-index (seconds)."""
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("llama-index-core is not installed: it carries the NLTK data newsdesk reads")
    return Path(spec.origin).parent / "_static" / "nltk_cache"


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """NLTK's English stop words (bundled with llama-index-core) plus question words."""
    path = nltk_data() / "corpora" / "stopwords" / "english"
    words = set(path.read_text(encoding="utf-8").split()) if path.is_file() else set()
    return frozenset(words | _QUESTION_WORDS)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    return [w.replace("’", "'").lower() for w in _WORD.findall(text)]


def terms(text: str) -> list[str]:
    """Stemmed content words: what BM25 indexes and what sentence scoring compares."""
    stop = stopwords()
    kept = [w.removesuffix("'s") for w in words(text) if w not in stop]
    return _stemmer().stemWords([w for w in kept if w])
