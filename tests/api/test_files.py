"""Files: every supported type end to end (upload, extraction, splitting, indexing,
download of the original bytes), and bad files, each refused at upload with a 4xx or
ending in `error` with a reason a person can act on, while the server keeps serving.

Extraction is observed through the API: a file document must split into the same
number of segments, with the same document word_count, as a create-by-text document
holding the text the extractor is documented to produce (fixtures.py), under the same
custom rule; a rule whose separator only occurs in the right decoding (for the
encodings, 'é') makes a wrong charset visible."""
import os
import tempfile
import threading
import time
import uuid

import fixtures
from harness import check, eq, expect_error

SERVER_ENV = {"RAGD_MAX_UPLOAD": "100M", "RAGD_INDEX_BATCH": "4"}

MIME = {
    "txt": "text/plain", "md": "text/markdown", "html": "text/html", "pdf": "application/pdf",
    "csv": "text/csv", "json": "application/json",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_state = {}


def rule(sep, max_tokens=1000):
    return {"mode": "custom", "rules": {"pre_processing_rules": [],
                                       "segmentation": {"separator": sep, "max_tokens": max_tokens,
                                                        "chunk_overlap": 0}}}


def dataset(srv):
    if "ds" not in _state:
        _state["ds"] = srv.create_dataset("files-" + uuid.uuid4().hex[:8])["id"]
    return _state["ds"]


def fetch_original(srv, ds, doc_id):
    """GET .../download, then the URL it names (with the key); returns (status, bytes,
    headers) of the file."""
    st, _, js, raw = srv.call("GET", f"/v1/datasets/{ds}/documents/{doc_id}/download")
    if not eq(st, 200, f"download of {doc_id}: HTTP status ({raw[:200]!r})"):
        return None, b"", {}
    url = (js or {}).get("url")
    if not check(isinstance(url, str) and url, f"download answered no url: {raw[:200]!r}"):
        return None, b"", {}
    if url.startswith("http"):
        url = "/" + url.split("/", 3)[3]
    st, hdrs, _, body = srv.call("GET", url, timeout=30)
    return st, body, hdrs


def roundtrip(srv, filename, content, expected_text, sep, segments=None):
    """Uploads content as filename and expected_text by text, both split on sep, and
    checks the file document against the text one; returns the file document's final
    status item."""
    ds = dataset(srv)
    r = rule(sep)
    doc, batch = srv.create_file(ds, filename, content,
                                 data={"indexing_technique": "economy", "process_rule": r})
    ext = filename.rsplit(".", 1)[1]
    up = (doc.get("data_source_detail_dict") or {}).get("upload_file") or {}
    eq(doc.get("name"), filename, f"{filename}: document name")
    eq(up.get("size"), len(content), f"{filename}: upload_file.size")
    eq(up.get("extension"), ext, f"{filename}: upload_file.extension")
    eq(up.get("mime_type"), MIME[ext], f"{filename}: upload_file.mime_type")
    ref, rbatch = srv.create_text(ds, "ref-" + filename, expected_text, process_rule=r)
    item = srv.wait_indexed(ds, batch)[0]
    ritem = srv.wait_indexed(ds, rbatch)[0]
    eq(ritem.get("indexing_status"), "completed", f"{filename}: reference text document status "
       f"(error {ritem.get('error')!r})")
    if not eq(item.get("indexing_status"), "completed",
              f"{filename}: indexing status (error {item.get('error')!r})"):
        return item
    check(item["total_segments"] > 0, f"{filename}: total_segments > 0: {item}")
    eq(item["completed_segments"], item["total_segments"], f"{filename}: completed_segments")
    eq(item["total_segments"], ritem["total_segments"],
       f"{filename}: segments, against the text the extractor should produce {expected_text!r}")
    if segments is not None:
        eq(item["total_segments"], segments, f"{filename}: segments split on {sep!r}")
    det = srv.document(ds, doc["id"])
    eq(det.get("segment_count"), item["total_segments"], f"{filename}: detail segment_count")
    eq(det.get("display_status"), "available", f"{filename}: display_status")
    mine, theirs = srv.list_item(ds, doc["id"]), srv.list_item(ds, ref["id"])
    check(isinstance(mine.get("word_count"), int) and mine["word_count"] > 0,
          f"{filename}: word_count {mine.get('word_count')!r}")
    eq(mine.get("word_count"), theirs.get("word_count"),
       f"{filename}: word_count, against the text the extractor should produce {expected_text!r}")
    st, body, hdrs = fetch_original(srv, ds, doc["id"])
    eq(st, 200, f"{filename}: file URL status")
    check(body == content, f"{filename}: the file URL does not return the original bytes "
          f"({len(body)} bytes, expected {len(content)}): {body[:80]!r}")
    cd = hdrs.get("Content-Disposition") or ""
    check("attachment" in cd, f"{filename}: Content-Disposition {cd!r}")
    return item


# ---- each type, end to end -------------------------------------------------------------



def test_txt_utf8(srv):
    roundtrip(srv, "utf8.txt", fixtures.txt_utf8(), fixtures.FRENCH, "é")


def test_txt_utf8_bom(srv):
    roundtrip(srv, "utf8-bom.txt", fixtures.txt_utf8_bom(), fixtures.FRENCH, "é")


def test_txt_utf16le_bom(srv):
    roundtrip(srv, "utf16.txt", fixtures.txt_utf16le_bom(), fixtures.FRENCH, "é")


def test_txt_latin1(srv):
    roundtrip(srv, "latin1.txt", fixtures.txt_latin1(), fixtures.FRENCH, "é")


def test_txt_crlf(srv):
    # "\r\n" must become "\n": only then does the text hold "\n\n" to split on
    roundtrip(srv, "crlf.txt", fixtures.txt_crlf(), fixtures.CRLF_EXPECTED, "\\n\\n", segments=2)


def test_md_headings_and_fences(srv):
    # four sections; '# not a heading' inside the code fence starts none
    roundtrip(srv, "notes.md", fixtures.md(), fixtures.MD_EXPECTED, "\\n\\n", segments=4)


def test_html_script_and_style_dropped(srv):
    roundtrip(srv, "page.html", fixtures.html(), fixtures.HTML_EXPECTED, "\\n\\n", segments=4)


def test_pdf_text_layer(srv):
    roundtrip(srv, "paper.pdf", fixtures.pdf_text(), fixtures.PDF_EXPECTED, "\\n", segments=2)


def test_docx_paragraphs_and_table(srv):
    # 3 paragraphs and a table of 3 rows rendered as 4 Markdown lines: 7 lines
    roundtrip(srv, "planets.docx", fixtures.docx(), fixtures.DOCX_EXPECTED, "\\n", segments=7)


def test_csv_quoted_fields(srv):
    # three data rows; the quoted newline stays inside its row
    roundtrip(srv, "people.csv", fixtures.csv(), fixtures.CSV_EXPECTED, "\\n\\n", segments=3)


def test_xlsx_shared_strings(srv):
    roundtrip(srv, "people.xlsx", fixtures.xlsx(), fixtures.XLSX_EXPECTED, "\\n\\n", segments=2)


def test_json_paths(srv):
    roundtrip(srv, "volcanoes.json", fixtures.json_doc(), fixtures.JSON_EXPECTED, "\\n",
              segments=6)


def test_download_unknown_document(srv):
    ds = dataset(srv)
    for tail in ("download", "file"):
        expect_error(srv.call("GET", f"/v1/datasets/{ds}/documents/{uuid.uuid4()}/{tail}"),
                     404, "not_found", f"{tail} of an unknown document")


# ---- bad files ------------------------------------------------------------------------------

def healthy(srv, what):
    st = srv.call("GET", "/healthz", key=None)[0]
    check(st == 200 and srv.alive(), f"after {what}: /healthz answered {st}")


def upload_error(srv, filename, content, what, *reason_words):
    """Uploads a bad file: a 4xx at once, or a document that ends in error with a
    reason containing every word of reason_words (case-insensitive).  Returns the
    status item or the response."""
    ds = dataset(srv)
    r = srv.upload(f"/v1/datasets/{ds}/document/create-by-file",
                   files=[("file", filename, content)],
                   data={"indexing_technique": "economy", "process_rule": {"mode": "automatic"}})
    st, _, js, raw = r
    if 400 <= st < 500:
        msg = (js or {}).get("message", "")
        check(all(w.lower() in msg.lower() for w in reason_words),
              f"{what}: refused with {st} but the message {msg!r} does not say {reason_words}")
        healthy(srv, what)
        return r
    if not eq(st, 200, f"{what}: upload status ({raw[:200]!r})"):
        return r
    item = srv.wait_indexed(ds, js["batch"])[0]
    eq(item.get("indexing_status"), "error", f"{what}: final status")
    err = item.get("error") or ""
    check(all(w.lower() in err.lower() for w in reason_words),
          f"{what}: error {err!r} does not say {reason_words}")
    check(isinstance(item.get("stopped_at"), int), f"{what}: stopped_at not set: {item}")
    d = srv.document(ds, js["document"]["id"])
    eq(d.get("display_status"), "error", f"{what}: display_status")
    eq(d.get("error"), item.get("error"), f"{what}: document error")
    healthy(srv, what)
    return item


def test_empty_file(srv):
    upload_error(srv, "empty.txt", b"", "an empty file", "empty")


def test_random_bytes_named_pdf(srv):
    upload_error(srv, "noise.pdf", fixtures.random_bytes(), "random bytes named .pdf",
                 "not a valid PDF")


def test_docx_not_a_zip(srv):
    item = upload_error(srv, "letter.docx", b"This is plain text, not a Word file.\n" * 20,
                        "a .docx that is not a zip", "not a valid DOCX")
    if isinstance(item, dict):
        check("not a zip" in (item.get("error") or ""), f"docx not a zip: {item.get('error')!r}")


def test_scanned_pdf_without_text(srv):
    item = upload_error(srv, "scan.pdf", fixtures.pdf_scanned(), "a PDF without a text layer")
    if isinstance(item, dict):
        eq(item.get("error"), "PDF has no text layer (scanned image?)", "scanned PDF: reason")


def test_zip_bomb_docx(srv):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bomb.docx")
        size = fixtures.zip_bomb_docx(path, 300)
        with open(path, "rb") as f:
            content = f.read()
    check(size < 8 << 20, f"the bomb should be small on the wire, is {size} bytes")
    t0 = time.time()
    item = upload_error(srv, "bomb.docx", content, "a zip bomb (300 MB of spaces)", "limit")
    if isinstance(item, dict):
        check("zip bomb" in (item.get("error") or "") or "expands" in (item.get("error") or ""),
              f"zip bomb reason: {item.get('error')!r}")
    check(time.time() - t0 < 20, f"the zip bomb took {time.time() - t0:.1f} s to refuse")


def test_oversized_upload_refused_unread(srv):
    """200 MB declared with RAGD_MAX_UPLOAD=100M: 413 file_too_large before the body is
    read; the client is still sending when the answer arrives."""
    ds = dataset(srv)
    total = 200 << 20
    boundary = "ragdbig" + uuid.uuid4().hex
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
            f"Content-Type: text/plain\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    body_len = total
    req = (f"POST /v1/datasets/{ds}/document/create-by-file HTTP/1.1\r\n"
           f"Host: 127.0.0.1\r\nAuthorization: Bearer {srv.key}\r\n"
           f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
           f"Content-Length: {body_len}\r\n\r\n").encode()

    def body():
        yield head
        left = body_len - len(head) - len(tail)
        chunk = b"x" * (1 << 20)
        while left > 0:
            n = min(left, len(chunk))
            yield chunk[:n]
            left -= n
        yield tail

    s = srv.raw_socket(timeout=15)
    sent = [0]
    stop = threading.Event()

    def sender():
        try:
            s.sendall(req)
            for part in body():
                if stop.is_set():
                    return
                s.sendall(part)
                sent[0] += len(part)
        except OSError:
            pass

    t = threading.Thread(target=sender, daemon=True)
    t0 = time.time()
    t.start()
    resp = b""
    try:
        while True:  # the head, then Content-Length bytes of body, or the end
            got = s.recv(65536)
            if not got:
                break
            resp += got
            head, sep, rest = resp.partition(b"\r\n\r\n")
            if sep:
                cl = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n")[1:]
                      if l.lower().startswith(b"content-length:")]
                if cl and len(rest) >= int(cl[0]):
                    break
    except OSError as e:
        check(False, f"oversized upload: no answer ({e!r}) after {sent[0]} bytes")
    finally:
        stop.set()
    elapsed = time.time() - t0
    s.close()
    t.join(5)
    status = resp.split(b"\r\n", 1)[0]
    check(b" 413 " in status + b" ", f"oversized upload: status line {status!r}")
    check(b'"file_too_large"' in resp, f"oversized upload: body {resp[-300:]!r}")
    check(sent[0] < 150 << 20, f"oversized upload: the server read {sent[0]} bytes first")
    check(elapsed < 10, f"oversized upload: answered after {elapsed:.1f} s")
    healthy(srv, "an oversized upload")


def test_unsupported_extension(srv):
    ds = dataset(srv)
    expect_error(srv.upload(f"/v1/datasets/{ds}/document/create-by-file",
                            files=[("file", "setup.exe", b"MZ\x90\x00" + b"\x00" * 60)],
                            data={"indexing_technique": "economy"}),
                 415, "unsupported_file_type", ".exe upload", lambda m: ".exe" in m)


def test_no_file_part(srv):
    ds = dataset(srv)
    expect_error(srv.upload(f"/v1/datasets/{ds}/document/create-by-file",
                            data={"indexing_technique": "economy"}),
                 400, "no_file_uploaded", "upload without a file part")


def test_two_file_parts(srv):
    ds = dataset(srv)
    expect_error(srv.upload(f"/v1/datasets/{ds}/document/create-by-file",
                            files=[("file", "a.txt", b"first file"), ("file", "b.txt", b"second")],
                            data={"indexing_technique": "economy"}),
                 400, "too_many_files", "two file parts with different names")


def test_two_file_parts_same_name(srv):
    ds = dataset(srv)
    before = srv.dataset(ds)["document_count"]
    r = srv.upload(f"/v1/datasets/{ds}/document/create-by-file",
                   files=[("file", "same.txt", b"first part"),
                          ("file", "same.txt", b"second part")],
                   data={"indexing_technique": "economy"})
    if not expect_error(r, 400, "too_many_files",
                        "two file parts with the same field and file name") and r[0] == 200:
        _, stored, _ = fetch_original(srv, ds, r[2]["document"]["id"])
        check(False, f"two file parts with the same name were stored as one file: {stored!r}")
    eq(srv.dataset(ds)["document_count"], before, "two file parts: no document created")


def test_empty_filename(srv):
    ds = dataset(srv)
    expect_error(srv.upload(f"/v1/datasets/{ds}/document/create-by-file",
                            files=[("file", "", b"some text")],
                            data={"indexing_technique": "economy"}),
                 400, "filename_not_exists_error", "upload with an empty filename")


def test_filename_with_slash(srv):
    ds = dataset(srv)
    for name in ("dir/evil.txt", "..\\evil.txt"):
        expect_error(srv.upload(f"/v1/datasets/{ds}/document/create-by-file",
                                files=[("file", name, b"some text")],
                                data={"indexing_technique": "economy"}),
                     400, "invalid_param", f"filename {name!r}",
                     "Filename contains invalid characters")


def test_data_part_not_json(srv):
    ds = dataset(srv)
    expect_error(srv.upload(f"/v1/datasets/{ds}/document/create-by-file",
                            files=[("file", "a.txt", b"some text")], data="{not json"),
                 400, "invalid_param", "a data part that is not JSON")
    expect_error(srv.upload(f"/v1/datasets/{ds}/document/create-by-file",
                            files=[("file", "a.txt", b"some text")], data="[1, 2]"),
                 400, "invalid_param", "a data part that is a JSON array")


def test_bad_file_does_not_block_the_queue(srv):
    ds = dataset(srv)
    data = {"indexing_technique": "economy", "process_rule": {"mode": "automatic"}}
    bad, bbatch = srv.create_file(ds, "broken.pdf", fixtures.random_bytes(2048, seed=3), data=data)
    bad2, b2batch = srv.create_file(ds, "broken.docx", b"not a zip at all", data=data)
    good, gbatch = srv.create_file(ds, "good.txt", b"A good document about rivers and lakes.",
                                   data=data)
    g = srv.wait_indexed(ds, gbatch, timeout=20)[0]
    eq(g.get("indexing_status"), "completed", f"the good file after two bad ones ({g})")
    for b in (bbatch, b2batch):
        eq(srv.wait_indexed(ds, b)[0].get("indexing_status"), "error", "a bad file's status")
    healthy(srv, "bad and good files together")
