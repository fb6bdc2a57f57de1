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

from events.languages import UN_LANGUAGE_CODES, UN_LANGUAGES
from events.models import Event
from registration import proof_of_work
from registration.addresses import canonical_email
from registration.countries import COUNTRY_CODES, country_choices
from registration.models import Registration
from registration.questions import FIELD_PREFIX, QuestionsFormMixin

# Control characters (CR, LF, tab, NUL ...) and the Unicode line/paragraph separators: they
# break email headers, CSV cells and admin lists. Zero-width joiners (format characters) stay
# allowed: Persian and Indic names need them.
FORBIDDEN_CATEGORIES = {"Cc", "Zl", "Zp"}
# Bidirectional embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI,
# PDI): they reorder the text around them, so a name can pose as another in the admin list
# and the CSV export. The marks (LRM, RLM, ALM) stay allowed: they move no text, and
# Arabic text pasted from other software often carries them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and symbols that are drawn as blank space: the Hangul fillers and the Braille blank.
BLANK_GRAPHICS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def validate_single_line(value: str) -> None:
    if any(unicodedata.category(char) in FORBIDDEN_CATEGORIES for char in value):
        raise ValidationError(
            _("Use a single line of ordinary text, without line breaks or control characters."),
            code="control_characters",
        )
    if any(char in BIDI_CONTROLS for char in value):
        raise ValidationError(
            _(
                "Remove the invisible text-direction characters: they can make text appear in "
                "a misleading order."
            ),
            code="bidi_controls",
        )


def _is_visible(char):
    # Letters, digits, punctuation and symbols; spaces, controls, format characters and
    # combining marks on their own draw nothing.
    return unicodedata.category(char)[0] in "LNPS" and char not in BLANK_GRAPHICS


def validate_visible(value: str) -> None:
    if value and not any(_is_visible(char) for char in value):
        raise ValidationError(
            _("Enter visible letters or digits, not only spaces or invisible characters."),
            code="invisible",
        )


# Every free-text field a registrant fills in: the form, the manage page and the admin.
TEXT_VALIDATORS = [validate_single_line, validate_visible]


class CountryField(forms.ChoiceField):
    def __init__(self, **kwargs):
        # A callable becomes a CallableChoiceIterator, which deep-copies in O(1); the
        # choices themselves are built once per language (registration.countries).
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
# O(1) where a list is copied entry by entry.
def _affiliation_choices():
    return [("", _("Choose your affiliation")), *Registration.Affiliation.choices]


def _un_languages():
    return UN_LANGUAGES


class DetailsForm(forms.Form):
    """The fields a registrant fills in at sign-up and may change later."""

    name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        validators=TEXT_VALIDATORS,
        error_messages={"required": _("Enter your full name.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    organisation = forms.CharField(
        label=_("Organisation"),
        max_length=200,
        required=False,
        validators=TEXT_VALIDATORS,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    job_title = forms.CharField(
        label=_("Job title"),
        max_length=200,
        required=False,
        validators=TEXT_VALIDATORS,
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
        language = translation.get_language()
        if offered:
            # An explicit empty choice: whoever skips the select is asked, not counted as a
            # listener of whichever language comes first.
            field.choices = [("", _("Choose a language")), *offered]
            field.error_messages["required"] = _("Choose the language you will listen in.")
            if (
                not self.is_bound
                and "interpretation_language" not in self.initial
                and language in event.interpretation_languages
            ):
                self.initial["interpretation_language"] = language
        else:
            del self.fields["interpretation_language"]
        if not self.is_bound and "preferred_language" not in self.initial:
            self.initial["preferred_language"] = language if language in UN_LANGUAGE_CODES else "en"


class RegistrationForm(QuestionsFormMixin, DetailsForm):
    # Validated and canonicalised by clean_email() (registration.addresses), not by Django's
    # EmailValidator, which lets through addresses that can never be delivered.
    email = forms.CharField(
        label=_("Email address"),
        max_length=254,
        error_messages={"required": _("Enter your email address.")},
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

    # The email address right after the name; the other fields follow in the order they are
    # declared (that of registration.models.PROFILE_FIELDS), then consent and the honeypot.
    field_order = ["name", "email"]

    def __init__(self, *args, event, **kwargs):
        super().__init__(*args, event=event, **kwargs)
        if event.registration_mode == Event.RegistrationMode.CODE:
            # Checked (and counted) by registration.services.register, under the event lock.
            self.fields["access_code"] = forms.CharField(
                label=_("Access code"),
                max_length=64,
                help_text=_("The code the organisers gave you."),
                error_messages={"required": _("Enter your access code.")},
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            )
            self.order_fields(["name", "email", "access_code"])
        if proof_of_work.required_for(event):
            self.fields[proof_of_work.FIELD_NAME] = proof_of_work.ProofOfWorkField()

    @cached_property
    def helper(self):
        # Built when the form is rendered, not for a valid POST that only redirects.
        helper = FormHelper()
        helper.form_method = "post"
        helper.form_action = reverse("registration:register", kwargs={"slug": self.event.slug})
        helper.attrs = {"novalidate": ""}
        helper.layout = Layout(
            *[
                self.question_layout(name)
                for name in self.fields
                if name not in {"website", proof_of_work.FIELD_NAME}
            ],
            Div(Field("website"), css_class="convene-hp", aria_hidden="true"),
            *(
                [Field(proof_of_work.FIELD_NAME, template=proof_of_work.FIELD_TEMPLATE)]
                if proof_of_work.FIELD_NAME in self.fields
                else []
            ),
            Submit("submit", _("Register"), css_class="btn-lg"),
        )
        return helper

    def render_key(self):
        """What the crispy layout (helper) reads besides the fields, for registration.form_html:
        the form's action and the conditional questions' wrappers."""
        return (
            self.event.slug,
            tuple((q.key, q.show_if_question, q.show_if_equals) for q in self.questions),
        )

    def clean_email(self):
        return canonical_email(self.cleaned_data["email"])

    def clean_timezone(self):
        # Filled by the browser, not the person: an unknown value is dropped, not an error.
        value = self.cleaned_data["timezone"].strip()
        return value if value in _time_zones() else ""


class InvitationForm(RegistrationForm):
    """The one-step registration of an invitee (registration.invitations): the sign-up form
    with the invitation's address shown and locked (a disabled field: Django ignores what a
    browser posts for it) and its name and language filled in."""

    def __init__(self, *args, invitation, **kwargs):
        initial = {
            "name": invitation.name,
            "preferred_language": invitation.preferred_language,
            **kwargs.pop("initial", {}),
        }
        super().__init__(*args, event=invitation.event, initial=initial, **kwargs)
        self.invitation = invitation
        email = self.fields["email"]
        email.disabled = True
        email.required = False
        email.help_text = _("Your invitation is for this address; it cannot be changed here.")
        self.initial["email"] = invitation.email
        # Only the person's details, their answers and the consent: no honeypot nor other
        # proof of being a person (the link is the proof), no access code (the invitation
        # is one).
        keep = {*DetailsForm.base_fields, "email", "timezone", "consent"}
        for name in list(self.fields):
            if name not in keep and not name.startswith(FIELD_PREFIX):
                del self.fields[name]

    @cached_property
    def helper(self):
        helper = FormHelper()
        helper.form_method = "post"
        helper.attrs = {"novalidate": ""}
        helper.layout = Layout(
            *[self.question_layout(name) for name in self.fields],
            Submit("submit", _("Register"), css_class="btn-lg"),
        )
        return helper

    def clean_email(self):
        return self.invitation.email


class ManageForm(QuestionsFormMixin, DetailsForm):
    answering_after_registration = True

    @cached_property
    def helper(self):
        helper = FormHelper()
        helper.form_method = "post"
        helper.attrs = {"novalidate": ""}
        helper.layout = Layout(
            *[self.question_layout(name) for name in self.fields],
            Submit("save", _("Save changes")),
        )
        return helper
