"""Where you stand on one application: flag, status, reason, evidence, trend, question.

Pure: "now" is always a parameter. Two steps, so the API can serve 1,000 applications fast:

    summary = summarize(messages, app_id=..., company=..., role=...)   # at refresh time, cached
    app = finalize(summary, now, Thresholds())                         # per request: the parts
                                                                       # that depend on "now"

Rules (DESIGN's table):

| flag  | status       | when                                                            |
|-------|--------------|-----------------------------------------------------------------|
| green | offer        | latest decisive employer message is an offer                    |
| green | interested   | ... is advancing (a later advancing message reopens a rejection) |
| amber | noncommittal | the latest employer message is noncommittal                     |
| amber | overdue      | a promised reply date has passed with no employer mail since     |
| amber | silent       | no employer mail for N days after advancing / noncommittal mail |
| red   | rejected     | a rejection, unless later mail reopened it                       |
| grey  | waiting      | applied or acknowledged, no interview yet                        |

An application the user started by email that the employer never answered is "waiting";
its days_silent count from the user's last message (the employer has been silent since),
last_contact and evidence are null (there is no employer message), and it turns "silent"
after Thresholds.after_acknowledgement when that is set.

Among amber states overdue outranks silent, which outranks noncommittal. An offer and a
rejection are decisions: silence and hedges never override them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone

from .questions import suggested_question

FLAG_OF = {"offer": "green", "interested": "green", "noncommittal": "amber", "overdue": "amber",
           "silent": "amber", "rejected": "red", "waiting": "grey"}
FLAG_RANK = {"amber": 0, "green": 1, "grey": 2, "red": 3}
AMBER_RANK = {"overdue": 0, "silent": 1, "noncommittal": 2}
# How much each label says the employer wants you, for the trend.
WARMTH = {"rejected": -2, "noncommittal": -1, "acknowledgement": 0, "advancing": 1, "offer": 2}
# An employer message this soon after a promise (an ATS copy of the recruiter's note) does
# not replace the promise; a later one does.
PROMISE_SUPERSEDED_AFTER = timedelta(hours=12)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Thresholds:
    """Days without employer mail before an application turns amber "silent", by stage."""

    after_advancing: int = 14  # after an interview invite or any advancing message
    after_noncommittal: int = 10  # after a noncommittal reply
    # after an acknowledgement, or after the user's own unanswered application mail
    after_acknowledgement: int | None = None  # None: an acknowledged application stays grey

    @classmethod
    def from_dict(cls, data: dict) -> "Thresholds":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def to_dict(self) -> dict:
        return asdict(self)


def _dt(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _d(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _evidence(m: dict) -> dict | None:
    """The message's main evidence as the API's {"text", "rule", "explanation", "message_id"}."""
    items = m.get("evidence") or []
    best = next((e for e in items if e.get("label") == m.get("label")), items[0] if items else None)
    if best is None:
        return {"text": m.get("subject") or "", "rule": "corrected" if m.get("corrected") else "label",
                "explanation": f"The message is labelled {m.get('label')}.", "message_id": m.get("message_id")}
    return {"text": best.get("text", ""), "rule": best.get("rule", ""),
            "explanation": best.get("explanation", ""), "message_id": m.get("message_id")}


def _event(m: dict) -> dict:
    return {"message_id": m.get("message_id"), "date": m["date"].isoformat() if m.get("date") else None,
            "label": m.get("label"), "evidence": _evidence(m),
            "expected_by": m["expected_by"].isoformat() if m.get("expected_by") else None}


def summarize(messages: list[dict], *, app_id: str, company: str | None, role: str | None) -> dict:
    """Everything about an application that does not depend on "now" (cached by the store).

    `messages` are the application's rows (own mail included), each with message_id, date
    (aware datetime), label, own, evidence (list of dicts), expected_by (date | None).
    """
    messages = sorted(messages, key=lambda m: m.get("date") or _EPOCH)
    employer = [m for m in messages if not m.get("own") and m.get("label") in WARMTH]
    state, decisive, reopened, rejected_at = None, None, None, None
    for m in employer:
        label = m["label"]
        if label == "acknowledgement":
            if state is None:
                state, decisive = "waiting", m
        elif label == "advancing":
            if state == "offer":
                continue  # scheduling after an offer does not take the offer back
            if state == "rejected":
                reopened = rejected_at
            state, decisive = "interested", m
        elif label == "offer":
            if state == "rejected":
                reopened = rejected_at
            state, decisive = "offer", m
        elif label == "rejected":
            state, decisive, rejected_at = "rejected", m, m
        elif label == "noncommittal":
            if state not in ("offer", "rejected"):  # a hedge never overrides a decision
                state, decisive = "noncommittal", m
    if state is None:
        state = "waiting"

    promise = None
    for i, m in enumerate(employer):
        if m.get("expected_by"):
            later = [n for n in employer[i + 1:] if n["date"] and m["date"] and
                     n["date"] - m["date"] >= PROMISE_SUPERSEDED_AFTER]
            promise = None if later else m
    if state == "rejected":
        promise = None

    # Interview rounds: advancing messages, same-day copies (recruiter + ATS) counted once.
    round_days = {m["date"].date() for m in employer if m["label"] == "advancing" and m.get("date")}
    warmth = [WARMTH[m["label"]] for m in employer]
    trend = "steady"
    if len(warmth) >= 2:
        last = warmth[-1]
        previous = next((w for w in reversed(warmth[:-1]) if w != last), last)
        trend = "warming" if last > previous else "cooling" if last < previous else "steady"
    own = [m for m in messages if m.get("own")]
    last_ts = max((m["date"].timestamp() for m in messages if m.get("date")), default=None)
    return {
        "id": app_id, "company": company, "role": role, "base": state,
        "decisive": _event(decisive) if decisive else None,
        "last_employer": _event(employer[-1]) if employer else None,
        "promise": _event(promise) if promise else None,
        "reopened_from": _event(reopened) if reopened else None,
        "rounds": len(round_days), "trend": trend,
        "last_own": own[-1]["date"].isoformat() if own and own[-1].get("date") else None,
        "first_date": messages[0]["date"].isoformat() if messages and messages[0].get("date") else None,
        "last_ts": last_ts,
        "message_ids": [m["message_id"] for m in messages if m.get("message_id")],
    }


def _day(d: date, now: datetime) -> str:
    text = f"{d.strftime('%b')} {d.day}"
    return text if d.year == now.year else f"{text}, {d.year}"


def finalize(summary: dict, now: datetime, limits: Thresholds = Thresholds()) -> dict:
    """The API object for one application at `now` (aware datetime)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    today = now.astimezone(timezone.utc).date()
    base = summary["base"]
    last = summary.get("last_employer")
    decisive = summary.get("decisive")
    promise = summary.get("promise")
    expected_by = _d(promise["expected_by"]) if promise else None
    # Days the employer has left the user waiting: since its last message, or, when it never
    # wrote (an application the user started by email), since the user's last message.
    # last_contact stays the employer's last message: null when it never wrote.
    last_dt = _dt(last["date"]) if last and last.get("date") else None
    if last is None and summary.get("last_own"):
        last_dt = _dt(summary["last_own"])
    days_silent = (today - last_dt.astimezone(timezone.utc).date()).days if last_dt else None

    status, basis = base, decisive
    if base in ("interested", "noncommittal", "waiting") and expected_by and today > expected_by:
        status, basis = "overdue", promise
    elif days_silent is not None and not (expected_by and expected_by >= today):
        limit = {"interested": limits.after_advancing, "noncommittal": limits.after_noncommittal,
                 "waiting": limits.after_acknowledgement}.get(base)
        if limit is not None and days_silent >= limit:
            status, basis = "silent", last

    company, role = summary.get("company"), summary.get("role")
    reason = _reason(status, base, summary, now, expected_by, days_silent)
    trend = "cooling" if status in ("overdue", "silent") else summary.get("trend", "steady")
    after = last["label"] if last else None
    return {
        "id": summary["id"], "company": company, "role": role,
        "flag": FLAG_OF[status], "status": status, "reason": reason,
        "evidence": basis["evidence"] if basis else None,
        "expected_by": expected_by.isoformat() if expected_by else None,
        "days_silent": days_silent,
        "question": suggested_question(status, company=company, role=role, expected_by=expected_by, after=after),
        "last_contact": last["date"] if last else None,
        "trend": trend,
        "rounds": summary.get("rounds", 0),
        "message_ids": list(summary.get("message_ids", ())),
        "last_ts": summary.get("last_ts"),
    }


def _reason(status: str, base: str, summary: dict, now: datetime, expected_by: date | None,
            days_silent: int | None) -> str:
    """One line saying why, with the dates that matter."""
    def when(event) -> str:
        return _day(_dt(event["date"]).date(), now) if event and event.get("date") else "an unknown date"

    decisive, last = summary.get("decisive"), summary.get("last_employer")
    reopened = summary.get("reopened_from")
    promised = f"; they promised news by {_day(expected_by, now)}" if expected_by else ""
    if status == "overdue":
        late = (now.astimezone(timezone.utc).date() - expected_by).days
        return (f"They promised a reply by {_day(expected_by, now)} and nothing has come since "
                f"({late} day{'s' if late != 1 else ''} late).")
    if status == "silent" and not last:
        return f"No reply for {days_silent} days since you wrote on {_day(_dt(summary['last_own']).date(), now)}."
    if status == "silent":
        what = {"noncommittal": "their noncommittal reply", "acknowledgement": "their acknowledgement"}.get(
            last["label"], "their last step forward")
        return f"No word for {days_silent} days since {what} on {when(last)}."
    if status == "offer":
        extra = f", after the {when(reopened)} rejection" if reopened else ""
        return f"Offer received on {when(decisive)}{extra}."
    if status == "interested":
        extra = f" (reopened after the {when(reopened)} rejection)" if reopened else ""
        return f"They moved you forward on {when(decisive)}{extra}{promised}."
    if status == "noncommittal":
        return f"Noncommittal reply on {when(decisive)}: no decision and no concrete next step{promised}."
    if status == "rejected":
        return f"Rejected on {when(decisive)}; nothing since has reopened it."
    if last:
        return f"Application acknowledged on {when(last)}; no interview yet{promised}."
    wrote = _dt(summary["last_own"]).date() if summary.get("last_own") else None
    return f"You wrote on {_day(wrote, now)}; no reply from the employer yet." if wrote else \
        "No reply from the employer yet."


def attention_order(apps: list[dict]) -> list[dict]:
    """Amber first (overdue, silent, noncommittal), then green, grey, red; most recent first within."""
    return sorted(apps, key=lambda a: (FLAG_RANK[a["flag"]], AMBER_RANK.get(a["status"], 0),
                                       -(a.get("last_ts") or 0), a["id"]))


def standings(groups, now: datetime, limits: Thresholds = Thresholds()) -> list[dict]:
    """Convenience for pure callers: grouping.Group list -> API objects in attention order."""
    return attention_order([finalize(summarize(g.messages, app_id=g.id, company=g.company, role=g.role),
                                     now, limits) for g in groups])


__all__ = ["summarize", "finalize", "attention_order", "standings", "Thresholds", "FLAG_OF"]
