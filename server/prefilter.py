"""Pure: from a message's headers alone, is it worth fetching its text to read it?

The sync fetches headers for every message and bodies only for candidates, so this filter
decides what the classifier ever sees. Missing an employer's mail is much worse than
fetching a newsletter, so the rules lean to "yes": a message is skipped only when it is
clearly bulk or automated AND nothing in its sender or subject looks like hiring. Recall
on the corpus's employer mail is measured by tests/test_sync.py and bench/sync.py.

    >>> info = HeaderInfo(from_name="Acme Careers", from_addr="no-reply@greenhouse.io",
    ...                   subject="Your application")
    >>> is_candidate(info)
    True
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

# Relays employers write through; their mail is always read (DESIGN: ATS-aware).
ATS_DOMAINS = (
    "greenhouse.io", "greenhouse-mail.io", "lever.co", "myworkday.com", "myworkdayjobs.com",
    "workday.com", "icims.com", "smartrecruiters.com", "ashbyhq.com", "workablemail.com",
    "workable.com", "jobvite.com", "bamboohr.com", "taleo.net", "successfactors.com",
    "successfactors.eu", "sapsf.com", "recruitee.com", "teamtailor.com", "teamtailor-mail.com",
    "personio.de", "personio.com", "breezy.hr", "jazzhr.com", "applytojob.com", "pinpointhq.com",
    "comeet.co", "recruiterbox.com", "hire.lever.co", "oraclecloud.com", "avature.net",
    "phenompeople.com", "eightfold.ai", "gem.com", "paradox.ai", "rippling.com", "dover.com",
)

# Job boards and social networks: their mail is mostly alerts, read only when it is about
# an application the user made ("your application was sent to ...").
JOB_BOARD_DOMAINS = (
    "linkedin.com", "indeed.com", "indeedemail.com", "glassdoor.com", "ziprecruiter.com",
    "monster.com", "dice.com", "seek.com.au", "reed.co.uk", "totaljobs.com", "wellfound.com",
    "otta.com", "hired.com", "simplyhired.com", "careerbuilder.com", "naukri.com", "stepstone.de",
    "jobs.ch", "angel.co", "handshake.com", "joinhandshake.com", "welcometothejungle.com",
    "meetup.com", "eventbrite.com",
)

FREEMAIL_DOMAINS = frozenset((
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "ymail.com", "hotmail.com",
    "hotmail.co.uk", "outlook.com", "live.com", "msn.com", "aol.com", "icloud.com", "me.com",
    "mac.com", "proton.me", "protonmail.com", "pm.me", "gmx.com", "gmx.net", "gmx.de",
    "mail.com", "zoho.com", "yandex.com", "yandex.ru", "fastmail.com", "web.de", "qq.com",
))

# Subjects about one's own application. Broad on purpose: they only rescue mail that the
# bulk/automated rules would otherwise skip.
HIRING_WORDS = re.compile(
    r"\b(appl(?:y|ied|ying|icant|ication)s?|interview\w*|offer(?: letter)?|position|role|"
    r"candida\w+|recruit\w*|hiring|hire[ds]?|jobs?|career\w*|vacanc\w+|opening|opportunit\w+|"
    r"assessment|shortlist\w*|referees?|references?|next steps?|on-?site|screen(?:ing)?|"
    r"talent|requisition|r[ée]sum[ée]|cv|employment|internship|graduate|trainee|start date|"
    r"outcome|feedback|submission|take-?home|exercise|final round|panel|availability|"
    r"schedul\w+|status|decision|appointment of|contract|onboarding|background check|"
    r"selection|placement|headhunt\w*|staffing|people team|hr)\b",
    re.IGNORECASE)

# Phrases that mark alerts and marketing even when a hiring word is present.
ALERT_WORDS = re.compile(
    r"\b(job alerts?|jobs? (?:you may|for you|near you|matching)|new jobs?|recommended jobs?|"
    r"jobs? recommendations?|webinar|workshop|newsletter|digest|% off|sale|discount|"
    r"is hiring|are hiring|hiring now|people also viewed|who viewed your profile|"
    r"salary report|weekly roundup|masterclass|course)\b",
    re.IGNORECASE)

# Application-specific phrases that keep job-board and alert-looking mail anyway.
OWN_APPLICATION = re.compile(
    r"\b(your application|application (?:to|for|was|has|received|status|update)|"
    r"applied (?:to|for)|interview (?:invitation|request|with)|invitation to interview|"
    r"offer (?:of|from|letter)|your offer|next steps|thank(?:s| you) for applying)\b",
    re.IGNORECASE)

# Local parts of automated senders (receipts, alerts, newsletters).
AUTOMATED_LOCAL = re.compile(
    r"^(no-?reply|do-?not-?reply|donotreply|notifications?|notify|alerts?|news(?:letter)?s?|"
    r"digest|deals|offers|promo(?:tions?)?|marketing|billing|receipts?|orders?|invoices?|"
    r"reminders?|updates?|info|hello|team|support|events|mailer(?:-daemon)?|bounce\w*|"
    r"store|shop|account(?:s)?|security|service)([+._-].*)?$",
    re.IGNORECASE)

# Local parts that say "the hiring side" even on an unknown domain.
HIRING_LOCAL = re.compile(
    r"(career|jobs?|recruit|talent|hr\b|^hr|people|hiring|resourcing|staffing|vacanc|"
    r"applicant|candidate|graduate|examresult)", re.IGNORECASE)

BULK_PRECEDENCE = ("bulk", "list", "junk")

# reason() for a message whose headers neither keep nor drop it: fetch a prefix of its text.
NEEDS_TEXT = "needs-text"
# Bytes of the first text part read to decide a NEEDS_TEXT message: a recruiter says what
# the mail is about in its first lines, and a quoted reply from an employer starts early too.
TEXT_PREFIX_BYTES = 2048

# "Re:" from a person's address: an answer to something the user wrote (even from another
# account, or before the sync window), so it is read whole like any direct mail.
REPLY_SUBJECT = re.compile(r"^\s*(re|aw|sv|antw|r)\s*(\[\d+\])?\s*:", re.IGNORECASE)

# Words in a text's first lines that make a personal-address message worth reading. Narrower
# than HIRING_WORDS (no "schedule", "status", "feedback": friends write those too).
BODY_HIRING_WORDS = re.compile(
    r"\b(appl(?:y|ied|ying|icants?|ications?)|interview\w*|offer(?:s|ed|ing)?|positions?|roles?|"
    r"candida\w+|recruit\w*|hiring|hired?|jobs?|careers?|vacanc\w+|openings?|opportunit\w+|"
    r"assessments?|shortlist\w*|referees?|r[ée]sum[ée]s?|cv|employ\w*|intern(?:ship)?s?|"
    r"talent|requisition|salary|compensation|start date|notice period|onboarding|"
    r"background check|headhunt\w*|staffing|placement|contract(?:or)?|freelance|"
    r"next steps?|team lead|manager|engineer\w*|analyst|designer|developer|"
    r"(?:first|second|final|next) round|rounds? of|shifts?|trial (?:day|shift|period)|"
    r"(?:speaking|talking|chatting) (?:with )?you|(?:loved|enjoyed|great|nice|lovely|good) "
    r"(?:meeting|speaking|talking|chatting)|your time|coming in|filled|take-?home|next stage|"
    r"(?:your|our) conversation)\b",
    re.IGNORECASE)


@dataclass(slots=True)
class HeaderInfo:
    """The header fields the prefilter reads (decoded; addresses lowercased). Not frozen: a
    header pass makes one for every message, and a frozen dataclass takes four times as long
    to build (2.1 vs 0.5 us); nothing changes one after header_info made it."""

    from_name: str = ""
    from_addr: str = ""
    to: tuple[str, ...] = ()
    subject: str = ""
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    list_id: str = ""
    list_unsubscribe: str = ""
    precedence: str = ""
    auto_submitted: str = ""
    extra: dict = field(default_factory=dict, compare=False)


def _domain(addr: str) -> str:
    return addr.rsplit("@", 1)[-1].lower() if "@" in addr else ""


_SUFFIX_SETS: dict[int, frozenset] = {}


def _under(domain: str, suffixes) -> bool:
    """domain is one of suffixes or a subdomain of one (a set lookup per label, not a scan)."""
    known = _SUFFIX_SETS.get(id(suffixes))
    if known is None:
        known = _SUFFIX_SETS[id(suffixes)] = frozenset(suffixes)
    labels = domain.split(".")
    return any(".".join(labels[i:]) in known for i in range(len(labels)))


def is_ats_domain(addr: str) -> bool:
    return _under(_domain(addr), ATS_DOMAINS)


def is_freemail(addr: str) -> bool:
    return _domain(addr) in FREEMAIL_DOMAINS


def is_bulk(info: HeaderInfo) -> bool:
    """Mailing-list or bulk mail by its headers (List-Id, List-Unsubscribe, Precedence)."""
    return bool(info.list_id.strip() or info.list_unsubscribe.strip()
                or info.precedence.strip().lower() in BULK_PRECEDENCE)


def is_automated(info: HeaderInfo) -> bool:
    """Sent by a machine: Auto-Submitted (not "no"), or a noreply/news/billing-like sender."""
    auto = info.auto_submitted.strip().lower()
    local = info.from_addr.split("@", 1)[0]
    return (bool(auto) and auto != "no") or bool(AUTOMATED_LOCAL.match(local))


def reason(info: HeaderInfo, *, user_addresses=frozenset(), known_ids=frozenset()) -> str | None:
    """Why the message is a candidate (a short tag), or None when its body can be skipped.

    `user_addresses`: the user's own addresses (their mail is always kept: it joins threads).
    `known_ids`: Message-IDs already kept (own mail, earlier candidates); a reply in such a
    thread is kept whatever it says. A callable `known_ids(mid) -> bool` also works.
    """
    sender = info.from_addr.lower()
    if sender and sender in user_addresses:
        return "own"
    check = known_ids if callable(known_ids) else known_ids.__contains__
    if info.in_reply_to and check(info.in_reply_to) or any(mid and check(mid) for mid in info.references):
        return "thread"
    ats, board, freemail, automated_local, hiring_local = _sender_facts(sender)
    if ats:
        return "ats"
    # The subject regexes are evaluated only when the answer depends on them (same result as
    # evaluating all of them first: a header pass runs this for every message), on the subject
    # lowercased once (several times faster than re.IGNORECASE, with the same matches).
    subject = (info.subject or "").lower()
    if board or _ALERT.search(subject):
        return "application-notice" if _OWN.search(subject) else None
    hiring_sender = hiring_local or _hiring_name(info.from_name or "")
    if is_bulk(info):
        if _OWN.search(subject) or (hiring_sender and _HIRING.search(subject)):
            return "bulk-but-hiring"
        return None
    # Only a broad word ("schedule", "status", "feedback") in the subject: the text decides.
    auto = info.auto_submitted.strip().lower()
    if ((bool(auto) and auto != "no") or automated_local) and not freemail:
        if hiring_sender or _OWN.search(subject) or _BODY_HIRING.search(subject):
            return "automated-hiring"
        return NEEDS_TEXT if _HIRING.search(subject) else None
    if freemail and not (hiring_sender or REPLY_SUBJECT.match(subject) or _OWN.search(subject)
                         or _BODY_HIRING.search(subject)):
        # A person's own mailbox with nothing about hiring in the headers: mostly friends and
        # family, sometimes a recruiter. The first lines of the text decide (text_says_hiring).
        return NEEDS_TEXT
    # Written by a person (or a company's own address) to the user: read it.
    return "direct"


def _lowercase(rx: re.Pattern) -> re.Pattern:
    """rx without re.IGNORECASE, for text lowercased first (its pattern has no capital letter)."""
    if any(ch.isupper() for ch in rx.pattern):
        raise ValueError(f"not a lowercase pattern: {rx.pattern[:40]}")
    return re.compile(rx.pattern, rx.flags & ~re.IGNORECASE)


_ALERT, _OWN, _HIRING, _BODY_HIRING = map(_lowercase, (ALERT_WORDS, OWN_APPLICATION, HIRING_WORDS,
                                                      BODY_HIRING_WORDS))


SENDER_CACHE = 8_192  # distinct senders remembered: a mailbox's bulk mail comes from few of them


@functools.lru_cache(maxsize=SENDER_CACHE)
def _sender_facts(sender: str) -> tuple[bool, bool, bool, bool, bool]:
    """(ATS relay, job board, freemail, automated local part, hiring local part) of an address."""
    domain, local = _domain(sender), sender.split("@", 1)[0]
    return (_under(domain, ATS_DOMAINS), _under(domain, JOB_BOARD_DOMAINS), domain in FREEMAIL_DOMAINS,
            bool(AUTOMATED_LOCAL.match(local)), bool(HIRING_LOCAL.search(local)))


@functools.lru_cache(maxsize=SENDER_CACHE)
def _hiring_name(from_name: str) -> bool:
    return bool(HIRING_WORDS.search(from_name))


def text_says_hiring(text: str) -> bool:
    """The second stage for NEEDS_TEXT messages: does the start of the text talk about hiring?

    >>> text_says_hiring("Hi Sam, I'm recruiting for a data role at a startup")
    True
    >>> text_says_hiring("dinner at ours on Saturday? bring the photos")
    False
    """
    if not text:
        return False
    low = text.lower()
    words = (_ASCII_WORD if low.isascii() else _WORD).findall(low)
    # The prefixes are looked for as plain substrings first: far cheaper than the regex, which
    # runs only when one of them is there (most mail names none).
    if not _BODY_SINGLE.isdisjoint(words) or (any(p in low for p in _BODY_PREFIXES)
                                              and _BODY_PREFIX.search(low)):
        return True
    if _PAIR_FIRST.isdisjoint(words):
        return False
    if not _WORD_PAIRS.isdisjoint(zip(words, words[1:])):
        return True
    return "with" in words and not _WORD_TRIPLES.isdisjoint(zip(words, words[1:], words[2:]))


_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)?")
_ASCII_WORD = re.compile(r"[a-z]+(?:-[a-z]+)?")  # the same words in lowercased ASCII text, twice as fast
# BODY_HIRING_WORDS as one-word, prefix and two-word sets (tests check they agree on the
# corpus): a set lookup per word is several times faster than the alternation regex.
_BODY_SINGLE = frozenset(
    "apply applied applying offer offers offered offering position positions role roles hiring "
    "hire hired job jobs career careers opening openings cv talent requisition salary "
    "compensation onboarding staffing placement contract contractor freelance manager analyst "
    "designer developer shift shifts filled take-home takehome intern interns internship "
    "internships referee referees resume resumes résumé résumés".split())
_BODY_PREFIXES = ("applicant", "application", "interview", "candida", "recruit", "vacanc",
                  "opportunit", "assessment", "shortlist", "employ", "headhunt", "engineer")
_BODY_PREFIX = re.compile(r"\b(?:" + "|".join(_BODY_PREFIXES) + ")")
_BODY_PAIRS = frozenset((
    "start date", "notice period", "background check", "next step", "next steps", "team lead",
    "first round", "second round", "final round", "next round", "round of", "rounds of",
    "trial day", "trial shift", "trial period", "your time", "coming in", "next stage",
    "your conversation", "our conversation", "take home")
    + tuple(f"{v} {w}you" for v in ("speaking", "talking", "chatting") for w in ("", "with "))
    + tuple(f"{a} {v}" for a in ("loved", "enjoyed", "great", "nice", "lovely", "good")
            for v in ("meeting", "speaking", "talking", "chatting")))
_PAIR_FIRST = frozenset(pair.split(" ", 1)[0] for pair in _BODY_PAIRS)
# The same as word tuples, to meet the text's consecutive words in one set operation.
_WORD_PAIRS = frozenset(tuple(p.split(" ")) for p in _BODY_PAIRS if p.count(" ") == 1)
_WORD_TRIPLES = frozenset(tuple(p.split(" ")) for p in _BODY_PAIRS if p.count(" ") == 2)


def is_candidate(info: HeaderInfo, *, user_addresses=frozenset(), known_ids=frozenset()) -> bool:
    """True unless the headers alone rule the message out (NEEDS_TEXT counts as a candidate)."""
    return reason(info, user_addresses=user_addresses, known_ids=known_ids) is not None


__all__ = ["HeaderInfo", "reason", "is_candidate", "text_says_hiring", "NEEDS_TEXT", "TEXT_PREFIX_BYTES", "is_bulk", "is_automated", "is_ats_domain",
           "is_freemail", "ATS_DOMAINS", "FREEMAIL_DOMAINS"]
