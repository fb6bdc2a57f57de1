"""The translation catalogues in locale/: named so Django finds them, complete, and safe to use.

Each non-English language's locale/<name>/LC_MESSAGES/django.po is checked the way a reader
would notice a fault: a string left empty or fuzzy (on a page, in an email or in the
organisers' admin) shows up in English; a
translation whose %(placeholders)s differ from the English one crashes the page or drops
the value; an Arabic, Chinese or Russian "translation" identical to the English is English.
"""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils.translation import to_locale

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
OTHER_LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]
NON_LATIN = {"ar", "zh-hans", "ru"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]|\{(\w*)\}")


def placeholders(text):
    return sorted(match.group(0) for match in PLACEHOLDER.finditer(text.replace("%%", "")))


def catalogue(code):
    path = LOCALE_DIR / to_locale(code) / "LC_MESSAGES" / "django.po"
    if not path.exists():
        pytest.fail(
            f"{path.relative_to(settings.BASE_DIR)} is missing: every UN language needs its catalogue"
        )
    return polib.pofile(str(path))


def describe(entry):
    where = ", ".join(path for path, _line in entry.occurrences[:3])
    return f"{entry.msgid!r} ({where})"


def test_locale_folders_are_named_as_django_looks_them_up():
    """zh-hans is looked up in locale/zh_Hans/; a folder called zh-hans or zh_hans is ignored."""
    expected = {to_locale(code) for code in OTHER_LANGUAGES}
    folders = {path.name for path in LOCALE_DIR.iterdir() if path.is_dir()}
    assert folders == expected
    for name in folders:
        assert (LOCALE_DIR / name / "LC_MESSAGES").is_dir()


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_attendee_facing_strings_are_translated_and_not_fuzzy(code):
    po = catalogue(code)
    untranslated = [
        describe(entry)
        for entry in po
        if not entry.obsolete
        and (
            "fuzzy" in entry.flags
            or not (entry.msgstr or entry.msgstr_plural)
            or (entry.msgstr_plural and not all(entry.msgstr_plural.values()))
        )
    ]
    assert not untranslated, f"{code}: {len(untranslated)} untranslated or fuzzy:\n" + "\n".join(
        untranslated
    )


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_translations_keep_the_placeholders(code):
    po = catalogue(code)
    wrong = []
    for entry in po.translated_entries():
        if entry.msgid_plural:
            # A singular form may leave out the number ("one seat left"), never add a name.
            allowed = set(placeholders(entry.msgid) + placeholders(entry.msgid_plural))
            if any(set(placeholders(form)) - allowed for form in entry.msgstr_plural.values()):
                wrong.append(describe(entry))
        elif placeholders(entry.msgstr) != placeholders(entry.msgid):
            wrong.append(f"{describe(entry)} -> {entry.msgstr!r}")
    assert not wrong, f"{code}: placeholders differ from the English:\n" + "\n".join(wrong)


@pytest.mark.parametrize("code", sorted(NON_LATIN))
def test_non_latin_translations_are_not_english(code):
    po = catalogue(code)
    english = [
        describe(entry)
        for entry in po.translated_entries()
        if entry.msgstr == entry.msgid
        and re.search(r"[A-Za-z]{3}", PLACEHOLDER.sub("", entry.msgid))
    ]
    assert not english, f"{code}: left in English:\n" + "\n".join(english)
