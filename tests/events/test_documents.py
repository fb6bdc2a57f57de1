import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from events.demo.pdf import simple_pdf
from events.documents import DOCX, ODT, PDF, validate_document
from events.models import Document
from tests.events.conftest import admin_post_data

pytestmark = pytest.mark.django_db

# The first bytes of a Windows program: "MZ", the DOS stub, then the PE header.
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + (b"This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 200 + b"PE\x00\x00")
)


def zip_bytes(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def docx_bytes():
    return zip_bytes(
        [
            ("[Content_Types].xml", "<Types/>"),
            ("_rels/.rels", "<Relationships/>"),
            ("word/document.xml", "<w:document/>"),
        ]
    )


def odt_bytes():
    return zip_bytes(
        [
            ("mimetype", ODT),
            ("content.xml", "<office:document-content/>"),
            ("META-INF/manifest.xml", "<m/>"),
        ]
    )


def upload(name, data):
    return SimpleUploadedFile(name, data)


def test_real_pdf_docx_and_odt_are_accepted():
    assert validate_document(upload("note.pdf", simple_pdf("Note", ["Hello."]))) == PDF
    assert validate_document(upload("note.docx", docx_bytes())) == DOCX
    assert validate_document(upload("note.odt", odt_bytes())) == ODT


@pytest.mark.parametrize("name", ["concept-note.pdf", "concept-note.docx", "concept-note.odt"])
def test_renamed_program_is_refused(name):
    with pytest.raises(ValidationError) as error:
        validate_document(upload(name, EXE))
    assert "not a real" in str(error.value)


def test_zip_that_is_not_a_word_document_is_refused():
    with pytest.raises(ValidationError):
        validate_document(upload("agenda.docx", zip_bytes([("payload.bin", b"x" * 100)])))


def test_other_extensions_are_refused_even_with_pdf_content():
    with pytest.raises(ValidationError) as error:
        validate_document(upload("agenda.html", simple_pdf("x", ["y"])))
    assert "PDF, Word (.docx) or OpenDocument (.odt)" in str(error.value)


def test_oversize_document_is_refused(settings):
    settings.DOCUMENT_MAX_UPLOAD_MB = 1
    big = simple_pdf("Big", ["z" * 80] * 10) + b"%" * (2 * 1024 * 1024)
    with pytest.raises(ValidationError) as error:
        validate_document(upload("big.pdf", big))
    message = error.value.messages[0].replace("\xa0", " ")
    assert message == "The file is 2.0 MB; documents may be at most 1.0 MB."


def test_document_records_type_and_size_and_downloads(client, event):
    data = simple_pdf("Concept note", ["Text of the note."])
    document = Document(event=event, title="Concept note", file=upload("note.pdf", data))
    document.full_clean()
    document.save()
    assert (document.content_type, document.size) == (PDF, len(data))
    response = client.get(f"/en/events/{event.slug}/documents/{document.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == PDF
    assert b"".join(response.streaming_content) == data
    assert "concept-note.pdf" in response["Content-Disposition"]


def test_admin_upload_of_renamed_exe_shows_a_form_error(admin_client, event):
    data = admin_post_data(event)
    data.update(
        {
            "documents-TOTAL_FORMS": "1",
            "documents-0-kind": "concept_note",
            "documents-0-title": "Concept note",
            "documents-0-language": "en",
            "documents-0-position": "0",
            "documents-0-file": upload("concept-note.pdf", EXE),
        }
    )
    response = admin_client.post(f"/en/admin/events/event/{event.pk}/change/", data)
    assert response.status_code == 200  # the form again, with the error
    assert "not a real PDF document" in response.content.decode()
    assert not event.documents.exists()


def test_admin_upload_of_a_real_pdf_is_kept(admin_client, event):
    data = admin_post_data(event)
    pdf = simple_pdf("Concept note", ["Text."])
    data.update(
        {
            "documents-TOTAL_FORMS": "1",
            "documents-0-kind": "concept_note",
            "documents-0-title": "Concept note",
            "documents-0-language": "fr",
            "documents-0-position": "0",
            "documents-0-file": upload("note.pdf", pdf),
        }
    )
    response = admin_client.post(f"/en/admin/events/event/{event.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    document = event.documents.get()
    assert (document.content_type, document.size, document.language) == (PDF, len(pdf), "fr")
