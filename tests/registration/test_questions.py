"""An event's own registration questions: the form, the stored answers, the manage page, the
organisers' views (registration page, filter, CSV, charts), the purge and the email."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from registration import services
from registration.models import Question, Registration
from registration.questions import questions_for
from tests.registration.conftest import form_post
from tests.registration.questions_data import ANSWERS_POST, EVERY_TYPE, STORED, add_questions


def register_url(event, language="en"):
    return f"/{language}/events/{event.slug}/register/"


@pytest.fixture
def asking(event):
    return add_questions(event)


def post(client, event, language="en", **overrides):
    data = {**form_post(), **ANSWERS_POST, **overrides}
    return client.post(
        register_url(event, language), {k: v for k, v in data.items() if v is not None}
    )


def test_form_asks_the_questions_after_the_built_in_fields_and_before_consent(client, asking):
    html = client.get(register_url(asking)).content.decode()
    names = re.findall(r'name="([a-z_]+)"', html)
    assert names.index("interpretation_language") < names.index("q_position")
    assert names.index("q_website_url") < names.index("consent")
    assert "As printed on your badge" in html
    # Choices are grouped: a fieldset whose legend is the question.
    access = html[html.index("Do you need sign-language") - 400 :]
    assert "<fieldset" in access[:400] and "<legend" in access[:400]
    assert 'type="date"' in html and 'name="q_arrival"' in html


def test_arabic_form_shows_arabic_texts_and_marks_english_fallbacks(client, asking):
    question = Question.objects.get(event=asking, key="residence")
    question.translations.pop("ar")
    question.save()
    html = client.get(register_url(asking, "ar")).content.decode()
    assert 'dir="rtl"' in html
    assert "Your position (ar)" in html
    assert "لغة الإشارة" in html
    assert '<span lang="en" dir="ltr">Country of residence</span>' in html


def test_answers_are_stored_typed_with_the_registration(client, asking):
    assert post(client, asking).status_code == 302
    assert Registration.objects.get().answers == STORED


def test_unknown_choice_keys_and_bad_values_are_refused_and_other_answers_kept(client, asking):
    response = post(
        client,
        asking,
        q_access="teleportation",
        q_topics=["prisons", "nonsense"],
        q_delegates="10000000000",
        q_arrival="1066-10-14",
        q_website_url="javascript:alert(1)",
        q_position="x" * 301,
    )
    assert response.status_code == 200
    assert not Registration.objects.exists()
    html = response.content.decode()
    for name in ("q_access", "q_topics", "q_delegates", "q_arrival", "q_website_url", "q_position"):
        assert f'href="#id_{name}' in html, name  # linked from the error summary
    # What was right stays filled in.
    assert 'value="aide@example.org"' in html
    assert "prevent radicalisation?</textarea>" in html


def test_required_question_missing_is_an_error_linked_to_its_first_radio(client, asking):
    response = post(client, asking, q_access=None)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="#id_q_access_0"' in html and 'id="id_q_access_0"' in html


def test_conditional_question_is_required_only_when_its_answer_applies(client, asking):
    # Not a member state: a "delegation" answer is dropped, not stored.
    assert post(client, asking, q_delegation="sn").status_code == 302
    assert "delegation" not in Registration.objects.get().answers
    # A member state: now it is asked, and required.
    response = post(client, asking, affiliation="member_state", email="b@example.org")
    assert response.status_code == 200
    assert 'href="#id_q_delegation"' in response.content.decode()
    data = {"affiliation": "member_state", "email": "b@example.org", "q_delegation": "fr"}
    assert post(client, asking, **data).status_code == 302
    assert Registration.objects.get(email="b@example.org").answers["delegation"] == "fr"


def test_removed_question_is_no_longer_asked_but_its_answers_stay_exported(
    client, asking, admin_client
):
    post(client, asking)
    Question.objects.filter(event=asking, key="delegates").update(active=False)
    Question.objects.get(event=asking, key="delegates").save()  # forgets the cached form
    assert "q_delegates" not in client.get(register_url(asking)).content.decode()
    rows = export(admin_client, asking)
    column = rows[0].index("How many people in your delegation?")
    assert rows[1][column] == "3"


def test_manage_page_edits_answers_but_not_locked_ones(client, asking, register):
    Question.objects.filter(event=asking, key="access").update(locked=True)
    Question.objects.get(event=asking, key="access").save()
    registration = register(asking, answers=dict(STORED))
    path = reverse("registration:manage", kwargs={"token": registration.token})
    html = client.get(path).content.decode()
    assert 'value="Programme officer"' in html
    assert "q_access" not in html
    data = {**form_post(), **ANSWERS_POST, "q_position": "Director", "q_access": "sign"}
    assert client.post(path, data).status_code == 302
    answers = Registration.objects.get().answers
    assert answers["position"] == "Director"
    assert answers["access"] == "captions"  # locked: kept as registered


def test_new_required_question_is_asked_on_the_manage_page_without_invalidating(
    client, asking, register
):
    registration = register(asking, answers=dict(STORED))
    add_questions(
        asking,
        [
            *EVERY_TYPE,
            {"key": "diet", "type": "text", "required": True, "label": {"en": "Diet"}},
        ],
    )
    stored = Registration.objects.get()
    assert stored.status == Registration.Status.CONFIRMED
    path = reverse("registration:manage", kwargs={"token": registration.token})
    assert "The organisers have added questions" in client.get(path).content.decode()
    response = client.post(path, {**form_post(), **ANSWERS_POST})
    assert response.status_code == 200
    assert 'href="#id_q_diet"' in response.content.decode()
    client.post(path, {**form_post(), **ANSWERS_POST, "q_diet": "Vegetarian"})
    assert Registration.objects.get().answers["diet"] == "Vegetarian"


def export(admin_client, event):
    url = reverse("admin:registration_registration_changelist")
    response = admin_client.post(
        url,
        {
            "action": "export_registrations",
            "_selected_action": list(Registration.objects.values_list("pk", flat=True)),
        },
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_organisers_see_answers_on_the_registration_page_and_in_the_csv(
    client, asking, admin_client
):
    post(client, asking, q_position='=HYPERLINK("http://evil")')
    registration = Registration.objects.get()
    page = admin_client.get(
        reverse("admin:registration_registration_change", args=[registration.pk])
    ).content.decode()
    assert "Topics of interest" in page and "Prisons, Gender" in page
    rows = export(admin_client, asking)
    header, row = rows
    assert header[-11:] == [q.label for q in Question.objects.filter(event=asking)]
    assert row[header.index("Your position")] == '\'=HYPERLINK("http://evil")'
    assert row[header.index("Do you need sign-language interpretation or captions?")] == "Captions"
    assert row[header.index("May we list your name in the report?")] == "Yes"
    assert row[header.index("Country of residence")] == "Senegal"


def test_list_filters_by_choice_answers_and_panel_charts_each_choice_question(
    client, asking, admin_client
):
    post(client, asking)
    post(client, asking, email="sign@example.org", q_access="sign", q_topics=["youth"])
    changelist = reverse("admin:registration_registration_changelist")
    html = admin_client.get(
        f"{changelist}?event__id__exact={asking.pk}&answer=access%3Dsign"
    ).content.decode()
    assert "sign@example.org" in html and "amina.1@example.org" not in html
    html = admin_client.get(
        f"{changelist}?event__id__exact={asking.pk}&answer=topics%3Dgender"
    ).content.decode()
    assert "amina.1@example.org" in html and "sign@example.org" not in html
    post(client, asking, email="quiet@example.org", q_list_name=None)
    html = admin_client.get(
        f"{changelist}?event__id__exact={asking.pk}&answer=list_name%3Dno"
    ).content.decode()
    assert "quiet@example.org" in html and "sign@example.org" not in html
    html = admin_client.get(
        f"{changelist}?event__id__exact={asking.pk}&answer=list_name%3Dyes"
    ).content.decode()
    assert "quiet@example.org" not in html and "sign@example.org" in html
    page = admin_client.get(reverse("admin:events_event_change", args=[asking.pk])).content
    page = page.decode()
    assert (
        "Do you need sign-language interpretation or captions?: Sign language 1, Captions 2, Neither 0"
        in page
    )
    assert "Topics of interest: Prisons 2, Youth 1, Gender 2" in page
    # Each answer under a chart opens the list filtered by it.
    assert f"?event__id__exact={asking.pk}&amp;answer=access%3Dsign" in page


def test_renaming_a_choice_keeps_its_key_and_answers(client, asking, admin_client):
    post(client, asking)
    question = Question.objects.get(event=asking, key="access")
    question.choices[1]["label"]["en"] = "Live captions"
    question.save()
    rows = export(admin_client, asking)
    assert rows[1][rows[0].index(question.label)] == "Live captions"


def test_purge_erases_personal_answers_and_keeps_the_others(asking, register):
    register(asking, answers=dict(STORED))
    services.purge_personal_data(now=asking.ends_at + timedelta(days=400), days=30)
    answers = Registration.objects.get().answers
    assert not {"position", "panel_question", "assistant_email"} & set(answers)
    assert answers["access"] == "captions" and answers["topics"] == ["prisons", "gender"]


def test_confirmation_repeats_the_answers_in_the_registrants_language(
    client, asking, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, asking, preferred_language="ar")
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert "Topics of interest (ar)" in part
        assert "Captions (ar)" in part
        assert "Your position (ar)" in part


def test_question_definitions_are_cached_and_forgotten_on_change(asking, django_assert_num_queries):
    questions_for(asking)
    with django_assert_num_queries(0):
        assert len(questions_for(asking)) == 11
    Question.objects.get(event=asking, key="arrival").delete()
    assert len(questions_for(asking)) == 10


def test_closed_event_still_stores_nothing(client, asking):
    asking.registration_closes_at = timezone.now() - timedelta(minutes=1)
    asking.save()
    assert post(client, asking).status_code == 200
    assert not Registration.objects.exists()


def test_long_text_line_breaks_are_stored_as_the_browser_meant_them(client, asking):
    assert post(client, asking, q_panel_question="First line\r\nSecond line").status_code == 302
    assert Registration.objects.get().answers["panel_question"] == "First line\nSecond line"


def question_form(index, **fields):
    base = {
        "key": "",
        "type": "text",
        "position": str(index),
        "label": "",
        "help_text": "",
        "choices": "[]",
        "show_if_question": "",
        "show_if_equals": "",
        "active": "on",
    }
    return {f"questions-{index}-{name}": value for name, value in {**base, **fields}.items()}


def test_organiser_adds_ordered_translated_questions_on_the_event_page(admin_client, event):
    from tests.events.conftest import admin_post_data

    url = reverse("admin:events_event_change", args=[event.pk])
    assert 'id="questions-group"' in admin_client.get(url).content.decode()
    data = admin_post_data(event)
    data.update({"questions-TOTAL_FORMS": "2", "questions-INITIAL_FORMS": "0"})
    data.update(
        question_form(
            0,
            key="access",
            type="choice",
            label="Access needs",
            label_fr="Besoins d'accessibilité",
            required="on",
            choices='[{"key": "captions", "label": {"en": "Captions", "fr": "Sous-titres"}}]',
        )
    )
    data.update(
        question_form(
            1, key="details", label="Details", show_if_question="access", show_if_equals="captions"
        )
    )
    assert admin_client.post(url, data).status_code == 302
    access, details = Question.objects.filter(event=event)
    assert (access.key, details.key) == ("access", "details")
    assert access.translated("label", "fr") == "Besoins d'accessibilité"
    html = admin_client.get(f"/fr/events/{event.slug}/register/").content.decode()
    assert "Besoins d&#x27;accessibilité" in html and "Sous-titres" in html


def test_event_page_refuses_a_question_depending_on_nothing(admin_client, event):
    from tests.events.conftest import admin_post_data

    url = reverse("admin:events_event_change", args=[event.pk])
    data = admin_post_data(event)
    data.update({"questions-TOTAL_FORMS": "2", "questions-INITIAL_FORMS": "0"})
    data.update(question_form(0, key="access", type="choice", label="Access", choices="[]"))
    data.update(
        question_form(
            1, key="details", label="Details", show_if_question="nowhere", show_if_equals="x"
        )
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "A choice question needs at least one choice." in html
    assert "There is no question “nowhere” on this form." in html
    assert not Question.objects.exists()


def test_organiser_text_is_escaped_in_labels_help_and_choices(client, asking):
    question = Question.objects.get(event=asking, key="access")
    question.label = "<b>Access</b>"
    question.help_text = "<img src=x onerror=alert(1)>"
    question.choices[0]["label"]["en"] = "<script>alert(2)</script>"
    question.save()
    html = client.get(register_url(asking)).content.decode()
    assert "<img src=x" not in html and "<script>alert(2)" not in html and "<b>Access" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
