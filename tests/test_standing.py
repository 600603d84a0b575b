"""The standing engine on the labelled mailbox of 30 applications, and its rules one by one."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest

from server import grouping, standing
from server.ingest import demo_meta, demo_now, ingest_raw, load_demo
from server.standing import Thresholds, finalize, summarize
from server.store import Store
from tests.support.timelines import USER, gold_rows, load_standings, load_timelines, raw_message

ITEMS = load_timelines()
GOLD = load_standings()
GOLD_NOW = datetime.fromisoformat(GOLD["now"])
BY_MID = {i["message_id"]: i for i in ITEMS}


def compare(apps: list[dict]) -> tuple[list[str], list[str]]:
    """(names judged right, mismatch descriptions) against standings.json."""
    right, wrong = [], []
    matched = set()
    for app in apps:
        name = Counter(BY_MID[m]["application"] for m in app["message_ids"]).most_common(1)[0][0]
        want = GOLD["applications"].get(name)
        got = (app["flag"], app["status"], app["expected_by"])
        if want and name not in matched and got == (want["flag"], want["status"], want["expected_by"]):
            right.append(name)
            matched.add(name)
        else:
            wrong.append(f"{name}: got {got}, want {want and (want['flag'], want['status'], want['expected_by'])}")
    wrong += [f"{name}: missing" for name in GOLD["applications"] if name not in matched
              and not any(w.startswith(f"{name}:") for w in wrong)]
    return right, wrong


def test_gold_labels_group_and_stand_as_labelled():
    """(a) grouping + standing alone: the file's own labels, companies and roles."""
    groups = grouping.group_messages(gold_rows(ITEMS))
    apps = standing.standings(groups, GOLD_NOW)
    right, wrong = compare(apps)
    assert wrong == [] and len(right) == 30
    for app in apps:  # every application holds exactly its messages, own mail included
        name = BY_MID[app["message_ids"][0]]["application"]
        assert sorted(app["message_ids"]) == sorted(i["message_id"] for i in ITEMS if i["application"] == name)
    assert [a["flag"] for a in apps] == sorted((a["flag"] for a in apps), key=standing.FLAG_RANK.get)
    amber = [a["status"] for a in apps if a["flag"] == "amber"]
    assert amber == sorted(amber, key=standing.AMBER_RANK.get)
    for app in apps:
        assert app["reason"] and "\n" not in app["reason"]
        assert (app["question"] is not None) == (app["flag"] == "amber")


def test_raw_mail_through_the_real_parsers_stands_as_labelled():
    """(b) end to end: RFC 822 bytes -> parsers -> store -> grouping -> standing."""
    with Store.open(":memory:") as store:
        store.set_user_addresses([USER])
        counts = ingest_raw(store, ((i["id"], raw_message(i), None) for i in ITEMS))
        assert counts["stored"] == len(ITEMS) and counts["errors"] == 0
        right, wrong = compare(store.standings(GOLD_NOW))
    assert wrong == [], f"{len(right)}/30 right; wrong: " + "; ".join(wrong)


def test_an_application_the_user_started_by_email_stands_from_raw_mail():
    """Stonebridge: the user applied and wrote to the VP twice; no answer. Grey waiting, from
    raw mail through the real parsers (the own mail alone, so the classifier plays no part)."""
    name = "stonebridge-capital-platform-engineer"
    items = [i for i in ITEMS if i["application"] == name]
    assert {i["label"] for i in items} == {"own"}
    with Store.open(":memory:") as store:
        store.set_user_addresses([USER])
        ingest_raw(store, ((i["id"], raw_message(i), None) for i in items))
        apps = store.standings(GOLD_NOW)
    assert len(apps) == 1
    app, want = apps[0], GOLD["applications"][name]
    assert (app["flag"], app["status"], app["expected_by"]) == (want["flag"], want["status"], want["expected_by"])
    assert (app["company"], app["role"]) == (want["company"], want["role"])
    assert sorted(app["message_ids"]) == sorted(i["message_id"] for i in items)
    assert (app["last_contact"], app["evidence"], app["days_silent"]) == (None, None, 10)


def test_bundled_demo_shows_every_status():
    meta = demo_meta()
    with Store.open(":memory:") as store:
        counts = load_demo(store)
        assert counts["errors"] == 0
        assert store.get_meta("now") == meta["now"]
        apps = store.standings(demo_now())
    got = {(a["company"], a["role"]): (a["flag"], a["status"], a["expected_by"]) for a in apps}
    want = {(a["company"], a["role"]): (a["flag"], a["status"], a["expected_by"]) for a in meta["applications"]}
    assert got == want
    assert {s for _, s, _ in want.values()} == set(standing.FLAG_OF)


# ---------------------------------------------------------------- the rules, one by one
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=timezone.utc)


def msg(n: int, label: str, days_ago: float, *, due: date | None = None, own: bool = False) -> dict:
    return {"pk": n, "message_id": f"<m{n}@x>", "date": NOW - timedelta(days=days_ago), "label": label,
            "own": own, "expected_by": due, "subject": f"message {n}",
            "evidence": [] if own else [{"rule": f"r.{label}", "label": label, "text": f"text {n}",
                                         "start": 0, "end": 6, "explanation": "why"}]}


def stand(*messages, now=NOW, limits=Thresholds()) -> dict:
    return finalize(summarize(list(messages), app_id="a1", company="Fjordline", role="Analyst"), now, limits)


@pytest.mark.parametrize("labels,status", [
    (("acknowledgement",), "waiting"),
    (("acknowledgement", "advancing"), "interested"),
    (("advancing", "offer"), "offer"),
    (("advancing", "noncommittal"), "noncommittal"),
    (("advancing", "noncommittal", "advancing"), "interested"),
    (("advancing", "rejected"), "rejected"),
    (("offer", "rejected"), "rejected"),  # a rescinded offer
    (("rejected", "advancing"), "interested"),  # reopened
    (("rejected", "noncommittal"), "rejected"),  # a hedge never overrides a decision
    (("offer", "noncommittal"), "offer"),
    (("offer", "advancing"), "offer"),
    (("advancing", "acknowledgement"), "interested"),  # an ATS receipt does not demote
])
def test_latest_decisive_message_sets_the_status(labels, status):
    got = stand(*(msg(i, label, 5 - i) for i, label in enumerate(labels)))
    assert got["status"] == status and got["flag"] == standing.FLAG_OF[status]


def test_evidence_comes_from_the_deciding_message():
    got = stand(msg(1, "advancing", 6), msg(2, "rejected", 3), msg(3, "advancing", 2))
    assert got["evidence"]["message_id"] == "<m3@x>" and got["evidence"]["rule"] == "r.advancing"
    assert "reopened" in got["reason"]


def test_overdue_when_the_promised_date_passed_and_outranks_silence():
    got = stand(msg(1, "advancing", 30), msg(2, "noncommittal", 20, due=date(2026, 6, 25)),
                msg(3, "unrelated", 1, own=True))  # the user's own chaser is no answer
    assert (got["status"], got["expected_by"], got["flag"]) == ("overdue", "2026-06-25", "amber")
    assert "Jun 25" in got["reason"] and "June 25" in got["question"]
    assert got["evidence"]["message_id"] == "<m2@x>"
    # the day itself is not late
    assert stand(msg(2, "noncommittal", 5, due=date(2026, 6, 30)))["status"] == "noncommittal"


def test_a_later_employer_message_replaces_the_promise():
    got = stand(msg(1, "acknowledgement", 20, due=date(2026, 6, 20)), msg(2, "advancing", 3))
    assert (got["status"], got["expected_by"]) == ("interested", None)


def test_rejection_clears_the_promise():
    got = stand(msg(1, "acknowledgement", 20, due=date(2026, 7, 20)), msg(2, "rejected", 3))
    assert got["expected_by"] is None


@pytest.mark.parametrize("last,days,status", [
    ("advancing", 13, "interested"), ("advancing", 14, "silent"),
    ("noncommittal", 9, "noncommittal"), ("noncommittal", 10, "silent"),
    ("acknowledgement", 90, "waiting"), ("offer", 90, "offer"), ("rejected", 90, "rejected"),
])
def test_silence_thresholds_are_stage_aware(last, days, status):
    got = stand(msg(1, last, days))
    assert got["status"] == status and got["days_silent"] == days


def test_silence_thresholds_are_configurable():
    limits = Thresholds(after_advancing=5, after_noncommittal=3, after_acknowledgement=30)
    assert stand(msg(1, "advancing", 6), limits=limits)["status"] == "silent"
    assert stand(msg(1, "acknowledgement", 31), limits=limits)["status"] == "silent"
    assert Thresholds.from_dict({"after_advancing": 7, "colour": "x"}).after_advancing == 7


def test_a_future_promise_holds_off_silence():
    got = stand(msg(1, "noncommittal", 40, due=date(2026, 8, 15)))
    assert (got["status"], got["expected_by"]) == ("noncommittal", "2026-08-15")


def test_own_mail_only_is_waiting_without_evidence():
    """An application the user started by email: silence counts from the user's last message."""
    got = stand(msg(1, "unrelated", 12, own=True), msg(2, "unrelated", 8, own=True))
    assert (got["status"], got["evidence"], got["days_silent"], got["last_contact"]) == ("waiting", None, 8, None)
    assert got["flag"] == "grey" and got["question"] is None
    assert "You wrote on Jun 22" in got["reason"]


def test_own_mail_only_turns_silent_at_the_waiting_threshold():
    limits = Thresholds(after_acknowledgement=7)
    got = stand(msg(1, "unrelated", 8, own=True), limits=limits)
    assert (got["flag"], got["status"], got["days_silent"], got["evidence"], got["last_contact"]) == (
        "amber", "silent", 8, None, None)
    assert got["reason"] == "No reply for 8 days since you wrote on Jun 22." and got["question"]
    assert stand(msg(1, "unrelated", 6, own=True), limits=limits)["status"] == "waiting"
    # once the employer wrote, its message is what the silence counts from
    answered = stand(msg(1, "unrelated", 30, own=True), msg(2, "acknowledgement", 20), msg(3, "unrelated", 2, own=True))
    assert (answered["days_silent"], answered["last_contact"]) == (20, (NOW - timedelta(days=20)).isoformat())


def test_trend_rounds_and_last_contact():
    got = stand(msg(1, "acknowledgement", 30), msg(2, "advancing", 20), msg(3, "advancing", 10))
    assert (got["trend"], got["rounds"]) == ("warming", 2)
    assert got["last_contact"] == (NOW - timedelta(days=10)).isoformat()
    assert stand(msg(1, "advancing", 9), msg(2, "noncommittal", 2))["trend"] == "cooling"
    assert stand(msg(1, "advancing", 30))["trend"] == "cooling"  # silent


def test_questions_follow_the_seed():
    noncommittal = stand(msg(1, "noncommittal", 2))["question"]
    assert "Analyst role at Fjordline" in noncommittal and "equal interest" in noncommittal
    silent = stand(msg(1, "advancing", 20))["question"]
    assert "next steps" in silent and "interview process" in silent
    assert stand(msg(1, "offer", 2))["question"] is None


def test_now_without_zone_is_utc():
    naive = NOW.replace(tzinfo=None)
    assert stand(msg(1, "advancing", 14), now=naive)["status"] == "silent"


def test_attention_order():
    apps = [{"id": str(i), "flag": standing.FLAG_OF[s], "status": s, "last_ts": ts}
            for i, (s, ts) in enumerate([("rejected", 9), ("waiting", 8), ("offer", 1), ("interested", 5),
                                         ("noncommittal", 7), ("silent", 2), ("overdue", 3)])]
    order = [(a["status"], a["last_ts"]) for a in standing.attention_order(apps)]
    assert order == [("overdue", 3), ("silent", 2), ("noncommittal", 7), ("interested", 5), ("offer", 1),
                     ("waiting", 8), ("rejected", 9)]
