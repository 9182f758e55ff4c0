"""Helpers for the browser-chat tests: fixture archives, a served app, a Chromium page that records
every request and refuses any that leaves this machine."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from helpers import SEEDS, free_port  # noqa: E402, F401  (the seed page alone)

from assistant.chat import Newsdesk  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.embedding import Embedder  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "test-output" / "ui"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

SEED_QUESTION = "How many civilians are trapped in eastern Aleppo?"
SEED_QUOTE = "more than 250,000 civilians are trapped"


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


# ---- fixture archives ----------------------------------------------------------------------------


def bridge_archive(folder: Path) -> Path:
    """Two publishers, two dates, one story with different facts: filters decide which is quoted."""
    return write_jsonl(folder / "bridge.jsonl", [
        {"id": "gazette-bridge", "title": "Elm Street bridge to close for repairs", "publisher": "Harbor Gazette",
         "author": "Mara Quint", "date": "2021-03-01", "url": "https://gazette.example/bridge",
         "body": "The Elm Street bridge will close for thirty days of repairs starting next Monday, city engineers said.\n\n"
                 "Drivers are asked to use the Front Street crossing while crews replace the steel deck.\n\n"
                 "The engineers said the repairs were planned two years ago."},
        {"id": "courier-bridge", "title": "Bridge closure extended", "publisher": "Valley Courier",
         "author": "Tobias Renn", "date": "2021-06-01", "url": "https://courier.example/bridge",
         "body": "The Elm Street bridge will close for forty-five days of repairs after inspectors found corroded cables.\n\n"
                 "The Valley Courier learned that the closure was extended at a council meeting on Tuesday.\n\n"
                 "Cyclists will be allowed to cross on a temporary walkway."},
    ])


TOWNS = ["Arlow", "Brimsby", "Calderholt", "Dunmere", "Eskvale", "Farrowgate", "Glenhollow", "Harwick", "Ilsmoor",
         "Jessop Falls", "Kettering Cross", "Lindqvist", "Morrowby", "Northaven", "Oakhurst Bay", "Pellinore",
         "Quillon", "Ravensholm", "Saltmarsh", "Thornbury Vale"]
MAYORS = ["Alma Vetch", "Bruno Kessel", "Celia Marwood", "Dario Penhallow", "Edith Sorrel", "Felix Ondaatje",
          "Greta Halloran", "Hugo Brannigan", "Ines Caldwell", "Jonah Whitlock", "Kira Tamsin", "Leopold Arkwright",
          "Mina Okonkwo", "Nils Ravenscroft", "Olive Featherstone", "Pavel Lindgren", "Quentin Ashdown",
          "Rosa Delacourt", "Silas Wetherby", "Tamsin Oduya"]


PLEDGES = [
    "rebuild the harbour wall before the winter storms", "reopen the branch library on Saturdays",
    "run a night bus to the hospital", "plant four hundred oak trees along the ring road",
    "cut the waiting list for council housing in half", "install solar panels on every school roof",
    "buy back the old railway station for a market hall", "repair the potholes on Mill Lane within a month",
    "fund free swimming lessons for primary pupils", "move the annual fair back to the river meadow",
    "hire six more park rangers", "open a walk-in clinic beside the bus depot",
    "turn the disused quarry into a nature reserve", "publish every council contract online",
    "build a footbridge across the canal", "restore the clock tower in the square",
    "lower parking charges for nurses", "create an apprenticeship scheme with the shipyard",
    "stop the closure of the fire station", "light the cycle path to the university",
]
DETAILS = [
    "Turnout reached sixty-one percent, the highest in a decade.", "The count ran past midnight in the sports hall.",
    "A recount was requested and refused.", "Her rival conceded by telephone shortly after ten.",
    "Fireworks were set off over the marina.", "The result ended twelve years of rule by the same party.",
    "Only forty-three votes separated the top two.", "Students helped staff the polling stations.",
    "Heavy rain kept many older voters at home.", "The new council meets for the first time next Thursday.",
    "Independents took three of the nine seats.", "Campaign spending was capped at two thousand pounds.",
    "The outgoing mayor did not stand again.", "Postal votes made up a third of the total.",
    "A brass band played outside the town hall.", "The winner thanked the volunteers who knocked on doors.",
    "Several ballot boxes arrived late from the islands.", "The turnout among young voters doubled.",
    "Observers from the county praised the count.", "The losing candidate promised to stay on the council.",
]


def towns_archive(folder: Path) -> Path:
    """Twenty different articles, each naming one town's newly elected mayor and what they promised."""
    records = [
        {"id": f"town-{i:02d}", "title": f"{town} chooses {mayor}", "publisher": "Shire Herald", "author": "Staff",
         "date": f"2022-05-{i + 1:02d}",
         "body": f"{mayor} was elected mayor of {town} on Sunday. {DETAILS[i]}\n\n"
                 f"During the campaign {mayor.split()[0]} promised to {PLEDGES[i]}."}
        for i, (town, mayor) in enumerate(zip(TOWNS, MAYORS, strict=True))
    ]
    return write_jsonl(folder / "towns.jsonl", records)


XSS_TITLE = "<script>alert(1)</script><img src=x onerror=alert(2)> Flood <iframe src=http://evil.example/f></iframe>"
XSS_BODY = (
    "The river flood reached the old mill on Friday, flooding forty homes in the lower town.\n\n"
    "<script>alert(3)</script> Residents said <img src=x onerror=alert(4)> the water rose within an hour.\n\n"
    "Officials posted advice at [the council page](javascript:alert(5)) and ![map](http://evil.example/x.png).\n\n"
    "<iframe src=\"http://evil.example/frame\"></iframe><a href=\"javascript:alert(6)\">click</a> "
    "<svg onload=alert(7)></svg> ${alert(8)} {{constructor.constructor('alert(9)')()}} The flood damaged forty homes."
)


def xss_archive(folder: Path) -> Path:
    """Articles whose titles, bodies and metadata carry script, handler, frame and image payloads."""
    return write_jsonl(folder / "xss.jsonl", [
        {"id": "flood-1", "title": XSS_TITLE, "publisher": "<img src=http://evil.example/p.png onerror=alert(10)>Evil Post",
         "author": "<b onmouseover=alert(11)>Mallory</b>", "date": "2020-02-02", "url": "javascript:alert(12)", "body": XSS_BODY},
        {"id": "flood-2", "title": "![pic](http://evil.example/t.png) Mill owners count the cost",
         "publisher": "River Times", "author": "Ann Lee", "date": "2020-02-03", "url": "http://evil.example/story",
         "body": "Mill owners said the flood damaged forty homes and two warehouses.\n\n"
                 "<img src=\"http://evil.example/inline.png\"> Repairs will take months, they said."},
    ])


# ---- serving -----------------------------------------------------------------------------------


@dataclass
class Served:
    url: str
    settings: Settings
    newsdesk: Newsdesk
    demo: Any = field(repr=False)


def build_index(sources: list[Path], index_dir: Path, embedder: Embedder) -> Settings:
    from assistant.indexing import rebuild

    settings = Settings(index_dir=index_dir)
    rebuild(sources, settings, embedder=embedder)
    return settings


@contextmanager
def served(settings: Settings, embedder: Embedder, stream: Any = None) -> Iterator[Served]:
    """The app of ``settings`` launched on a free local port (in this process), closed afterwards."""
    from dataclasses import replace

    from assistant import ui

    settings = replace(settings, host="127.0.0.1", port=free_port())
    newsdesk = Newsdesk(settings, embedder=embedder)
    demo = ui.build_app(newsdesk, settings, stream=stream)
    url = ui.launch(demo, settings, block=False)
    try:
        yield Served(url.rstrip("/"), settings, newsdesk, demo)
    finally:
        demo.close()


# ---- the browser ---------------------------------------------------------------------------------


@dataclass
class Watch:
    """What a page did: every request URL, every dialog (alert/confirm), console errors."""

    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def external(self) -> list[str]:
        return [u for u in self.requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")
                and urlsplit(u).hostname not in LOCAL_HOSTS]


def open_page(browser: Any, url: str, *, width: int = 1366, height: int = 900, dark: bool = False) -> tuple[Any, Watch]:
    """A fresh context (own session) on ``url``: requests recorded, non-local ones aborted, dialogs recorded and dismissed."""
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme="dark" if dark else "light",
                                  reduced_motion="reduce")
    watch = Watch()

    def route(r: Any) -> None:
        host = urlsplit(r.request.url).hostname
        if urlsplit(r.request.url).scheme in ("http", "https") and host not in LOCAL_HOSTS:
            r.abort()
        else:
            r.continue_()

    context.route("**/*", route)
    page = context.new_page()
    page.on("request", lambda r: watch.requests.append(r.url))
    page.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    page.goto(url, wait_until="load")
    page.wait_for_selector("#nd-header .nd-header:not([data-state=loading])", timeout=30_000)
    return page, watch


def ask(page: Any, question: str, timeout: float = 60_000) -> Any:
    """Type ``question``, press Enter, and wait for its answer (the latest turn no longer busy)."""
    turns_before = page.locator("article.nd-turn").count()
    box = page.locator("#nd-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "n => { const t = document.querySelectorAll('article.nd-turn'); return t.length > n && !t[t.length - 1].hasAttribute('aria-busy'); }",
        arg=turns_before, timeout=timeout,
    )
    return page.locator("article.nd-turn").last


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
