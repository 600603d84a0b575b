"""A plain keyword baseline: the label of the first keyword found in the reply.

This is the yardstick bench/classify.py prints beside the real classifier: words alone,
no negation, no conditionals, no priorities.
"""
from __future__ import annotations

import re

# (label, words); the earliest match in the text wins.
KEYWORDS = (
    ("rejected", r"unfortunately|regret|other candidates?|not (?:been )?successful|unsuccessful|"
                 r"not (?:be )?moving forward|filled"),
    ("offer", r"offer|congratulations"),
    ("advancing", r"interview|next steps?|schedule|availability|assessment|invite"),
    ("acknowledgement", r"received your|thank(?:s| you) for (?:applying|your application)|submitted"),
    ("noncommittal", r"update|under review|reviewing|decision|on hold"),
)
_PATTERN = re.compile("|".join(f"(?P<{label}>\\b(?:{words}))" for label, words in KEYWORDS), re.I)


def keyword_label(subject: str, text: str) -> str:
    """The label of the first keyword in the body (then the subject); unrelated if none."""
    for part in (text, subject):
        m = _PATTERN.search(part or "")
        if m:
            return m.lastgroup
    return "unrelated"
