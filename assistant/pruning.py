"""What an update re-read, and which stored articles it may remove (``newsdesk index update --prune``).

An update reads its sources once (``Reread.read``): the records read are spooled to disk and their
ids and text hashes kept in a scratch SQLite file; each file is judged *read whole* or not. A file is
not read whole when reading it failed (too large, binary, undecodable, malformed JSON, empty, …) or
when one of its records could not be parsed, since which article that record held is unknown; a
record that parsed but was rejected (no body, too large) names its article, and only that article is
held back. Then every stored article is judged (``Reread.judge``):

- replaced, when an article with its id was read again;
- removed (with ``prune``), when its file was read whole without it, or its file is gone;
- kept otherwise — its file was not read whole, its own record was rejected, its file was not among
  the sources, or its origin is a relative path written by an earlier version of newsdesk (the
  directory it was relative to is unknown, so neither test can be trusted for it).

Origins are resolved absolute paths (``sources.iter_files``), compared resolved, so the directory the
command runs in makes no difference. ``plan_update`` judges the same way and writes nothing
(``--dry-run``).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from .builddb import build_db
from .config import Settings
from .embedding import resolve_model
from .errors import REBUILD_COMMAND, IndexDamagedError, IndexMismatchError, MismatchCause
from .records import Article
from .sources import Limits, Problem, iter_files, read_file, resolved
from .store import article_from_json, article_to_json, serving_generation
from .store.tables import open_tables

GONE = "its file is gone"
DROPPED = "no longer in its file"
SCRATCH = ("build-reread.sqlite", "build-fresh.jsonl")


@dataclass(frozen=True)
class Removal:
    """A stored article an update removes, where it came from, and why."""

    article_id: str
    location: str  # "origin:line" as stored
    reason: str

    def __str__(self) -> str:
        return f"{self.article_id} — {self.location}: {self.reason}"


@dataclass(frozen=True)
class UpdatePlan:
    """What ``newsdesk index update`` would do, found without writing anything (``--dry-run``)."""

    files: int
    new: int
    changed: int
    unchanged: int
    removals: tuple[Removal, ...]
    rejected: tuple[Problem, ...]
    notices: tuple[Problem, ...]


class Reread:
    """The records and files an update read, in scratch files under ``directory``."""

    def __init__(self, directory: Path, spool: bool = True) -> None:
        self.directory = directory
        self._db = build_db(
            directory / SCRATCH[0],
            """
            CREATE TABLE fresh (id TEXT PRIMARY KEY, hash TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE held (id TEXT PRIMARY KEY) WITHOUT ROWID;
            CREATE TABLE file (path TEXT PRIMARY KEY, whole INTEGER NOT NULL) WITHOUT ROWID;
            """,
        )
        self._spool = directory / SCRATCH[1] if spool else None
        self.files = 0
        self._kept: dict[str, int] = {}  # file not read whole → its earlier articles kept
        self._held_notes: list[Problem] = []
        self._relative: list[str] = []  # origins stored as typed by earlier versions (examples)
        self._relative_count = 0

    def close(self) -> None:
        """Close and remove the scratch files."""
        self._db.close()
        for name in SCRATCH:
            (self.directory / name).unlink(missing_ok=True)

    def read(
        self,
        sources: Sequence[Path],
        limits: Limits,
        note: Callable[[Problem], None],
        reader: Callable[[Path], Iterable[Article | Problem]] | None = None,
    ) -> None:
        """Read every file under ``sources``; ``note`` receives each problem, in order. ``reader`` reads
        one file (default ``read_file``; a Ray build reads on its workers)."""
        with ExitStack() as stack:
            out = stack.enter_context(self._spool.open("w", encoding="utf-8")) if self._spool else None
            for entry in iter_files(sources):
                if isinstance(entry, Problem):
                    note(entry)
                    continue
                self.files += 1
                whole = True
                for record in reader(entry) if reader else read_file(entry, limits):
                    if isinstance(record, Problem):
                        note(record)
                        if record.record_id is None:
                            whole = False
                        else:
                            self._db.execute("INSERT OR IGNORE INTO held VALUES (?)", (record.record_id,))
                        continue
                    self._db.execute("INSERT OR REPLACE INTO fresh VALUES (?, ?)", (record.id, record.content_hash))
                    if out is not None:
                        out.write(json.dumps(article_to_json(record), ensure_ascii=False) + "\n")
                self._db.execute("INSERT OR REPLACE INTO file VALUES (?, ?)", (str(entry), int(whole)))

    def fresh(self) -> Iterator[Article]:
        """The articles read, in the order read."""
        assert self._spool is not None
        with self._spool.open(encoding="utf-8") as records:
            for line in records:
                yield article_from_json(json.loads(line))

    def fresh_hashes(self) -> Iterator[tuple[str, str]]:
        yield from self._db.execute("SELECT id, hash FROM fresh")

    def judge(self, old: Article, prune: bool) -> Removal | bool:
        """``True``: ``old`` was read again and is replaced; a ``Removal``; ``False``: ``old`` is kept."""
        if self._db.execute("SELECT 1 FROM fresh WHERE id = ?", (old.id,)).fetchone():
            return True
        if not prune:
            return False
        where = f"{old.origin}:{old.line}"
        if self._db.execute("SELECT 1 FROM held WHERE id = ?", (old.id,)).fetchone():
            self._held_notes.append(Problem(where, f"{old.id}: the earlier version was kept (its record was rejected this time)", rejected=False))
            return False
        origin = Path(old.origin)
        if not origin.is_absolute():
            self._relative_count += 1
            self._relative = self._relative or [old.origin]
            return False
        path = str(resolved(origin))
        row = self._db.execute("SELECT whole FROM file WHERE path = ?", (path,)).fetchone()
        if row is not None and row[0]:
            return Removal(old.id, where, DROPPED)
        if row is not None:
            self._kept[path] = self._kept.get(path, 0) + 1
            return False
        return Removal(old.id, where, GONE) if _gone(origin) else False

    def kept(self) -> list[Problem]:
        """Notices for what ``judge`` kept although it was read again or its file may be gone."""
        notes = [*self._held_notes]
        notes += [Problem(path, f"not read whole this time (see the rejected records); its {n} earlier article(s) were kept",
                          rejected=False) for path, n in self._kept.items()]
        if self._relative_count:
            notes.append(Problem(self._relative[0], (
                f"{self._relative_count} article(s) kept whose file an earlier version recorded as a relative path "
                f"(like this one): where it was relative to is unknown, so --prune leaves them; "
                f"`{REBUILD_COMMAND}...` records absolute paths"), rejected=False))
        return notes


def _gone(path: Path) -> bool:
    """The file is not there (a file that exists but cannot be read, or is on a disk that fails, is not gone)."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def plan_update(sources: Sequence[Path], settings: Settings, prune: bool = False) -> UpdatePlan:
    """What ``update(sources, settings, prune=prune)`` would add, change and remove, judged the same
    way, without loading the model, opening Chroma or writing anything in the index directory."""
    serving = serving_generation(settings.index_dir)
    if serving.notice:
        raise IndexDamagedError(f"{serving.notice} (`newsdesk index update` builds on the live generation.)")
    m = serving.manifest
    if (m.model_id, m.backend) != (resolve_model(settings.embed_model)[0], settings.embed_backend):
        raise IndexMismatchError("The live index was built with another model; run `newsdesk index rebuild` instead.", MismatchCause.MODEL)
    if (m.chunk_tokens, m.chunk_overlap_sentences) != (settings.chunk_tokens, settings.chunk_overlap_sentences):
        raise IndexMismatchError("The live index was built with other chunker settings; run `newsdesk index rebuild` instead.",
                                 MismatchCause.CHUNKER)
    articles, _ = open_tables(serving.directory)
    rejected: list[Problem] = []
    notices: list[Problem] = []
    with tempfile.TemporaryDirectory(prefix="newsdesk-plan-") as scratch:
        reread = Reread(Path(scratch), spool=False)
        try:
            reread.read(sources, Limits(settings.max_file_mb * 2**20, settings.max_record_chars),
                        lambda p: (rejected if p.rejected else notices).append(p))
            removals = [v for old in articles.stream() if isinstance(v := reread.judge(old, prune), Removal)]
            notices += reread.kept()
            counts = {"new": 0, "changed": 0, "unchanged": 0}
            for article_id, digest in reread.fresh_hashes():
                old = articles.get(article_id)
                counts["new" if old is None else "unchanged" if old.content_hash == digest else "changed"] += 1
        finally:
            reread.close()
    return UpdatePlan(reread.files, counts["new"], counts["changed"], counts["unchanged"], tuple(removals),
                      tuple(rejected), tuple(notices))
