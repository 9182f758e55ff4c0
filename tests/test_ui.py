"""The browser chat: rendered safely, served with closed routes, driven in a real Chromium.

Browser tests serve the app in this process on 127.0.0.1 with an index built in a temporary
directory (real encoder, real Chroma), and drive Debian's Chromium through Playwright. Every page
records its requests (and aborts any leaving this machine) and its dialogs. Screenshots of the
main states go to ``test-output/ui/``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import ui_helpers as h

from assistant.config import Settings
from assistant.embedding import Embedder
from assistant.errors import IndexMissingError, InputError, NewsdeskError, chat_message
from assistant.records import Answer, Article, Filters, Quote, Source
from assistant.ui.html import Turn, article_paragraphs, render_answer, render_article, render_transcript, safe_url

BANANAS = "What is the price of bananas in Peru?"
BRIDGE = "How long will the Elm Street bridge close for repairs?"


# ---- fixtures (``embedder``, the packaged model loaded once, comes from conftest.py) ---------------


@pytest.fixture(scope="module")
def archive_settings(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    """The seed article, two publishers' bridge stories, twenty towns' mayors — one index."""
    root = tmp_path_factory.mktemp("archive")
    h.bridge_archive(root / "articles")
    h.towns_archive(root / "articles")
    return h.build_index([h.SEEDS, root / "articles"], root / "index", embedder)


@pytest.fixture(scope="module")
def app(archive_settings: Settings, embedder: Embedder) -> Iterator[h.Served]:
    with h.served(archive_settings, embedder) as served:
        yield served


def assert_stayed_local(watch: h.Watch) -> None:
    assert watch.external() == [], "the page requested a non-local URL"
    assert watch.dialogs == [], "a dialog opened (script ran)"
    assert [e for e in watch.console_errors if "Content Security Policy" in e] == [], "something tried to load or run"


def in_viewport(page: Any, selector: str) -> bool:
    """Is the element's top visible: inside the window, inside its panel, and below the panel's sticky heading?"""
    return bool(page.evaluate(
        """sel => { const el = document.querySelector(sel); if (!el) return false; const r = el.getBoundingClientRect();
           const box = el.closest('.nd-reader'); const b = box ? box.getBoundingClientRect() : {top: 0, bottom: innerHeight};
           const head = box && box.querySelector('.nd-article-head');
           const h = head && getComputedStyle(head).position === 'sticky' ? head.getBoundingClientRect().bottom : 0;
           return r.height > 0 && r.top >= Math.max(0, b.top, h) - 1 && r.top < Math.min(innerHeight, b.bottom); }""",
        selector,
    ))


# ---- the chat in a browser ------------------------------------------------------------------------


@pytest.mark.browser
def test_answer_shows_quote_cards_and_opens_the_article_at_the_highlighted_quote(app: h.Served, browser: Any) -> None:
    page, watch = h.open_page(browser, app.url)
    assert page.locator(".nd-example").count() >= 1, "example questions from seeds/questions.jsonl"
    turn = h.ask(page, h.SEED_QUESTION)
    card = turn.locator(".nd-card", has_text=h.SEED_QUOTE).first
    card.wait_for()
    assert "The Washington Post" in card.inner_text()
    assert "U.S. threatens to suspend all bilateral cooperation with Russia" in card.inner_text()
    assert turn.locator(".nd-cite").count() >= 1, "inline [n] citations"
    h.screenshot(page, "answer")
    turn.locator("details.nd-how summary").click()
    disclosure = turn.locator("details.nd-how").inner_text()
    assert h.SEED_QUESTION in disclosure and "whole archive" in disclosure

    quote = card.locator(".nd-quote").inner_text().strip("“”")
    card.click()
    mark = page.locator("#nd-reader mark#nd-mark")
    mark.wait_for(timeout=15_000)
    assert page.locator("#nd-article-title").inner_text() == "U.S. threatens to suspend all bilateral cooperation with Russia"
    assert " ".join(t.strip() for t in page.locator("#nd-reader mark").all_inner_texts()) == quote
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'nd-article-title'")
    page.wait_for_timeout(400)
    assert in_viewport(page, "#nd-mark"), "the highlighted quote is scrolled into view"
    h.screenshot(page, "article-panel")

    page.locator("#nd-reader .nd-close").click()
    page.locator("#nd-reader .nd-archive").wait_for()
    assert "ARTICLES" in page.locator("#nd-reader").inner_text().upper()
    assert_stayed_local(watch)


@pytest.mark.browser
def test_citation_and_keyboard_open_the_article(app: h.Served, browser: Any) -> None:
    page, watch = h.open_page(browser, app.url)
    page.locator("#nd-question textarea").focus()
    page.keyboard.type(h.SEED_QUESTION)
    page.keyboard.press("Enter")
    page.locator("article.nd-turn:not([aria-busy]) .nd-card").first.wait_for(timeout=60_000)
    for _ in range(60):  # Tab until a quote card has focus, then open it with Enter
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('nd-card')"):
            break
    else:
        pytest.fail("no quote card was reachable with Tab")
    page.keyboard.press("Enter")
    page.locator("#nd-reader mark").first.wait_for(timeout=15_000)
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'nd-article-title'")
    page.locator("#nd-reader .nd-close").click()
    page.locator(".nd-cite").first.click()
    page.locator("#nd-reader mark").first.wait_for(timeout=15_000)
    assert_stayed_local(watch)


@pytest.mark.browser
def test_abstention_shows_nearest_articles_and_coverage(app: h.Served, browser: Any) -> None:
    page, watch = h.open_page(browser, app.url)
    turn = h.ask(page, BANANAS)
    assert "Not in the archive".upper() in turn.locator(".nd-abstain").inner_text().upper()
    assert turn.locator(".nd-nearest .nd-card").count() >= 1
    assert re.search(r"Searched \d+ of \d+ articles", turn.locator(".nd-coverage").inner_text())
    assert turn.locator(".nd-card .nd-quote").count() == 0, "an abstention quotes nothing"
    h.screenshot(page, "abstention")
    turn.locator(".nd-nearest .nd-card").first.click()
    page.locator("#nd-article-title").wait_for(timeout=15_000)
    assert page.locator("#nd-reader mark").count() == 0
    assert_stayed_local(watch)


def choose_publisher(page: Any, name: str) -> None:
    page.locator("#nd-filters").get_by_text("Filters", exact=False).first.click()
    field = page.locator("#nd-publishers input")
    field.click()
    page.get_by_role("option", name=name, exact=True).click()
    page.keyboard.press("Escape")
    page.locator(".nd-scope-on", has_text=name).wait_for(timeout=10_000)


def card_publishers(turn: Any) -> set[str]:
    return {t.strip() for t in turn.locator(".nd-card .nd-pub").all_inner_texts()}


@pytest.mark.browser
def test_filters_change_results_and_stay_visible(app: h.Served, browser: Any) -> None:
    page, watch = h.open_page(browser, app.url)
    unfiltered = h.ask(page, BRIDGE)
    assert "Harbor Gazette" in card_publishers(unfiltered)

    choose_publisher(page, "Valley Courier")
    courier = h.ask(page, BRIDGE)
    assert card_publishers(courier) == {"Valley Courier"}
    assert "forty-five days" in courier.locator(".nd-cards").inner_text()
    assert "publisher Valley Courier" in (courier.locator("details.nd-how").text_content() or "")
    h.screenshot(page, "filters")

    page.locator("#nd-filters button", has_text="Clear filters").click()
    page.locator(".nd-scope", has_text="Searching the whole archive").wait_for(timeout=10_000)
    page.locator("#nd-until textarea").fill("2021-03-31")
    page.locator(".nd-scope-on", has_text="2021-03-31").wait_for(timeout=10_000)
    gazette = h.ask(page, BRIDGE)
    assert card_publishers(gazette) == {"Harbor Gazette"}
    assert "thirty days" in gazette.locator(".nd-cards").inner_text()

    page.locator("#nd-until textarea").fill("31/03/2021")
    page.locator(".nd-scope.nd-warn").wait_for(timeout=10_000)
    refused = h.ask(page, BRIDGE)
    assert "YYYY-MM-DD" in refused.locator(".nd-error").inner_text()
    assert_stayed_local(watch)


@pytest.mark.browser
def test_follow_up_question_keeps_the_conversation(app: h.Served, browser: Any) -> None:
    page, watch = h.open_page(browser, app.url)
    first = h.ask(page, h.SEED_QUESTION)
    assert first.locator(".nd-card", has_text=h.SEED_QUOTE).count() >= 1
    second = h.ask(page, "And which Russian official did Kerry speak with by phone?")
    assert page.locator("article.nd-turn").count() == 2
    assert "Sergei Lavrov" in second.locator(".nd-cards").inner_text()
    turns = page.locator("article.nd-turn")
    assert h.SEED_QUESTION in turns.nth(0).locator(".nd-q").inner_text()
    assert turns.nth(0).locator(".nd-card", has_text=h.SEED_QUOTE).count() >= 1, "the first answer is still shown"
    h.screenshot(page, "follow-up")
    page.locator("#nd-clear").click()
    page.locator(".nd-welcome").wait_for(timeout=10_000)
    assert page.locator("article.nd-turn").count() == 0
    assert_stayed_local(watch)


@pytest.mark.browser
def test_phone_width_and_dark_theme(app: h.Served, browser: Any) -> None:
    page, watch = h.open_page(browser, app.url, width=390, height=844)
    h.screenshot(page, "phone-welcome")
    turn = h.ask(page, h.SEED_QUESTION)
    turn.locator(".nd-card").first.wait_for()
    overflow = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page scrolls sideways on a phone ({overflow}px)"
    h.screenshot(page, "phone-answer")
    turn.locator(".nd-card").first.click()
    page.locator("#nd-mark").wait_for(timeout=15_000)
    page.wait_for_timeout(600)
    assert in_viewport(page, "#nd-mark")
    h.screenshot(page, "phone-article")
    assert_stayed_local(watch)

    dark, dark_watch = h.open_page(browser, app.url, dark=True)
    assert dark.evaluate("() => document.body.classList.contains('dark')")
    turn = h.ask(dark, h.SEED_QUESTION)
    turn.locator(".nd-card").first.click()
    dark.locator("#nd-mark").wait_for(timeout=15_000)
    background = dark.evaluate("() => getComputedStyle(document.querySelector('.gradio-container')).backgroundColor")
    assert _luminance(background) < 0.2, background
    text = dark.evaluate("() => getComputedStyle(document.querySelector('.nd-text')).color")
    assert _luminance(text) > 0.6, text
    for selector in (".nd-card", ".nd-reader"):
        fill = dark.evaluate("s => getComputedStyle(document.querySelector(s)).backgroundColor", selector)
        assert _luminance(fill) < 0.25, f"{selector} stays light in the dark theme: {fill}"
    ink = dark.evaluate("() => getComputedStyle(document.querySelector('.nd-body')).color")
    assert _luminance(ink) > 0.6, ink
    h.screenshot(dark, "dark-theme")
    dark.locator(".nd-theme").click()
    assert not dark.evaluate("() => document.body.classList.contains('dark')"), "the theme button switches to light"
    assert_stayed_local(dark_watch)


def _luminance(css_color: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", css_color)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


class SlowStream:
    """An answer stream like a token-streaming LLM writer: partial text, then it waits (for Stop)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def __call__(self, question: str, history: Any, filters: Filters) -> Iterator[str | Answer]:
        yield "The archive says"
        yield "The archive says the river"
        self.release.wait(30)
        yield "The archive says the river rose."


@pytest.mark.browser
def test_stop_button_stops_a_streaming_answer(archive_settings: Settings, embedder: Embedder, browser: Any) -> None:
    stream = SlowStream()
    with h.served(archive_settings, embedder, stream=stream) as app:
        page, watch = h.open_page(browser, app.url)
        page.locator("#nd-question textarea").fill("Did the river rise?")
        page.locator("#nd-ask").click()
        page.locator(".nd-streaming", has_text="the river").wait_for(timeout=15_000)
        assert page.locator("#nd-stop").is_visible() and not page.locator("#nd-ask").is_visible()
        page.locator("#nd-stop").click()
        page.locator(".nd-stopped").wait_for(timeout=10_000)
        assert page.locator("#nd-ask").is_visible()
        assert "the river" in page.locator("article.nd-turn").last.inner_text()
        stream.release.set()
        assert_stayed_local(watch)


@pytest.mark.browser
def test_article_payloads_render_inert(tmp_path: Path, embedder: Embedder, browser: Any) -> None:
    settings = h.build_index([h.xss_archive(tmp_path / "articles")], tmp_path / "index", embedder)
    with h.served(settings, embedder) as app:
        page, watch = h.open_page(browser, app.url)
        assert page.locator(".nd-example").count() >= 1, "examples drawn from the (hostile) titles"
        turn = h.ask(page, "How many homes did the flood damage?")
        turn.locator(".nd-card").first.wait_for()
        for card in turn.locator(".nd-card").all():
            card.click()
            page.locator("#nd-article-title").wait_for(timeout=15_000)
            page.wait_for_timeout(300)
        page.locator("#nd-filters").get_by_text("Filters", exact=False).first.click()
        page.locator("#nd-publishers input").click()
        page.wait_for_timeout(500)
        h.screenshot(page, "xss-inert")
        page.keyboard.press("Escape")
        ask_abstain = h.ask(page, BANANAS)
        for near in ask_abstain.locator(".nd-nearest .nd-card").all():
            near.click()
            page.wait_for_timeout(300)

        content = "#nd-transcript, #nd-reader, #nd-examples, #nd-header"
        assert page.locator(f":is({content}) :is(script, img, iframe, svg, object, embed)").count() == 0
        assert page.evaluate(
            """sel => [...document.querySelectorAll(sel)].flatMap(root => [...root.querySelectorAll('*')])
                 .filter(el => [...el.attributes].some(a => a.name.startsWith('on'))).length""",
            content,
        ) == 0
        assert page.locator("a[href^='javascript' i]").count() == 0
        shown = page.locator(content).all_inner_texts()
        assert any("<script>alert(1)</script>" in t for t in shown), "payloads are shown as text"
        page.wait_for_timeout(500)
        assert watch.dialogs == [], "no script from the articles ran"
        assert watch.external() == [], f"requests left this machine: {watch.external()}"
        assert watch.console_errors == [], "nothing was blocked either (the payloads never tried to load or run)"


@pytest.mark.browser
def test_no_index_says_how_to_build_one(tmp_path: Path, embedder: Embedder, browser: Any) -> None:
    settings = Settings(index_dir=tmp_path / "empty-index")
    with h.served(settings, embedder) as app:
        page, watch = h.open_page(browser, app.url)
        message = page.locator("#nd-transcript .nd-noindex")
        message.wait_for(timeout=15_000)
        assert "No index" in message.inner_text()
        assert "newsdesk index rebuild PATH" in message.inner_text()
        assert page.locator("#nd-question textarea").is_disabled()
        assert page.locator(".nd-header[data-state='no-index']").count() == 1
        h.screenshot(page, "no-index")
        assert_stayed_local(watch)
    assert not (settings.index_dir / "LIVE").exists(), "building the page never builds an index"


# ---- the server -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_fifty_concurrent_sessions_each_get_their_own_answers(app: h.Served) -> None:
    """Fifty API sessions at once, two turns each (a question, then a follow-up that only makes sense
    with the session's own history): every answer arrives, none carries another session's town."""
    from gradio_client import Client

    sessions = [(i, h.TOWNS[i % len(h.TOWNS)]) for i in range(50)]
    results: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(sessions))

    def session(n: int, town: str) -> None:
        try:
            client = Client(app.url + "/", verbose=False, analytics_enabled=False, download_files=False,
                            httpx_kwargs={"timeout": 300})
            start.wait(timeout=120)
            first = f"Who was elected mayor of {town}?"
            one = client.predict(question=first, history=[], publishers=[], since="", until="", api_name="/ask")
            two = client.predict(question="What did they promise during the campaign?", history=[first], publishers=[], since="",
                                 until="", api_name="/ask")
            results[n] = (one, two)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=session, args=pair) for pair in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    assert set(results) == {n for n, _ in sessions}, "an answer was lost"
    for n, town in sessions:
        i = h.TOWNS.index(town)
        one, two = results[n]
        assert one["error"] is None and two["error"] is None
        assert one["answer"]["question"] == f"Who was elected mayor of {town}?"
        lead = one["answer"]["quotes"][0]["text"]
        assert h.MAYORS[i] in lead, f"session {n} ({town}) was answered with another town's quote: {lead}"
        cited = {q["article_id"] for q in two["answer"]["quotes"]}
        assert cited == {f"town-{i:02d}"}, f"session {n}'s follow-up ({town}) was answered from elsewhere: {cited}"


def test_only_the_ask_endpoint_is_public_and_file_routes_are_closed(app: h.Served) -> None:
    import httpx
    from gradio_client import Client

    client = Client(app.url + "/", verbose=False, analytics_enabled=False, download_files=False)
    api = client.view_api(print_info=False, return_format="dict")
    assert set(api["named_endpoints"]) == {"/ask"}
    assert api["unnamed_endpoints"] == {}
    with httpx.Client(base_url=app.url, timeout=10) as http:
        home = http.get("/")
        assert home.status_code == 200
        policy = home.headers["content-security-policy"]
        assert "img-src 'self' data: blob:" in policy and "frame-src 'none'" in policy and "connect-src 'self'" in policy
        for method, path in [("POST", "/gradio_api/upload"), ("GET", "/gradio_api/file=/etc/passwd"),
                             ("GET", "/gradio_api/file/etc/passwd"), ("GET", "/gradio_api/proxy=http://evil.example/"),
                             ("GET", "/monitoring"), ("GET", "/gradio_api/runs"), ("POST", "/gradio_api/process_recording")]:
            assert http.request(method, path).status_code == 404, path
    assert app.url.startswith("http://127.0.0.1:")


def test_serve_options_bind_locally_with_limits(app: h.Served) -> None:
    demo = app.demo
    assert demo.analytics_enabled is False
    assert demo.enable_monitoring is False
    assert demo.show_error is False
    assert demo.max_file_size == 1024 * 1024
    assert demo._queue.max_size == 64
    limits = {fn.api_name: fn.concurrency_limit for fn in demo.fns.values() if fn.concurrency_id == "answering"}
    assert limits and set(limits.values()) == {4}, limits
    assert not any(type(b).__name__ in {"File", "UploadButton", "Image", "Audio", "Video"} for b in demo.blocks.values())


# ---- handlers and renderings, without a browser -----------------------------------------------------


def test_answer_streams_lead_quote_first_then_the_rest(app: h.Served) -> None:
    from assistant.ui import Chat

    chat = Chat(app.newsdesk, app.settings)
    steps = list(chat.ask(h.SEED_QUESTION, [], [], "", ""))
    first_html, final = steps[0][1], steps[-1]
    assert "Searching the archive" in first_html
    writing = [s[2][-1] for s in steps if s[2] and s[2][-1].status == "writing"]
    assert writing, "partial answers are shown before the finished one"
    assert writing[0].partial.count("[") == 1, "the lead quote comes first"
    assert [len(t.partial) for t in writing] == sorted(len(t.partial) for t in writing)
    turns = final[2]
    assert turns[-1].status == "done" and h.SEED_QUOTE in final[1]

    second = list(chat.ask("Which Russian official did Kerry speak with by phone?", turns, [], "", ""))[-1][2]
    assert [t.question for t in second] == [h.SEED_QUESTION, "Which Russian official did Kerry speak with by phone?"]


def test_follow_up_sends_earlier_questions_as_history(app: h.Served) -> None:
    from assistant.ui import Chat, progressive

    seen: list[list[str]] = []
    inner = progressive(app.newsdesk)

    def recording(question: str, history: Any, filters: Filters) -> Iterator[str | Answer]:
        seen.append(list(history))
        yield from inner(question, history, filters)

    chat = Chat(app.newsdesk, app.settings, stream=recording)
    turns = list(chat.ask(h.SEED_QUESTION, [], [], "", ""))[-1][2]
    list(chat.ask("And who did Kerry call?", turns, [], "", ""))
    assert seen == [[], [h.SEED_QUESTION]]


def test_errors_are_short_and_never_show_paths(app: h.Served) -> None:
    from assistant.ui import Chat

    assert "newsdesk index rebuild PATH" in chat_message(IndexMissingError("No index in /srv/secret/index. Build one"))
    assert "/srv/secret" not in chat_message(NewsdeskError("Cannot read /srv/secret/data/file.jsonl: denied"))
    assert chat_message(RuntimeError("boom at /srv/secret/x.py line 3")) == "Something went wrong while answering; the error was logged."

    def broken(question: str, history: Any, filters: Filters) -> Iterator[str | Answer]:
        raise RuntimeError("Traceback in /srv/secret/module.py")
        yield ""

    final = list(Chat(app.newsdesk, app.settings, stream=broken).ask("Anything?", [], [], "", ""))[-1]
    assert "something went wrong" in final[1].lower() and "/srv/secret" not in final[1] and "Traceback" not in final[1]


def test_rendering_escapes_article_text_and_drops_unsafe_links() -> None:
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)>"><iframe src=//evil.example>'
    body = f"Intro {payload} and the quoted sentence here.\n\nSecond paragraph."
    start = body.index("the quoted")
    end = start + len("the quoted sentence here.")
    article = Article("a1", payload, body, payload, payload, date(2020, 1, 2), 2020, "javascript:alert(3)", "x.jsonl", 1)
    quote = Quote("a1", start, end, body[start:end], 1)
    source = Source(1, "a1", payload, payload, payload, "2020-01-02", "javascript:alert(3)", "x.jsonl", (payload,))
    answer = Answer(payload, f"According to {payload}: “{quote.text}” [1]", (quote,), (source,), False, payload, Filters(publishers=(payload,)))
    html = render_transcript([Turn(payload, Filters(), "done", answer=answer)]) + render_article(article, (start, end), source)
    assert not re.search(r"<(script|img|iframe)", html, re.I)
    assert "javascript:" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert safe_url("https://example.com/a?b=1") == "https://example.com/a?b=1"
    assert safe_url("javascript:alert(1)") is None and safe_url("data:text/html,x") is None
    assert f'data-start="{start}" data-end="{end}"' in render_answer(answer)


def test_highlight_covers_exactly_the_quoted_span_across_paragraphs() -> None:
    body = "One & two.\n\nThree <four> five.\nSix.\n\nSeven."
    start, end = body.index("two"), body.index("five") + len("five")
    html = article_paragraphs(body, (start, end))
    marked = re.findall(r"<mark[^>]*>(.*?)</mark>", html, re.S)
    assert "".join(marked).replace("&lt;", "<").replace("&gt;", ">") == body[start:end].replace("\n\n", "")
    assert html.count('id="nd-mark"') == 1
    assert html.count("<p>") == 3


def test_filters_parse_and_refuse_bad_dates() -> None:
    f = Filters.parse(["Valley Courier", "Valley Courier"], since="2021-01-01", until=" 2021-12-31 ")
    assert f == Filters(publishers=("Valley Courier",), since=date(2021, 1, 1), until=date(2021, 12, 31))
    assert Filters.parse([], since="", until="").empty
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        Filters.parse([], since="last week", until="")
    with pytest.raises(InputError, match="empty"):
        Filters.parse([], since="2021-02-01", until="2021-01-01")


def test_example_questions_come_from_the_archive(tmp_path: Path) -> None:
    from assistant.ui import example_questions, title_questions

    assert example_questions([str(h.SEEDS)])[0].startswith("Which Syrian city")
    assert example_questions([str(tmp_path)]) == []
    assert title_questions(["Bridge closure extended", " "]) == ["What does the archive report about “Bridge closure extended”?"]


def test_turn_states_render_for_the_reader() -> None:
    searching = render_transcript([Turn("Q?", Filters())])
    assert "Searching the archive" in searching and 'aria-busy="true"' in searching
    stopped = render_transcript([Turn("Q?", Filters(), "stopped", partial="Half an answer")])
    assert "Stopped" in stopped and "Half an answer" in stopped
    failed = render_transcript([replace(Turn("Q?", Filters()), status="error", message="No index — build one")])
    assert 'role="alert"' in failed and "No index" in failed



def test_login_is_required_when_a_password_is_configured(archive_settings: Settings, embedder: Embedder) -> None:
    import httpx

    settings = replace(archive_settings, auth_user="editor", auth_password="s3cret-desk")
    with h.served(settings, embedder) as app, httpx.Client(base_url=app.url, timeout=10) as http:
        assert http.get("/config").status_code == 401
        assert http.post("/gradio_api/queue/join", json={}).status_code == 401
        assert http.post("/login", data={"username": "editor", "password": "wrong"}).status_code >= 400
        assert http.post("/login", data={"username": "editor", "password": "s3cret-desk"}).status_code == 200
        assert http.get("/config").status_code == 200


def test_syndicated_copies_show_also_published_by(tmp_path: Path, embedder: Embedder) -> None:
    from assistant.chat import Newsdesk
    from assistant.ui import Chat

    story = ("The city council approved a new tram line linking the harbour to the university on Tuesday, "
             "after three years of debate about its cost and route through the old town. The first trams are "
             "expected to run in the spring of next year, the transport committee said in a statement. "
             "Construction will close two bridges for several months while the tracks are laid.")
    h.write_jsonl(tmp_path / "articles" / "tram.jsonl", [
        {"id": "wire", "title": "Council approves tram line", "publisher": "Coast Wire", "date": "2023-04-04", "body": story},
        {"id": "copy", "title": "Tram line approved", "publisher": "Harbour Daily", "date": "2023-04-05",
         "body": story + " Harbour Daily readers can send questions to the newsroom."},
    ])
    settings = h.build_index([tmp_path / "articles"], tmp_path / "index", embedder)
    result = Chat(Newsdesk(settings, embedder=embedder), settings).ask_api("When will the first trams run?")
    assert result["error"] is None and result["answer"]["quotes"]
    sources = result["answer"]["sources"]
    assert len(sources) == 1, "a syndicated story is cited once"
    other = {"Coast Wire", "Harbour Daily"} - {sources[0]["publisher"]}
    assert list(sources[0]["also_published_by"]) == list(other)
    assert f"Also published by {other.pop()}" in result["html"]
