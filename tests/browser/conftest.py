"""Chromium (the Debian package, never a downloaded browser) driven by Playwright against live_server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

# Playwright's sync API runs an event loop in the test thread; Django's ORM must still be allowed there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("WARROOM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# How long an action or an ``expect`` waits for the page. Playwright's 5 s default for ``expect`` is too short on a
# CI machine running two suites on two busy cores: a server-rendered answer there can take several seconds.
WAIT_MS = 20_000
expect.set_options(timeout=WAIT_MS)
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _carry_serialized_contents(before: dict[str, object]) -> None:
    """While Playwright's sync API runs, the test thread has a running event loop, and Django's connection
    handler (an asgiref ``Local``) hands out other connection objects than before. Give them the database
    snapshot Django took at setup, so ``serialized_rollback`` keeps working: the flush after each transactional
    test then restores the migrations' data instead of leaving empty tables to the tests that follow."""
    for alias, contents in before.items():
        connections[alias]._test_serialized_contents = contents  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def playwright(django_db_setup: None) -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make browser installs it)")
    before = {
        alias: connections[alias]._test_serialized_contents  # type: ignore[attr-defined]
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }
    with sync_playwright() as pw:
        _carry_serialized_contents(before)
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


class Console:
    """The browser console's errors, so a test can assert the page ran clean (no CSP violations)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def __call__(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)


def _context(browser: Browser, **options: object) -> BrowserContext:
    context = browser.new_context(**options)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    return context


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    context = _context(browser, viewport=DESKTOP)
    page = context.new_page()
    page.on("console", console)
    yield page
    context.close()


@pytest.fixture
def phone(browser: Browser, console: Console) -> Iterator[Page]:
    context = _context(browser, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.on("console", console)
    yield page
    context.close()


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/incidents/")
