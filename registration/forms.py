import functools
import unicodedata
import zoneinfo

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.functional import cached_property, lazy
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from events.languages import UN_LANGUAGE_CODES, UN_LANGUAGES
from registration.models import Registration

# Control characters (CR, LF, tab, NUL ...) and the Unicode line/paragraph separators: they
# break email headers, CSV cells and admin lists. Zero-width joiners (format characters) stay
# allowed: Persian and Indic names need them.
FORBIDDEN_CATEGORIES = {"Cc", "Zl", "Zp"}


def validate_single_line(value):
    if any(unicodedata.category(char) in FORBIDDEN_CATEGORIES for char in value):
        raise ValidationError(
            _("Use a single line of ordinary text, without line breaks or control characters."),
            code="control_characters",
        )


@functools.cache
def _country_choices_in(language):
    with translation.override(language):
        names = [(code, str(name)) for code, name in countries]
        placeholder = str(_("Choose a country"))
    # Sorted by the names as this language writes them (accents folded), not by English.
    names.sort(key=lambda item: unicodedata.normalize("NFKD", item[1]).casefold())
    return (("", placeholder), *names)


def country_choices():
    """The countries sorted in the current language, built once per language: a form
    instance shares the tuple instead of deep-copying 250 entries (a tenth of a POST)."""
    return _country_choices_in(translation.get_language() or "en")


COUNTRY_CODES = frozenset(code for code, _name in countries)


class CountryField(forms.ChoiceField):
    def __init__(self, **kwargs):
        # A callable becomes a CallableChoiceIterator, which deep-copies in O(1).
        super().__init__(choices=country_choices, **kwargs)

    def valid_value(self, value):
        return value in COUNTRY_CODES


@functools.cache
def _time_zones():
    return frozenset(zoneinfo.available_timezones())


def _privacy_help():
    # Every bound form reads it (even a POST that only redirects), so built once per
    # language and script prefix instead of a reverse() each time.
    return _privacy_help_in(translation.get_language(), get_script_prefix())


@functools.cache
def _privacy_help_in(language, script_prefix):
    return format_html(
        '<a href="{}">{}</a>',
        reverse("registration:privacy"),
        _("Read the privacy notice: what we store, who sees it and when we delete it."),
    )


privacy_help = lazy(_privacy_help, str)


# Choices as callables: each form instance deep-copies its fields, and a callable copies in
# O(1) where a list is copied entry by entry (a fifth of building the form).
def _affiliation_choices():
    return [("", _("Choose your affiliation")), *Registration.Affiliation.choices]


def _un_languages():
    return UN_LANGUAGES


class DetailsForm(forms.Form):
    """The fields a registrant fills in at sign-up and may change later."""

    name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        validators=[validate_single_line],
        error_messages={"required": _("Enter your full name.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    organisation = forms.CharField(
        label=_("Organisation"),
        max_length=200,
        required=False,
        validators=[validate_single_line],
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    job_title = forms.CharField(
        label=_("Job title"),
        max_length=200,
        required=False,
        validators=[validate_single_line],
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
    )
    country = CountryField(label=_("Country"), required=False)
    affiliation = forms.ChoiceField(
        label=_("Affiliation"),
        choices=_affiliation_choices,
        error_messages={"required": _("Choose the kind of organisation you belong to.")},
    )
    preferred_language = forms.ChoiceField(
        label=_("Language for emails"),
        choices=_un_languages,
        help_text=_("We write to you in this language."),
    )
    interpretation_language = forms.ChoiceField(
        label=_("Language you will listen in"),
        help_text=_("The interpretation channel you plan to follow during the event."),
    )

    def __init__(self, *args, event, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event
        names = dict(UN_LANGUAGES)
        offered = [(code, names[code]) for code in event.interpretation_languages if code in names]
        field = self.fields["interpretation_language"]
        if offered:
            field.choices = offered
            field.error_messages["required"] = _("Choose the language you will listen in.")
        else:
            del self.fields["interpretation_language"]
        if not self.is_bound and "preferred_language" not in self.initial:
            language = translation.get_language()
            self.initial["preferred_language"] = language if language in UN_LANGUAGE_CODES else "en"


class RegistrationForm(DetailsForm):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        error_messages={
            "required": _("Enter your email address."),
            "invalid": _("Enter an email address such as name@example.org."),
        },
        help_text=_("Your confirmation, your personal link and the meeting link go here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    timezone = forms.CharField(
        label=_("Your time zone (optional)"),
        max_length=64,
        required=False,
        help_text=_("Filled in by your browser, e.g. Europe/Zurich. Leave it as it is."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-fill-timezone": "1"}),
    )
    consent = forms.BooleanField(
        label=_("I agree that my details are stored and used as the privacy notice describes"),
        help_text=privacy_help(),
        error_messages={"required": _("Tick this box to agree to the privacy notice.")},
    )
    # The honeypot: hidden from people and screen readers; bots fill every field they see.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    field_order = [
        "name",
        "email",
        "organisation",
        "job_title",
        "country",
        "affiliation",
        "preferred_language",
        "interpretation_language",
        "timezone",
        "consent",
        "website",
    ]

    @cached_property
    def helper(self):
        # Built when the form is rendered, not for a valid POST that only redirects.
        helper = FormHelper()
        helper.form_method = "post"
        helper.form_action = reverse("registration:register", kwargs={"slug": self.event.slug})
        helper.attrs = {"novalidate": ""}
        helper.layout = Layout(
            *[Field(name) for name in self.fields if name not in {"website"}],
            Div(Field("website"), css_class="convene-hp", aria_hidden="true"),
            Submit("submit", _("Register"), css_class="btn-lg"),
        )
        return helper

    @property
    def is_spam(self):
        """True when the honeypot was filled: answer as usual, store nothing."""
        return bool(self.data.get("website", "").strip())

    def clean_timezone(self):
        # Filled by the browser, not the person: an unknown value is dropped, not an error.
        value = self.cleaned_data["timezone"].strip()
        return value if value in _time_zones() else ""


class ManageForm(DetailsForm):
    @cached_property
    def helper(self):
        helper = FormHelper()
        helper.form_method = "post"
        helper.attrs = {"novalidate": ""}
        helper.layout = Layout(
            *[Field(name) for name in self.fields],
            Submit("save", _("Save changes")),
        )
        return helper
