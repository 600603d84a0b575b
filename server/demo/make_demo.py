"""Writes the bundled demo mailbox (demo.mbox) and its facts (demo.json). Run it after editing.

    python3 server/demo/make_demo.py

Everything here is written for the demo: fictional people and employers, one job seeker
(Alex Morgan) with eleven applications that, at the demo's fixed "now", cover every flag and
status: offer, interested, a reopened rejection, noncommittal, overdue, silent (after an
interview and after a noncommittal reply), rejected and waiting, with threads, the user's own
replies and some unrelated mail in between.
"""
from __future__ import annotations

import json
import mailbox
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 5, 15, 12, 0, tzinfo=timezone.utc)
USER = ("Alex Morgan", "alex.morgan@example.net")

# (key, company, role, intended flag, status, expected_by) at NOW.
APPLICATIONS = [
    ("lanternfish", "Lanternfish Labs", "Backend Engineer", "green", "offer", None),
    ("copperleaf", "Copperleaf Insurance", "Data Analyst", "green", "interested", None),
    ("cobalt", "Cobalt Street Bank", "Java Developer", "green", "interested", None),
    ("meridian", "Meridian Rail", "Platform Engineer", "amber", "noncommittal", None),
    ("saffron", "Saffron Health", "QA Engineer", "amber", "overdue", "2026-05-08"),
    ("tinderbox", "Tinderbox Games", "Gameplay Programmer", "amber", "silent", None),
    ("fennel", "Fennel Foods", "Product Designer", "amber", "silent", None),
    ("harrow", "Harrow & Pike", "Software Developer", "red", "rejected", None),
    ("orrery", "Orrery Space", "Flight Software Engineer", "red", "rejected", None),
    ("bellwether", "Bellwether Analytics", "Data Engineer", "grey", "waiting", None),
    ("quayside", "Quayside Media", "Frontend Developer", "grey", "waiting", None),
]


def days_ago(days: float, hour: int = 10) -> datetime:
    return (NOW - timedelta(days=days)).replace(hour=hour, minute=0)


# Each message: (application key or None, days before NOW, hour, sender (name, addr), subject,
# body, reply-to message key or None, own message key). Own mail is from USER.
MESSAGES = [
    # --- Lanternfish Labs: applied, interviewed, offer
    ("lanternfish", 60, 9, ("Lanternfish Labs", "no-reply@greenhouse.io"),
     "Thank you for applying to Lanternfish Labs",
     "Hi Alex,\n\nThanks for applying to the Backend Engineer position at Lanternfish Labs. We have "
     "received your application and our team is reviewing it.\n\nThe Lanternfish Labs Recruiting Team",
     None, "lf1"),
    ("lanternfish", 52, 14, ("Priya Natarajan", "priya@lanternfishlabs.io"),
     "Lanternfish Labs - Backend Engineer interview",
     "Hi Alex,\n\nI'm the engineering manager for our ingestion team. We were impressed by your "
     "background and would like to invite you to a technical interview for the Backend Engineer role. "
     "Could you send me a few times that work for you next week?\n\nPriya Natarajan\nEngineering Manager, "
     "Lanternfish Labs", None, "lf2"),
    ("lanternfish", 52, 17, USER, "Re: Lanternfish Labs - Backend Engineer interview",
     "Hi Priya,\n\nThank you! Tuesday or Wednesday afternoon would suit me well.\n\nBest,\nAlex",
     "lf2", "lf3"),
    ("lanternfish", 38, 11, ("Priya Natarajan", "priya@lanternfishlabs.io"),
     "Final round at Lanternfish Labs",
     "Hi Alex,\n\nThe team really enjoyed the technical interview. We'd like to move you forward to the "
     "final round: a system design session and a chat with our CTO. I'll send the calendar invite "
     "tomorrow.\n\nPriya", None, "lf4"),
    ("lanternfish", 9, 15, ("Priya Natarajan", "priya@lanternfishlabs.io"),
     "Your offer from Lanternfish Labs",
     "Hi Alex,\n\nI'm delighted to offer you the position of Backend Engineer at Lanternfish Labs! "
     "Your offer letter with the salary and start date is attached. Please take your time to review "
     "it and let me know if you have any questions.\n\nCongratulations,\nPriya", None, "lf5"),
    ("lanternfish", 8, 9, USER, "Re: Your offer from Lanternfish Labs",
     "Hi Priya,\n\nThank you so much, this is wonderful news. I'll read the letter carefully and get "
     "back to you this week.\n\nAlex", "lf5", "lf6"),
    # --- Copperleaf Insurance: moving forward
    ("copperleaf", 30, 8, ("Copperleaf Insurance", "copperleaf@myworkday.com"),
     "Copperleaf Insurance: Application received for Data Analyst",
     "Dear Alex,\n\nThank you for your interest in Copperleaf Insurance. Your application for the "
     "Data Analyst position has been received and is being reviewed.\n\nCopperleaf Talent Acquisition",
     None, "cl1"),
    ("copperleaf", 5, 13, ("Marcus Bell", "marcus.bell@copperleafins.com"),
     "Data Analyst - next round with Copperleaf",
     "Hi Alex,\n\nThanks for a great phone screen on Monday. I'm happy to say we'd like to invite you "
     "to the next round, a case study interview with two of our analytics leads. Please pick a slot "
     "using the scheduling link below.\n\nMarcus Bell\nTalent Partner, Copperleaf Insurance", None, "cl2"),
    # --- Cobalt Street Bank: rejected, then reopened
    ("cobalt", 44, 10, ("Hannah Osei", "hannah.osei@cobaltstreetbank.com"),
     "Java Developer interview - Cobalt Street Bank",
     "Hello Alex,\n\nWe would like to invite you to interview for the Java Developer role on our "
     "payments team. Are you available on Thursday at 2pm?\n\nHannah Osei\nRecruiter, Cobalt Street Bank",
     None, "cb1"),
    ("cobalt", 44, 12, USER, "Re: Java Developer interview - Cobalt Street Bank",
     "Hello Hannah,\n\nThursday at 2pm works for me. Looking forward to it.\n\nAlex", "cb1", "cb2"),
    ("cobalt", 30, 16, ("Hannah Osei", "hannah.osei@cobaltstreetbank.com"),
     "RE: Java Developer interview - Cobalt Street Bank",
     "Hello Alex,\n\nThank you for interviewing with us. Unfortunately, we have decided to proceed "
     "with another candidate for the Java Developer position.\n\nKind regards,\nHannah", "cb2", "cb3"),
    ("cobalt", 6, 9, ("Hannah Osei", "hannah.osei@cobaltstreetbank.com"),
     "RE: Java Developer interview - Cobalt Street Bank",
     "Hello Alex,\n\nI have some news: the candidate we chose has withdrawn, and the team would love "
     "to continue with you. Could we schedule a follow-up interview with the hiring manager next "
     "week?\n\nHannah", "cb3", "cb4"),
    ("cobalt", 6, 11, USER, "Re: Java Developer interview - Cobalt Street Bank",
     "Hello Hannah,\n\nThat's great to hear. Tuesday or Wednesday morning works for me.\n\nAlex",
     "cb4", "cb5"),
    # --- Meridian Rail: noncommittal, recent
    ("meridian", 20, 10, ("Tom Fairweather", "tom.fairweather@meridianrail.co.uk"),
     "Platform Engineer - video interview",
     "Hi Alex,\n\nThanks for applying for the Platform Engineer role. I'd like to arrange a video "
     "interview with our infrastructure lead. Would Friday morning work?\n\nTom Fairweather\nMeridian Rail",
     None, "mr1"),
    ("meridian", 20, 12, USER, "Re: Platform Engineer - video interview",
     "Hi Tom,\n\nFriday morning is perfect, thank you.\n\nAlex", "mr1", "mr2"),
    ("meridian", 4, 15, ("Tom Fairweather", "tom.fairweather@meridianrail.co.uk"),
     "RE: Platform Engineer - video interview",
     "Hi Alex,\n\nThank you for your time on Friday. We are still in the early stages of the process "
     "and have a few more candidates to meet before we decide on next steps.\n\nBest wishes,\nTom",
     "mr2", "mr3"),
    # --- Saffron Health: promised a reply by Friday May 8, nothing since
    ("saffron", 22, 9, ("Saffron Health Careers", "no-reply@ashbyhq.com"),
     "Saffron Health - QA Engineer application",
     "Hi Alex,\n\nThanks for applying for the QA Engineer role at Saffron Health. We've received your "
     "application.\n\nSaffron Health Talent", None, "sh1"),
    ("saffron", 15, 10, ("Elena Rossi", "elena.rossi@saffronhealth.com"),
     "QA Engineer interview - Saffron Health",
     "Hi Alex,\n\nWe'd love to invite you to a 45-minute interview for the QA Engineer role with "
     "our quality lead. Does Monday at 11 work?\n\nElena Rossi\nSaffron Health", None, "sh2"),
    ("saffron", 11, 16, ("Elena Rossi", "elena.rossi@saffronhealth.com"),
     "Following up - QA Engineer",
     "Hi Alex,\n\nThank you for meeting the team on Monday. We are still interviewing a few other "
     "people and will come back to you with a decision by Friday, May 8.\n\nElena", None, "sh3"),
    ("saffron", 2, 9, USER, "Re: Following up - QA Engineer",
     "Hi Elena,\n\nI hope you're well. I wanted to check whether there is any news about the QA "
     "Engineer role.\n\nBest,\nAlex", "sh3", "sh4"),
    # --- Tinderbox Games: interview, then silence
    ("tinderbox", 40, 10, ("Tinderbox Games", "tinderbox@hire.lever.co"),
     "Tinderbox Games | Thanks for applying",
     "Hi Alex,\n\nThanks for applying to the Gameplay Programmer role at Tinderbox Games. We have "
     "received your application.\n\nTinderbox Games", None, "tg1"),
    ("tinderbox", 27, 14, ("Nadia Kowal", "nadia@tinderboxgames.com"),
     "Gameplay Programmer interview",
     "Hi Alex,\n\nYour portfolio stood out to us and we'd like to invite you to an interview with "
     "our lead designer and a senior programmer. Can you do next Tuesday at 3pm?\n\nNadia Kowal\n"
     "Studio Recruiter, Tinderbox Games", None, "tg2"),
    ("tinderbox", 27, 16, USER, "Re: Gameplay Programmer interview",
     "Hi Nadia,\n\nNext Tuesday at 3pm works for me. Thank you!\n\nAlex", "tg2", "tg3"),
    ("tinderbox", 19, 9, USER, "Thank you - Gameplay Programmer interview",
     "Hi Nadia,\n\nThank you for organising yesterday's interview. I really enjoyed talking about "
     "the combat prototype.\n\nAlex", None, "tg4"),
    # --- Fennel Foods: noncommittal 16 days ago, then silence
    ("fennel", 30, 10, ("Jonas Berg", "jonas.berg@fennelfoods.com"),
     "Product Designer portfolio review",
     "Hi Alex,\n\nThanks for your application for the Product Designer role. We'd like to schedule "
     "a portfolio review call with our design director next week.\n\nJonas Berg\nFennel Foods", None, "ff1"),
    ("fennel", 30, 13, USER, "Re: Product Designer portfolio review",
     "Hi Jonas,\n\nThank you, I'd be glad to. Any afternoon next week works.\n\nAlex", "ff1", "ff2"),
    ("fennel", 16, 11, ("Jonas Berg", "jonas.berg@fennelfoods.com"),
     "RE: Product Designer portfolio review",
     "Hi Alex,\n\nThanks again for walking us through your work. We haven't made a decision yet, as "
     "we are still reviewing several other candidates for the role.\n\nKind regards,\nJonas",
     "ff2", "ff3"),
    # --- Harrow & Pike: rejected after the application
    ("harrow", 35, 9, ("Harrow & Pike", "noreply@successfactors.eu"),
     "Harrow & Pike - application acknowledgement",
     "Dear Alex,\n\nThank you for applying for the Software Developer vacancy at Harrow & Pike. We "
     "confirm receipt of your application.\n\nHarrow & Pike Recruitment", None, "hp1"),
    ("harrow", 21, 10, ("Harrow & Pike", "noreply@successfactors.eu"),
     "Your application to Harrow & Pike",
     "Dear Alex,\n\nThank you for your interest in the Software Developer role. After careful "
     "review, we regret to inform you that we will not be progressing your application further. We "
     "will keep your details on file for future roles.\n\nHarrow & Pike Recruitment", None, "hp2"),
    # --- Orrery Space: interviewed, then the role was cancelled
    ("orrery", 33, 10, ("Sam Ito", "sam.ito@orreryspace.com"),
     "Flight Software Engineer - phone screen",
     "Hi Alex,\n\nI'd like to set up a phone screen for the Flight Software Engineer opening. Are you "
     "free on Wednesday at 10am?\n\nSam Ito\nOrrery Space", None, "os1"),
    ("orrery", 33, 12, USER, "Re: Flight Software Engineer - phone screen",
     "Hi Sam,\n\nWednesday at 10am is great.\n\nAlex", "os1", "os2"),
    ("orrery", 12, 15, ("Sam Ito", "sam.ito@orreryspace.com"),
     "RE: Flight Software Engineer - phone screen",
     "Hi Alex,\n\nI'm sorry to tell you that the Flight Software Engineer position has been "
     "cancelled after a change in our launch schedule, so we are closing all applications for "
     "it.\n\nSam", "os2", "os3"),
    # --- Bellwether Analytics: acknowledged, recent
    ("bellwether", 3, 19, ("Bellwether Analytics", "notifications@smartrecruiters.com"),
     "Thanks for applying to Bellwether Analytics",
     "Hi Alex,\n\nThank you for applying for the Data Engineer position at Bellwether Analytics. "
     "Your application has been submitted successfully.\n\nBellwether Analytics", None, "ba1"),
    # --- Quayside Media: the user wrote, an acknowledgement came
    ("quayside", 7, 9, USER, "Frontend Developer application - Alex Morgan",
     "Dear Ms Duarte,\n\nPlease find attached my application for the Frontend Developer role at "
     "Quayside Media.\n\nKind regards,\nAlex Morgan", None, "qm1"),
    ("quayside", 6, 10, ("Rita Duarte", "rita.duarte@quaysidemedia.com"),
     "RE: Frontend Developer application - Alex Morgan",
     "Dear Alex,\n\nThank you for your application for the Frontend Developer role, which we have "
     "received. We will review all applications after the closing date.\n\nRita Duarte\nQuayside Media",
     "qm1", "qm2"),
    # --- unrelated mail
    (None, 45, 7, ("JobsDaily Alerts", "alerts@jobsdaily.example"), "12 new Backend Engineer jobs for you",
     "New jobs matching your search:\n\nBackend Engineer - Pinewood Systems - Remote\nSenior Backend "
     "Engineer - Gullwing - Leeds\n\nManage your alerts | Unsubscribe", None, "u1"),
    (None, 25, 18, ("Chris Morgan", "chris.morgan.home@gmail.com"), "Sunday lunch?",
     "Hey, are you coming on Sunday? Mum is making the lasagne.\n\nChris", None, "u2"),
    (None, 14, 8, ("Kettle & Crumb", "orders@kettleandcrumb.example"), "Your order #5512 is confirmed",
     "Thanks for your order! Your coffee beans will ship within two business days.", None, "u3"),
    (None, 3, 7, ("The Weekly Stack", "hello@weeklystack.example"), "Issue 204: queues and caches",
     "This week: a deep dive into message queues, cache invalidation war stories and a new "
     "linter for SQL migrations.\n\nUnsubscribe", None, "u4"),
]


def build() -> tuple[list[bytes], dict]:
    raws = []
    ids = {key: f"<demo-{key}@{(sender[1].split('@')[1])}>"
           for _, _, _, sender, _, _, _, key in MESSAGES}
    refs: dict[str, list[str]] = {}
    for app, ago, hour, (name, addr), subject, body, reply_to, key in MESSAGES:
        msg = EmailMessage()
        msg["From"] = f"{name} <{addr}>"
        msg["To"] = "hello@example.com" if (name, addr) == USER else f"{USER[0]} <{USER[1]}>"
        msg["Subject"] = subject
        msg["Date"] = format_datetime(days_ago(ago, hour))
        msg["Message-ID"] = ids[key]
        chain = []
        if reply_to:
            chain = refs.get(reply_to, []) + [ids[reply_to]]
            msg["In-Reply-To"] = ids[reply_to]
            msg["References"] = " ".join(chain)
        refs[key] = chain
        msg.set_content(body)
        raws.append((days_ago(ago, hour), bytes(msg)))
    raws.sort(key=lambda pair: pair[0])
    meta = {
        "now": NOW.isoformat(),
        "user": USER[1],
        "applications": [{"company": c, "role": r, "flag": f, "status": s, "expected_by": e}
                         for _, c, r, f, s, e in APPLICATIONS],
    }
    return [raw for _, raw in raws], meta


def main() -> None:
    raws, meta = build()
    path = HERE / "demo.mbox"
    path.unlink(missing_ok=True)
    box = mailbox.mbox(str(path))
    try:
        for raw in raws:
            box.add(mailbox.mboxMessage(raw))
        box.flush()
    finally:
        box.close()
    (HERE / "demo.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(raws)} messages to {path}")


if __name__ == "__main__":
    main()
