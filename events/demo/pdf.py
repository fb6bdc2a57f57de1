"""A very small PDF writer for the demo documents: A4 pages of wrapped Helvetica text.

Enough to produce real, valid PDF files (any reader opens them) without a PDF library.
Text must be Latin-1; headings are lines starting with "# ".
"""

import textwrap

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 56
BODY_SIZE, HEADING_SIZE, TITLE_SIZE = 11, 13, 16
LINE_GAP = 1.45
WRAP = 88  # characters per line of 11 pt Helvetica within the margins


def _escape(text):
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _lines(title, paragraphs):
    """(font, size, text) per printed line, with blank lines as spacing."""
    yield ("F2", TITLE_SIZE, title)
    yield ("F1", BODY_SIZE, "")
    for paragraph in paragraphs:
        if paragraph.startswith("# "):
            yield ("F1", BODY_SIZE, "")
            yield ("F2", HEADING_SIZE, paragraph[2:])
            continue
        for line in textwrap.wrap(paragraph, WRAP) or [""]:
            yield ("F1", BODY_SIZE, line)
        yield ("F1", BODY_SIZE, "")


def _pages(title, paragraphs):
    pages, current, y = [], [], PAGE_HEIGHT - MARGIN
    for font, size, text in _lines(title, paragraphs):
        step = size * LINE_GAP
        if y - step < MARGIN:
            pages.append(current)
            current, y = [], PAGE_HEIGHT - MARGIN
        y -= step
        if text:
            current.append(f"BT /{font} {size} Tf {MARGIN} {y:.1f} Td ({_escape(text)}) Tj ET")
    pages.append(current)
    return pages


def simple_pdf(title, paragraphs):
    """PDF bytes: `title` in bold, then the paragraphs wrapped to the page width."""
    pages = _pages(title, paragraphs)
    objects = []  # object number n is objects[n - 1]

    def add(body):
        objects.append(body)
        return len(objects)

    catalog = add(None)
    pages_id = add(None)
    regular = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    bold = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    )
    info = add(b"<< /Title (" + _escape(title).encode("latin-1") + b") /Producer (Convene) >>")
    page_ids = []
    for lines in pages:
        stream = "\n".join(lines).encode("latin-1")
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_ids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] "
                b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_id, PAGE_WIDTH, PAGE_HEIGHT, regular, bold, content)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
    kids = b" ".join(b"%d 0 R" % page for page in page_ids)
    objects[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\n" % (
        len(objects) + 1,
        catalog,
        info,
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
