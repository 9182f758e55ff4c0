"""Serving options: a login with only one of user and password is refused at start-up, naming the
missing setting; serving beyond this machine is warned about, saying whether login is on."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import gradio as gr
import pytest
from helpers import REPO, free_port

from assistant import ui
from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.ui.server import exposure_warning, is_loopback

HALF_LOGINS = [
    ({"auth_user": "editor"}, "NEWSDESK_AUTH_PASSWORD"),
    ({"auth_password": "s3cret-desk"}, "NEWSDESK_AUTH_USER"),
]


@pytest.fixture
def restore_log_records() -> Iterator[None]:
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)


def tiny_app() -> gr.Blocks:
    with gr.Blocks() as demo:
        gr.Markdown("newsdesk")
    return demo


@pytest.mark.parametrize(("given", "missing"), HALF_LOGINS)
def test_a_login_with_one_half_is_refused_before_serving(given: dict[str, str], missing: str, restore_log_records: None) -> None:
    settings = replace(Settings(), port=free_port(), **given)
    with pytest.raises(ConfigError, match=f"{missing} is empty") as raised:
        url = ui.launch(tiny_app(), settings, block=False)
        gr.close_all()  # the old behaviour: served without a login
        pytest.fail(f"served on {url} without the login that was asked for")
    assert raised.value.exit_code == 2
    assert "set both" in str(raised.value) and "s3cret-desk" not in str(raised.value)
    assert Settings(auth_user="editor", auth_password="s3cret-desk").login() == ("editor", "s3cret-desk")
    assert Settings().login() is None


def run_entry(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    full = {**base, "PYTHONPATH": str(REPO), "COLUMNS": "300", "NEWSDESK_INDEX_DIR": str(tmp_path / "index"),
            "NEWSDESK_PORT": str(free_port()), **env}
    return subprocess.run([sys.executable, *args], env=full, cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("entry", [["-m", "assistant.cli", "serve"], ["app.py"]], ids=["newsdesk serve", "app.py"])
def test_the_commands_stop_at_once_on_a_half_login(entry: list[str], tmp_path: Path) -> None:
    result = run_entry(entry, {"NEWSDESK_AUTH_USER": "editor"}, tmp_path)
    assert result.returncode == ConfigError.exit_code, result.stderr[-2000:]
    assert "NEWSDESK_AUTH_USER is set but NEWSDESK_AUTH_PASSWORD is empty" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "index").exists(), "refused before the index is built"


def test_loopback_addresses() -> None:
    for host in ("127.0.0.1", "127.0.1.1", "::1", "[::1]", "localhost"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "", "192.0.2.10", "10.1.2.3"):
        assert not is_loopback(host), host


def test_the_warning_says_whether_login_is_on() -> None:
    assert exposure_warning(Settings()) is None
    assert exposure_warning(Settings(host="localhost")) is None
    assert exposure_warning(Settings(host="")) is None, "Gradio serves an empty host on 127.0.0.1"
    open_to_all = exposure_warning(Settings(host="0.0.0.0", port=7861))
    assert open_to_all is not None
    assert "0.0.0.0:7861" in open_to_all and "not a loopback address" in open_to_all
    assert "login is OFF" in open_to_all and "NEWSDESK_AUTH_USER" in open_to_all
    with_login = exposure_warning(Settings(host="0.0.0.0", auth_user="editor", auth_password="s3cret-desk"))
    assert with_login is not None and "login is on" in with_login and "s3cret-desk" not in with_login


def test_serving_beyond_loopback_prints_the_warning(caplog: pytest.LogCaptureFixture, restore_log_records: None) -> None:
    settings = replace(Settings(), host="0.0.0.0", port=free_port())
    demo = tiny_app()
    with caplog.at_level(logging.WARNING, logger="newsdesk"):
        ui.launch(demo, settings, block=False)
    demo.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name == "newsdesk"]
    assert len(warnings) == 1, caplog.text
    assert f"served on 0.0.0.0:{settings.port}" in warnings[0] and "login is OFF" in warnings[0]


def test_serving_on_loopback_warns_of_nothing(caplog: pytest.LogCaptureFixture, restore_log_records: None) -> None:
    settings = replace(Settings(), port=free_port())
    demo = tiny_app()
    with caplog.at_level(logging.WARNING, logger="newsdesk"):
        ui.launch(demo, settings, block=False)
    demo.close()
    assert not [r for r in caplog.records if r.name == "newsdesk"], caplog.text
