"""Which uploads count as a document: PDF, DOCX or ODT, judged by their bytes, not their name.

A renamed program (.exe called .pdf), an archive passing for a DOCX, or a file over the size
limit is refused with a message the organiser can act on.
"""

import struct
import zipfile
from pathlib import PurePath
from typing import NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
CONTENT_TYPES = {".pdf": PDF, ".docx": DOCX, ".odt": ODT}
# A document that unpacks to more than this many times its own size is an archive bomb, not a
# text (Word and OpenDocument XML compresses 5-20x). Judged from the sizes the archive declares
# in its central directory, before a byte of any member is unpacked.
MAX_UNPACK_RATIO = 100
# Small documents may unpack to this much whatever their ratio.
UNPACK_ALLOWANCE = 1024 * 1024
# Far more members than any real document has; more is a central directory built to exhaust
# memory when listed.
MAX_MEMBERS = 5000
# The most we read of any member (the ODT `mimetype` is 39 bytes).
MEMBER_READ_BYTES = 256

END_OF_CENTRAL_DIRECTORY = b"PK\x05\x06"


def max_upload_bytes() -> int:
    return settings.DOCUMENT_MAX_UPLOAD_MB * 1024 * 1024


def _looks_like_pdf(handle: File) -> bool:
    handle.seek(0)
    head = handle.read(1024)
    if b"%PDF-" not in head:
        return False
    handle.seek(0, 2)
    size = handle.tell()
    handle.seek(max(size - 2048, 0))
    return b"%%EOF" in handle.read()


def _member_count(handle: File, size: int) -> int | None:
    """The number of members the end-of-central-directory record declares (None: not a zip),
    read before zipfile lists them all."""
    tail = min(size, 22 + 65535)  # the record, then a comment of at most 64 KiB
    handle.seek(size - tail)
    data = handle.read(tail)
    at = data.rfind(END_OF_CENTRAL_DIRECTORY)
    if at < 0 or len(data) < at + 22:
        return None
    return struct.unpack("<H", data[at + 10 : at + 12])[0]


def _refuse_bomb(*, unpacked: int, size: int) -> NoReturn:
    raise ValidationError(
        _(
            "This file would unpack to %(unpacked)s from %(size)s: far more than a document "
            "does, so it is refused as a possible archive bomb. Save it again from your word "
            "processor and upload that."
        ),
        code="archive_bomb",
        params={"unpacked": filesizeformat(unpacked), "size": filesizeformat(size)},
    )


def _zip_members(handle: File) -> tuple[set[str], bytes] | None:
    """(member names, the first bytes of the ODT `mimetype` member) of a zip-based document, or
    None when it is not one. Raises ValidationError for an archive bomb.

    Only the central directory is trusted for sizes and checked first; then at most
    MEMBER_READ_BYTES of one member are unpacked (zipfile stops at the declared size even when
    the compressed data would inflate further).
    """
    handle.seek(0)
    if handle.read(4) != b"PK\x03\x04":
        return None
    handle.seek(0, 2)
    size = handle.tell()
    members = _member_count(handle, size)
    if members is None:
        return None
    if members == 0xFFFF or members > MAX_MEMBERS:  # 0xFFFF: ZIP64, which no document needs
        raise ValidationError(
            _(
                "This file holds %(count)s parts, far more than a document has, so it is "
                "refused as a possible archive bomb."
            ),
            code="archive_bomb",
            params={"count": members},
        )
    handle.seek(0)
    try:
        with zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
            unpacked = sum(info.file_size for info in infos)
            if unpacked > max(MAX_UNPACK_RATIO * size, UNPACK_ALLOWANCE):
                _refuse_bomb(unpacked=unpacked, size=size)
            mimetype = b""
            first = infos[0] if infos else None
            if first is not None and first.filename == "mimetype":
                if first.file_size > MEMBER_READ_BYTES:
                    _refuse_bomb(unpacked=unpacked, size=size)
                with archive.open(first) as member:
                    mimetype = member.read(MEMBER_READ_BYTES).strip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError):
        return None
    return {info.filename for info in infos}, mimetype


def _looks_like_docx(handle: File) -> bool:
    found = _zip_members(handle)
    if found is None:
        return False
    names, _mimetype = found
    return "[Content_Types].xml" in names and "word/document.xml" in names


def _looks_like_odt(handle: File) -> bool:
    found = _zip_members(handle)
    if found is None:
        return False
    names, mimetype = found
    return mimetype == ODT.encode() and "content.xml" in names


CHECKS = {PDF: _looks_like_pdf, DOCX: _looks_like_docx, ODT: _looks_like_odt}


def validate_document(file: File) -> str:
    """Return the content type of an uploaded document, or raise ValidationError.

    `file` is any Django File (an upload in the admin, a file on disk in import_event).
    """
    size = file.size
    if size > max_upload_bytes():
        raise ValidationError(
            _("The file is %(size)s; documents may be at most %(limit)s."),
            code="too_large",
            params={"size": filesizeformat(size), "limit": filesizeformat(max_upload_bytes())},
        )
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    extension = PurePath(file.name or "").suffix.lower()
    content_type = CONTENT_TYPES.get(extension)
    if content_type is None:
        raise ValidationError(
            _("Upload a PDF, Word (.docx) or OpenDocument (.odt) file."), code="extension"
        )
    was_closed = file.closed
    if was_closed:
        file.open("rb")
    try:
        position = file.tell()
        matches = CHECKS[content_type](file)
        file.seek(position)
    finally:
        if was_closed:
            file.close()
    if not matches:
        raise ValidationError(
            _(
                "This file is not a real %(kind)s document, whatever its name says. "
                "Upload a PDF, Word (.docx) or OpenDocument (.odt) file."
            ),
            code="content",
            params={"kind": extension.lstrip(".").upper()},
        )
    return content_type
