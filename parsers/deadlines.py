"""Promised reply-by dates: "we'll get back to you by Friday" -> that Friday.

``expected_by(text, sent)`` reads the cleaned newest reply and returns the latest
day the employer's promise to reply (get back, let you know, update, decide,
send, call...) allows, counted from the email's own Date in the sender's zone.

A small grammar of its own, because dateparser returns None for "within two
weeks", "by the end of next week" or "in 3 business days", turns words like
"We" into dates in ``search_dates``, and takes seconds on its first call. So the
grammar finds the time expressions; an explicit date it finds ("14 February",
"Nov 14th, 2026") is then read by dateparser (languages=['en'], RELATIVE_BASE =
the email's day). Numeric dates ("11/14") stay with the grammar, which picks the
reading (day- or month-first) that is possible and nearest.

Conventions (the corpus README's, plus our own choices, all "latest day"):

- "by Friday" / "on Tuesday": the next such day after the Date; said on that
  very weekday it means the one a week later.  "next Tuesday": Tuesday of next
  (Monday-based) week.
- "this week", "later this week", "end of the week": this week's Friday.
- "next week", "end of next week", "late next week": next week's Friday;
  "early next week" and "mid next week": next week's Wednesday.
- "the week of 16 March": that week's Friday.  "the following week" after an
  explicit date in the same sentence: the Friday of the week after that date.
- "within two weeks", "in 7 days", "up to three weeks", "it'll be another week": calendar
  days; "a fortnight" = 14 days; "within 24 hours" = the next day, "within the hour" (or any
  count under 24 hours) = the same day; "a week or two" = 14 days (its upper bound).
- "this weekend", "by the week end" = that Sunday; "before Christmas" = 24 December, "by
  Christmas" = 25 December.
- "in 3-5 business/working days": the upper bound, skipping Saturdays and
  Sundays (not public holidays).  "four to six weeks" likewise takes the upper bound;
  "within 15 working days of the closing date" counts from a closing date the
  mail names ("..., which is today" included), and gives no day when it names none.
- "in the next few days": 3 working days; "a couple of days": 2 working days. "In a few
  weeks", "in the coming weeks" are vague timing and give no day (every labelled set agrees).
- "after 20 January", "until after the bank holiday": a lower bound, no day. "Not until
  early January" keeps early January (dev's reading; one independent writer read it as null).
- "within 5 days of receiving them", "two weeks after the final interview": counted from an
  undated event, no day; "of today" / "from the date of this letter" counts from the Date.
- "early January" = 10 January, "mid-January" = 15 January, "late January",
  "end of January", "in January" = 31 January; "end of the month" / "later
  this month" = its last day; "early next month" = the 10th of next month.
- "today", "end of day", "COB" = the Date's day; "tomorrow" = the next day. "This afternoon"
  gives no day (fresh's reading; fresh3 read it as the Date's day).
- "by the 15th" / "on the 2nd": the next such day of the month (this month or next); "until the
  20th" is how long something lasts, no day.
- "a week or so", "within the next week or so", "two weeks or more": approximate, no day.
- Numeric dates: 11/14 is read day-first or month-first only when one reading
  is impossible; when both are valid the nearer future date is taken.

Only sentences that promise a reply count: a deadline for the candidate
("please accept by", "complete the assessment by", "valid until", "you have
until"), questions, conditionals on the candidate ("if you're interested")
and reports of earlier promises ("I told you we'd...") are ignored. In a
promise, a closing date ("once the posting closes on 30 November") and the day
of an event ("a date in the week of 30 November", "a start date of 21 September")
are not the promised day, and neither are a period ("from 1 July to 29 August", "between 2
and 5 September"), a date in brackets after a noun ("induction (18-20 August)"), a form field
("When: Thursday 15 October"), a past event ("received on 03/16"), an offered call ("happy to
hop on a call tomorrow") or the day something only starts ("we'll start reviewing next week").
The time must sit in the clause that promises: "I'll chase them tomorrow and let you know"
and "we're interviewing until Friday and will decide after that" promise no day, nor does the
time of an activity set up by the promise ("reach out to set up time with the team next
week"). Nor do the employer's own hearing ("we hear from the Trust on 3 October"), reviewing
("they're reviewing submissions this week"), a glance ("I'll have a look at it tonight") or a
report after a colon ("Feedback came in: ... bored in six months"). A sentence opening "That may
take..." / "It'll be..." times the promise just made, and so does a hopeful fragment after a
sentence about the pending reply ("... compare notes yet. Hopefully next week!"). A
date before the Date's day is ignored. When several promises are made, the latest
day wins.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from functools import lru_cache

MAX_TEXT_CHARS = 20_000  # promises sit near the top of a reply; bounds regex work on huge bodies
MAX_SENTENCE_CHARS = 600  # longer "sentences" are tables or unwrapped footers, not promises
MAX_HORIZON_DAYS = 400  # a "promise" further out than this is a misread (years, ids)
YEAR_ROLLOVER_DAYS = 60  # a month-day this far in the past means next year ("by 10 January" in December)
FEW_WORKING_DAYS = 3  # "in the next few days"
COUPLE_WORKING_DAYS = 2  # "in a couple of days"
HOURS_PER_DAY = 24  # "within 48 hours" = two days on; "within the hour" = the same day
EARLY_DAY, MID_DAY = 10, 15  # "early January" = 10th (corpus convention); mid-month = the 15th

WEEKDAYS = {name: i for i, name in enumerate(
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}
WEEKDAY_ABBR = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4,
                "sat": 5, "sun": 6}
MONTHS = {name: i for i, name in enumerate(calendar.month_name) if name}
MONTHS = {k.lower(): v for k, v in MONTHS.items()}
MONTHS.update({k.lower(): v for k, v in ((calendar.month_abbr[i], i) for i in range(1, 13))})
MONTHS["sept"] = 9
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "another": 1, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "twenty": 20, "thirty": 30, "couple of": 2, "a couple of": 2, "couple": 2, "a couple": 2,
}

_WD = r"(?:mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)(?:day|nesday|sday|urday)?\.?"
_WD_FULL = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_NUM = r"(?:\d{1,3}|a|an|another|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|" \
       r"thirteen|fourteen|fifteen|twenty|thirty|(?:a )?couple(?: of)?|(?:a )?few)"
_ORD = r"(\d{1,2})(?:st|nd|rd|th)?"

# --- which sentences promise a reply --------------------------------------------------------

PROMISE = re.compile(
    r"\b(get(?:ting)? back|(?<!\bwe )(?<!\bi )(?<!\bthey )hear(?:d)? (?:from|back)|"
    r"let (?:you|everyone|all|every)\w* know|"
    r"update (?:you|every|all|candidates|everyone)|(?:be|get)(?: back)? in (?:touch|contact)|"
    r"contact(?:ing)? (?:(?:all|every|the|any|shortlisted|successful|selected)\w* )*"
    r"(?:you|candidates|applicants|everyone)|"
    r"communicate (?:with|to) (?:you|all|every|the|candidates|applicants)|"
    r"come back to you|circle back|reach out|respond|revert|answer|decision|decide|"
    r"(?:make|making) (?:a|an|the|our) (?:call|offer|decision|appointment)|"
    r"news|clarity|know more|(?:we'?ll|we will|i'?ll|i will|should|would|will) know|outcome|notif(?:y|ied)|"
    r"send|sent|e-?mail(?:ed)? (?:to )?you|write to you|(?:be|been) (?:contacted|informed|advised|notified)|"
    r"call you|ring you|phone you|follow (?:up|by)|com(?:e|es|ing) through|(?<=\w )to follow|"
    r"issu(?:e|ing) (?:the|a|an|your|you)|letter of offer|post (?:out|over|it|them|you)|"
    r"get (?:[\w-]+\s+){1,3}?(?:out|over)|"
    r"compare notes|complet\w* (?:the|our|its) (?:process|search|review|selection|shortlisting|deliberations)|"
    r"(?:you'?ll|you will|you should) "
    r"(?:receive|hear|get)|offer letter|feedback|be shared|share|review|reviews|reply|confirm(?:ation)?|"
    r"(?:let|tell) you|back to you|in a position|allow|wrap(?:ping)? (?:\w+ )?up|"
    r"(?<!\ba )(?<!\bquick )look (?:at|over|through) (?:it|them|your|each|every|all)|"
    r"(?:process|screening|selection|shortlisting|recruitment)\b[^.;]{0,25}\b(?:takes?(?!\s+place)|"
    r"complete[d]?|finish(?:ed)?|done))\b", re.I)
CANDIDATE_DEADLINE = re.compile(
    r"\b(please(?!\s+(?:expect|allow|note|be aware|bear in mind)\b)|kindly|you have until|valid (?:until|for|through)|expire|deadline|you must|"
    r"you need to|we ask|must be (?:received|completed|returned)|submit|"
    r"complete (?:the|your|it)(?!\s+(?:process|search|review|selection|shortlisting|deliberations))|"
    r"accept (?:by|before)|sign (?:and return|by)|told you|i said|we said|mentioned|"
    r"if you(?!\s+(?:have not|haven'?t|do not|don'?t) hear)|if we (?:do not|don'?t) hear from you|"
    r"request(?:ed)? (?:you )?to|told (?:me|us)|send (?:me|us)\b|(?:to|please) confirm your|"
    r"^(?:just\s+)?(?:reply|respond|return|sign|submit)\b|"
    r"(?:appreciate|need|like|love|want)(?: to (?:have|receive|get|hear))? (?:your|an?) "
    r"(?:answer|reply|response|decision|confirmation|acceptance))", re.I)
HEARD_FROM_US = re.compile(r"\b(?:hear|heard) from (?:us|me)\b", re.I)

# --- time expressions -------------------------------------------------------------------------

# "within", "in", "take us", "it'll be", "another": words that lead a duration promise
_DURATION_LEAD = (r"(?:within|in|up to|over|inside|take[sn]?(?:\s+(?:us|me|them|him|her))?|taking|allow|be)\s+"
                  r"(?:about\s+|around\s+|approximately\s+|roughly\s+|up to\s+|another\s+)?(?:the\s+)?"
                  r"(?:next\s+)?(?:another\s+)?")
# "within 10 days of the closing date", "within a few days of receiving them": counted from something
_ANCHOR = r"(\s+(?:of|from|after)\s+(?!us\b|me\b|him\b|her\b|them\b|you\b)[\w-]+(?:\s+[\w-]+){0,3})?"

PATTERNS: list[tuple[str, re.Pattern]] = [(name, re.compile(rx, re.I)) for name, rx in [
    ("range_days", rf"\b(\d{{1,2}})\s*(?:-|–|—|to)\s*(\d{{1,2}})\s+(business|working|calendar)?\s*days?\b"),
    ("n_units", rf"\b{_DURATION_LEAD}"
                rf"({_NUM})(?:\s*(?:-|–|—|to|or)\s*({_NUM}))?\s+"
                r"(business |working |calendar )?(hours?|days?|weeks?|months?)"
                rf"(?:\s+or\s+({_NUM}))?\b{_ANCHOR}"),
    ("n_units_bare", rf"\b(?:next|coming)\s+({_NUM})\s+(business |working |calendar )?(days?|weeks?)\b"),
    ("fortnight", r"\b(?:within|in|over)\s+(?:a|the\s+next)\s+(?:couple of\s+)?fortnight\b"),
    ("within_hour", r"\b(?:within|in)\s+(?:the\s+next|the|the\s+coming)\s+hour\b"),
    ("few_days", r"\b(?:next|coming|in a|within a) (?:few|couple of) days\b"),
    ("week_of", rf"\b(?:the\s+)?week\s+(?:of|commencing|beginning|starting)\s+(?:(?:the\s+)?{_ORD}(?:\s+of)?\s+({_MONTH})|({_MONTH})\s+{_ORD})"),
    ("weekend", r"\b(?:this|the|next|on|over)\s+week[\s-]?end\b"),
    ("christmas", r"\b(before|by|for|until)\s+(?:the\s+)?(?:christmas|xmas)(?:\s+(?:break|holidays?))?\b"),
    ("following_week", r"\b(?:the\s+)?(following|subsequent)\s+week\b"),
    ("next_week", r"\b(early|mid|middle of|late|end of|the end of|beginning of|start of)?\s*"
                  r"(?:the\s+)?(?:next|the coming|the following)\s+week\b"),
    ("this_week", r"\b(?:(?:later|end of|the end of|by the end of)?\s*this\s+week|"
                  r"(?:later in|end of|the end of|by the end of)\s+the\s+week)\b"),
    ("month_part", rf"\b(early|mid|middle of|late|end of|the end of|beginning of|start of|in|by|"
                   rf"before|until|over)[\s-]+(?:the\s+)?(?:month\s+of\s+)?({_MONTH})(?!\s*\d)\b"),
    ("this_month", r"\b(?:end of|the end of|later|later in|late)\s+(?:this|the)\s+month\b"),
    ("next_month", r"\b(early|mid|middle of|late|end of|the end of|beginning of|start of|in)?\s*"
                   r"(?:the\s+)?next\s+month\b"),
    ("dmy", rf"\b{_ORD}(?:\s+of)?\s+({_MONTH})(?:,?\s+(\d{{4}}))?\b"),
    ("mdy", rf"\b({_MONTH})\s+{_ORD}(?:,?\s+(\d{{4}}))?\b"),
    ("numeric", r"\b(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))?\b"),
    ("weekday_day", rf"\b({_WD_FULL}),?\s+(?:the\s+)?{_ORD}\b(?!\s*(?:{_MONTH}|of|:|am|pm|h\b))"),
    ("weekday", rf"\b(next|this|coming|following)?\s*({_WD_FULL})\b"
                rf"(?!,?\s+(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}|,?\s+{_MONTH}\s+\d)"),
    ("day_ordinal", rf"\b(?:by|on|before)\s+the\s+(\d{{1,2}})(?:st|nd|rd|th)\b(?!\s*(?:of\s+)?{_MONTH})"),
    ("tomorrow", r"\btomorrow\b"),
    ("today", r"\b(?:today|tonight|end of (?:the )?day|eod|cob|close of business)\b"),
]]


# The words each time pattern above needs, as groups: the pattern can only match a sentence that
# holds a word of every group (in lower case). ``in`` on the lowered sentence is far cheaper than
# the pattern's scan, and most sentences name no time at all. Only used on ASCII text, where re.I
# matching is plain lower-casing. No word holds a space, so the test also holds for a whole text
# (sentences only change its whitespace). A new pattern needs an entry (KeyError at import).
_MONTH_STEMS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAY_NAMES = tuple(WEEKDAYS)
_DIGITS = tuple("0123456789")
PATTERN_WORDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "range_days": (_DIGITS, ("day",)),
    "n_units": (("hour", "day", "week", "month"),),  # the count may be a word ("two")
    "n_units_bare": (("next", "coming"), ("day", "week")),
    "fortnight": (("fortnight",),),
    "within_hour": (("hour",),),
    "few_days": (("few", "couple"), ("days",)),
    "week_of": (("week",), _MONTH_STEMS, _DIGITS),
    "weekend": (("week",), ("end",)),
    "christmas": (("christmas", "xmas"),),
    "following_week": (("following", "subsequent"), ("week",)),
    "next_week": (("next", "coming", "following"), ("week",)),
    "this_week": (("this", "the"), ("week",)),
    "month_part": (_MONTH_STEMS,),
    "this_month": (("this", "the"), ("month",)),
    "next_month": (("next",), ("month",)),
    "dmy": (_DIGITS, _MONTH_STEMS),
    "mdy": (_MONTH_STEMS, _DIGITS),
    "numeric": (_DIGITS, ("/", ".")),
    "weekday_day": (_WEEKDAY_NAMES, _DIGITS),
    "weekday": (_WEEKDAY_NAMES,),
    "day_ordinal": (("the",), _DIGITS),
    "tomorrow": (("tomorrow",),),
    "today": (("day", "tonight", "eod", "cob", "close"),),  # "today", "end of day" hold "day"
}
_ALL_PATTERN_WORDS = tuple(dict.fromkeys(w for groups in PATTERN_WORDS.values() for group in groups for w in group))
_GATED_PATTERNS = [(name, rx, tuple(frozenset(group) for group in PATTERN_WORDS[name])) for name, rx in PATTERNS]


def _words_present(text: str, words: tuple[str, ...] = _ALL_PATTERN_WORDS) -> frozenset[str] | None:
    """Which of ``words`` the text holds in lower case; None when it is not ASCII (no gating)."""
    if not text.isascii():
        return None
    low = text.lower()
    return frozenset(word for word in words if word in low)


def _possible_patterns(present: frozenset[str] | None) -> list[tuple[str, re.Pattern]]:
    """The PATTERNS (in their order) that can match a text holding the words ``present``."""
    if present is None:
        return PATTERNS
    return _patterns_for(present) if present else []


WORD_SET_CACHE = 1024  # distinct sets of pattern words seen; few, as most sentences hold one or two


@lru_cache(maxsize=WORD_SET_CACHE)
def _patterns_for(present: frozenset[str]) -> list[tuple[str, re.Pattern]]:
    """The PATTERNS whose every word group meets ``present`` (cached: the same sets recur)."""
    return [(name, rx) for name, rx, groups in _GATED_PATTERNS
            if all(not present.isdisjoint(group) for group in groups)]


def _working_days_after(start: date, n: int) -> date:
    day = start
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def _week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _last_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _month_number(word: str) -> int | None:
    return MONTHS.get(word.lower().rstrip("."))


def _number(word: str) -> int | None:
    word = word.lower().strip()
    if word.isdigit():
        return int(word)
    return NUMBER_WORDS.get(word)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_day(base: date, month: int, day: int, year: str | None) -> date | None:
    """A month-day without a year: this year, or next year when it has clearly passed."""
    if year:
        y = int(year)
        return _safe_date(y + 2000 if y < 100 else y, month, day)
    found = _safe_date(base.year, month, day)
    if found and (base - found).days > YEAR_ROLLOVER_DAYS:
        found = _safe_date(base.year + 1, month, day)
    return found


def _explicit_date(phrase: str, base: date, *, has_year: bool) -> date | None:
    """An explicit calendar date the grammar found ("14 November", "Nov 14th, 2026"), read by
    dateparser with English only and the email's day as RELATIVE_BASE (see DESIGN's parsing
    notes: its first call without languages=['en'] takes seconds). Without a year, a day
    more than YEAR_ROLLOVER_DAYS behind the email's means next year ("by 10 January" written
    in December)."""
    import dateparser  # imported on first use: most mail names no explicit date

    settings = {"RELATIVE_BASE": datetime(base.year, base.month, base.day),
                "REQUIRE_PARTS": ["day", "month"], "RETURN_AS_TIMEZONE_AWARE": False}
    try:
        found = dateparser.parse(phrase, languages=["en"], settings=settings)
    except (ValueError, OverflowError):
        return None
    if found is None:
        return None
    day = found.date()
    if not has_year and (base - day).days > YEAR_ROLLOVER_DAYS:
        day = _safe_date(day.year + 1, day.month, day.day)
    return day


def _month_part(base: date, month: int, part: str) -> date:
    year = base.year if month >= base.month or (base.month - month) <= 1 else base.year + 1
    if part in ("early", "beginning of", "start of"):
        return date(year, month, EARLY_DAY)
    if part in ("mid", "middle of"):
        return date(year, month, MID_DAY)
    return _last_of_month(year, month)


def _next_weekday(base: date, weekday: int, qualifier: str | None) -> date:
    qualifier = (qualifier or "").lower()
    if qualifier == "next" or qualifier == "following":
        return _week_monday(base) + timedelta(days=7 + weekday)
    if qualifier == "this":
        this = _week_monday(base) + timedelta(days=weekday)
        return this if this >= base else this + timedelta(days=7)
    ahead = (weekday - base.weekday()) % 7 or 7
    return base + timedelta(days=ahead)


def _resolve(name: str, m: re.Match, base: date, sentence: str, anchor: date | None) -> date | None:
    g = m.groups()
    if name == "range_days":
        upper = max(int(g[0]), int(g[1]))
        if (g[2] or "").lower() in ("business", "working"):
            return _working_days_after(base, upper)
        return base + timedelta(days=upper)
    if name in ("n_units", "n_units_bare"):
        counted_from = None
        if name == "n_units":  # "four to six weeks", "a week or two": the upper bound
            upper = g[1] or g[4]
            counted_from = g[5]
            g = (upper or g[0], g[2], g[3])
        if g[0].lower().strip().endswith("few") and not g[2].lower().startswith("day"):
            return None  # "in a few weeks" is vague timing, not a day
        n = _number(g[0])
        if n is None:
            return None
        kind, unit = (g[1] or "").strip().lower(), g[2].lower()
        if g[0].lower().strip().endswith("few"):
            kind = "working"  # "in a few days": FEW_WORKING_DAYS
        start = base
        if counted_from:  # "within 30 days of the closing date", "of receiving them"
            if anchor is None:
                return None
            start = anchor
        if unit.startswith("hour"):
            return start + timedelta(days=-(-n // 24) if n >= HOURS_PER_DAY else 0)
        if unit.startswith("week"):
            return start + timedelta(weeks=n)
        if unit.startswith("month"):
            month = start.month - 1 + n
            year = start.year + month // 12
            month = month % 12 + 1
            return _safe_date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
        if kind in ("business", "working"):
            return _working_days_after(start, n)
        return start + timedelta(days=n)
    if name == "within_hour":
        return base
    if name == "weekend":
        sunday = _week_monday(base) + timedelta(days=6)
        return sunday + timedelta(days=7) if m.group(0).lower().startswith("next") else sunday
    if name == "christmas":
        christmas = date(base.year, 12, 25)
        return christmas - timedelta(days=1) if g[0].lower() in ("before", "until") else christmas
    if name == "fortnight":
        return base + timedelta(days=14)
    if name == "few_days":
        words = m.group(0).lower()
        return _working_days_after(base, COUPLE_WORKING_DAYS if "couple" in words else FEW_WORKING_DAYS)
    if name == "week_of":
        if g[0]:
            day, month = int(g[0]), _month_number(g[1])
        else:
            month, day = _month_number(g[2]), int(g[3])
        start = _month_day(base, month, day, None) if month else None
        return _week_monday(start) + timedelta(days=4) if start else None
    if name == "following_week":
        start = anchor if anchor and anchor >= base else base
        return _week_monday(start) + timedelta(days=7 + 4)
    if name == "next_week":
        part = (g[0] or "").lower()
        offset = 2 if part in ("early", "mid", "middle of", "beginning of", "start of") else 4
        return _week_monday(base) + timedelta(days=7 + offset)
    if name == "this_week":
        friday = _week_monday(base) + timedelta(days=4)
        return friday if friday >= base else friday + timedelta(days=7)
    if name == "month_part":
        month = _month_number(g[1])
        if month is None:
            return None
        part = g[0].lower()
        if part in ("in", "by", "before", "until", "over"):
            if g[1].lower() == "may" and not g[1][0].isupper():
                return None  # the verb "may"
            if month == base.month and part != "in":
                return None  # "by March" written in March is ambiguous
            part = "late"
        return _month_part(base, month, part)
    if name == "this_month":
        return _last_of_month(base.year, base.month)
    if name == "next_month":
        year, month = (base.year + 1, 1) if base.month == 12 else (base.year, base.month + 1)
        part = (g[0] or "").lower()
        if part in ("early", "beginning of", "start of"):
            return date(year, month, EARLY_DAY)
        if part in ("mid", "middle of"):
            return date(year, month, MID_DAY)
        return _last_of_month(year, month)
    if name in ("dmy", "mdy"):
        month_word, year = (g[1] if name == "dmy" else g[0]), g[2]
        if month_word.lower() == "may" and not month_word[0].isupper():
            return None  # the verb "may"
        return _explicit_date(m.group(0), base, has_year=bool(year))
    if name == "numeric":
        a, b, year = int(g[0]), int(g[1]), g[2]
        readings = [d for d in (_month_day(base, a, b, year) if a <= 12 else None,
                                _month_day(base, b, a, year) if b <= 12 else None) if d and d >= base]
        return min(readings) if readings else None
    if name == "weekday_day":
        weekday, day = WEEKDAYS[g[0].lower()], int(g[1])
        for months_ahead in range(0, 3):
            month = (base.month - 1 + months_ahead) % 12 + 1
            year = base.year + (base.month - 1 + months_ahead) // 12
            found = _safe_date(year, month, day)
            if found and found >= base and found.weekday() == weekday:
                return found
        return None
    if name == "weekday":
        return _next_weekday(base, WEEKDAYS[g[1].lower()], g[0])
    if name == "day_ordinal":  # "by the 15th": the next such day of the month, this month or next
        day = int(g[0])
        for months_ahead in range(0, 2):
            month = (base.month - 1 + months_ahead) % 12 + 1
            year = base.year + (base.month - 1 + months_ahead) // 12
            found = _safe_date(year, month, day)
            if found and found >= base:
                return found
        return None
    if name == "tomorrow":
        return base + timedelta(days=1)
    if name == "today":
        return base
    return None


# "When: Thursday 9 October", "Interview date: ...": a form field on its own line, never a promise
FIELD_LABEL = r"[A-Z][A-Za-z()/ -]{0,24}:[ \t]"
EVENT_FIELD = re.compile(r"^(?:(?:interview|start|event|session|test|exam|assessment|meeting|call|proposed)\s+)?"
                         r"(?:when|dates?|times?|days?|where|round|mode|venue|location)\s*:", re.I)


_LINE_EDGES = re.compile(r"[ \t]*\n[ \t]*(?=\S)")
_BLOCK_BREAK = re.compile(r"\n\s*\n|\n(?=[-•*] )|\n(?=" + FIELD_LABEL + ")")
_LINE_BREAK = re.compile(r"\s*\n\s*")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])|[,;]\s+(?=please\b)")


def _sentences(text: str) -> list[str]:
    text = _LINE_EDGES.sub("\n", text[:MAX_TEXT_CHARS])
    out: list[str] = []
    for block in _BLOCK_BREAK.split(text):
        if "\n" in block:  # else nothing to join (most blocks are one line)
            block = _LINE_BREAK.sub(" ", block)
        out.extend(s.strip() for s in _SENTENCE_BREAK.split(block) if s.strip())
    return out


def _closing_anchor(sentences: list[str], base: date) -> date | None:
    """The closing date a 'within N days of the closing date' promise counts from."""
    for sentence in sentences:
        relative = re.search(r"\bclos(?:es|ing|e)\b(?:\s+date)?,?\s+(?:which\s+)?(?:is\s+|will be\s+)?"
                             r"(today|tomorrow)\b", sentence, re.I)
        if relative:  # "the closing date, which is today"
            return base + timedelta(days=relative.group(1).lower() == "tomorrow")
        if re.search(r"\bclos(?:es|ing|e)\b", sentence, re.I):
            for name in ("dmy", "mdy"):
                for m in dict(PATTERNS)[name].finditer(sentence):
                    found = _resolve(name, m, base, sentence, None)
                    if found:
                        return found
    return None


def _explicit_anchor(sentence: str, before: int, base: date) -> date | None:
    for name in ("dmy", "mdy", "weekday_day"):
        for m in dict(PATTERNS)[name].finditer(sentence[:before]):
            found = _resolve(name, m, base, sentence, None)
            if found:
                return found
    return None


def _counted_from(words: str, sentences: list[str], base: date) -> date | None:
    """The day an "N days of/from/after ..." promise counts from: a closing date the mail names,
    or the email's own day ("of today", "from the date of this letter"); None when it counts from
    something undated ("of receiving them", "after the final interview")."""
    words = words.lower()
    if re.search(r"\bclos", words):
        return _closing_anchor(sentences, base)
    if re.search(r"\b(?:today|now|this (?:e-?mail|letter|message|notice)|the date of this)\b", words):
        return base
    return None


EXPLICIT = frozenset({"dmy", "mdy", "numeric", "weekday_day", "week_of"})
# "the posting closes on 30 November", "closing date: 4 May": the anchor, not the reply day
CLOSING_BEFORE = re.compile(r"\b(?:clos(?:es|ed|ing|e)|deadline)(?:\s+date)?(?:\s+(?:is|was|on|of|will be|has been|"
                            r"been|now|extended|moved|changed|pushed|put|back|to|until))*"
                            rf"[\s:,]*(?:the\s+)?(?:{_WD_FULL},?\s+)?$", re.I)
# "a date in the week of 30 November", "a start date of 21 September", "your interview on
# Tuesday": the day of an event, not of the reply
EVENT_BEFORE = re.compile(
    r"(?:\b(?:a|an|the|your|our|this|that|next|final|first|second|follow-up)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:date|time|slot|interview|meeting|session|visit|call|chat|round|onsite|start|day)s?\s+"
    r"(?:in|on|for|during|of|at|is|with\s+(?:you|us|me|[\w-]+(?:\s+[\w-]+)?))\b\s*(?:the\s+)?|"
    r"\b(?:received|submitted|held|dated|applied|posted|took place|was|were)\s+(?:on|at)\s+(?:the\s+)?|"
    r"\b(?:on|have|for|grab|set up)\s+a\s+(?:quick\s+|short\s+)?(?:call|chat|meeting|coffee)\s+)$", re.I)
# "after 20 January", "until after the bank holiday on 6 April": the day before which nothing happens
AFTER_BEFORE = re.compile(r"\b(?:after|following)\b(?:\s+[\w'-]+){0,4}\s+$", re.I)
# "from 1 July to 29 August", "between 2 and 5 September", "(18-20 August)": a period or a detail
PERIOD_BEFORE = re.compile(r"(?:\b(?:from|between)\s+[^,.;()]{2,30}?\s+(?:to|and|until|till|through|-|–)\s+|"
                           r"\b(?:from|between)\s+|\(\s*)$", re.I)
CONTEXT_CHARS = 60  # how far back the two patterns above look


# "... this week, he'll ring you", "... tomorrow and let you know": where one clause ends
CLAUSE_BREAK = re.compile(r";|:\s|\s+[-–—]\s+|"
                          r",?\s+(?:and|but|so)\s+(?=(?:he|she|they|we|i|you|it|will|would|should|can|"
                          r"could|may|might|let|get|hope|expect|aim|plan)(?:'\w+)?\b)|"
                          r",\s+(?=(?:he|she|they|we|i)(?:'\w+)?\s)", re.I)
REFERS_BACK = re.compile(r"\b(?:by|on|at|before) (?:that (?:date|day|time|point)|then)\b", re.I)  # "... by that date"
# "to set up time with the team next week", "candidates to meet over the next two weeks": an
# activity's time, not the reply's
ACTIVITY = re.compile(r"\b(?:interview(?:s|ing)?|meet(?:s|ing)?|to see|seeing|rounds?|set(?:ting)? up|"
                      r"(?:to|be)\s+(?:schedul|arrang|book)\w*|(?:schedul|arrang|book)ing)\b", re.I)
COMPLETES = re.compile(r"wrap|finish|complet", re.I)  # "wrap up interviews by Friday": the activity ends then
STARTS = re.compile(r"\b(?:start|begin|commenc)\w*\s+(?:to\s+)?$", re.I)  # "we'll start reviewing next week"


def _clause_promises_it(sentence: str, start: int, end: int) -> bool:
    """The time at sentence[start:end] is the promise's own: its clause promises a reply, the
    promise is not one that only starts then, and no activity (an interview, a meeting to set up)
    stands between the promise and the time."""
    begin = max((b.end() for b in CLAUSE_BREAK.finditer(sentence, 0, start)), default=0)
    stop = next((b.start() for b in CLAUSE_BREAK.finditer(sentence, end)), len(sentence))
    clause = sentence[begin:stop]
    if not (PROMISE.search(clause) or CONTINUES.match(clause.strip()) or CONTINUES.match(sentence)
            or REFERS_BACK.search(sentence, stop)):
        return False
    cues = list(PROMISE.finditer(sentence, begin, start))
    if cues and STARTS.search(sentence[begin:cues[-1].start()]):
        return False
    if cues and COMPLETES.match(cues[-1].group(0)):
        return True
    return not ACTIVITY.search(sentence, cues[-1].end() if cues else begin, start)


def _names_no_reply_day(name: str, sentence: str, start: int) -> bool:
    """A closing date or an event's day mentioned beside a promise is not the promised day."""
    before = sentence[max(0, start - CONTEXT_CHARS):start]
    if name in EXPLICIT and (CLOSING_BEFORE.search(before) or PERIOD_BEFORE.search(before)):
        return True
    if AFTER_BEFORE.search(before) and not re.search(r"\b(?:by|before|within|until|till)\b",
                                                      before[AFTER_BEFORE.search(before).start():], re.I):
        return True
    return bool(EVENT_BEFORE.search(before))


# "That may take another two weeks.", "It should be early next week.": timing for the promise just made
CONTINUES = re.compile(r"^(?:that|this|it|which)(?:'ll|'s|\s+will|\s+should|\s+may|\s+might|\s+could|\s+would)?"
                       r"(?:\s+\w+ly)?\s+(?:take|be)\s+(?:another|about|around|up to|a|an|\d+|one|two|three|four|"
                       r"five|six|few|couple|early|late|mid|next|this|by|within|in)\b|"
                       r"^(?:hopefully|probably|likely|ideally|with luck|fingers crossed)[,!]?\s+"
                       r"(?:by\s+|within\s+|in\s+|on\s+|at\s+)?(?:the\s+)?(?:early|late|mid|next|this|end|"
                       r"tomorrow|today|monday|tuesday|wednesday|thursday|friday)\b", re.I)


APPROXIMABLE = frozenset({"n_units", "n_units_bare", "fortnight", "next_week"})
VAGUE_AFTER = re.compile(r"\s+or\s+so\b|\s+or\s+more\b", re.I)  # "within a week or so": approximate


def _promising_sentences(text: str) -> tuple[tuple[str, ...], tuple[tuple[str, list], ...]]:
    """The text's sentences, and each sentence that promises a reply and may name a time, with
    the PATTERNS that can match it (none of this depends on the email's Date); promised_dates reads
    the days from it."""
    text_words = _words_present(text)
    if not _possible_patterns(text_words):
        return (), ()  # the mail names no time at all; skip splitting it into sentences
    # a sentence holds only words its text holds: look for those alone
    sentence_words = tuple(text_words) if text_words is not None else _ALL_PATTERN_WORDS
    sentences = _sentences(text)
    out = []
    promised = False  # did the sentence before promise a reply? ("... before we decide. That may take ...")
    for index, sentence in enumerate(sentences):
        follows_promise, promised = promised, False
        if len(sentence) > MAX_SENTENCE_CHARS or sentence.rstrip().endswith("?") or EVENT_FIELD.match(sentence):
            continue
        patterns = _possible_patterns(_words_present(sentence, sentence_words))
        if not patterns and not (index + 1 < len(sentences) and CONTINUES.match(sentences[index + 1])):
            continue  # no time named here, and the next sentence does not lean on this one's promise
        if not PROMISE.search(sentence):
            if not (follows_promise and CONTINUES.match(sentence)):
                continue
        if CANDIDATE_DEADLINE.search(sentence) and not HEARD_FROM_US.search(sentence):
            continue
        promised = True
        if patterns:
            out.append((sentence, patterns))
    return tuple(sentences), tuple(out)


def promised_dates(text: str, sent: datetime) -> list[date]:
    """Every reply-by day promised in ``text``, in order of appearance."""
    base = sent.date()  # the sender's own calendar day: an aware Date keeps its zone
    sentences, promising = _promising_sentences(text[:MAX_TEXT_CHARS])  # all it reads
    found: list[date] = []
    for sentence, patterns in promising:
        taken: list[tuple[int, int]] = []
        for name, pattern in patterns:
            for m in pattern.finditer(sentence):
                if any(m.start() < e and s < m.end() for s, e in taken):
                    continue
                anchor = None
                if _names_no_reply_day(name, sentence, m.start()) or \
                        not _clause_promises_it(sentence, m.start(), m.end()):
                    taken.append((m.start(), m.end()))  # its words are no other promise either
                    continue
                if name in APPROXIMABLE and VAGUE_AFTER.match(sentence, m.end()):
                    taken.append((m.start(), m.end()))  # "a week or so": no day
                    continue
                if name == "n_units" and m.group(6):
                    anchor = _counted_from(m.group(6), sentences, base)
                elif name == "following_week":
                    anchor = _explicit_anchor(sentence, m.start(), base)
                day = _resolve(name, m, base, sentence, anchor)
                if day is None:
                    if name == "n_units" and m.group(6):
                        taken.append((m.start(), m.end()))  # counted from an undated event: no day at all
                    continue
                taken.append((m.start(), m.end()))
                if base <= day <= base + timedelta(days=MAX_HORIZON_DAYS):
                    found.append(day)
    return found


def expected_by(text: str, sent: datetime | None) -> date | None:
    """The latest day the employer's promise to reply allows, or None.

    >>> from datetime import timezone
    >>> expected_by("We'll get back to you by Friday.", datetime(2025, 3, 4, 10, tzinfo=timezone.utc))
    datetime.date(2025, 3, 7)
    """
    if not text or sent is None:
        return None
    days = promised_dates(text, sent)
    return max(days) if days else None


__all__ = ["expected_by", "promised_dates"]
