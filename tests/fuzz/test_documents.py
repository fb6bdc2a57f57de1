"""Uploaded documents under arbitrary bytes and names: accepted as PDF, DOCX or ODT, or
refused with a ValidationError the admin shows as a form error. Never another exception
(a corrupt archive, a truncated PDF and random bytes are input, not bugs)."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given
from hypothesis import strategies as st

from events.documents import CONTENT_TYPES, validate_document
from tests.fuzz.conftest import FUZZ

# The fuzzer builds archives with repeated member names on purpose (a malformed upload).
pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")


def zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


names = st.sampled_from(
    [
        "concept.pdf",
        "agenda.docx",
        "note.odt",
        "CONCEPT.PDF",
        "x.exe",
        "noext",
        ".pdf",
        "a.pdf.exe",
        "report.docx ",
        "ünïcode.odt",
        "../../x.pdf",
    ]
)
contents = st.one_of(
    st.binary(max_size=4096),
    st.binary(max_size=2048).map(lambda b: b"%PDF-1.7\n" + b),
    st.binary(max_size=2048).map(lambda b: b"%PDF-1.4\n" + b + b"\n%%EOF\n"),
    st.binary(max_size=2048).map(lambda b: b"PK\x03\x04" + b),
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "mimetype",
                    "word/document.xml",
                    "[Content_Types].xml",
                    "content.xml",
                    "META-INF/manifest.xml",
                    "x",
                ]
            ),
            st.binary(max_size=256),
        ),
        max_size=4,
    ).map(zip_bytes),
)


@FUZZ
@given(name=names, content=contents)
def test_any_upload_is_accepted_as_a_document_type_or_refused_cleanly(name, content):
    upload = SimpleUploadedFile(name, content)
    try:
        content_type = validate_document(upload)
    except ValidationError as error:
        assert error.messages
        return
    assert content_type in CONTENT_TYPES.values()
    assert content
