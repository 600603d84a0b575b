"""parsers.deadlines.expected_by: promised reply-by days, with our own sentences."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from parsers.deadlines import expected_by

UTC = timezone.utc
PACIFIC = timezone(timedelta(hours=-8))


def at(y, m, d, hour=10, tz=UTC):
    return datetime(y, m, d, hour, 0, tzinfo=tz)


# 2025-03-04 is a Tuesday.
TUE = at(2025, 3, 4)


@pytest.mark.parametrize("text, sent, want", [
    ("Thanks for your time today. I'll get back to you by Friday.", TUE, date(2025, 3, 7)),
    ("We will let you know on Thursday how the panel felt.", TUE, date(2025, 3, 6)),
    ("I'll circle back with feedback next week.", TUE, date(2025, 3, 14)),
    ("You'll hear from me early next week either way.", TUE, date(2025, 3, 12)),
    ("We expect to reach a decision by the end of next week.", TUE, date(2025, 3, 14)),
    ("I'll send you an update later this week.", TUE, date(2025, 3, 7)),
    ("Our recruiter will reach out tomorrow to book the call.", TUE, date(2025, 3, 5)),
    ("We'll get back to you within two weeks.", TUE, date(2025, 3, 18)),
    ("Expect a reply from us in 10 days.", TUE, date(2025, 3, 14)),
    ("The team will respond within 48 hours.", TUE, date(2025, 3, 6)),
    ("We aim to update every applicant within the next fortnight.", TUE, date(2025, 3, 18)),
    ("We hope to have news for you by the end of the month.", TUE, date(2025, 3, 31)),
    ("We'll have a decision in early April and will contact you then.", TUE, date(2025, 4, 10)),
    ("The committee should decide by mid-April; I'll update you after.", TUE, date(2025, 4, 15)),
    ("We'll be in touch by 21 March with the outcome.", TUE, date(2025, 3, 21)),
    ("We'll be in touch on March 21st with the outcome.", TUE, date(2025, 3, 21)),
    ("I'll let you know on Tuesday the 11th.", TUE, date(2025, 3, 11)),
    ("You should hear from us in the next few days.", TUE, date(2025, 3, 7)),
    ("We will get back to you today or tomorrow.", TUE, date(2025, 3, 5)),
])
def test_promise_patterns(text, sent, want):
    assert expected_by(text, sent) == want


def test_business_days_skip_the_weekend_and_take_the_upper_bound():
    thursday = at(2025, 3, 6)
    assert expected_by("We'll reply in 3-5 business days.", thursday) == date(2025, 3, 13)
    assert expected_by("We'll reply within 2 working days.", thursday) == date(2025, 3, 10)


def test_month_and_year_boundaries():
    late_dec = at(2025, 12, 29)  # Monday
    assert expected_by("We'll get back to you by Friday.", late_dec) == date(2026, 1, 2)
    assert expected_by("I'll confirm the outcome by 9 January.", late_dec) == date(2026, 1, 9)
    assert expected_by("You'll hear from us in early January.", at(2025, 12, 10)) == date(2026, 1, 10)
    assert expected_by("We'll update you within 5 working days.", late_dec) == date(2026, 1, 5)
    jan_end = at(2025, 1, 30)
    assert expected_by("I'll send the paperwork by the end of next month.", jan_end) == date(2025, 2, 28)


def test_weekend_sender_and_same_weekday():
    saturday = at(2025, 3, 8)
    assert expected_by("I'll get back to you on Monday.", saturday) == date(2025, 3, 10)
    friday = at(2025, 3, 7)
    # said on a Friday, "by Friday" allows until the next one
    assert expected_by("I'll let you know by Friday.", friday) == date(2025, 3, 14)


def test_timezone_uses_the_senders_own_day():
    # Friday 23:30 in -08:00 is already Saturday in UTC; the promise counts from the Friday.
    late_friday = datetime(2025, 3, 7, 23, 30, tzinfo=PACIFIC)
    assert expected_by("We'll get back to you tomorrow.", late_friday) == date(2025, 3, 8)
    assert expected_by("I'll let you know early next week.", late_friday) == date(2025, 3, 12)


@pytest.mark.parametrize("text", [
    "Please accept the offer by Friday so we can start onboarding.",
    "Kindly complete the online assessment within 3 days.",
    "This offer is valid until 20 March.",
    "You have until Thursday at 5pm to submit your take-home.",
    "Are you free tomorrow at 11 for a quick call?",
    "I can send the contract tomorrow if you're interested.",
    "We met last Tuesday and the team enjoyed it.",
    "The office is closed on Monday for the holiday.",
    "I told you we'd have an answer this week, sorry for the delay.",
])
def test_not_a_promise_to_reply(text):
    assert expected_by(text, TUE) is None


def test_past_dates_are_ignored():
    assert expected_by("We'll get back to you by 1 March.", TUE) is None


def test_not_heard_from_us_counts_as_a_promise():
    text = "If you have not heard from us by 14 March, please assume you have not been shortlisted."
    assert expected_by(text, TUE) == date(2025, 3, 14)


def test_latest_promise_wins():
    text = "I'll call you on Thursday. The written offer will follow by the end of next week."
    assert expected_by(text, TUE) == date(2025, 3, 14)


def test_relative_to_closing_date():
    text = ("The advert closes on 14 March. All applicants will be notified of the outcome "
            "within 14 days of the closing date.")
    assert expected_by(text, TUE) == date(2025, 3, 28)


def test_empty_and_missing_date():
    assert expected_by("", TUE) is None
    assert expected_by("We'll get back to you by Friday.", None) is None


def test_mid_month_is_the_fifteenth():
    assert expected_by("We should know more about budgets by mid-May and I'll write then.", TUE) == date(2025, 5, 15)
    assert expected_by("I'll update you mid next month.", TUE) == date(2025, 4, 15)


def test_range_of_weeks_counts_from_the_named_closing_date():
    text = ("The vacancy closes on 12 May 2025, and shortlisted candidates will be contacted by phone. "
            "Please expect the selection process to take two to three weeks from the closing date.")
    assert expected_by(text, TUE) == date(2025, 6, 2)


def test_closing_date_beside_a_promise_is_not_the_promised_day():
    text = "Once the advert closes on 20 March we will review every application and contact the shortlist."
    assert expected_by(text, TUE) is None
    text = "After the closing date of 20 March, we will let everyone know the result by 4 April."
    assert expected_by(text, TUE) == date(2025, 4, 4)


def test_unknown_closing_date_gives_no_day():
    assert expected_by("We aim to respond to everyone within 10 working days of the closing date.", TUE) is None


@pytest.mark.parametrize("text", [
    "Our scheduler will be in touch to find a slot in the week of 17 March.",
    "The signed contract will be sent over shortly, with a start date of 7 April.",
    "I'll send the invite for your interview on Thursday.",
])
def test_the_day_of_an_event_is_not_a_reply_promise(text):
    assert expected_by(text, TUE) is None


@pytest.mark.parametrize("text", [
    "Dara will phone you later, and we would appreciate your answer by Friday.",
    "If we don't hear from you by 14 March, we'll assume you have withdrawn.",
])
def test_a_reply_asked_of_the_candidate_is_not_a_promise(text):
    assert expected_by(text, TUE) is None


# --- phrase families added after reading independently written mail (own sentences) ---------

@pytest.mark.parametrize("text, want", [
    # promise verbs: passive contact, write, email, circle back, wrap up, "should know", be back in touch
    ("Candidates on the shortlist will be contacted by 14 March.", date(2025, 3, 14)),
    ("We'll contact shortlisted applicants by 14 March.", date(2025, 3, 14)),
    ("I will write to you by Thursday with the panel's view.", date(2025, 3, 6)),
    ("The contract will be emailed to you by Friday 7 March.", date(2025, 3, 7)),
    ("I'm aiming to circle back before Christmas.", date(2025, 12, 24)),
    ("We hope to wrap things up by the end of next week.", date(2025, 3, 14)),
    ("Honestly we should know in a couple weeks.", date(2025, 3, 18)),
    ("I'll be back in touch in early April to talk dates.", date(2025, 4, 10)),
    ("We hope to be in contact again by the end of next week.", date(2025, 3, 14)),
    ("Shortlisting should be completed by 20 March.", date(2025, 3, 20)),
    # durations: "a week or two" is its upper bound, "take us", "it'll be", "another"
    ("We'll let you know in a week or two.", date(2025, 3, 18)),
    ("It may take us a week or two to get back to everyone.", date(2025, 3, 18)),
    ("It'll be a couple of weeks before we decide, I'm afraid.", date(2025, 3, 18)),
    ("The board wants to meet both finalists before we decide. That could take another 2-3 weeks.", date(2025, 3, 25)),
    ("The panel needs to see two more people before making a decision, so it'll probably be "
     "another week or two.", date(2025, 3, 18)),
    ("You'll receive a link from our test provider within the next hour.", date(2025, 3, 4)),
    # "this weekend" / "week end": its Sunday
    ("The client will take a decision by this week end.", date(2025, 3, 9)),
    # a deadline for the candidate after a comma does not cancel the promise before it
    ("HR will send the formal letter next week, please reply to confirm you accept.", date(2025, 3, 14)),
    # several counts: the undated one gives nothing, the dated one stands
    ("Our team will review your application within 5 business days. We make decisions within "
     "two weeks of the final interviews.", date(2025, 3, 11)),
    ("The committee will complete shortlisting by Friday 14 March and will contact everyone by that date.",
     date(2025, 3, 14)),
])
def test_more_promise_phrasings(text, want):
    assert expected_by(text, TUE) == want


@pytest.mark.parametrize("text", [
    # a lower bound: nothing happens before it
    "We'll start reading applications after 20 March and contact the people we pick.",
    "We may know more after the Easter break in April.",
    # the time belongs to another clause or to an activity, not to the reply
    "I'll chase the client again tomorrow and let you know as soon as I hear.",
    "We're still interviewing until the end of this week and will decide after that.",
    "The owner is away this week, he'll phone you when he's back if he's keen.",
    "We have two more final rounds next week and won't decide until those are done.",
    "Sam will reach out to set up time with the directors next week.",
    "We have a few more people to meet over the next couple of weeks before we decide.",
    "Applications are open and we'll start reviewing them next week.",
    "We hope to finish interviews by mid-March.",
    "Happy to hop on a call tomorrow to answer any questions about the package.",
    # vague, or counted from an undated event
    "We hope to have more clarity in the next few weeks.",
    "Please send two samples. We'll be in touch within a few days of receiving them.",
    # events, periods and form fields
    "We'd like to offer you the placement, running from 2 June to 29 August.",
    "HR will contact you shortly about paperwork and induction (March 17-19).",
    "This is to confirm your application was received on 03/04/2025.",
    "Your manager will reach out the week before you start.",
    "Your call is booked.\nWhen: Thursday 6 March, 10:00\nShe will call you on the number you gave us.",
    # candidate deadlines and past reports
    "Request you to revert with the signed copy within 3 days.",
    "They'd love an answer by Friday if possible.",
    "Their HR lead told me on Friday that feedback is still pending.",
    "To confirm your place, just reply to this email by Friday 7 March.",
    "The closing date has been extended to Friday 14 March so we can reach more applicants.",
])
def test_more_non_promises(text):
    assert expected_by(text, TUE) is None


# --- phrase families from the third independent set (own sentences) ---------------------------

@pytest.mark.parametrize("text, want", [
    # a bare day of the month: the next such day
    ("I should be able to give everyone an answer by the 20th.", date(2025, 3, 20)),
    ("Nothing yet, sorry; we'll be in touch by the 2nd at the latest.", date(2025, 4, 2)),
    # things that follow, come through, get posted, issued or sent out
    ("Formal paperwork to follow later this week once finance signs it.", date(2025, 3, 7)),
    ("Great news - the contract is coming through from HR tomorrow.", date(2025, 3, 5)),
    ("I'll post out your contract next week, so keep an eye on the letterbox.", date(2025, 3, 14)),
    ("Our HR team will issue your letter of appointment by Friday.", date(2025, 3, 7)),
    ("I'll get the interview invite out today.", date(2025, 3, 4)),
    # contacting, communicating, completing the process
    ("We expect to be contacting shortlisted applicants in the week beginning 17 March.", date(2025, 3, 21)),
    ("The school will communicate with all applicants by 28 March.", date(2025, 3, 28)),
    ("The panel hopes to complete the selection in mid-April.", date(2025, 4, 15)),
    # a hopeful fragment right after a sentence about the pending decision
    ("We haven't had a chance to compare notes yet. Hopefully by Friday!", date(2025, 3, 7)),
    # a closing date named as today: count from today
    ("Applicants will hear from us within 5 working days of the closing date, which is today.", date(2025, 3, 11)),
])
def test_third_set_phrasings(text, want):
    assert expected_by(text, TUE) == want


@pytest.mark.parametrize("text", [
    # the employer hearing from someone else is no promise to the candidate
    "We hear from the funder on Friday; after that I'll let you know where we are.",
    # a quick look, a third party's review: activities, not a reply
    "Cheers, I'll have a look at it tomorrow morning.",
    "The client is reviewing every CV this week, so I'll update you once they come back to me.",
    # a report after a colon: its times are the report's
    "Feedback from the panel: they worried you'd want to move on in six months.",
    # "until the 20th" is how long something lasts, not a reply day
    "The manager is on leave until the 20th, so any feedback will come after that.",
    # approximate spans give no day
    "HR will send the formal paperwork within the next week or so.",
    "Expect the contract in two weeks or so.",
])
def test_third_set_non_promises(text):
    assert expected_by(text, TUE) is None
