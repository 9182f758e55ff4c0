#!/usr/bin/env python3
"""Validate the near-miss answerability sets (stdlib only).

    python3 evals/check_nearmiss.py                  # from anywhere; exits 1 on any error
    python3 evals/check_nearmiss.py --horne PATH --fnc PATH --seed PATH --sets-dir DIR -q

Reads evals/nearmiss_{horne,fnc,seed}.jsonl and the three archives they are
written over (defaults are relative to the repository root):

  * horne: tests/data/horne2017/articles.jsonl (id -> title, body, label)
  * fnc:   tests/data/fakenewscorpus-sample/news_sample.csv (id -> title, content, domain)
  * seed:  seeds/000_1188ee5dcc83ef1c.txt (the file name without ".txt" is the id)

Checks, each failure an error:

  * schema: required keys per type, allowed values of type/kind/archive, ids
    unique (also against the other question sets under evals/ and seeds/) and
    prefixed nh/nf/ns by archive, no null-only key on an answerable question;
  * answerable: exactly one evidence entry whose quote is a substring of the
    article text (FNC: the `content` field; seed: the file text), 40-300
    characters, containing the answer case-insensitively; the question does not
    copy 8 or more consecutive words of its quote; Horne evidence only from
    `real` articles; FNC evidence cites the first copy of a duplicated body;
  * quotes are looked up verbatim first and, failing that, with every
    whitespace run folded to one space; which of the two matched is reported;
  * publisher: a `publisher` (answerable) or `absent_publisher` (null) is a
    domain of the archive and the question names it; the evidence article is
    from that publisher;
  * null: `answer` is "", `evidence` is [], `absent` holds 1-4 patterns that
    compile, each with a literal run of at least 3 letters, and none of them
    matches (case-insensitive, `.` spans lines) the title or text of any
    article of the archive -- or, with `absent_publisher`, of any article of
    that publisher, in which case at least one pattern must match an article of
    `reported_by` (so the patterns describe something the archive does report);
    `near` is an article of the archive and `near_quote` is in its text;
  * pair: the partner exists, points back, has the same kind and the other type.

Matches of a null's patterns in the *other* archives are printed as notes (they
matter only if archives are indexed together). Finally prints counts by
archive x kind x answerable/null.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import csv
import json
import re
import sys
from pathlib import Path

from check_sets import question_lines  # the one JSONL line reader of the question-set checks

ROOT = Path(__file__).resolve().parent.parent
SETS = {"horne": "nearmiss_horne.jsonl", "fnc": "nearmiss_fnc.jsonl", "seed": "nearmiss_seed.jsonl"}
PREFIX = {"horne": "nh", "fnc": "nf", "seed": "ns"}
KINDS = ("who", "which", "where", "when", "how_many", "how_much", "what_share", "why", "what")
TYPES = ("single", "null")
COMMON = {"id", "question", "answer", "evidence", "type", "archive", "kind"}
OPTIONAL_SINGLE = {"pair", "publisher"}
OPTIONAL_NULL = {"pair", "absent_publisher", "reported_by"}
NULL_ONLY = {"absent", "near", "near_quote", "absent_publisher", "reported_by"}
QUOTE_MIN, QUOTE_MAX = 40, 300
COPY_NGRAM = 8
# how a reader names each publisher that questions may attribute facts to
PUBLISHER_NAMES = {
    "www.newsmax.com": ("Newsmax",),
    "washingtonexaminer.com": ("Washington Examiner",),
    "canadafreepress.com": ("Canada Free Press",),
    "christianpost.com": ("Christian Post",),
    "naturalnews.com": ("Natural News", "NaturalNews"),
    "anonhq.com": ("AnonHQ", "Anonymous HQ"),
    "washingtonpost.com": ("Washington Post",),
}
SEED_PUBLISHER = "washingtonpost.com"  # the seed page's credit line names The Washington Post


def ws(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def words(s: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", s.lower().replace("\u2019", "'"))


def shared_ngram(a: str, b: str, n: int) -> str | None:
    wa, wb = words(a), words(b)
    grams = {tuple(wb[i:i + n]) for i in range(len(wb) - n + 1)}
    for i in range(len(wa) - n + 1):
        if tuple(wa[i:i + n]) in grams:
            return " ".join(wa[i:i + n])
    return None


class Article:
    __slots__ = ("aid", "first_copy", "label", "publisher", "text", "title")

    def __init__(self, aid: str, text: str, title: str, label: str, publisher: str, first_copy: str):
        self.aid, self.text, self.title = aid, text, title
        self.label, self.publisher, self.first_copy = label, publisher, first_copy

    @property
    def searchable(self) -> str:
        return f"{self.title}\n{self.text}"


def load_horne(path: Path) -> dict[str, Article]:
    arts: dict[str, Article] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                a = json.loads(line)
                arts[a["id"]] = Article(a["id"], a["body"], a.get("title", ""), a.get("label", ""), "", a["id"])
    return arts


def load_fnc(path: Path) -> dict[str, Article]:
    csv.field_size_limit(sys.maxsize)
    arts: dict[str, Article] = {}
    first: dict[str, str] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            content = row.get("content") or ""
            first.setdefault(content, row["id"])
            arts[row["id"]] = Article(row["id"], content, row.get("title") or "", row.get("type") or "",
                                      row.get("domain") or "", first[content])
    return arts


def load_seed(path: Path) -> dict[str, Article]:
    text = path.read_text(encoding="utf-8")
    return {path.stem: Article(path.stem, text, "", "seed", SEED_PUBLISHER, path.stem)}


class Checker:
    def __init__(self, archives: dict[str, dict[str, Article]]):
        self.archives = archives
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self.quote_modes: collections.Counter[tuple[str, str]] = collections.Counter()
        self._ws_cache: dict[tuple[str, str], str] = {}

    def err(self, where: str, msg: str) -> None:
        self.errors.append(f"{where}: {msg}")

    def locate(self, archive: str, art: Article, quote: str) -> str | None:
        """'raw' if quote is verbatim in the text, 'ws' if only after whitespace folding, else None."""
        if quote in art.text:
            return "raw"
        key = (archive, art.aid)
        if key not in self._ws_cache:
            self._ws_cache[key] = ws(art.text)
        if ws(quote) in self._ws_cache[key]:
            return "ws"
        return None

    def check(self, archive: str, where: str, q: dict, by_id: dict[str, dict]) -> None:
        arts = self.archives[archive]
        typ, kind = q.get("type"), q.get("kind")
        missing = (COMMON | ({"absent", "near", "near_quote"} if typ == "null" else set())) - set(q)
        if missing:
            self.err(where, f"missing keys {sorted(missing)}")
        allowed = COMMON | (OPTIONAL_SINGLE if typ == "single" else OPTIONAL_NULL | {"absent", "near", "near_quote"})
        extra = set(q) - allowed
        if extra:
            self.err(where, f"keys not allowed on a {typ} question: {sorted(extra)}")
        qid = q.get("id", "")
        if not re.fullmatch(PREFIX[archive] + r"\d{3}", str(qid)):
            self.err(where, f"id {qid!r} must be {PREFIX[archive]} followed by three digits")
        if typ not in TYPES:
            self.err(where, f"type {typ!r} not one of {TYPES}")
        if kind not in KINDS:
            self.err(where, f"kind {kind!r} not one of {KINDS}")
        if q.get("archive") != archive:
            self.err(where, f"archive {q.get('archive')!r} but the file is the {archive} set")
        question = q.get("question")
        if not isinstance(question, str) or not question.strip():
            self.err(where, "question must be a non-empty string")
            question = ""
        if typ == "single":
            self.check_single(archive, arts, where, q, question)
        elif typ == "null":
            self.check_null(archive, arts, where, q, question)
        pair = q.get("pair")
        if pair is not None:
            other = by_id.get(pair)
            if other is None:
                self.err(where, f"pair {pair!r} is not a question of this set")
            elif other.get("pair") != qid:
                self.err(where, f"pair {pair!r} does not point back (it has pair={other.get('pair')!r})")
            elif other.get("kind") != kind or other.get("type") == typ:
                self.err(where, f"pair {pair!r} must have the same kind and the other type")

    def check_publisher_named(self, where: str, question: str, domain: str, arts: dict[str, Article]) -> None:
        if domain not in {a.publisher for a in arts.values()}:
            self.err(where, f"publisher {domain!r} has no article in this archive")
        names = PUBLISHER_NAMES.get(domain)
        if not names:
            self.err(where, f"publisher {domain!r} has no reader-facing name in PUBLISHER_NAMES")
        elif not any(n.lower() in question.lower() for n in names):
            self.err(where, f"question does not name the publisher ({' / '.join(names)})")

    def check_single(self, archive: str, arts: dict[str, Article], where: str, q: dict, question: str) -> None:
        ans, ev = q.get("answer"), q.get("evidence")
        if not isinstance(ans, str) or not ans.strip():
            self.err(where, "answerable question needs a non-empty answer")
            ans = ""
        if not isinstance(ev, list) or len(ev) != 1:
            self.err(where, "answerable question needs exactly one evidence entry")
            return
        e = ev[0]
        if not isinstance(e, dict) or set(e) != {"article_id", "quote"}:
            self.err(where, "evidence entry must be {article_id, quote}")
            return
        aid, quote = e["article_id"], e["quote"]
        art = arts.get(aid)
        if art is None:
            self.err(where, f"unknown article_id {aid!r}")
            return
        if not isinstance(quote, str) or not quote:
            self.err(where, "quote must be a non-empty string")
            return
        mode = self.locate(archive, art, quote)
        if mode is None:
            self.err(where, f"quote is not a substring of {aid}: {quote[:70]!r}")
        else:
            self.quote_modes[(archive, mode)] += 1
            if mode == "ws":
                self.warnings.append(f"{where}: quote found only after whitespace folding")
        if not QUOTE_MIN <= len(quote) <= QUOTE_MAX:
            self.err(where, f"quote length {len(quote)} outside {QUOTE_MIN}-{QUOTE_MAX}")
        if ans and ans.lower() not in quote.lower():
            self.err(where, f"answer {ans!r} does not appear in its quote")
        ng = shared_ngram(question, quote, COPY_NGRAM)
        if ng:
            self.err(where, f"question copies a {COPY_NGRAM}-word run of its quote: {ng!r}")
        if archive == "horne" and art.label != "real":
            self.err(where, f"evidence article {aid!r} has label {art.label!r}; only 'real' may be cited")
        if art.first_copy != aid:
            self.err(where, f"{aid!r} duplicates {art.first_copy!r}; cite the first copy")
        pub = q.get("publisher")
        if pub is not None:
            self.check_publisher_named(where, question, pub, arts)
            if art.publisher != pub:
                self.err(where, f"evidence {aid!r} is from {art.publisher!r}, not the named {pub!r}")

    def check_null(self, archive: str, arts: dict[str, Article], where: str, q: dict, question: str) -> None:
        if q.get("answer") != "":
            self.err(where, 'null question must have answer ""')
        if q.get("evidence") != []:
            self.err(where, "null question must have evidence []")
        pats = q.get("absent")
        compiled: list[re.Pattern[str]] = []
        if not isinstance(pats, list) or not 1 <= len(pats) <= 4:
            self.err(where, "absent must be a list of 1-4 regexes")
            pats = []
        for p in pats:
            if not isinstance(p, str):
                self.err(where, f"absent pattern {p!r} is not a string")
                continue
            try:
                compiled.append(re.compile(p, re.I | re.S))
            except re.error as ex:
                self.err(where, f"absent pattern {p!r} does not compile: {ex}")
                continue
            if not re.search(r"[A-Za-z]{3}", re.sub(r"\\.|\[[^\]]*\]|\(\?[^)]*\)", " ", p)):
                self.err(where, f"absent pattern {p!r} has no literal run of 3 letters")
        scope_pub = q.get("absent_publisher")
        reported_by = q.get("reported_by")
        if (scope_pub is None) != (reported_by is None):
            self.err(where, "absent_publisher and reported_by go together")
        if scope_pub is not None:
            self.check_publisher_named(where, question, scope_pub, arts)
            if reported_by == scope_pub:
                self.err(where, "reported_by must be a different publisher than absent_publisher")
            if reported_by not in {a.publisher for a in arts.values()}:
                self.err(where, f"reported_by {reported_by!r} has no article in this archive")
        scope = [a for a in arts.values() if scope_pub is None or a.publisher == scope_pub]
        for rx in compiled:
            for a in scope:
                m = rx.search(a.searchable)
                if m:
                    self.err(where, f"absent pattern {rx.pattern!r} matches {a.aid}: {ws(m.group(0))[:100]!r}")
        if scope_pub is not None and compiled:
            hits = [a.aid for a in arts.values() if a.publisher == reported_by
                    and any(rx.search(a.searchable) for rx in compiled)]
            if not hits:
                self.err(where, f"no absent pattern matches any article of reported_by {reported_by!r}")
        for other, oarts in self.archives.items():
            if other == archive or scope_pub is not None:
                continue
            for a in oarts.values():
                if any(rx.search(a.searchable) for rx in compiled):
                    self.notes.append(f"{where}: a pattern matches {other} article {a.aid}")
        near, nq = q.get("near"), q.get("near_quote")
        art = arts.get(near) if isinstance(near, str) else None
        if art is None:
            self.err(where, f"near {near!r} is not an article of the {archive} archive")
        elif not isinstance(nq, str) or not nq.strip():
            self.err(where, "near_quote must be a non-empty string")
        else:
            mode = self.locate(archive, art, nq)
            if mode is None:
                self.err(where, f"near_quote is not a substring of {near}: {nq[:70]!r}")
            elif mode == "ws":
                self.warnings.append(f"{where}: near_quote found only after whitespace folding")
        if scope_pub is not None and art is not None and art.publisher != reported_by:
            self.err(where, f"near {near!r} should be the {reported_by!r} article that reports the topic")


def other_ids(sets_dir: Path) -> dict[str, str]:
    """Ids used by the other question sets (evals/ and seeds/), to keep ids unique."""
    ids: dict[str, str] = {}
    own = set(SETS.values())
    for d in (sets_dir, ROOT / "seeds"):
        for p in sorted(d.glob("*.jsonl")):
            if p.name in own:
                continue
            with open(p, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        with contextlib.suppress(json.JSONDecodeError, AttributeError):
                            ids[json.loads(line).get("id")] = p.name
    return ids


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--horne", default=str(ROOT / "tests/data/horne2017/articles.jsonl"))
    ap.add_argument("--fnc", default=str(ROOT / "tests/data/fakenewscorpus-sample/news_sample.csv"))
    ap.add_argument("--seed", default=str(ROOT / "seeds/000_1188ee5dcc83ef1c.txt"))
    ap.add_argument("--sets-dir", default=str(ROOT / "evals"))
    ap.add_argument("-q", "--quiet", action="store_true", help="do not print warnings and cross-archive notes")
    args = ap.parse_args()

    archives = {"horne": load_horne(Path(args.horne)), "fnc": load_fnc(Path(args.fnc)),
                "seed": load_seed(Path(args.seed))}
    ck = Checker(archives)
    taken = other_ids(Path(args.sets_dir))
    seen: dict[str, str] = {}
    counts: collections.Counter[tuple[str, str, str]] = collections.Counter()
    for archive, name in SETS.items():
        path = Path(args.sets_dir) / name
        if not path.is_file():
            ck.err(name, "file not found")
            continue
        rows: list[tuple[str, dict]] = []
        for where, q in question_lines(path, name, ck.err):
            qid = q.get("id")
            if qid in seen:
                ck.err(where, f"duplicate id {qid!r} (also {seen[qid]})")
            elif qid in taken:
                ck.err(where, f"id {qid!r} is already used in {taken[qid]}")
            seen[str(qid)] = where
            rows.append((where, q))
        by_id = {q.get("id"): q for _, q in rows}
        for where, q in rows:
            ck.check(archive, where, q, by_id)
            counts[(archive, str(q.get("kind")), "null" if q.get("type") == "null" else "answerable")] += 1

    print("counts (answerable / null) by archive and kind")
    header = f"{'kind':<11}" + "".join(f"{a:>12}" for a in SETS) + f"{'total':>12}"
    print(header)
    for kind in KINDS:
        cells, ta, tn = [], 0, 0
        for a in SETS:
            na, nn = counts[(a, kind, "answerable")], counts[(a, kind, "null")]
            ta, tn = ta + na, tn + nn
            cells.append(f"{na:>3} / {nn:<3}")
        print(f"{kind:<11}" + "".join(f"{c:>12}" for c in cells) + f"{f'{ta} / {tn}':>12}")
    tot = [(sum(counts[(a, k, 'answerable')] for k in KINDS), sum(counts[(a, k, 'null')] for k in KINDS)) for a in SETS]
    print(f"{'total':<11}" + "".join(f"{f'{x} / {y}':>12}" for x, y in tot)
          + f"{f'{sum(x for x, _ in tot)} / {sum(y for _, y in tot)}':>12}")
    modes = ", ".join(f"{a}: {ck.quote_modes[(a, 'raw')]} verbatim, {ck.quote_modes[(a, 'ws')]} whitespace-folded"
                      for a in SETS)
    print(f"evidence quotes found -- {modes}")
    if not args.quiet:
        for label, items in (("warning", ck.warnings), ("note", ck.notes)):
            if items:
                print(f"\n{len(items)} {label}(s):")
                for w in items:
                    print(f"  {label.upper()} {w}")
    if ck.errors:
        print(f"\n{len(ck.errors)} error(s):")
        for e in ck.errors:
            print("  ERROR", e)
        return 1
    print("\nOK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
