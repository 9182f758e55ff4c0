"""A generation's article and chunk tables: written in one pass, read by offset, safe across threads."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from assistant.errors import IndexDamagedError
from assistant.records import Article
from assistant.store.tables import ChunkRow, TableWriter, open_tables


def article(n: int) -> Article:
    body = f"Story {n} body — with “quotes”, ünïcode and a line\nbreak."
    return Article(f"feed/{n}#x", f"Title {n}", body, "Herald" if n % 2 else None, None,
                   date(2016, 1, 1 + n % 28), 2016, None, "feed.jsonl", n + 1)


def write(directory: Path, count: int, chunks_each: int = 2) -> list[Article]:
    directory.mkdir(parents=True, exist_ok=True)
    writer = TableWriter(directory)
    articles = [article(n) for n in range(count)]
    for a in articles:
        writer.add_article(a)
        for k in range(chunks_each if int(a.id.split("/")[1].split("#")[0]) % 3 else 0):  # every third has no chunk
            writer.add_chunk(ChunkRow(f"{a.id}#{k}", a.id, k, start=0, end=5, sentence_start=0, sentence_end=0))
    writer.finish()
    return articles


def test_records_come_back_by_id_position_and_in_order(tmp_path: Path) -> None:
    articles = write(tmp_path, 50)
    table, chunks = open_tables(tmp_path)
    assert len(table) == 50 and list(table) == [a.id for a in articles] and list(table.stream()) == articles
    assert table["feed/7#x"] == articles[7] and "feed/7#x" in table and "feed/99" not in table
    with pytest.raises(KeyError):
        table["feed/99"]
    assert len(chunks) == sum(2 for n in range(50) if n % 3)
    assert chunks.row("feed/7#x#1").id == "feed/7#x#1"  # ids containing '#' still split at the last one
    assert table.chunk_run("feed/6#x") == (-1, 0)
    with pytest.raises(KeyError):
        chunks.position("feed/7#x#2")
    assert [int(p) for p in chunks.article_positions[:4]] == [1, 1, 2, 2]


def test_chunks_out_of_article_order_are_refused(tmp_path: Path) -> None:
    writer = TableWriter(tmp_path)
    writer.add_article(article(1))
    writer.add_article(article(2))
    writer.add_chunk(ChunkRow("feed/1#x#0", "feed/1#x", 0, 0, 0, 0, 0))
    writer.add_chunk(ChunkRow("feed/2#x#0", "feed/2#x", 0, 0, 0, 0, 0))
    with pytest.raises(ValueError, match="out of order"):
        writer.add_chunk(ChunkRow("feed/1#x#1", "feed/1#x", 1, 0, 0, 0, 0))
    with pytest.raises(ValueError, match="out of order"):
        writer.add_chunk(ChunkRow("feed/3#x#0", "feed/3#x", 0, 0, 0, 0, 0))
    writer.close()


def test_many_threads_read_at_once(tmp_path: Path) -> None:
    articles = write(tmp_path, 300)
    table, chunks = open_tables(tmp_path)

    def read(n: int) -> bool:  # the lookup (SQLite) is asked on every call; article records are cached
        a = articles[(n * 7) % 300]
        first, count = table.chunk_run(a.id)
        rows = [chunks.row(f"{a.id}#{k}") for k in range(count)]
        return table[a.id] == a and [chunks.position(r.id) for r in rows] == list(range(first, first + count))

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(read, range(2000)))


def test_damage_is_reported_not_raised_raw(tmp_path: Path) -> None:
    write(tmp_path, 10)
    path = tmp_path / "articles.jsonl"
    data = bytearray(path.read_bytes())
    data[data.index(b'"Title 4"')] = ord("{")  # same size, broken line
    path.write_bytes(bytes(data))
    table, _ = open_tables(tmp_path)
    assert table["feed/3#x"].title == "Title 3"
    with pytest.raises(IndexDamagedError, match="line 5"):
        table["feed/4#x"]
    os.truncate(path, 100)
    with pytest.raises(IndexDamagedError, match=r"articles\.jsonl"):
        open_tables(tmp_path)
