"""Messages -> applications: pure functions on message rows (dicts), corrections applied.

An application is one employer + role. Messages join by thread first (In-Reply-To and
References chains, Gmail thread id), then by normalised company + role:

- two roles at one company stay two applications;
- a message naming the company but no role joins that company's only application, else
  the most recent one before it;
- an employer writing from its ATS relay and from a recruiter's own address meets in one
  application through the company key (and a recruiter's mail domain seen with a company);
- the user's own mail joins the thread it replies to; own mail that answers no employer
  message opens an application of its own when it reads as outreach (a cold application, a
  note to a hiring manager, a chaser nobody answered): sent to a company address (not
  freemail, not an ATS relay, not the user's own domain) and naming a role with an
  application word ("applied", "opening", "position", ...) or saying "application" in its
  subject. The company comes from the recipient's domain (parsers.employer), the role from
  the subject and body. Other own mail that joins nothing is dropped, unless it names a
  company itself (a correction);
- unrelated mail forms no application.

Ids are short hashes of the grouping key, so a correction that names an application still
finds it after a rebuild; corrections also carry the Message-IDs they were made on.
"""
from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from parsers.employer import FREEMAIL as MORE_FREEMAIL
from parsers.employer import company_key, find_role, identify_employer, is_ats_address, role_key

LABELS = ("offer", "advancing", "noncommittal", "rejected", "acknowledgement", "unrelated")
JOB_LABELS = frozenset(LABELS[:-1])
# Distinct company/role/address strings remembered per grouping run (the normalisers are slow).
KEY_CACHE = 65_536
ID_LENGTH = 12  # hex chars of sha1: 48 bits, no collision in one person's mailbox

# Mail providers whose domain says nothing about the employer.
FREEMAIL = frozenset({"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "yahoo.com",
                      "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "live.com",
                      "gmx.com", "mail.com", "yandex.com", "fastmail.com"})
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# An application or outreach word; with a role it makes the user's own thread-starting mail
# an application (the role alone is too weak: "Re: notes on the data engineer sync").
OUTREACH_CUE = re.compile(r"\b(?:appl(?:y|ied|ying|ication)|candidacy|position|opening|vacanc(?:y|ies)|role|"
                          r"job|hiring|r[eé]sum[eé]|cv|cover letter|interested in joining)\b", re.I)
# Enough on its own in a subject, with no role named ("Application - Sam Rivera").
STRONG_SUBJECT_CUE = re.compile(r"\b(?:application|applying|applied|candidacy|cover letter)\b", re.I)
OUTREACH_TEXT_CHARS = 4_000  # the opening paragraphs say what the mail is about; bounds regex work


@functools.lru_cache(maxsize=KEY_CACHE)
def read_outreach(to_addr: str, subject: str, text: str = "") -> tuple[str, str | None] | None:
    """(company, role | None) when the user's own mail to `to_addr` reads as a job application
    or outreach, else None. The company is read off the recipient's domain (the subject and
    body only help spell it: "stonebridgecapital.com" -> "Stonebridge Capital"), never off the
    user's own signature; the role off the subject, else the body.
    """
    if _domain(to_addr) in FREEMAIL | MORE_FREEMAIL:
        return None
    subject, text = subject or "", (text or "")[:OUTREACH_TEXT_CHARS]
    role = find_role(subject, text)
    if not ((role and OUTREACH_CUE.search(f"{subject}\n{text}")) or STRONG_SUBJECT_CUE.search(subject)):
        return None
    company = identify_employer("", to_addr, subject, "", full_text=text).company
    return (company, role) if company else None


def outreach_recipient(row: dict, own_addrs, own_domains, is_ats) -> str | None:
    """The first company recipient of the user's own mail (the one written to), or None."""
    for addr in row.get("to") or ():
        addr = (addr or "").lower()
        d = _domain(addr)
        if not d or addr in own_addrs or d in own_domains or d in FREEMAIL or is_ats(addr):
            continue
        return addr
    return None


def _mark_outreach(rows: list[dict], is_ats, own_from=None) -> None:
    """Give the user's own mail that answers no employer message the company and role it was
    written to (see read_outreach), in place; the row gets "outreach": True.

    Rows carry recipients as addresses ("to"); the body is read from "cleaned" or "text" when
    the row has one, else the subject alone decides. `own_from`: every address the user's own
    mail was sent from (default: those of these rows; a store regrouping only some rows
    passes the whole mailbox's, so the answer does not depend on which rows were loaded).
    """
    employer_mids = {r["message_id"] for r in rows if r.get("message_id") and not r.get("own")}
    own_addrs = {(r.get("from_addr") or "").lower() for r in rows if r.get("own")}
    if own_from is not None:
        own_addrs |= {a.lower() for a in own_from if a}
    own_domains = {_domain(a) for a in own_addrs} - {""}
    for r in rows:
        if not r.get("own") or r.get("company") or r.get("not_job"):
            continue
        if any(ref in employer_mids for ref in (r.get("in_reply_to"), *(r.get("references") or ()))):
            continue  # a reply: it joins the employer's thread
        addr = outreach_recipient(r, own_addrs, own_domains, is_ats)
        if addr:
            found = read_outreach(addr, r.get("subject") or "", r.get("cleaned") or r.get("text") or "")
            if found:
                r["company"], r["role"] = found
                r["outreach"] = True


@dataclass
class Group:
    id: str
    company: str | None
    role: str | None
    messages: list[dict] = field(default_factory=list)
    archived: bool = False


def corrected_message_ids(corrections) -> list[str]:
    """Message-IDs that corrections name (the store loads them even when labelled unrelated)."""
    out: list[str] = []
    for c in corrections:
        if c.get("message_id"):
            out.append(c["message_id"])
        for key in ("application_id_messages", "other_application_id_messages"):
            out += c.get(key) or []
    return out


def _short_id(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:ID_LENGTH]


def _when(row) -> datetime:
    return row.get("date") or _EPOCH


def _domain(addr: str) -> str:
    return addr.rsplit("@", 1)[-1].lower() if "@" in (addr or "") else ""


def apply_message_corrections(rows: list[dict], corrections) -> list[dict]:
    """Copies of rows with label, not-a-job and company/role corrections applied (last one wins)."""
    by_mid = {r["message_id"]: dict(r) for r in rows if r.get("message_id")}
    out = [by_mid.get(r.get("message_id")) or dict(r) for r in rows]
    for c in corrections:
        kind = c.get("kind")
        if kind == "label" and c.get("message_id") in by_mid:
            row = by_mid[c["message_id"]]
            row["label"] = c["label"]
            row["corrected"] = True
            if c["label"] == "unrelated":
                row["evidence"] = []
        elif kind == "not_job" and c.get("message_id") in by_mid:
            row = by_mid[c["message_id"]]
            row["label"] = "unrelated"
            row["not_job"] = True
        elif kind == "company_role":
            targets = [c["message_id"]] if c.get("message_id") else (c.get("application_id_messages") or [])
            for mid in targets:
                if mid in by_mid:
                    by_mid[mid]["company"] = c["company"]
                    by_mid[mid]["role"] = c["role"]
    return out


class _Union:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i


def group_messages(rows: list[dict], corrections=(), *, own_from=None) -> list[Group]:
    """Group message rows into applications (see the module docstring); corrections applied.

    A row needs: message_id, in_reply_to, references, thread_id, from_addr, date, label, own,
    company, role. Returns groups with their messages sorted oldest first. `own_from`: see
    _mark_outreach.
    """
    company_key, role_key, is_ats = (functools.lru_cache(maxsize=KEY_CACHE)(f) for f in key_functions())
    corrections = list(corrections)
    rows = apply_message_corrections(rows, corrections)
    splits = {c["message_id"] for c in corrections if c.get("kind") == "split"}
    rows = [r for r in rows if r.get("own") and not r.get("not_job") or r.get("label") in JOB_LABELS]
    rows.sort(key=lambda r: (_when(r), r.get("pk") or 0))
    _mark_outreach(rows, is_ats, own_from)
    n = len(rows)
    uf = _Union(n)
    ckeys = _canonical_companies(rows, [company_key(r["company"]) if r.get("company") else "" for r in rows],
                                 is_ats)
    comp_companies: list[set[str]] = [{k} if k and not rows[i].get("own") else set() for i, k in enumerate(ckeys)]

    def union(a: int, b: int) -> None:
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            return
        ca, cb = comp_companies[ra], comp_companies[rb]
        if ca and cb and not (ca & cb):
            return  # a thread that wanders between employers (an agency) does not merge them
        uf.parent[rb] = ra
        comp_companies[ra] = ca | cb

    index = {r["message_id"]: i for i, r in enumerate(rows) if r.get("message_id")}
    threads: dict[str, int] = {}
    for i, r in enumerate(rows):
        if r.get("message_id") in splits:
            continue
        for ref in (r.get("in_reply_to"), *(r.get("references") or ())):
            j = index.get(ref)
            if j is not None and j != i and rows[j].get("message_id") not in splits:
                union(j, i)
        if r.get("thread_id"):
            if r["thread_id"] in threads:
                union(threads[r["thread_id"]], i)
            else:
                threads[r["thread_id"]] = i

    comps: dict[int, list[int]] = {}
    for i in range(n):
        comps.setdefault(uf.find(i), []).append(i)

    # A recruiter's own mail domain seen next to a company names that company elsewhere too.
    domain_company: dict[str, Counter] = {}
    for i, r in enumerate(rows):
        d = _domain(r.get("from_addr", ""))
        if ckeys[i] and not r.get("own") and d and d not in FREEMAIL and not is_ats(r.get("from_addr", "")):
            domain_company.setdefault(d, Counter())[ckeys[i]] += 1

    def comp_key(members: list[int]) -> tuple[str, str]:
        employer = [i for i in members if not rows[i].get("own")]
        counts = Counter(ckeys[i] for i in employer if ckeys[i])
        if not counts:  # own-only threads may name a company (a corrected or labelled one)
            counts = Counter(ckeys[i] for i in members if ckeys[i])
        if not counts:
            for i in employer:
                found = domain_company.get(_domain(rows[i].get("from_addr", "")))
                if found:
                    counts[found.most_common(1)[0][0]] += 1
        if not counts:
            return "", ""
        ck = _most_common_latest(counts, [ckeys[i] for i in members])
        roles = Counter(role_key(rows[i]["role"]) for i in members
                        if rows[i].get("role") and ckeys[i] in ("", ck) and not rows[i].get("own"))
        roles.pop("", None)
        if not roles:
            roles = Counter(role_key(rows[i]["role"]) for i in members if rows[i].get("role") and ckeys[i] in ("", ck))
            roles.pop("", None)
        rk = _most_common_latest(roles, [role_key(rows[i]["role"]) for i in members if rows[i].get("role")]) if roles else ""
        return ck, rk

    buckets: dict[str, list[int]] = {}
    keyed: dict[str, tuple[str, str]] = {}
    roleless: list[tuple[str, list[int]]] = []
    comp_keys = {root: comp_key(members) for root, members in comps.items()}
    same_role = _canonical_roles({k for k in comp_keys.values() if k[0] and k[1]})
    for root, members in comps.items():
        first = rows[members[0]]
        if first.get("message_id") in splits and len(members) == 1:
            bid = _short_id("split|" + first["message_id"])
            buckets[bid] = members
            keyed[bid] = ("", "")  # a split-off message takes in nothing else
            continue
        if all(rows[i].get("own") for i in members) and not any(ckeys[i] for i in members):
            continue  # the user's own mail that replies to no employer mail
        ck, rk = comp_keys[root]
        rk = same_role.get((ck, rk), rk)
        if ck and rk:
            bid = _short_id(f"{ck}|{rk}")
            buckets.setdefault(bid, []).extend(members)
            keyed[bid] = (ck, rk)
        elif ck:
            roleless.append((ck, members))
        else:
            root_mid = first.get("message_id") or str(first.get("pk"))
            bid = _short_id("thread|" + root_mid)
            buckets[bid] = members
            keyed[bid] = ("", "")

    for ck, members in roleless:
        same = [bid for bid, (c, r) in keyed.items() if c == ck and r]
        if len(same) == 1:
            target = same[0]
        elif same:  # several roles at this company: the one active most recently before it
            start = _when(rows[members[0]])

            def latest_before(b: str):
                return max((t for i in buckets[b] if (t := _when(rows[i])) <= start), default=None)

            earlier = [(t, b) for b in same if (t := latest_before(b)) is not None]
            target = (max(earlier)[1] if earlier
                      else max(same, key=lambda b: max(_when(rows[i]) for i in buckets[b])))
        else:
            target = _short_id(f"{ck}|")
            keyed[target] = (ck, "")
            buckets.setdefault(target, [])
        buckets[target].extend(members)

    # Show the company as written where its key is the canonical one ("Meridian Rail", not
    # the "Meridianrail" read off a mail domain).
    canonical_name = {k: r["company"] for r, k in zip(rows, ckeys)
                      if k and r.get("company") and company_key(r["company"]) == k}
    groups = {bid: _make_group(bid, [rows[i] for i in members], canonical_name.get(keyed[bid][0]))
              for bid, members in buckets.items() if members}
    _apply_group_corrections(groups, corrections)
    return sorted(groups.values(), key=lambda g: g.id)


def _compact(key: str) -> str:
    return key.replace(" ", "")


def _canonical_companies(rows: list[dict], keys: list[str], is_ats) -> list[str]:
    """One key per employer, though the parsers name it in several ways.

    - "pellucid" and "pellucid systems", "vantagegrocers" and "vantage grocers" are one
      company: a key that is a word-prefix of a longer key (or equal without spaces) takes
      the longer one, when that longer one is the only candidate;
    - a key seen on one company mail domain only, where another key dominates that domain
      (a stray "Confirmed" or a first name read as the company), takes the domain's key.
    """
    distinct = sorted({k for k in keys if k}, key=len, reverse=True)
    extends: dict[str, set[str]] = {}  # a word-prefix or space-less spelling -> longer keys
    for k in distinct:
        words = k.split(" ")
        for n in range(1, len(words)):
            extends.setdefault(" ".join(words[:n]), set()).add(k)
        extends.setdefault("\0" + _compact(k), set()).add(k)
    alias: dict[str, str] = {}
    for short in distinct:
        longer = (extends.get(short, set()) | extends.get("\0" + _compact(short), set()))
        longer = [k for k in longer if len(k) > len(short) and alias.get(k, k) == k]
        if len(longer) == 1:
            alias[short] = longer[0]
    keys = [alias.get(k, k) for k in keys]
    per_domain: dict[str, Counter] = {}
    key_domains: dict[str, set[str]] = {}
    for r, k in zip(rows, keys):
        d = _domain(r.get("from_addr", ""))
        if k and d and not r.get("own") and d not in FREEMAIL and not is_ats(r.get("from_addr", "")):
            per_domain.setdefault(d, Counter())[k] += 1
            key_domains.setdefault(k, set()).add(d)
    out = []
    for r, k in zip(rows, keys):
        d = _domain(r.get("from_addr", ""))
        votes = per_domain.get(d)
        if k and votes and not r.get("own") and key_domains.get(k) == {d}:
            top, top_n = votes.most_common(1)[0]
            if top != k and votes[k] < top_n:
                k = top
        out.append(k)
    return out


def _canonical_roles(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Within one company, a role whose words start a longer role's words is that role.

    "backend engineer" and "backend engineer carrier network" are one application; when the
    shorter one starts two different longer ones it is left alone.
    """
    out: dict[tuple[str, str], str] = {}
    roles: dict[str, list[str]] = {}
    for ck, rk in pairs:
        roles.setdefault(ck, []).append(rk)
    for ck, rk in pairs:
        longer = {r for r in roles[ck] if r != rk and r.startswith(rk + " ")}
        if len(longer) == 1:
            out[(ck, rk)] = longer.pop()
    return out


def _most_common_latest(counts: Counter, order: list[str]) -> str:
    """The most frequent key; a tie goes to the one seen latest."""
    last = {k: i for i, k in enumerate(order)}
    return max(counts, key=lambda k: (counts[k], last.get(k, -1)))


def _display(rows: list[dict], field_name: str) -> str | None:
    values = [r[field_name] for r in rows if r.get(field_name) and not r.get("own")]
    values = values or [r[field_name] for r in rows if r.get(field_name)]
    if not values:
        return None
    return _most_common_latest(Counter(values), values)


def _make_group(bid: str, members: list[dict], company: str | None = None) -> Group:
    members = sorted(members, key=lambda r: (_when(r), r.get("pk") or 0))
    return Group(id=bid, company=company or _display(members, "company"), role=_display(members, "role"),
                 messages=members)


def _find_group(groups: dict[str, Group], app_id: str | None, message_ids) -> Group | None:
    """The group with this id, else the one holding most of these messages."""
    if app_id in groups:
        return groups[app_id]
    wanted = set(message_ids or ())
    best, overlap = None, 0
    for g in groups.values():
        k = sum(1 for m in g.messages if m.get("message_id") in wanted)
        if k > overlap:
            best, overlap = g, k
    return best


def _apply_group_corrections(groups: dict[str, Group], corrections) -> None:
    """Merges, then archive flags, in the order the user made them."""
    for c in corrections:
        kind = c.get("kind")
        if kind == "merge":
            keep = _find_group(groups, c.get("application_id"), c.get("application_id_messages"))
            gone = _find_group(groups, c.get("other_application_id"), c.get("other_application_id_messages"))
            if keep is not None and gone is not None and keep is not gone:
                keep.messages = sorted(keep.messages + gone.messages, key=lambda r: (_when(r), r.get("pk") or 0))
                keep.archived = keep.archived or gone.archived
                del groups[gone.id]
        elif kind in ("archive", "unarchive"):
            g = _find_group(groups, c.get("application_id"), c.get("application_id_messages"))
            if g is not None:
                g.archived = kind == "archive"


def key_functions():
    """parsers.employer's (company_key, role_key, is_ats_address): the one definition of "same
    company" / "same role", as group_messages uses them."""
    return company_key, role_key, is_ats_address


def compact(key: str) -> str:
    return _compact(key)


__all__ = ["group_messages", "outreach_recipient", "key_functions", "apply_message_corrections", "corrected_message_ids", "Group", "LABELS"]
