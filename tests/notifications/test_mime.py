"""The outbox's own MIME writer (notifications.fast.mime) and mail merge
(notifications.fast.merge: render once per group, personal values swapped in): a mail client
must read exactly what Django's own way gives."""

import email.policy
import re
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.test import override_settings

from notifications import emails
from notifications.fast import merge
from notifications.fast.mime import OutboxEmail
from notifications.models import Delivery
from tests.notifications.conftest import STARTS, register

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = ["en", "ar", "zh-hans", "ru", "fr", "es"]
# Everything a name may hold that HTML or a header would mangle if handled carelessly.
AWKWARD_NAME = 'Zoë <b>O\'Brien</b> & "Ana" Ñúñez 王 عائشة'


def read(raw):
    return message_from_bytes(raw, policy=email.policy.default)


def as_client_reads_it(message):
    """What a mail client shows: headers decoded, each part's content, line endings aside."""
    parts = [
        (
            part.get_content_type(),
            dict(part.get_params()[1:]),  # charset, and text/calendar's method
            part.get_filename(),
            part.get_content().replace("\r\n", "\n"),
        )
        for part in message.walk()
        if not part.is_multipart()
    ]
    headers = {
        name: str(message[name]).strip()  # Django folds a long subject with a leading space
        for name in ("Subject", "From", "To", "Message-ID", "Content-Language", "Auto-Submitted")
    }
    return headers, parts


def django_way(message):
    """The same message through Django's own EmailMultiAlternatives.message()."""
    return EmailMultiAlternatives.message(message, policy=email.policy.SMTP).as_bytes()


@pytest.fixture
def messages(event, travel):
    """A real message of several kinds in all six languages, to one awkward name."""
    travel(STARTS - timedelta(days=2))
    built = []
    for language in LANGUAGES:
        registration = register(
            event, f"{language}@example.org", language=language, name=AWKWARD_NAME
        )
        for kind in (Delivery.Kind.CONFIRMATION, Delivery.Kind.MEETING_LINK):
            delivery = Delivery(event=event, registration=registration, kind=kind)
            built.append(emails.build_message(delivery=delivery, cache={}))
    return built


def test_a_client_reads_the_same_message_as_djangos_own(messages):
    for message in messages:
        fast = message.message(policy=email.policy.SMTP).as_bytes()
        assert fast.count(b"\r\n") > 20, "SMTP wants CRLF line endings"
        assert max(len(line) for line in fast.split(b"\r\n")) <= 78
        assert as_client_reads_it(read(fast)) == as_client_reads_it(read(django_way(message)))


def test_the_invitation_keeps_its_method_in_the_content_type_on_both_paths(messages):
    """Gmail and Outlook show an invitation only for text/calendar with method=REQUEST."""
    for message in messages:
        for raw in (message.message().as_bytes(), django_way(message)):
            (part,) = [p for p in read(raw).walk() if p.get_content_type() == "text/calendar"]
            assert part.get_param("method") == "REQUEST"
            assert part.get_param("charset") == "utf-8"
            assert part.get_filename() == "invite.ics"
    assert not isinstance(messages[0].message(), email.message.EmailMessage), "fast path"


def test_the_awkward_name_arrives_intact_in_text_and_escaped_in_html(messages):
    for message in messages:
        parsed = read(message.message().as_bytes())
        text = parsed.get_body(("plain",)).get_content()
        html = parsed.get_body(("html",)).get_content()
        assert AWKWARD_NAME in text
        assert "Zoë &lt;b&gt;O&#x27;Brien&lt;/b&gt; &amp; &quot;Ana&quot;" in html
        assert "<b>O'Brien</b>" not in html


def test_every_registrant_gets_their_own_name_and_manage_link(event, travel):
    travel(STARTS - timedelta(days=2))
    cache = {}  # one batch: rendered once, merged per registrant
    bodies = []
    for name in ["Ana", "Ben", AWKWARD_NAME]:
        registration = register(event, f"{len(bodies)}@example.org", name=name)
        delivery = Delivery(event=event, registration=registration, kind="meeting_link")
        message = emails.build_message(delivery=delivery, cache=cache, token=f"t{name[0]}" * 5)
        bodies.append(message.body)
        assert f"Dear {name}," in message.body
        assert f"/r/t{name[0]}t{name[0]}" in message.body
    assert len(set(bodies)) == 3


@override_settings(
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {
                "loaders": [
                    (
                        "django.template.loaders.locmem.Loader",
                        {
                            "emails/shouting/subject.txt": "Hello",
                            "emails/shouting/body.txt": "HELLO {{ name|upper }} {{ manage_url }}",
                            "emails/shouting/body.html": "<p>{{ name|upper }}</p>",
                        },
                    )
                ]
            },
        }
    ]
)
def test_a_template_that_transforms_the_name_is_rendered_in_full_for_everyone():
    cache = {}
    for name in ["ana", "ben"]:
        personal = {"name": name, "manage_url": f"https://x/{name}"}
        _subject, text, html = merge.render_personal(
            emails.render_email, "shouting", {}, personal, group=("same",), cache=cache
        )
        assert text == f"HELLO {name.upper()} https://x/{name}\n"
        assert html == f"<p>{name.upper()}</p>"
    assert cache[("render", "shouting", "same")] is False  # merging was switched off


def test_unusual_messages_take_djangos_way():
    unusual = [
        OutboxEmail("Hi", "Body", "from@example.org", ["zoë@exämple.org"]),
        OutboxEmail("Hi", "Body", "from@example.org", ["a@example.org"], cc=["c@example.org"]),
        OutboxEmail("Hi", "Body", "from@example.org", ["a@example.org"], headers={"X-Ü": "1"}),
    ]
    unusual[1].attach("data.bin", b"\x00\x01", "application/octet-stream")
    for message in unusual:
        assert isinstance(message.message(), email.message.EmailMessage)
    assert read(unusual[0].message().as_bytes())["To"].addresses[0].domain == "xn--exmple-cua.org"


def test_a_message_without_an_id_gets_one_from_the_same_host_as_djangos_way():
    message = OutboxEmail("Hi", "Body", "events@example.org", ["a@example.org"])
    ours = read(message.message().as_bytes())["Message-ID"]
    djangos = read(django_way(message))["Message-ID"]
    assert ours != djangos
    assert ours.rsplit("@", 1)[1] == djangos.rsplit("@", 1)[1]


def test_a_non_ascii_sender_name_is_encoded():
    message = OutboxEmail("Hi", "Body", "Réunion ONU <events@example.org>", ["a@example.org"])
    raw = message.message().as_bytes()
    assert b"R\xc3\xa9union" not in raw.split(b"\n\n", 1)[0]
    assert str(read(raw)["From"]) == "Réunion ONU <events@example.org>"


def test_no_email_template_filters_or_tests_the_merged_values():
    """The merge swaps `name` and `manage_url` in after rendering: a filter on either, or a
    test of the name, would be right for a group's first message only."""
    folder = Path(settings.BASE_DIR) / "templates" / "emails"
    filtered = re.compile(r"(?<![\w.])(name|manage_url)\s*\|")
    tested = re.compile(r"{%\s*(if|elif)\b[^%]*(?<![\w.])name\b")
    for template in folder.rglob("*.*"):
        text = template.read_text()
        assert not filtered.search(text), template
        assert not tested.search(text), template
