"""Who wrote this email, and about which job: company (ATS-aware) and role.

``identify_employer`` weighs candidates from the subject, the display name, the
body, the signature and the sender's domain. An applicant-tracking relay
(greenhouse.io, myworkday.com, ...) or a free-mail domain is never the
company, and a display name that is only the ATS's name is no company. A
recruitment agency's mail names its client; the client is the employer.
The lists live in ``employer.toml`` beside this module.

``company_key`` and ``role_key`` normalise names so that two emails from one
employer agree: ``company_key("Northwind Inc.") == company_key("Northwind Careers")``.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import lru_cache
from importlib import resources

from .alternation import prefix_tree
from .model import Employer

_DATA = tomllib.loads(resources.files(__package__).joinpath("employer.toml").read_text("utf-8"))

MAX_TEXT_CHARS = 20_000  # names sit in the first lines and the signature; bounds regex work
MAX_NAME_WORDS = 7  # a "company" longer than this is a sentence fragment
MAX_ROLE_WORDS = 10  # likewise for job titles
SIGNATURE_LINES = 12  # lines from the end of the reply searched for a signature

ATS_DOMAINS = frozenset(d.lower() for d in _DATA["ats_domains"])
ATS_NAMES = frozenset(n.lower() for n in _DATA["ats_names"])
FREEMAIL = frozenset(d.lower() for d in _DATA["freemail_domains"])
AGENCY_WORDS = tuple(w.lower() for w in _DATA["agency_domain_words"])
TEAM_WORDS = sorted({w.lower() for w in _DATA["team_words"]}, key=len, reverse=True)
LEGAL = sorted({w.lower() for w in _DATA["legal_suffixes"]}, key=len, reverse=True)
ROLE_HEADS = frozenset(w.lower() for w in _DATA["role_heads"])
SUBJECT_GENERIC = frozenset(w.lower() for w in _DATA["subject_generic"])
BODY_LEADS = sorted({w.lower() for w in _DATA["body_company_leads"]}, key=len, reverse=True)

# Second-level public suffixes, so "mail.northwind.co.uk" -> "northwind".
SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "nhs", "sch", "ltd", "plc",
                          "nsw", "vic", "qld", "sa", "wa", "tas", "act", "nt", "gob", "govt", "mil",
                          "ne", "or", "go", "mb", "on", "bc", "ab", "qc", "ns"})
ORG_WORDS = ("systems", "software", "solutions", "technologies", "technology", "tech", "labs",
             "lab", "data", "analytics", "digital", "cloud", "group", "health", "networks",
             "security", "robotics", "games", "studio", "studios", "media", "insights", "works",
             "apps", "interactive", "mobile", "logistics", "capital", "partners", "consulting",
             "bank", "insurance", "foods", "energy", "design", "ventures", "fintech", "payments",
             "learning", "commerce", "metrics", "clinical", "hq", "ai", "io", "app")
# Words that end an organisation's name, for splitting a run-together domain label
# ('vantagegrocers' -> 'Vantage Grocers'): the org words of 5+ letters plus employer.toml's list.
SUFFIX_WORDS = sorted({w for w in ORG_WORDS if len(w) >= 4} | {w.lower() for w in _DATA["domain_suffix_words"]},
                      key=len, reverse=True)
MIN_STEM = 3  # letters left before a suffix word: 'lawgroup' splits, 'regroup' does not
GENERIC_ROLE_TAILS = re.compile(
    r"\s+(?:position|role|opening|vacancy|post|job|interview|interviews|application|search|"
    r"requisition|opportunity|candidacy|posting|seat|spot|slot)s?$", re.I)
REQ_ID = re.compile(
    r"\s*[\(\[](?:[^()\[\]]*\d[^()\[\]]*|m/w/d|w/m/d|m/f/d|f/m/d|h/f|f/h|m/f|f/m|all genders)[\)\]]|"
    r"\s*[,–—-]?\s*\b(?:req(?:uisition)?|ref(?:erence)?|job(?:\s+id|\s+no\.?|\s+number)?|"
    r"posting|vacancy|position|recruitment|id|exam|announcement)\s*(?:#|no\.?|number|:)?\s*[A-Z]*[-/]?\d[\w/-]*\s*$|"
    r"\s*#\s*[\w-]*\d[\w-]*", re.I)

_CAP = r"[A-Z0-9][\w'’&+-]*(?:\.[\w'’&+-]+)*"
_LINK = r"(?:&|and|of|de|du|des|la|le|von|van|der|for|the|y|e|on)"
COMPANY_PHRASE = re.compile(
    rf"(?:[Tt]he\s+)?{_CAP}(?:[ \t]+(?:{_LINK}[ \t]+)?{_CAP}){{0,{MAX_NAME_WORDS - 1}}}")


WORD_CACHE = 16_384  # words and short names repeat across candidates and messages; bounds memory
_NOT_LETTER = re.compile(r"[^a-z0-9]")


def _fold_text(text: str) -> str:
    """Lower case without accents."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()


# _fold_text for words and names, cached: called tens of thousands of times per sync on the same
# few thousand words. Whole texts go to _fold_text, so the cache holds only short strings.
_fold = lru_cache(maxsize=WORD_CACHE)(_fold_text)


@lru_cache(maxsize=WORD_CACHE)
def _letters(text: str) -> str:
    return _NOT_LETTER.sub("", _fold(text))


def _domain(addr: str) -> str:
    return addr.rpartition("@")[2].strip().lower().rstrip(".")


def is_ats_address(addr: str) -> bool:
    """True when the address (or bare domain) belongs to an applicant-tracking relay.

    >>> is_ats_address("no-reply@hire.lever.co")
    True
    """
    domain = _domain(addr or "")
    parts = domain.split(".")
    return any(".".join(parts[i:]) in ATS_DOMAINS for i in range(len(parts) - 1))


def _is_freemail(domain: str) -> bool:
    return domain in FREEMAIL


def _registrable_label(domain: str) -> str:
    """'mail.northwind-labs.co.uk' -> 'northwind-labs'."""
    parts = [p for p in domain.split(".") if p]
    if len(parts) < 2:
        return parts[0] if parts else ""
    parts.pop()  # the top-level domain
    while len(parts) > 1 and parts[-1] in SECOND_LEVEL:
        parts.pop()  # co.uk, nsw.edu.au, vic.gov.au
    return parts[-1]


# Words that make a display name a recruitment agency's ('Veritas Staffing', 'Kite Personnel').
# ('Northwind – Staffing' after a dash is a firm's own team, not an agency.)
AGENCY_DISPLAY = re.compile(r"[\w.&][ \t]+(?:staffing|personnel|headhunters?|placements?|recruitment agency)\b", re.I)


AGENCY_DISPLAY_PENALTY = 2.0  # as much as a body naming the client scores, so any named client wins


def _local_part_spells(name: str, addr: str) -> bool:
    """The address's local part is the person's name: 'Dean Porter' <dean.porter@..>, <dporter@..>."""
    local = _letters(addr.partition("@")[0])
    words = [_letters(w) for w in name.split()]
    words = [w for w in words if w]
    if len(words) != 2 or len(local) < 4 or ORGISH.search(name):
        return False
    first, last = words[0], words[-1]
    return local in ("".join(words), first + last, first[0] + last, last + first, first + last[0])


def _is_agency_label(label: str) -> bool:
    return any(word in label for word in AGENCY_WORDS)


_LEGAL_TAIL = re.compile(
    r"[\s,]+(?:" + "|".join(re.escape(x.rstrip(".")) for x in LEGAL) + r")\.?\s*$", re.I)
_TEAM_ALT = "|".join(re.escape(w) for w in TEAM_WORDS)
_TEAM_HEAD = re.compile(rf"^(?:the\s+)?(?:{_TEAM_ALT})(?:\s*[-–—|:,·@]\s*|\s+(?:at|@|for|of)\s+|\s+)(?=\S)",
                        re.I)
_TEAM_TAIL = re.compile(rf"(?:\s*[-–—|:,·@]\s*|\s+)(?:the\s+)?(?:{_TEAM_ALT})$", re.I)
NAME_CACHE = 4096  # names repeat across candidates and messages; bounds memory in a long scan


def _strip_legal(name: str) -> str:
    while True:
        m = _LEGAL_TAIL.search(name)
        if not (m and m.start() > 0):
            return name.strip(" ,")
        name = name[: m.start()]


TEAM_SET = frozenset(TEAM_WORDS)


@lru_cache(maxsize=NAME_CACHE)
def _strip_team(name: str) -> str:
    """'Northwind Careers' -> 'Northwind'; 'HR – Northwind' -> 'Northwind'; a name made only of
    team words ('Recruiting Team') -> ''."""
    name = name.strip(" \t-–—|,·:")
    if _fold(name) in TEAM_SET:  # 'Recruitment', 'Recruitment Services'
        return ""
    stripped = False
    while name:
        for rx in (_TEAM_HEAD, _TEAM_TAIL):
            new = rx.sub("", name, count=1).strip(" \t-–—|,·:")
            if new != name and new:
                name, stripped = new, True
                break
        else:
            break
    if stripped and _fold(name) in TEAM_SET:
        return ""
    return name


@lru_cache(maxsize=NAME_CACHE)
def _clean_company(name: str) -> str:
    name = re.sub(r"\s+", " ", name).strip(" \t\"'.,;:!?-–—|·")
    name = re.sub(r"^(?:the|your|our)\s+(?=[A-Z])", "", name)
    m = re.match(r"(.+?)\s+via\s+(.+)$", name, re.I)  # a signature 'Northwind via Greenhouse'
    if m and _fold(m.group(2)) in ATS_NAMES:
        name = m.group(1)
    name = _strip_team(name)
    name = re.sub(r"^(?:the|your|our)\s+(?=[A-Z])", "", name)  # "The Northwind Talent Team"
    name = re.sub(r"['’]s$", "", name)
    name = _strip_legal(name).strip(" \t\"'.,;:!?-–—|·")
    return re.sub(r"\s+(?:&|and)$", "", name)


@lru_cache(maxsize=NAME_CACHE)
def company_key(name: str | None) -> str:
    """A normalised key: 'The Northwind Inc.' and 'northwind careers' -> 'northwind'."""
    if not name:
        return ""
    text = _fold(name).replace("&", " and ")
    text = re.sub(r"['’]s\b", "", text)
    text = re.sub(r"[^\w\s.]", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = _strip_team(text)
    text = _strip_legal(text)
    text = _strip_team(text)
    text = re.sub(r"^the\s+", "", text)
    text = re.sub(r"\s+and$", "", text)  # 'Lindell & Co' -> 'lindell'
    text = re.sub(r"[^\w\s]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


ROLE_ABBREVIATIONS = {"sr": "senior", "jr": "junior", "mgr": "manager", "eng": "engineer",
                      "engr": "engineer", "dev": "developer", "assoc": "associate", "asst": "assistant",
                      "admin": "administrator", "ml": "machine learning", "swe": "software engineer",
                      "pm": "product manager", "ae": "account executive", "vp": "vice president",
                      "ops": "operations", "sre": "site reliability engineer", "vet": "veterinary"}


def role_key(role: str | None) -> str:
    """A normalised key: 'Sr. Data Engineer (R-1234)' -> 'senior data engineer'."""
    if not role:
        return ""
    text = _clean_role(role)
    # "Branch Manager – Oshkosh" and "Branch Manager (Nights)" name the same opening
    text = re.sub(r"\s+[–—-]\s+.*$|\s*\([^()]*\)", "", text)
    text = re.sub(r",?\s+[A-Z]{2,4}-\d[\d-]*$", "", text)  # a pay grade: 'Program Analyst, GS-0343-11'
    text = re.sub(r"\s+(?:I{1,3}|IV|[1-4])$", "", text)  # a grade: 'Dispatcher I' is the 'Dispatcher' opening
    text = _fold(text).replace("&", " and ")
    text = re.sub(r"[^\w\s]", " ", text)
    words = [ROLE_ABBREVIATIONS.get(w, w) for w in text.split()]
    return " ".join(words)


# --- role ---------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_COMMA_QUALIFIER = re.compile(r"(.*\S)\s*,\s+([^,]+)$")
_ROLE_ARTICLE = re.compile(r"^(?:the|a|an|our|your|this|that)\s+", re.I)
_ROLE_LEADING_NUMBER = re.compile(r"^(?:[A-Z]{0,4}-?\d{4,}[\w-]*\s*[-–—:]\s+|(?:19|20)\d\d\s+(?=[A-Z]))")


@lru_cache(maxsize=NAME_CACHE)
def _clean_role(role: str) -> str:
    """A title without req ids, generic tails and articles (pure, so cached: titles repeat)."""
    role = _SPACES.sub(" ", role).strip(" \t\"'.,;:!?-–—|")
    for _ in range(3):
        role = REQ_ID.sub("", role).strip(" \t\"'.,;:!?-–—|")
    role = GENERIC_ROLE_TAILS.sub("", role)
    m = _COMMA_QUALIFIER.match(role)  # 'Grade 4 Teacher, Hawthorne Elementary'
    if m and PLACE_QUALIFIER.search(m.group(2)) and _is_head(m.group(1).split()[-1]):
        role = m.group(1)
    role = _ROLE_ARTICLE.sub("", role)
    # a leading posting number or intake year: '388214 - Policy Officer', '2026 Graduate Engineer'
    role = _ROLE_LEADING_NUMBER.sub("", role)
    return role.strip(" \t\"'.,;:!?-–—|")


@lru_cache(maxsize=WORD_CACHE)
def _is_head(word: str) -> bool:
    word = _fold(word).strip(".,;:()")
    return word in ROLE_HEADS or (word.endswith("s") and word[:-1] in ROLE_HEADS and len(word) > 4)


ROLE_STOP = frozenset({"your", "our", "the", "for", "to", "a", "an", "re", "application", "applying",
                       "thank", "thanks", "you", "update", "on", "about", "regarding", "as", "at",
                       "interview", "offer", "invitation", "with", "is", "in", "of", "this", "and",
                       "received", "confirmed", "scheduled", "schedule", "congratulations", "letter",
                       "status", "candidacy", "submission", "next", "step", "quick", "just", "note",
                       "we", "i", "from", "by", "new", "position", "role", "job", "opening",
                       "vacancy", "post", "shortlisted", "screen", "round", "request", "outcome", "feedback", "reference", "references",
                       "stage", "your", "invites", "invited", "confirmation", "acknowledgement",
                       "action", "required", "complete", "assessment", "selection", "appointment",
                       "regarding", "update:", "sorry", "pausing", "chat", "hiring",
                       "la"})
# Head words that also rank the word after them: 'Head Chef', 'Lead Guide', 'Chief Steward'.
RANK_HEADS = frozenset({"head", "lead", "chief", "principal"})
# Posts named with their field after 'in': 'Lecturer in Economics', 'Research Fellow in History'.
FIELD_HEADS = frozenset({"lecturer", "fellow", "professor", "reader", "tutor", "researcher", "instructor",
                         "chair", "fellowship", "studentship"})
ROLE_INNER = frozenset({"of", "&", "and", "/", "-", "–", "for", "in", "de", "to"})


def _role_in_words(words: list[str]) -> str | None:
    """The title ending on the last role head in a run of words (a subject part or a clause)."""
    heads = [i for i, w in enumerate(words) if _is_head(w) and (w[:1].isupper() or w.isupper())]
    if not heads:
        return None
    j = heads[-1]
    end = j + 1
    # "Head Roaster", "Lead Guide": a leading head word naming the rank of the next word
    if (_fold(words[j]) in RANK_HEADS and end < len(words) and words[end][:1].isupper()
            and not words[j].endswith((",", ".", ":", ";")) and _fold(words[end].strip(",.;:")) not in ROLE_STOP
            and _fold(words[end].strip(",.;:")) not in SUBJECT_GENERIC
            and not GENERIC_ROLE_TAILS.search(" " + words[end].strip(",.;:"))):  # 'Shift Lead Spot'
        end += 1
    # "Head of Data", "Director of Product Management": a head followed by "of X";
    # "Lecturer in Economics": an academic post followed by "in <field>".
    link = words[end].lower() if end < len(words) and not words[end - 1].endswith((",", ".", ";", ":")) else ""
    if link == "of" or (link == "in" and _fold(words[end - 1]) in FIELD_HEADS):
        k = end + 1
        while k < len(words) and (words[k][:1].isupper() or words[k] in ("&", "and")):
            k += 1
            if words[k - 1].endswith((".", ",", ";", ":", "!", "?")):
                break  # the sentence or clause ends: 'Teacher of Mathematics. We ...'
        if k > end + 1:
            end = k
    # trailing level or qualifier: "II", "3", "(Vue)", "(Nights)"
    while end < len(words) and not words[end - 1].endswith((".", ",", ";", ":", "!", "?")) and (
            re.fullmatch(r"(?:I{1,3}|IV|V|[1-9])", words[end]) or words[end].startswith("(")):
        if words[end].startswith("("):
            k = end
            while k < len(words) and not words[k].endswith(")"):
                k += 1
            end = k + 1
        else:
            end += 1
    start = j
    while start > 0:
        prev = words[start - 1]
        bare = prev.strip(",.:;")
        if prev.endswith((",", ":", ";")) or not bare:
            break
        if bare.lower() in ROLE_STOP and not (bare.lower() in ROLE_INNER and start - 2 >= 0
                                              and words[start - 2][:1].isupper()
                                              and words[start - 2].lower() not in ROLE_STOP):
            break
        if not (bare[:1].isupper() or bare.lower() in ROLE_INNER or bare[:1].isdigit()):
            break
        start -= 1
    while start < j and words[start].lower() in ROLE_INNER:
        start += 1
    span = words[start:end]
    if len(span) > MAX_ROLE_WORDS:
        return None
    role = " ".join(span)
    return _clean_role(role)


# A comma qualifier naming where or which step, not which job: 'Teacher, Maplewood Elementary',
# 'Research Assistant, School of Biosciences', 'Clerk, Exam'.
PLACE_QUALIFIER = re.compile(r"\b(?:elementary|primary|secondary|academy|school|faculty|college|university|"
                             r"campus|department|hospital|clinic|exam|examination|test|assessment|"
                             r"interview|branch|store|office)s?\b", re.I)


_REPLY_PREFIXES = re.compile(r"^\s*(?:(?:re|fw|fwd|sv|aw|tr|rv|res|antw|vs)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
_SUBJECT_PARTS = re.compile(r"\s+[–—-]\s+|:\s+|\s+\|\s+|\s+@\s+|\s+<>\s+")


def _split_subject(subject: str) -> list[str]:
    subject = _REPLY_PREFIXES.sub("", subject)
    return [p for p in _SUBJECT_PARTS.split(subject) if p.strip()]


@lru_cache(maxsize=NAME_CACHE)
def _role_from_subject(subject: str) -> str | None:
    subject = re.sub(r"\s*\((?:ref|req|job|id|position|vacancy|exam|posting|recruitment)\b[^()]*\)", "",
                     subject, flags=re.I)
    for part in _split_subject(subject):
        part = re.sub(r"^(?i:cv|resume|résumé|application|applying|cover letter)\s+(?i:for|-)\s+", "", part)
        bare = GENERIC_ROLE_TAILS.sub("", part)  # "Dental assistant opening"
        if re.fullmatch(r"[A-Z][a-z]+(?: [a-z]+){1,3}", bare) and _is_head(bare.split()[-1]):
            part = bare.title()  # "Graphic designer" -> "Graphic Designer"
        # keep the comma qualifier ("Account Executive, Mid-Market")
        m = re.match(r"(.*?\S)\s*,\s*([A-Z][\w/&-]*(?:\s+[A-Z&][\w/&-]*){0,3})\s*(\(.*\))?$", part)
        words = part.split()
        role = _role_in_words(words)
        if role and m and _role_in_words(m.group(1).split()) == role and not _is_head(m.group(2).split()[-1]):
            qualifier = m.group(2)
            if (_letters(qualifier) and qualifier.split()[0].lower() not in SUBJECT_GENERIC
                    and not PLACE_QUALIFIER.search(qualifier)):
                role = _clean_role(f"{role}, {qualifier}")
        if role:
            return role
    return None


ROLE_BODY = [re.compile(rx) for rx in (
    r"\b(?:position|role|post|job|vacancy|opening) (?:of|as) (?:an? |the )?([A-Z][^.;:\n()]*?(?:\([^)\n]*\))?)(?=\s*(?:[.;:\n]|,? (?:at|with|in|on|for|based|and|which|that|is|was|has|we|\(|–|-)\b))",
    r"\b(?:for|about|on|in|to|regarding|into|with|applying for|applied for|interest in|offer you|for) (?:the|our|your|this|that|an?) ([A-Z][\w/&+.-]*(?: (?:[A-Z&][\w/&+.()-]*|of|and|de)){0,8}) (?:position|role|opening|post|vacancy|job|team|seat|search|requisition|interview|application)s?\b",
    r"\b(?:the|our|your|an?) ([A-Z][\w/&+.-]*(?: (?:[A-Z&][\w/&+.()-]*|of|and)){0,8}) (?:position|role|opening|post|vacancy|job|requisition)\b",
    r"\b(?:as|as an?|join(?:ing)? us as(?: an?)?) ([A-Z][\w/&+.-]*(?: (?:[A-Z&][\w/&+.-]*|of|and)){0,6})\b",
    r"\b(?:for|applying for|applied for|application for) (?:the |our )?([A-Z][\w/&+.-]*(?: (?:[A-Z&][\w/&+.()-]*|of|and)){0,8})\b",
)]


def _role_from_body(text: str) -> str | None:
    for rx in ROLE_BODY:
        for m in rx.finditer(text):
            candidate = m.group(1)
            words = candidate.split()
            if not words or not any(_is_head(w) for w in words):
                continue
            role = _role_in_words(words)
            if not role and _is_head(words[-1]):
                role = _clean_role(candidate)
            if role and _is_head(role.split()[-1].strip("()")) or (role and "(" in role):
                return role
            if role:
                return role
    return None


_ROLE_TAIL = re.compile(r"((?:,| –| -) [A-Z][\w/&-]*(?: (?:[A-Z&][\w/&-]*|of|and)){0,4}|"
                        r" \([^()\n]{2,40}\))(?=[\s.,;:)]|$)")
_NAME_TAIL = re.compile(r"((?:[ \t]+(?:&[ \t]+)?[A-Z][\w'’&-]*){1,4})")


def _occurrences(needle: str, text: str, *, word_start: bool = False):
    """Start offsets of ``needle`` in ``text`` (a plain find loop: no per-name regex to compile)."""
    if not needle:
        return
    at = text.find(needle)
    while at >= 0:
        if not (word_start and at > 0 and (text[at - 1].isalnum() or text[at - 1] == "_")
                and (needle[0].isalnum() or needle[0] == "_")):
            yield at
        at = text.find(needle, at + 1)


def _extend_role(role: str, text: str) -> str:
    """'Director of Product' in a subject -> 'Director of Product, Platforms' when the body says so."""
    m = None
    for at in _occurrences(role, text):
        m = _ROLE_TAIL.match(text, at + len(role))
        if m:
            break
    if not m:
        return role
    tail = m.group(1)
    if REQ_ID.fullmatch(tail) or re.search(r"\d{3,}|job id|req", tail, re.I):
        return role
    first = re.sub(r"^[,(–\s-]+", "", tail).split()[0].lower() if tail.strip(" ,(–-") else ""
    if first in ("at", "in", "we", "i", "and", "the", "our", "based", "which", "for", "with"):
        return role
    if re.search(r"(?i)\b(?:assessment|interview|test|challenge|screen|screening|application|update|offer|"
                 r"outcome|confirmation|feedback)s?\b", tail):
        return role  # 'Data Analyst - Online Assessment' names a step, not the title
    if tail.startswith((" –", " -")) and not re.fullmatch(r" [–-] [A-Z][\w/&-]*(?: [A-Z&][\w/&-]*)?", tail):
        return role
    return _clean_role(role + tail)


_TITLE_WORD = r"(?:[A-Z][\w'’&+./-]*|[a-z]{1,3}[A-Z]\w*|\d[\w/-]*)"
_TITLE = (rf"{_TITLE_WORD}(?:(?:[ \t]+(?:of|and|&|/|[–-]|de)[ \t]+|,[ \t]+|[ \t]+)"
          rf"(?:{_TITLE_WORD}|\([^()\n]{{1,40}}\))){{0,{MAX_ROLE_WORDS + 3}}}")
_ROLE_NOUN = r"(?:role|position|opening|post|vacancy|job|requisition|interviews?|slot|spot|seat|opportunity)"
# Body phrases that frame a title, scanned once: "the <Title> role", "position of <Title>",
# "application for <Title>", "as our first <Title>". ``framed`` titles end on a role noun and are
# taken whole ("the Account Executive, Mid-Market role"); the others are trimmed to their head.
_BODY_TITLE = re.compile(
    rf"\b(?:the|our|your|this|an?)[ \t]+(?:first[ \t]+|new[ \t]+)?(?P<framed>{_TITLE})"
    rf"(?:[ \t]*\((?:[^()\n]*\d[^()\n]*)\))?[ \t]+{_ROLE_NOUN}\b"
    rf"|\b(?:(?:position|role|post|job|vacancy|opening)[ \t]+(?:of|as)|"
    rf"(?:application|applying|applied)[ \t]+(?:for|to),?|"
    rf"as[ \t]+(?:our|an?|the)(?:[ \t]+(?:first|new))?|"
    rf"(?:the|for)[ \t]+(?:position|role|vacancy|post)(?=[ \t]+[A-Z])|"  # 'the position Events Coordinator'
    # a posting number, then its title: 'selection process 26-AB-0307, Statistician',
    # 'job requisition R-0027731 Medical Coder', 'process 25-XY-0412 (Archivist, AR-04)'
    rf"(?i:process|requisition|competition|posting|req|vacancy|job)[ \t]+#?[A-Z]{{0,5}}-?\d[\w/-]*"
    rf"(?:,|[ \t]+[-–])?)"
    rf"[ \t]+\(?(?:the[ \t]+)?(?P<open>{_TITLE})")


# A labelled field line in a template: "Position: Claims Analyst", "Job title: ...".
_FIELD_TITLE = re.compile(rf"^[ \t]*(?i:position|role|job title|job|vacancy|post|title|examination|"
                          rf"position title|job role)[ \t]*:[ \t]*(?P<open>{_TITLE})[ \t]*$", re.M)
# "applying to be our Community Manager", "your application to be a Dog Walker".
_BE_TITLE = re.compile(rf"\bto[ \t]+be[ \t]+(?:our|an?|the)(?:[ \t]+(?:first|new|next))?[ \t]+(?P<open>{_TITLE})")


def _body_titles(text: str) -> tuple[str, ...]:
    """Job titles the body frames, in order of appearance."""
    titles = []
    for rx in (_FIELD_TITLE, _BE_TITLE):
        for m in rx.finditer(text):
            words = m.group("open").split()
            role = _role_in_words(words) if not _is_head(words[-1].strip(",()")) else _clean_role(m.group("open"))
            if role and _fold(role.split()[0]) not in ROLE_STOP:
                titles.append(role)
    for m in _BODY_TITLE.finditer(text):
        span = m.group("framed") or m.group("open")
        words = span.split()
        if not any(_is_head(w.strip(",()")) for w in words) or _fold(words[0]) in ROLE_STOP:
            continue
        if m.group("open"):
            last = [w for w in words if not w.startswith("(")][-1].strip(",")
            dash = next((i for i, w in enumerate(words) if w in ("–", "-")), 0)
            if not (_is_head(last) or "," in span or (dash and _is_head(words[dash - 1]))):
                span = _role_in_words(words) or ""
        role = _clean_role(span)
        if role and len(role.split()) <= MAX_ROLE_WORDS + 3:
            titles.append(role)
    return tuple(titles)


# A title written in lower case before a role noun: 'the front desk coordinator role',
# 'Head chef job is yours'. Used only when no capitalised title is found.
_LOWER_TITLE = re.compile(r"(?:\b(?:the|an?|our|your|this|that)[ \t]+|(?:^|[.!?][ \t]+)(?=[A-Z]))"
                          r"((?:[A-Za-z][a-z&-]*[ \t]+){0,3}[a-z][a-z-]+)[ \t]+"
                          r"(?:job|role|position|post|opening|vacancy)\b"
                          # 'join us as our first platform engineer.'
                          r"|\bas[ \t]+(?:our|an?|the)[ \t]+(?:(?:first|new|next)[ \t]+)?"
                          r"((?:[a-z][a-z&-]*[ \t]+){1,3}[a-z][a-z-]+)(?=[ \t]*[.,;!]|[ \t]+(?:at|with|on|in|for|and)\b)",
                          re.M)
LOWER_SKIP = frozenset({"same", "new", "open", "other", "full-time", "part-time", "temporary", "permanent",
                        "current", "vacant", "exciting", "available", "whole", "first", "next", "last",
                        "full", "part", "time", "paid", "unpaid", "summer", "seasonal"})
_SMALL_WORDS = frozenset({"of", "and", "&", "in", "for", "de"})


def _lower_title(text: str) -> str | None:
    for m in _LOWER_TITLE.finditer(text):
        words = (m.group(1) or m.group(2)).split()
        if not _is_head(words[-1]):
            continue
        while words and (_fold(words[0]) in ROLE_STOP or _fold(words[0]) in LOWER_SKIP):
            words = words[1:]
        if words and not any(_fold(w) in ROLE_STOP - ROLE_INNER for w in words):
            return " ".join(w if w in _SMALL_WORDS else w[:1].upper() + w[1:] for w in words)
    return None


# A sign-off line: titles after it are the sender's own ('Jane Roe / Talent Partner').
_SIGNOFF_LINE = re.compile(r"^(?:best|kind|warm|many|regards|thanks|thank you|cheers|sincerely|yours|"
                           r"respectfully|all the best|talk soon|speak soon|with thanks|--)\b", re.I)
SIGNOFF_CHARS = 30  # 'Kind regards,' is short; 'Thank you for applying to ...' is a sentence
_TITLE_LINE = re.compile(rf"^(?:[-•*][ \t]+)?(?P<open>{_TITLE})$")


def _title_line(text: str) -> str | None:
    """A line that is only a job title, as job boards lay out a posting ('Brand Designer' over
    'Sage & Sparrow - Bristol'); never after the sign-off or under a person's name."""
    previous = ""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if _SIGNOFF_LINE.match(line) and len(line) <= SIGNOFF_CHARS:
            return None
        m = _TITLE_LINE.match(line)
        if m and len(line) <= 80 and not (previous and _looks_like_person(previous.rstrip(",.")) and "," not in previous):
            words = [w for w in m.group("open").split() if not w.startswith("(")]
            core = re.sub(r",?\s+[A-Z]{2,4}-\d[\d-]*$|\s+(?:I{1,3}|IV|V|[1-9])$", "", " ".join(words)).split()
            if core and _is_head(core[-1].strip(",()")) and _fold(core[0]) not in ROLE_STOP:
                return _clean_role(m.group("open"))
        previous = line
    return None


def find_role(subject: str, text: str, full_text: str = "") -> str | None:
    """The job title from the subject, else the body; req ids and 'position' dropped.

    A longer title the body frames wins over the subject's when it contains it: subject
    'Controls Engineer', body 'the Robotics Controls Engineer opening' -> the body's.
    """
    body = text[:MAX_TEXT_CHARS]
    role = _role_from_subject(subject)
    if not role and not re.search(r"[A-Z]", re.sub(r"^\W*(?:re|fwd?)\s*:\s*", "", subject, flags=re.I)):
        role = _role_from_subject(subject.title())  # "shift lead spot" -> "Shift Lead"
    titles = _body_titles(body) or _body_titles(full_text[:MAX_TEXT_CHARS])
    if role:
        core = role.split(",")[0].casefold()
        longer = [t for t in titles if len(t) > len(role) and core in t.casefold()
                  and t.count(",") <= role.count(",")]
        if longer:
            return max(longer, key=len)
        return _extend_role(role, body) if "," not in role else role
    return ((titles[0] if titles else None) or _title_line(body) or _role_from_body(body) or _role_from_body(full_text[:MAX_TEXT_CHARS])
            or _lower_title(body) or _lower_title(full_text[:MAX_TEXT_CHARS]))


# --- company ------------------------------------------------------------------------------------

_BRACKETS_OR_AFTER_COMMA = re.compile(r"\([^)]*\)|,.*$")
_PERSON_WORD = re.compile(r"[A-Z][\w'’.-]*|[A-Z]\.?|(?:de|van|von|da|del|la|le|bin|al)")


@lru_cache(maxsize=NAME_CACHE)
def _looks_like_person(name: str) -> bool:
    words = _BRACKETS_OR_AFTER_COMMA.sub("", name).split()
    words = [w for w in words if w.lower().strip(".") not in ("dr", "mr", "mrs", "ms", "miss", "prof")]
    if not 1 <= len(words) <= 4:
        return False
    if any(_is_head(w) for w in words):
        return False
    if any(w.lower() in ORG_WORDS or _fold(w) in LEGAL for w in words) or ORGISH.search(" ".join(words)):
        return False
    return all(_PERSON_WORD.fullmatch(w) for w in words)


@lru_cache(maxsize=NAME_CACHE)
def _matches_domain(name: str, label: str) -> bool:
    key = _letters(company_key(name))
    flat = _NOT_LETTER.sub("", label)
    if len(key) < 3 or len(flat) < 3:
        return False
    first = _letters(company_key(name).split()[0]) if company_key(name) else ""
    return (flat.startswith(key) or key.startswith(flat) or flat in key
            or (len(first) >= 4 and flat.startswith(first)))


def _initials(name: str) -> str:
    return "".join(w[0] for w in re.findall(r"[A-Za-z][\w'’]*", name)
                   if w.lower() not in ("of", "and", "the", "for", "de")).lower()


def _is_relay_name(name: str, relay: str) -> bool:
    """An ATS's name, or the name of the relay the mail came through ('HireRight' from
    hireright.com, 'Acme Tests' from acmetests.io)."""
    return _fold(name.strip()) in ATS_NAMES or bool(relay) and _matches_domain(name, relay)


@lru_cache(maxsize=NAME_CACHE)
def _from_display(from_name: str, relay: str = "") -> str | None:
    """The company a display name gives. ``relay``: the registrable label of an ATS sender
    domain, whose own name in the display ('Northwind via SkillCheck') is no company."""
    name = (from_name or "").strip().strip("\"'")
    if not name:
        return None
    m = re.search(r"\(([^()]+)\)\s*$", name)  # "Jane Doe (Northwind)"
    if m and _looks_like_person(name[: m.start()]):
        return _clean_company(m.group(1)) or None
    m = re.match(r"(.+?)\s+for\s+(.+)$", name, re.I)  # "SkillCheck for Northwind"
    if m and _is_relay_name(m.group(1), relay):
        return _clean_company(m.group(2)) or None
    m = re.match(r"(.+?)\s+(?:via|from|at|@)\s+(.+)$", name, re.I)  # "Northwind via Greenhouse"
    if m:
        left, right = m.group(1), m.group(2)
        if _is_relay_name(right, relay):
            name = left
        else:
            return _clean_company(right) or None
    if _fold(name) in ATS_NAMES:
        return None
    parts = [p for p in re.split(r"\s+[–—|·-]\s+", name) if p.strip()]
    if len(parts) > 1:
        cleaned = [_clean_company(p) for p in parts]
        cleaned = [c for c in cleaned if c and _fold(c) not in ATS_NAMES]
        orgish = [c for c in cleaned if not _looks_like_person(c) or len(c.split()) > 2]
        pick = orgish or cleaned
        return max(pick, key=len) if pick else None
    cleaned = _clean_company(name)
    if not cleaned or _fold(cleaned) in ATS_NAMES:
        return None
    return cleaned


def _segment(flat: str, vocab: set[str]) -> list[str] | None:
    """Split 'pritchardlawgroup' into known words: fewest unknown letters, then fewest words."""
    n = len(flat)
    # best[j]: (unknown letters, words, where the last word starts) of the best split of flat[:j];
    # the words are read back from the starts at the end instead of copied at every step
    best: list[tuple[int, int, int] | None] = [None] * (n + 1)
    best[0] = (0, 0, 0)
    for i in range(n):
        if best[i] is None:
            continue
        unknown, count, _ = best[i]
        for j in range(i + 1, min(n, i + 24) + 1):
            cost = 0 if flat[i:j] in vocab else j - i
            if best[j] is None or (unknown + cost, count + 1) < best[j][:2]:
                best[j] = (unknown + cost, count + 1, i)
    result = best[n]
    if result is None or result[0] >= n:
        return None
    words = []
    end = n
    while end > 0:
        start = best[end][2]
        words.append(flat[start:end])
        end = start
    return words[::-1]


def _domain_name(label: str, vocab: set[str] | None = None) -> str:
    """'northwind-labs' -> 'Northwind Labs'; 'pritchardlawgroup' -> 'Pritchard Law Group'
    when the words are known (org words, or words the email itself uses)."""
    if vocab:
        pieces = []
        for chunk in (w for w in re.split(r"[-_]", label) if w):
            seg = _segment(chunk, vocab | set(ORG_WORDS[:-4]))
            pieces.extend(seg if seg else [chunk])
        merged: list[str] = []
        for piece in pieces:  # glue unknown fragments back to their neighbour
            if merged and (piece not in vocab and piece not in ORG_WORDS) and len(piece) <= 2:
                merged[-1] += piece
            else:
                merged.append(piece)
        words = []
        for piece in merged:  # an unknown piece may still end on an organisation word
            words.extend(_split_suffix(piece) if piece not in vocab else [piece])
        return " ".join(w.capitalize() for w in words)
    return _domain_name_plain(label)


def _split_suffix(word: str) -> list[str]:
    """'vantagegrocers' -> ['vantage', 'grocers'] when it ends on an organisation word."""
    for org in SUFFIX_WORDS:
        if word.endswith(org) and len(word) - len(org) >= MIN_STEM:
            return [word[: -len(org)], org]
    return [word]


@lru_cache(maxsize=NAME_CACHE)
def _spelling_pattern(flat: str) -> re.Pattern:
    """'vantagegrocers' -> a pattern for 'Vantage Grocers', 'Vantage-Grocers', 'Hollis & Grant'."""
    gap = r"(?:[ \t]+(?:(?:&|and)[ \t]+)?|[ \t]*&[ \t]*|-)?"
    # '\b' + first letter, written as the letter then '(?<!\w.)' (no word character before it):
    # a pattern that opens on a letter lets the engine skip to that letter instead of trying
    # every position, about three times faster on a long body.
    return re.compile(re.escape(flat[0]) + r"(?<!\w.)" + gap + gap.join(re.escape(ch) for ch in flat[1:]) + r"\b",
                      re.I)


MIN_SPELLED_LETTERS = 5  # shorter labels ('abc') match stray words too easily


def _spelled_name(label: str, texts: tuple[str, ...]) -> str | None:
    """The capitalised words in the mail that spell the domain label: 'Vantage Grocers' for
    vantagegrocers.com. Preferred to splitting the label, which can only guess the words."""
    flat = re.sub(r"[^a-z0-9]", "", label)
    if len(flat) < MIN_SPELLED_LETTERS:
        return None
    rx = _spelling_pattern(flat)
    for text in texts:
        for m in rx.finditer(text):
            words = m.group(0).replace("-", " ").split()
            caps = [w for w in words if w.lower() not in ("&", "and")]
            if len(caps) >= 2 and all(w[:1].isupper() for w in caps):
                return re.sub(r"\s+", " ", m.group(0))
    return None


def _domain_name_plain(label: str) -> str:
    """'northwind-labs' -> 'Northwind Labs'; 'bellhavensystems' -> 'Bellhaven Systems'."""
    words = [w for w in re.split(r"[-_]", label) if w]
    out = [" ".join(_split_suffix(word)) for word in words]
    return " ".join(w.capitalize() if len(w) > 3 else w.upper() if len(w) <= 3 and w in ("ai", "hq") else w.capitalize()
                    for w in " ".join(out).split())


_SUBJECT_COMPANY = [re.compile(rx) for rx in (
    rf"\b(?:applying|applied|application|apply|interviewing|interview|conversation|chat|offer|candidacy|career|"
    rf"position|role|opening|[Ee]ngineer|[Mm]anager|[Dd]eveloper|[Aa]nalyst|[Dd]esigner|[Pp]lanner|"
    rf"[A-Za-z]+)\s+(?:at|to|with|from|for)\s+({COMPANY_PHRASE.pattern})(?:\s+(?:is|has|was|–|-)\b.*)?\s*[!.]?$",
    rf"\b[Yy]our\s+({COMPANY_PHRASE.pattern})\s+(?:application|offer|interview|candidacy)\b",
    rf"^({COMPANY_PHRASE.pattern})\s+(?:invites|invited|would|wants|has|came|come|is)\b",
    rf"^({COMPANY_PHRASE.pattern})\s*:\s",
)]


# Words of a status or a hiring step, never of a company named in a subject part.
STEP_WORDS = re.compile(r"\b(?:(?:not[ \t]+)?referred|received|submitted|shortlisted|rejected|declined|withdrawn|"
                        r"invitations?|assessments?|interviews?|updates?|status|confirmations?|reminders?|"
                        r"outcomes?|results?|feedback|next[ \t]+steps?|online[ \t]+test|coding[ \t]+test)\b", re.I)


_SUBJECT_REPLY_PREFIXES = re.compile(r"^\s*(?:(?:re|fw|fwd|sv|aw|tr|rv|res)\s*:\s*)+", re.I)
_DIGIT = re.compile(r"\d")
_SUBJECT_NAME_THEN_NEWS = re.compile(rf"^({COMPANY_PHRASE.pattern})\s+(?:update|news|feedback|offer)\b")


@lru_cache(maxsize=NAME_CACHE)
def _company_from_subject(subject: str) -> tuple[str, ...]:
    subject = _SUBJECT_REPLY_PREFIXES.sub("", subject).strip()
    found = []
    for rx in _SUBJECT_COMPANY:
        m = rx.search(subject)
        if m:
            found.append(m.group(1))
    parts = _split_subject(subject)
    if len(parts) > 1:
        for part in (parts[0], parts[-1]):
            words = part.split()
            if STEP_WORDS.search(part):  # 'Status Update: Referred', 'Coding Assessment Invitation'
                continue
            if (1 <= len(words) <= 5 and words[0][:1].isupper() and _fold(words[0]) not in SUBJECT_GENERIC
                    and not any(_is_head(w) for w in words)
                    and all(w[:1].isupper() or w.lower() in ("&", "and", "of", "<>") for w in words)
                    and not _DIGIT.search(part)):
                found.append(part)
    else:
        m = _SUBJECT_NAME_THEN_NEWS.match(subject)
        if m and _fold(m.group(1).split()[0]) not in SUBJECT_GENERIC and not any(_is_head(w) for w in m.group(1).split()):
            found.append(m.group(1))
    return tuple(c for c in (_clean_company(f) for f in found) if c and _fold(c) not in ATS_NAMES
                 and _fold(c.split()[0]) not in SUBJECT_GENERIC)


# One pass over the text for every lead phrase: "<lead> Northwind" (leads longest first). The
# lookahead on the leads' first letters lets most word starts fail at once.
_LEAD_FIRSTS = "".join(sorted({re.escape(lead[0]) for lead in BODY_LEADS}))
_BODY_LEAD = re.compile(rf"\b(?=(?i:[{_LEAD_FIRSTS}]))(?i:{prefix_tree(BODY_LEADS)})\s+"
                        rf"(?:(?i:the\s+team\s+at|us\s+at)\s+)?({COMPANY_PHRASE.pattern})")
# The words after a name that _BODY_TRAIL needs; a text with none of them cannot match it, and
# checking them with ``in`` is far cheaper than trying the name pattern at every capital.
_TRAIL_WORDS = ("is an equal opportunity", "never asks", "is authorised", "has come back", "has received",
                "came back")
_BODY_TRAIL = re.compile(rf"({COMPANY_PHRASE.pattern})\s+(?:{'|'.join(map(re.escape, _TRAIL_WORDS))})")
_CLAUSE_SPLIT = re.compile(r"\s+(?:and|for|in|on|the|to|is|as|we|i)\s+(?=[a-z])")
_POSSESSIVE_END = re.compile(r"['’]s$")


def _company_from_body(text: str) -> tuple[str, ...]:
    """Names the body introduces ("interest in Northwind"). A one-word possessive ("spoke with
    Anita's team") is skipped: it names a person as often as a firm, and a wrong firm splits
    an application while the subject, sender and signature still name the right one."""
    found = [m.group(1) for m in _BODY_LEAD.finditer(text)]
    if any(words in text for words in _TRAIL_WORDS):
        found += [m.group(1) for m in _BODY_TRAIL.finditer(text)]
    out = []
    for phrase in found:
        phrase = _CLAUSE_SPLIT.split(phrase, maxsplit=1)[0]
        cleaned = _clean_company(phrase)
        if not cleaned or _fold(cleaned.split()[0]) in SUBJECT_GENERIC or _fold(cleaned) in ATS_NAMES:
            continue
        if _looks_like_person(cleaned) and len(cleaned.split()) == 2:
            continue
        if _names_a_job(cleaned.split()):
            continue
        if len(phrase.split()) == 1 and _POSSESSIVE_END.search(phrase):
            continue
        out.append(cleaned)
    return tuple(out)


def _signature_lines(text: str) -> list[str]:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-SIGNATURE_LINES:]


ORGISH = re.compile(r"\b(?:" + "|".join(ORG_WORDS[:-4]) + r"|university|college|school|council|county|"
                    r"city|hospital|clinic|trust|society|association|foundation|district|authority|"
                    r"academy|institute|centre|center|agency|services|service|industries|stores|"
                    r"hotel|hotels|resorts|practice|firm|associates|brokers|department|library|"
                    r"union|alliance|ministry|board|office|restaurant|cafe|café|bakery|dental|"
                    r"medical|pharmacy|law|legal|accountants|solicitors|fabricators|supply|"
                    r"manufacturing|construction|landscape|care|freight|distribution|company|spa|exports|"
                    r"handicrafts|cpas?|bank|hospice|mutual|enterprises|holdings|brokers|packaging|storage|"
                    r"lines|fabricators|engineering)\b", re.I)


# A line starting with one of these is a greeting or a sign-off, never a company.
SIGNOFF_FIRST_WORDS = frozenset({"re", "your", "our", "thank", "thanks", "hi", "hello", "hey", "we", "i",
                                 "good", "morning", "afternoon", "evening", "dear", "kind", "warm",
                                 "many", "all", "best", "regards", "cheers", "sincerely", "kindly"})


_LINK_WORDS = frozenset(_LINK.strip("(?:)").split("|"))


def _names_a_job(words: list[str]) -> bool:
    """A role head among the words, unless the name ends on a firm word: 'Walsh Solicitors',
    'Hale Chartered Accountants' are firms, 'Trainee Solicitor' is a job."""
    if not any(_is_head(w) for w in words):
        return False
    last = _fold(words[-1])
    plural = last.endswith("s") and (ORGISH.fullmatch(words[-1]) or last[:-1] in ROLE_HEADS)
    return not (len(words) > 1 and plural)  # 'Saltmarsh Coffee Roasters' is a firm


_NOT_SIGNATURE = re.compile(r"https?://|@\w|\d{3}|[?!]$")
_SIGNATURE_PARTS = re.compile(r"\s+[|·•–—-]\s+|,\s+|\s+@\s+")
LEGAL_BARE = frozenset(x.rstrip(".") for x in LEGAL)  # 'inc', 'co', 'pty ltd': a legal word without its dot
_SIGNOFF_WORDS = re.compile(r"\b(?:sent|regards|thanks|best|cheers|wishes|sincerely|from my|dear|hi|hello)\b",
                            re.I)


def _company_from_signature(text: str, person: str, label: str) -> tuple[str, ...]:
    """Names in the sign-off: 'Recruiter | Northwind', 'Northwind Ltd', 'Talent Team, Northwind'."""
    found = []
    previous_is_title = False
    for line in _signature_lines(text):
        is_title = False
        if len(line) > 90 or line.startswith(">") or _NOT_SIGNATURE.search(line):
            previous_is_title = False
            continue
        parts = [p.strip() for p in _SIGNATURE_PARTS.split(line) if p.strip()]
        title_seen = False
        for index, part in enumerate(parts):
            words = part.split()
            if not words or len(words) > MAX_NAME_WORDS or not words[0][:1].isupper():
                continue
            if (_names_a_job(words) or _clean_company(part) != part and not _clean_company(part)
                    or sum(1 for w in words if w[:1].islower() and w not in _LINK_WORDS) >= 2):
                title_seen = is_title = True
                continue
            if person and (_fold(part) == _fold(person) or _fold(part) == _fold(person.split()[0])):
                continue
            cleaned = _clean_company(part)
            if not cleaned:
                title_seen = is_title = True
                continue
            legal = any(_fold(w.strip(".,")).rstrip(".") in LEGAL_BARE for w in words[1:])
            trusted = (cleaned != part or legal or (label and _matches_domain(cleaned, label))
                       or (ORGISH.search(cleaned) and not _looks_like_person(cleaned))
                       or ((title_seen or previous_is_title) and index == len(parts) - 1
                           and not (_looks_like_person(cleaned) and len(words) > 1)))
            if trusted:
                found.append(cleaned)
        previous_is_title = is_title
    return tuple(f for f in found if f and _fold(f) not in ATS_NAMES and not STEP_WORDS.search(f)
                 and _fold(f.split()[0]) not in SIGNOFF_FIRST_WORDS
                 and not _SIGNOFF_WORDS.search(f))


# Institutions named '<word> of <Place>': the bare place is how their domain and team sign.
INSTITUTION_OF = "University|College|City|County|Borough|Town|Village|State|Province|Bank|Institute|Museum|Diocese"
_INSTITUTION_PREFIX = re.compile(rf"\b(?:{INSTITUTION_OF})[ \t]+of[ \t]+(?:the[ \t]+)?")
_LEADING_THE = re.compile(r"^[Tt]he\s+")


def _extend_name(name: str, texts: tuple[str, ...], label: str) -> str:
    """'Rowanberry' -> 'Rowanberry Apps' when the text or the domain says the longer name."""
    name = best = _LEADING_THE.sub("", name)
    # Only a text holding both the name and '<Institution> of' can name it so: checked first, as
    # compiling the pattern for each name costs more than the whole search.
    texts_of = [text for text in texts if name in text and _INSTITUTION_PREFIX.search(text)]
    if texts_of:
        institution = re.compile(rf"{_INSTITUTION_PREFIX.pattern}{re.escape(name)}\b")
        for text in texts_of:  # 'Eastbridge' -> 'University of Eastbridge' when the mail says so
            m = institution.search(text)
            if m:
                return m.group(0)
    for text in texts:
        for at in _occurrences(name, text, word_start=True):
            m = _NAME_TAIL.match(text, at + len(name))
            if not m:
                continue
            extra = []
            for word in m.group(1).split():
                if _fold(word) in LEGAL or _fold(word) in TEAM_WORDS:
                    break
                extra.append(word)
            while extra and (not ORGISH.search(extra[-1]) or extra[-1] == "&"):
                extra.pop()
            longer = _clean_company(" ".join([name] + extra))
            if not extra or len(longer) <= len(best):
                continue
            if _names_a_job(extra) or _fold(extra[0]) in SUBJECT_GENERIC:
                continue
            if label and not _matches_domain(longer, label) and _matches_domain(name, label):
                # the domain spells the name: only accept words the domain also has
                if not _letters(longer).startswith(re.sub(r"[^a-z0-9]", "", label)[: len(_letters(longer))]):
                    continue
            best = longer
    if best == name and label:
        flat = re.sub(r"[^a-z0-9]", "", label)
        key = _letters(name)
        rest = flat[len(key):] if flat.startswith(key) else ""
        if rest and rest in ORG_WORDS and rest not in ("io", "app", "ai", "hq"):
            best = f"{name} {rest.capitalize()}"
    return best


KEPT_LEGAL = tuple(_DATA["display_legal_suffixes"])
_KEPT_LEGAL_TAIL = re.compile(r",?[ \t]+(" + "|".join(re.escape(x).replace(r"\ ", r"\s*") for x in KEPT_LEGAL)
                              + r")(?![\w])", re.I)
_THE_FOLLOW = re.compile(r"[ \t]+(?:[a-z]|(?i:" + _TEAM_ALT + r")\b)")


def _display_form(name: str, texts: tuple[str, ...]) -> str:
    """The name as the employer writes it: 'The Lindell Hotel' keeps its article when the mail
    writes it as part of the name, 'The Northwind Recruiting Team' gives 'Northwind'; a firm's
    'LLP' / 'Pvt. Ltd.' (employer.toml display_legal_suffixes) is kept when the mail spells it."""
    bare = re.sub(r"^[Tt]he\s+", "", name)
    named_with_the = False
    for text in texts:
        for at in _occurrences("The " + bare, text, word_start=True):
            end = at + 4 + len(bare)
            if not _THE_FOLLOW.match(text, end) and not (end < len(text) and text[end].isalnum()):
                named_with_the = True
                break
        if named_with_the:
            break
    name = "The " + bare if named_with_the else bare
    for text in texts:
        for at in _occurrences(bare, text, word_start=True):
            m = _KEPT_LEGAL_TAIL.match(text, at + len(bare))
            if m:
                return name + " " + re.sub(r"\s+", " ", m.group(1))
    return name


# Addresses and links, whose words spell the domain itself. A text without '@' takes the
# pattern without the address branch, which otherwise backtracks through every word; and
# '[\w-]++' is possessive because giving back a character can never let '\.' match.
_WEB_LINK = r"\b(?:https?://|www\.)\S+|\b[\w-]++\.(?:com|org|net|io|co|ai|dev)\b\S*"
_ADDRESS_OR_LINK = re.compile(r"\S+@\S+|" + _WEB_LINK)
_LINK_ONLY = re.compile(_WEB_LINK)
_VOCAB_WORD = re.compile(r"[a-z]{3,}")


def _distinct(*texts: str) -> tuple[str, ...]:
    """The texts without repeats, in order. The reply is usually the whole body, and the helpers
    given these texts take the first match or a set of words, so a second copy only costs time."""
    return tuple(dict.fromkeys(texts))


def identify_employer(from_name: str, from_addr: str, subject: str, text: str, *,
                      full_text: str = "") -> Employer:
    """The employer (display form) and the job title of one email.

    ``text`` is the cleaned newest reply; ``full_text`` the whole body (quotes,
    signature, footer) used as a fallback.
    """
    from_name = from_name or ""
    subject = subject or ""
    text = (text or "")[:MAX_TEXT_CHARS]
    full_text = (full_text or "")[:MAX_TEXT_CHARS]
    domain = _domain(from_addr or "")
    ats = is_ats_address(domain) if domain else False
    free = _is_freemail(domain)
    label = "" if (ats or free or not domain) else _registrable_label(domain)
    if label in SECOND_LEVEL:  # 'jobs@gov.ab.ca': the label left is only 'gov'
        label = ""
    agency = bool(label) and _is_agency_label(label)

    display = _from_display(from_name, _registrable_label(domain) if ats else "")
    person_name = ""
    if display and not ats and _local_part_spells(display, from_addr or "") and len(display.split()) >= 2:
        person_name, display = display, None  # dean.porter@ is Dean Porter, though 'porter' is a job
    team_named = display is not None and _fold(display) != _fold(from_name.strip().strip("\"'"))
    if (display and not ats and _looks_like_person(display) and not (label and _matches_domain(display, label))
            and not team_named):  # 'Hollis Reed Careers' is a firm's sender, not a person
        person_name, display = display, None
    subject_names = _company_from_subject(subject)
    if (display and ats and re.search(r"\bvia\b", from_name, re.I) and _looks_like_person(display)
            and company_key(display) not in {company_key(n) for n in subject_names}):  # 'Quantrix Trading via X'
        person_name, display = display, None

    scores: dict[str, float] = {}
    forms: dict[str, str] = {}

    def add(name: str | None, score: float, *, guess: bool = False) -> None:
        if not name:
            return
        key = company_key(name)
        if not key or len(key) < 2:
            return
        if label:
            if _matches_domain(name, label):
                score += -2.0 if agency else 3.0
            elif agency:
                score += 1.0
            else:
                score -= 1.5
        if key in scores:
            scores[key] += score * 0.5 + 0.5
            if len(name) > len(forms[key]) and not guess:  # the mail's own spelling beats a guess
                forms[key] = name
        else:
            scores[key], forms[key] = score, name

    for name in subject_names:
        add(name, 3.0)
    agency_display = company_key(display) if display and AGENCY_DISPLAY.search(from_name) else ""
    if agency_display:
        add(display, 1.0)  # 'Veritas Staffing' via a relay: an agency, whose mail names its client
    elif display:
        add(display, 3.5 if (ats or not _looks_like_person(display)) else 1.0)
    for name in _company_from_body(text):
        add(name, 2.0)
    for name in _company_from_signature(text, person_name or from_name, label if not agency else ''):
        add(name, 1.5)
    if full_text and full_text.strip() != text.strip():  # else the same names would count twice
        for name in _company_from_body(full_text):
            add(name, 0.8)
        for name in _company_from_signature(full_text, person_name or from_name, label if not agency else ''):
            add(name, 0.6)
    if label and not agency:
        texts = _distinct(from_name, subject, text, full_text)
        spelled = _spelled_name(label, texts)
        if spelled:
            add(spelled, -1.0)
        else:  # words the mail uses, not counting addresses and links (they hold the label itself)
            folded = _fold_text(" ".join(texts))
            words = (_ADDRESS_OR_LINK if "@" in folded else _LINK_ONLY).sub(" ", folded)
            add(_domain_name(label, set(_VOCAB_WORD.findall(words))), -1.0, guess=True)
    if label and not agency:
        initials = label.split("-")[0]
        for key in list(scores):
            if len(initials) >= 3 and _initials(forms[key]) == initials:
                scores[key] += 3.0

    if agency_display in scores:  # the agency's own name (display, signature) only when no client is named
        scores[agency_display] -= AGENCY_DISPLAY_PENALTY
    if len(person_name.split()) >= 2:  # the sender's own name (or a part of it) is no employer
        own = {company_key(person_name)} | {company_key(w) for w in person_name.split()}
        for key in [k for k in scores if k in own]:
            del scores[key]

    company = None
    if scores:
        key = max(scores, key=lambda k: (scores[k], len(k)))
        company = _extend_name(forms[key], _distinct(from_name, text, full_text), label if not agency else "")
        company = _display_form(company, _distinct(from_name, subject, text, full_text))
    role = find_role(subject, text, full_text)
    return Employer(company=company or None, role=role or None)


__all__ = ["identify_employer", "company_key", "role_key", "is_ats_address", "find_role"]
