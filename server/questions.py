"""The "ask where you stand" question for amber applications, from the seed article's four.

The seed's questions, adapted to what the employer last said:

- "I'm really interested in this position and in working for XYZ Company. Is there equal
  interest on your end?"
- "I'm really excited about continuing through the interview process. What are your plans
  for next steps?"
- "Do you have any concerns or is there anything about my skills or experience that I could
  clarify for you?"
- "Based on everything I've heard from you today, I think I'd be the perfect fit for this
  job. What are your thoughts?" (for right after an interview, not by email weeks later)
"""
from __future__ import annotations

from datetime import date


def _names(company: str | None, role: str | None) -> tuple[str, str]:
    return (company or "your company"), (f"the {role} role" if role else "the role")


def _day(d: date) -> str:
    return f"{d.strftime('%B')} {d.day}"


def suggested_question(status: str, *, company: str | None, role: str | None,
                       expected_by: date | None = None, after: str | None = None) -> str | None:
    """The question to send for an amber status (noncommittal, overdue, silent), else None.

    `after` is the label of the employer's last message (advancing, noncommittal,
    acknowledgement, or None when it never wrote), which decides the tone of a question after
    silence.

    >>> suggested_question("noncommittal", company="Acme", role="Data Engineer")
    "I'm really interested in the Data Engineer role at Acme. Is there equal interest on your end, and what are your plans for next steps?"
    """
    firm, job = _names(company, role)
    if status == "noncommittal":
        return (f"I'm really interested in {job} at {firm}. Is there equal interest on your end, "
                f"and what are your plans for next steps?")
    if status == "overdue":
        promised = f"You mentioned I'd hear back by {_day(expected_by)}. " if expected_by else ""
        return (f"{promised}I'm still really interested in {job} at {firm}: is there an update, "
                f"and what are your plans for next steps?")
    if status == "silent":
        if after in (None, "acknowledgement"):  # no interview yet: nobody has answered in person
            return (f"I applied for {job} and wanted to follow up: I'm really interested in this "
                    f"position and in working for {firm}. Is there equal interest on your end?")
        if after == "noncommittal":
            return (f"I'm still really interested in {job} at {firm}. Is there equal interest on your "
                    f"end, and is there anything about my skills or experience I could clarify for you?")
        return (f"I'm really excited about continuing through the interview process for {job} at "
                f"{firm}. What are your plans for next steps, and do you have any concerns I could "
                f"clarify for you?")
    return None


__all__ = ["suggested_question"]
