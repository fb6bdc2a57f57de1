"""One mailbox, one registration: every spelling of an address is stored in one canonical
form, addresses that can never be delivered are refused, and names cannot hide behind
text-direction controls or invisible characters (issue 11, item 3)."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from registration import services
from registration.addresses import canonical_email
from registration.models import ManageToken, Registration
from tests.registration.conftest import form_post

Status = Registration.Status
FULL_WIDTH = "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45"  # example
FULL_WIDTH_UPPER = "\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25"  # EXAMPLE

# Each of these reached the same mailbox as dup@example.org and was stored beside it.
SAME_MAILBOX = {
    "quoted local part": '"dup"@example.org',
    "full-width domain": f"dup@{FULL_WIDTH}.org",
    "upper case and spaces": "  DUP@Example.ORG ",
}
# Each of these reached the same mailbox as dup@xn--exmple-cua.org.
SAME_IDN_MAILBOX = {
    "IDN": "dup@exämple.org",
    "punycode": "dup@xn--exmple-cua.org",
    "NFC ä": "dup@ex\u00e4mple.org",
    "NFD ä": "dup@exa\u0308mple.org",
    "upper-case IDN": "dup@EXÄMPLE.ORG",
}
# Never deliverable, or a way to spell one mailbox twice that we refuse outright.
REFUSED = {
    "soft hyphen": "dup@ex\u00adample.org",
    "zero-width space in the domain": "dup@ex\u200bample.org",
    "zero-width space in the local part": "du\u200bp@example.org",
    "bidi override": "\u202edup@example.org",
    "control character in a quoted local part": '"du\x01p"@example.org',
    "quotes that are needed": '"du p"@example.org',
    "address literal": "x@[127.0.0.1]",
    "IPv6 literal": "x@[IPv6:::1]",
    "localhost": "root@localhost",
    "special-use domain": "root@mail.test",
    "no dot in the domain": "root@intranet",
    "non-ASCII local part (NFC)": "d\u00e9@example.org",
    "non-ASCII local part (NFD)": "de\u0301@example.org",
    "display name": "Dup <dup@example.org>",
    "two at signs": "dup@@example.org",
}


def register_url(event):
    return f"/en/events/{event.slug}/register/"


@pytest.mark.parametrize("address", SAME_MAILBOX.values(), ids=SAME_MAILBOX.keys())
def test_every_spelling_of_one_mailbox_is_one_canonical_address(address):
    assert canonical_email(address) == "dup@example.org"


@pytest.mark.parametrize("address", SAME_IDN_MAILBOX.values(), ids=SAME_IDN_MAILBOX.keys())
def test_idn_and_punycode_spellings_are_one_ascii_address(address):
    assert canonical_email(address) == "dup@xn--exmple-cua.org"


@pytest.mark.parametrize("address", REFUSED.values(), ids=REFUSED.keys())
def test_undeliverable_or_disguised_addresses_are_refused(address):
    with pytest.raises(ValidationError):
        canonical_email(address)


@pytest.mark.parametrize(
    ("first", "variants"),
    [("dup@example.org", SAME_MAILBOX), ("dup@exämple.org", SAME_IDN_MAILBOX)],
    ids=["ascii", "idn"],
)
def test_a_second_spelling_through_the_form_is_the_same_registration(
    client, event, settings, django_capture_on_commit_callbacks, first, variants
):
    settings.REGISTRATION_RATE_LIMIT = 100
    with django_capture_on_commit_callbacks(execute=True):
        client.post(register_url(event), form_post(1, email=first))
        for n, address in enumerate(variants.values(), start=2):
            response = client.post(register_url(event), form_post(n, email=address))
            assert response.status_code == 302, address
    registration = Registration.objects.get()
    assert registration.email == canonical_email(first)
    assert registration.name == "Amina Diallo 1"
    # The confirmation, and one copy for all the repeats within ten minutes: not one each.
    assert [message.to for message in mail.outbox] == [[canonical_email(first)]] * 2


@pytest.mark.parametrize("address", REFUSED.values(), ids=REFUSED.keys())
def test_the_form_refuses_undeliverable_addresses_with_a_message_and_stores_nothing(
    client, event, address
):
    response = client.post(register_url(event), form_post(email=address))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_email_error"' in html
    assert (
        "Enter an email address such as name@example.org." in html
        or "This address contains a space or an invisible character." in html
    )
    assert not Registration.objects.exists()


def test_an_ordinary_typo_gets_the_usual_message(client, event):
    html = client.post(register_url(event), form_post(email="not an email")).content.decode()
    assert "Enter an email address such as name@example.org." in html


def test_an_invisible_character_is_named_as_the_problem(client, event):
    html = client.post(
        register_url(event), form_post(email="dup@ex\u200bample.org")
    ).content.decode()
    assert "This address contains a space or an invisible character." in html


def test_the_service_stores_the_canonical_form_and_catches_duplicates(event):
    first = services.register(event=event, data={**form_post(1), "consent": True})
    assert first.registration.email == "amina.1@example.org"
    again = services.register(
        event=event,
        data={**form_post(2, email=f'"Amina.1"@{FULL_WIDTH_UPPER}.org'), "consent": True},
    )
    assert not again.created
    assert again.registration.pk == first.registration.pk
    with pytest.raises(ValidationError):
        services.register(
            event=event, data={**form_post(3, email="x@[127.0.0.1]"), "consent": True}
        )
    assert Registration.objects.count() == 1


def test_admin_search_finds_an_address_however_it_is_typed(admin_client, event):
    services.register(event=event, data={**form_post(1, email="dup@exämple.org"), "consent": True})
    html = admin_client.get(
        "/en/admin/registration/registration/", {"q": "DUP@EXÄMPLE.org"}
    ).content.decode()
    assert "dup@xn--exmple-cua.org" in html


# --- Names ------------------------------------------------------------------------------------

BAD_NAMES = {
    "right-to-left override": "\u202eAmina Diallo",
    "left-to-right embedding": "Amina \u202aDiallo\u202c",
    "right-to-left isolate": "\u2067Amina\u2069",
    "first-strong isolate": "\u2068Amina\u2069",
}
INVISIBLE_NAMES = {
    "zero-width spaces": "\u200b\u200b\u200b",
    "Hangul filler": "\u3164",
    "Braille blank": "\u2800\u2800",
    "word joiners and a mark": "\u2060\u0301",
}


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_names_with_text_direction_controls_are_refused(client, event, name):
    html = client.post(register_url(event), form_post(name=name)).content.decode()
    assert "Remove the invisible text-direction characters" in html
    assert not Registration.objects.exists()


@pytest.mark.parametrize("name", INVISIBLE_NAMES.values(), ids=INVISIBLE_NAMES.keys())
def test_names_made_only_of_invisible_characters_are_refused(client, event, name):
    html = client.post(register_url(event), form_post(name=name)).content.decode()
    assert "Enter visible letters or digits" in html
    assert not Registration.objects.exists()


@pytest.mark.parametrize(
    "name",
    ["\u0645\u062d\u0645\u062f \u200f(UN)", "Mehr\u200cnaz", "李小龙", "Zoë Ó Súilleabháin"],
    ids=["Arabic with RLM", "Persian ZWNJ", "Chinese", "accents"],
)
def test_ordinary_names_in_any_script_are_accepted(client, event, name):
    assert client.post(register_url(event), form_post(name=name)).status_code == 302
    assert Registration.objects.get().name == name


def test_the_manage_page_refuses_a_disguised_name_too(client, event):
    result = services.register(event=event, data={**form_post(), "consent": True})
    response = client.post(
        f"/en/r/{result.token}/",
        {**form_post(), "name": "\u202eAmina"},
    )
    assert "Remove the invisible text-direction characters" in response.content.decode()
    assert Registration.objects.get().name == "Amina Diallo 1"


# --- The data migration -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_migration_moves_old_rows_to_the_canonical_form_and_keeps_the_oldest_active(make_event):
    event = make_event()
    executor = MigrationExecutor(connection)
    executor.migrate([("registration", "0002_manage_tokens")])
    old_apps = executor.loader.project_state([("registration", "0002_manage_tokens")]).apps
    OldRegistration = old_apps.get_model("registration", "Registration")
    OldToken = old_apps.get_model("registration", "ManageToken")
    now = timezone.now()

    def old_row(email, name, status=Status.CONFIRMED):
        row = OldRegistration.objects.create(
            event_id=event.pk, email=email, name=name, status=status, consent_at=now
        )
        OldToken.objects.create(registration=row, token_hash=f"{row.pk:064d}")
        return row

    oldest = old_row('"dup"@example.org', "Oldest")
    old_row(f"dup@{FULL_WIDTH}.org", "Second")
    waiting = old_row("dup@ex\u200bample.org", "Third", status=Status.WAITLISTED)
    old_row("dup@ex\u00adample.org", "Fourth")
    cancelled = old_row('"dup"@example.org', "Cancelled before", status=Status.CANCELLED)
    other = old_row("someone@exämple.org", "Someone else")
    broken = old_row("root@localhost", "Undeliverable")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    rows = {row.name: row for row in Registration.objects.all()}
    assert rows["Oldest"].email == "dup@example.org"
    assert rows["Oldest"].status == Status.CONFIRMED
    for name in ["Second", "Third", "Fourth"]:
        assert rows[name].email == "dup@example.org"
        assert rows[name].status == Status.CANCELLED
        assert rows[name].cancelled_at is not None
    assert rows["Cancelled before"].email == "dup@example.org"
    assert rows["Someone else"].email == "someone@xn--exmple-cua.org"
    assert rows["Someone else"].status == Status.CONFIRMED
    assert rows["Undeliverable"].email == "root@localhost"
    # The links the later sign-ups received open the registration that was kept.
    assert ManageToken.objects.filter(registration_id=oldest.pk).count() == 4
    assert ManageToken.objects.filter(registration_id=waiting.pk).count() == 0
    assert ManageToken.objects.filter(registration_id=cancelled.pk).count() == 1
    assert ManageToken.objects.filter(registration_id=other.pk).count() == 1
    assert ManageToken.objects.filter(registration_id=broken.pk).count() == 1


def test_the_admin_refuses_a_disguised_name_too(admin_client, event):
    registration = services.register(event=event, data={**form_post(), "consent": True})
    registration = registration.registration
    fields = ["organisation", "job_title", "country", "affiliation", "preferred_language"]
    data = {name: getattr(registration, name) for name in fields}
    data |= {"interpretation_language": "fr", "timezone": "", "name": "Amina \u2066Diallo\u2069"}
    response = admin_client.post(
        f"/en/admin/registration/registration/{registration.pk}/change/", data
    )
    assert response.status_code == 200
    assert "Remove the invisible text-direction characters" in response.content.decode()
    assert Registration.objects.get().name == "Amina Diallo 1"
    # The same change without the controls is saved.
    data["name"] = "Amina Diallo"
    admin_client.post(f"/en/admin/registration/registration/{registration.pk}/change/", data)
    assert Registration.objects.get().name == "Amina Diallo"
