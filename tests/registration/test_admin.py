import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.formats import date_format

from events.models import Event
from registration import admin as registration_admin
from registration import services
from registration.models import Registration
from registration.signals import registration_changed
from tests.registration.conftest import person

Status = Registration.Status
CHANGELIST = "/en/admin/registration/registration/"


def act(client, action, registrations, **extra):
    data = {"action": action, "_selected_action": [r.pk for r in registrations], **extra}
    return client.post(CHANGELIST, data)


def fill(event, count, start=0):
    for n in range(start, start + count):
        services.register(event=event, data=person(n))


def test_changelist_runs_a_constant_number_of_queries(admin_client, make_event):
    event = make_event()
    other = make_event()
    fill(event, 3)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(CHANGELIST, {"event__id__exact": event.pk})
        assert response.status_code == 200
        return len(captured)

    few = queries()
    fill(event, 40, start=3)
    fill(other, 5, start=100)
    assert queries() == few


def test_changelist_filters_and_searches(admin_client, event):
    services.register(event=event, data=person(1, organisation="Ministry of Justice"))
    services.register(event=event, data=person(2, name="Li Wei", organisation="UNODC"))

    found = admin_client.get(CHANGELIST, {"q": "unodc"}).content.decode()
    assert "Li Wei" in found and "Amina Diallo 1" not in found
    by_status = admin_client.get(CHANGELIST, {"status__exact": "waitlisted"}).content.decode()
    assert "Li Wei" not in by_status


def test_organisers_cannot_add_or_delete_registrations(admin_client, event):
    registration = services.register(event=event, data=person()).registration
    assert admin_client.get(CHANGELIST + "add/").status_code == 403
    delete = admin_client.post(CHANGELIST + f"{registration.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert Registration.objects.filter(pk=registration.pk).exists()


def test_approve_action(admin_client, make_event):
    event = make_event(approval=Event.Approval.ORGANISER, capacity=1)
    fill(event, 2)
    first, second = Registration.objects.order_by("pk")

    response = act(admin_client, "approve_registrations", [first, second])

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Status.CONFIRMED, Status.WAITLISTED)


def test_reject_action_asks_for_a_message_and_passes_it_on(admin_client, make_event):
    event = make_event(approval=Event.Approval.ORGANISER)
    fill(event, 2)
    registrations = list(Registration.objects.order_by("pk"))
    notes = []

    def receiver(sender, registration, new_status, message, **kwargs):
        notes.append((registration.pk, new_status, message))

    registration_changed.connect(receiver, dispatch_uid="test-reject-note")
    try:
        asked = act(admin_client, "reject_registrations", registrations)
        assert asked.status_code == 200
        assert "Message to the people you reject" in asked.content.decode()
        assert not Registration.objects.filter(status=Status.REJECTED).exists()

        done = act(
            admin_client,
            "reject_registrations",
            registrations,
            apply="1",
            message="This meeting is limited to Member States.",
        )
    finally:
        registration_changed.disconnect(dispatch_uid="test-reject-note")

    assert done.status_code == 302
    assert Registration.objects.filter(status=Status.REJECTED).count() == 2
    assert notes == [
        (r.pk, Status.REJECTED, "This meeting is limited to Member States.") for r in registrations
    ]


def test_move_from_waiting_list_action_respects_capacity(admin_client, make_event):
    event = make_event(capacity=1)
    fill(event, 3)
    _seated, second, third = Registration.objects.order_by("pk")

    act(admin_client, "promote_registrations", [second])
    second.refresh_from_db()
    assert second.status == Status.WAITLISTED  # no free seat: refused with a warning

    Event.objects.filter(pk=event.pk).update(capacity=3)
    act(admin_client, "promote_registrations", [second, third])
    assert Registration.objects.filter(status=Status.CONFIRMED).count() == 3


def test_resend_confirmation_action_announces_a_resend(admin_client, event):
    fill(event, 1)
    resends = []

    def receiver(sender, registration, resend, **kwargs):
        resends.append(resend)

    registration_changed.connect(receiver, dispatch_uid="test-resend")
    try:
        act(admin_client, "resend_confirmations", Registration.objects.all())
    finally:
        registration_changed.disconnect(dispatch_uid="test-resend")
    assert resends == [True]


def read_csv(response):
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_export_has_a_bom_keeps_unicode_and_neutralises_formulas(admin_client, event):
    services.register(event=event, data=person(1, name='=HYPERLINK("http://evil")'))
    services.register(event=event, data=person(2, name="محمد الأحمد", organisation="+cmd|calc"))
    services.register(event=event, data=person(3, name="王芳", organisation="@SUM(A1)"))
    services.register(event=event, data=person(4, name="Ana", organisation="-2+3", job_title="x"))

    response = act(admin_client, "export_registrations", Registration.objects.all())

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:4] == ["Event", "Registered at (UTC)", "Status", "Full name"]
    names = {row[3]: row for row in rows[1:]}
    assert '\'=HYPERLINK("http://evil")' in names
    assert names["محمد الأحمد"][5] == "'+cmd|calc"
    assert names["王芳"][5] == "'@SUM(A1)"
    assert names["Ana"][5] == "'-2+3"
    assert names["Ana"][7] == "Senegal"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_event_changelist_exports_its_registrations(admin_client, make_event):
    event = make_event()
    other = make_event()
    fill(event, 2)
    fill(other, 1, start=50)

    response = admin_client.post(
        "/en/admin/events/event/",
        {"action": "export_event_registrations", "_selected_action": [event.pk]},
    )

    rows = read_csv(response)
    assert len(rows) == 3
    assert event.slug in response["Content-Disposition"]


def test_event_admin_page_shows_counts_and_svg_charts(admin_client, make_event):
    event = make_event(capacity=2)
    fill(event, 3)
    services.register(event=event, data=person(9, affiliation="media"))
    services.cancel(registration=Registration.objects.get(email="amina.9@example.org"))

    html = admin_client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()

    panel = html[html.index('class="module registration-panel"') :]
    panel = panel[: panel.index("</svg>\n</div>") + 6]
    assert "<svg" in panel and "<rect" in panel
    assert "<script" not in panel and "style=" not in panel
    # confirmed 2, waitlisted 1 (+1 cancelled): linked counts per status
    assert f'event__id__exact={event.pk}&amp;status__exact=confirmed">2<' in panel
    assert 'status__exact=waitlisted">1<' in panel
    assert 'status__exact=cancelled">1<' in panel
    assert "Civil society / NGO 3" in panel  # the chart's text alternative
    assert "Media 0" in panel


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        "+1",
        "-1",
        "@x",
        "\tx",
        "\rx",
        "\nx",
        "|calc",
        "%0A=1+1",
        # Full-width and small look-alikes (NFKC folds them into the triggers).
        '\uff1dHYPERLINK("http://evil")',  # full-width equals
        "\uff0bcmd|calc",  # full-width plus
        "\uff0d2+3",  # full-width minus
        "\uff20SUM(A1)",  # full-width at
        "\uff5ccalc",  # full-width bar
        "\uff05x",  # full-width percent
        "\ufe66 1+1",  # small equals
        # A space before the trigger hides nothing.
        " =1+1",
        "\u3000=1+1",
    ],
)
def test_csv_cell_neutralises_every_formula_trigger(value):
    from registration.admin import csv_cell

    assert csv_cell(value) == "'" + value


def _header_columns(html):
    """The changelist's column names, in order."""
    import re

    start = html.index('<table id="result_list">')
    head = html[start : html.index("</thead>", start)]
    return re.findall(r'class="sortable column-(\w+)|class="column-(\w+)', head)


def test_changelist_leads_with_status_name_email_affiliation_and_zoned_time(
    admin_client, make_event
):
    import re
    from zoneinfo import ZoneInfo

    event = make_event(timezone="Asia/Tokyo")
    registration = services.register(event=event, data=person(1)).registration

    html = admin_client.get(CHANGELIST, {"event__id__exact": event.pk}).content.decode()

    columns = [a or b for a, b in _header_columns(html)]
    columns = [name for name in columns if name != "action_checkbox"]
    assert columns[:5] == ["status", "name", "email", "affiliation", "registered_at"]
    assert ">Registered at</a>" in html
    local = registration.created_at.astimezone(ZoneInfo("Asia/Tokyo"))
    cell = re.search(r'<td class="field-registered_at">([^<]*)</td>', html)[1]
    # Compared with the locale's own format: at 12:00 it reads "noon", not a clock time.
    assert cell == f"{date_format(local, 'SHORT_DATETIME_FORMAT')} JST"


def test_changelist_shows_the_waiting_list_place_in_constant_queries(admin_client, make_event):
    import re

    event = make_event(capacity=1, waitlist_enabled=True)
    fill(event, 4)  # amina.0 confirmed; amina.1, .2 and .3 on the waiting list
    services.cancel(registration=Registration.objects.get(email="amina.1@example.org"))

    def places():
        with CaptureQueriesContext(connection) as captured:
            html = admin_client.get(CHANGELIST, {"event__id__exact": event.pk}).content.decode()
        rows = re.findall(
            r'(amina\.\d+)@example\.org.*?<td class="field-waitlist_position">([^<]*)</td>',
            html,
            flags=re.S,
        )
        return dict(rows), len(captured)

    shown, few = places()
    # amina.1, first in line, cancelled: the two behind her moved up.
    assert shown == {"amina.0": "-", "amina.1": "-", "amina.2": "1", "amina.3": "2"}
    fill(event, 40, start=4)
    shown, many = places()
    assert shown["amina.43"] == "42"
    assert many == few


def _signed_up_at(event, moments):
    """Registrations for `event` made at the given aware datetimes."""
    for n, moment in enumerate(moments):
        registration = services.register(event=event, data=person(n)).registration
        Registration.objects.filter(pk=registration.pk).update(created_at=moment)


def _signups_panel(admin_client, event):
    html = admin_client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    start = html.index('id="reg-signups-heading"')
    return html[start : html.index("</details>", start)]


def test_signups_chart_of_one_day_steps_by_the_hour_against_capacity(admin_client, make_event):
    import re
    from datetime import datetime
    from zoneinfo import ZoneInfo

    new_york = ZoneInfo("America/New_York")
    event = make_event(capacity=5, waitlist_enabled=True)
    _signed_up_at(
        event,
        [
            datetime(2026, 6, 2, hour, minute, tzinfo=new_york)
            for hour, minute in [(9, 5), (9, 40), (13, 10), (17, 55)]
        ],
    )

    panel = _signups_panel(admin_client, event)

    assert "<title" in panel and "Cumulative sign-ups against capacity" in panel
    assert "By the hour from June 2, 2026, 9 a.m. to June 2, 2026, 6 p.m. (EDT)" in panel
    assert "4 sign-ups in all. Capacity: 5 seats." in panel
    # A step per hour from 9:00 to 18:00, rising to 2, 3 and 4: not one solid block.
    path = re.search(r'<path class="signups" d="([^"]+)"', panel)[1]
    assert path.count("H") == 9
    assert 'class="capacity"' in panel and "Capacity 5" in panel
    assert "<script" not in panel and "style=" not in panel
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td></tr>", panel)
    assert rows == [
        ("June 2, 2026, 9 a.m.", "2", "2"),
        ("June 2, 2026, 1 p.m.", "1", "3"),
        ("June 2, 2026, 5 p.m.", "1", "4"),
    ]


def test_signups_chart_of_ninety_days_steps_by_the_day(admin_client, make_event):
    import re
    from datetime import datetime
    from zoneinfo import ZoneInfo

    event = make_event(capacity=60, waitlist_enabled=True)
    first = datetime(2026, 3, 1, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    _signed_up_at(event, [first + timedelta(days=day) for day in range(90)])

    panel = _signups_panel(admin_client, event)

    assert (
        "By the day from March 1, 2026 to May 29, 2026 (America/New_York): 90 sign-ups in all."
        in panel
    )
    path = re.search(r'<path class="signups" d="([^"]+)"', panel)[1]
    assert path.count("H") == 90
    # The y axis reaches past the capacity line to the total: 100, with the line at 60.
    assert ">100</text>" in panel and "Capacity 60" in panel
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td></tr>", panel)
    assert len(rows) == 90
    assert rows[0] == ("March 1, 2026", "1", "1") and rows[-1] == ("May 29, 2026", "1", "90")


@pytest.mark.parametrize("value", ["Amina Diallo", "محمد الأحمد", "王芳", "50% off", "a=b", ""])
def test_csv_cell_leaves_ordinary_text_alone(value):
    from registration.admin import csv_cell

    assert csv_cell(value) == value


def test_other_apps_add_actions_to_the_registration_list(admin_client, event):
    # The hook apps above registration call from their AppConfig.ready() (notifications adds
    # "resend the meeting link" this way), instead of patching our ModelAdmin at import time.
    registration = services.register(event=event, data=person(1)).registration

    def mark_vip(modeladmin, request, queryset):
        queryset.update(organisation="VIP")

    mark_vip.short_description = "Mark VIP"
    registration_admin.register_registration_action(mark_vip)
    try:
        assert "Mark VIP" in admin_client.get(CHANGELIST).content.decode()
        admin_client.post(CHANGELIST, {"action": "mark_vip", "_selected_action": [registration.pk]})
    finally:
        registration_admin._extra_actions.remove(mark_vip)
    registration.refresh_from_db()
    assert registration.organisation == "VIP"
    assert "Mark VIP" not in admin_client.get(CHANGELIST).content.decode()
    assert "Resend the meeting link to selected" in admin_client.get(CHANGELIST).content.decode()


def test_held_seats_show_in_the_list_and_count_in_the_seats_left(admin_client, make_event):
    event = make_event(capacity=3, registration_mode=Event.RegistrationMode.VERIFY_EMAIL)
    services.register(event=event, data=person(1))
    services.register(event=event, data=person(2))

    listing = admin_client.get(
        reverse("admin:registration_registration_changelist") + f"?event__id__exact={event.pk}"
    ).content.decode()
    assert listing.count("Seat held, email not verified") >= 2
    html = admin_client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    panel = html[html.index('class="module registration-panel"') :]
    assert 'status__exact=held">2<' in panel
    assert "<td>1</td></tr></tbody>" in panel  # seats left: 3 less the 2 held


def test_a_new_event_is_proposed_to_verify_emails(admin_client):
    html = admin_client.get(reverse("admin:events_event_add")).content.decode()
    assert re.search(r'<option value="verify_email" selected>', html)
