"""import_event (the organisers' JSON import) under arbitrary JSON: it either imports an
event whose every row is valid, or refuses with EventDataError naming the key and stores
nothing. Never another exception."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from events.demo.pdf import simple_pdf
from events.exchange import OPTIONAL, REQUIRED, EventDataError, import_event
from events.models import AgendaItem, Document, Event
from tests.fuzz.conftest import FUZZ, any_text, in_rolled_back_savepoint, nasty_text

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
    | nasty_text
    | st.sampled_from(
        [
            "2026-06-25T12:30:00-04:00",
            "2026-06-25T12:30:00",
            "25/06/2026",
            "America/New_York",
            "published",
            "cancelled",
            "fr",
            "concept_note",
            "concept.pdf",
            "/etc/passwd",
        ]
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=8,
)
KEYS = [*REQUIRED, *OPTIONAL]


def valid_event():
    return {
        "slug": "imported-event",
        "title": "Imported side event",
        "starts_at": "2030-06-25T12:30:00-04:00",
        "ends_at": "2030-06-25T14:00:00-04:00",
        "timezone": "America/New_York",
        "status": "published",
        "interpretation_languages": ["en", "fr"],
        "agenda": [
            {
                "starts_at": "2030-06-25T12:30:00-04:00",
                "title": "Opening",
                "speakers": [{"name": "Ana", "organisation": "UNOCT"}],
            }
        ],
        "documents": [{"kind": "concept_note", "title": "Concept note", "path": "concept.pdf"}],
    }


agenda_item_changes = st.dictionaries(
    st.sampled_from(
        ["starts_at", "ends_at", "title", "description", "speakers", "translations", "x"]
    ),
    json_values,
    max_size=3,
)
document_changes = st.dictionaries(
    st.sampled_from(["kind", "title", "language", "path", "x"]), json_values, max_size=3
)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "concept.pdf").write_bytes(simple_pdf("Concept note", ["Text."]))
    (tmp_path / "notes.txt").write_text("not a document")
    (tmp_path / "fake.pdf").write_bytes(b"MZ\x90\x00 a program renamed")
    return tmp_path


@FUZZ
# Found by this test, kept as regressions: a list as the slug; NUL characters, which
# PostgreSQL refuses mid-import (psycopg DataError) unless the import rejects them first.
@example(changes={"slug": []}, dropped=set(), agenda={}, document={})
@example(changes={"slug": "a\x00b"}, dropped=set(), agenda={}, document={})
@example(changes={"title": "a\x00b"}, dropped=set(), agenda={}, document={})
@example(changes={"translations": {"fr": {"title": "\x00"}}}, dropped=set(), agenda={}, document={})
@example(changes={}, dropped=set(), agenda={"title": "a\x00b"}, document={})
@example(changes={}, dropped=set(), agenda={"speakers": [{"name": "\x00"}]}, document={})
@given(
    # Each part is often left valid, so that examples get past the first check.
    changes=st.just({})
    | st.dictionaries(st.sampled_from([*KEYS, "unknown"]), json_values, max_size=4),
    dropped=st.just(set()) | st.sets(st.sampled_from(KEYS), max_size=2),
    agenda=st.just({}) | agenda_item_changes,
    document=st.just({}) | document_changes,
)
def test_any_json_imports_a_valid_event_or_is_refused_with_nothing_stored(
    db, folder, changes, dropped, agenda, document
):
    data = valid_event()
    data["agenda"][0].update(agenda)
    data["documents"][0].update(document)
    data = {k: v for k, v in data.items() if k not in dropped}
    data.update(changes)

    def run():
        try:
            event, created = import_event(data, base_dir=folder)
        except EventDataError as error:
            assert str(error)
            assert not Event.objects.exists()
            assert not AgendaItem.objects.exists()
            assert not Document.objects.exists()
            return
        assert created
        event.refresh_from_db()
        event.full_clean()
        for item in event.agenda_items.all():
            item.full_clean()
        for doc in event.documents.all():
            doc.full_clean()
            assert doc.content_type in {
                "application/pdf",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.oasis.opendocument.text",
            }

    in_rolled_back_savepoint(run)
