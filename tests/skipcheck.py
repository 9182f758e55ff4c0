"""The suite fails when a test is skipped for any reason but a missing optional system facility.

Everything else a test needs is installed by ``make test`` or carried by the repository (the
archives under ``tests/data``), so a skip for any other reason hides a test that did not run.
The reasons allowed, each a facility of the machine rather than of the project:
"""

from __future__ import annotations

from typing import Any

import pytest

ALLOWED_SKIPS = {  # the start of the skip reason → why it may be missing
    "Chromium is not installed": "the browser tests drive Debian's chromium (`make browser` installs it with apt)",
    "cannot mount a tmpfs here": "the full-disk and read-only drills need to mount a small tmpfs (root or CAP_SYS_ADMIN)",
}
__doc__ = (__doc__ or "") + "".join(f"\n- {reason!r}: {why}" for reason, why in ALLOWED_SKIPS.items())


def skip_reason(report: Any) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return str(text).removeprefix("Skipped: ")


def unexpected_skips(session: pytest.Session) -> list[tuple[str, str]]:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    found = [(r.nodeid, skip_reason(r)) for r in skipped]
    return [(node, reason) for node, reason in found if not reason.startswith(tuple(ALLOWED_SKIPS))]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if exitstatus == pytest.ExitCode.OK and unexpected_skips(session):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    bad = unexpected_skips(terminalreporter._session)
    if bad:
        terminalreporter.section("tests skipped for a reason that is not a missing system facility", red=True)
        for node, reason in bad:
            terminalreporter.line(f"{node}: {reason}")
        terminalreporter.line("Allowed: " + "; ".join(ALLOWED_SKIPS) + " (tests/skipcheck.py).")
