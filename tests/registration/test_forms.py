import unicodedata

from django.utils import translation

from registration.forms import country_choices


def test_country_list_is_sorted_as_the_registrants_language_writes_the_names():
    for language in ["ru", "fr", "es"]:
        with translation.override(language):
            names = [name for code, name in country_choices() if code]
        # Letters decide the order; accents only break ties ("Équateur" before "Espagne").
        letters = [
            "".join(
                c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
            ).casefold()
            for name in names
        ]
        assert letters == sorted(letters), language
    with translation.override("ru"):
        assert dict(country_choices())["AU"] == "Австралия"
