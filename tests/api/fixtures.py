"""fixtures.py - test documents generated at run time (no binary file is committed).

Each builder returns bytes.  The *_EXPECTED texts are what the server's extractor is
documented to produce for the matching fixture (the layout described at the top of
src/ingest/extract_*.c); tests compare a file document against a create-by-text
document holding that text, split with the same rule.
"""
import io
import os
import zipfile

# ---- text family -------------------------------------------------------------------

# French prose: Latin-1 detection needs some text; 'é' (U+00E9) is used as a custom
# separator, so a document decoded with the wrong charset does not split the same way.
FRENCH = ("Le café de la gare ouvre à sept heures é "
          "Les élèves répètent leur leçon près de la fenêtre é "
          "Un été très chaud a brûlé les prés du village é "
          "La société a présenté ses données à la réunion é "
          "Nous avons mangé une crème brûlée délicieuse")


def txt_utf8():
    return FRENCH.encode("utf-8")


def txt_utf8_bom():
    return b"\xef\xbb\xbf" + FRENCH.encode("utf-8")


def txt_utf16le_bom():
    return b"\xff\xfe" + FRENCH.encode("utf-16-le")


def txt_latin1():
    return FRENCH.encode("latin-1")


CRLF_EXPECTED = "first line\nsecond line\n\nthird paragraph line\nlast line"


def txt_crlf():
    return CRLF_EXPECTED.replace("\n", "\r\n").encode()


MD_SOURCE = """Preamble text before any heading.

# Alpha section
Alpha body line one.
Alpha body line two.
## Beta section
Beta body.
```python
# not a heading
x = 1
```
### Gamma <b>section</b>
Gamma <i>body</i> text.
"""
# sections joined with a blank line, '#' removed from headers, tags removed from
# bodies, code fences kept as body lines (extract_md.c)
MD_EXPECTED = ("Preamble text before any heading."
               "\n\nAlpha section\nAlpha body line one.\nAlpha body line two."
               "\n\nBeta section\nBeta body.\n```python\n# not a heading\nx = 1\n```"
               "\n\nGamma <b>section</b>\nGamma body text.")


def md():
    return MD_SOURCE.encode()


HTML_SOURCE = """<!DOCTYPE html>
<html>
<head>
  <title>Volcano notes</title>
  <style>body { color: red; } .secret { display: none; } /* style text must not be indexed */</style>
  <script>var secret = "this script text must never be indexed, not one word";</script>
</head>
<body>
  <h1>Mount Etna</h1>
  <p>Etna is an active   stratovolcano
     on the east coast of Sicily.</p>
  <p>It is <b>one</b> of the tallest active volcanoes in Europe.</p>
  <script>document.write("more script text that must be dropped as well");</script>
  <noscript>noscript text is dropped</noscript>
</body>
</html>
"""
HTML_EXPECTED = ("Volcano notes\n\nMount Etna\n\nEtna is an active stratovolcano on the east coast "
                 "of Sicily.\n\nIt is one of the tallest active volcanoes in Europe.")


def html():
    return HTML_SOURCE.encode()


CSV_SOURCE = ('name,notes,city\r\n'
              'Ada,"likes, commas",London\r\n'
              'Bob,"first line\nsecond line",Paris\r\n'
              'Cy,"she said ""hi""",Rome\r\n')
CSV_EXPECTED = ("name: Ada;notes: likes, commas;city: London"
                "\n\nname: Bob;notes: first line\nsecond line;city: Paris"
                '\n\nname: Cy;notes: she said "hi";city: Rome')


def csv():
    return CSV_SOURCE.encode()


JSON_SOURCE = ('{"title": "Volcanoes", "facts": ["hot", "tall"], '
               '"items": [{"name": "Etna", "height": 3357}, {"name": "Fuji", "active": true}]}')
JSON_EXPECTED = ("title: Volcanoes\nfacts: hot, tall\nitems[0].name: Etna\nitems[0].height: 3357"
                 "\nitems[1].name: Fuji\nitems[1].active: true")


def json_doc():
    return JSON_SOURCE.encode()


# ---- PDF -----------------------------------------------------------------------------

def _pdf(objects):
    """A PDF from object bodies (numbered 1..n, 1 is the catalog) with a correct xref."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
            .encode())
    return bytes(out)


def _stream(content):
    return b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"


PDF_LINES = ["Photosynthesis converts light energy", "into chemical energy in plants."]
PDF_EXPECTED = "\n".join(PDF_LINES)


def pdf_text():
    """One page, Helvetica, two lines of text."""
    content = b"BT /F1 18 Tf 72 720 Td (%s) Tj 0 -30 Td (%s) Tj ET" % (
        PDF_LINES[0].encode(), PDF_LINES[1].encode())
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def pdf_scanned():
    """One page that only paints shapes, as a scan without OCR: no text layer."""
    content = b"0.2 0.4 0.8 rg 72 72 468 648 re f 0 0 0 RG 4 w 100 100 m 500 700 l S"
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << >> >>",
        _stream(content),
    ])


# ---- OOXML ---------------------------------------------------------------------------

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DOCX_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
           '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
           'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
           '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
           'officedocument.wordprocessingml.document.main+xml"/></Types>')
DOCX_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
             '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
             'relationships/officeDocument" Target="word/document.xml"/></Relationships>')


def _para(text):
    return f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def _cell(text):
    return f"<w:tc><w:tcPr/>{_para(text)}</w:tc>"


def docx_document_xml():
    rows = [["Planet", "Moons"], ["Earth", "1"], ["Mars", "2"]]
    table = "<w:tbl><w:tblPr/>" + "".join(
        "<w:tr>" + "".join(_cell(c) for c in r) + "</w:tr>" for r in rows) + "</w:tbl>"
    body = (_para("The solar system has eight planets.") + _para("Two of them are listed below.")
            + table + _para("Data from the planetary fact sheet."))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<w:document xmlns:w="{W_NS}"><w:body>{body}<w:sectPr/></w:body></w:document>')


DOCX_EXPECTED = ("The solar system has eight planets.\nTwo of them are listed below.\n"
                 "| Planet | Moons |\n| --- | --- |\n| Earth | 1 |\n| Mars | 2 |\n"
                 "Data from the planetary fact sheet.")


def docx():
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", DOCX_CT)
        z.writestr("_rels/.rels", DOCX_RELS)
        z.writestr("word/document.xml", docx_document_xml())
    return b.getvalue()


S_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def xlsx():
    strings = ["name", "city", "Ada", "London", "Bob", "Paris"]
    sst = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{S_NS}" '
           f'count="{len(strings)}" uniqueCount="{len(strings)}">'
           + "".join(f"<si><t>{s}</t></si>" for s in strings) + "</sst>")

    def row(r, cells):
        return f'<row r="{r}">' + "".join(cells) + "</row>"

    def s(ref, i):
        return f'<c r="{ref}" t="s"><v>{i}</v></c>'

    def n(ref, v):
        return f'<c r="{ref}"><v>{v}</v></c>'

    sheet = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{S_NS}">'
             "<sheetData>"
             + row(1, [s("A1", 0), s("B1", 1), '<c r="C1" t="inlineStr"><is><t>age</t></is></c>'])
             + row(2, [s("A2", 2), s("B2", 3), n("C2", 36)])
             + row(3, [s("A3", 4), s("B3", 5), n("C3", 41)])
             + "</sheetData></worksheet>")
    workbook = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                f'<workbook xmlns="{S_NS}" xmlns:r="{R_NS}"><sheets>'
                '<sheet name="People" sheetId="1" r:id="rId1"/></sheets></workbook>')
    wb_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
               'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
               'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
               '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/'
               '2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
          'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>')
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", wb_rels)
        z.writestr("xl/sharedStrings.xml", sst)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return b.getvalue()


XLSX_EXPECTED = ('"name":"Ada";"city":"London";"age":"36"'
                 '\n\n"name":"Bob";"city":"Paris";"age":"41"')


# ---- bad files ---------------------------------------------------------------------


def random_bytes(n=4096, seed=7):
    """Deterministic noise without a %PDF- header or a zip signature."""
    import random
    r = random.Random(seed)
    b = bytes(r.getrandbits(8) for _ in range(n))
    return b.replace(b"%PDF", b"%PDx").replace(b"PK", b"Pk")


def zip_bomb_docx(path, megabytes=300):
    """Writes to path a .docx whose word/document.xml is `megabytes` MB of spaces (plus
    a little XML), deflated while streamed, so that memory stays small.  Returns the
    file size."""
    chunk = b" " * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", DOCX_CT)
        z.writestr("_rels/.rels", DOCX_RELS)
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0"?><w:document xmlns:w="{W_NS}"><w:body>'.encode())
            for _ in range(megabytes):
                f.write(chunk)
            f.write(b"<w:p><w:r><w:t>bomb</w:t></w:r></w:p></w:body></w:document>")
    return os.path.getsize(path)


