"""Grouping messages into applications: threads, company + role, own mail, corrections."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from server.grouping import group_messages

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=timezone.utc)
_pk = iter(range(1, 10_000))


def m(mid, *, label="advancing", company=None, role=None, sender="pat@ferncastle.example", day=0,
      reply_to=None, own=False, thread_id=None, to=(), subject="", cleaned=None):
    row = {"pk": next(_pk), "message_id": mid, "in_reply_to": reply_to,
           "references": (reply_to,) if reply_to else (), "thread_id": thread_id,
           "from_addr": sender, "to": tuple(to), "subject": subject, "date": T0 + timedelta(days=day),
           "label": "unrelated" if own else label,
           "own": own, "company": company, "role": role, "evidence": [], "expected_by": None}
    if cleaned is not None:
        row["cleaned"] = cleaned
    return row


ME = "robin.hale@example.org"


def mine(mid, subject, to, *, day=0, reply_to=None, cleaned=None, sender=ME):
    return m(mid, own=True, sender=sender, to=(to,), subject=subject, day=day, reply_to=reply_to, cleaned=cleaned)


def ids(groups):
    return sorted(sorted(x["message_id"] for x in g.messages) for g in groups)


def test_two_roles_at_one_company_stay_two_applications():
    rows = [m("<1>", company="Ferncastle", role="Data Engineer", day=0),
            m("<2>", company="Ferncastle", role="Product Manager", day=1),
            m("<3>", company="Ferncastle Ltd", role="Data Engineer", label="rejected", day=5)]
    groups = group_messages(rows)
    assert ids(groups) == [["<1>", "<3>"], ["<2>"]]
    assert {g.role for g in groups} == {"Data Engineer", "Product Manager"}


def test_message_without_role_joins_the_only_application_else_the_most_recent():
    rows = [m("<1>", company="Ferncastle", role="Data Engineer", day=0),
            m("<2>", company="Ferncastle", role=None, label="noncommittal", day=3)]
    assert ids(group_messages(rows)) == [["<1>", "<2>"]]
    rows += [m("<3>", company="Ferncastle", role="Product Manager", day=4),
             m("<4>", company="Ferncastle", role=None, label="rejected", day=6)]
    assert ids(group_messages(rows)) == [["<1>", "<2>"], ["<3>", "<4>"]]


def test_ats_relay_and_recruiter_address_are_one_application():
    rows = [m("<1>", label="acknowledgement", company="Ferncastle Analytics", role="Data Engineer",
              sender="no-reply@greenhouse.io"),
            m("<2>", company="Ferncastle Analytics", role="Data Engineer", sender="pat@ferncastle.example", day=4),
            # the recruiter's next mail names no company: her domain does
            m("<3>", label="noncommittal", sender="pat@ferncastle.example", day=9)]
    groups = group_messages(rows)
    assert ids(groups) == [["<1>", "<2>", "<3>"]]
    assert groups[0].company == "Ferncastle Analytics"


def test_threads_join_and_own_mail_follows_its_thread():
    rows = [m("<1>", company="Ferncastle", role="Data Engineer"),
            m("<2>", own=True, sender="me@example.org", reply_to="<1>", day=1),
            m("<3>", label="advancing", reply_to="<2>", day=2),  # reply with no company of its own
            m("<4>", own=True, sender="me@example.org", day=3),  # own mail answering nothing, to no one: dropped
            m("<5>", label="unrelated", sender="news@paper.example", day=4)]  # no application
    assert ids(group_messages(rows)) == [["<1>", "<2>", "<3>"]]


def test_gmail_thread_id_joins():
    rows = [m("<1>", company="Ferncastle", role="Data Engineer", thread_id="t1"),
            m("<2>", label="noncommittal", sender="x@other.example", thread_id="t1", day=2)]
    assert ids(group_messages(rows)) == [["<1>", "<2>"]]


def test_a_thread_never_merges_two_employers():
    rows = [m("<1>", company="Ferncastle", role="Data Engineer", sender="liam@agency.example"),
            m("<2>", company="Glenmore Bank", role="Java Developer", sender="liam@agency.example",
              reply_to="<1>", day=3)]
    assert len(group_messages(rows)) == 2


def test_unknown_employer_forms_an_application_from_its_thread():
    rows = [m("<1>", label="advancing", sender="someone@gmail.com")]
    groups = group_messages(rows)
    assert ids(groups) == [["<1>"]] and groups[0].company is None


def test_ids_are_stable_and_short():
    rows = [m("<1>", company="Ferncastle", role="Data Engineer")]
    first = group_messages(rows)[0].id
    rows.append(m("<2>", company="Ferncastle", role="Data Engineer", day=2))
    assert group_messages(rows)[0].id == first and len(first) == 12


def test_corrections_label_not_job_company_role():
    rows = [m("<1>", company="Ferncastle", role="Data Engineer"),
            m("<2>", label="unrelated", sender="x@y.example", day=1)]
    groups = group_messages(rows, [{"kind": "label", "message_id": "<2>", "label": "advancing"},
                                   {"kind": "company_role", "message_id": "<2>", "company": "Ferncastle",
                                    "role": "Data Engineer"}])
    assert ids(groups) == [["<1>", "<2>"]]
    assert group_messages(rows, [{"kind": "not_job", "message_id": "<1>"}]) == []


def test_corrections_split_merge_archive_survive_regrouping():
    rows = [m("<1>", company="Ferncastle", role="Data Engineer"),
            m("<2>", company="Ferncastle", role="Data Engineer", reply_to="<1>", day=1),
            m("<3>", company="Glenmore", role="Analyst", sender="a@glenmore.example", day=2)]
    groups = group_messages(rows)
    fern = next(g for g in groups if g.company == "Ferncastle")
    glen = next(g for g in groups if g.company == "Glenmore")
    split = group_messages(rows, [{"kind": "split", "message_id": "<2>"}])
    assert ids(split) == [["<1>"], ["<2>"], ["<3>"]]
    merge = {"kind": "merge", "application_id": fern.id, "other_application_id": glen.id,
             "application_id_messages": ["<1>", "<2>"], "other_application_id_messages": ["<3>"]}
    merged = group_messages(rows, [merge])
    assert ids(merged) == [["<1>", "<2>", "<3>"]] and merged[0].id == fern.id
    # the application's company changed, so its id changed: the recorded messages still find it
    archive = {"kind": "archive", "application_id": fern.id, "application_id_messages": ["<1>", "<2>"]}
    renamed = {"kind": "company_role", "application_id": fern.id, "company": "Ferncastle Group",
               "role": "Data Engineer", "application_id_messages": ["<1>", "<2>"]}
    after = group_messages(rows, [renamed, archive])
    g = next(g for g in after if g.company == "Ferncastle Group")
    assert g.archived and g.id != fern.id
    assert not group_messages(rows, [archive, {**archive, "kind": "unarchive"}])[0].archived


# ---------------------------------------------------------------- applications the user started
def test_a_cold_application_by_email_opens_an_application_and_a_chaser_joins_it():
    rows = [mine("<c1>", "Site Reliability Engineer opening - Robin Hale", "talent@orrery-freight.com", day=0),
            mine("<c2>", "Re: Site Reliability Engineer opening - Robin Hale", "talent@orrery-freight.com",
                 day=9, reply_to="<c1>")]
    groups = group_messages(rows)
    assert ids(groups) == [["<c1>", "<c2>"]]
    assert (groups[0].company, groups[0].role) == ("Orrery Freight", "Site Reliability Engineer")
    # stable id: the same application after a rebuild
    assert group_messages(rows)[0].id == groups[0].id


def test_employer_mail_joins_the_application_the_user_started():
    rows = [mine("<c1>", "Application: Data Engineer", "jobs@brackenfield.com", day=0),
            # the reply in the thread, naming no company of its own
            m("<c2>", label="advancing", sender="ines@brackenfield.com", reply_to="<c1>", day=3),
            # the ATS receipt in a thread of its own, same company and role
            m("<c3>", label="acknowledgement", company="Brackenfield", role="Data Engineer",
              sender="no-reply@greenhouse.io", day=1)]
    groups = group_messages(rows)
    assert ids(groups) == [["<c1>", "<c2>", "<c3>"]]
    assert (groups[0].company, groups[0].role) == ("Brackenfield", "Data Engineer")


def test_outreach_reads_the_body_when_the_row_has_it():
    body = "Hi Tom,\n\nI applied for the Backend Developer position on your team last week and wanted to say hello."
    rows = [mine("<c1>", "Hello from Robin", "tom@quayside-labs.io", cleaned=body)]
    groups = group_messages(rows)
    assert ids(groups) == [["<c1>"]] and groups[0].role == "Backend Developer"


def test_own_mail_that_is_not_outreach_opens_nothing():
    rows = [mine("<n1>", "Data Engineer opening - Robin Hale", "friend@gmail.com"),  # freemail: no employer
            mine("<n2>", "Data Engineer opening - Robin Hale", "no-reply@greenhouse.io"),  # an ATS relay
            mine("<n3>", "Data Engineer opening", "kim@example.org"),  # the user's own domain
            mine("<n4>", "Dinner on Friday?", "sam@harrowgate.com"),  # no role, no application word
            mine("<n5>", "Notes from the Data Engineer sync", "sam@harrowgate.com"),  # a role, no application word
            mine("<n6>", "Data Engineer opening", "")]  # no recipient
    assert group_messages(rows) == []


def test_own_reply_to_employer_mail_keeps_the_employer_thread():
    rows = [m("<e1>", company="Ferncastle", role="Data Engineer", sender="pat@ferncastle.example"),
            # the user's answer goes to the same recruiter, mentions the role: still one application
            mine("<e2>", "Re: Data Engineer role", "pat@ferncastle.example", reply_to="<e1>", day=1)]
    groups = group_messages(rows)
    assert ids(groups) == [["<e1>", "<e2>"]] and groups[0].company == "Ferncastle"


def test_not_a_job_correction_removes_an_application_the_user_started():
    rows = [mine("<c1>", "Application for Product Designer", "hello@lattice-row.com")]
    assert len(group_messages(rows)) == 1
    assert group_messages(rows, [{"kind": "not_job", "message_id": "<c1>"}]) == []
    fixed = group_messages(rows, [{"kind": "company_role", "message_id": "<c1>", "company": "Lattice Row Studio",
                                   "role": "Senior Product Designer"}])
    assert (fixed[0].company, fixed[0].role) == ("Lattice Row Studio", "Senior Product Designer")
