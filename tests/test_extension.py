"""The extension in real headless Chromium against the real `standing serve`.

Each test loads the unpacked extension in a fresh profile (tests/support/browser.py), drives
its options page and popup as tabs, and saves a screenshot to tests/artifacts/<test>.png.
"""
from __future__ import annotations

import os
import subprocess
import time
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from tests.support.browser import (POPUP_VIEWPORT, extension, open_extension_page,  # noqa: F401
                                   playwright_driver, screenshot, service_worker)
from tests.support.dovecot import dovecot  # noqa: F401
from tests.support.serve import standing_command, start_serve

UI_TIMEOUT_MS = 30_000  # a busy 2-core machine; the waits end as soon as the page is ready
XSS = "<img src=x onerror=alert(1)>"
OPTIONS_VIEWPORT = {"width": 800, "height": 900}
POLL_INTERVAL = 0.05  # seconds between polls of the server's state


@pytest.fixture
def demo_server(tmp_path):
    server = start_serve(tmp_path, demo=True)
    yield server
    assert server.stop() == 0, server.output()


@pytest.fixture
def empty_server(tmp_path):
    server = start_serve(tmp_path)
    yield server
    assert server.stop() == 0, server.output()


def wait_until(condition, what: str, limit: float = UI_TIMEOUT_MS / 1000):
    """Poll `condition` until it is true; fail (never hang) after `limit` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(POLL_INTERVAL)


def pair_in_options(context, extension_id, server, code=None):
    """Open the options page, enter the server address and pair; returns (page, watch)."""
    page, watch = open_extension_page(context, extension_id, "options.html")
    page.set_viewport_size(OPTIONS_VIEWPORT)
    page.fill("#server-url", server.url)
    page.fill("#pairing-code", code or server.code)
    page.click("#pair-button")
    page.wait_for_selector("#pair-status.ok, #pair-status.error", timeout=UI_TIMEOUT_MS)
    if code is None:
        assert page.is_visible("#pair-status.ok"), page.text_content("#pair-status")
    return page, watch


def extension_token(context) -> str:
    return service_worker(context).evaluate("chrome.storage.local.get('token').then(r => r.token)")


def api_applications(server, context, extension_id) -> list[dict]:
    """The server's own list, read with the extension's token (pinned to its origin)."""
    status, body = server.call("GET", "/api/applications", token=extension_token(context),
                               headers={"Origin": f"chrome-extension://{extension_id}"})
    assert status == 200, body
    return body["applications"]


def open_popup(context, extension_id):
    page, watch = open_extension_page(context, extension_id, "popup.html")
    page.set_viewport_size(POPUP_VIEWPORT)
    return page, watch


def popup_items(page) -> list[dict]:
    return page.eval_on_selector_all("li.application", """items => items.map(li => ({
        flag: li.dataset.flag, status: li.dataset.status,
        company: li.querySelector('.company').textContent, role: li.querySelector('.role').textContent,
        reason: li.querySelector('.reason').textContent,
        evidence: li.querySelector('.evidence') ? li.querySelector('.evidence').textContent : null,
        label: li.querySelector('.flag-text').textContent}))""")


def wait_for_list(page):
    page.wait_for_selector("li.application, #empty:not([hidden]), #error:not([hidden])", timeout=UI_TIMEOUT_MS)


def no_horizontal_overflow(page) -> bool:
    """Nothing on the page is wider than the popup."""
    return page.evaluate("document.documentElement.scrollWidth") <= POPUP_VIEWPORT["width"]


def badge(context) -> str:
    return service_worker(context).evaluate("pollNow().then(() => chrome.action.getBadgeText({}))")


# ------------------------------------------------------------------------------ first run

def test_first_run_popup_explains_and_opens_options(extension):
    context, extension_id = extension
    page, watch = open_popup(context, extension_id)
    page.wait_for_selector("#setup:not([hidden])", timeout=UI_TIMEOUT_MS)
    text = page.text_content("#setup")
    assert "standing serve" in text and "pair" in text.lower()
    assert page.is_hidden("#list-view")
    screenshot(page, "test_first_run_popup_explains_and_opens_options")
    with context.expect_page(timeout=UI_TIMEOUT_MS) as opened:
        page.click("#setup-options")
    options = opened.value
    options.wait_for_load_state()
    assert options.url == f"chrome-extension://{extension_id}/options.html"
    assert badge(context) == ""
    assert watch.errors == []

    # the service worker polls on an alarm: every 5 minutes unless the options say otherwise
    worker = service_worker(context)
    assert worker.evaluate("chrome.alarms.get('poll-standings').then(a => a.periodInMinutes)") == 5
    options.fill("#poll-interval", "12")
    options.dispatch_event("#poll-interval", "change")
    options.wait_for_selector("#poll-status.ok", timeout=UI_TIMEOUT_MS)
    wait_until(lambda: worker.evaluate("chrome.alarms.get('poll-standings').then(a => a.periodInMinutes)") == 12,
               "the alarm to follow the new interval")


# ------------------------------------------------------------------------------ pairing

def test_pairing_wrong_code_then_printed_code(extension, demo_server):
    context, extension_id = extension
    page, watch = pair_in_options(context, extension_id, demo_server, code="WRONG-CODE")
    assert page.is_visible("#pair-status.error")
    wrong = page.text_content("#pair-status")
    assert "code" in wrong.lower() and "wrong" in wrong.lower(), wrong
    assert extension_token(context) in ("", None)

    page.fill("#pairing-code", demo_server.code)
    page.click("#pair-button")
    page.wait_for_selector("#pair-status.ok, #pair-status.error", timeout=UI_TIMEOUT_MS)
    assert "Paired" in page.text_content("#pair-status"), page.text_content("#pair-status")
    assert len(extension_token(context)) >= 32
    screenshot(page, "test_pairing_wrong_code_then_printed_code")
    assert watch.errors == []


def test_pairing_with_no_server_says_so(extension, tmp_path):
    from tests.support.serve import free_port

    context, extension_id = extension
    page, _ = open_extension_page(context, extension_id, "options.html")
    page.fill("#server-url", f"http://127.0.0.1:{free_port()}")
    page.fill("#pairing-code", "ABCD1234")
    page.click("#pair-button")
    page.wait_for_selector("#pair-status.error", timeout=UI_TIMEOUT_MS)
    assert "not running" in page.text_content("#pair-status")
    screenshot(page, "test_pairing_with_no_server_says_so")


# ------------------------------------------------------------------------------ the popup

def test_popup_lists_demo_in_attention_order_and_badge_counts_amber(extension, demo_server):
    context, extension_id = extension
    pair_in_options(context, extension_id, demo_server)
    page, watch = open_popup(context, extension_id)
    wait_for_list(page)
    expected = api_applications(demo_server, context, extension_id)
    shown = popup_items(page)
    assert len(expected) >= 4
    assert [(i["flag"], i["status"], i["company"]) for i in shown] == \
        [(a["flag"], a["status"], a["company"] or "Unknown company") for a in expected]
    flags = [i["flag"] for i in shown]
    assert "amber" in flags
    rank = {"amber": 0, "green": 1, "grey": 2, "red": 3}
    assert flags == sorted(flags, key=rank.__getitem__), "amber, green, grey, red"
    # every flag has words, not colour alone
    assert all(i["label"].strip() for i in shown)
    # the summary counts them by flag, in the same order
    counts = {flag: flags.count(flag) for flag in rank}
    summary = page.text_content("#summary")
    assert summary.startswith(f"{counts['amber']} to ask about · {counts['green']} going well"), summary
    # compact cards: at least three whole applications fit in the popup's 600 px, and
    # nothing is wider than the popup
    third = page.locator("li.application").nth(2).bounding_box()
    assert third["y"] + third["height"] <= POPUP_VIEWPORT["height"], third
    assert no_horizontal_overflow(page)

    # amber ones offer to ask where you stand, behind a disclosure button
    amber_items = page.locator("li.application[data-flag=amber]")
    assert amber_items.count() == flags.count("amber")
    assert page.locator("li.application:not([data-flag=amber]) button.ask-toggle").count() == 0
    first = amber_items.first
    toggle = first.locator("button.ask-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert first.locator("button.copy-question").is_hidden()
    assert first.locator("a.reply-draft").is_hidden()
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.is_visible(f"#{toggle.get_attribute('aria-controls')} button.copy-question")
    assert page.is_hidden("#detail-view")  # the button does not open the card
    page.keyboard.press(" ")
    assert toggle.get_attribute("aria-expanded") == "false" and first.locator(".question").is_hidden()
    page.keyboard.press("Enter")
    assert first.locator("button.copy-question").is_visible()
    assert first.locator("a.reply-draft").is_visible()
    assert no_horizontal_overflow(page)
    screenshot(page, "test_popup_lists_demo_in_attention_order_and_badge_counts_amber-ask")
    question = first.locator(".question").text_content()
    assert "?" in question
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    first.locator("button.copy-question").click()
    page.wait_for_function("() => document.querySelector('#notice').textContent !== ''", timeout=UI_TIMEOUT_MS)
    assert "copied" in page.text_content("#notice"), page.text_content("#notice")
    assert page.is_visible("#notice")  # sticky: in sight however far the list scrolls
    assert page.evaluate("navigator.clipboard.readText()") == question
    # the reply draft from the list: a mailto: answering the employer with the question
    with context.expect_page(timeout=UI_TIMEOUT_MS):
        first.locator("a.reply-draft").click()
    href = first.locator("a.reply-draft").get_attribute("href")
    assert href.startswith("mailto:") and "subject=Re%3A%20" in href, href
    from urllib.parse import unquote
    assert unquote(href.split("&body=", 1)[1]) == question
    assert page.is_hidden("#detail-view")
    assert page.is_hidden("#error")
    assert badge(context) == str(flags.count("amber"))
    screenshot(page, "test_popup_lists_demo_in_attention_order_and_badge_counts_amber")
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.emulate_media(color_scheme="dark")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != light
    screenshot(page, "test_popup_lists_demo_in_attention_order_and_badge_counts_amber-dark")
    assert watch.errors == [] and watch.dialogs == []


def test_reply_draft_and_detail_view_by_keyboard(extension, demo_server):
    context, extension_id = extension
    pair_in_options(context, extension_id, demo_server)
    page, watch = open_popup(context, extension_id)
    wait_for_list(page)
    amber = page.locator("li.application[data-flag=amber]").first
    company = amber.locator(".company").text_content()
    amber.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#detail-view:not([hidden]) .timeline", timeout=UI_TIMEOUT_MS)
    assert page.text_content("#detail-view h2 .company") == company
    assert page.locator(".timeline .message").count() >= 1
    assert page.locator(".timeline .message .label").count() >= 1
    assert page.evaluate("document.activeElement.id") == "detail-back"
    assert page.is_visible("#merge-with")  # the widest control; it must fit the popup
    assert no_horizontal_overflow(page)
    screenshot(page, "test_reply_draft_and_detail_view_by_keyboard")

    # the reply draft answers the employer's latest message with the suggested question
    with context.expect_page(timeout=UI_TIMEOUT_MS):
        page.click("#detail-view a.reply-draft")
    href = page.get_attribute("#detail-view a.reply-draft", "href")
    assert href.startswith("mailto:") and "subject=Re%3A%20" in href and "&body=" in href
    page.keyboard.press("Escape")
    page.wait_for_selector("#list-view:not([hidden])", timeout=UI_TIMEOUT_MS)
    assert watch.errors == [] and watch.dialogs == []


def test_correction_in_popup_changes_list(extension, demo_server):
    context, extension_id = extension
    pair_in_options(context, extension_id, demo_server)
    page, watch = open_popup(context, extension_id)
    wait_for_list(page)
    before = popup_items(page)
    amber_before = [i["flag"] for i in before].count("amber")

    # wrong label: the amber application's latest employer message was really a rejection
    page.locator("li.application[data-flag=amber] .reason").first.click()
    page.wait_for_selector("#detail-view:not([hidden]) .timeline", timeout=UI_TIMEOUT_MS)
    latest = page.locator(".timeline .message[data-direction=in]").last
    latest.locator("select.label-select").select_option("rejected")
    latest.locator("button.save-label").click()
    page.wait_for_function("() => document.querySelector('#notice').textContent.includes('Label saved')",
                           timeout=UI_TIMEOUT_MS)
    page.click("#detail-back")
    after = popup_items(page)
    assert [i["flag"] for i in after].count("amber") == amber_before - 1
    expected = api_applications(demo_server, context, extension_id)
    assert [(i["flag"], i["status"]) for i in after] == [(a["flag"], a["status"]) for a in expected]
    assert badge(context) == (str(amber_before - 1) if amber_before > 1 else "")

    # archive: the application leaves the list
    page.locator("li.application .reason").first.click()
    page.wait_for_selector("#detail-view:not([hidden]) #archive", timeout=UI_TIMEOUT_MS)
    page.click("#archive")
    page.wait_for_selector("#list-view:not([hidden])", timeout=UI_TIMEOUT_MS)
    page.wait_for_function(f"() => document.querySelectorAll('li.application').length === {len(after) - 1}",
                           timeout=UI_TIMEOUT_MS)
    screenshot(page, "test_correction_in_popup_changes_list")
    assert watch.errors == [] and watch.dialogs == []


def crafted_mail(number: int, sender: str, subject: str, body: str, day: int) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "sam@example.org"
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2025, 3, day, 9, 30, tzinfo=timezone.utc))
    message["Message-ID"] = f"<crafted-{number}@example.test>"
    message.set_content(body)
    return bytes(message)


def fill_data_dir(data_dir, raws, now="2025-03-28T12:00:00+00:00"):
    from parsers.pipeline import read_bytes
    from server.store import Store

    with Store.open(data_dir / "standing.sqlite3") as store:
        store.set_user_addresses(["sam@example.org"])
        for raw in raws:
            store.ingest(read_bytes(raw, user_addresses=("sam@example.org",)), raw=raw)
        store.set_meta("now", now)
        store.refresh()


def test_email_text_renders_as_text_never_html(extension, tmp_path, data_dir):
    fill_data_dir(data_dir, [crafted_mail(
        1, f'"Hostile {XSS} Careers" <talent@hostile.example>', f"Your interview {XSS}",
        f"Hi Sam,\n\nThanks for your time on Monday. We have a few more candidates to see "
        f"before we make a decision on next steps {XSS}.\n\nBest,\nJo\nHostile Corp", 10)])
    server = start_serve(tmp_path, data_dir=data_dir)
    try:
        context, extension_id = extension
        pair_in_options(context, extension_id, server)
        page, watch = open_popup(context, extension_id)
        wait_for_list(page)
        assert page.locator("li.application").count() >= 1
        page.locator("li.application .reason").first.click()
        page.wait_for_selector("#detail-view:not([hidden]) .timeline", timeout=UI_TIMEOUT_MS)
        subject = page.locator(".timeline .subject").first.text_content()
        assert XSS in subject  # shown literally
        assert XSS in page.text_content("#detail-view")
        assert no_horizontal_overflow(page)
        page.wait_for_timeout(300)  # let a (wrongly) inserted <img> fail to load and fire onerror
        assert page.locator("img:not([src^='icons/'])").count() == 0
        assert watch.dialogs == [], watch.dialogs
        screenshot(page, "test_email_text_renders_as_text_never_html")
        assert watch.errors == []
    finally:
        assert server.stop() == 0


# ------------------------------------------------------------------------------ errors in words

def test_sync_progress_and_mailbox_error(extension, tmp_path, data_dir):
    from server.store import Store

    fill_data_dir(data_dir, [crafted_mail(
        2, "Lee Park <lee@tailspin.example>", "Platform Engineer: next steps",
        "Hi Sam,\n\nWe'd like to invite you to a final interview next week. Which days suit you?\n\nLee\nTailspin Toys", 20)])
    server = start_serve(tmp_path, data_dir=data_dir)
    try:
        context, extension_id = extension
        pair_in_options(context, extension_id, server)
        token, origin = extension_token(context), {"Origin": f"chrome-extension://{extension_id}"}
        # let the server's own first (empty) sync pass finish before writing a status of ours
        wait_until(lambda: server.call("GET", "/api/sync", token=token, headers=origin)[1]["last_synced"],
                   "the server's first sync pass")
        with Store.open(data_dir / "standing.sqlite3") as store:
            store.set_sync_status(state="syncing", phase="fetching", done=5, total=20, error=None)
        page, watch = open_popup(context, extension_id)
        page.wait_for_selector("#sync-progress:not([hidden])", timeout=UI_TIMEOUT_MS)
        assert page.get_attribute("#sync-progress", "max") == "20"
        assert page.evaluate("document.querySelector('#sync-progress').value") == 5
        assert "5 of 20" in page.text_content("#sync-text")
        screenshot(page, "test_sync_progress_and_mailbox_error-syncing")

        sentence = "imap.example.org refused the password for sam@example.org."
        with Store.open(data_dir / "standing.sqlite3") as store:
            store.set_sync_status(state="error", phase=None, error=sentence)
        page.wait_for_selector("#error:not([hidden])", timeout=UI_TIMEOUT_MS)  # the popup refreshes itself
        assert sentence in page.text_content("#error")
        assert page.is_visible("#error-options")  # where to fix it
        assert page.is_hidden("#sync-progress")
        assert page.locator("li.application").count() == 1  # the list stays readable
        screenshot(page, "test_sync_progress_and_mailbox_error")
        assert watch.errors == []
    finally:
        assert server.stop() == 0


def test_revoked_token_and_stopped_server_show_errors_in_words(extension, demo_server):
    context, extension_id = extension
    pair_in_options(context, extension_id, demo_server)
    page, watch = open_popup(context, extension_id)
    wait_for_list(page)
    assert page.locator("li.application").count() > 0
    assert badge(context) != ""

    subprocess.run([*standing_command(), "pair", "--revoke"], check=True, capture_output=True,
                   env=dict(os.environ, STANDING_DATA_DIR=str(demo_server.data_dir)))
    page.reload()
    page.wait_for_selector("#error:not([hidden])", timeout=UI_TIMEOUT_MS)
    assert "Pair again" in page.text_content("#error")
    assert badge(context) == ""

    assert demo_server.stop() == 0
    page.reload()
    page.wait_for_selector("#error:not([hidden])", timeout=UI_TIMEOUT_MS)
    error = page.text_content("#error")
    assert "not running" in error and "standing serve" in error, error
    assert page.is_hidden("#list-view")
    page.click("#retry")  # still down: the same sentence, and the button is there again
    page.wait_for_selector("#retry:not([disabled])", timeout=UI_TIMEOUT_MS)
    assert "not running" in page.text_content("#error")
    assert badge(context) == ""
    screenshot(page, "test_revoked_token_and_stopped_server_show_errors_in_words")
    assert watch.errors == []


# ------------------------------------------------------------------------------ accounts

def test_connect_account_against_dovecot(extension, empty_server, dovecot):
    context, extension_id = extension
    page, watch = pair_in_options(context, extension_id, empty_server)
    assert page.is_visible("#pair-status.ok")

    # before any mailbox: the empty popup says what to do and offers the options
    popup, popup_watch = open_popup(context, extension_id)
    popup.wait_for_selector("#empty:not([hidden])", timeout=UI_TIMEOUT_MS)
    assert "Connect your mailbox" in popup.text_content("#empty-text")
    assert popup.is_visible("#empty-options") and popup.is_hidden("#error")
    screenshot(popup, "test_connect_account_against_dovecot-empty-popup")

    page.fill("#account-email", dovecot.user)
    page.click("#account-advanced summary")
    page.fill("#account-host", dovecot.host)
    page.fill("#account-port", str(dovecot.port))
    page.select_option("#account-security", "plain")

    page.fill("#account-password", dovecot.password + "-wrong")
    page.click("#account-connect")
    page.wait_for_selector("#account-status.error", timeout=UI_TIMEOUT_MS)
    sentence = page.text_content("#account-status")
    status, body = empty_server.call("GET", "/api/accounts", token=extension_token(context),
                                     headers={"Origin": f"chrome-extension://{extension_id}"})
    assert status == 200 and body["accounts"] == []
    assert len(sentence) > 20 and "HTTP" not in sentence, sentence
    screenshot(page, "test_connect_account_against_dovecot-wrong-password")

    page.fill("#account-password", dovecot.password)
    page.click("#account-connect")
    page.wait_for_selector("#account-status.ok", timeout=UI_TIMEOUT_MS)
    assert "Connected" in page.text_content("#account-status")
    page.wait_for_selector("#accounts li.account", timeout=UI_TIMEOUT_MS)
    assert dovecot.user in page.text_content("#accounts")
    screenshot(page, "test_connect_account_against_dovecot")

    # with a mailbox connected, an empty list says which mailbox was checked
    popup.reload()
    popup.wait_for_function(f"() => document.querySelector('#empty-text').textContent.includes({dovecot.user!r})",
                            timeout=UI_TIMEOUT_MS)
    assert popup.is_hidden("#empty-options")
    assert popup_watch.errors == []

    page.click("#accounts li.account button.account-remove")
    page.wait_for_function("() => document.querySelectorAll('#accounts li.account').length === 0",
                           timeout=UI_TIMEOUT_MS)
    assert watch.errors == []
