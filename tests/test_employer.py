"""parsers.employer: company (never the ATS relay) and role, with our own fixture mails."""
from __future__ import annotations

import pytest

from parsers.employer import company_key, identify_employer, is_ats_address, role_key


@pytest.mark.parametrize("addr, want", [
    ("no-reply@greenhouse.io", True),
    ("jobs@hire.lever.co", True),
    ("acme@myworkday.com", True),
    ("donotreply@talent.icims.com", True),
    ("notifications@smartrecruiters.com", True),
    ("noreply@workablemail.com", True),
    ("x@ashbyhq.com", True),
    ("careers@northwind.com", False),
    ("someone@gmail.com", False),
    ("", False),
])
def test_is_ats_address(addr, want):
    assert is_ats_address(addr) is want


def test_ats_relay_uses_display_name_not_domain():
    who = identify_employer("Quayside Robotics", "no-reply@greenhouse.io",
                            "Thank you for applying to Quayside Robotics",
                            "Hi Sam,\n\nThanks for applying for the Firmware Engineer position. "
                            "We'll review your application soon.\n\nQuayside Robotics Talent Team")
    assert who.company == "Quayside Robotics"
    assert who.role == "Firmware Engineer"


def test_display_name_that_is_only_the_ats_is_no_company():
    who = identify_employer("Greenhouse", "no-reply@greenhouse.io",
                            "Your application to Tallowmere Foods",
                            "Hello,\n\nThank you for your interest in Tallowmere Foods.")
    assert who.company == "Tallowmere Foods"
    assert company_key(who.company) != "greenhouse"


def test_person_via_ats_names_the_company_elsewhere():
    who = identify_employer("Ola Berg via BambooHR", "noreply@bamboohr.com",
                            "Glimmerfen: Phone Screen for Data Platform Engineer",
                            "Hi Ana, I'd love to set up a short call.\n\nOla Berg\nRecruiter, Glimmerfen")
    assert who.company == "Glimmerfen"
    assert who.role == "Data Platform Engineer"


def test_display_name_in_parentheses():
    who = identify_employer("Rafa Ortiz (Cobblestone)", "no-reply@hire.lever.co",
                            "Let's schedule your interview", "Hi, pick a time that suits you.")
    assert who.company == "Cobblestone"


@pytest.mark.parametrize("from_name, subject", [
    ("Brightmoor Careers", "Application received – Warehouse Associate"),
    ("Brightmoor Talent Acquisition", "Your application for Warehouse Associate"),
    ("HR – Brightmoor", "Interview invitation – Warehouse Associate"),
])
def test_team_words_stripped_from_display_name(from_name, subject):
    who = identify_employer(from_name, "noreply@icims.com", subject, "Dear applicant, thank you.")
    assert company_key(who.company) == "brightmoor"
    assert who.role == "Warehouse Associate"


def test_company_from_signature_and_domain():
    text = ("Hi Jo,\n\nThanks for coming in. We'd like to invite you to a second interview.\n\n"
            "Best,\nPriya Raman\nTalent Partner\nOsprey Ridge Analytics Ltd")
    who = identify_employer("Priya Raman", "priya@ospreyridge.co.uk",
                            "Second interview – Reporting Analyst", text)
    assert who.company == "Osprey Ridge Analytics"
    assert who.role == "Reporting Analyst"


def test_domain_fallback_splits_known_words():
    who = identify_employer("Tom Beck", "tom@harwickdata.com", "Re: catching up",
                            "Hi Lee, no news yet from our side. Tom")
    assert who.company == "Harwick Data"


def test_freemail_domain_is_not_the_company():
    who = identify_employer("Marta Lopez", "marta.bakes@gmail.com", "counter job",
                            "Hi! Thanks for dropping off your CV at Sunny Crust Bakery. "
                            "Can you come in Saturday?\n\nMarta")
    assert company_key(who.company or "") != "gmail"


def test_agency_mail_names_the_client():
    text = ("Hi Chris,\n\nGood news: Fernhollow Logistics came back and want a second interview "
            "for the Transport Planner role.\n\nDan\nSenior Consultant | Apexline Recruitment")
    who = identify_employer("Dan Moss", "dan@apexlinerecruitment.co.uk",
                            "Fernhollow Logistics – second interview", text)
    assert who.company == "Fernhollow Logistics"
    assert who.role == "Transport Planner"


@pytest.mark.parametrize("subject, want", [
    ("Your application for Senior Analyst at Northwind", "Senior Analyst"),
    ("Application update: Northwind - Senior Analyst (R-1234)", "Senior Analyst"),
    ("Re: Data Engineer role at Northwind", "Data Engineer"),
    ("Position Update: Payroll Specialist (Req 88123)", "Payroll Specialist"),
    ("Interview Scheduled: Account Executive, Mid-Market", "Account Executive, Mid-Market"),
    ("Your offer – Data Engineer (m/w/d)", "Data Engineer"),
])
def test_role_from_subject(subject, want):
    assert identify_employer("Northwind Careers", "careers@northwind.com", subject, "").role == want


def test_role_from_body_when_subject_has_none():
    text = "Dear Kim,\n\nThank you for applying for the Junior Copywriter position at Larkmoor."
    who = identify_employer("Larkmoor", "no-reply@ashbyhq.com", "Thanks for applying to Larkmoor", text)
    assert who.company == "Larkmoor"
    assert who.role == "Junior Copywriter"


@pytest.mark.parametrize("a, b", [
    ("Northwind Inc.", "northwind careers"),
    ("The Northwind Company", "Northwind"),
    ("Northwind Ltd", "NORTHWIND Talent Acquisition"),
    ("Brook & Vale GmbH", "Brook and Vale"),
    ("Café Lumière", "Cafe Lumiere Hiring Team"),
])
def test_company_key_merges_spellings(a, b):
    assert company_key(a) == company_key(b)


def test_company_key_keeps_different_companies_apart():
    assert company_key("Northwind Traders") != company_key("Southwind Traders")
    assert company_key("") == ""


@pytest.mark.parametrize("a, b", [
    ("Sr. Data Engineer", "Senior Data Engineer"),
    ("Senior Data Engineer (R-1234)", "senior data engineer"),
    ("Branch Manager – Oshkosh", "Branch Manager"),
    ("Jr. QA Tester", "Junior QA Tester position"),
])
def test_role_key_merges_spellings(a, b):
    assert role_key(a) == role_key(b)


def test_never_raises_on_garbage():
    who = identify_employer("", "", "", "")
    assert who.company is None and who.role is None
    identify_employer("\x00<>", "@@@", "::::", "–" * 5000, full_text="(" * 5000)


def test_institution_line_under_a_title_is_the_company_not_a_person():
    text = ("Hi Ravi,\n\nThe panel meets again on Thursday.\n\nThanks,\nGlenda Moss\n"
            "Payroll Coordinator\nBirchwood Valley Community College\n(555) 010-2222")
    who = identify_employer("Glenda Moss", "gmoss@bvcc.edu", "Bursar Clerk search", text)
    assert who.company == "Birchwood Valley Community College"


def test_firm_name_ending_in_a_plural_job_word_is_a_company():
    text = ("Dear Ola,\n\nWe are pleased to confirm your place.\n\nKind regards,\n"
            "Trainee Recruitment Team\nMarchbank Pryce Solicitors")
    who = identify_employer("Trainee Recruitment – Marchbank Pryce", "trainees@marchbankpryce.co.uk",
                            "Trainee Solicitor – next steps", text)
    assert who.company == "Marchbank Pryce Solicitors"
    assert who.role == "Trainee Solicitor"


def test_article_of_a_team_signature_is_dropped_but_kept_when_part_of_the_name():
    team = identify_employer("Quillmoor", "no-reply@greenhouse.io", "Your Quillmoor application",
                             "Hi, thanks for your time.\n\nBest,\nThe Quillmoor Recruiting Team")
    assert team.company == "Quillmoor"
    hotel = identify_employer("Ada Lim", "ada.lim@thegrangeley.com", "Re: Night Porter",
                              "Hi Tom,\n\nCould you start Monday?\n\nAda Lim\nThe Grangeley Hotel | 4 Quay St")
    assert hotel.company == "The Grangeley Hotel"


def test_partnership_suffix_kept_in_display_but_not_in_key():
    text = ("Dear Priya,\n\nThank you for attending.\n\nYours sincerely,\nOwen Tate\nHR Manager\n"
            "Fenwick Ashdown LLP")
    who = identify_employer("Owen Tate", "otate@fenwickashdown.com", "Audit Trainee – outcome", text)
    assert who.company == "Fenwick Ashdown LLP"
    assert company_key(who.company) == company_key("Fenwick Ashdown")


def test_agency_names_its_client():
    text = ("Hi Lou,\n\nThanks for applying for the Picker Packer role with our client Norbury Freight "
            "at their Leeds site.\n\nKaren\nRecruitment Consultant")
    who = identify_employer("Karen Holt", "karen@swiftstaffing.co.uk", "Your application", text)
    assert who.company == "Norbury Freight"


@pytest.mark.parametrize("text, want", [
    ("Thanks for your interest in the Senior iOS Engineer role at Pellucid.", "Senior iOS Engineer"),
    ("We have an offer for you for the Solutions Architect, Public Sector role.",
     "Solutions Architect, Public Sector"),
    ("We've received your application for Junior Buyer and will be in touch.", "Junior Buyer"),
    ("Honestly it was easy: we want you as our first Data Engineer.", "Data Engineer"),
    ("I'm pleased to offer you the position of Site Supervisor, North Region, reporting to Jo.",
     "Site Supervisor, North Region"),
    ("Thank you for applying for Ward Clerk – Day Surgery (Req #77-120) at St Ives.",
     "Ward Clerk – Day Surgery"),
])
def test_role_framed_in_body(text, want):
    assert identify_employer("Pellucid", "jobs@pellucid.com", "Your application", text).role == want


def test_longer_body_title_containing_the_subject_title_wins():
    text = "Hi Dee,\n\nThanks for your interest in the Warehouse Team Leader opening at our depot."
    who = identify_employer("Mo Grant", "mo@carrowfreight.com", "Team Leader opening – update", text)
    assert who.role == "Warehouse Team Leader"


@pytest.mark.parametrize("subject, want", [
    ("Re: line cook spot", "Line Cook"),
    ("night shift supervisor chat", "Night Shift Supervisor"),
])
def test_informal_lowercase_subject(subject, want):
    assert identify_employer("Bea", "bea.cafe@gmail.com", subject, "hey! can you come by?").role == want


def test_possessive_first_name_in_agency_mail_is_not_the_client():
    body = ("Hi Jo,\n\nI spoke with Priya's team this morning: they liked both rounds but want "
            "to see one more person before deciding.\n\nBest,\nMorgan")
    full = body + "\n\nOn Mon, Jo wrote:\n> Any news from Priya's team?\n"
    who = identify_employer("Morgan Pike", "morgan@brightpathrecruitment.com",
                            "Tallowby – feedback after your final round", body, full_text=full)
    assert who.company == "Tallowby"


@pytest.mark.parametrize("prefix", ["Confirmed", "Rescheduled", "Updated invitation", "Accepted"])
def test_calendar_status_word_before_a_colon_is_no_company(prefix):
    who = identify_employer("Ines Duarte", "ines.duarte@copperleafhealth.org",
                            f"{prefix}: second interview – Payroll Specialist (Ref 7781)",
                            "Hi Jo, you're booked in for Wednesday at 2pm on Zoom.\n\nIne")
    assert company_key(who.company) == "copperleaf health"
    assert who.role == "Payroll Specialist"


def test_domain_label_matched_to_the_name_the_mail_spells_out():
    who = identify_employer("Vic Hale", "vic@pikerowe.com", "Re: catching up",
                            "Hi Jo, Pike & Rowe has grown a lot this year, so we're hiring again.\n\nVic")
    assert who.company == "Pike & Rowe"


def test_words_of_a_quoted_mail_split_the_domain_label():
    quoted = ("Hi Jo, here's the slot for Thursday.\n\nOn Mon, 3 Mar 2025, Tom Ware <tom@ashgroveharbour.com> wrote:\n"
              "> Ashgrove Harbour has grown a lot this year, so we're hiring again.\n> Tom")
    who = identify_employer("Tom Ware", "tom@ashgroveharbour.com", "Re: catching up",
                            "Hi Jo, here's the slot for Thursday.", full_text=quoted)
    assert who.company == "Ashgrove Harbour"


def test_run_together_domain_label_split_on_an_organisation_word():
    who = identify_employer("Greg Moss", "greg@pinewoodgrocers.com", "Platform role",
                            "Jo - liked your CV. 20 min on Tues?\n\nGreg")
    assert who.company == "Pinewood Grocers"


def test_address_in_a_quote_does_not_glue_the_domain_words():
    full = ("Great, see you then.\n\nOn Tue, Kai Lund <kai@fernholtmobility.com> wrote:\n> Does Friday suit?")
    who = identify_employer("Kai Lund", "kai@fernholtmobility.com", "Re: coffee", "Great, see you then.",
                            full_text=full)
    assert who.company == "Fernholt Mobility"


def test_a_guess_from_the_domain_never_respells_the_mails_name():
    who = identify_employer("Ada Roe", "ada@elmandoak.com", "Re: next steps",
                            "Hi Jo, thanks for meeting the team at Elm & Oak yesterday.\n\nAda")
    assert who.company == "Elm & Oak"


# --- relays, team words, agencies and senders (fresh-set mechanisms; our own fixture mails) ---

@pytest.mark.parametrize("from_name, addr", [
    ("Pemberley Foods via HireRight", "noreply@hireright.com"),   # background-check relay
    ("CodeSignal for Pemberley Foods", "tests@codesignal.com"),   # coding-test relay: "<relay> for <firm>"
    ("Pemberley Foods", "no-reply@applitrack.com"),               # school/job-board relay domain
])
def test_check_and_test_relays_are_never_the_employer(from_name, addr):
    who = identify_employer(from_name, addr, "Action needed: please complete this step",
                            "Hello,\n\nPlease complete the step below within five days.\n\nThank you")
    assert who.company == "Pemberley Foods"
    assert is_ats_address(addr)


def test_a_name_made_only_of_team_words_is_no_company():
    who = identify_employer("Oberhaus-Akademie Recruiting", "jobs@oha-research.de",
                            "Application for Research Software Engineer – receipt",
                            "Dear Dr. Lenz,\n\nWe confirm receipt of your documents.\n\nKind regards\nRecruiting Team")
    assert who.company == "Oberhaus-Akademie"  # a team-named sender is a firm, not a person


@pytest.mark.parametrize("name", ["Recruiting Team", "Recruitment Services", "HR Team", "Recrutement"])
def test_team_only_names_clean_to_nothing(name):
    assert company_key(name) == ""


def test_french_hr_suffix_is_a_team_word():
    who = identify_employer("Hôtel des Quatre Vents RH", "rh@quatrevents.ca", "Votre candidature",
                            "Bonjour,\n\nMerci pour votre candidature.\n\nL'équipe")
    assert who.company == "Hôtel des Quatre Vents"


def test_a_bare_government_label_does_not_penalise_the_sender_name():
    who = identify_employer("Harbour Ports Authority", "jobs@gov.ns.ca", "Thank you for applying - Deckhand",
                            "Dear Applicant,\n\nThank you for applying. Working for the Province is rewarding.\n\n"
                            "Harbour Ports Authority")
    assert who.company == "Harbour Ports Authority"


def test_cv_in_the_subject_is_not_a_company():
    who = identify_employer("Orla", "orla@thegreenlantern.ie", "Re: CV - Barback",
                            "Thanks, passing it to the manager now.\n\nOrla")
    assert company_key(who.company) != "cv"


def test_the_agency_recruiters_own_name_is_never_the_employer():
    # 'Porter' is also a job, so the name alone does not look like a person; the address says it is one
    who = identify_employer("Colm Porter", "colm.porter@brightwave-recruitment.ie", "RE: Forklift Driver - feedback",
                            "Hi Sean,\n\nHeard back from Ostrander. They want a second chat on Monday.\n\nColm")
    assert who.company == "Ostrander"


def test_a_staffing_agency_display_yields_to_the_client_it_names():
    who = identify_employer("Keelson Staffing", "notifications@bullhornmail.com", "Candidate status",
                            "Hi Dev,\n\nThe client has reviewed your submission for the Night Porter role at "
                            "Brantwood Hotel and would like to meet you.\n\nKeelson Staffing")
    assert who.company == "Brantwood Hotel"


def test_a_staffing_team_after_a_dash_is_the_firms_own():
    who = identify_employer("Coastal Fisheries Agency – Staffing", "staffing@cfa.ca", "Result of interview",
                            "Dear Applicant,\n\nThank you for attending the interview.\n\nStaffing Office")
    assert who.company == "Coastal Fisheries Agency"


def test_and_co_is_kept_in_the_display_and_dropped_from_the_key():
    who = identify_employer("Pell & Co", "noreply@candidates.workablemail.com", "Application received",
                            "Hi Ria,\n\nThanks for applying for the Payroll Clerk position at Pell & Co.\n\nPell & Co")
    assert who.company == "Pell & Co"
    assert company_key("Pell & Co") == company_key("Pell") == "pell"


def test_a_signature_naming_the_relay_keeps_only_the_firm():
    who = identify_employer("Workable", "noreply@candidates.workablemail.com", "Offer Letter - Support Lead",
                            "Hi Ana,\n\nYour offer letter is attached.\n\nTrellis Metrics via Workable")
    assert who.company == "Trellis Metrics"


# --- role phrases ---

@pytest.mark.parametrize("subject, text, want", [
    ("Your interview is booked", "Hello,\n\nPosition: Claims Intake Analyst\nDate: 4 June\n", "Claims Intake Analyst"),
    ("We got your note", "Hi! Thanks for applying to be our Front Desk Host this summer.", "Front Desk Host"),
    ("Re: Fw: Resume for Payroll Officer", "Received, thank you.", "Payroll Officer"),
    ("Re: Sous chef", "Can you come in on Friday?", "Sous Chef"),
    ("Re: Nanny position", "The children loved meeting you.", "Nanny"),
    ("Update", "Thank you for your interest in the Production Planner opportunity. We have paused it.",
     "Production Planner"),
    ("Coding test: Data Engineer Intern",
     "Hi, you are invited to the Data Engineer Intern - Technical Assessment. It takes 60 minutes.",
     "Data Engineer Intern"),
])
def test_role_phrases(subject, text, want):
    assert identify_employer("", "", subject, text).role == want


def test_a_grade_numeral_does_not_split_the_role_key():
    assert role_key("Records Clerk II") == role_key("Records Clerk") == "records clerk"
    assert role_key("Records Clerk II") != role_key("Records Manager II")


# --- role mechanisms: ranks, fields, sentence ends, layouts, lower case ---

@pytest.mark.parametrize("subject, text, want", [
    ("Re: Head Baker application", "See you Monday.", "Head Baker"),  # a rank head ranks the next word
    ("Re: Shift lead spot", "See you Monday.", "Shift Lead"),  # ... but never a role noun
    ("Shortlisted: Senior Lecturer in Marine Ecology (Ref 31-220)", "Dear Jo,", "Senior Lecturer in Marine Ecology"),
    ("Interview - Teacher of Geography", "Teacher of Geography. We look forward to it.", "Teacher of Geography"),
    ("Update", "Thank you for applying for the Head of Music. I will be in touch.", "Head of Music"),
    ("Offer - Year 2 Teacher, Birchfield Elementary", "Dear Sam,", "Year 2 Teacher"),  # a place is no qualifier
    ("Application received - 2027 Graduate Surveyor Scheme", "Thanks.", "Graduate Surveyor"),
    ("RE: 441902 - Grants Officer - Outcome", "Dear Lee,", "Grants Officer"),
    ("Re: Meter Reader", "We will call you.", "Meter Reader"),
])
def test_role_title_shapes(subject, text, want):
    assert identify_employer("", "", subject, text).role == want


@pytest.mark.parametrize("text, want", [
    ("The status of your application for the position Banquet Coordinator (Job Number 77120) has changed.",
     "Banquet Coordinator"),
    ("We have received your application for job requisition R-55120 Billing Specialist.", "Billing Specialist"),
    ("Thank you for applying to selection process 27-ABC-EA-0101, Economist (EC-04), Office of Planning.",
     "Economist"),
    ("Your application was sent to Pell & Finch\n\nPackaging Designer\nPell & Finch - Leeds\n", "Packaging Designer"),
    ("Your status changed.\n\nBudget Analyst, GS-0560-09\nOffice of Parks\nStatus: Referred\n",
     "Budget Analyst, GS-0560-09"),
    ("Thanks for applying to these roles:\n\n- Payroll Analyst (Leeds)\n- Tax Analyst (Leeds)\n",
     "Payroll Analyst (Leeds)"),
    ("Talked to the owner. Pastry chef job is yours if you want it.", "Pastry Chef"),
    ("Would love you to come in about the front desk coordinator role on Monday.", "Front Desk Coordinator"),
    ("We'd love for you to join us as our first data engineer. Details attached.", "Data Engineer"),
])
def test_role_from_body_layouts(text, want):
    assert identify_employer("", "", "Update", text).role == want


def test_a_title_under_the_senders_name_is_their_own_not_the_job():
    text = "Hi Ana,\n\nCould you send two writing samples by Friday?\n\nBest,\nRuth Keller\nDirector of Programs"
    assert identify_employer("Ruth Keller", "ruth@kestrelfund.org", "Following up", text).role is None
    text = "Hi Ana,\n\nCould you send two samples?\n\nRuth Keller\nHR Business Partner"
    assert identify_employer("Ruth Keller", "ruth@kestrelfund.org", "Following up", text).role is None


def test_role_key_drops_a_pay_grade_and_reads_abbreviations():
    assert role_key("Budget Analyst, GS-0560-09") == role_key("Budget Analyst (GS-0560-09)") == "budget analyst"
    assert role_key("Warehouse Ops Manager") == role_key("Warehouse Operations Manager")
    assert role_key("SRE") == role_key("Site Reliability Engineer")


def test_a_firm_named_by_a_plural_trade_is_a_company():
    who = identify_employer("Will Dunn", "will@saltfieldcoffee.com", "Re: Head Roaster application",
                            "Thanks Ana, see you Friday.\n\nWill Dunn\nSaltfield Coffee Roasters")
    assert who.company == "Saltfield Coffee Roasters"
    assert who.role == "Head Roaster"


# --- company mechanisms: statuses, institutions, relays ---

def test_a_status_after_the_subject_colon_is_no_company():
    who = identify_employer("JobsPortal", "no-reply@jobsportal-example.gov", "Application Status Update: Not Referred",
                            "Your application status has been updated.")
    assert company_key(who.company or "") not in ("not referred", "referred")
    who = identify_employer("Fenwick Optics", "careers@fenwickoptics.com", "Fenwick Optics - Online Assessment Invitation",
                            "Hi Jo,\n\nPlease take the test \"Optics - Online Assessment\".\n\nTeam Fenwick Optics")
    assert who.company == "Fenwick Optics"


def test_a_bare_place_name_extends_to_the_institution_the_mail_names():
    who = identify_employer("Dunmore Recruitment", "recruitment@dunmore.ac.uk", "Lecturer in Law - outcome",
                            "Dear Sam,\n\nThank you for attending.\n\nKind regards,\nRecruitment Team\nUniversity of Dunmore")
    assert who.company == "University of Dunmore"


def test_a_firm_sending_via_a_test_relay_is_not_taken_for_a_person():
    who = identify_employer("Larkspur Capital via HackerRank", "support@hackerrankforwork.com",
                            "Larkspur Capital - Coding Test Invitation",
                            "Hi Wei,\n\nLarkspur Capital has invited you to take a test.\n\nAll the best!")
    assert who.company == "Larkspur Capital"


def test_human_resource_is_a_team_word():
    assert company_key("Marlow Polyclinic Human Resource") == company_key("Marlow Polyclinic")
