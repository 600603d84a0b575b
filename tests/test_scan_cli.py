"""`standing scan`, `standing list`, `standing rebuild` as the user runs them."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

from click.testing import CliRunner

from server.cli import cli
from server.ingest import DEMO_MBOX, demo_meta, load_demo
from server.store import Store
from tests.conftest import REPO
from tests.support.timelines import load_timelines, raw_message

META = demo_meta()
WANT = {(a["company"], a["role"]): (a["flag"], a["status"]) for a in META["applications"]}


def run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def as_standings(output: str) -> dict:
    apps = json.loads(output)["applications"]
    return {(a["company"], a["role"]): (a["flag"], a["status"]) for a in apps}


def test_scan_json_of_the_demo_mbox_leaves_the_user_database_alone(data_dir):
    result = run("scan", str(DEMO_MBOX), "--json", "--now", META["now"], "--me", META["user"])
    assert result.exit_code == 0, result.output
    assert as_standings(result.stdout) == WANT
    apps = json.loads(result.stdout)["applications"]
    assert set(apps[0]) >= {"id", "company", "role", "flag", "status", "reason", "evidence", "expected_by",
                            "days_silent", "question", "last_contact", "trend", "message_ids"}
    assert [a["flag"] for a in apps][:4] == ["amber"] * 4
    assert list(data_dir.iterdir()) == []  # scan never touches the user's data dir


def test_scan_guesses_the_user_address_when_not_given():
    result = run("scan", str(DEMO_MBOX), "--json", "--now", META["now"])
    assert result.exit_code == 0, result.output
    assert as_standings(result.stdout) == WANT
    lantern = next(a for a in json.loads(result.stdout)["applications"] if a["company"] == "Lanternfish Labs")
    assert len(lantern["message_ids"]) == 6  # own replies included


def test_scan_table_puts_amber_first_with_reason_and_evidence():
    result = run("scan", str(DEMO_MBOX), "--now", META["now"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("AMBER") and "Saffron Health" in lines[0]
    assert "\u201c" in result.stdout and "Ask:" in result.stdout
    assert lines[-1].startswith("4 amber")


def test_scan_a_folder_of_eml_files_with_a_broken_one(tmp_path):
    items = [i for i in load_timelines() if i["application"] == "solace-group-software-engineer"]
    for n, item in enumerate(items):
        (tmp_path / f"{n}.eml").write_bytes(raw_message(item))
    (tmp_path / "broken.eml").write_bytes(b"\x00\xff garbage \r\n\r\n\x00")
    result = run("scan", str(tmp_path), "--json", "--now", "2026-11-20T12:00:00+00:00",
                 "--me", "sam.rivera@example.org")
    assert result.exit_code == 0, result.output
    apps = json.loads(result.stdout)["applications"]
    assert [(a["company"], a["status"]) for a in apps] == [("Solace Group", "silent")]
    assert len(apps[0]["message_ids"]) == len(items)


def test_bad_now_is_one_line_not_a_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "server.cli", "scan", str(DEMO_MBOX), "--now", "soon"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("standing: --now must be an ISO date")
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_list_uses_the_demo_databases_own_now_and_rebuild_keeps_corrections():
    with Store.open() as store:
        load_demo(store)
        harrow = next(a for a in store.standings(datetime.fromisoformat(store.get_meta("now")))
                      if a["company"] == "Harrow & Pike")
        store.add_correction({"kind": "archive", "application_id": harrow["id"]})
    result = run("list", "--json")
    assert result.exit_code == 0, result.output
    want = {k: v for k, v in WANT.items() if k[0] != "Harrow & Pike"}
    assert as_standings(result.stdout) == want
    result = run("rebuild")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Re-read 39 messages: 0 changed, 0 could not be read; 11 applications")
    assert as_standings(run("list", "--json").stdout) == want  # the archive survived the rebuild
    assert as_standings(run("list", "--json", "--archived").stdout) == WANT
    # another "now": Meridian Rail's noncommittal reply has gone silent by then
    later = as_standings(run("list", "--json", "--now", "2026-06-10T12:00:00+00:00").stdout)
    assert later[("Meridian Rail", "Platform Engineer")] == ("amber", "silent")
