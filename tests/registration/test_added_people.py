"""Organisers add speakers, VIPs and staff themselves: one or a CSV of them, optionally
outside the capacity, with or without the confirmation email (issue 18)."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events.models import Event
from registration.availability import event_availability
from registration.models import Registration
from tests.registration.conftest import person

pytestmark = pytest.mark.django_db(transaction=True)

Status = Registration.Status


def add_url(event):
    return reverse("admin:registration_registration_add_people", args=[event.pk])


def test_the_event_page_links_to_adding_people_and_the_form_adds_them(admin_client, make_event):
    event = make_event(capacity=10, registration_mode=Event.RegistrationMode.VERIFY_EMAIL)
    change = admin_client.get(reverse("admin:events_event_change", args=[event.pk]))
    assert add_url(event) in change.content.decode()

    response = admin_client.post(
        add_url(event),
        {
            "people": "email,name,language\nAmbassador.Ruiz@Example.org, Ana Ruiz, es\n"
            "li.wei@example.org,Li Wei,zh-hans",
            "notify": "on",
        },
    )

    assert response.status_code == 302
    added = Registration.objects.filter(event=event).order_by("email")
    assert [(r.email, r.status, r.preferred_language) for r in added] == [
        ("ambassador.ruiz@example.org", Status.CONFIRMED, "es"),  # no verification hold
        ("li.wei@example.org", Status.CONFIRMED, "zh-hans"),
    ]
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects[0].startswith("Inscripción confirmada")
    assert len(mail.outbox) == 2


def test_a_csv_file_outside_the_capacity_and_without_email(admin_client, make_event):
    event = make_event(capacity=1, waitlist_enabled=False)
    upload = SimpleUploadedFile(
        "guests.csv",
        "\ufeffemail,name\nvip1@example.org,Guest One\nvip2@example.org,Guest Two\n".encode(),
        content_type="text/csv",
    )

    response = admin_client.post(add_url(event), {"file": upload, "outside_capacity": "on"})

    assert response.status_code == 302
    assert set(Registration.objects.values_list("status", flat=True)) == {Status.CONFIRMED}
    assert Registration.objects.count() == 2
    assert mail.outbox == []
    assert event_availability(event).seats_left == 0


def test_without_a_place_nobody_is_added_and_the_organiser_is_told(admin_client, make_event):
    event = make_event(capacity=1, waitlist_enabled=False)
    response = admin_client.post(
        add_url(event), {"people": "a@example.org,A\nb@example.org,B", "notify": "on"}
    )

    assert response.status_code == 200
    assert "There is no seat left" in response.content.decode()
    assert not Registration.objects.exists()


def test_bad_lines_are_named_and_people_registered_already_are_left_alone(
    admin_client, make_event, register
):
    event = make_event()
    register(event, 1)  # amina.1@example.org, registered through the form

    bad = admin_client.post(add_url(event), {"people": "a@example.org,A\nnot-an-address,B"})
    assert "Line 2:" in bad.content.decode()

    ok = admin_client.post(
        add_url(event), {"people": f"{person(1)['email']},Amina\nnew@example.org,New"}, follow=True
    )
    assert "Registered already, left as they were: amina.1@example.org" in ok.content.decode()
    assert Registration.objects.filter(event=event).count() == 2
    assert Registration.objects.get(email="amina.1@example.org").name == "Amina Diallo 1"
