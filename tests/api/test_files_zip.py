"""Files outside one document: POST .../documents/download-zip (the original uploads of
several documents in one archive, names de-duplicated and never a path, 404/400 cases),
POST /datasets/pipeline/file-upload (201 UploadFile object, Dify's upload errors), and
the three RAG-pipeline operations ragd does not run (a documented 400 invalid_param in
Dify's envelope, 404 for an unknown dataset)."""
import io
import re
import uuid
import zipfile

from harness import check, eq, expect_error

SERVER_ENV = {"RAGD_MAX_UPLOAD": "1M"}
_state = {}


def dataset(srv):
    if "ds" not in _state:
        _state["ds"] = srv.create_dataset("zip-" + uuid.uuid4().hex[:8],
                                        indexing_technique="economy")["id"]
    return _state["ds"]


def docs(srv):
    """Three file documents, two of them named alike, and one text document whose name
    holds path separators; returns [(id, bytes)]."""
    if "docs" not in _state:
        ds = dataset(srv)
        out = []
        for name, content in (("notes.txt", b"first notes\n"), ("notes.txt", b"second notes\n"),
                              ("readme.md", b"# readme\n\nbody\n")):
            d, _ = srv.create_file(ds, name, content)
            out.append((d["id"], content))
        d, _ = srv.create_text(ds, "../etc\\passwd/x", "text document body")
        out.append((d["id"], b"text document body"))
        _state["docs"] = out
    return _state["docs"]


def zip_call(srv, ds, ids):
    return srv.call("POST", f"/v1/datasets/{ds}/documents/download-zip",
                    body={"document_ids": ids}, timeout=30)


def test_zip_holds_each_original_under_a_unique_plain_name(srv):
    ds, ds_docs = dataset(srv), docs(srv)
    st, hdrs, _, raw = zip_call(srv, ds, [i for i, _ in ds_docs])
    if not eq(st, 200, f"download-zip: status ({raw[:200]!r})"):
        return
    eq((hdrs.get("Content-Type") or "").split(";")[0], "application/zip", "Content-Type")
    disp = hdrs.get("Content-Disposition") or ""
    check(re.fullmatch(r'attachment; filename="[0-9a-f]{32}\.zip"', disp),
          f"Content-Disposition {disp!r}")
    zf = zipfile.ZipFile(io.BytesIO(raw))
    names = zf.namelist()
    eq(len(names), 4, f"entries {names}")
    eq(len(set(names)), len(names), f"entry names are unique: {names}")
    for n in names:
        check("/" not in n and "\\" not in n and n not in (".", ".."), f"entry {n!r} is a path")
    check("notes.txt" in names and "notes (2).txt" in names, f"de-duplicated names: {names}")
    check("readme.md" in names, f"names: {names}")
    eq(zf.read("notes.txt"), ds_docs[0][1], "bytes of notes.txt")
    eq(zf.read("notes (2).txt"), ds_docs[1][1], "bytes of notes (2).txt")
    eq(zf.read("readme.md"), ds_docs[2][1], "bytes of readme.md")
    other = [n for n in names if n not in ("notes.txt", "notes (2).txt", "readme.md")]
    if eq(len(other), 1, f"the text document's entry among {names}"):
        eq(zf.read(other[0]), ds_docs[3][1], f"bytes of {other[0]!r}")
    eq(zf.testzip(), None, "CRC of every entry")


def test_zip_of_one_document_and_a_repeated_id(srv):
    ds, ds_docs = dataset(srv), docs(srv)
    st, _, _, raw = zip_call(srv, ds, [ds_docs[2][0].upper(), ds_docs[2][0]])
    if not eq(st, 200, f"download-zip: status ({raw[:200]!r})"):
        return
    zf = zipfile.ZipFile(io.BytesIO(raw))
    eq(sorted(zf.namelist()), ["readme (2).md", "readme.md"], "entries")


def test_zip_errors(srv):
    ds, ds_docs = dataset(srv), docs(srv)
    expect_error(zip_call(srv, ds, [ds_docs[0][0], str(uuid.uuid4())]), 404, "not_found",
                 "an unknown document", message="Document not found.")
    expect_error(zip_call(srv, ds, []), 400, "invalid_param", "no document ids")
    expect_error(zip_call(srv, ds, [str(uuid.uuid4()) for _ in range(101)]), 400,
                 "invalid_param", "101 document ids")
    expect_error(zip_call(srv, ds, ["not-a-uuid"]), 400, "invalid_param", "a bad id")
    expect_error(srv.call("POST", f"/v1/datasets/{ds}/documents/download-zip", body={}), 400,
                 "invalid_param", "no document_ids")
    expect_error(zip_call(srv, str(uuid.uuid4()), [ds_docs[0][0]]), 404, "not_found",
                 "an unknown dataset", message="Dataset not found.")
    other = srv.create_dataset("zip-other-" + uuid.uuid4().hex[:8])["id"]
    expect_error(zip_call(srv, other, [ds_docs[0][0]]), 404, "not_found",
                 "a document of another dataset", message="Document not found.")
    expect_error(srv.call("POST", f"/v1/datasets/{ds}/documents/download-zip",
                          body={"document_ids": [ds_docs[0][0]]}, key=None),
                 401, "unauthorized", "no key")


# ---- pipeline file upload ------------------------------------------------------------

UPLOAD = "/v1/datasets/pipeline/file-upload"


def test_pipeline_file_upload_201(srv):
    content = b"pipeline file\n" * 10
    st, _, js, raw = srv.upload(UPLOAD, files=[("file", "Report.MD", content, "text/markdown")])
    if not eq(st, 201, f"file-upload: status ({raw[:200]!r})"):
        return
    check(isinstance(js, dict), f"body {raw[:200]!r}")
    js = js or {}
    for k in ("id", "name", "size", "extension", "mime_type", "created_by", "created_at"):
        check(k in js, f"file-upload: no {k!r} in {js}")
    check(isinstance(js.get("id"), str) and re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", js["id"]),
        f"id {js.get('id')!r}")
    eq(js.get("name"), "Report.MD", "name")
    eq(js.get("size"), len(content), "size")
    eq(js.get("extension"), "md", "extension")
    eq(js.get("mime_type"), "text/markdown", "mime_type")
    check(isinstance(js.get("created_by"), str) and js["created_by"], "created_by")
    check(isinstance(js.get("created_at"), str)
          and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", js["created_at"]),
          f"created_at (ISO 8601) {js.get('created_at')!r}")
    st2, _, js2, _ = srv.upload(UPLOAD, files=[("file", "Report.MD", content)])
    eq(st2, 201, "second upload of the same file")
    check((js2 or {}).get("id") != js.get("id"), "each upload gets its own id")


def test_pipeline_file_upload_errors(srv):
    expect_error(srv.upload(UPLOAD, fields=[("x", "y")]), 400, "no_file_uploaded", "no file",
                 message="Please upload your file.")
    expect_error(srv.upload(UPLOAD, files=[("file", "a.txt", b"a"), ("file", "b.txt", b"b")]),
                 400, "too_many_files", "two files", message="Only one file is allowed.")
    expect_error(srv.upload(UPLOAD, files=[("file", "", b"a")]), 400, None, "empty filename")
    expect_error(srv.upload(UPLOAD, files=[("file", "tool.exe", b"MZ")]), 415,
                 "unsupported_file_type", "an .exe")
    expect_error(srv.upload(UPLOAD, files=[("file", "a.txt", b"a")], key=None), 401,
                 "unauthorized", "no key")


def test_pipeline_file_upload_too_large_413(srv):
    boundary = "ragdzip" + uuid.uuid4().hex
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"'
            f"\r\nContent-Type: text/plain\r\n\r\n").encode()
    req = (f"POST {UPLOAD} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {srv.key}\r\n"
           f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
           f"Content-Length: {2 << 20}\r\n\r\n").encode() + head
    s = srv.raw_socket(timeout=10)
    resp = b""
    try:
        s.sendall(req)
        while b'"status"' not in resp:
            got = s.recv(65536)
            if not got:
                break
            resp += got
    except OSError as e:
        check(False, f"oversized pipeline upload: no answer ({e!r})")
    finally:
        s.close()
    status = resp.split(b"\r\n", 1)[0]
    check(b" 413 " in status + b" ", f"oversized pipeline upload: status line {status!r}")
    check(b'"file_too_large"' in resp, f"oversized pipeline upload: body {resp[-300:]!r}")


# ---- pipeline operations ragd does not run ------------------------------------------------

def pipeline_ops(ds):
    return [("GET", f"/v1/datasets/{ds}/pipeline/datasource-plugins?is_published=true", None),
            ("POST", f"/v1/datasets/{ds}/pipeline/datasource/nodes/1719288585006/run",
             {"inputs": {}, "datasource_type": "local_file", "is_published": True}),
            ("POST", f"/v1/datasets/{ds}/pipeline/run",
             {"inputs": {}, "datasource_type": "local_file",
              "datasource_info_list": [{"reference": str(uuid.uuid4())}],
              "start_node_id": "1719288585006", "is_published": True,
              "response_mode": "blocking"})]


def test_pipeline_operations_answer_a_documented_400(srv):
    ds = dataset(srv)
    for method, path, body in pipeline_ops(ds):
        r = srv.call(method, path, body=body)
        expect_error(r, 400, "invalid_param", f"{method} {path}",
                     message=lambda m: "ragd does not run" in m and "create-by-text" in m)
        check("json" in (r[1].get("Content-Type") or ""), f"{path}: Content-Type")
    # a POST without a body is answered the same way
    expect_error(srv.call("POST", f"/v1/datasets/{ds}/pipeline/run"), 400, "invalid_param",
                 "pipeline/run without a body")


def test_pipeline_operations_unknown_dataset_and_no_key(srv):
    ds = str(uuid.uuid4())
    for method, path, body in pipeline_ops(ds):
        expect_error(srv.call(method, path, body=body), 404, "not_found", f"{method} {path}",
                     message="Dataset not found.")
    for method, path, body in pipeline_ops(dataset(srv)):
        expect_error(srv.call(method, path, body=body, key=None), 401, "unauthorized",
                     f"{method} {path} without a key")
