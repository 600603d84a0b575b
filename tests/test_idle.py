"""SyncService against a real Dovecot: new mail arrives over IDLE and lands in the store."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime

from server import accounts, sync
from server.store import Store
from tests.support.dovecot import dovecot  # noqa: F401

DEADLINE = 30.0  # generous: IDLE reports an APPEND within about 0.5 s on this machine


def _mail(i: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Lena Ortiz <lena{i}@harbourline.example>"
    msg["To"] = "me@example.org"
    msg["Subject"] = f"Second interview – Data Analyst ({i})"
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = f"<idle-{i}@harbourline.example>"
    msg.set_content("Hi,\n\nWe'd like to invite you to a second interview next Tuesday at 10am.\n\nLena")
    return msg.as_bytes()


def _wait_for(predicate, deadline=DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_new_mail_arrives_over_idle(dovecot, data_dir):
    dovecot.append("INBOX", _mail(1))
    with Store.open() as store:
        accounts.add_account(store, email=dovecot.user, secret=dovecot.password, host="127.0.0.1",
                             port=dovecot.port, security="plain")
        path = store.path
    service = sync.SyncService(path).start()
    try:
        assert service.first_sync_done.wait(DEADLINE)
        with Store.open(path) as reader:
            assert reader.has_message_id("<idle-1@harbourline.example>")
            assert reader.sync_status()["state"] == "idle"
            dovecot.append("INBOX", _mail(2))
            assert _wait_for(lambda: reader.has_message_id("<idle-2@harbourline.example>"))
            assert _wait_for(lambda: any("<idle-2@harbourline.example>" in
                                         (reader.application(a["id"], datetime.now(timezone.utc)) or {})
                                         .get("message_ids", [])
                                         or a.get("message_ids") and "<idle-2@harbourline.example>"
                                         in a["message_ids"]
                                         for a in reader.standings(datetime.now(timezone.utc)))
                             or reader.message("<idle-2@harbourline.example>")["application_id"])
    finally:
        service.stop()
    assert not any(t.is_alive() for t in service._threads)


def test_mail_arriving_between_the_sync_and_idle_is_not_missed(dovecot, data_dir):
    """IDLE reports only what arrives while idling: a message that lands after the sync's
    EXAMINE and before IDLE begins is seen by UIDNEXT, and the watcher syncs again at once."""
    dovecot.append("INBOX", _mail(1))
    with Store.open() as store:
        account = accounts.add_account(store, email=dovecot.user, secret=dovecot.password,
                                       host="127.0.0.1", port=dovecot.port, security="plain")
        syncer = sync.Syncer(store, store.get_account(account["id"]))
        try:
            client = syncer.connect()
            syncer.sync(only=[("INBOX", "inbox")])
            dovecot.append("INBOX", _mail(2))  # in the gap
            service = sync.SyncService(store.path)
            timer = threading.Timer(5.0, service._stop.set)  # without the check, IDLE waits on
            timer.start()
            try:
                assert service._idle_once(client, syncer.uidnext_seen["INBOX"]) is True
            finally:
                timer.cancel()
            assert not service._stop.is_set()
        finally:
            syncer.close()


def test_request_sync_and_stop_without_accounts(data_dir):
    with Store.open() as store:
        path = store.path
    service = sync.SyncService(path).start()
    try:
        assert service.first_sync_done.wait(DEADLINE)
        service.request_sync()
    finally:
        service.stop()
    with Store.open(path) as store:
        assert store.sync_status()["state"] == "idle"
