"""Readers: archive files → Articles. Every record is either an Article or a Problem with its location.

Formats: text pages (the seed's layout), JSON (a list of records), JSONL, CSV and HTML. Readers stream
(JSONL and CSV a record at a time), so memory stays bounded by the largest record, which is itself
bounded by ``max_record_chars``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .cleaning import Credit, clean_body, dataset_label, decode_bytes, normalize_inline, split_page
from .errors import BadInputError
from .records import Article

PAGE_SUFFIXES = {".txt", ".text", ".md"}
SUFFIXES = PAGE_SUFFIXES | {".json", ".jsonl", ".ndjson", ".csv", ".html", ".htm"}

TITLE_FIELDS = ("title", "headline", "name")
BODY_FIELDS = ("body", "content", "text", "article", "maintext")
PUBLISHER_FIELDS = ("publisher", "source", "site_name", "sitename", "domain", "outlet")
AUTHOR_FIELDS = ("author", "authors", "byline", "creator")
LABEL_FIELDS = ("label", "type")  # a data set's own judgement of the record: "real", "fake", "satire", "reliable"
DATE_FIELDS = ("published_at", "date", "publish_date", "published", "pubdate", "date_published", "datetime")
URL_FIELDS = ("url", "link", "href")
ID_FIELDS = ("id", "article_id", "uid", "guid")


@dataclass(frozen=True)
class Problem:
    """A file or record that was not indexed (``rejected``) or was indexed with a caveat."""

    location: str  # "path:line"
    reason: str
    rejected: bool = True
    record_id: str | None = None  # the article id of a rejected record, when the record could be parsed

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 200 * 2**20
    max_record_chars: int = 1_000_000


def resolved(path: Path | str) -> Path:
    """``path`` absolute, with symlinks and ``..`` resolved (a loop of links is left as far as it resolves)."""
    return Path(os.path.realpath(path))


def iter_files(paths: Iterable[Path]) -> Iterator[Path | Problem]:
    """Files under ``paths`` in a stable order, each named by its resolved absolute path and given once
    (however many times it is reached); unsupported or missing ones become Problems.

    Inside a folder, hidden files are skipped and a symlink is followed only when its target lies inside
    that folder (the archive root): one leading outside is reported and not read. A path given on the
    command line is read wherever it points."""
    seen: set[Path] = set()
    for given in paths:
        root = resolved(given)
        if root.is_file():
            if root not in seen:
                seen.add(root)
                yield root if root.suffix.lower() in SUFFIXES else Problem(str(root), f"unsupported file type {root.suffix or '(none)'}")
        elif root.is_dir():
            for path, problem in _walk(root):
                if problem is not None:
                    yield problem
                elif path not in seen:
                    seen.add(path)
                    if is_documentation(path):
                        continue  # an archive's README or licence is about the articles, not one of them
                    if path.suffix.lower() in SUFFIXES:
                        yield path
                    else:
                        yield Problem(str(path), f"skipped: unsupported file type {path.suffix or '(none)'}", rejected=False)
        else:
            yield Problem(str(given), "no such file or directory")


DOCUMENTATION = ("readme", "license", "licence", "notice", "copying", "citation", "authors")


def is_documentation(path: Path) -> bool:
    """README*, LICENSE*, NOTICE*, COPYING*, CITATION*, AUTHORS* in an archive folder: not articles
    (a file named on the command line is read whatever its name)."""
    return path.name.lower().startswith(DOCUMENTATION)


def _walk(root: Path) -> list[tuple[Path, Problem | None]]:
    """(resolved file, None) for every visible file under the resolved folder ``root``, and
    (link, Problem) for a symlink that cannot be followed; sorted by path. A folder is walked once,
    so symlinks back into the tree end instead of looping."""
    found: list[tuple[Path, Problem | None]] = []
    folders, walked = [root], {root}
    while folders:
        folder = folders.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            found.append((folder, Problem(str(folder), f"cannot read the folder: {exc.strerror or exc}")))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = folder / entry.name
            if entry.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):  # dangling, or a loop of links
                    found.append((path, Problem(str(path), "skipped: a broken symlink", rejected=False)))
                    continue
                if not target.is_relative_to(root):
                    found.append((path, Problem(str(path), f"symlink to {target}, outside the archive folder {root}; not read")))
                    continue
                path = target
            if path.is_dir():
                if path not in walked:
                    walked.add(path)
                    folders.append(path)
            elif path.is_file():
                found.append((path, None))
    return sorted(found, key=lambda item: item[0])


def read_file(path: Path, limits: Limits = Limits()) -> Iterator[Article | Problem]:
    """All records of one file, in order. Never raises for bad content: problems are yielded.
    A file with no records at all (empty, blank, a BOM, a CSV header only, ``[]``) is a Problem too.
    Records and problems name the file by its resolved absolute path (``Article.origin``)."""
    path = resolved(path)
    count = 0
    for record in _read_records(path, limits):
        count += 1
        yield record
    if count == 0:
        yield Problem(str(path), "no records in the file (it is empty or holds only blank lines or a header)")


def _read_records(path: Path, limits: Limits) -> Iterator[Article | Problem]:
    where = str(path)
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            yield Problem(where, f"file too large ({size / 2**20:.0f} MB > {limits.max_file_bytes / 2**20:.0f} MB)")
            return
        suffix = path.suffix.lower()
        if suffix in {".jsonl", ".ndjson"}:
            yield from _read_jsonl(path, limits)
        elif suffix == ".csv":
            yield from _read_csv(path, limits)
        else:
            text = _read_text(path)
            if suffix == ".json":
                yield from _read_json(path, text, limits)
            elif suffix in {".html", ".htm"}:
                yield _read_html(path, text, limits)
            elif len(text) > limits.max_record_chars:
                yield _too_large(f"{path}:1", len(text), limits)
            else:
                yield _read_page(path, text)
    except BadInputError as exc:
        yield Problem(where, str(exc).removeprefix(where + ": "))
    except OSError as exc:
        yield Problem(where, f"cannot read: {exc.strerror or exc}")


def _read_text(path: Path) -> str:
    text = decode_bytes(path.read_bytes(), str(path))
    if not text.strip():
        raise BadInputError(f"{path}: empty file")
    return text


# ---- text pages and HTML -------------------------------------------------------------------


def _read_page(path: Path, text: str) -> Article | Problem:
    title, body, credit = split_page(text)
    if not body:
        return Problem(f"{path}:1", "no article body after the title")
    return _article(path.stem, title, body, credit, {}, path, 1)


def _too_large(where: str, size: int, limits: Limits) -> Problem:
    return Problem(where, f"article too large ({size} characters > {limits.max_record_chars})")


def _read_html(path: Path, text: str, limits: Limits) -> Article | Problem:
    import trafilatura

    doc: Any = trafilatura.bare_extraction(
        _strip_hidden(text), with_metadata=True, include_comments=False, include_tables=True, favor_precision=True
    )
    if doc is None or not (doc.text or "").strip():
        return Problem(f"{path}:1", "no article text found in the HTML page")
    if len(doc.text) > limits.max_record_chars:  # the article's text (markup does not count)
        return _too_large(f"{path}:1", len(doc.text), limits)
    body, credit = clean_body(doc.text)
    if not body:
        return Problem(f"{path}:1", "no article text found in the HTML page")
    meta = {"publisher": doc.sitename, "author": doc.author, "date": doc.date, "url": doc.url}
    return _article(path.stem, doc.title or "", body, credit, meta, path, 1)


_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def _strip_hidden(html: str) -> str:
    """Remove elements a reader cannot see (a route for planted instructions)."""
    import lxml.html

    try:
        tree = lxml.html.fromstring(html)
    except Exception:  # noqa: BLE001 - lxml raises several types on junk; trafilatura copes with raw text
        return html
    for el in tree.xpath('//*[@hidden or @aria-hidden="true" or contains(@style, "none") or contains(@style, "hidden")]'):
        if el.get("hidden") is not None or el.get("aria-hidden") == "true" or _HIDDEN.search(el.get("style", "")):
            el.drop_tree()
    return lxml.html.tostring(tree, encoding="unicode")


# ---- structured records --------------------------------------------------------------------


QUESTION_FIELDS = ("question", "query")


def _is_question_set(path: Path) -> bool:
    """A JSONL whose first record is a question (an evaluation set kept beside an archive)."""
    with path.open("rb") as fh:
        for raw in fh:
            if raw.strip():
                try:
                    first = json.loads(raw)
                except ValueError:
                    return False
                return isinstance(first, dict) and _pick(first, BODY_FIELDS) is None and _pick(first, QUESTION_FIELDS) is not None
    return False


def _read_jsonl(path: Path, limits: Limits) -> Iterator[Article | Problem]:
    if _is_question_set(path):
        yield Problem(str(path), "skipped: a question set, not articles", rejected=False)
        return
    with path.open("rb") as fh:
        first = True
        for number, raw in enumerate(fh, start=1):
            where = f"{path}:{number}"
            if first:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
                first = False
            if len(raw) > limits.max_record_chars * 4:
                yield Problem(where, f"line too large ({len(raw)} bytes)")
                continue
            try:
                line = decode_bytes(raw, where)
            except BadInputError as exc:
                yield Problem(where, str(exc).removeprefix(where + ": "))
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Problem(where, f"invalid JSON ({exc.msg} at column {exc.colno})")
                continue
            yield _from_record(record, path, number, limits)


def _read_json(path: Path, text: str, limits: Limits) -> Iterator[Article | Problem]:
    """A JSON list of records (or an object holding one), each located by its starting line."""
    decoder = json.JSONDecoder()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Problem(f"{path}:{exc.lineno}", f"invalid JSON ({exc.msg} at column {exc.colno})")
        return
    if isinstance(data, dict):
        key = next((k for k in ("articles", "data", "items", "records", "results") if isinstance(data.get(k), list)), None)
        if key is None:
            yield _from_record(data, path, 1, limits)
            return
        data = data[key]
    if not isinstance(data, list):
        yield Problem(f"{path}:1", "JSON must be a list of article records")
        return
    starts = _element_lines(text, decoder, len(data))
    for i, record in enumerate(data):
        yield _from_record(record, path, starts[i] if i < len(starts) else 1, limits)


def _element_lines(text: str, decoder: json.JSONDecoder, count: int) -> list[int]:
    """Starting line of each element of the first JSON array in ``text`` (best effort)."""
    pos = text.find("[")
    lines: list[int] = []
    if pos < 0:
        return lines
    pos += 1
    while len(lines) < count:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            break
        lines.append(text.count("\n", 0, pos) + 1)
        try:
            _, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            break
    return lines


def _read_csv(path: Path, limits: Limits) -> Iterator[Article | Problem]:
    csv.field_size_limit(max(limits.max_record_chars, 131072))
    with path.open("rb") as fh:
        head = fh.read(4)
    encoding = "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    with path.open("r", encoding=encoding, errors="strict", newline="") as raw:
        reader = csv.DictReader(raw)
        previous_end = 1
        try:
            for row in reader:
                where_line = previous_end + 1
                previous_end = reader.line_num
                if None in row:
                    yield Problem(f"{path}:{where_line}", f"{len(row[None])} more fields than the header")  # type: ignore[index]
                    continue
                yield _from_record(row, path, where_line, limits)
        except UnicodeDecodeError:
            yield from _read_csv_decoded(path, limits, previous_end)
        except csv.Error as exc:
            yield Problem(f"{path}:{reader.line_num}", f"malformed CSV ({exc}); the rest of the file was not read")


def _read_csv_decoded(path: Path, limits: Limits, skip_to: int) -> Iterator[Article | Problem]:
    """A CSV that is not UTF-8: decode the whole file with detection, then resume after ``skip_to``."""
    text = decode_bytes(path.read_bytes(), str(path))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    previous_end = 1
    for row in reader:
        where_line = previous_end + 1
        previous_end = reader.line_num
        if where_line > skip_to:
            yield _from_record(row, path, where_line, limits)


def _pick(record: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in record.items() if k is not None}
    for name in names:
        value = lowered.get(name)
        if value not in (None, "", []):
            return value
    return None


def _from_record(record: Any, path: Path, line: int, limits: Limits) -> Article | Problem:
    where = f"{path}:{line}"
    if not isinstance(record, dict):
        return Problem(where, f"record is a JSON {type(record).__name__}, not an object")
    raw_id = _pick(record, ID_FIELDS)
    article_id = normalize_inline(str(raw_id).strip() if raw_id not in (None, "") else f"{path.stem}:{line}") or path.stem
    raw_body = _pick(record, BODY_FIELDS)
    if not isinstance(raw_body, str) or not raw_body.strip():
        return Problem(where, "record has no article body (expected one of: " + ", ".join(BODY_FIELDS) + ")", record_id=article_id)
    if len(raw_body) > limits.max_record_chars:
        return Problem(where, f"article body too large ({len(raw_body)} characters)", record_id=article_id)
    body, credit = clean_body(raw_body)
    if not body:
        return Problem(where, "article body is empty after cleaning", record_id=article_id)
    meta = {
        "publisher": _pick(record, PUBLISHER_FIELDS),
        "author": _pick(record, AUTHOR_FIELDS),
        "date": _pick(record, DATE_FIELDS),
        "url": _pick(record, URL_FIELDS),
        "label": _pick(record, LABEL_FIELDS),
    }
    title = _pick(record, TITLE_FIELDS)
    return _article(article_id, title if isinstance(title, str) else "", body, credit, meta, path, line)


def _article(
    article_id: str, title: str, body: str, credit: Credit | None, meta: Mapping[str, Any], path: Path, line: int
) -> Article:
    published = parse_date(meta.get("date"))
    publisher = normalize_inline(_text(meta.get("publisher"))) or (credit.publisher if credit else "") or None
    author = normalize_inline(_authors(meta.get("author"))) or (credit.author if credit else "") or None
    year = published.year if published else (credit.year if credit else None)
    url = _text(meta.get("url")).strip() or None
    return Article(
        id=normalize_inline(article_id) or path.stem,
        title=normalize_inline(title),
        body=body,
        publisher=publisher,
        author=author,
        published=published,
        year=year,
        url=url if url and re.match(r"^https?://", url, re.I) else None,
        origin=str(path),
        line=line,
        credit=credit.publisher if credit else None,
        label=dataset_label(meta.get("label")),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _authors(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value if v)
    return _text(value)


def parse_date(value: Any) -> date | None:
    """ISO dates and datetimes, epoch seconds, and common written forms; None when unknown."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.utcfromtimestamp(float(value) / (1000 if value > 1e11 else 1)).date()
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    from dateutil import parser

    try:
        parsed = parser.parse(text, default=datetime(1900, 1, 1))
    except (ValueError, OverflowError):
        return None
    return parsed.date() if parsed.year > 1900 else None
