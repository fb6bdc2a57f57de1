"""Archive bombs passing for documents: refused from the sizes the zip's central directory
declares, before anything is unpacked, with memory bounded whatever the archive claims."""

import tracemalloc
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files import File

from events.documents import ODT, validate_document

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


def write_bomb(path, *, member, head=b"", unpacked_mib, others=()):
    """A real zip whose `member` unpacks to `unpacked_mib` MiB of spaces after `head`,
    written chunk by chunk (deflate squeezes a MiB of spaces into about a KiB)."""
    chunk = b" " * MIB
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(member)
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as handle:
            handle.write(head)
            for _ in range(unpacked_mib):
                handle.write(chunk)
        for name, data in others:
            archive.writestr(name, data)
    return path


def validate_with_peak(path):
    """validate_document on a file on disk; (the error, peak bytes allocated meanwhile)."""
    tracemalloc.start()
    try:
        with path.open("rb") as handle, pytest.raises(ValidationError) as error:
            validate_document(File(handle, name=path.name))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return error.value, peak


def test_odt_whose_mimetype_member_is_hundreds_of_mib_of_spaces_is_refused_unread(tmp_path):
    # The attack from the field: the `mimetype` member is the right text followed by spaces,
    # which a check that reads the member and strips it would accept.
    path = write_bomb(
        tmp_path / "agenda.odt",
        member="mimetype",
        head=ODT.encode(),
        unpacked_mib=300,
        others=[("content.xml", "<office:document-content/>")],
    )
    assert path.stat().st_size < 2 * MIB

    error, peak = validate_with_peak(path)

    assert error.code == "archive_bomb"
    message = " ".join(error.messages)
    assert "would unpack to 300.0\xa0MB" in message
    assert "refused as a possible archive bomb" in message
    # Nothing was unpacked: a few hundred KiB for the central directory and the checks,
    # where reading the member would have taken 300 MiB.
    assert peak < 2 * MIB


def test_docx_unpacking_to_far_more_than_its_size_is_refused(tmp_path):
    path = write_bomb(
        tmp_path / "note.docx",
        member="word/document.xml",
        head=b"<w:document>",
        unpacked_mib=60,
        others=[("[Content_Types].xml", "<Types/>")],
    )
    error, peak = validate_with_peak(path)
    assert error.code == "archive_bomb"
    assert peak < 2 * MIB


def test_odt_with_an_oversized_mimetype_member_is_refused_even_at_a_modest_ratio(tmp_path):
    # Stored, not compressed: the ratio is 1, but no real `mimetype` is more than 39 bytes, and
    # reading 2 MiB of it would be reading what a bomb hides.
    path = tmp_path / "note.odt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", ODT + " " * (2 * MIB))
        archive.writestr("content.xml", "<office:document-content/>")
    error, peak = validate_with_peak(path)
    assert error.code == "archive_bomb"
    assert peak < MIB


def test_archive_of_thousands_of_members_is_refused_before_they_are_listed(tmp_path):
    path = tmp_path / "note.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        for number in range(6000):
            archive.writestr(f"p/{number}", b"")
    error, _peak = validate_with_peak(path)
    assert error.code == "archive_bomb"
    assert "6002 parts" in " ".join(error.messages)


def test_a_real_odt_with_a_well_compressed_body_is_still_accepted(tmp_path):
    # 20x is what long XML typically gets: far under the limit.
    path = tmp_path / "note.odt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", ODT, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<text:p>Agenda item</text:p>" * 20000)
    with path.open("rb") as handle:
        assert validate_document(File(handle, name=path.name)) == ODT
