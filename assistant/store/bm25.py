"""The BM25 index of a generation's chunks: written from an on-disk spool in bounded memory, read by bm25s."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

BM25_K1 = 1.5  # bm25s's defaults: the Lucene variant of BM25
BM25_B = 0.75
PASS_POSTINGS = 4_000_000  # postings held in memory at once while writing the index (~32 MB)
_READ_DOCS = 2_048  # documents read from the spool at once (~250k postings, ~15 MB of working arrays)


class BM25Writer:
    """Builds a bm25s index (the Lucene BM25 variant, as ``bm25s.BM25().index`` computes it) from
    documents added one at a time, in memory that does not grow with the number of documents.

    Each document's (term id, frequency) pairs go to spool files on disk; only the vocabulary and
    one document frequency per term stay in memory. ``finish`` writes the term-major (CSC) score
    matrix in passes over the spool, each filling a bounded range of terms, straight into the
    ``.npy`` files that ``bm25s.BM25.load(..., mmap=True)`` reads.
    """

    def __init__(self, directory: Path, pass_postings: int = PASS_POSTINGS) -> None:
        from array import array

        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pass_postings = pass_postings
        self.vocab: dict[str, int] = {}
        self.df = array("q")
        self.docs = 0
        self.total_length = 0
        self._ids = (directory / "spool.ids").open("wb")  # int32 term ids, document after document
        self._counts = (directory / "spool.counts").open("wb")  # int32 term counts, aligned with the ids
        self._heads = (directory / "spool.docs").open("wb")  # per document: int32 (distinct terms, length)

    def add(self, doc_terms: list[str]) -> None:
        counts: dict[int, int] = {}
        for t in doc_terms:
            tid = self.vocab.get(t)
            if tid is None:
                tid = self.vocab[t] = len(self.vocab)
                self.df.append(0)
            counts[tid] = counts.get(tid, 0) + 1
        ids = np.fromiter(counts.keys(), dtype=np.int32, count=len(counts))
        for tid in counts:
            self.df[tid] += 1
        self._ids.write(ids.tobytes())
        self._counts.write(np.fromiter(counts.values(), dtype=np.int32, count=len(counts)).tobytes())
        self._heads.write(np.array([len(counts), len(doc_terms)], dtype=np.int32).tobytes())
        self.docs += 1
        self.total_length += len(doc_terms)

    def close(self) -> None:
        for fh in (self._ids, self._counts, self._heads):
            fh.close()

    def finish(self) -> None:
        """Write the index files and remove the spool."""
        self.close()
        vocab = dict(self.vocab)
        if "" not in vocab:  # bm25s adds an empty token to every vocabulary it builds from strings
            vocab[""] = len(vocab)
        df = np.zeros(len(vocab), dtype=np.int64)
        df[: len(self.df)] = np.frombuffer(self.df, dtype=np.int64) if len(self.df) else 0
        n = max(self.docs, 1)
        avg_length = self.total_length / n if self.docs else 0.0
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        nnz = int(indptr[-1])
        with _npy_writer(self.dir / "data.csc.index.npy", np.float32, nnz) as data, \
                _npy_writer(self.dir / "indices.csc.index.npy", np.int32, nnz) as indices:
            for first, last in _term_ranges(indptr, self.pass_postings):
                self._write_range(first, last, indptr, idf, avg_length, data, indices)
        np.save(self.dir / "indptr.csc.index.npy", indptr)
        (self.dir / "vocab.index.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        params = {"k1": BM25_K1, "b": BM25_B, "delta": 0.5, "method": "lucene", "idf_method": "lucene",
                  "dtype": "float32", "int_dtype": "int32", "num_docs": self.docs, "version": _bm25s_version(),
                  "backend": "numpy"}
        (self.dir / "params.index.json").write_text(json.dumps(params, indent=1), encoding="utf-8")
        for name in ("spool.ids", "spool.counts", "spool.docs"):
            (self.dir / name).unlink()

    def _write_range(
        self, first: int, last: int, indptr: np.ndarray, idf: np.ndarray, avg_length: float, data: Any, indices: Any
    ) -> None:
        """Fill the postings of terms ``first``..``last``-1 from one pass over the spool."""
        base = int(indptr[first])
        size = int(indptr[last]) - base
        out_scores = np.empty(size, dtype=np.float32)
        out_docs = np.empty(size, dtype=np.int32)
        cursor = indptr[first:last] - base
        doc = 0
        spool = [(self.dir / name).open("rb") for name in ("spool.docs", "spool.ids", "spool.counts")]
        with spool[0] as heads, spool[1] as id_file, spool[2] as count_file:
            while block := heads.read(_READ_DOCS * 8):
                head = np.frombuffer(block, dtype=np.int32).reshape(-1, 2)
                distinct, lengths = head[:, 0].astype(np.int64), head[:, 1].astype(np.float64)
                pairs = int(distinct.sum())
                ids = np.frombuffer(id_file.read(pairs * 4), dtype=np.int32).astype(np.int64)
                counts = np.frombuffer(count_file.read(pairs * 4), dtype=np.int32).astype(np.float64)
                owners = np.repeat(np.arange(doc, doc + len(head), dtype=np.int64), distinct)
                doc += len(head)
                keep = (ids >= first) & (ids < last)
                if not keep.any():
                    continue
                ids, counts, owners = ids[keep], counts[keep], owners[keep]
                norm = BM25_K1 * ((1 - BM25_B) + BM25_B * lengths[owners - (doc - len(head))] / avg_length)
                scores = idf[ids] * (counts / (norm + counts))
                order = np.argsort(ids, kind="stable")  # documents stay ascending within a term
                ids, scores, owners = ids[order] - first, scores[order], owners[order]
                terms_here, starts, per_term = np.unique(ids, return_index=True, return_counts=True)
                slots = cursor[ids] + (np.arange(len(ids)) - np.repeat(starts, per_term))
                out_scores[slots] = scores
                out_docs[slots] = owners
                cursor[terms_here] += per_term
        data.write(out_scores.tobytes())
        indices.write(out_docs.tobytes())


def _term_ranges(indptr: np.ndarray, budget: int) -> Iterator[tuple[int, int]]:
    """Consecutive term ranges whose postings fit in ``budget`` (a single larger term gets its own)."""
    terms_count = len(indptr) - 1
    first = 0
    while first < terms_count:
        last = int(np.searchsorted(indptr, indptr[first] + budget, side="right")) - 1
        last = min(max(last, first + 1), terms_count)
        yield first, last
        first = last


@contextmanager
def _npy_writer(path: Path, dtype: Any, length: int) -> Iterator[Any]:
    """A file handle positioned after an ``.npy`` header for a 1-D array of ``length`` items."""
    with path.open("wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": (length,)})
        yield fh
        fh.flush()


def _bm25s_version() -> str:
    return metadata.version("bm25s")


def load_bm25(directory: Path):  # type: ignore[no-untyped-def]
    """The index as ``bm25s`` reads it, its arrays memory-mapped."""
    import bm25s

    return bm25s.BM25.load(str(directory), mmap=True, show_progress=False)
