"""Events in "code" mode: the form asks for an access code; each code admits as many people
as its limit allows; wrong codes are refused without naming any, and rate-limited."""

import re

import pytest

from events.models import AccessCode, Event
from registration.models import Registration
from tests.conftest import BrowserClient as Client
from tests.registration.conftest import form_post

pytestmark = pytest.mark.django_db

REFUSED = "This access code is not valid for this event, or it is used up."


@pytest.fixture
def coded_event(make_event):
    event = make_event(registration_mode=Event.RegistrationMode.CODE, capacity=100)
    AccessCode.objects.create(event=event, code="DELEGATES-2031", max_uses=2)
    AccessCode.objects.create(event=event, code="PRESS-7Q")
    return event


def post(event, n, code, ip="198.51.100.7"):
    client = Client(REMOTE_ADDR=ip)
    return client.post(f"/en/events/{event.slug}/register/", form_post(n, access_code=code))


def test_the_form_asks_for_the_code_only_where_one_is_needed(client, coded_event, make_event):
    page = client.get(f"/en/events/{coded_event.slug}/register/").content.decode()
    assert 'name="access_code"' in page
    assert "Access code" in page

    open_event = make_event()
    open_page = client.get(f"/en/events/{open_event.slug}/register/").content.decode()
    assert 'name="access_code"' not in open_page


def test_a_code_with_two_uses_admits_two_people_and_refuses_the_third(coded_event):
    assert post(coded_event, 1, "DELEGATES-2031").status_code == 302
    assert post(coded_event, 2, " delegates-2031 ").status_code == 302  # as people type it
    third = post(coded_event, 3, "DELEGATES-2031")

    assert third.status_code == 200
    assert REFUSED in third.content.decode()
    assert Registration.objects.filter(event=coded_event).count() == 2
    assert AccessCode.objects.get(code="DELEGATES-2031").uses == 2


def test_a_wrong_code_is_refused_without_naming_any_code(coded_event):
    response = post(coded_event, 1, "DELEGATES-2030")

    html = response.content.decode()
    assert response.status_code == 200
    assert REFUSED in html
    assert "DELEGATES-2031" not in html and "PRESS-7Q" not in html
    assert not Registration.objects.filter(event=coded_event).exists()
    assert AccessCode.objects.get(code="PRESS-7Q").uses == 0


def test_a_code_without_limit_admits_everyone(coded_event):
    for n in range(5):
        assert post(coded_event, n, "press-7q").status_code == 302
    assert AccessCode.objects.get(code="PRESS-7Q").uses == 5


def test_registering_twice_with_a_code_uses_it_once(coded_event):
    assert post(coded_event, 1, "DELEGATES-2031").status_code == 302
    assert post(coded_event, 1, "DELEGATES-2031").status_code == 302  # same address

    assert AccessCode.objects.get(code="DELEGATES-2031").uses == 1
    assert post(coded_event, 2, "DELEGATES-2031").status_code == 302


def test_guessing_codes_is_stopped_after_a_few_tries(coded_event, settings):
    settings.REGISTRATION_CODE_ATTEMPTS = 5
    for n in range(5):
        assert post(coded_event, n, f"GUESS-{n}").status_code == 200

    blocked = post(coded_event, 9, "DELEGATES-2031")  # even the right code, from there
    assert blocked.status_code == 429
    assert post(coded_event, 9, "DELEGATES-2031", ip="198.51.100.8").status_code == 302
    assert Registration.objects.filter(event=coded_event).count() == 1


def test_organisers_set_codes_in_the_admin_and_see_their_uses(admin_client, coded_event):
    from tests.events.conftest import admin_post_data

    data = admin_post_data(event=coded_event)
    codes = list(coded_event.access_codes.order_by("pk"))
    data.update(
        {
            "access_codes-TOTAL_FORMS": "3",
            "access_codes-INITIAL_FORMS": "2",
            **{f"access_codes-{i}-id": str(code.pk) for i, code in enumerate(codes)},
            **{f"access_codes-{i}-event": str(coded_event.pk) for i in range(3)},
            "access_codes-0-code": codes[0].code,
            "access_codes-0-max_uses": "2",
            "access_codes-1-code": codes[1].code,
            "access_codes-1-max_uses": "",
            "access_codes-2-code": " speakers-2031 ",
            "access_codes-2-max_uses": "5",
        }
    )
    post(coded_event, 1, "DELEGATES-2031")

    response = admin_client.post(
        f"/en/admin/events/event/{coded_event.pk}/change/", data, follow=True
    )

    assert response.status_code == 200
    assert dict(coded_event.access_codes.values_list("code", "max_uses")) == {
        "DELEGATES-2031": 2,
        "PRESS-7Q": None,
        "SPEAKERS-2031": 5,
    }
    page = admin_client.get(f"/en/admin/events/event/{coded_event.pk}/change/").content
    assert re.search(r'class="field-uses">\s*<p>1</p>', page.decode())  # DELEGATES-2031
    assert post(coded_event, 2, "speakers-2031").status_code == 302
