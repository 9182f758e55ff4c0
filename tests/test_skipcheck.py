"""The skip check: a suite with a test skipped for a reason other than a missing system facility fails."""

from __future__ import annotations

from pathlib import Path

import pytest
import skipcheck

CONFTEST = "from skipcheck import pytest_sessionfinish, pytest_terminal_summary  # noqa: F401\n"


def test_a_skip_for_missing_data_fails_the_suite(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(skipcheck=Path(skipcheck.__file__).read_text(encoding="utf-8"))
    pytester.makepyfile(
        """
        import pytest

        def test_runs():
            pass

        def test_needs_data():
            pytest.skip("tests/data/horne2017 is absent")
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*tests skipped for a reason that is not a missing system facility*",
                                 "*test_needs_data: tests/data/horne2017 is absent"])


def test_a_skip_for_a_missing_system_facility_is_allowed(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(skipcheck=Path(skipcheck.__file__).read_text(encoding="utf-8"))
    pytester.makepyfile(
        """
        import pytest

        def test_browser():
            pytest.skip("Chromium is not installed (make browser installs Debian's chromium)")
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK
    assert "not a missing system facility" not in result.stdout.str()
