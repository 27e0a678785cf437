"""The harness itself: outside requests are blocked, recorded and fail the test; axe-core findings are reported."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.browser.harness import check_accessibility

ROOT = Path(__file__).resolve().parents[2]
# Hosts under .invalid never resolve (RFC 2606), should a request ever slip past the guard.
OUTSIDE_SCRIPT = "https://cdn.example.invalid/library.js"
OUTSIDE_IMAGE = "http://images.example.invalid/logo.png"


def test_requests_to_other_hosts_are_aborted_and_recorded_and_local_ones_pass(page, watch):
    page.goto("/health/")
    page.set_content(
        f'<html lang="en"><head><title>t</title><script src="{OUTSIDE_SCRIPT}"></script></head>'
        f'<body><img src="{OUTSIDE_IMAGE}" alt="logo"><script>window.ran = true</script></body></html>'
    )
    assert page.evaluate("typeof Redoc") == "undefined"
    assert sorted(watch.take_outside()) == sorted([OUTSIDE_SCRIPT, OUTSIDE_IMAGE])
    # The page itself runs (inline script), and a request to this machine goes through.
    assert page.evaluate("window.ran") is True
    assert page.evaluate("fetch('/health/').then(r => r.json())") == {"status": "ok"}
    assert watch.outside == []


def test_a_test_whose_page_reached_outside_or_threw_fails(tmp_path):
    # The check runs after the test body, so it is exercised in a pytest of its own, without a browser.
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            f"""
            import pytest
            from tests.browser.conftest import pytest_runtest_call  # noqa: F401
            from tests.browser.harness import Watch

            @pytest.fixture
            def watch():
                return Watch(outside=["{OUTSIDE_SCRIPT}"], page_errors=["ReferenceError: boom"])
            """
        )
    )
    (tmp_path / "test_inner.py").write_text("def test_passes_on_its_own(watch):\n    assert True\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"tried to load from outside the project (blocked): {OUTSIDE_SCRIPT}" in result.stdout
    assert "uncaught error in the page: ReferenceError: boom" in result.stdout
    assert "1 failed" in result.stdout


def test_uncaught_page_errors_are_recorded(page, watch):
    page.set_content("<script>throw new Error('boom')</script>")
    assert watch.page_errors == ["boom"]
    watch.page_errors.clear()


def test_axe_check_passes_a_clean_page_and_fails_a_serious_violation_readably(page):
    page.set_content('<html lang="en"><head><title>Fine</title></head><body><main><h1>Fine</h1></main></body></html>')
    assert check_accessibility(page) == []
    page.set_content(
        '<html lang="en"><head><title>Bad</title></head><body><main><h1>Bad</h1>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" id="unlabelled">'
        "</main></body></html>"
    )
    with pytest.raises(AssertionError) as failure:
        check_accessibility(page)
    message = str(failure.value)
    assert "1 serious or critical accessibility violations" in message
    assert "image-alt (critical): Images must have alternative text" in message
    assert "at #unlabelled" in message
