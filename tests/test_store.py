"""The SQLite store: migrations, idempotent ingest, own mail, accounts, auth, sync state, corrections."""
from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta, timezone

import pytest

from parsers.model import Email, Employer, Evidence, Reading, Reply, Verdict
from server import migrations
from server.errors import BadInput, NotFound
from server.store import Store

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=timezone.utc)
ME = "casey@example.org"


def reading(mid, *, label="advancing", company="Brackenridge Tools", role="Support Engineer",
            sender="Lou Park <lou@brackenridge.example>", days_ago=3, in_reply_to=None, due=None,
            text="We would like to invite you to a second interview.", own=False) -> Reading:
    name, _, addr = sender.rpartition("<")
    email = Email(message_id=mid, in_reply_to=in_reply_to, references=(in_reply_to,) if in_reply_to else (),
                  from_name=name.strip(), from_addr=addr.rstrip(">"), to=(ME,),
                  date=NOW - timedelta(days=days_ago), subject="Support Engineer", text=text)
    evidence = () if label == "unrelated" else (
        Evidence(rule="test.rule", label=label, text=text[:30], start=0, end=30, explanation="test"),)
    return Reading(email=email, reply=Reply(text=text), verdict=Verdict(label, 0.9, evidence),
                   employer=Employer(company if label != "unrelated" else None, role if label != "unrelated" else None),
                   expected_by=due, own=own)


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "t.sqlite3")
    yield s
    s.close()


def test_open_uses_wal_and_current_schema(store):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.schema_version() == migrations.SCHEMA_VERSION


def test_default_path_is_in_the_data_dir(data_dir):
    with Store.open() as s:
        assert s.path == data_dir / "standing.sqlite3"
    assert (data_dir / "standing.sqlite3").exists()


def test_migrates_a_version_1_database_with_data(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    migrations.migrate(db, target=1)
    db.execute("INSERT INTO accounts (email, host, port) VALUES ('casey@example.org', 'imap.example.org', 993)")
    db.execute("INSERT INTO folders (account_id, name, uidvalidity, last_uid) VALUES (1, 'INBOX', 7, 41)")
    db.execute("INSERT INTO messages (message_id, content_hash, account_id, folder, uid, date, subject, label, "
               "company, role, evidence, from_addr) VALUES ('<m1@x>', 'h1', 1, 'INBOX', 41, "
               "'2026-03-17T12:00:00+00:00', 'Interview', 'advancing', 'Brackenridge Tools', 'Support Engineer', "
               "'[]', 'lou@brackenridge.example')")
    db.execute("INSERT INTO corrections (kind, payload, created) VALUES ('label', ?, '2026-03-18T00:00:00+00:00')",
               (json.dumps({"kind": "label", "message_id": "<m1@x>", "label": "offer"}),))
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.close()

    with Store.open(path) as s:
        assert s.schema_version() == migrations.SCHEMA_VERSION
        assert s.list_accounts()[0]["email"] == "casey@example.org"
        assert s.folder_state(1, "INBOX")["last_uid"] == 41
        assert s.known_uids(1, "INBOX") == {41}  # locations backfilled from the old columns
        assert s.message("<m1@x>")["company"] == "Brackenridge Tools"
        apps = s.standings(NOW)
        assert [(a["company"], a["status"]) for a in apps] == [("Brackenridge Tools", "offer")]  # correction kept


def test_newer_database_is_refused(tmp_path):
    path = tmp_path / "new.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {migrations.SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(RuntimeError):
        Store.open(path)


def test_ingest_is_idempotent_by_message_id_and_by_hash(store):
    pk, inserted = store.ingest(reading("<a@x>"), raw=b"raw one", account_id=None)
    assert inserted
    assert store.ingest(reading("<a@x>"), raw=b"raw one") == (pk, False)
    # the same Message-ID in a second folder is the same message, with one more location
    acct = store.add_account(email=ME, host="imap.example.org", port=993)
    store.ingest(reading("<a@x>"), raw=b"raw one", account_id=acct, folder="INBOX", uid=5)
    store.ingest(reading("<a@x>"), raw=b"raw one", account_id=acct, folder="Archive", uid=9)
    assert store.message_count() == 1
    assert store.known_uids(acct, "Archive") == {9}
    # no Message-ID: known by the hash of the raw bytes
    no_id = reading(None)
    pk2, ins2 = store.ingest(no_id, raw=b"bytes without id")
    assert ins2 and store.ingest(no_id, raw=b"bytes without id") == (pk2, False)
    assert store.ingest(no_id, raw=b"other bytes")[1]
    assert store.message_count() == 3
    assert store.has_message_id("<a@x>") and not store.has_message_id("<zzz@x>")
    assert store.raw_message(pk) == b"raw one"


def test_own_mail_is_recognised_from_accounts_and_meta(store):
    store.add_account(email="Casey@Example.org")
    store.ingest(reading("<own@x>", sender=f"Casey <{ME}>", label="advancing"))
    row = store.message("<own@x>")
    assert row["own"] and row["label"] == "unrelated" and row["company"] is None
    store.set_user_addresses(["second@example.org"])
    assert store.user_addresses() == {ME, "second@example.org"}
    store.ingest(reading("<own2@x>", sender="Casey <second@example.org>", label="offer"))
    assert store.message("<own2@x>")["own"]


def test_standings_and_application_timeline(store):
    store.ingest(reading("<a1@x>", label="acknowledgement", days_ago=20))
    store.ingest(reading("<a2@x>", label="advancing", days_ago=16, in_reply_to="<a1@x>"))
    store.set_user_addresses([ME])
    store.ingest(reading("<a3@x>", sender=f"Casey <{ME}>", days_ago=15, in_reply_to="<a2@x>"))
    store.ingest(reading("<n1@x>", label="unrelated", sender="News <news@paper.example>"))
    apps = store.standings(NOW)
    assert len(apps) == 1
    app = apps[0]
    assert (app["flag"], app["status"], app["days_silent"]) == ("amber", "silent", 16)
    assert app["message_ids"] == ["<a1@x>", "<a2@x>", "<a3@x>"]
    assert app["question"] and "Support Engineer" in app["question"]
    detail = store.application(app["id"], NOW)
    assert [m["direction"] for m in detail["timeline"]] == ["in", "in", "out"]
    assert detail["timeline"][1]["evidence"][0]["rule"] == "test.rule"
    assert store.application("nope", NOW) is None
    # fewer days later it is not silent yet: only "now"-dependent parts change
    assert store.standings(NOW - timedelta(days=10))[0]["status"] == "interested"


def test_refresh_only_when_something_changed(store):
    store.ingest(reading("<a1@x>"))
    assert store.refresh() is True
    assert store.refresh() is False
    store.ingest(reading("<a2@x>", in_reply_to="<a1@x>"))
    assert store.refresh() is True


def test_corrections_are_kept_apart_and_validated(store):
    store.ingest(reading("<a1@x>", label="noncommittal", days_ago=2))
    store.ingest(reading("<b1@x>", label="advancing", company="Wexford Mills", role="Analyst", days_ago=1,
                         sender="Ana <ana@wexford.example>"))
    apps = {a["company"]: a for a in store.standings(NOW)}
    c = store.add_correction({"kind": "label", "message_id": "<a1@x>", "label": "rejected"})
    assert c["kind"] == "label" and c["id"] == 1
    assert {a["company"]: a["status"] for a in store.standings(NOW)}["Brackenridge Tools"] == "rejected"
    assert store.message("<a1@x>")["label"] == "noncommittal"  # the derived column is untouched
    store.add_correction({"kind": "archive", "application_id": apps["Wexford Mills"]["id"]})
    assert [a["company"] for a in store.standings(NOW)] == ["Brackenridge Tools"]
    assert len(store.standings(NOW, include_archived=True)) == 2
    for bad in ({"kind": "nope"}, {"kind": "label", "message_id": "<a1@x>", "label": "great"},
                {"kind": "company_role", "message_id": "<a1@x>", "company": "", "role": "x"}, "text",
                {"kind": "merge", "application_id": apps["Wexford Mills"]["id"],
                 "other_application_id": apps["Wexford Mills"]["id"]}):
        with pytest.raises(BadInput):
            store.add_correction(bad)
    with pytest.raises(NotFound):
        store.add_correction({"kind": "not_job", "message_id": "<missing@x>"})
    with pytest.raises(NotFound):
        store.add_correction({"kind": "archive", "application_id": "000000000000"})


def test_rebuild_rereads_messages_and_keeps_corrections(store):
    raw = (b"From: Lou Park <lou@brackenridge.example>\r\nTo: casey@example.org\r\n"
           b"Subject: Support Engineer at Brackenridge Tools\r\nDate: Tue, 17 Mar 2026 10:00:00 +0000\r\n"
           b"Message-ID: <r1@brackenridge.example>\r\n\r\n"
           b"Hi Casey,\r\n\r\nThanks for your interest in the Support Engineer role at Brackenridge Tools. "
           b"Unfortunately we have decided not to move forward with your application.\r\n\r\nLou\r\n")
    # stored with a stale reading (as if an older rule set had called it advancing)
    store.ingest(reading("<r1@brackenridge.example>", label="advancing"), raw=raw)
    store.ingest(reading("<t1@x>", label="acknowledgement", company="Wexford Mills", role="Analyst",
                         sender="Ana <ana@wexford.example>"))  # no raw: rebuilt from the stored text
    store.refresh()
    wex = next(a for a in store.standings(NOW) if a["company"] == "Wexford Mills")
    store.add_correction({"kind": "archive", "application_id": wex["id"]})
    counts = store.rebuild()
    assert counts["messages"] == 2 and counts["errors"] == 0
    assert store.message("<r1@brackenridge.example>")["label"] == "rejected"
    assert [a["company"] for a in store.standings(NOW)] == ["Brackenridge Tools"]  # still archived
    assert store.corrections()[0]["kind"] == "archive"


def test_accounts_never_hold_secrets_and_can_be_removed(store):
    with pytest.raises(ValueError):
        store.add_account(email=ME, password="hunter2")
    acct = store.add_account(email=ME, host="imap.example.org", port=993, security="tls", auth="password",
                             provider="example")
    assert store.get_account(acct)["host"] == "imap.example.org"
    store.set_account_error(acct, "The password was refused.")
    assert store.list_accounts()[0]["last_error"] == "The password was refused."
    store.set_account_synced(acct, NOW)
    assert store.get_account(acct)["last_error"] is None
    store.save_folder_state(acct, "INBOX", uidvalidity=3, last_uid=10, highestmodseq=99, role="inbox")
    store.ingest(reading("<a@x>"), account_id=acct, folder="INBOX", uid=10)
    store.forget_folder_uids(acct, "INBOX")
    assert store.known_uids(acct, "INBOX") == set()
    assert store.folder_state(acct, "INBOX")["uidvalidity"] == 3
    assert store.has_message_id("<a@x>")
    assert store.remove_account(acct) and not store.remove_account(acct)
    assert store.get_account(acct) is None and store.has_message_id("<a@x>")


def test_sync_status_is_shared_between_connections(store, tmp_path):
    assert store.sync_status()["state"] == "idle"
    store.set_sync_status(state="syncing", phase="INBOX", done=5, total=50)
    with Store.open(tmp_path / "t.sqlite3") as other:
        assert other.sync_status() == {"state": "syncing", "phase": "INBOX", "done": 5, "total": 50,
                                       "last_synced": None, "error": None}
    with pytest.raises(ValueError):
        store.set_sync_status(colour="red")


def test_tokens_and_pairing_codes(store):
    tid = store.add_token("h" * 64, "chrome-extension://abc")
    assert store.token_by_hash("h" * 64)["origin"] == "chrome-extension://abc"
    store.touch_token(tid)
    assert store.token_by_hash("h" * 64)["last_used"]
    assert store.revoke_tokens() == 1 and store.token_by_hash("h" * 64) is None
    live = store.add_pairing_code("c" * 64, NOW + timedelta(minutes=5))
    store.add_pairing_code("d" * 64, NOW - timedelta(minutes=1))
    assert [c["id"] for c in store.pairing_codes(now=NOW)] == [live]
    assert [store.record_pairing_attempt(live) for _ in range(5)] == [1, 2, 3, 4, 5]
    assert store.pairing_codes(now=NOW) == []
    fresh = store.add_pairing_code("e" * 64, NOW + timedelta(minutes=5))
    assert store.consume_pairing_code(fresh) and not store.consume_pairing_code(fresh)
    assert store.pairing_codes(now=NOW) == []


def test_meta_round_trip(store):
    assert store.get_meta("now") is None
    store.set_meta("now", "2026-05-15T12:00:00+00:00")
    assert store.get_meta("now") == "2026-05-15T12:00:00+00:00"
    store.set_meta("now", None)
    assert store.get_meta("now", "x") == "x"


def test_expected_by_kept_as_date(store):
    store.ingest(reading("<p@x>", label="noncommittal", due=date(2026, 3, 25)))
    app = store.standings(NOW)[0]
    assert app["expected_by"] == "2026-03-25" and app["status"] == "noncommittal"
    assert store.standings(NOW + timedelta(days=6))[0]["status"] == "overdue"


def test_fill_store_for_benchmarks_makes_the_asked_sizes(store):
    from server.ingest import fill_store

    counts = fill_store(store, applications=20, messages=100, parse=False)
    assert counts["stored"] == 100 and store.message_count() == 100
    apps = store.standings(NOW)
    assert len(apps) == 20 and len({a["status"] for a in apps}) >= 3


# ----------------------------------------------------------------- incremental refresh
def _groups_snapshot(store):
    apps = {r[0]: (r[1], r[2], r[3], json.loads(r[4])) for r in store.db.execute(
        "SELECT id, company, role, archived, summary FROM applications")}
    links = sorted((r[0] or "", r[1] or "") for r in store.db.execute("SELECT message_id, application_id FROM messages"))
    return apps, links


def _check_each_step(store, steps) -> int:
    """Ingest each step, refresh (incrementally when it can), compare with a full regroup."""
    incremental = 0
    for step in steps:
        step()
        store.refresh()
        incremental += store.last_refresh == "incremental"
        after = _groups_snapshot(store)
        store.refresh(force=True)
        assert _groups_snapshot(store) == after
    return incremental


def test_incremental_refresh_gives_the_same_applications_as_a_full_one_on_the_demo(tmp_path):
    from server.ingest import DEMO_MBOX, demo_meta, ingest_raw, iter_mbox
    items = list(iter_mbox(DEMO_MBOX))
    store = Store.open(tmp_path / "demo.sqlite3")
    store.set_user_addresses([demo_meta()["user"]])
    ingest_raw(store, items[:len(items) // 3])
    store.refresh()
    assert store.last_refresh == "full"
    incremental = _check_each_step(store, [lambda item=item: ingest_raw(store, [item])
                                           for item in items[len(items) // 3:]])
    assert incremental >= len(items) // 2  # most arrivals regrouped only what they touch
    assert store.db.execute("SELECT COUNT(*) FROM applications").fetchone()[0] >= 5
    store.close()


def test_incremental_refresh_matches_full_on_a_generated_mailbox(tmp_path):
    from server.ingest import _fill_unparsed, _generate
    import random
    facts = list(_generate(40, 500))
    random.Random(5).shuffle(facts)  # replies often arrive before what they answer
    store = Store.open(tmp_path / "gen.sqlite3")
    store.set_user_addresses(["alex@example.org"])
    _fill_unparsed(store, facts[:300])
    store.refresh()
    chunks = [facts[i:i + 9] for i in range(300, len(facts), 9)]
    incremental = _check_each_step(store, [lambda c=c: _fill_unparsed(store, c) for c in chunks])
    assert incremental >= len(chunks) // 2


def test_incremental_refresh_follows_company_aliases_threads_and_own_outreach(store):
    store.set_user_addresses([ME])
    store.ingest(reading("<p1@x>", company="Pellucid", role="Data Analyst", sender="Ann <ann@pellucid.example>"))
    store.ingest(reading("<q1@x>", company="Quarry Labs", role="SRE", sender="Bo <bo@quarry.example>"))
    store.ingest(reading("<r1@x>", company=None, role=None, in_reply_to="<r0@x>", sender="Di <di@rook.example>"))
    store.refresh()
    steps = [
        # a longer spelling of a known company: the short key now aliases to it
        lambda: store.ingest(reading("<p2@x>", company="Pellucid Systems", role="Data Analyst", days_ago=2,
                                     sender="Cy <cy@pellucid.example>")),
        # a stray company name read off a mail domain that another company's key dominates
        lambda: store.ingest(reading("<p4@x>", company="Confirmed", role="Data Analyst", days_ago=1,
                                     sender="Ann <ann@pellucid.example>")),
        # a second longer spelling: the alias is ambiguous again
        lambda: store.ingest(reading("<p3@ats>", company="Pellucid Labs", role="Data Analyst", days_ago=1,
                                     sender="Pellucid <no-reply@greenhouse.io>")),
        # the message an earlier one answered arrives late (its thread had no company yet)
        lambda: store.ingest(reading("<r0@x>", company="Rook Partners", role="Analyst", days_ago=4,
                                     sender="Di <di@rook.example>")),
        # a reply to an old message, naming no company
        lambda: store.ingest(reading("<q2@x>", company=None, role=None, in_reply_to="<q1@x>", days_ago=1,
                                     sender="Bo <bo@quarry.example>")),
        # the user's own mail: a reply, then a cold application to a new company
        lambda: store.ingest(reading("<me1@x>", label="unrelated", in_reply_to="<q2@x>", sender=f"Me <{ME}>",
                                     own=True)),
        lambda: store.ingest(Reading(
            email=Email(message_id="<me2@x>", from_addr=ME, to=("jobs@tallowmere.example",),
                        date=NOW, subject="Application: Backend Engineer",
                        text="Hello, I am applying for the Backend Engineer opening."),
            reply=Reply(text="Hello, I am applying for the Backend Engineer opening."),
            verdict=Verdict("unrelated", 1.0), employer=Employer(), own=True)),
        # unrelated mail touches nothing
        lambda: store.ingest(reading("<n1@x>", label="unrelated", sender="News <news@paper.example>")),
    ]
    assert _check_each_step(store, steps) == len(steps)


def test_rebuild_keeps_the_users_own_mail_own(store):
    # The user's follow-up reads like an invitation; rebuild must still mark it as the user's own.
    from parsers.pipeline import read_bytes
    raw = (b"From: Robin Vale <Robin.Vale@Example.org>\r\nTo: talent@kestrel.example\r\n"
           b"Subject: Re: Data Analyst interview\r\nMessage-ID: <own-1@example.org>\r\n"
           b"Date: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\n"
           b"Thanks! We'd like to invite you to an interview next week.\r\n")
    store.set_user_addresses(["robin.vale@example.org"])
    store.ingest(read_bytes(raw), raw=raw)
    store.refresh()
    store.rebuild()
    row = store.db.execute("SELECT own, label, evidence FROM messages").fetchone()
    assert (row["own"], row["label"], row["evidence"]) == (1, "unrelated", "[]")
