"""The newest reply of a message body: quoted history, forwards, signatures and footers removed.

Works line by line on the text and keeps whole original lines, so every piece of the
cleaned text maps back into the original (``Reply.segments``). Only clear markers are
cut: a sign-off such as "Best,\\nJane Doe\\nRecruiter, Northwind" stays, because the
employer module reads the company from it.

What is removed, and why:
- everything from the first history marker on: "On <date>, <name> wrote:" (also wrapped
  over two or three lines, and its French/German/Spanish forms), "-----Original Message-----",
  an Outlook header block (From:/Sent:/To:/Subject:, also De:/Envoyé:/À:/Objet:) and the
  "____" rule above it, "---------- Forwarded message ---------", "Begin forwarded message:";
- everything from a signature marker on: a "-- " line, "Sent from my iPhone/Android/...",
  "Get Outlook for iOS/Android";
- lines quoted with ">" anywhere (an inline answer between quotes stays);
- paragraphs that are confidentiality/legal notices, and unsubscribe / manage-preferences lines.

Kept on purpose: "This is an automated email, replies are not read" lines. They are short,
say nothing about the decision, and hint to the classifier that this is a system message.

    >>> newest_reply("Thanks, we'll be in touch.\\n\\nOn Mon, 3 Mar 2025, Sam wrote:\\n> Hello").text
    "Thanks, we'll be in touch."
"""
from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

from .model import Reply

MAX_LINES = 3_000        # the newest reply is at the top; scanning further only costs time
MAX_CHARS = 300_000      # same reason, for a text with few but very long lines
MAX_HEADER_LOOKAHEAD = 6  # an Outlook header block's fields sit within this many lines of From:

_WROTE_END = re.compile(r"(?:\bwrote|\ba\s+écrit|\bschrieb|\bescribió|\bha\s+scritto)\s*:\s*$", re.I)
_ON_START = re.compile(r"^\s*(?:On|Le|Am|El|Il)\s+\S", re.I)
_WROTE_ONE_LINE = re.compile(
    r"^\s*(?:On|Le|Am|El|Il)\s+.{4,300}(?:\bwrote|\ba\s+écrit|\bschrieb|\bescribió|\bha\s+scritto)\s*:\s*$",
    re.I)
# "Jane Doe <jane@x.com> wrote:" or "2025-03-04 10:12 GMT+01:00 Jane <jane@x.com>:" style lines.
_WHO_WROTE = re.compile(r"^.{0,200}(?:@|\d{1,2}:\d{2}).{0,200}\bwrote\s*:\s*$", re.I)
_HARD_MARKERS = re.compile(
    r"^\s*(?:-{2,}\s*(?:Original Message|Message d'origine|Ursprüngliche Nachricht|Mensaje original)\s*-{2,}"
    r"|-{3,}\s*Forwarded message\s*-{3,}"
    r"|Begin forwarded message\s*:"
    r"|-{3,}\s*Message transféré\s*-{3,}"
    r"|\*{0,2}Forwarded message\*{0,2}\s*:?)\s*$",
    re.I)
_RULE_LINE = re.compile(r"^\s*(?:_{10,}|-{10,}|={10,})\s*$")
_FROM_FIELD = re.compile(r"^\s*\*?(?:From|De|Von|Van|Da)\s*\*?\s*:\s*\S", re.I)
_SENT_FIELD = re.compile(r"^\s*\*?(?:Sent|Date|Envoyé|Gesendet|Datum|Enviado|Fecha|Inviato)\s*\*?\s*:", re.I)
_TO_FIELD = re.compile(r"^\s*\*?(?:To|Subject|À|A|Objet|An|Betreff|Para|Asunto|Oggetto|Cc)\s*\*?\s*:", re.I)
_SIGNATURE_MARKER = re.compile(
    r"^(?:--|-- |__)\s*$"
    r"|^\s*Sent from (?:my )?(?:iPhone|iPad|Android|Samsung|Galaxy|mobile|BlackBerry|Huawei|Pixel|"
    r"Outlook|Mail for Windows|Yahoo Mail|Proton Mail|ProtonMail)\b.{0,60}$"
    r"|^\s*Sent via .{0,40}(?:mobile|phone|iPhone|Android).{0,20}$"
    r"|^\s*Get Outlook for (?:iOS|Android|Mac|Windows)\b.{0,40}$"
    r"|^\s*(?:Envoyé de mon|Von meinem) (?:iPhone|iPad|Android|Smartphone).{0,40}$",
    re.I)
_LEGAL = re.compile(
    r"CONFIDENTIALITY NOTICE|CONFIDENTIALITY STATEMENT|^[ \t]*DISCLAIMER\s*:"
    r"|\bthis (?:e-?mail|message|communication|transmission)(?: message)?(?:,)? (?:and|including|together "
    r"with) any (?:attachments?|files)\b.{0,80}\b(?:confidential|privileged|intended solely|intended only)"
    r"|\bthis (?:e-?mail|message|communication|transmission) (?:is|may be|contains?|may contain) "
    r"(?:strictly )?(?:confidential|privileged|intended (?:solely|only))"
    r"|\bif you (?:have received|received|are not the intended recipient)\b.{0,140}"
    r"(?:in error|intended recipient|notify the sender|delete)",
    re.I | re.S | re.M)
_FOOTER_LINE = (
    r"\bunsubscribe\b|\bmanage (?:your )?(?:email |e-mail |notification |communication )?"
    r"(?:preferences|settings|subscriptions?)\b|\bupdate your (?:email )?preferences\b"
    r"|\bopt[- ]out of (?:these|future|all) (?:e-?mails|messages|communications)\b"
    r"|\bemail preferences\b|\bview (?:this email )?in (?:your|a) browser\b")
_QUOTED_LINE = re.compile(r"\n[ \t]*>")  # run over "\n" + text, like _CANDIDATE_LINE
_FOOTER = re.compile(_FOOTER_LINE, re.I)


def _lines(text: str) -> tuple[list[str], list[int]]:
    lines = text.splitlines(keepends=True)
    starts = [0, *accumulate(map(len, lines))][:-1] if lines else []
    return lines, starts


def _is_header_block(lines: list[str], index: int) -> bool:
    """A From: line with Sent:/Date: and To:/Subject: fields right below it (Outlook, Apple)."""
    if not _FROM_FIELD.match(lines[index]):
        return False
    sent = to = False
    for line in lines[index + 1:index + 1 + MAX_HEADER_LOOKAHEAD]:
        if not line.strip():
            continue
        sent = sent or bool(_SENT_FIELD.match(line))
        to = to or bool(_TO_FIELD.match(line))
        if sent and to:
            return True
    return False


def _wrote_line(lines: list[str], index: int) -> bool:
    """An attribution line ("On <date>, <name> wrote:"), possibly wrapped over 2-3 lines."""
    line = lines[index]
    if _WROTE_END.search(line) and (_WROTE_ONE_LINE.match(line) or _WHO_WROTE.match(line)):
        return True
    if _ON_START.match(line) and len(line) < 300 and not _WROTE_END.search(line):
        joined = line.rstrip("\r\n")
        for nxt in lines[index + 1:index + 3]:
            joined += " " + nxt.strip()
            if _WROTE_END.search(nxt) and len(joined) < 400:
                return bool(re.search(r"\d|@", joined))
            if not nxt.strip():
                break
    return False


# A cheap first pass over the whole text: only lines this finds are examined by the full rules
# (one regex scan instead of a dozen matches per line).
_CANDIDATE_LINE = re.compile(
    r"\n[ \t]*(?:[-_=*]|on\s|le\s|am\s|el\s|il\s|from|de\b|von|van|da\b|begin|sent|get outlook|envoy"
    r"|forwarded)", re.I)  # run over "\n" + text: the literal "\n" lets re skip ahead fast
_WROTE_WORDS = ("wrote", "écrit", "schrieb", "escribió", "scritto")
# Python's re tries every alternative at every position, so the footer and legal patterns only
# run when one of these words (found with a fast substring search) is in the text at all.
_FOOTER_WORDS = ("unsubscribe", "preferences", "opt out", "opt-out", "browser", "subscription",
                 "settings")
_LEGAL_WORDS = ("confidential", "intended recipient", "in error", "disclaimer", "privileged",
                "intended solely", "intended only")


def _line_index(starts: list[int], offset: int) -> int:
    return bisect_right(starts, offset) - 1


def _cut_index(lines: list[str], starts: list[int], region: str, lower: str | None) -> int:
    """Index of the first line of quoted history, a forward or a signature (len(lines) if none)."""
    candidates = {_line_index(starts, m.start()) for m in _CANDIDATE_LINE.finditer("\n" + region)}
    candidates.update(index for index in _keyword_lines(lines, starts, len(lines), lower, _WROTE_WORDS)
                      if _WROTE_END.search(lines[index]))
    for index in sorted(candidates):
        line = lines[index]
        if _HARD_MARKERS.match(line) or _SIGNATURE_MARKER.match(line) or _wrote_line(lines, index):
            return index
        if _RULE_LINE.match(line):
            for nxt in lines[index + 1:index + 4]:
                if nxt.strip():
                    if _FROM_FIELD.match(nxt):
                        return index
                    break
        if _is_header_block(lines, index):
            return index
    return len(lines)


def _keyword_lines(lines, starts, end, lower, words) -> set[int]:
    """Indexes of the lines (before ``end``) that contain one of ``words``, found with str.find:
    Python's re tries every alternative at every position, which costs more than the rest."""
    found: set[int] = set()
    if lower is None:  # lowercasing changed the text's length: offsets would not line up
        return {i for i in range(end) if any(word in lines[i].lower() for word in words)}
    for word in words:
        position = lower.find(word)
        while position >= 0:
            found.add(_line_index(starts, position))
            position = lower.find(word, position + len(word))
    return found


def _paragraph_ranges(lines: list[str], end: int) -> list[tuple[int, int]]:
    ranges = []
    start = None
    for index in range(end):
        if lines[index].strip():
            if start is None:
                start = index
        elif start is not None:
            ranges.append((start, index))
            start = None
    if start is not None:
        ranges.append((start, end))
    return ranges


def newest_reply(text: str) -> Reply:
    """The newest reply of ``text``, with segments mapping it back into ``text``. Never raises;
    falls back to the whole text when cleaning would leave nothing."""
    try:
        return _newest_reply(text if isinstance(text, str) else str(text or ""))
    except Exception:  # noqa: BLE001 - a transform we can live without falls back to the input
        text = text if isinstance(text, str) else ""
        return Reply(text=text, segments=((0, 0, len(text)),) if text else ())


def _newest_reply(text: str) -> Reply:
    if not text:
        return Reply(text="", segments=())
    scanned = text[:MAX_CHARS]
    lines, starts = _lines(scanned)
    lines = lines[:MAX_LINES]
    starts = starts[:MAX_LINES]
    region = scanned[: starts[-1] + len(lines[-1])] if lines else ""
    lower = region.lower()
    if len(lower) != len(region):  # e.g. "İ" lowercases to two characters
        lower = None
    end = _cut_index(lines, starts, region, lower)
    cut = starts[end] if end < len(lines) else len(region)
    region = region[:cut]
    lower = lower[:cut] if lower is not None else None
    dropped: set[int] = set()
    if ">" in region:
        dropped.update(_line_index(starts, m.start()) for m in _QUOTED_LINE.finditer("\n" + region))
    for index in _keyword_lines(lines, starts, end, lower, _FOOTER_WORDS):
        if _FOOTER.search(lines[index]):
            dropped.add(index)
    legal_lines = _keyword_lines(lines, starts, end, lower, _LEGAL_WORDS)
    if legal_lines:
        for first, last in _paragraph_ranges(lines, end):
            if not any(first <= index < last for index in legal_lines):
                continue
            paragraph = "".join(lines[first:last])
            match = _LEGAL.search(paragraph)
            if match:
                # from the notice's first line to the paragraph's end: a sign-off written right
                # above it, with no blank line between, stays
                dropped.update(range(_line_index(starts, starts[first] + match.start()), last))

    # kept lines -> (original_start, length) runs: the stretches between dropped lines
    runs: list[list[int]] = []
    previous = -1
    for index in [*sorted(dropped), end]:
        if index > previous + 1:
            start = starts[previous + 1]
            stop = starts[index] if index < len(starts) else len(region)
            runs.append([start, stop - start])
        previous = index
    runs = _trim(scanned, runs)
    if not runs:
        return Reply(text=text, segments=((0, 0, len(text)),))
    pieces = []
    segments = []
    clean = 0
    for start, length in runs:
        pieces.append(scanned[start:start + length])
        segments.append((clean, start, length))
        clean += length
    return Reply(text="".join(pieces), segments=tuple(segments))


def _trim(text: str, runs: list[list[int]]) -> list[list[int]]:
    """Drop leading and trailing whitespace of the joined runs (adjusting the first and last)."""
    while runs:
        start, length = runs[0]
        piece = text[start:start + length]
        stripped = len(piece) - len(piece.lstrip())
        if stripped == length:
            runs.pop(0)
            continue
        runs[0] = [start + stripped, length - stripped]
        break
    while runs:
        start, length = runs[-1]
        piece = text[start:start + length]
        kept = len(piece.rstrip())
        if kept == 0:
            runs.pop()
            continue
        runs[-1] = [start, kept]
        break
    return runs


__all__ = ["newest_reply", "MAX_LINES", "MAX_CHARS"]
