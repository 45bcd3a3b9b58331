"""IPA checklist 8 — mail header injection.

The service sends two mails, both about complaints (classnote.complaints.mail): the acknowledgement
to the address the submitter typed, and the outcome. Promise:
  * an address with a line break of any kind (CR, LF, CRLF, encoded %0d%0a, Unicode line and
    paragraph separators, NEL, vertical tab, form feed), a second address, a display name or a
    header folded onto it is refused by the form (400) — no case, no mail;
  * whatever the message, the name and the officer's outcome contain (`\\r\\nBcc: ...` included),
    each mail goes to exactly the one address given, with exactly the headers the service sets and
    a subject that is one line naming only the case reference; the name and the message never
    appear in any header;
  * if a bad address ever reached the database (an older row, a future import), Django refuses to
    build the mail (BadHeaderError): nothing is sent, the case still goes on and the failure is
    logged by case id;
  * no other code sends mail (a static check lists the places that may), and errors are never
    mailed to administrators.
"""

from __future__ import annotations

import ast
from email import message_from_bytes, policy
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from classnote.accounts.models import User
from classnote.complaints.models import Complaint
from tests.complaints.test_complaints import form_data, reference_and_code
from tests.conftest import login_as
from tests.security.static import python_files, resolved_calls

ADDRESS = "parent@example.org"
INJECTIONS = [
    "\r\nBcc: victim@example.org",
    "\nBcc: victim@example.org",
    "\rBcc: victim@example.org",
    "%0d%0aBcc:victim@example.org",
    "%0ABcc:victim@example.org",
    "\u2028Bcc: victim@example.org",
    "\u2029Bcc: victim@example.org",
    "\x85Bcc: victim@example.org",
    "\x0bBcc: victim@example.org",
    "\x0cBcc: victim@example.org",
    "\r\n\tBcc: victim@example.org",
    "\r\n\r\nInjected body",
    ", victim@example.org",
    "; victim@example.org",
    " victim@example.org",
    "\x00Bcc: victim@example.org",
]
# The headers a mail of the service carries, no more.
EXPECTED_HEADERS = {
    "Content-Type",
    "MIME-Version",
    "Content-Transfer-Encoding",
    "Subject",
    "From",
    "To",
    "Date",
    "Message-ID",
}


def sent_headers(message: Any) -> dict[str, str]:
    parsed = message_from_bytes(message.message().as_bytes(), policy=policy.default)
    names = list(parsed.keys())
    assert len(names) == len(set(names)), f"a header appears twice: {names}"
    return {name: str(parsed[name]) for name in names}


def assert_only_to(message: Any, address: str) -> None:
    headers = sent_headers(message)
    assert set(headers) == EXPECTED_HEADERS, sorted(headers)
    assert message.recipients() == [address]
    assert headers["To"] == address
    assert "\n" not in message.subject and "\r" not in message.subject
    assert "victim" not in "".join(headers.values())


@pytest.mark.parametrize("injection", INJECTIONS)
@pytest.mark.parametrize("where", ["after", "before"])
def test_an_address_with_an_injected_header_is_refused_and_nothing_is_sent(
    db: None, injection: str, where: str
) -> None:
    address = ADDRESS + injection if where == "after" else injection + ADDRESS
    response = Client().post("/complaints/new/", form_data(email=address))
    assert response.status_code == 400, (address, response.status_code)
    assert not Complaint.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("injection", INJECTIONS[:12])
def test_a_name_with_a_line_break_is_refused(db: None, injection: str) -> None:
    response = Client().post("/complaints/new/", form_data(email=ADDRESS, name="A parent" + injection))
    if any(ch in injection for ch in "\r\n\x0b\x0c\x85\u2028\u2029\x00"):
        assert response.status_code == 400, (injection, response.status_code)
        assert mail.outbox == []
    else:  # an encoded break is just text in the name, which goes into no header
        assert response.status_code == 201
        assert_only_to(mail.outbox[0], ADDRESS)


def test_hostile_message_name_and_outcome_never_reach_a_header(db: None, officer: User) -> None:
    hostile = "".join(INJECTIONS).replace("\x00", "")  # (a NUL is refused by every text field)
    response = Client().post("/complaints/new/", form_data(email=ADDRESS, message=hostile, name="Parent%0d%0aBcc:x"))
    assert response.status_code == 201, response.status_code
    reference, _code = reference_and_code(response)
    assert len(mail.outbox) == 1
    acknowledgement = mail.outbox[0]
    assert_only_to(acknowledgement, ADDRESS)
    assert reference in acknowledgement.subject
    complaint = Complaint.objects.get(reference=reference)
    officer_client = login_as(Client(), officer)
    answered = officer_client.post(
        f"/complaints/{complaint.pk}/",
        {"action": "update", "case-status": "answered", "case-outcome": "Answered." + hostile},
    )
    assert answered.status_code == 302
    assert len(mail.outbox) == 2
    outcome = mail.outbox[1]
    assert_only_to(outcome, ADDRESS)
    assert reference in outcome.subject
    for message in mail.outbox:
        headers = sent_headers(message)
        assert "Parent" not in "".join(headers.values())
        assert "Injected body" not in "".join(headers.values())


def test_a_bad_address_already_in_the_database_sends_nothing_and_is_logged(
    db: None, officer: User, caplog: pytest.LogCaptureFixture
) -> None:
    """The second wall: Django refuses a header with a line break when it builds the mail."""
    response = Client().post("/complaints/new/", form_data())
    reference, _code = reference_and_code(response)
    Complaint.objects.filter(reference=reference).update(email=ADDRESS + "\r\nBcc: victim@example.org")
    complaint = Complaint.objects.get(reference=reference)
    with caplog.at_level("ERROR"):
        answered = login_as(Client(), officer).post(
            f"/complaints/{complaint.pk}/",
            {"action": "update", "case-status": "answered", "case-outcome": "Answered."},
        )
    assert answered.status_code == 302
    assert mail.outbox == []
    complaint.refresh_from_db()
    assert complaint.status == "answered", "the case must go on even if its mail cannot be sent"
    logged = [record for record in caplog.records if "could not be sent" in record.getMessage()]
    assert logged and "victim" not in logged[0].getMessage() and f"#{complaint.pk}" in logged[0].getMessage()


# --- Who sends mail -------------------------------------------------------------------------------------

MAIL_CALLS = (
    "send_mail",
    "send_mass_mail",
    "mail_admins",
    "mail_managers",
    "EmailMessage",
    "EmailMultiAlternatives",
    "send_messages",
)
# Files that may compose or send mail, and what they send. A new mail needs a test above.
MAIL_SENDERS = {
    "complaints/mail.py": "the acknowledgement and outcome of a complaint, to the submitter's checked address",
    "status/notify.py": (
        "the confirmation of a status subscription and notices of public incidents and maintenance, to the "
        "subscriber's address checked by the form's EmailField; subjects are the operator's titles with line "
        "breaks removed"
    ),
}


def test_only_the_complaint_mails_are_sent_and_errors_are_never_mailed() -> None:
    found = {
        path
        for path, tree in python_files()
        for _call, name in resolved_calls(tree)
        if name.rsplit(".", 1)[-1] in MAIL_CALLS
    }
    assert found == set(MAIL_SENDERS), f"mail is composed in {sorted(found)}; review it and list it in MAIL_SENDERS"
    handlers = [handler.get("class", "") for handler in settings.LOGGING.get("handlers", {}).values()]
    assert not any("AdminEmailHandler" in handler for handler in handlers)
    assert not settings.ADMINS and not settings.MANAGERS
    # allauth could mail password resets; no account has an address, and the mail classes of
    # allauth are not reachable: users have no e-mail field at all.
    assert settings.ACCOUNT_USER_MODEL_EMAIL_FIELD is None


def test_the_static_check_finds_mail_calls() -> None:
    sample = "from django.core.mail import send_mail, EmailMessage as E\nsend_mail('s','b','f',[t])\nE(to=[t]).send()\n"
    names = [name for _call, name in resolved_calls(ast.parse(sample)) if name.rsplit(".", 1)[-1] in MAIL_CALLS]
    assert names == ["django.core.mail.send_mail", "django.core.mail.EmailMessage"]
