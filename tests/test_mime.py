"""parsers.mime: raw bytes -> Email, on realistic fixtures and on hostile input."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import mime
from parsers.mime import html_to_text, parse_address, parse_calendar, parse_message
from parsers.model import Email

FIXTURES = Path(__file__).parent / "fixtures" / "mail"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_gmail_html_only_reply_keeps_the_newest_reply_and_drops_the_quoted_invite():
    found = parse_message(load("gmail_html_rejection.eml"))
    assert found.message_id == "<CAF3k9@mail.gmail.example>"
    assert found.in_reply_to == "<CAF2a1@mail.gmail.example>"
    assert found.references == ("<CAF1z0@mail.gmail.example>", "<CAF2a1@mail.gmail.example>")
    assert found.thread_id == "1829384756120034567"  # X-GM-THRID header of a Takeout export
    assert (found.from_name, found.from_addr) == ("Oliver Brandt", "oliver@quillmark.example")
    assert found.to == ("priya.raman@example.net",)
    assert found.subject == "Re: Onsite interview – Data Engineer"
    assert found.date == datetime(2025, 4, 14, 20, 2, 11, tzinfo=timezone.utc)
    assert found.date.utcoffset() is not None
    assert "decided to move ahead with another candidate" in found.text
    assert "onsite interview" not in found.text  # inside div.gmail_quote
    assert "alert(" not in found.text and "margin" not in found.text
    # paragraphs become blank lines, <br> a line break, entities decoded
    assert "Hi Priya,\n\nThank you" in found.text
    assert "take-home.\nBest of luck" in found.text
    assert "your time & the thought" in found.text
    assert found.defects == ()


def test_thread_id_argument_wins_over_the_header():
    found = parse_message(load("gmail_html_rejection.eml"), thread_id="42")
    assert found.thread_id == "42"


def test_outlook_plain_part_in_base64_windows_1252_is_preferred_over_html():
    found = parse_message(load("outlook_noncommittal.eml"))
    assert found.from_name == "Ashworth, Helen"
    assert found.subject == "RE: Following up – Operations Analyst"
    assert "We’re still interviewing a couple of candidates" in found.text
    assert "\r" not in found.text
    # the plain part keeps its quoted header block; parsers.reply removes it
    assert "Sent: Wednesday, March 5, 2025" in found.text


def test_outlook_html_reply_header_and_everything_after_it_are_removed():
    raw = load("outlook_noncommittal.eml")
    html = raw.split(b"Content-Transfer-Encoding: 7bit\r\n\r\n", 1)[1].split(b"\r\n--_000_")[0]
    text = html_to_text(html.decode())
    assert "We’re still interviewing a couple of candidates." in text
    assert "check in on the Operations Analyst" not in text
    assert "Calibri" not in text


def test_calendar_invite_summary_start_method_and_attachment():
    found = parse_message(load("calendar_invite.eml"))
    event = found.calendar
    assert event is not None
    assert event.method == "REQUEST"
    assert event.summary == "Technical interview: Backend Engineer, Larkspur Health (Jordan Ellis)"
    assert event.start.isoformat() == "2025-03-18T14:00:00-05:00"
    assert [(a.filename, a.content_type) for a in found.attachments] == [
        ("Interview guide.pdf", "application/pdf")]
    assert 500 < found.attachments[0].size < 800
    assert "technical interview for the Backend Engineer role" in found.text
    assert "BEGIN:VCALENDAR" not in found.text


@pytest.mark.parametrize("line, expected", [
    ("DTSTART:20250318T190000Z", "2025-03-18T19:00:00+00:00"),
    ("DTSTART;VALUE=DATE:20250318", "2025-03-18T00:00:00"),
    ("DTSTART;TZID=Eastern Standard Time:20250318T090000", "2025-03-18T09:00:00-04:00"),
    ("DTSTART;TZID=/mozilla.org/20050126_1/Europe/London:20250318T090000", "2025-03-18T09:00:00+00:00"),
    ("DTSTART:20250318T0900", "2025-03-18T09:00:00"),
])
def test_calendar_dtstart_forms(line, expected):
    event = parse_calendar(f"BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nBEGIN:VEVENT\r\n{line}\r\n"
                           "SUMMARY:Call\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    assert event.start.isoformat() == expected
    assert event.method == "CANCEL"


def test_broken_calendar_start_is_none_with_a_defect():
    defects = []
    event = parse_calendar("BEGIN:VEVENT\nDTSTART:2025-13-45\nSUMMARY:x\nEND:VEVENT", defects)
    assert event.start is None and event.summary == "x"
    assert defects


def test_quoted_printable_windows_1252_body_and_8bit_subject():
    found = parse_message(load("cp1252_offer.eml"))
    assert found.from_name == "José Martínez"
    assert found.subject == "Offre d’emploi – Café Lumière"  # raw UTF-8 bytes in the header
    assert "We’re pleased to offer you the position of Store Manager at Café Lumière" in found.text
    assert found.defects == ()


def test_broken_message_still_yields_what_it_can_with_defects():
    found = parse_message(load("broken_mime.eml"))
    assert found.date is None
    assert "unreadable Date header" in found.defects
    assert any("x-no-such-charset" in d for d in found.defects)
    assert any("Boundary" in d for d in found.defects)
    # truncated base64 (no padding, cut mid-line) still decodes what is there
    assert "Thank you for applying to the Warehouse Supervisor role." in found.text


def test_forwarded_message_text_is_kept_whole_for_the_reply_cleaner():
    found = parse_message(load("forwarded_note.eml"))
    assert "they want to see you again" in found.text
    assert "---------- Forwarded message ---------" in found.text


@pytest.mark.parametrize("header, expected", [
    ("Jane Doe <Jane.Doe@Northwind.example>", ("Jane Doe", "jane.doe@northwind.example")),
    ('"Doe, Jane" <jane@northwind.example>', ("Doe, Jane", "jane@northwind.example")),
    ("=?utf-8?b?SsO8cmdlbiBNw7xsbGVy?= <jm@example.de>", ("Jürgen Müller", "jm@example.de")),
    ("<careers@example.com>", ("", "careers@example.com")),
    ("careers@example.com", ("", "careers@example.com")),
    ("Northwind Careers", ("Northwind Careers", "")),
    ("", ("", "")),
    ("<<<>>>", ("", "")),
    ("a@b@c", ("", "")),
    ("Team, Hiring <hiring@example.com>", ("Team, Hiring", "hiring@example.com")),
    ("Jane <jane@example.com>\r\n (HR)", ("Jane", "jane@example.com")),
])
def test_parse_address(header, expected):
    assert parse_address(header) == expected


def test_header_decoding_never_keeps_line_breaks():
    raw = (b"From: a@example.com\r\nSubject: =?utf-8?q?Line_one=0D=0ALine_two?=\r\n =?utf-8?q?_and_more?=\r\n"
           b"Date: Mon, 3 Mar 2025 10:00:00 -0000\r\n\r\nbody")
    found = parse_message(raw)
    assert "\n" not in found.subject and "\r" not in found.subject
    assert found.subject.startswith("Line one Line two")
    assert found.date.tzinfo is not None  # "-0000" read as UTC


def test_unknown_charset_falls_back_and_records_a_defect():
    raw = (b"From: a@example.com\r\nContent-Type: text/plain; charset=klingon-8\r\n\r\n"
           b"Caf\xc3\xa9 \xff ok")
    found = parse_message(raw)
    assert found.text.startswith("Café") or found.text.startswith("Caf")
    assert any("klingon-8" in d for d in found.defects)


def test_html_to_text_handles_deep_nesting_and_blockquote_cite():
    deep = "<div>" * 50_000 + "Deep hello" + "</div>" * 50_000
    assert html_to_text(deep) == "Deep hello"
    apple = ('<div>Sounds good, see you then.</div><div><br><blockquote type="cite">'
             '<div>On Mar 3, at 9:00, Kim wrote:</div><div>Interview at 3pm?</div></blockquote></div>')
    assert html_to_text(apple) == "Sounds good, see you then."


def test_html_that_is_only_a_quote_falls_back_to_the_quote():
    only_quote = '<div class="gmail_quote">On Mon, Kim wrote:<br>We would like to invite you.</div>'
    assert "invite you" in html_to_text(only_quote)


def test_limits_are_enforced():
    huge = b"From: a@example.com\r\nSubject: big\r\n\r\n" + b"word " * (mime.MAX_TEXT_CHARS // 2)
    found = parse_message(huge)
    assert len(found.text) <= mime.MAX_TEXT_CHARS
    assert any("cut" in d for d in found.defects)
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart\r\n" for _ in range(mime.MAX_PARTS + 50))
    many = b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + parts + b"--b--\r\n"
    found = parse_message(many)
    assert any(str(mime.MAX_PARTS) in d for d in found.defects)


def test_deeply_nested_multiparts_do_not_raise():
    raw = b"From: a@example.com\r\n"
    for depth in range(400):
        raw += f"Content-Type: multipart/mixed; boundary=b{depth}\r\n\r\n--b{depth}\r\n".encode()
    raw += b"Content-Type: text/plain\r\n\r\nbottom\r\n"
    found = parse_message(raw)
    assert isinstance(found, Email)


@pytest.mark.parametrize("raw", [b"", b"\x00\xff" * 100, b"garbage without headers", b"From:\r\n\r\n",
                                 b"Content-Type: multipart/mixed\r\n\r\nno boundary at all",
                                 b"Content-Type: text/html\r\n\r\n<p>unterminated <script>alert(1)"])
def test_odd_inputs(raw):
    assert isinstance(parse_message(raw), Email)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_parse_message_never_raises_on_arbitrary_bytes(raw):
    found = parse_message(raw)
    assert isinstance(found, Email)
    assert "\n" not in found.subject and "\r" not in found.subject


FIXTURE_BYTES = [load(name) for name in sorted(p.name for p in FIXTURES.glob("*.eml"))]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FIXTURE_BYTES), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 40),
                                                          st.binary(max_size=20)), max_size=6))
def test_parse_message_never_raises_on_mutated_real_messages(raw, edits):
    data = bytearray(raw)
    for position, cut, insert in edits:
        position %= len(data) + 1
        data[position:position + cut] = insert
    found = parse_message(bytes(data))
    assert isinstance(found, Email)
    assert "\n" not in found.subject


def test_attached_message_is_an_attachment_not_the_body():
    raw = (b"From: Kim <kim@example.com>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/html\r\n\r\n<p>Forwarding the note from our CEO.</p>\r\n"
           b"--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: ceo@example.com\r\nSubject: inner\r\n\r\n"
           b"We are pleased to offer you the job.\r\n--b--\r\n")
    found = parse_message(raw)
    assert found.text == "Forwarding the note from our CEO."
    assert [a.content_type for a in found.attachments] == ["message/rfc822"]


def test_8bit_latin1_body_is_decoded_once_in_single_and_multipart_messages():
    body = "Salary: £42,000 – négociable".encode("cp1252")
    single = b"From: a@example.com\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n" + body
    multi = (b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n"
             b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
             + body + b"\r\n--q--\r\n")
    assert parse_message(single).text == "Salary: £42,000 – négociable"
    assert parse_message(multi).text.strip() == "Salary: £42,000 – négociable"


def test_header_block_with_a_non_header_line_is_left_to_the_full_parser():
    raw = b"From: a@example.com\r\nSubject: hi\r\nthis is not a header\r\n\r\nBody"
    found = parse_message(raw)
    assert found.from_addr == "a@example.com" and "Body" in found.text


@pytest.mark.parametrize("html", ["<a " * 20_000, "<" * 50_000, "<!--" * 10_000, "<script>" * 5_000,
                                  '<div class="gmail_quote">' * 5_000, "<pre>" + "<b " * 10_000,
                                  "&" * 10_000 + "&#xffffffff;&#0;&bogus;"])
def test_hostile_html_is_read_without_error(html):
    defects = []
    assert isinstance(html_to_text(html, defects), str)
    assert not any("unreadable" in d for d in defects)
