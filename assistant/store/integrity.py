"""Is a generation whole? Its files against the sizes (and, when small, the digests) the manifest
recorded, Chroma's HNSW segment files against their headers, its format against this version; and how
damage is worded for the user."""

from __future__ import annotations

import errno
import os
import re
import struct
from pathlib import Path

from ..errors import REBUILD_HINT, IndexDamagedError, IndexMismatchError, MismatchCause
from .manifest import Manifest, file_digest
from .paths import free_space
from .tables import LOOKUP


def check_format(directory: Path, manifest: Manifest) -> None:
    """Refuse, with what to do, a generation written before articles and chunks were read from disk by offset."""
    if manifest.files and LOOKUP not in manifest.files:
        raise IndexMismatchError(
            f"The index in {directory.parent.parent} was written by an earlier version of newsdesk (generation "
            f"{directory.name} has no {LOOKUP}). {REBUILD_HINT}",
            MismatchCause.FORMAT,
        )


# Files up to this size are hashed at every open and compared with the manifest's digests. Measured
# on the Horne generation (326 articles, 1,732 chunks, 12.6 MB of local files, all under this limit):
# 16 ms to hash them all from the page cache, 51 ms cold. Larger files (sentences.f16 and the tables of
# big archives) are checked by size at open; articles.jsonl is checked article by article when read.
HASH_AT_OPEN_BYTES = 16 * 2**20


def check_files(directory: Path, manifest: Manifest) -> None:
    """Every local file of the generation exists with the size it had when the build finished, and
    every one of at most ``HASH_AT_OPEN_BYTES`` with the digest it had (when the manifest has digests)."""
    for name, size in manifest.files.items():
        try:
            actual = (directory / name).stat().st_size
        except FileNotFoundError:
            raise IndexDamagedError(f"The index generation {directory.name} is missing its file {name}.") from None
        if actual != size:
            raise IndexDamagedError(
                f"The index generation {directory.name} has a damaged file: {name} is {actual} bytes, {size} when built."
            )
    for name, digest in manifest.digests.items():
        if manifest.files.get(name, HASH_AT_OPEN_BYTES + 1) <= HASH_AT_OPEN_BYTES and file_digest(directory / name) != digest:
            raise IndexDamagedError(
                f"The index generation {directory.name} has a damaged file: {name} no longer matches the digest "
                "recorded when it was built."
            )
    if manifest.store != "server" and not (directory / "chroma" / "chroma.sqlite3").is_file():
        raise IndexDamagedError(f"The index generation {directory.name} is missing its Chroma database.")


HNSW_HEADER = struct.Struct("<iQQQQQQiIQQQdQ")  # hnswlib's persisted header as chromadb 1.5.9 writes it (100 bytes)


def check_hnsw_files(directory: Path) -> None:
    """Chroma's HNSW segment files are as long as their header says.

    Measured with chromadb 1.5.9: opening a collection whose data_level0.bin was truncated crashed
    the process with a segmentation fault in 3 of 4 runs (and returned wrong neighbours or errors in
    the others) — no Python error to catch, so a damaged live generation would crash the app at every
    start. The files are checked before Chroma reads them: the header gives the element count and
    size, and data_level0.bin and length.bin must hold at least that many elements (link_lists.bin
    has no length to check against). A header in another layout (another chromadb) is not judged."""
    for header_path in sorted((directory / "chroma").glob("*/header.bin")):
        segment = header_path.parent
        header = header_path.read_bytes()
        if len(header) != HNSW_HEADER.size:
            raise IndexDamagedError(f"The index generation {directory.name} has a damaged vector index file ({segment.name}/header.bin).")
        version, _, _, count, per_element, *_ = HNSW_HEADER.unpack(header)
        if version != 1 or not 0 < per_element < 2**24:
            continue
        needs = {"data_level0.bin": count * per_element, "length.bin": count * 4}  # vectors and links; a float each
        for name, size in needs.items():
            path = segment / name
            have = path.stat().st_size if path.is_file() else -1
            if have < size:
                raise IndexDamagedError(
                    f"The index generation {directory.name} has a damaged vector index file "
                    f"({segment.name}/{name} is {max(have, 0)} bytes; its header needs {size})."
                )


# ---- wording -------------------------------------------------------------------------------

_DISK_FULL = re.compile(r"disk is full|no space left|os error 28\b", re.I)


def open_refused(directory: Path, exc: BaseException) -> str:
    """Why an undamaged embedded generation could not be opened, if the file system refused Chroma's writes."""
    if not (directory / "chroma").is_dir():
        return ""
    if not os.access(directory / "chroma", os.W_OK):
        return "its directory is read-only"
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or _DISK_FULL.search(str(exc)):
        return f"its disk is full ({free_space(directory)} free)"
    return ""


def damage(directory: Path, exc: BaseException) -> str:
    """A sentence saying that (and how) a generation is damaged."""
    if isinstance(exc, IndexDamagedError):
        return str(exc)
    first_line = (str(exc).strip().splitlines() or [""])[0][:160]
    return f"The index generation {directory.name} is damaged or unreadable ({type(exc).__name__}: {first_line})."


def fallback_notice(damaged: str, name: str, manifest: Manifest) -> str:
    """What the user is told when an earlier generation answers instead of the damaged live one."""
    return f"{damaged} Answering from the previous generation {name} (built {manifest.built_at}). {REBUILD_HINT}"


def nothing_serves(damaged: str) -> IndexDamagedError:
    """The error when no generation can answer."""
    return IndexDamagedError(f"{damaged} No earlier generation can answer instead. {REBUILD_HINT}")
