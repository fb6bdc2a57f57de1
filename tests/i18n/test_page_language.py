"""Compiled catalogues change the page: compile_translations (pure Python, no GNU gettext)
writes .mo files where Django looks for them, including locale/zh_Hans for zh-hans."""

import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils.translation import to_locale

# templates/base.html, on every page; not in Django's own catalogues (its admin translates
# "Skip to main content" already), so only our catalogue can translate it.
FOOTER = "registration for virtual events"


def write_po(path, language, translations):
    po = polib.POFile()
    po.metadata = {
        "Language": language,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    for msgid, msgstr in translations.items():
        po.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))


@pytest.mark.parametrize(
    ("code", "footer"),
    [
        ("fr", "inscriptions aux événements virtuels"),
        ("zh-hans", "线上活动报名"),
        ("ar", "التسجيل في الفعاليات الافتراضية"),
    ],
)
def test_compiled_catalogue_translates_the_page(client, db, settings, tmp_path, code, footer):
    po_path = tmp_path / to_locale(code) / "LC_MESSAGES" / "django.po"
    write_po(po_path, to_locale(code), {FOOTER: footer})
    settings.LOCALE_PATHS = [tmp_path]  # resets Django's translation caches

    call_command("compile_translations")

    assert po_path.with_suffix(".mo").exists()
    html = client.get(f"/{code}/", follow=True).content.decode()
    assert footer in html
    assert FOOTER not in html
    assert FOOTER in client.get("/en/", follow=True).content.decode()


def test_fuzzy_translations_are_not_compiled(client, db, settings, tmp_path):
    """A translator's "not sure yet" (#, fuzzy) must not reach attendees; English shows."""
    po_path = tmp_path / "fr" / "LC_MESSAGES" / "django.po"
    write_po(po_path, "fr", {FOOTER: "inscriptions (à revoir)"})
    po = polib.pofile(str(po_path))
    po.find(FOOTER).flags.append("fuzzy")
    po.save()
    settings.LOCALE_PATHS = [tmp_path]

    call_command("compile_translations")

    html = client.get("/fr/", follow=True).content.decode()
    assert "à revoir" not in html
    assert FOOTER in html


@pytest.mark.parametrize("code", [code for code, _name in settings.LANGUAGES if code != "en"])
def test_the_project_catalogue_translates_the_page(client, db, settings, tmp_path, code):
    """Our own locale/: whatever base.html's footer says in this language reaches the page."""
    source = Path(settings.BASE_DIR) / "locale" / to_locale(code) / "LC_MESSAGES" / "django.po"
    if not source.exists():
        pytest.fail(f"no catalogue for {code} ({source.name} missing)")
    entry = polib.pofile(str(source)).find(FOOTER)
    assert entry is not None and entry.translated(), f"{FOOTER!r} untranslated for {code}"
    target = tmp_path / source.relative_to(Path(settings.BASE_DIR) / "locale")
    target.parent.mkdir(parents=True)
    shutil.copy(source, target)
    settings.LOCALE_PATHS = [tmp_path]
    call_command("compile_translations")

    assert entry.msgstr in client.get(f"/{code}/", follow=True).content.decode()
