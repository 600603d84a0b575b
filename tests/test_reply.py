"""parsers.reply: the newest reply only, with segments that map back into the original."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.mime import parse_message
from parsers.model import Reply
from parsers.reply import MAX_LINES, newest_reply

FIXTURES = Path(__file__).parent / "fixtures" / "mail"


def check_segments(original: str, reply: Reply) -> None:
    """Every segment satisfies model.Reply's equality, and together they rebuild the text."""
    rebuilt = []
    expected_clean = 0
    for clean_start, original_start, length in reply.segments:
        assert clean_start == expected_clean
        assert 0 <= original_start and original_start + length <= len(original)
        assert reply.text[clean_start:clean_start + length] == original[original_start:original_start + length]
        rebuilt.append(original[original_start:original_start + length])
        expected_clean += length
    assert "".join(rebuilt) == reply.text


REJECTION_ABOVE_INVITE = """Hi Tom,

Thank you for your time on the phone. Unfortunately we have decided not to progress your
application for the Site Supervisor role any further.

Best wishes,
Carla Mendes
Recruitment Lead, Brightwater Construction

On Thu, 6 Feb 2025 at 14:02, Carla Mendes <carla.mendes@brightwater.example>
wrote:

> Hi Tom,
>
> We'd love to invite you to a second interview on Monday at 11am. Please let me
> know if that works.
"""


def test_rejection_above_a_quoted_invite_keeps_only_the_rejection_and_the_sign_off():
    reply = newest_reply(REJECTION_ABOVE_INVITE)
    assert "decided not to progress" in reply.text
    assert "second interview" not in reply.text
    assert "wrote:" not in reply.text and "On Thu" not in reply.text
    # the sign-off stays: the employer module reads the company from it
    assert reply.text.endswith("Carla Mendes\nRecruitment Lead, Brightwater Construction")
    check_segments(REJECTION_ABOVE_INVITE, reply)


def test_offsets_map_back_into_the_original():
    reply = newest_reply(REJECTION_ABOVE_INVITE)
    start = reply.text.index("Unfortunately")
    assert REJECTION_ABOVE_INVITE[reply.to_original(start):].startswith("Unfortunately")


OUTLOOK = """Dear Aisha,

We're still reviewing applications and will come back to you by 14 March.

Regards,
Graham Pike
HR Officer

________________________________
From: Aisha Bello <aisha.bello@example.com>
Sent: 03 March 2025 09:12
To: Graham Pike <g.pike@fenwick.example>
Subject: Application - Finance Assistant

Hi Graham, is there any update on my application?
"""


def test_outlook_header_block_and_rule_line_are_cut():
    reply = newest_reply(OUTLOOK)
    assert reply.text.endswith("Graham Pike\nHR Officer")
    assert "Aisha Bello <" not in reply.text and "____" not in reply.text
    check_segments(OUTLOOK, reply)


@pytest.mark.parametrize("history", [
    "-----Original Message-----\nFrom: Li Wei\nSent: Monday\nTo: Sara\nSubject: Interview\n\nCan we meet?",
    "De : Li Wei <li@example.fr>\nEnvoyé : lundi 3 mars 2025 10:00\nÀ : Sara\nObjet : Entretien\n\nBonjour",
    "From: Li Wei <li@example.com>\nDate: Monday, 3 March 2025\nSubject: Interview\nTo: Sara\n\nCan we meet?",
    "On Mon, Mar 3, 2025 at 10:00 AM Li Wei <li@example.com> wrote:\n> Can we meet?",
    "Le lun. 3 mars 2025 à 10:00, Li Wei <li@example.fr> a écrit :\n> Bonjour",
    "---------- Forwarded message ---------\nFrom: Li Wei <li@example.com>\nDate: Mon\n\nCan we meet?",
    "Begin forwarded message:\n\nFrom: Li Wei <li@example.com>\nSubject: Interview\n\nCan we meet?",
    "Sent from my iPhone\n\n> On Mar 3, 2025, at 10:00, Li Wei <li@example.com> wrote:\n> Can we meet?",
    "Get Outlook for iOS\n________________________________\nFrom: Li Wei\nSent: Monday\nTo: Sara",
    "-- \nSara Lind | Recruiter | +46 8 123 456\nwww.example.se",
])
def test_history_forwards_and_signature_markers_are_cut(history):
    body = "Thanks Sara, we have decided to make you an offer.\n\n" + history + "\n"
    reply = newest_reply(body)
    assert reply.text == "Thanks Sara, we have decided to make you an offer."
    check_segments(body, reply)


def test_quoted_lines_between_answers_are_dropped_but_answers_stay():
    body = "> Is the role remote?\nYes, fully remote.\n> When would I hear back?\nBy Friday at the latest.\n"
    reply = newest_reply(body)
    assert reply.text == "Yes, fully remote.\nBy Friday at the latest."
    check_segments(body, reply)


def test_legal_notice_and_unsubscribe_footer_are_removed():
    body = (
        "Hello Dev,\n\nYour application for Warehouse Associate has been received. Our team will review it.\n\n"
        "Thanks,\nThe Ridgeway Foods Talent Team\n\n"
        "CONFIDENTIALITY NOTICE: This email and any attachments are confidential and intended solely\n"
        "for the addressee. If you have received it in error, please notify the sender and delete it.\n\n"
        "You received this email because you applied on our careers site. Unsubscribe | Manage preferences\n"
    )
    reply = newest_reply(body)
    assert reply.text.endswith("The Ridgeway Foods Talent Team")
    assert "CONFIDENTIALITY" not in reply.text and "Unsubscribe" not in reply.text
    check_segments(body, reply)


def test_automated_no_reply_line_is_kept():
    body = "We received your application.\n\nThis is an automated email; replies to this address are not read.\n"
    assert "automated email" in newest_reply(body).text


def test_a_message_that_is_only_a_quote_falls_back_to_the_original():
    body = "On Mon, Mar 3, 2025 at 10:00 AM Li Wei <li@example.com> wrote:\n> We'd like to invite you.\n"
    reply = newest_reply(body)
    assert reply.text == body
    check_segments(body, reply)


def test_wrote_word_inside_a_sentence_is_not_a_cut():
    body = "As I wrote: we will decide next week.\nOn balance the panel liked you.\n"
    assert newest_reply(body).text == body.strip()


def test_html_fixture_end_to_end_with_mime():
    found = parse_message((FIXTURES / "outlook_noncommittal.eml").read_bytes())
    reply = newest_reply(found.text)
    assert "still interviewing a couple of candidates" in reply.text
    assert "check in on the Operations Analyst" not in reply.text
    check_segments(found.text, reply)


def test_forwarded_fixture_keeps_the_recruiters_note_only():
    found = parse_message((FIXTURES / "forwarded_note.eml").read_bytes())
    reply = newest_reply(found.text)
    assert reply.text == ("Lena, good news below - they want to see you again. "
                          "I'll call you this afternoon to line up the final round.")


def test_line_limit_bounds_the_work():
    body = "x\n" * (MAX_LINES * 3)
    reply = newest_reply(body)
    assert reply.text.count("x") <= MAX_LINES
    check_segments(body, reply)


@pytest.mark.parametrize("body", ["", "\n\n", "   ", "\r\n\r\n>", "\u2028\x0c\x1c", ">"])
def test_degenerate_inputs(body):
    reply = newest_reply(body)
    check_segments(body, reply)


PIECES = st.sampled_from([
    "Hi Jo,\n", "We'd like to move forward.\n", "\n", "> quoted\n", "On Mon, 3 Mar 2025, Li wrote:\n",
    "On Mon, 3 Mar 2025 at 10:00 Li <li@x.com>\n", "wrote:\n", "-- \n", "Sent from my iPhone\n",
    "From: A <a@x.com>\n", "Sent: Monday\n", "To: B\n", "Subject: x\n", "________________\n",
    "CONFIDENTIALITY NOTICE: this email is confidential.\n", "Unsubscribe here\n", "Best,\nJo\n",
    "  \t\n", "\r\n", "-----Original Message-----\n", "Begin forwarded message:\n",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=40)), max_size=30))
def test_segments_always_satisfy_the_equality(pieces):
    body = "".join(pieces)
    reply = newest_reply(body)
    check_segments(body, reply)
    if body.strip():
        assert reply.text.strip()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_newest_reply_never_raises_on_arbitrary_text(body):
    check_segments(body, newest_reply(body))


def test_sign_off_right_above_a_legal_notice_stays():
    body = ("We'd like you to start on 3 March.\n\nRegards,\nOwen Price\nPeople Lead\nMarlow & Finch Ltd\n"
            "This email and any attachments are confidential and intended solely for the addressee.\n"
            "If you are not the intended recipient, please notify the sender and delete it.\n")
    reply = newest_reply(body)
    assert reply.text.endswith("People Lead\nMarlow & Finch Ltd")
    check_segments(body, reply)


def test_text_whose_lowercase_changes_length_still_maps_back():
    body = "İİİ Thanks.\n\nUnsubscribe here\nCONFIDENTIALITY NOTICE: this email is confidential.\n"
    reply = newest_reply(body)
    assert reply.text == "İİİ Thanks."
    check_segments(body, reply)
