"""Label one employer reply: offer, advancing, noncommittal, rejected, acknowledgement or unrelated.

The phrase rules live in ``rules.toml`` beside this module (data, not code): each has an id, a
label, a case-insensitive word-bounded regex, a plain-language explanation, a priority tier and a
weight. They are compiled once at import.

How a verdict is reached, in order:

1. Every rule is matched against the cleaned reply (and subject rules against the subject).
2. A match is cancelled when its sentence puts it under a *negation* ("we are not able to offer
   you ...") or a *conditional* ("if we decide to move forward ...", "should you be
   successful ...", "once we have decided ..."), looking back from the match to the start of its
   clause (negation) or sentence (conditional). Which guards apply is per rule.
3. Decisions outrank hedges: when any decision rule (offer, rejected, advancing; priority 3)
   survives, only decision labels compete, by summed weight. Otherwise noncommittal and
   acknowledgement compete. Weak phrases ("we'll keep your resume on file", "we'll be in touch";
   priority 0) only add to a label's score: they never decide alone.
4. Unrelated rules (job alerts, cold outreach, marketing, rentals...) veto when they weigh at least
   as much as the winner. So do applications that are not for a job (volunteering, a club, a loan:
   ``[veto]``) unless employment is mentioned, and a calendar's "Accepted: ..." notice (the user's
   own answer relayed back).
5. Recall: when no phrase rule matched but the message is plainly about the user's own application
   (``[context] application``, a subject naming a role, or a reply in a thread), weak cues
   (``[[cue]]``: "unfortunately", "offer" + "start date", "schedule", "still", "received"...) are
   summed per label; the heaviest wins if it reaches CUE_MIN_SCORE and leads by CUE_MARGIN, at a
   confidence of at most CUE_MAX_CONFIDENCE. A template whose only phrase match is an
   acknowledgement ("Thank you for your application ...") is a rejection when its rejection cues
   reach CUE_OVERRIDE_SCORE. With nothing at all, the verdict is ``unrelated``.
6. A short *personal note* (a reply, or a note greeting someone by name or signed with a name,
   with no bulk-mail marker) passes the gate on casual job words (``[context] casual``: "a second
   chat", "the client", "referees") and counts as recall context: people word jobs casually.

>>> classify("Your application", "Unfortunately we are not able to offer you the position.").label
'rejected'
"""
from __future__ import annotations

import bisect
import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources

from .alternation import prefix_tree
from .model import LABELS, CalendarEvent, Evidence, Verdict

RULES_RESOURCE = "rules.toml"
# Decisions are stated near the top of a reply (employer replies run 0.5-3 KB, the decision in
# the first ~1.5 KB); beyond this a "reply" is a pasted document, a legal footer or a newsletter,
# and bounding it bounds every regex pass (bulk mail is long: this is most of the scan time).
MAX_TEXT_CHARS = 3_000
MAX_SUBJECT_CHARS = 400  # subjects longer than this are garbage or spam
# An evidence quote longer than this is cut to the clause around the match (popup space).
MAX_EVIDENCE_CHARS = 320
EVIDENCE_CONTEXT_CHARS = 140  # kept on each side of the match when a sentence is cut
MAX_EVIDENCE_ITEMS = 3  # quotes returned per verdict
# A newline ends a "sentence" when the line before it is shorter than this: greetings, headings
# and list items are short, while paragraphs wrapped by mail clients run to ~70 characters.
SHORT_LINE_CHARS = 50
# A verdict read from the subject alone is a template's word, not the employer's sentence.
SUBJECT_ONLY_CONFIDENCE = 0.6
RETRACTION_REACH = 160  # "...said you were unsuccessful. That went out in error." spans two sentences
# Recall cues: two ordinary cues, or one strong one, make a verdict; the runner-up must trail by a
# margin (a message with as much "still" as "unfortunately" is not read as either).
CUE_MIN_SCORE = 2.0
CUE_MARGIN = 0.5
CUE_MAX_CONFIDENCE = 0.5  # a verdict from weak cues is a guess: below any phrase rule's
# Rejection cues that outweigh an acknowledgement template's opening ("Thank you for your
# application ... the competition has been cancelled"): more than a stray "unfortunately".
CUE_OVERRIDE_SCORE = 3.0
# A reply whose subject names no role counts as context for the cues only when it is short and
# speaks of a role: employers' notes run a few hundred characters, mailing-list replies longer.
REPLY_RECALL_MAX_CHARS = 1_200
# An employer's note says which application it is about in its opening lines ("Thank you for your
# application for ..."); looking further only costs time on long bulk mail.
APPLICATION_CONTEXT_CHARS = 1_500
# Job mail names the job (a role, an application, an interview) in its opening; bulk mail that
# first says "job" deep in its text is a newsletter or spam, and is not read any further.
GATE_CONTEXT_CHARS = 1_500
# An offer stated outright (weight >= this) is not outvoted by the steps that come with it
# ("can you come in Monday to do your paperwork?").
OFFER_DECISIVE_WEIGHT = 4.0  # "we'd like to offer you the role", "extend you an offer"
# A hedge this heavy states where an application stands ("still under consideration", "on our
# waitlist", "on hold"), unlike a promise of news ("we'll be in touch once ...", 1.5).
STATED_STATUS_WEIGHT = 2.0
# A personal note: employers' own short replies run a few hundred characters, mailings longer;
# a note with more links than this is a mailing (a note shares a scheduling or a task link).
PERSONAL_NOTE_MAX_CHARS = 1_200
PERSONAL_NOTE_MAX_LINKS = 2

DECISION_LABELS = ("rejected", "offer", "advancing")  # order = tie-break order
HEDGE_LABELS = ("noncommittal", "acknowledgement")
DECISION_PRIORITY = 3
VALID_WHERE = ("body", "subject", "both")
VALID_GUARDS = ("negation", "conditional", "retraction")
DEFAULT_GUARDS = {
    "offer": ("negation", "conditional", "retraction"),
    "advancing": ("negation", "conditional", "retraction"),
    "rejected": ("conditional", "retraction"),
    "noncommittal": (),
    "acknowledgement": (),
    "unrelated": (),
}

# Curly quotes and odd spaces mapped one character to one character, so offsets stay valid.
_NORMALISE = str.maketrans({
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"',
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u2011": "-", "\u2010": "-",
})

_NEGATOR = re.compile(
    r"\b(?:not|no|never|cannot|unable|neither|nor|without|nothing|\w+n't|"
    # "Before we could schedule your next round, ..." : the step never happened.
    r"before (?:we|they|i|he|she) (?:could|got to|were able to|was able to|had a chance to|managed to))\b",
    re.I)
# Negators that do not negate what follows ("we can't wait to ...", "no doubt ...").
_NOT_A_NEGATION = re.compile(
    r"\b(?:can't wait|cannot wait|no doubt|not only|not just|don't hesitate|do not hesitate|"
    r"no later than|no matter|no problem|no worries|not to worry|not long|no need|"
    # "we have no choice but to close the role" states the decision, it does not deny it.
    r"no (?:other )?(?:choice|option|alternative) but)\b", re.I)
_CONDITIONAL = re.compile(
    r"\b(?:if|unless|whether|in the event|in case|once|provided that|providing that|assuming|"
    r"as soon as|should (?:you|we|your|the|there|it|he|she|they|a|this)|only (?:those|candidates|applicants)|"
    # "there will be a delay before we invite candidates for interviews": not yet happened
    # ("before we could ..." is a negation instead: the step never happened).
    r"before (?:we|they|i|the team|the panel) (?:can |are able to |will )?"
    r"(?:invite|schedule|arrange|move|progress|proceed|make|extend|offer|contact|shortlist)|"
    # "Shortlisted applicants will be contacted to arrange an interview" is a condition too.
    r"(?:shortlisted|successful|selected|suitable|qualified|chosen) (?:candidates|applicants|individuals) "
    r"(?:will|would|shall|may|are then|then)|"
    # "Candidates who pass the online tests will be invited to interview": a rule for everyone.
    r"(?:candidates|applicants|those) who (?:pass|meet|succeed|progress|do well|get through|are (?:successful|shortlisted|selected)))\b",
    re.I)
# A sentence that takes a message back ("that email was sent in error, please disregard it")
# cancels decisions stated in it.
_RETRACTION = re.compile(r"\b(?:in error|by mistake|mistakenly|erroneously|disregard)\b", re.I)
# "If you believe this determination is in error, you may appeal" invites an appeal: it takes
# nothing back.
# "If you have already responded, please disregard this reminder" is a courtesy, not a retraction.
_APPEAL = re.compile(r"\b(?:if you (?:believe|think|feel|consider)|appeal|if you(?:'ve| have) already)\b", re.I)
RETRACTION_LOOKBACK = 100  # characters before "in error" searched for an appeal's "if you believe"
# Words after which "if"/"whether" introduce an indirect question, not a condition
# ("let me know if Tuesday works").
_EMBEDDED_QUESTION = re.compile(
    r"(?:know|see|check|wonder|wondering|ask|asking|advise|confirm|tell|sure|unsure|curious)\s+$",
    re.I)
# Conditions on the candidate's own wish or diary ("if so", "if you're still interested", "if
# that works") leave the employer's stated intent standing; so do courtesy ifs.
_NOT_A_CONDITIONAL = re.compile(
    r"(?:once (?:again|more)|as soon as (?:possible|you can)|if so\b|if not\b|"
    r"if (?:you(?:'re| are)|you're) (?:still )?(?:interested|keen|available|free|happy|open|up for)|"
    r"if (?:you(?:'d| would) (?:like|prefer)|you have any|you need|you can't make|you cannot make|that(?:'s| is)? (?:ok|okay|works|suits|fine)|"
    r"(?:this|that|it|any of (?:these|those)|one of (?:these|those)) (?:works|suits)|possible|convenient|needed)|"
    r"in case you (?:have|need|missed))", re.I)
_CLAUSE_BREAK = re.compile(r"[,;:(]|\s(?:but|however|although|though|yet|and so)\s|\s-+\s|\s\u2013\s|\s\u2014\s", re.I)

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st no nos inc ltd co jr sr e.g i.e a.m p.m etc vs approx dept ref fig mt".split())
_SENTENCE_END = re.compile(r"[.!?]+(?=[\s\"')\]]|$)|\n[ \t]*\n|\n")


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    pattern: str
    explanation: str
    priority: int
    weight: float
    where: str
    guards: tuple[str, ...]
    examples: tuple[str, ...]
    triggers: tuple[str, ...]
    strong_context: bool = False
    # A courtesy ("thank you for applying") is an acknowledgement only when nothing states where
    # the application stands: it opens status updates and hedges too.
    courtesy: bool = False
    # Labels whose stated status cancels this rule: praise ("we were impressed by your
    # application") beside "you are on our waitlist" is a hedge, not a step forward.
    yields_to: tuple[str, ...] = ()

    @functools.cached_property
    def regex(self) -> re.Pattern:
        """The compiled pattern, compiled the first time a text wakes the rule: compiling every
        rule costs more than classifying a message, and most mail wakes few rules (every pattern
        compiles in the tests, which run each rule's examples)."""
        try:
            return _compile_pattern(self.pattern)
        except re.error as err:
            raise ValueError(f"rule {self.id}: pattern does not compile ({err})") from err


_UPPERCASE = re.compile(r"(?<!\\)[A-Z]")  # an uppercase letter that is not an escape (\S, \W)


def _compile_pattern(pattern: str) -> re.Pattern:
    """A plain space in a rule means any run of whitespace; the whole rule is word-bounded.

    Rules are written in lowercase and matched on lowercased text: that is several times faster
    than re.IGNORECASE in Python's engine. The leading ``(?<!\\w)`` also makes the search cheap:
    it fails at once inside a word, where most positions are. (Regrouping the alternatives by
    first character searched ~10% faster but cost 3x the compile time, which a sync pays once
    per process for every rule: more than it saved.)
    """
    if _UPPERCASE.search(pattern):
        raise ValueError("patterns are matched on lowercased text: write them in lowercase")
    body = pattern.strip().replace(" ", r"\s+")
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)")


def load_rules(data: dict, key: str = "rule") -> tuple[Rule, ...]:
    """Validate and compile parsed rules.toml data (``[[rule]]``, or ``[[cue]]`` with
    key="cue": cues have no default guards). Raises ValueError naming the bad rule."""
    rules = []
    seen: set[str] = set()
    for raw in data.get(key, []):
        rule_id = raw.get("id")
        if not rule_id or rule_id in seen:
            raise ValueError(f"rule id missing or duplicated: {rule_id!r}")
        seen.add(rule_id)
        label = raw.get("label")
        if label not in LABELS:
            raise ValueError(f"rule {rule_id}: unknown label {label!r}")
        where = raw.get("where", "body")
        if where not in VALID_WHERE:
            raise ValueError(f"rule {rule_id}: where must be one of {VALID_WHERE}")
        guards = tuple(raw.get("guard", DEFAULT_GUARDS[label] if key == "rule" else ()))
        if any(g not in VALID_GUARDS for g in guards):
            raise ValueError(f"rule {rule_id}: guard must be among {VALID_GUARDS}")
        if not raw.get("pattern") or not raw.get("explanation"):
            raise ValueError(f"rule {rule_id}: pattern and explanation are required")
        if _UPPERCASE.search(raw["pattern"]):
            raise ValueError(f"rule {rule_id}: patterns are matched on lowercased text: write them in lowercase")
        triggers = tuple(raw.get("triggers", ()))
        if any(lab not in LABELS for lab in raw.get("yields_to", ())):
            raise ValueError(f"rule {rule_id}: yields_to names an unknown label")
        if any(not t or t != t.lower() for t in triggers):
            raise ValueError(f"rule {rule_id}: triggers must be non-empty lowercase fragments")
        rules.append(Rule(id=rule_id, label=label, pattern=raw["pattern"], triggers=triggers,
                          explanation=raw["explanation"].strip(),
                          priority=int(raw.get("priority", 1)), weight=float(raw.get("weight", 1.0)),
                          where=where, guards=guards, examples=tuple(raw.get("examples", ())),
                          strong_context=bool(raw.get("strong_context", False)),
                          courtesy=bool(raw.get("courtesy", False)),
                          yields_to=tuple(raw.get("yields_to", ()))))
    return tuple(rules)


def _read_rules_data() -> dict:
    with resources.files(__package__).joinpath(RULES_RESOURCE).open("rb") as handle:
        return tomllib.load(handle)


_DATA = _read_rules_data()
RULES: tuple[Rule, ...] = load_rules(_DATA)
BODY_RULES = tuple(r for r in RULES if r.where in ("body", "both"))
SUBJECT_RULES = tuple(r for r in RULES if r.where in ("subject", "both"))
_WEAK_CONTEXT_RULES = tuple(r for r in BODY_RULES if not r.strong_context)
CONTEXT_BODY = _compile_pattern(_DATA["context"]["body"])
# A subject naming a role or an application (ROLE_SUBJECT) gives context, and so does one
# about hiring in general (CONTEXT_SUBJECT); only the first lets weak recall cues run.
ROLE_SUBJECT = _compile_pattern(_DATA["context"]["subject"])
CONTEXT_SUBJECT = _compile_pattern(
    _DATA["context"]["subject"] + "|" + _DATA["context"]["subject_generic"])
CONTEXT_STRONG = _compile_pattern(_DATA["context"]["strong"])
CONTEXT_APPLICATION = _compile_pattern(_DATA["context"]["application"])
APPLICATION_SUBJECT = _compile_pattern(_DATA["context"]["application_subject"])
CUES: tuple[Rule, ...] = load_rules(_DATA, key="cue")
if {c.id for c in CUES} & {r.id for r in RULES}:
    raise ValueError("cue ids must differ from rule ids")
# Labels the cues can give, in tie-break order.
CUE_LABELS = ("rejected", "offer", "advancing", "noncommittal", "acknowledgement")
NON_JOB = _compile_pattern(_DATA["veto"]["non_job"])
BULK = _compile_pattern(_DATA["veto"]["bulk"])
CASUAL_CONTEXT = _compile_pattern(_DATA["context"]["casual"])
_LINK = re.compile(r"https?://|www\.")
# A note's shape: a greeting to someone by name ("Hi Conor,", "Dear Mr Fraser", "Priya,") or
# a signature that is just a name ("Kendra", "Cheers / Dave", "M", "x"). Circulars greet "Dear
# friend / customer / all" and sign with a company or a link.
_GREETING = re.compile(
    r"\s*(?:(?i:hi|hey|hello|hiya|dear|morning|afternoon|evening|good (?:morning|afternoon|evening)|"
    r"alright|ok|okay|thanks|thank you|cheers|sorry)\b,?\s+"
    r"(?!(?i:friend|friends|sir|sirs|madam|customer|customers|member|members|all|everyone|everybody|"
    r"team|there|subscriber|subscribers|user|colleague|colleagues|applicant|candidate|valued)\b)"
    r"(?:(?i:mr|mrs|ms|miss|dr|prof)\.?\s+)?[A-Za-z][\w'-]*|[A-Z][a-z'-]+(?: mate)?,[ \t]*\n)")
_SIGN_OFF = re.compile(
    r"\s*(?:-\s*)?(?!(?i:thanks|thank you|cheers|regards|best|sincerely|hi|hello|sorry|ok)\b)"
    r"(?:[A-Z][a-z'.-]*(?: [A-Z][a-z'.-]*){0,2}|[A-Za-z]|x+)\.?\s*$")
NOTE_SIGN_OFF_LINES = 3  # a name is among the last lines of a note (after "Thanks," / "Cheers")
_YOU = re.compile(r"(?<!\w)(?:you|your|you're|you've|you'll|you'd|ya|u|ur)(?!\w)")  # "let u know": texting spelling
EMPLOYMENT = _compile_pattern(_DATA["veto"]["employment"])
_LIST_TAG = re.compile(r"\[[^\]]{2,40}\]")  # "[SAtalk]", "[Tech Digest]": mailing-list traffic
_REPLY_SUBJECT = re.compile(r"^\s*(?:(?:re|aw|sv|fw|fwd|tr)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
# "Accepted: Final round @ Tue 9am", "Calendar: Declined: ...": a calendar relaying someone's
# answer to an invitation (usually the user's own), not a message from the employer.
_CALENDAR_RESPONSE = re.compile(
    r"^\s*(?:(?:calendar|fwd?|re)\s*:\s*)*(?:accepted|declined|tentative(?:ly accepted)?|"
    r"new time proposed)\s*:", re.I)

# One pass finds every trigger fragment present; a fragment found also reveals the shorter
# fragments that are its prefixes, so rules keyed on those still run.
_ALL_TRIGGERS = sorted({t for r in BODY_RULES for t in r.triggers}, key=len, reverse=True)


# Zero-width, so fragments that overlap ("another" holds "not" and "other") are all seen.
_TRIGGER_SCAN = re.compile(f"(?=({prefix_tree(_ALL_TRIGGERS)}))") if _ALL_TRIGGERS else None
_TRIGGER_IMPLIES = {t: frozenset(u for u in _ALL_TRIGGERS if u in t) for t in _ALL_TRIGGERS}


def _longest_fragments(low: str) -> dict[str, list[int]]:
    """The trigger fragments found in ``low``, each with the offsets where it starts; a fragment
    stands for the shorter fragments inside it too (``_TRIGGER_IMPLIES``)."""
    longest: dict[str, list[int]] = {}
    if _TRIGGER_SCAN is not None:
        for m in _TRIGGER_SCAN.finditer(low):
            longest.setdefault(m.group(1), []).append(m.start())
    return longest


@dataclass(frozen=True)
class _RuleSet:
    """Rules indexed by the fragments that wake them, so a message costs the rules its fragments
    wake rather than a look at every rule's triggers (most rules sleep on most mail)."""
    rules: tuple[Rule, ...]
    # A fragment the scan reports -> the rules (indices, ascending) one of whose triggers it holds.
    by_fragment: dict[str, tuple[int, ...]]
    untriggered: tuple[int, ...]  # rules without triggers run whenever any fragment is found

    @classmethod
    def of(cls, rules: tuple[Rule, ...]) -> _RuleSet:
        by_fragment = {f: tuple(i for i, r in enumerate(rules) if not implied.isdisjoint(r.triggers))
                       for f, implied in _TRIGGER_IMPLIES.items()}
        return cls(rules, by_fragment, tuple(i for i, r in enumerate(rules) if not r.triggers))


_BODY = _RuleSet.of(BODY_RULES)
_WEAK_CONTEXT = _RuleSet.of(_WEAK_CONTEXT_RULES)
_WHOLE_TEXT = -1  # sentence mask of a rule without triggers: it searches the whole text


def _windows(sentences: list[int], starts: list[int], size: int) -> list[tuple[int, int]]:
    """Merged spans from the sentence before each trigger's sentence (indices into ``starts``,
    ascending, distinct) to the end of the sentence after it: a rule can only match where one of
    its triggers is."""
    spans: list[tuple[int, int]] = []
    last = len(starts)
    for i in sentences:
        lo = starts[i - 1 if i else 0]
        hi = starts[i + 2] if i + 2 < last else size
        if spans and lo <= spans[-1][1]:
            spans[-1] = (spans[-1][0], hi if hi > spans[-1][1] else spans[-1][1])
        else:
            spans.append((lo, hi))
    return spans

CALENDAR_RULE_ID = "calendar.interview"
_CALENDAR_INTERVIEW = re.compile(
    r"\b(?:interview|screen|screening|phone call|video call|call with|chat with|onsite|on-site|"
    r"assessment|final round|panel|meet the team|hiring manager)\b", re.I)
_CALENDAR_NOT_JOB = re.compile(
    r"\b(?:webinar|workshop|seminar|class|course|meetup|conference|fair|podcast|research|study|"
    r"parent|panel discussion|live|training|coaching)\b", re.I)
CALENDAR_WEIGHT = 2.5
_INVITATION_SUBJECT = re.compile(r"^\s*(?:updated )?invitation: (.{3,200}?) @ ", re.I)


@dataclass
class _Hit:
    rule: Rule
    start: int  # -1 for a subject or calendar match
    end: int
    text: str


def _sentence_starts(text: str) -> list[int]:
    """Offsets where sentences start: after . ! ? (not after an abbreviation), blank lines and
    short lines."""
    starts = [0]
    line_start = 0
    for m in _SENTENCE_END.finditer(text):
        token = m.group()
        if token == "\n":
            short = m.start() - line_start < SHORT_LINE_CHARS
            line_start = m.end()
            if not short:
                continue
        elif token[0] == "\n":
            line_start = m.end()
        else:
            word_start = m.start()
            while word_start > 0 and (text[word_start - 1].isalnum() or text[word_start - 1] == "."):
                word_start -= 1
            if text[word_start:m.start()].lower() in _ABBREVIATIONS:
                continue
        starts.append(m.end())
    return starts


def _sentence_bounds(text: str, starts: list[int], pos: int) -> tuple[int, int]:
    i = bisect.bisect_right(starts, pos) - 1
    start = starts[i]
    end = starts[i + 1] if i + 1 < len(starts) else len(text)
    return start, end


def _negated(prefix: str) -> bool:
    breaks = list(_CLAUSE_BREAK.finditer(prefix))
    clause = prefix[breaks[-1].end():] if breaks else prefix
    clause = _NOT_A_NEGATION.sub(" ", clause)
    return _NEGATOR.search(clause) is not None


def _conditional(prefix: str) -> bool:
    for m in _CONDITIONAL.finditer(prefix):
        if _NOT_A_CONDITIONAL.match(prefix, m.start()):  # match() anchors at m.start()
            continue
        word = m.group().lower()
        if word in ("if", "whether") and _EMBEDDED_QUESTION.search(prefix, 0, m.start()):
            continue
        return True
    return False


def _quoted(text: str, sentence_start: int, match_start: int) -> bool:
    """True when the match sits inside double quotes opened earlier in its sentence: a newsletter
    or a friend quoting recruiter-speak ("we've decided to move forward with other candidates")
    reports someone else's words, it does not decide anything about you."""
    return text.count('"', sentence_start, match_start) % 2 == 1


def _guarded(rule: Rule, text: str, sentence: tuple[int, int], match_start: int) -> bool:
    if not rule.guards:
        return False
    # The retraction may follow in the next sentence: look up to RETRACTION_REACH characters on.
    if "retraction" in rule.guards:
        reach = min(len(text), sentence[1] + RETRACTION_REACH)
        for m in _RETRACTION.finditer(text, sentence[0], reach):
            if not _APPEAL.search(text, max(0, m.start() - RETRACTION_LOOKBACK), m.start()):
                return True
    prefix = text[sentence[0]:match_start]
    if "negation" in rule.guards and _negated(prefix):
        return True
    return "conditional" in rule.guards and _conditional(prefix)


def _quote(text: str, sent: tuple[int, int], m_start: int, m_end: int) -> tuple[int, int]:
    """The sentence around a match, trimmed of whitespace; cut around the match when too long."""
    start, end = sent
    if end - start > MAX_EVIDENCE_CHARS:
        start = max(start, m_start - EVIDENCE_CONTEXT_CHARS)
        end = min(end, m_end + EVIDENCE_CONTEXT_CHARS)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _normalise(text: str) -> str:
    """Curly quotes and odd spaces made plain; ASCII text (most mail) has none, and
    str.isascii() answers without reading the text."""
    return text if text.isascii() else text.translate(_NORMALISE)


def _lower_same_length(text: str) -> str:
    """text.lower(), keeping offsets: the few characters whose lowercase is longer stay as is."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _body_hits(text: str, original: str, rule_set: _RuleSet = _BODY) -> list[_Hit]:
    """Surviving matches in the normalised, lowercased ``text``; quotes are cut from
    ``original`` (same offsets: normalisation and lowercasing map one character to one)."""
    hits: list[_Hit] = []
    longest = _longest_fragments(text)
    if not longest:
        return hits
    starts = _sentence_starts(text)
    # Each woken rule's sentences (a bit per sentence) holding one of its trigger fragments.
    woken: dict[int, int] = dict.fromkeys(rule_set.untriggered, _WHOLE_TEXT)
    for fragment, positions in longest.items():
        sentences = 0
        for p in positions:
            sentences |= 1 << (bisect.bisect_right(starts, p) - 1)
        for i in rule_set.by_fragment[fragment]:
            woken[i] = woken.get(i, 0) | sentences
    # Rules woken in the same sentences share their windows.
    windows: dict[int, list[tuple[int, int]]] = {_WHOLE_TEXT: [(0, len(text))]}
    for i in sorted(woken):
        mask = woken[i]
        spans = windows.get(mask)
        if spans is None:
            sentences = [s for s in range(mask.bit_length()) if mask >> s & 1]
            spans = windows[mask] = _windows(sentences, starts, len(text))
        hit = _first_hit(rule_set.rules[i], text, original, starts, spans)
        if hit is not None:
            hits.append(hit)
    return hits


def _first_hit(rule: Rule, text: str, original: str, starts: list[int],
               spans: list[tuple[int, int]]) -> _Hit | None:
    """The first match of ``rule`` inside ``spans`` that no guard cancels."""
    for lo, hi in spans:
        for m in rule.regex.finditer(text, lo, hi):
            sent = _sentence_bounds(text, starts, m.start())
            if _guarded(rule, text, sent, m.start()) or _quoted(text, sent[0], m.start()):
                continue
            q_start, q_end = _quote(text, sent, m.start(), m.end())
            return _Hit(rule, q_start, q_end, original[q_start:q_end])
    return None


def _subject_hits(subject: str) -> list[_Hit]:
    hits = []
    for rule in SUBJECT_RULES:
        m = rule.regex.search(subject.lower())
        if m:
            hits.append(_Hit(rule, -1, -1, m.group()))
    return hits


def _calendar_hit(calendar: CalendarEvent | None, subject: str) -> _Hit | None:
    """An interview invitation, from the parsed calendar part or, failing that, from a calendar
    invitation's subject ("Invitation: Technical screen @ Thu Oct 2, 2pm")."""
    if calendar is not None:
        if (calendar.method or "").upper() == "CANCEL":
            return None
        summary = (calendar.summary or "")[:MAX_SUBJECT_CHARS]
    else:
        m = _INVITATION_SUBJECT.match(subject)
        if not m:
            return None
        summary = m.group(1)
    if not _CALENDAR_INTERVIEW.search(summary) or _CALENDAR_NOT_JOB.search(summary):
        return None
    rule = Rule(id=CALENDAR_RULE_ID, label="advancing", pattern="", priority=DECISION_PRIORITY,
                explanation="A calendar invitation for an interview: a concrete next step.",
                weight=CALENDAR_WEIGHT, where="body", guards=(), examples=(), triggers=())
    return _Hit(rule, -1, -1, summary)


def _confidence(best: float, others: float, unrelated: float) -> float:
    share = best / (best + others + unrelated)
    strength = min(1.0, best / 4.0)
    return round(max(0.05, min(0.99, (0.35 + 0.64 * share) * (0.6 + 0.4 * strength))), 2)


def classify(subject: str, text: str, *, calendar: CalendarEvent | None = None) -> Verdict:
    """Label the newest reply of one message, with the evidence that proves it.

    ``text`` is the cleaned reply; evidence offsets index into it (``text[start:end] ==
    evidence.text``). Subject and calendar evidence carry start = end = -1.
    """
    original = (text or "")[:MAX_TEXT_CHARS]
    text = _lower_same_length(_normalise(original))
    subject = _normalise((subject or "")[:MAX_SUBJECT_CHARS])
    if _CALENDAR_RESPONSE.match(subject) or (calendar is not None
                                             and (calendar.method or "").upper() == "REPLY"):
        return Verdict(label="unrelated", confidence=0.9)  # an answer to an invitation, relayed
    cal = _calendar_hit(calendar, subject)
    low_subject = subject.lower()
    personal = None  # worked out only when needed: most mail is decided without it
    if cal is None and not (CONTEXT_SUBJECT.search(low_subject) or CONTEXT_BODY.search(low_subject)
                            or CONTEXT_BODY.search(text, 0, GATE_CONTEXT_CHARS)):
        # A person's short note may word the job casually ("a second chat with the partners").
        personal = _personal_note(low_subject, text, original)
        if not personal or not (CASUAL_CONTEXT.search(low_subject) or CASUAL_CONTEXT.search(text)):
            return Verdict(label="unrelated", confidence=0.95)  # nothing about a job application
    verdict = _classify_job_mail(subject, low_subject, text, original, cal, personal)
    # Checked last, and only for a job label, because it is rarely needed: a club, a loan, a
    # volunteering scheme...
    if verdict.label != "unrelated" and _not_a_job(low_subject, text):
        return Verdict(label="unrelated", confidence=0.9)
    return verdict


def _not_a_job(low_subject: str, text: str) -> bool:
    """An application for something other than a job (a club, a loan, volunteering), with no
    word of employment (pay, a vacancy) to say it is a job after all."""
    return bool(NON_JOB.search(low_subject) or NON_JOB.search(text)) and not (
        EMPLOYMENT.search(low_subject) or EMPLOYMENT.search(text))


def _personal_note(low_subject: str, text: str, original: str) -> bool:
    """A short note written to the user by a person: a reply, or a note that greets someone by
    name or is signed with one and speaks to "you"; it is short, carries no
    mailing-list tag, no bulk-mail marker (unsubscribe, newsletter, no-reply) and at most a link
    or two. A person's note about a job is about the user's own application far more often than
    not: the recall cues may read it even when it words the job casually."""
    # Cheapest tests first: most mail fails on length or shape.
    if len(text) > PERSONAL_NOTE_MAX_CHARS or _LIST_TAG.search(low_subject):
        return False
    reply = _REPLY_SUBJECT.match(low_subject) is not None
    if not (reply or _GREETING.match(original) is not None or _signed_by_name(original)):
        return False
    # A reply answers the user already; any other note must speak to "you".
    if (not reply and _YOU.search(text) is None) or len(_LINK.findall(text)) > PERSONAL_NOTE_MAX_LINKS:
        return False
    return BULK.search(text) is None and BULK.search(low_subject) is None


def _signed_by_name(original: str) -> bool:
    """A name (or an initial, or "x") alone on one of the last lines, below the note's first."""
    lines = [line for line in original.strip().splitlines() if line.strip()]
    return any(_SIGN_OFF.match(line) for line in lines[1:][-NOTE_SIGN_OFF_LINES:])


def _classify_job_mail(subject: str, low_subject: str, text: str, original: str,
                       cal: _Hit | None, personal: bool | None = None) -> Verdict:
    """classify() past the context gate: phrase rules, then recall cues, then the subject."""
    # Rules marked strong_context count only when the message names an application, interview
    # or candidacy: without one they are not even run.
    strong = (CONTEXT_SUBJECT.search(low_subject) or CONTEXT_STRONG.search(low_subject)
              or CONTEXT_STRONG.search(text))
    body_hits = _yield(_body_hits(text, original, _BODY if strong else _WEAK_CONTEXT))
    hits = body_hits + _subject_hits(subject)
    if cal:
        hits.append(cal)
    job_body = [h for h in body_hits if h.rule.label != "unrelated" and h.rule.priority > 0]
    unrelated_weight = sum(h.rule.weight for h in hits if h.rule.label == "unrelated")
    if not job_body and cal is None:
        job_subject = [h for h in hits if h.start < 0 and h.rule.label != "unrelated"]
        # Weak cues never argue with a veto (a newsletter, a job alert, cold outreach).
        if not unrelated_weight and (_recall_context(low_subject, text, bool(strong)) or (
                personal if personal is not None else _personal_note(low_subject, text, original))):
            verdict = _cue_verdict(text, original, job_subject, unrelated_weight)
            if verdict is not None:
                return verdict
        # A templated subject ("Application received", "Interview confirmed: ...") over a body
        # that speaks of a job but words nothing a rule knows decides on its own.
        if not job_subject:
            return Verdict(label="unrelated", confidence=0.95 if not hits else 0.8)
        return _decide(job_subject + [h for h in hits if h.rule.label == "unrelated"],
                       {h.rule.label for h in job_subject}, subject_only=True)
    if cal is None and all(h.rule.label == "acknowledgement" for h in job_body):
        # "Thank you for your application for X. This competition has been cancelled.": the
        # template's polite opening is not what the message says.
        verdict = _cue_verdict(text, original, [], unrelated_weight, labels=("rejected",),
                               min_score=CUE_OVERRIDE_SCORE)
        if verdict is not None:
            return verdict
    return _decide(hits, _strong_labels(job_body, cal), cal=cal, body_hits=body_hits)


def _yield(hits: list[_Hit]) -> list[_Hit]:
    """Drop hits whose rule yields to a label that a stated status (a hedge of weight at least
    STATED_STATUS_WEIGHT) supports in the same message."""
    if not any(h.rule.yields_to for h in hits):
        return hits
    stated = {h.rule.label for h in hits if h.rule.priority >= 2 and h.rule.weight >= STATED_STATUS_WEIGHT}
    return [h for h in hits if not (set(h.rule.yields_to) & stated)]


def _recall_context(low_subject: str, text: str, strong: bool) -> bool:
    """The message is plainly about the user's own application: the subject names an application,
    an interview or a role ("Interview result"), the body says "your application" / "thanks for
    coming in" / "you applied", or it is a reply in a thread whose subject names a job title
    ("Re: Welding position"). A job title alone in a list's subject ("[Tech Specialist] digest")
    is not enough."""
    if APPLICATION_SUBJECT.search(low_subject) and not _LIST_TAG.search(low_subject):
        return True
    # "Re: Any update?" answered with "the role is still open": a short personal reply with strong
    # job context. Long replies are list discussions, not an employer's note.
    if _REPLY_SUBJECT.match(low_subject) is not None and not _LIST_TAG.search(low_subject) and (
            ROLE_SUBJECT.search(low_subject) or (strong and len(text) <= REPLY_RECALL_MAX_CHARS)):
        return True
    return CONTEXT_APPLICATION.search(text, 0, APPLICATION_CONTEXT_CHARS) is not None


def _cue_verdict(text: str, original: str, subject_hits: list[_Hit], unrelated_weight: float, *,
                 labels: tuple[str, ...] = CUE_LABELS, min_score: float = CUE_MIN_SCORE
                 ) -> Verdict | None:
    """Sum the weak cues per label (each cue once, at its first unguarded match) plus any
    subject-rule hits; a verdict when the heaviest label is heavy enough and clearly ahead."""
    starts: list[int] | None = None
    span = [(0, len(text))]
    score = dict.fromkeys(CUE_LABELS, 0.0)
    found: dict[str, list[_Hit]] = {lab: [] for lab in CUE_LABELS}
    for cue in CUES:
        # A substring test per trigger is far cheaper than the cue's regex over the whole text.
        if cue.label not in labels or (cue.triggers and not any(t in text for t in cue.triggers)):
            continue
        if starts is None:
            starts = _sentence_starts(text)
        hit = _first_hit(cue, text, original, starts, span)
        if hit is not None:
            score[cue.label] += cue.weight
            found[cue.label].append(hit)
    for h in subject_hits:
        if h.rule.label in labels:
            score[h.rule.label] += h.rule.weight
            found[h.rule.label].append(h)
    ranked = sorted(CUE_LABELS, key=lambda lab: (-score[lab], CUE_LABELS.index(lab)))
    best, runner_up = ranked[0], ranked[1]
    if (score[best] < min_score or score[best] - score[runner_up] < CUE_MARGIN
            or unrelated_weight >= score[best]):
        return None
    evidence: list[Evidence] = []
    for h in sorted(found[best], key=lambda h: (h.start < 0, -h.rule.weight, h.start)):
        if len(evidence) < MAX_EVIDENCE_ITEMS and all(e.text != h.text for e in evidence):
            evidence.append(Evidence(rule=h.rule.id, label=best, text=h.text, start=h.start,
                                     end=h.end, explanation=h.rule.explanation))
    others = sum(v for lab, v in score.items() if lab != best)
    confidence = min(CUE_MAX_CONFIDENCE, _confidence(score[best], others, unrelated_weight))
    return Verdict(label=best, confidence=confidence, evidence=tuple(evidence))


def _strong_labels(job_body: list[_Hit], cal: _Hit | None) -> set[str]:
    return {h.rule.label for h in job_body} | ({"advancing"} if cal else set())


def _scores(hits: list[_Hit]) -> dict[str, float]:
    """Summed weight per label. One sentence is one piece of evidence: rules that overlap on the
    same sentence count once, at the weight of the strongest, so a label is not inflated by
    near-duplicate phrasings."""
    best_per_sentence: dict[tuple[str, int, int, str], float] = {}
    for h in hits:
        key = (h.rule.label, h.start, h.end, h.text if h.start < 0 else "")
        best_per_sentence[key] = max(best_per_sentence.get(key, 0.0), h.rule.weight)
    score = dict.fromkeys(LABELS, 0.0)
    for (label, *_), weight in best_per_sentence.items():
        score[label] += weight
    return score


def _decide(hits: list[_Hit], strong: set[str], *, cal: _Hit | None = None,
            body_hits: list[_Hit] = (), subject_only: bool = False) -> Verdict:
    """Score the surviving hits and pick the label (see the module docstring)."""
    score = _scores(hits)
    if cal is not None or any(h.rule.priority >= DECISION_PRIORITY and h.rule.label in DECISION_LABELS
                              and h.start >= 0 for h in body_hits):
        contenders = DECISION_LABELS
    elif subject_only:
        contenders = DECISION_LABELS if strong & set(DECISION_LABELS) else HEDGE_LABELS
    else:
        contenders = HEDGE_LABELS
    if contenders is HEDGE_LABELS and any(
            h.rule.label == "noncommittal" and h.start >= 0 and h.rule.priority >= 2
            and h.rule.weight >= STATED_STATUS_WEIGHT for h in hits):
        # A stated status ("still under consideration", "on the waitlist") outranks the
        # courtesies around it ("thank you for your interest in the role").
        hits = [h for h in hits if not h.rule.courtesy]
        strong = strong - ({"acknowledgement"} if not any(
            h.rule.label == "acknowledgement" and h.start >= 0 for h in hits) else set())
        score = _scores(hits)
    # Only labels with a real (non tie-break) body or calendar match may win.
    candidates = [lab for lab in contenders if lab in strong]
    if "advancing" in candidates and any(
            h.rule.label == "offer" and h.start >= 0 and h.rule.weight >= OFFER_DECISIVE_WEIGHT
            for h in body_hits):
        candidates.remove("advancing")  # the steps that come with an offer do not outvote it
    if not candidates:  # decisions came only from the subject; fall back to hedges
        candidates = [lab for lab in HEDGE_LABELS if lab in strong] or list(strong)
    best = max(candidates, key=lambda lab: (score[lab], -candidates.index(lab)))
    unrelated = score["unrelated"]
    if unrelated >= score[best]:
        return Verdict(label="unrelated", confidence=_confidence(unrelated, score[best], 0.0))
    others = sum(v for lab, v in score.items() if lab not in (best, "unrelated"))
    chosen = sorted((h for h in hits if h.rule.label == best),
                    key=lambda h: (h.start < 0, -h.rule.priority, -h.rule.weight, h.start))
    evidence = []
    for h in chosen:
        if len(evidence) >= MAX_EVIDENCE_ITEMS:
            break
        if any(e.text == h.text for e in evidence):
            continue
        evidence.append(Evidence(rule=h.rule.id, label=h.rule.label, text=h.text, start=h.start,
                                 end=h.end, explanation=h.rule.explanation))
    confidence = _confidence(score[best], others, unrelated)
    if subject_only:
        confidence = min(confidence, SUBJECT_ONLY_CONFIDENCE)
    return Verdict(label=best, confidence=confidence, evidence=tuple(evidence))


__all__ = ["classify", "load_rules", "RULES", "CUES", "Rule"]
