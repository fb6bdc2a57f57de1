"""Translations of organiser text on admin forms: one optional field per (language,
field), grouped per language."""

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from events.languages import UN_LANGUAGES

# --- Translations of organiser text ---------------------------------------------------------
# English is in the model's own fields; the other five languages in Translatable.translations,
# edited through one optional field per (language, field), grouped per language.
OTHER_LANGUAGES = [(code, name) for code, name in UN_LANGUAGES if code != "en"]


def translation_field_name(field, code):
    return f"{field}_{code.replace('-', '_')}"


def _label(verbose_name, language_name):
    return gettext("%(field)s (%(language)s)") % {
        "field": str(verbose_name).capitalize(),
        "language": language_name,
    }


_lazy_label = lazy(_label, str)


def _translation_form_fields(model):
    fields = {}
    for code, language_name in OTHER_LANGUAGES:
        for name in model.translatable_fields:
            model_field = model._meta.get_field(name)
            is_text = model_field.get_internal_type() == "TextField"
            fields[translation_field_name(name, code)] = forms.CharField(
                label=_lazy_label(model_field.verbose_name, language_name),
                required=False,
                max_length=None if is_text else model_field.max_length,
                widget=(
                    forms.Textarea(attrs={"rows": 3, "lang": code})
                    if is_text
                    else forms.TextInput(attrs={"lang": code, "class": "vTextField"})
                ),
            )
    return fields


class TranslationsFormMixin:
    """Maps the per-language fields to and from the model's `translations` JSON."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.translations or {}
        for code, _name in OTHER_LANGUAGES:
            for field in self._meta.model.translatable_fields:
                value = stored.get(code, {}).get(field, "")
                self.initial.setdefault(translation_field_name(field, code), value)

    def _collect_translations(self):
        result = {
            code: dict(texts)
            for code, texts in (self.instance.translations or {}).items()
            if isinstance(texts, dict)
        }
        for code, _name in OTHER_LANGUAGES:
            texts = result.setdefault(code, {})
            for field in self._meta.model.translatable_fields:
                value = (self.cleaned_data.get(translation_field_name(field, code)) or "").strip()
                if value:
                    texts[field] = value
                else:
                    texts.pop(field, None)
        return {code: texts for code, texts in result.items() if texts}

    def _post_clean(self):
        if hasattr(self, "cleaned_data"):
            self.instance.translations = self._collect_translations()
        super()._post_clean()


def translation_fieldsets(model, *, per_language=True):
    """The collapsed fieldsets of `model`'s translation fields: one per language, or one for
    all five (an inline, where each row repeats them)."""
    if per_language:
        groups = [(name, [code]) for code, name in OTHER_LANGUAGES]
    else:
        groups = [(_("Translations"), [code for code, _name in OTHER_LANGUAGES])]
    return [
        (
            title,
            {
                "classes": ["collapse"],
                "description": _("Optional. Where a field is blank the English text is shown."),
                "fields": [
                    translation_field_name(field, code)
                    for code in codes
                    for field in model.translatable_fields
                ],
            },
        )
        for title, codes in groups
    ]
