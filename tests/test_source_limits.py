"""Limits on what an archive folder can make the readers read: the record size limit holds for text
pages and HTML too, symlinks may not lead outside the archive folder, and no file is read twice."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import read_all

from assistant.sources import Limits

STORY = "The council voted on Tuesday to expand the city's bus network. The plan adds four routes."


def html_page(body: str) -> str:
    return (f"<!doctype html><html><head><title>Buses</title></head><body><article><h1>Buses</h1>"
            f"<p>{body}</p></article></body></html>")


def test_text_pages_and_html_over_the_record_limit_are_rejected_with_their_location(tmp_path: Path) -> None:
    long_story = " ".join([STORY] * 60)  # about 5,500 characters
    (tmp_path / "big.txt").write_text("Buses\n\n" + long_story, encoding="utf-8")
    (tmp_path / "big.html").write_text(html_page(long_story), encoding="utf-8")
    (tmp_path / "small.txt").write_text("Buses\n\n" + STORY, encoding="utf-8")
    (tmp_path / "small.html").write_text(html_page(STORY + " " + STORY), encoding="utf-8")
    articles, problems = read_all(tmp_path, limits=Limits(max_record_chars=4_000))
    assert sorted(a.id for a in articles) == ["small", "small"]
    reasons = {p.location: p.reason for p in problems}
    assert set(reasons) == {f"{tmp_path / 'big.txt'}:1", f"{tmp_path / 'big.html'}:1"}
    assert all("too large" in r and "4000" in r for r in reasons.values()), reasons
    assert all(p.rejected for p in problems)
    # under the default limit the same pages are articles
    articles, problems = read_all(tmp_path)
    assert len(articles) == 4 and problems == []


def test_a_symlink_leading_outside_the_archive_folder_is_skipped_and_reported(tmp_path: Path) -> None:
    archive, outside = tmp_path / "archive", tmp_path / "outside"
    (archive / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("Private notes\n\nThe root password is hunter2. " + STORY, encoding="utf-8")
    (outside / "more").mkdir()
    (outside / "more" / "other.txt").write_text("Other\n\nAnother private page. " + STORY, encoding="utf-8")
    (archive / "story.txt").write_text("Buses\n\n" + STORY, encoding="utf-8")
    (archive / "leak.txt").symlink_to(outside / "secret.txt")
    (archive / "sub" / "dir").symlink_to(outside / "more", target_is_directory=True)
    (archive / "etc.txt").symlink_to("../outside/secret.txt")  # a relative link out
    articles, problems = read_all(archive)
    assert [a.id for a in articles] == ["story"]
    assert not any("hunter2" in a.body or "private" in a.body for a in articles)
    located = {p.location: p for p in problems}
    for link in (archive / "leak.txt", archive / "etc.txt", archive / "sub" / "dir"):
        assert str(link) in located, problems
        problem = located[str(link)]
        assert problem.rejected and "outside the archive folder" in problem.reason
    assert len(problems) == 3


def test_symlinks_inside_the_archive_are_read_once_and_loops_end(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    (archive / "2016").mkdir(parents=True)
    (archive / "2016" / "story.txt").write_text("Buses\n\n" + STORY, encoding="utf-8")
    (archive / "latest.txt").symlink_to(archive / "2016" / "story.txt")
    (archive / "2016" / "again").symlink_to(archive, target_is_directory=True)  # a loop back to the root
    (archive / "mirror").symlink_to("2016", target_is_directory=True)
    articles, problems = read_all(archive)
    assert [a.id for a in articles] == ["story"]
    assert problems == []
    # the same file named twice on the command line is read once too
    articles, problems = read_all(archive, archive / "2016" / "story.txt")
    assert [a.id for a in articles] == ["story"] and problems == []


def test_files_are_named_by_their_resolved_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a" / "arch").mkdir(parents=True)
    (tmp_path / "a" / "arch" / "story.txt").write_text("Buses\n\n" + STORY, encoding="utf-8")
    os.symlink(tmp_path / "a", tmp_path / "alias")
    monkeypatch.chdir(tmp_path / "a")
    [article], problems = read_all(Path("arch"))
    assert problems == []
    assert article.origin == str((tmp_path / "a" / "arch" / "story.txt").resolve())
    monkeypatch.chdir(tmp_path)
    [same], _ = read_all(Path("alias/arch"))
    assert same.origin == article.origin
