"""Read-only sync against a real Dovecot: flags untouched, standings equal to a full read,
resume after a cut connection, UIDVALIDITY change, size caps; plus the pure helpers."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from parsers import pipeline
from server import accounts, imap, prefilter, sync
from server.store import Store
from tests.conftest import CORPUS
from tests.support.dovecot import dovecot  # noqa: F401
from tests.support.proxy import RecordingProxy

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
ME = "sam.rivera@example.org"
WRITES = ("STORE", "UID STORE", "COPY", "UID COPY", "MOVE", "UID MOVE", "EXPUNGE", "UID EXPUNGE",
          "APPEND", "SELECT", "DELETE", "RENAME", "CREATE")


def _timeline_rows():
    return [json.loads(line) for line in (CORPUS / "timelines.jsonl").read_text().splitlines() if line]


def _raw(row) -> bytes:
    msg = EmailMessage()
    msg["From"] = row["sender"]
    msg["To"] = "Sam Rivera <sam.rivera@example.org>" if row["label"] != "own" else "someone@example.net"
    msg["Subject"] = row["subject"]
    msg["Date"] = format_datetime(datetime.fromisoformat(row["date"]))
    msg["Message-ID"] = row["message_id"]
    if row.get("in_reply_to"):
        msg["In-Reply-To"] = row["in_reply_to"]
    if row.get("references"):
        msg["References"] = " ".join(row["references"])
    msg.set_content(row["body"])
    return msg.as_bytes()


def _fill_from_timelines(box) -> list[tuple[bytes, dict]]:
    rows = _timeline_rows()
    built = [(_raw(r), r) for r in rows]
    box.write_maildir("Sent", [(raw, datetime.fromisoformat(r["date"])) for raw, r in built
                               if r["label"] == "own"])
    box.write_maildir("INBOX", [(raw, datetime.fromisoformat(r["date"])) for raw, r in built
                                if r["label"] != "own"])
    # Employer mail also filed in the archive folder: it must be stored once.
    box.write_maildir("Archive", [(raw, datetime.fromisoformat(r["date"])) for raw, r in built
                                  if r["label"] not in ("own", "unrelated")][:20])
    return built


def _add(store, box, port=None):
    store.set_user_addresses([ME])
    return accounts.add_account(store, email=box.user, secret=box.password, host="127.0.0.1",
                                port=port or box.port, security="plain")


def _flags(box) -> dict:
    out = {}
    with box.client() as c:
        for folder in ("INBOX", "Sent", "Archive"):
            c.select_folder(folder, readonly=True)
            uids = c.search("ALL")
            for uid, item in (c.fetch(uids, ["FLAGS"]).items() if uids else []):
                out[(folder, uid)] = tuple(sorted(item[b"FLAGS"]))
        c.logout()
    return out


def _summary(apps):
    return sorted((a["company"] or "", a["role"] or "", a["flag"], a["status"]) for a in apps)


def test_sync_is_read_only_and_matches_a_full_read(dovecot, data_dir):
    built = _fill_from_timelines(dovecot)
    before = _flags(dovecot)
    assert before and all(b"\\Seen" not in f for f in before.values())
    log_from = dovecot.log_offset()
    with RecordingProxy(dovecot.port) as proxy, Store.open() as store:
        _add(store, dovecot, port=proxy.port)
        result = sync.sync_all(store, now=NOW)
        assert result.errors == 0
        assert store.sync_status()["state"] == "idle"
        synced = store.standings(NOW)
        words = proxy.command_words()
    assert "EXAMINE" in words and "UID FETCH" in words
    assert not set(words) & set(WRITES), words
    assert all(b"BODY[" not in line.upper() or b"BODY.PEEK[" in line.upper() for line in proxy.commands)
    assert _flags(dovecot) == before
    mine = [line for line in dovecot.log_since(log_from).splitlines() if dovecot.user in line]
    for event in ("flag_change", "expunge", "copy", "save", "delete", "mailbox_rename"):
        assert not [line for line in mine if f" {event}:" in line], event

    # The same messages read whole, the way `standing scan` reads an mbox.
    with Store.open(data_dir / "reference.sqlite3") as reference:
        reference.set_user_addresses([ME])
        for raw, _ in built:
            reference.ingest(pipeline.read_bytes(raw, user_addresses={ME}), raw=raw)
        reference.refresh()
        expected = reference.standings(NOW)
    assert len(expected) >= 25
    assert _summary(synced) == _summary(expected)


def test_no_change_resync_fetches_nothing(dovecot):
    _fill_from_timelines(dovecot)
    with Store.open() as store:
        _add(store, dovecot)
        sync.sync_all(store, now=NOW)
        count = store.message_count()
        with RecordingProxy(dovecot.port) as proxy:
            store.update_account(store.list_accounts()[0]["id"], port=proxy.port)
            again = sync.sync_all(store, now=NOW)
            words = proxy.command_words()
        assert again.seen == 0 and store.message_count() == count
        assert "UID FETCH" not in words and "FETCH" not in words


def _employer_mail(i: int, size: int = 0) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Recruiter {i} <people{i}@firm{i}.example>"
    msg["To"] = ME
    msg["Subject"] = f"Interview for the Analyst role #{i}"
    msg["Date"] = format_datetime(datetime(2026, 11, 1 + i % 15, 9, 0, tzinfo=timezone.utc))
    msg["Message-ID"] = f"<cut-{i}@firm{i}.example>"
    msg.set_content(f"Dear Sam,\n\nWe'd like to invite you to a second interview (ref {i}).\n"
                    + ("filler line of text for size\n" * (size // 30)))
    return msg.as_bytes()


@pytest.mark.parametrize("cut_at_fetch, big", [(3, False), (0, True), (3, True)],
                         ids=["one-connection", "header-connection", "body-connection"])
def test_cut_connection_resumes_and_stores_each_message_once(dovecot, monkeypatch, cut_at_fetch, big):
    """A cut mid-FETCH resumes; with `big` the sync reads headers ahead on a second connection
    (sync.HeaderReader). A cut there (its first FETCH, header-connection) ends that connection
    and the sync reads the rest of the headers on the first; a cut on the first connection
    (body-connection) makes the sync retry and resume."""
    if big:
        monkeypatch.setattr(sync, "READER_PROCESS_MIN", 0)
    dovecot.write_maildir("INBOX", [(_employer_mail(i, 2000), None) for i in range(60)])
    with RecordingProxy(dovecot.port, cut_after=3000, cuts=1, cut_at_fetch=cut_at_fetch) as proxy, \
            Store.open() as store:
        account = _add(store, dovecot, port=proxy.port)
        result = sync.sync_account(store, store.get_account(account["id"]), now=NOW, batch_size=20,
                                   sleep=lambda s: None)
        assert proxy.cuts_done == 1
        ids = [r[0] for r in store.db.execute("SELECT message_id FROM messages")]
        assert sorted(ids) == sorted(f"<cut-{i}@firm{i}.example>" for i in range(60))
        assert result.stored == 60
        state = store.folder_state(account["id"], "INBOX")
        assert state["last_uid"] == 60


def test_uidvalidity_change_loses_and_doubles_nothing(dovecot):
    first = [_employer_mail(i) for i in range(8)]
    dovecot.write_maildir("Archive", [(raw, None) for raw in first])
    with Store.open() as store:
        account = _add(store, dovecot)
        sync.sync_all(store, now=NOW)
        old = store.folder_state(account["id"], "Archive")["uidvalidity"]
        assert store.message_count() == 8
        with dovecot.client() as c:  # the test's own read-write session recreates the folder
            c.delete_folder("Archive")
            c.create_folder("Archive")
            for raw in first + [_employer_mail(100), _employer_mail(101)]:
                c.append("Archive", raw)
            c.logout()
        result = sync.sync_all(store, now=NOW)
        assert store.folder_state(account["id"], "Archive")["uidvalidity"] != old
        assert store.message_count() == 10 and result.stored == 2
        assert len({r[0] for r in store.db.execute("SELECT message_id FROM messages")}) == 10


def test_declared_size_over_the_cap_is_recorded_not_loaded(dovecot):
    dovecot.write_maildir("INBOX", [(_employer_mail(1, 60_000), None), (_employer_mail(2, 300), None)])
    with Store.open() as store:
        account = _add(store, dovecot)
        result = sync.sync_account(store, store.get_account(account["id"]), now=NOW,
                                   max_message_size=20_000, part_cap=4_000)
        big = store.message("<cut-1@firm1.example>")
        small = store.message("<cut-2@firm2.example>")
        assert "too large" in (big["error"] or "")
        assert small["error"] is None and small["label"] != "unrelated"
        assert result.bytes_fetched < 6_000


def test_text_part_is_capped(dovecot):
    dovecot.write_maildir("INBOX", [(_employer_mail(3, 200_000), None)])
    with Store.open() as store:
        account = _add(store, dovecot)
        result = sync.sync_account(store, store.get_account(account["id"]), now=NOW, part_cap=5_000)
        assert store.message("<cut-3@firm3.example>") is not None
        assert result.bytes_fetched < 8_000


# -- pure helpers ---------------------------------------------------------------------------

ALTERNATIVE = (
    [(b"text", b"plain", (b"charset", b"utf-8"), None, None, b"quoted-printable", 120, 4),
     (b"text", b"html", (b"charset", b"utf-8"), None, None, b"base64", 900, 12)],
    b"alternative", (b"boundary", b"x"), None, None)
MIXED = ([ALTERNATIVE,
          (b"application", b"pdf", (b"name", b"cv.pdf"), None, None, b"base64", 90000, None,
           (b"attachment", (b"filename", b"cv.pdf")), None),
          (b"text", b"calendar", (b"method", b"REQUEST"), None, None, b"7bit", 700, 20)],
         b"mixed", (b"boundary", b"y"), None, None)
HTML_ONLY = (b"text", b"html", (b"charset", b"iso-8859-1"), None, None, b"7bit", 500, 10)
TEXT_ATTACHMENT = ([(b"text", b"html", (), None, None, b"7bit", 500, 10),
                    (b"text", b"plain", (b"name", b"notes.txt"), None, None, b"7bit", 50, 2, None,
                     (b"attachment", (b"filename", b"notes.txt")), None)], b"mixed", (), None, None)


@pytest.mark.parametrize("structure, expected", [
    (ALTERNATIVE, [("1", "text/plain")]),
    (MIXED, [("1.1", "text/plain"), ("3", "text/calendar")]),
    (HTML_ONLY, [("1", "text/html")]),
    (TEXT_ATTACHMENT, [("1", "text/html")]),
    (None, []),
    ((b"garbage",), []),
])
def test_text_parts(structure, expected):
    assert [(p.section, p.mime_type) for p in imap.text_parts(structure)] == expected


def test_build_raw_round_trips_through_the_parser():
    header = (b"From: Ana <ana@firm.example>\r\nSubject: Next steps\r\nMessage-ID: <x1@firm>\r\n"
              b"Content-Type: multipart/alternative; boundary=zz\r\n\r\n")
    plain = imap.TextPart("1", "text/plain", "utf-8", "base64", 40)
    cal = imap.TextPart("2", "text/calendar", "utf-8", "7bit", 40)
    body = "We would like to invite you to an interview on Tuesday.".encode()
    import base64
    raw = imap.build_raw(header, [(plain, base64.encodebytes(body)[:50], True),
                                  (cal, b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", False)])
    email = pipeline.read_bytes(raw).email
    assert email.message_id == "<x1@firm>" and email.subject == "Next steps"
    assert email.text.startswith("We would like to invite you")
    assert raw == imap.build_raw(header, [(plain, base64.encodebytes(body)[:50], True),
                                          (cal, b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", False)])


def test_choose_folders_prefers_all_mail_and_skips_noselect():
    listed = [((b"\\HasNoChildren",), b"/", "INBOX"), ((b"\\Noselect",), b"/", "[Gmail]"),
              ((b"\\Sent",), b"/", "[Gmail]/Sent Mail"), ((b"\\All",), b"/", "[Gmail]/All Mail"),
              ((b"\\Archive",), b"/", "Archive"), ((b"\\Trash",), b"/", "[Gmail]/Trash")]
    assert imap.choose_folders(listed) == [("[Gmail]/Sent Mail", "sent"), ("INBOX", "inbox"),
                                           ("[Gmail]/All Mail", "all")]


def test_header_info_reads_list_and_thread_headers():
    info = imap.header_info(b"From: =?utf-8?q?J=C3=B6rg?= <JORG@Firm.example>\r\nTo: a@b.c, d@e.f\r\n"
                            b"Subject: Re: Your application\r\nIn-Reply-To: <p@q>\r\n"
                            b"References: <o@q> <p@q>\r\nList-Unsubscribe: <mailto:u@x>\r\n\r\n")
    assert info.from_name == "Jörg" and info.from_addr == "jorg@firm.example"
    assert info.to == ("a@b.c", "d@e.f") and info.references == ("<o@q>", "<p@q>")
    assert info.in_reply_to == "<p@q>" and prefilter.is_bulk(info)


def test_prefilter_recall_on_corpus_employer_mail():
    from parsers.mime import parse_address
    total = kept = 0
    for name in ("dev.jsonl", "timelines.jsonl"):
        for line in (CORPUS / name).read_text().splitlines():
            row = json.loads(line)
            if row["label"] in ("unrelated", "own"):
                continue
            display, addr = parse_address(row["sender"])
            total += 1
            kept += prefilter.is_candidate(prefilter.HeaderInfo(from_name=display, from_addr=addr,
                                                                subject=row["subject"]))
    assert total > 300 and kept / total >= 0.99


@pytest.mark.parametrize("headers, keep", [
    ({"from_addr": "no-reply@greenhouse.io", "subject": "Thanks", "list_unsubscribe": "<x>"}, True),
    ({"from_addr": "deals@shop.example", "subject": "50% off", "list_unsubscribe": "<x>"}, False),
    ({"from_addr": "jobalerts-noreply@linkedin.com", "subject": "30 new jobs for you"}, False),
    ({"from_addr": "jobs-noreply@linkedin.com", "subject": "Your application was sent to Acme"}, True),
    ({"from_addr": "news@paper.example", "subject": "Morning briefing", "list_id": "<l>"}, False),
    ({"from_addr": "careers@firm.example", "subject": "Update", "list_unsubscribe": "<x>",
      "from_name": "Firm Careers"}, False),
    ({"from_addr": "noreply@bank.example", "subject": "Your statement is ready"}, False),
    ({"from_addr": "noreply@firm.example", "subject": "Interview invitation"}, True),
    ({"from_addr": "friend@gmail.com", "subject": "dinner?"}, True),
    ({"from_addr": "x@firm.example", "subject": "hi", "in_reply_to": "<mine@me>",
      "list_id": "<l>"}, True),
])
def test_prefilter_rules(headers, keep):
    info = prefilter.HeaderInfo(**headers)
    assert prefilter.is_candidate(info, known_ids={"<mine@me>"}) is keep


def _corpus_rows():
    for name in ("dev.jsonl", "timelines.jsonl"):
        for line in (CORPUS / name).read_text().splitlines():
            yield json.loads(line)


def test_two_stage_prefilter_recall_even_from_a_personal_address():
    """Worst case: every employer message sent from a freemail address, so the headers often
    say NEEDS_TEXT and the first TEXT_PREFIX_BYTES of the text decide."""
    from parsers.mime import parse_address
    total = kept = 0
    for row in _corpus_rows():
        if row["label"] in ("unrelated", "own"):
            continue
        name, _ = parse_address(row["sender"])
        info = prefilter.HeaderInfo(from_name=name, from_addr="someone@gmail.com", subject=row["subject"])
        why = prefilter.reason(info)
        prefix = row["body"].encode()[:prefilter.TEXT_PREFIX_BYTES].decode("utf-8", "ignore")
        total += 1
        kept += why is not None and (why != prefilter.NEEDS_TEXT or prefilter.text_says_hiring(prefix))
    assert total > 300 and kept / total >= 0.99


def test_text_says_hiring_sets_agree_with_the_regex_on_the_corpus():
    for row in _corpus_rows():
        for text in (row["body"], row["subject"]):
            assert prefilter.text_says_hiring(text) == bool(prefilter.BODY_HIRING_WORDS.search(text)), text[:80]
            low = text.lower()
            if low.isascii():  # the ASCII word reader splits ASCII text as the Unicode one does
                assert prefilter._ASCII_WORD.findall(low) == prefilter._WORD.findall(low)


@pytest.mark.parametrize("headers, why", [
    ({"from_addr": "kim12@gmail.com", "subject": "Photos from the weekend"}, prefilter.NEEDS_TEXT),
    ({"from_addr": "kim12@gmail.com", "subject": "Re: photos"}, "direct"),
    ({"from_addr": "kim12@gmail.com", "subject": "Coffee about the analyst role?"}, "direct"),
    ({"from_addr": "noreply@calendar.example", "subject": "Schedule for Tuesday"}, prefilter.NEEDS_TEXT),
    ({"from_addr": "noreply@calendar.example", "subject": "Interview on Tuesday"}, "automated-hiring"),
])
def test_prefilter_stages(headers, why):
    assert prefilter.reason(prefilter.HeaderInfo(**headers)) == why


def test_personal_mail_is_kept_only_when_its_text_talks_about_hiring(dovecot):
    def mail(i, body, subject="Catching up"):
        return (f"From: Jo Park <jo.park{i}@gmail.com>\r\nTo: {ME}\r\nSubject: {subject}\r\n"
                f"Message-ID: <p{i}@gmail.com>\r\nDate: {format_datetime(NOW)}\r\n"
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                + body).encode()
    dovecot.write_maildir("INBOX", [
        (mail(1, "Dinner on Saturday? Bring the garden photos =E2=80=93 see you soon."), NOW),
        (mail(2, "Hi! My firm is recruiting for a data analyst; would you like to interview with us?"), NOW),
        (mail(3, "Long time no see.\r\n\r\n" + "Weather news. " * 300 + "We have a job for you."), NOW),
    ])
    with Store.open() as store:
        _add(store, dovecot)
        result = sync.sync_all(store, now=NOW)
        assert result.errors == 0
        assert not store.has_message_id("<p1@gmail.com>")
        assert store.has_message_id("<p2@gmail.com>")
        assert not store.has_message_id("<p3@gmail.com>")  # hiring words only past the prefix


def _multipart_mail(i: int, text: str, *, subject: str = "Photos from the weekend") -> bytes:
    """A person's note with a photo attached, its text inside multipart/alternative."""
    msg = EmailMessage()
    msg["From"] = f"Kim Lee <kim.lee{i}@gmail.com>"
    msg["To"] = ME
    msg["Subject"] = subject
    msg["Message-ID"] = f"<m{i}@gmail.com>"
    msg["Date"] = format_datetime(NOW)
    msg.set_content(text)
    msg.add_alternative(f"<p>{text}</p>", subtype="html")
    msg.add_attachment(bytes(range(256)) * 400, maintype="image", subtype="jpeg", filename="beach.jpg")
    return msg.as_bytes()


def test_personal_multipart_mail_is_decided_on_its_body_prefix(dovecot):
    """An undecided multipart note is read from the first bytes of its body: only the one whose
    text speaks of hiring costs a BODYSTRUCTURE, and it is stored with its text."""
    dovecot.write_maildir("INBOX", [
        (_multipart_mail(1, "Here are the beach photos from Sunday, the kids loved it."), NOW),
        (_multipart_mail(2, "My team is hiring a data analyst, would you like to interview with us?"), NOW),
    ])
    with RecordingProxy(dovecot.port) as proxy, Store.open() as store:
        _add(store, dovecot, port=proxy.port)
        result = sync.sync_all(store, now=NOW)
        assert result.errors == 0 and result.stored == 1
        assert not store.has_message_id("<m1@gmail.com>")
        (row,) = store.db.execute("SELECT cleaned FROM messages WHERE message_id = '<m2@gmail.com>'")
        assert "hiring a data analyst" in row[0]
        structure_fetches = [line for line in proxy.commands if b"BODYSTRUCTURE" in line.upper()]
    assert [line.split()[3] for line in structure_fetches] == [b"2"]  # "<tag> UID FETCH 2 (...)"


@pytest.mark.parametrize("content_type, body, expected", [
    # text first, nested in multipart/alternative inside multipart/mixed
    ('multipart/mixed; boundary="out"',
     b"--out\r\nContent-Type: multipart/alternative;\r\n boundary=in\r\n\r\n--in\r\n"
     b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
     b"We are hiring =E2=80=93 apply\r\n--in\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--in--\r\n"
     b"--out\r\nContent-Type: image/png\r\n\r\nAAAA",
     ("text/plain", "utf-8", "quoted-printable", b"We are hiring =E2=80=93 apply", False)),
    # an attachment before the text is passed over; a preamble is ignored
    ("multipart/mixed; boundary=b", b"This is a MIME message.\r\n--b\r\nContent-Type: application/pdf; name=cv.pdf"
     b"\r\n\r\nJVBER\r\n--b\r\nContent-Type: text/html\r\n\r\n<b>hi</b>",
     ("text/html", None, "7bit", b"<b>hi</b>", True)),
    # a part with no header is text/plain; bare LF line ends
    ("multipart/mixed; boundary=b", b"--b\n\nplain words\n--b--\n", ("text/plain", None, "7bit", b"plain words", False)),
    # a text/plain attachment is not the message's text
    ("multipart/mixed; boundary=b", b'--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; '
     b'filename="notes.txt"\r\n\r\nnotes\r\n--b--', None),
    # the prefix ends inside a part's header, before any text: unclear
    ("multipart/mixed; boundary=b", b"--b\r\nContent-Type: image/png\r\n\r\nAAAA\r\n--b\r\nContent-Ty", None),
    ("multipart/mixed; boundary=b", b"--b\r\nContent-Type: image/png\r\n\r\nAAAA", None),
    # not a multipart, or no boundary: unclear
    ("text/plain", b"hello", None),
    ("multipart/mixed", b"--b\r\n\r\nhello", None),
])
def test_text_in_prefix(content_type, body, expected):
    found = imap.text_in_prefix(content_type, body, 2048)
    if expected is None:
        assert found is None
    else:
        part, text, truncated = found
        assert (part.mime_type, part.charset, part.encoding, text, truncated) == expected


def test_text_in_prefix_caps_the_text_and_decodes_with_text_prefix():
    body = (b"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + __import__("base64").encodebytes(("We are recruiting. " * 40).encode()) + b"\r\n--b--")
    part, text, truncated = imap.text_in_prefix("multipart/mixed; boundary=b", body, 100)
    assert len(text) == 100 and truncated
    assert imap.text_prefix(part, text, truncated=True).startswith("We are recruiting. We are")


def test_fast_header_reader_matches_imapclient(dovecot):
    dovecot.write_maildir("INBOX", [(_employer_mail(i), NOW) for i in range(5)])
    with dovecot.client() as c:
        c.select_folder("INBOX", readonly=True)
        uids = c.search("ALL")
        fast = imap.fetch_headers(c, uids)
        slow = c.fetch(uids, [imap.HEADER_ITEM, "RFC822.SIZE"])
        c.logout()
    assert sorted(fast) == sorted(uids)
    for uid in uids:
        assert fast[uid]["header"] == slow[uid][imap.HEADER_KEY]
        assert fast[uid]["size"] == slow[uid][b"RFC822.SIZE"]


def test_pipelined_fetches_match_imapclient(dovecot):
    """imap.Pipeline sends several UID FETCH commands before reading any answer and matches each
    answer to its command by UID: bodies, sizes and headers, as imapclient reads them one
    command at a time."""
    mail = [_employer_mail(i) for i in range(4)]
    mail += [_multipart_mail(i, "Photos from the trip.") for i in range(4, 8)]
    dovecot.write_maildir("INBOX", [(raw, NOW) for raw in mail])
    with dovecot.client() as c:
        c.select_folder("INBOX", readonly=True)
        uids = c.search("ALL")
        bodies, multi, headers = uids[:4], uids[4:], uids[1::2]
        pipe = imap.pipeline_of(c)
        first = pipe.send(bodies, "(BODY.PEEK[TEXT]<0.100>)", b"BODY[TEXT]")
        with pytest.raises(ValueError):  # the same UID in two commands could not be told apart
            pipe.send(headers, "(RFC822.SIZE)", b"")
        second = pipe.send(multi, "(RFC822.SIZE BODY.PEEK[1]<0.50>)", b"BODY[1]")
        later, text = pipe.wait(second), pipe.wait(first)  # the later one first: both kept
        pipe.drain()
        slow_text = c.fetch(bodies, ["BODY.PEEK[TEXT]<0.100>"])
        slow_later = c.fetch(multi, ["RFC822.SIZE", "BODY.PEEK[1]<0.50>"])
        alone = imap.fetch_literal(c, uids, f"({imap.HEADER_ITEM})", b"BODY[HEADER")
        slow_headers = c.fetch(uids, [imap.HEADER_ITEM])
        c.logout()
    assert {uid: v["literal"] for uid, v in text.items()} == {
        uid: v[b"BODY[TEXT]<0>"] for uid, v in slow_text.items()}
    assert sorted(later) == sorted(multi)
    for uid in multi:
        assert later[uid]["literal"] == slow_later[uid][b"BODY[1]<0>"]
        assert later[uid]["size"] == slow_later[uid][b"RFC822.SIZE"]
    assert {uid: v["literal"] for uid, v in alone.items()} == {
        uid: v[imap.HEADER_KEY] for uid, v in slow_headers.items()}


def test_undecided_multipart_mail_the_prefix_cannot_read_is_decided_by_its_structure(dovecot):
    """When the first bytes of a multipart body hold no text part (a big attachment comes
    first), the message is read the long way: BODYSTRUCTURE, then its text's prefix."""
    def attachment_first(i, text):
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = f"Kim Lee <kim.lee{i}@gmail.com>", ME, "Files"
        msg["Message-ID"], msg["Date"] = f"<a{i}@gmail.com>", format_datetime(NOW)
        msg.make_mixed()
        msg.add_attachment(bytes(range(256)) * 40, maintype="image", subtype="png", filename="scan.png")
        body = EmailMessage()
        body.set_content(text)
        msg.attach(body)
        return msg.as_bytes()
    dovecot.write_maildir("INBOX", [
        (attachment_first(1, "The scans from the museum, as promised."), NOW),
        (attachment_first(2, "We are recruiting a product designer; could you interview next week?"), NOW),
    ])
    with Store.open() as store:
        _add(store, dovecot)
        result = sync.sync_all(store, now=NOW)
        assert result.errors == 0 and result.stored == 1
        assert store.has_message_id("<a2@gmail.com>") and not store.has_message_id("<a1@gmail.com>")


def test_reader_processes_give_the_same_store_and_end_with_the_sync(dovecot, data_dir, monkeypatch):
    """A big sync parses in reader processes (sync.ReaderPool); forced on for a small mailbox,
    every message reads the same as when parsed in the sync process, and no reader is left."""
    _fill_from_timelines(dovecot)
    pools = []

    class Recorded(sync.ReaderPool):
        def __init__(self, processes):
            super().__init__(processes)
            pools.append(self)

    monkeypatch.setattr(sync, "ReaderPool", Recorded)
    header_readers = []

    class RecordedHeaders(sync.HeaderReader):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            header_readers.append(self)

    monkeypatch.setattr(sync, "HeaderReader", RecordedHeaders)
    stored = _sync_with_readers_and_without(dovecot, data_dir, monkeypatch)
    assert pools and all(p.returncode is not None for pool in pools for p in pool.procs)
    # the big sync read its headers on a second connection, now logged out
    assert len(header_readers) == 1 and header_readers[0].client._imap.state == "LOGOUT"
    assert stored["readers"] == stored["here"]


def _sync_with_readers_and_without(dovecot, data_dir, monkeypatch) -> dict:
    """{"readers": ..., "here": ...}: the standings and stored readings after a sync of the
    timeline mailbox with reader processes forced on, and after one that parses everything in
    the sync process. Each sync runs in a thread given 120 s, so a hang fails the test."""
    stored = {}
    for name, minimum in (("readers", 0), ("here", 10 ** 9)):
        monkeypatch.setattr(sync, "READER_PROCESS_MIN", minimum)
        with Store.open(data_dir / f"{name}.sqlite3") as store:
            _add(store, dovecot)
            outcome = []
            worker = threading.Thread(target=lambda: outcome.append(sync.sync_all(store, now=NOW, batch_size=7)))
            worker.start()
            worker.join(120)
            assert not worker.is_alive() and outcome[0].errors == 0 and outcome[0].stored > 30
            stored[name] = (_summary(store.standings(NOW)), sorted(tuple(r) for r in store.db.execute(
                "SELECT message_id, label, company, role, expected_by, own FROM messages")))
            assert store.folder_state(store.list_accounts()[0]["id"], "INBOX")["last_uid"]
    return stored


def test_a_reader_process_that_dies_mid_sync_loses_nothing(dovecot, data_dir, monkeypatch):
    """Batches written to a reader that dies (two may be waiting in its pipe), and the batches
    queued after, are parsed in the sync process: every message is stored once, as without a
    reader, and the sync ends."""
    _fill_from_timelines(dovecot)

    class Dying(sync.ReaderPool):
        submitted = 0

        def submit(self, items, user_addresses):
            Dying.submitted += 1
            if Dying.submitted == 3:
                self.procs[0].kill()
            return super().submit(items, user_addresses)

    monkeypatch.setattr(sync, "ReaderPool", Dying)
    stored = _sync_with_readers_and_without(dovecot, data_dir, monkeypatch)
    assert Dying.submitted > 3
    assert stored["readers"] == stored["here"]


def test_a_reader_started_on_folder_sizes_stops_when_the_window_holds_less(dovecot, data_dir, monkeypatch):
    """The reader starts as soon as the folders examined may hold a big sync; when SEARCH SINCE
    finds fewer messages in the window, it is stopped before any batch and the sync parses here."""
    old, recent = datetime(2024, 1, 5, tzinfo=timezone.utc), datetime(2026, 11, 10, tzinfo=timezone.utc)
    mail = [(_sent_mail(i, f"Firm {i} <talent@firm{i}.example>"), old if i < 8 else recent) for i in range(10)]
    dovecot.write_maildir("INBOX", mail)
    pools = []

    class Recorded(sync.ReaderPool):
        def __init__(self, processes):
            super().__init__(processes)
            pools.append(self)
            self.submitted = 0

        def submit(self, items, user_addresses):
            self.submitted += 1
            return super().submit(items, user_addresses)

    monkeypatch.setattr(sync, "ReaderPool", Recorded)
    monkeypatch.setattr(sync, "READER_PROCESS_MIN", 10)  # INBOX holds 10, its window 2
    with Store.open(data_dir / "standing.sqlite3") as store:
        _add(store, dovecot)
        result = sync.sync_all(store, now=NOW, window_days=60)
        assert result.errors == 0 and result.seen == 2 and result.stored == 2
    assert len(pools) == 1 and pools[0].submitted == 0
    assert all(p.returncode is not None for p in pools[0].procs)


def _sent_mail(i: int, sender: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = f"talent@firm{i}.example"
    msg["Subject"] = "Following up on my application for the Analyst role"
    msg["Date"] = format_datetime(datetime(2026, 11, 2 + i, 9, 0, tzinfo=timezone.utc))
    msg["Message-ID"] = f"<sent-{i}@example.org>"
    msg.set_content("Hello, I wanted to check whether you have an update on my application. Thanks!")
    return msg.as_bytes()


def test_the_addresses_the_user_sends_from_are_the_users_own(dovecot):
    """Mail in \\Sent from an alias (not the account's login) is the user's own follow-up once
    the alias has sent twice; an address seen once in Sent (a redirect, a saved copy) is not."""
    alias, stray = "sam@rivera.example", "someone.else@elsewhere.example"
    dovecot.write_maildir("Sent", [(_sent_mail(0, f"Sam <{alias}>"), None),
                                   (_sent_mail(1, alias.upper()), None),
                                   (_sent_mail(2, stray), None)])
    with Store.open() as store:
        _add(store, dovecot)
        sync.sync_all(store, now=NOW)
        assert alias in store.user_addresses() and stray not in store.user_addresses()
        own = dict(store.db.execute("SELECT message_id, own FROM messages").fetchall())
    assert own == {"<sent-0@example.org>": 1, "<sent-1@example.org>": 1, "<sent-2@example.org>": 0}
    from click.testing import CliRunner

    from server.cli import cli
    listed = CliRunner().invoke(cli, ["account", "list"])
    assert listed.exit_code == 0 and alias in listed.output and stray not in listed.output
