"""Real headless Chromium with the unpacked extension loaded, in a fresh profile per test.

    from tests.support.browser import extension  # noqa: F401

    def test_x(extension):
        context, extension_id = extension
        page = open_extension_page(context, extension_id, "options.html")

Launches the system /usr/bin/chromium (never `playwright install`) with the flags measured in
/work/shared/TESTING.md. The extension id is pinned by the manifest's `key`; the fixture checks
the service worker really runs under that id.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO

EXTENSION_DIR = REPO / "extension"
EXTENSION_ID = "pnjpehifmmmffmbijpmbpojfjchbfpee"  # from the manifest's pinned public key
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "tests" / "artifacts"
WORKER_TIMEOUT_MS = 30_000  # first start of the worker on a busy 2-core machine
POPUP_VIEWPORT = {"width": 380, "height": 600}  # the popup's own width (popup.css)


def chromium_args(extension_dir: Path = EXTENSION_DIR) -> list[str]:
    return [
        f"--disable-extensions-except={extension_dir}",
        f"--load-extension={extension_dir}",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]


@pytest.fixture(scope="session")
def playwright_driver():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def service_worker(context):
    """The extension's service worker (waits for it on a fresh start)."""
    for worker in context.service_workers:
        if worker.url.startswith("chrome-extension://"):
            return worker
    return context.wait_for_event("serviceworker", timeout=WORKER_TIMEOUT_MS)


@pytest.fixture
def extension(playwright_driver, tmp_path):
    """(context, extension_id): Chromium with the extension, a fresh profile, closed afterwards."""
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    context = playwright_driver.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=chromium_args(),
        viewport=POPUP_VIEWPORT)
    try:
        worker = service_worker(context)
        extension_id = worker.url.split("/")[2]
        assert extension_id == EXTENSION_ID, f"unexpected extension id {extension_id}"
        yield context, extension_id
    finally:
        context.close()


class PageWatch:
    """Records what a page did that a test must see: dialogs (XSS) and uncaught errors."""

    def __init__(self, page):
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda err: self.errors.append(str(err)))

    def _dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


def open_extension_page(context, extension_id: str, name: str):
    """Open chrome-extension://<id>/<name> in a new tab; returns (page, PageWatch)."""
    page = context.new_page()
    watch = PageWatch(page)
    page.goto(f"chrome-extension://{extension_id}/{name}")
    return page, watch


def screenshot(page, test_name: str, path: Path | None = None) -> Path:
    """Save the page to tests/artifacts/<test_name>.png (or `path`) and return where."""
    target = path or ARTIFACTS / f"{test_name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)
    return target
