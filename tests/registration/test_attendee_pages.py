"""What an attendee sees on the registration form, the check-your-email page and the manage
page (issue 12): stored values shown and saved, a listening language nobody picked by
accident, honest next steps, and country and language names as each language writes them."""

import re
from html.parser import HTMLParser

import pytest
from django.utils import translation

from registration import services
from registration.forms import ManageForm, country_choices
from registration.models import Registration
from tests.registration.conftest import form_post

LANGUAGES = ["ar", "zh-hans", "en", "fr", "ru", "es"]


class FormValues(HTMLParser):
    """What a browser would submit from the page's form with nothing touched."""

    def __init__(self):
        super().__init__()
        self.values, self.selects, self._select = {}, {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") not in {"submit", "hidden", "checkbox"}:
            self.values[attrs["name"]] = attrs.get("value") or ""
        elif tag == "select":
            self._select = attrs["name"]
            self.selects[self._select] = []
        elif tag == "option" and self._select:
            self.selects[self._select].append((attrs.get("value", ""), "selected" in attrs))

    def handle_endtag(self, tag):
        if tag == "select":
            options = self.selects[self._select]
            chosen = [value for value, selected in options if selected]
            # A select with nothing marked shows (and submits) its first option.
            self.values[self._select] = chosen[0] if chosen else options[0][0]
            self._select = None


def form_values(html):
    parser = FormValues()
    parser.feed(html)
    return parser.values


def select_options(html, name):
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select)


# --- The manage page shows and saves every field (bug 1) -------------------------------------


@pytest.fixture
def registered(event):
    data = {**form_post(), "consent": True, "affiliation": "academia", "country": "NR"}
    return services.register(event=event, data=data)


def manage_url(result):
    return f"/en/r/{result.token}/"


def test_manage_page_shows_every_stored_value(client, registered):
    values = form_values(client.get(manage_url(registered)).content.decode())
    registration = registered.registration
    for name in ManageForm.base_fields:
        assert values[name] == getattr(registration, name), name
    assert values["affiliation"] == "academia"


def test_changing_only_the_job_title_on_the_manage_page_saves_it(client, registered):
    values = form_values(client.get(manage_url(registered)).content.decode())
    response = client.post(manage_url(registered), {**values, "job_title": "Director"}, follow=True)

    assert "Your details have been saved" in response.content.decode()
    registration = Registration.objects.get()
    assert registration.job_title == "Director"
    assert registration.affiliation == "academia"
    assert registration.country == "NR"


def test_changing_the_affiliation_on_the_manage_page_changes_it_in_the_database(client, registered):
    values = form_values(client.get(manage_url(registered)).content.decode())
    client.post(manage_url(registered), {**values, "affiliation": "media"})

    assert Registration.objects.get().affiliation == "media"
    assert form_values(client.get(manage_url(registered)).content.decode())["affiliation"] == (
        "media"
    )


def test_every_field_the_manage_page_shows_is_one_it_saves():
    assert set(ManageForm.base_fields) <= set(services.UPDATABLE_FIELDS)


# --- "Language you will listen in" (bug 2) ----------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_listening_language_defaults_to_the_page_language_the_event_offers(client, event, language):
    html = client.get(f"/{language}/events/{event.slug}/register/").content.decode()
    selected = [
        value for value, chosen, _name in select_options(html, "interpretation_language") if chosen
    ]
    assert selected == [language]


@pytest.mark.parametrize("language", ["ar", "zh-hans", "ru", "es"])
def test_listening_language_not_offered_must_be_picked(client, make_event, language):
    event = make_event(interpretation_languages=["en", "fr"])
    url = f"/{language}/events/{event.slug}/register/"
    html = client.get(url).content.decode()
    options = select_options(html, "interpretation_language")
    assert [value for value, _chosen, _name in options] == ["", "en", "fr"]
    # The empty choice is the one shown: no language is picked for the person.
    assert [value for value, chosen, _name in options if chosen] == [""]

    # Whoever skips it is asked, not counted as a listener of the first language.
    values = {**form_values(html), **form_post(interpretation_language=None), "consent": "on"}
    response = client.post(url, values)
    assert response.status_code == 200
    assert 'id="id_interpretation_language_error"' in response.content.decode()
    assert not Registration.objects.exists()


def test_listening_language_is_stored_as_picked(client, make_event):
    event = make_event(interpretation_languages=["en", "fr"])
    client.post(f"/ru/events/{event.slug}/register/", form_post(interpretation_language="fr"))
    assert Registration.objects.get().interpretation_language == "fr"


# --- The check-your-email page ----------------------------------------------------------------


def test_check_your_email_page_says_what_happens_next_for_every_outcome(client, event):
    response = client.post(f"/en/events/{event.slug}/register/", form_post(), follow=True)
    html = response.content.decode()
    assert "meeting link follows by email" in html
    assert "you are on the waiting list" in html
    assert "organisers review each registration" in html
    assert "If this address was already registered, nothing has changed" in html

    # A second sign-up with the same address gets exactly the same page.
    again = client.post(
        f"/en/events/{event.slug}/register/", form_post(2, email="amina.1@example.org"), follow=True
    )
    assert again.content == response.content
    assert Registration.objects.count() == 1


# --- Country and language names ---------------------------------------------------------------

COUNTRY_NAMES = [
    ("en", "BS", "Bahamas"),
    ("en", "NR", "Nauru"),
    ("en", "KN", "Saint Kitts and Nevis"),
    ("en", "CD", "Democratic Republic of the Congo"),
    ("fr", "NR", "Nauru"),
    ("fr", "CZ", "Tchéquie"),
    ("es", "CI", "Côte d\u2019Ivoire"),
    ("ru", "LR", "Либерия"),
    ("ru", "MM", "Мьянма (Бирма)"),
    ("ru", "NC", "Новая Каледония"),
    ("ru", "BS", "Багамы"),
    ("ru", "IM", "остров Мэн"),
    ("ar", "PS", "دولة فلسطين"),
    ("zh-hans", "NR", "瑙鲁"),
]


@pytest.mark.parametrize(("language", "code", "name"), COUNTRY_NAMES)
def test_country_names_on_the_form_are_the_ones_the_language_uses(
    client, event, language, code, name
):
    html = client.get(f"/{language}/events/{event.slug}/register/").content.decode()
    assert (code, "", name) in select_options(html, "country")


def _primary(name):
    import unicodedata

    letters = unicodedata.normalize("NFKD", name)
    return "".join(c for c in letters if not unicodedata.combining(c)).casefold()


@pytest.mark.parametrize("language", ["en", "fr", "es", "ru", "ar"])
def test_countries_are_in_the_languages_alphabetical_order(language):
    with translation.override(language):
        names = [name for code, name in country_choices() if code]
    assert len(names) == 249
    primary = [_primary(name) for name in names]
    assert primary == sorted(primary)


def test_accented_country_names_sort_among_their_letter_in_french():
    with translation.override("fr"):
        names = [name for code, name in country_choices() if code]
    assert names.index("Égypte") < names.index("Équateur") < names.index("Espagne")
    assert names.index("Espagne") < names.index("États-Unis") < names.index("Éthiopie")


def test_country_list_is_built_once_per_language():
    with translation.override("ru"):
        first = country_choices()
    with translation.override("fr"):
        country_choices()
    with translation.override("ru"):
        assert country_choices() is first


@pytest.mark.parametrize(
    ("language", "names"),
    [
        ("es", ["árabe", "chino", "inglés", "francés", "ruso", "español"]),
        ("fr", ["arabe", "chinois", "anglais", "français", "russe", "espagnol"]),
        ("ru", ["арабский", "китайский", "английский", "французский", "русский", "испанский"]),
    ],
)
def test_language_names_are_lowercase_where_the_language_writes_them_so(
    client, event, language, names
):
    html = client.get(f"/{language}/events/{event.slug}/register/").content.decode()
    shown = [
        name for value, _chosen, name in select_options(html, "interpretation_language") if value
    ]
    assert shown == names
