"""Country names in the six UN languages, from the Unicode CLDR (through Babel).

django-countries supplies the list of ISO 3166-1 codes; its own translations are uneven
("Naoero" in English, "Bahamas (The)", Russian names in the genitive), so the names come
from CLDR, the data operating systems and browsers use in every language. Each language's list is built and
sorted once per process and shared by every form, admin page and CSV export.
"""

import functools
import re
import unicodedata

from babel import Locale
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_countries.data import COUNTRIES

COUNTRY_CODES = frozenset(COUNTRIES)

# Where CLDR's everyday name departs from the UN's own short name for a Member or observer
# State (a disambiguation such as "Congo - Kinshasa", an abbreviation such as "ОАЭ"): the
# name in the UN Terminology Database, per language.
UN_NAMES = {
    "CD": {
        "en": "Democratic Republic of the Congo",
        "fr": "République démocratique du Congo",
        "es": "República Democrática del Congo",
        "ru": "Демократическая Республика Конго",
        "ar": "جمهورية الكونغو الديمقراطية",
        "zh-hans": "刚果民主共和国",
    },
    "CG": {
        "en": "Congo",
        "fr": "Congo",
        "es": "Congo",
        "ru": "Конго",
        "ar": "الكونغو",
        "zh-hans": "刚果",
    },
    "PS": {
        "en": "State of Palestine",
        "fr": "État de Palestine",
        "es": "Estado de Palestina",
        "ru": "Государство Палестина",
        "ar": "دولة فلسطين",
        "zh-hans": "巴勒斯坦国",
    },
    "AE": {"ru": "Объединенные Арабские Эмираты"},
    "CI": {"ar": "كوت ديفوار"},
}


def _spelled_out(name: str, language: str) -> str:
    # CLDR abbreviates in English ("St. Kitts & Nevis", "Bosnia & Herzegovina") and Russian
    # ("Аландские о-ва", "о-в Мэн"); the UN spells these words out.  # noqa: RUF003
    if language == "en":
        return name.replace(" & ", " and ").replace("St. ", "Saint ")
    if language == "ru":
        return re.sub(r"\bо-в(а?)\b", r"остров\1", name)  # noqa: RUF001
    return name


@functools.cache
def _names_in(language: str) -> dict[str, str]:
    try:
        territories = Locale.parse(translation.to_locale(language)).territories
    except (ValueError, LookupError):
        language, territories = "en", Locale.parse("en").territories
    names = {}
    for code, fallback in COUNTRIES.items():
        name = UN_NAMES.get(code, {}).get(language) or territories.get(code) or str(fallback)
        names[code] = _spelled_out(name, language)
    return names


def _collation_key(name: str) -> tuple[str, str]:
    # The primary strength of the Unicode collation algorithm, near enough for these names:
    # letters first, accents and case only to break ties, so that French "Équateur" sorts
    # before "Espagne", not after "Eswatini" (Arabic hamza forms fold to alef the same way).
    # Chinese comes out in the order of the Unicode Han block, which is radical-and-stroke
    # order (one of CLDR's Chinese collations); CLDR's default for Chinese, pinyin, needs
    # ICU's data, which no installable wheel brings here.
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    return letters.casefold(), decomposed.casefold()


@functools.cache
def _choices_in(language: str) -> tuple[tuple[str, str], ...]:
    names = sorted(_names_in(language).items(), key=lambda item: _collation_key(item[1]))
    with translation.override(language):
        placeholder = str(_("Choose a country"))
    return (("", placeholder), *names)


def _current_language() -> str:
    return translation.get_language() or "en"


def country_choices() -> tuple[tuple[str, str], ...]:
    """The choices of a country select in the current language: an empty choice, then the
    countries in that language's order. The same tuple every time (no per-request copy)."""
    return _choices_in(_current_language())


def country_name(code: str) -> str:
    """The country's name in the current language ("" for no country, the code if unknown)."""
    if not code:
        return ""
    return _names_in(_current_language()).get(code, code)
