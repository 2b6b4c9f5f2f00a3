"""The browser harness: Debian's Chromium driven by Playwright for Python against pytest-django's
live server (a real thread serving the app on the test database, PostgreSQL in `make test`).

- One browser for the whole session; each test opens its own context (viewport, language, cookies).
- Screenshots go to `var/e2e-screenshots/<lang>/<nn>-<page>.png` (README, "Browser tests").
- `scripts/test.sh` installs Chromium with apt when it is missing; with CI=true a missing browser
  fails the run instead of skipping these tests.
- Playwright's sync API runs an asyncio loop in this thread, so Django's guard against ORM calls
  from async code would refuse the test's own set-up and checks: the browser tests run last, and
  only once the browser is up is `DJANGO_ALLOW_ASYNC_UNSAFE` set (the ORM is still only called
  synchronously, from this thread and the live server's).
"""

from __future__ import annotations

import os
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core import roles
from tests.factories import UserFactory

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # the browser is Debian's, never a download

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "e2e-screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_executable() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def pytest_collection_modifyitems(config, items):
    """Browser tests run after the rest (see the module's docstring), and never silently skip in CI."""
    browser_tests = [item for item in items if item.get_closest_marker("e2e")]
    if not browser_tests:
        return
    items[:] = [item for item in items if not item.get_closest_marker("e2e")] + browser_tests
    if chromium_executable() is None:
        reason = "Chromium is not installed (scripts/test.sh installs Debian's chromium with apt as root)"
        if os.environ.get("CI") == "true":
            raise pytest.UsageError(f"CI=true but {reason}: the browser tests cannot run.")
        for item in browser_tests:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    if executable is None:  # pragma: no cover - collection already skipped or failed these tests
        pytest.skip("Chromium is not installed")
    playwright = sync_playwright().start()
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser, live_server) -> Iterator[Callable]:
    """A page in a fresh browser context: `new_page(lang="de", phone=True)` is a 390×844 touch screen
    that asks for German (Accept-Language). Contexts close after the test."""
    contexts = []

    def open_page(*, lang: str = "en", phone: bool = False):
        options = {"viewport": PHONE if phone else DESKTOP, "locale": "de-DE" if lang == "de" else "en-GB",
                   "base_url": live_server.url, "timezone_id": "Europe/Berlin"}
        if phone:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        # What the browser refused or failed at: a CSP violation, a script error, a stylesheet or script
        # that did not load. (A page answering 400 with its form's errors is not a problem; the
        # browser's own favicon request is not the page's.)
        page.problems = []
        page.on("console", lambda message: message.type == "error"
                and not message.text.startswith("Failed to load resource") and page.problems.append(message.text))
        page.on("pageerror", lambda error: page.problems.append(str(error)))
        page.on("response", lambda response: response.status >= 400
                and response.request.resource_type not in ("document", "other")
                and not response.url.endswith("/favicon.ico")
                and page.problems.append(f"{response.status} {response.url}"))
        return page

    yield open_page
    for context in contexts:
        context.close()


_shot_numbers: dict[str, int] = defaultdict(int)


@pytest.fixture(scope="session")
def screenshot() -> Callable:
    """`screenshot(page, "status", lang="de")` saves var/e2e-screenshots/de/07-status.png (numbered in
    the order taken, per language) and returns its path."""
    def save(page, name: str, *, lang: str = "en") -> Path:
        _shot_numbers[lang] += 1
        folder = SCREENSHOTS / lang
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{_shot_numbers[lang]:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshot_folder():
    # Only this run's pictures: an old one of a page that no longer exists would mislead.
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)


def demo_user(username: str, team: str, *, password: str | None = None, language: str = "en"):
    """A user like the demo's (`sales` / `demo-sales`, in the team of that name)."""
    from notifications.user_settings import notification_profile_set_language

    user = UserFactory(username=username, teams=[team])
    user.set_password(password or f"demo-{username}")
    user.save(update_fields=["password"])
    notification_profile_set_language(user=user, language=language)
    return user


@pytest.fixture
def demo_seller(transactional_db):
    return demo_user("sales", roles.SALES)


def sign_in(page, username: str, password: str | None = None) -> None:
    """Through the real sign-in page; lands on the user's home."""
    page.goto("/accounts/login/")
    page.get_by_label(re.compile("Username|Benutzername")).fill(username)
    page.get_by_label(re.compile("Password|Passwort")).fill(password or f"demo-{username}")
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, f"{username} could not sign in"


def horizontal_overflow(page) -> int:
    """How many pixels the page is wider than its viewport (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def assert_no_horizontal_scroll(page, width: int | None = None) -> None:
    """At `width` (resizes the viewport first) the page needs no sideways scrolling."""
    if width is not None:
        page.set_viewport_size({"width": width, "height": page.viewport_size["height"]})
    overflow = horizontal_overflow(page)
    if overflow > 0:
        culprits = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                 .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                 .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))""")
        raise AssertionError(f"{page.url} scrolls sideways by {overflow} px at {page.viewport_size['width']} px: "
                             f"{culprits}")
