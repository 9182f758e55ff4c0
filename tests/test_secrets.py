"""Secrets are never shown: every setting declared secret (walked from the declaration, so a new one
is covered without touching this file) and the credentials inside URLs stay out of evaluation
reports, `newsdesk settings`, error messages and log lines."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest
from helpers import REPO, SEEDS, free_port

from assistant.config import REDACTED, SET, Settings, env_name, redact, redact_logs, redact_url
from assistant.embedding import Embedder
from assistant.errors import ChromaUnavailableError
from assistant.eval_report import write_report
from assistant.evaluation import run_eval

URL_PASSWORD = "url-pw-K2v9"  # the password inside a URL setting
URL_KEY = "url-key-Q4t7"  # a key passed as a query parameter of a URL setting


def declared_secrets() -> list[str]:
    """Every setting the declaration marks secret."""
    return [f.name for f in fields(Settings) if f.metadata.get("secret")]


def secret_value(name: str) -> str:
    value = f"S3cr3t-{name.replace('_', '-')}-7f3a"
    return f"X-Api-Key: {value}" if name == "chroma_headers" else value  # that setting holds `Name: value` pairs


def secret_env(**extra: str) -> dict[str, str]:
    """A value for every declared secret, as NEWSDESK_* variables."""
    return {env_name(name): secret_value(name) for name in declared_secrets()} | extra


def never_shown() -> list[str]:
    return [secret_value(name) for name in declared_secrets()] + [URL_PASSWORD, URL_KEY, "S3cr3t-chroma-headers-7f3a"]


def assert_no_secret(text: str, where: str) -> None:
    for value in never_shown():
        assert value not in text, f"{where} shows a secret: {value}"


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    full = {**base, "PYTHONPATH": str(REPO), "COLUMNS": "300", **env}
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], env=full, cwd=REPO, capture_output=True, text=True, timeout=600)


def test_the_credentials_settings_are_declared_secret() -> None:
    assert {"chroma_token", "llm_api_key", "auth_password"} <= set(declared_secrets())
    assert Settings.secret_names() == tuple(declared_secrets())


def test_url_credentials_are_masked() -> None:
    assert redact_url("https://bob:hunter2@llm.example/v1") == f"https://{REDACTED}@llm.example/v1"
    assert redact_url("http://ghp_tokenonly@git.example/x") == f"http://{REDACTED}@git.example/x"
    masked = redact_url("https://llm.example/v1?model=m&api_key=abc123&token=t0k&key=k3y&access_token=at&password=pw&sig=s1")
    assert masked == (f"https://llm.example/v1?model=m&api_key={REDACTED}&token={REDACTED}&key={REDACTED}"
                      f"&access_token={REDACTED}&password={REDACTED}&sig={REDACTED}")
    assert redact_url("see http://127.0.0.1:8000/api and bob@example.com") == "see http://127.0.0.1:8000/api and bob@example.com"
    s = Settings(chroma_host=f"editor:{URL_PASSWORD}@chroma.example", llm_base_url=f"https://u:{URL_PASSWORD}@llm.example/v1?api_key={URL_KEY}")
    assert s.shown("chroma_host") == f"{REDACTED}@chroma.example"
    assert s.shown("llm_base_url") == f"https://{REDACTED}@llm.example/v1?api_key={REDACTED}"
    # the credentials of a configured URL are found in any text, with or without the URL around them
    text = redact(f"refused {URL_PASSWORD} and {URL_KEY} for editor:{URL_PASSWORD}@chroma.example:8000", s)
    assert URL_PASSWORD not in text and URL_KEY not in text and "chroma.example:8000" in text


def test_every_secret_is_redacted_from_any_text(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in declared_secrets():
        s = Settings.from_env(secret_env())
        assert s.shown(name) == SET and Settings().shown(name) == ""
        message = f"the endpoint answered 401 for {getattr(s, name)!r}"
        assert secret_value(name) not in redact(message, s)
        monkeypatch.setenv(env_name(name), secret_value(name))
        assert secret_value(name) not in redact(message), "the environment's secrets are redacted without a settings object"


def test_a_real_eval_report_holds_no_secret(tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    """`newsdesk eval` with every secret set, and an LLM endpoint whose URL carries credentials
    (nothing listens there: each question falls back to the offline answer)."""
    base_url = f"http://editor:{URL_PASSWORD}@127.0.0.1:{free_port()}/v1?api_key={URL_KEY}"
    for key, value in secret_env(NEWSDESK_LLM_BASE_URL=base_url, NEWSDESK_LLM_MODEL="m", NEWSDESK_LLM_TIMEOUT="5").items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "out"
    run = run_eval(SEEDS / "questions.jsonl", Settings.from_env(), archive=(SEEDS,), out=out, embedder=embedder)
    files = write_report(run, out)
    report = files.json.read_text(encoding="utf-8")
    assert_no_secret(report, "report.json")
    assert_no_secret(files.markdown.read_text(encoding="utf-8"), "report.md")
    data = json.loads(report)
    assert all(data["settings"][name] == SET for name in declared_secrets())
    assert data["settings"]["llm_base_url"].startswith(f"http://{REDACTED}@127.0.0.1:")
    assert data["settings"]["llm_base_url"].endswith(f"api_key={REDACTED}")
    assert len(data["questions"]) == 21


def test_newsdesk_settings_shows_every_secret_as_set_and_never_its_value() -> None:
    base_url = f"https://editor:{URL_PASSWORD}@llm.example/v1?api_key={URL_KEY}"
    listed = cli("settings", env=secret_env(NEWSDESK_LLM_BASE_URL=base_url))
    assert listed.returncode == 0, listed.stderr
    assert_no_secret(listed.stdout + listed.stderr, "newsdesk settings")
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in listed.stdout.splitlines() if line.startswith("│")}
    assert all(rows[env_name(name)] == SET for name in declared_secrets())
    assert rows["NEWSDESK_LLM_BASE_URL"] == f"https://{REDACTED}@llm.example/v1?api_key={REDACTED}"
    assert rows["NEWSDESK_TOP_K"] == "10"


def test_an_error_message_shows_no_credentials(tmp_path: Path) -> None:
    """An unreachable Chroma server whose address carries credentials: the error names the server, not them."""
    env = secret_env(NEWSDESK_INDEX_DIR=str(tmp_path / "index"), NEWSDESK_CHROMA_HOST=f"http://editor:{URL_PASSWORD}@127.0.0.1",
                     NEWSDESK_CHROMA_PORT=str(free_port()))
    result = cli("index", "rebuild", str(SEEDS), env=env)
    assert result.returncode == ChromaUnavailableError.exit_code, result.stderr
    assert "Cannot use the Chroma server at" in result.stderr and f"http://{REDACTED}@127.0.0.1" in result.stderr
    assert_no_secret(result.stdout + result.stderr, "the error")
    assert "Traceback" not in result.stderr


@pytest.fixture
def restore_log_records() -> Iterator[None]:
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)


def test_log_lines_and_tracebacks_are_redacted(restore_log_records: None, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.from_env(secret_env(NEWSDESK_LLM_BASE_URL=f"https://editor:{URL_PASSWORD}@llm.example/v1"))
    redact_logs(settings)
    log = logging.getLogger("assistant.answering")
    failure = ConnectionError(f"cannot reach https://editor:{URL_PASSWORD}@llm.example/v1 with key {settings.llm_api_key}")
    with caplog.at_level(logging.INFO):
        log.warning("LLM writer failed, showing the offline answer: %r", failure)
        log.info("HTTP Request: POST %s", f"https://llm.example/v1/chat?api_key={URL_KEY}")
        log.info({"token": settings.chroma_token})
        try:
            raise RuntimeError(f"server said: bad password {settings.auth_password}")
        except RuntimeError:
            log.exception("question failed")
    text = caplog.text
    assert "LLM writer failed" in text and "ConnectionError(" in text and "llm.example" in text and "question failed" in text
    assert_no_secret(text, "the log")
    assert REDACTED in text


def test_the_index_records_a_chroma_server_without_its_credentials(tmp_path: Path) -> None:
    from assistant.store.chroma import ChromaServer, StoreLocation

    server = ChromaServer("http://editor:url-pw-4411@chroma.example", 8000)
    recorded = StoreLocation.for_generation("gen-1", server).to_json()  # what store.json and the manifest keep
    assert "url-pw-4411" not in recorded and "editor" not in recorded and "chroma.example:8000" in recorded
