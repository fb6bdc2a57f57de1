import unicodedata

from django.utils import translation

from registration.forms import country_choices


def test_country_list_is_sorted_as_the_registrants_language_writes_the_names():
    for language in ["ru", "fr", "es"]:
        with translation.override(language):
            names = [name for code, name in country_choices() if code]
        folded = [unicodedata.normalize("NFKD", name).casefold() for name in names]
        assert folded == sorted(folded), language
    with translation.override("ru"):
        assert dict(country_choices())["AU"] == "Австралия"
