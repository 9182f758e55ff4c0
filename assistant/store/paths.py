"""Where an index lives on disk, the one-writer lock, atomic writes, and write failures reported as such."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from ..errors import IndexLockedError, IndexWriteError, NewsdeskError


@dataclass(frozen=True)
class IndexPaths:
    root: Path

    @property
    def live(self) -> Path:
        return self.root / "LIVE"

    @property
    def lock(self) -> Path:
        return self.root / "writer.lock"

    @property
    def generations(self) -> Path:
        return self.root / "generations"

    def live_generation(self) -> Path | None:
        try:
            name = self.live.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return self.generations / name if name else None

    def complete_generations(self) -> list[Path]:
        """Generations with a manifest (finished builds), newest first."""
        if not self.generations.is_dir():
            return []
        done = [p for p in self.generations.iterdir() if (p / "manifest.json").is_file()]
        return sorted(done, key=lambda p: p.name, reverse=True)


@contextmanager
def writer_lock(paths: IndexPaths) -> Iterator[None]:
    """One writer at a time: a second one is refused at once, naming the holder."""
    paths.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "another process"
            raise IndexLockedError(
                f"Another newsdesk process is writing the index in {paths.root} ({holder}). "
                "Wait for it to finish, then try again."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock; the kernel also releases it if we are killed


@contextmanager
def open_lock(directory: Path) -> Iterator[None]:
    """Serialise opening one embedded generation across processes.

    Opening a Chroma directory rewrites its segment files in place (measured with chromadb 1.5.9:
    the sqlite file on client creation, the HNSW files on first use), so a process opening — or
    copying — a generation while another opens it could read a half-written file. Held only while
    opening or copying; queries afterwards do not write.
    """
    try:
        fd = os.open(directory / "open.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # a read-only directory: nobody can rewrite it either
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


def _write_failure(exc: BaseException) -> str | None:
    """Why writing a generation failed, if the file system refused a write (ours) or Chroma failed to write.

    Chroma does not always say why: on a full disk chromadb 1.5.9 raised "database or disk is full"
    at some points and "Error in compaction: Failed to apply logs to the metadata segment" at others,
    so every Chroma error during a build is reported (with the free space) rather than guessed at."""
    if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
        return os.strerror(exc.errno or 0)
    if type(exc).__module__.split(".")[0] in ("chromadb", "pyo3_runtime"):
        first_line = (str(exc).strip().splitlines() or [""])[0][:200]
        return f"Chroma could not write the new generation ({type(exc).__name__}: {first_line})"
    return None


def free_space(path: Path) -> str:
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        return "unknown"
    return f"{free / 2**20:.1f} MB" if free >= 2**20 else f"{free // 1024} KB"


@contextmanager
def writing(paths: IndexPaths) -> Iterator[None]:
    """Report a full, read-only or forbidden index directory, or Chroma failing to write, as an ``IndexWriteError``.

    Builds remove their unfinished generation before this sees the error, so the live one is unchanged."""
    try:
        yield
    except (NewsdeskError, KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:
        reason = _write_failure(exc)
        if reason is None:
            raise
        live = paths.live_generation()
        raise IndexWriteError(
            f"Cannot write the index in {paths.root}: {reason}; {free_space(paths.root)} free on its disk. "
            + (f"The live index (generation {live.name}) is unchanged. " if live else "No index was built. ")
            + "Free space or make the directory writable (or set NEWSDESK_INDEX_DIR), then try again."
        ) from exc


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` all at once, synced (the file and its directory) before returning."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
