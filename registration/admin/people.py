"""The organiser's list of people, pasted or uploaded as CSV (email, name, language): the
"Add people" and "Invite people" pages of an event both read it (registration.access)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from registration import access as registration_access


class PeopleForm(forms.Form):
    """Pasted lines, or a CSV file, or both; cleaned_data["parsed"] holds the people
    (registration.access.parse_people: the first bad line is the error)."""

    people = forms.CharField(
        label=_("People"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "dir": "ltr"}),
        help_text=_(
            "One person per line: email, name and optionally the language for emails "
            "(ar, zh-hans, en, fr, ru, es), separated by commas."
        ),
    )
    file = forms.FileField(
        label=_("or a CSV file"), required=False, help_text=_("The same columns, UTF-8.")
    )

    def clean(self):
        cleaned = super().clean()
        text = cleaned.get("people") or ""
        upload = cleaned.get("file")
        if upload:
            try:
                text = "\n".join([text, upload.read().decode("utf-8-sig")])
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The file is not UTF-8 text.")) from None
        cleaned["parsed"] = registration_access.parse_people(text)
        if not cleaned["parsed"]:
            raise forms.ValidationError(_("Give at least one person."))
        return cleaned
