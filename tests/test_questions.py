"""The "ask where you stand" question fits what the employer last said."""
from datetime import date

import pytest

from server.questions import suggested_question


def test_noncommittal_asks_whether_the_interest_is_mutual():
    q = suggested_question("noncommittal", company="Pellucid Optics", role="QA Lead")
    assert "QA Lead role at Pellucid Optics" in q
    assert "equal interest" in q


def test_overdue_names_the_promised_day():
    q = suggested_question("overdue", company="Pellucid Optics", role="QA Lead",
                           expected_by=date(2026, 3, 6))
    assert q.startswith("You mentioned I'd hear back by March 6.")


@pytest.mark.parametrize("after", [None, "acknowledgement"])
def test_silence_before_any_interview_never_mentions_an_interview(after):
    q = suggested_question("silent", company="Pellucid Optics", role="QA Lead", after=after)
    assert "interview" not in q
    assert "I applied for the QA Lead role" in q


def test_silence_after_an_interview_asks_about_next_steps():
    q = suggested_question("silent", company="Pellucid Optics", role=None, after="advancing")
    assert "interview process for the role at Pellucid Optics" in q


@pytest.mark.parametrize("status", ["offer", "interested", "rejected", "waiting"])
def test_only_amber_statuses_get_a_question(status):
    assert suggested_question(status, company="Pellucid Optics", role="QA Lead") is None
