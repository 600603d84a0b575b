"""Remake docs/popup.png: the popup on the bundled demo mailbox, in real headless Chromium.

    python3 docs/screenshot.py [--dark] [--ask]

Starts `standing serve --demo` on a free port with a throwaway data dir, pairs the unpacked
extension through its options page with the printed code, opens the popup at its own size
and saves the screenshot. Needs what the tests need (Debian's chromium, playwright).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.browser import CHROMIUM, POPUP_VIEWPORT, chromium_args  # noqa: E402
from tests.support.serve import start_serve  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dark", action="store_true", help="dark colour scheme")
    parser.add_argument("--ask", action="store_true", help="open the first \"Ask where you stand\"")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "popup.png")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = start_serve(Path(tmp), demo=True)
        try:
            with sync_playwright() as driver:
                context = driver.chromium.launch_persistent_context(
                    str(Path(tmp) / "profile"), executable_path=CHROMIUM, headless=True,
                    args=chromium_args(), viewport=POPUP_VIEWPORT,
                    color_scheme="dark" if args.dark else "light")
                worker = context.service_workers[0] if context.service_workers else \
                    context.wait_for_event("serviceworker")
                base = f"chrome-extension://{worker.url.split('/')[2]}"
                page = context.new_page()
                page.goto(f"{base}/options.html")
                page.fill("#server-url", server.url)
                page.fill("#pairing-code", server.code)
                page.click("#pair-button")
                page.wait_for_selector("#pair-status.ok")
                page.goto(f"{base}/popup.html")
                page.wait_for_selector("li.application")
                if args.ask:
                    page.click("li.application[data-flag=amber] button.ask-toggle")
                    page.wait_for_selector("li.application .ask:not([hidden])")
                page.screenshot(path=str(args.out))
                context.close()
        finally:
            server.stop()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
