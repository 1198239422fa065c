"""Metadata: custom fields (create, list with counts, rename, delete), built-in fields
(list, enable, disable), document values (set, typed validation, partial updates) and
their rendering in documents and datasets; renames and deletes seen everywhere; metadata
filtering in /retrieve and the external /retrieval, every operator and the type errors,
and top_k kept when the filter matches only weak hits."""
import uuid

from harness import check, eq, expect_error, retrieval_model as rm

WORD = "lantern"


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def new_field(srv, ds, name, type_="string", key=None):
    kw = {"key": key} if key else {}
    st, _, js, raw = srv.call("POST", f"/v1/datasets/{ds}/metadata", body={"type": type_, "name": name}, **kw)
    assert st == 201, raw
    return js


def fields(srv, ds):
    st, _, js, raw = srv.call("GET", f"/v1/datasets/{ds}/metadata")
    assert st == 200, raw
    return js


def set_values(srv, ds, doc, values, partial=None):
    op = {"document_id": doc, "metadata_list": values}
    if partial is not None:
        op["partial_update"] = partial
    return srv.call("POST", f"/v1/datasets/{ds}/documents/metadata", body={"operation_data": [op]})


def corpus(srv, texts):
    """A new economy dataset with one indexed document per text; returns (ds, [doc ids])."""
    ds = srv.create_dataset(uniq("md"))["id"]
    ids = []
    for i, t in enumerate(texts):
        doc, batch = srv.create_text(ds, f"doc{i}.txt", t)
        srv.wait_indexed(ds, batch)
        ids.append(doc["id"])
    return ds, ids


def search(srv, ds, conds, op="and", top_k=20):
    model = rm("full_text_search", top_k=top_k,
               metadata_filtering_conditions={"logical_operator": op, "conditions": conds})
    return srv.retrieve(ds, WORD, model)


def found(srv, ds, conds, op="and", top_k=20):
    st, _, js, raw = search(srv, ds, conds, op, top_k)
    assert st == 200, raw
    return {r["segment"]["document_id"] for r in js["records"]}


def test_field_crud(srv):
    ds = srv.create_dataset(uniq("md"))["id"]
    f = new_field(srv, ds, "author")
    eq(sorted(f), ["id", "name", "type"], "field keys")
    eq((f["name"], f["type"]), ("author", "string"), "created field")
    n = new_field(srv, ds, "pages", "number")
    t = new_field(srv, ds, "published", "time")
    got = fields(srv, ds)
    eq(got["built_in_field_enabled"], False, "built-ins off by default")
    eq([(x["id"], x["name"], x["type"], x["count"]) for x in got["doc_metadata"]],
       [(f["id"], "author", "string", 0), (n["id"], "pages", "number", 0), (t["id"], "published", "time", 0)],
       "list with counts")
    base = f"/v1/datasets/{ds}/metadata"
    expect_error(srv.call("POST", base, body={"type": "string", "name": "author"}), 400, "invalid_param",
                 "duplicate", "Metadata name already exists.")
    expect_error(srv.call("POST", base, body={"type": "string", "name": "uploader"}), 400, "invalid_param",
                 "built-in name", "Metadata name already exists in Built-in fields.")
    expect_error(srv.call("POST", base, body={"type": "string", "name": "x" * 256}), 400, "invalid_param",
                 "256 characters", "Metadata name cannot exceed 255 characters.")
    expect_error(srv.call("POST", base, body={"type": "date", "name": "when"}), 400, "invalid_param", "bad type")
    expect_error(srv.call("POST", base, body={"name": "when"}), 400, "invalid_param", "no type")
    expect_error(srv.call("POST", base, body={"type": "string"}), 400, "invalid_param", "no name")
    st, _, r, raw = srv.call("PATCH", f"{base}/{f['id']}", body={"name": "writer"})
    eq(st, 200, f"rename: {raw[:200]!r}")
    eq(r, {"id": f["id"], "name": "writer", "type": "string"}, "renamed field")
    expect_error(srv.call("PATCH", f"{base}/{f['id']}", body={"name": "pages"}), 400, "invalid_param",
                 "rename onto another field", "Metadata name already exists.")
    expect_error(srv.call("PATCH", f"{base}/{uuid.uuid4()}", body={"name": "zz"}), 404, "not_found",
                 "rename unknown")
    eq(srv.call("DELETE", f"{base}/{t['id']}")[0], 204, "delete")
    eq(srv.call("DELETE", f"{base}/{t['id']}")[0], 204, "delete twice is still 204")
    eq([x["name"] for x in fields(srv, ds)["doc_metadata"]], ["writer", "pages"], "list after rename and delete")
    eq([(x["id"], x["name"], x["type"]) for x in srv.dataset(ds)["doc_metadata"]],
       [(f["id"], "writer", "string"), (n["id"], "pages", "number")], "Dataset.doc_metadata")
    # another tenant cannot reach the dataset's fields
    other = srv.create_key(tenant="md-other-" + uuid.uuid4().hex[:6])
    expect_error(srv.call("GET", base, key=other), 404, "not_found", "other tenant lists")
    expect_error(srv.call("POST", base, body={"type": "string", "name": "q"}, key=other), 404, "not_found",
                 "other tenant creates")


def test_builtin_fields(srv):
    ds, (doc,) = corpus(srv, [f"A {WORD} in the window."])
    st, _, js, raw = srv.call("GET", f"/v1/datasets/{ds}/metadata/built-in")
    eq(st, 200, "built-in list")
    eq(js, {"fields": [{"name": "document_name", "type": "string"}, {"name": "uploader", "type": "string"},
                       {"name": "upload_date", "type": "time"}, {"name": "last_update_date", "type": "time"},
                       {"name": "source", "type": "string"}]}, "built-in fields")
    eq(srv.document(ds, doc)["doc_metadata"], None, "detail: null without metadata")
    eq(srv.list_item(ds, doc)["doc_metadata"], [], "list: [] without metadata")
    st, _, js, _ = srv.call("POST", f"/v1/datasets/{ds}/metadata/built-in/enable")
    eq((st, js), (200, {"result": "success"}), "enable")
    eq(fields(srv, ds)["built_in_field_enabled"], True, "metadata list says enabled")
    d = srv.dataset(ds)
    eq(d["built_in_field_enabled"], True, "dataset says enabled")
    eq([x["name"] for x in d["doc_metadata"]],
       ["document_name", "uploader", "upload_date", "last_update_date", "source"], "Dataset.doc_metadata")
    meta = {x["name"]: x for x in srv.document(ds, doc)["doc_metadata"]}
    eq(meta["document_name"]["value"], "doc0.txt", "document_name value")
    eq(meta["document_name"]["id"], "built-in", "built-in id")
    eq(meta["upload_date"]["type"], "time", "upload_date type")
    check(isinstance(meta["upload_date"]["value"], (int, float)), "upload_date is a time")
    eq(len(srv.list_item(ds, doc)["doc_metadata"]), 5, "list form has the built-ins")
    # built-in fields can be filtered on while enabled
    eq(found(srv, ds, [{"name": "document_name", "comparison_operator": "is", "value": "doc0.txt"}]), {doc},
       "filter on document_name")
    eq(found(srv, ds, [{"name": "source", "comparison_operator": "is", "value": "file_upload"}]) |
       found(srv, ds, [{"name": "source", "comparison_operator": "not empty"}]), {doc}, "filter on source")
    eq(found(srv, ds, [{"name": "upload_date", "comparison_operator": "after", "value": "2000-01-01"}]), {doc},
       "filter on upload_date")
    st, _, js, _ = srv.call("POST", f"/v1/datasets/{ds}/metadata/built-in/disable")
    eq((st, js), (200, {"result": "success"}), "disable")
    eq(srv.document(ds, doc)["doc_metadata"], None, "built-ins gone after disable")
    eq(srv.dataset(ds)["doc_metadata"], [], "Dataset.doc_metadata empty after disable")
    eq(srv.call("POST", f"/v1/datasets/{ds}/metadata/built-in/sideways")[0], 200, "unknown action is a no-op")
    eq(found(srv, ds, [{"name": "document_name", "comparison_operator": "is", "value": "doc0.txt"}]), set(),
       "disabled built-ins have no values")


def test_document_values(srv):
    ds, (d1, d2) = corpus(srv, [f"First {WORD}.", f"Second {WORD}."])
    a = new_field(srv, ds, "author")
    p = new_field(srv, ds, "pages", "number")
    t = new_field(srv, ds, "published", "time")
    st, _, js, raw = set_values(srv, ds, d1, [{"id": a["id"], "name": "author", "value": "Ada"},
                                              {"id": p["id"], "name": "pages", "value": "42"},
                                              {"id": t["id"], "name": "published", "value": "2024-01-15"}])
    eq((st, js), (200, {"result": "success"}), f"set values: {raw[:200]!r}")
    meta = srv.document(ds, d1)["doc_metadata"]
    eq(meta, [{"id": a["id"], "name": "author", "type": "string", "value": "Ada"},
              {"id": p["id"], "name": "pages", "type": "number", "value": 42},
              {"id": t["id"], "name": "published", "type": "time", "value": 1705276800}],
       "typed values in the detail form")
    eq(srv.list_item(ds, d1)["doc_metadata"], meta, "the same in the list form")
    eq(srv.document(ds, d1, query="?metadata=only")["doc_metadata"], meta, "metadata=only")
    eq({x["name"]: x["count"] for x in fields(srv, ds)["doc_metadata"]},
       {"author": 1, "pages": 1, "published": 1}, "counts")
    # partial update merges; a full update replaces
    eq(set_values(srv, ds, d1, [{"id": p["id"], "name": "pages", "value": 7}], partial=True)[0], 200, "partial")
    eq({x["name"]: x["value"] for x in srv.document(ds, d1)["doc_metadata"]},
       {"author": "Ada", "pages": 7, "published": 1705276800}, "partial update merged")
    eq(set_values(srv, ds, d2, [{"id": a["id"], "name": "author", "value": "Bob"}])[0], 200, "set d2")
    eq(set_values(srv, ds, d1, [{"id": a["id"], "name": "author", "value": "Cy"}])[0], 200, "full update")
    eq({x["name"]: x["value"] for x in srv.document(ds, d1)["doc_metadata"]}, {"author": "Cy"}, "replaced")
    # a rename is seen in documents, counts and filters
    eq(srv.call("PATCH", f"/v1/datasets/{ds}/metadata/{a['id']}", body={"name": "writer"})[0], 200, "rename")
    eq(srv.document(ds, d2)["doc_metadata"],
       [{"id": a["id"], "name": "writer", "type": "string", "value": "Bob"}], "renamed in the document")
    eq({x["name"]: x["count"] for x in fields(srv, ds)["doc_metadata"]},
       {"writer": 2, "pages": 0, "published": 0}, "counts after the rename")
    eq(found(srv, ds, [{"name": "writer", "comparison_operator": "is", "value": "Bob"}]), {d2},
       "filter by the new name")
    eq(found(srv, ds, [{"name": "author", "comparison_operator": "is", "value": "Bob"}]), set(),
       "the old name has no values")
    # a delete removes the values everywhere
    eq(srv.call("DELETE", f"/v1/datasets/{ds}/metadata/{a['id']}")[0], 204, "delete")
    eq(srv.document(ds, d2)["doc_metadata"], None, "deleted from the document")
    eq(found(srv, ds, [{"name": "writer", "comparison_operator": "empty"}]), {d1, d2}, "no values left")
    # a new field of the old name starts empty
    new_field(srv, ds, "writer")
    eq(fields(srv, ds)["doc_metadata"][-1]["count"], 0, "recreated field has no values")


def test_value_validation(srv):
    ds, (doc,) = corpus(srv, [f"Only {WORD}."])
    s = new_field(srv, ds, "author")
    n = new_field(srv, ds, "pages", "number")
    t = new_field(srv, ds, "published", "time")
    url = f"/v1/datasets/{ds}/documents/metadata"
    expect_error(set_values(srv, ds, doc, [{"id": str(uuid.uuid4()), "name": "x", "value": "y"}]), 400,
                 "invalid_param", "unknown field id")
    expect_error(set_values(srv, ds, doc, [{"id": n["id"], "name": "pages", "value": "abc"}]), 400,
                 "invalid_param", "number field given abc")
    expect_error(set_values(srv, ds, doc, [{"id": t["id"], "name": "published", "value": "yesterday"}]), 400,
                 "invalid_param", "unparsable time")
    expect_error(set_values(srv, ds, doc, [{"id": t["id"], "name": "published", "value": "2024-02-31"}]), 400,
                 "invalid_param", "impossible date")
    expect_error(set_values(srv, ds, doc, [{"id": s["id"], "name": "author", "value": ["a"]}]), 400,
                 "invalid_param", "a list for a string")
    expect_error(set_values(srv, ds, str(uuid.uuid4()), [{"id": s["id"], "name": "author", "value": "a"}]),
                 400, "invalid_param", "unknown document", "Document not found.")
    expect_error(srv.call("POST", url, body={}), 400, "invalid_param", "no operation_data")
    expect_error(srv.call("POST", url, body={"operation_data": [{"metadata_list": []}]}), 400,
                 "invalid_param", "no document_id")
    eq(srv.document(ds, doc)["doc_metadata"], None, "nothing was written")
    eq(set_values(srv, ds, doc, [{"id": t["id"], "name": "published", "value": 1700000000},
                                 {"id": s["id"], "name": "author", "value": None}])[0], 200,
       "Unix seconds and null are fine")
    eq({x["name"]: x["value"] for x in srv.document(ds, doc)["doc_metadata"]},
       {"published": 1700000000, "author": None}, "stored")
    # other tenants' documents cannot be written through my dataset
    other = srv.create_key(tenant="mv-other-" + uuid.uuid4().hex[:6])
    expect_error(srv.call("POST", url, body={"operation_data": []}, key=other), 404, "not_found",
                 "other tenant")


# author, pages, published per document of the filter corpus
ROWS = [("Ada Lovelace", 10, "2020-05-01"), ("Alan Turing", 250, "2023-03-10"),
        ("Grace Hopper", 99, "2024-12-24"), (None, None, None)]


def filter_corpus(srv):
    ds, docs = corpus(srv, [f"Story {i} about a {WORD}." for i in range(len(ROWS))])
    a = new_field(srv, ds, "author")
    p = new_field(srv, ds, "pages", "number")
    t = new_field(srv, ds, "published", "time")
    for doc, (author, pages, published) in zip(docs, ROWS):
        vals = []
        if author:
            vals = [{"id": a["id"], "name": "author", "value": author},
                    {"id": p["id"], "name": "pages", "value": pages},
                    {"id": t["id"], "name": "published", "value": published}]
        eq(set_values(srv, ds, doc, vals)[0], 200, "set corpus values")
    return ds, docs


def test_filter_operators(srv):
    ds, (ada, alan, grace, none) = filter_corpus(srv)
    cases = [
        ("author", "contains", "Lo", {ada}),
        ("author", "not contains", "Lo", {alan, grace}),
        ("author", "start with", "A", {ada, alan}),
        ("author", "end with", "Hopper", {grace}),
        ("author", "is", "Alan Turing", {alan}),
        ("author", "is not", "Alan Turing", {ada, grace}),
        ("author", "empty", None, {none}),
        ("author", "not empty", None, {ada, alan, grace}),
        ("author", "in", ["Ada Lovelace", "Grace Hopper"], {ada, grace}),
        ("author", "in", "Ada Lovelace, Grace Hopper", {ada, grace}),
        ("author", "not in", ["Ada Lovelace"], {alan, grace}),
        ("pages", "=", 99, {grace}),
        ("pages", "≠", 99, {ada, alan}),
        ("pages", ">", "50", {alan, grace}),
        ("pages", "<", 99, {ada}),
        ("pages", "≥", 99, {alan, grace}),
        ("pages", "≤", 99, {ada, grace}),
        ("pages", "in", [10, 250], {ada, alan}),
        ("pages", "empty", None, {none}),
        ("published", "before", "2023-01-01", {ada}),
        ("published", "after", "2023-03-10", {grace}),
        ("published", "after", 1577836800, {ada, alan, grace}),
        ("published", "is", "2023-03-10T00:00:00Z", {alan}),
        ("published", "not empty", None, {ada, alan, grace}),
        ("nonexistent", "is", "x", set()),
        ("nonexistent", "empty", None, {ada, alan, grace, none}),
    ]
    for name, op, value, want in cases:
        eq(found(srv, ds, [{"name": name, "comparison_operator": op, "value": value}]), want,
           f"{name} {op} {value!r}")
    both = [{"name": "author", "comparison_operator": "start with", "value": "A"},
            {"name": "pages", "comparison_operator": ">", "value": 100}]
    eq(found(srv, ds, both, "and"), {alan}, "and")
    eq(found(srv, ds, both, "or"), {ada, alan}, "or")
    eq(found(srv, ds, []), {ada, alan, grace, none}, "no conditions filter nothing")
    # the external knowledge API applies metadata_condition too
    st, _, js, raw = srv.call("POST", "/retrieval", body={
        "knowledge_id": ds, "query": WORD, "retrieval_setting": {"top_k": 10, "score_threshold": 0},
        "metadata_condition": {"logical_operator": "and", "conditions": [
            {"name": ["author"], "comparison_operator": "is", "value": "Grace Hopper"}]}})
    eq(st, 200, f"external retrieval: {raw[:200]!r}")
    eq({r["metadata"]["document_id"] for r in js["records"]}, {grace}, "external filter")


def test_filter_errors(srv):
    ds, _ = filter_corpus(srv)
    bad = [
        ({"name": "author", "comparison_operator": ">", "value": 3}, "number operator on a string"),
        ({"name": "author", "comparison_operator": "before", "value": "2024-01-01"}, "time operator on a string"),
        ({"name": "pages", "comparison_operator": "contains", "value": "1"}, "string operator on a number"),
        ({"name": "pages", "comparison_operator": ">", "value": "abc"}, "number given abc"),
        ({"name": "published", "comparison_operator": "before", "value": "soon"}, "unparsable date"),
        ({"name": "author", "comparison_operator": "like", "value": "x"}, "unknown operator"),
        ({"name": "author", "comparison_operator": "in", "value": 5}, "in without a list"),
        ({"comparison_operator": "is", "value": "x"}, "no name"),
    ]
    for cond, what in bad:
        expect_error(search(srv, ds, [cond]), 400, "invalid_param", what)
    expect_error(search(srv, ds, [{"name": "author", "comparison_operator": "is", "value": "x"}], op="xor"),
                 400, "invalid_param", "bad logical_operator")
    st, _, js, _ = srv.call("POST", "/retrieval", body={
        "knowledge_id": ds, "query": WORD, "retrieval_setting": {"top_k": 3},
        "metadata_condition": {"conditions": [{"name": "pages", "comparison_operator": ">", "value": "abc"}]}})
    eq(st, 400, "external API: bad value")
    check(isinstance(js, dict) and "error_code" in js, "external error shape")


def test_filter_keeps_top_k(srv):
    """Twenty strong documents outrank three weak ones; a filter on the weak ones still
    returns three records."""
    strong = [f"{WORD} {WORD} {WORD} {WORD} strong {i}" for i in range(20)]
    weak = [f"{WORD} weak {i} " + " ".join(f"filler{j}" for j in range(40)) for i in range(3)]
    ds, docs = corpus(srv, strong + weak)
    f = new_field(srv, ds, "kind")
    for doc in docs[20:]:
        eq(set_values(srv, ds, doc, [{"id": f["id"], "name": "kind", "value": "weak"}])[0], 200, "tag weak")
    cond = [{"name": "kind", "comparison_operator": "is", "value": "weak"}]
    st, _, js, raw = search(srv, ds, cond, top_k=3)
    eq(st, 200, "filtered search")
    eq({r["segment"]["document_id"] for r in js["records"]}, set(docs[20:]), "all three weak documents")
    st, _, js, _ = search(srv, ds, cond, top_k=2)
    eq(len(js["records"]), 2, "top_k still applies")
    eq(found(srv, ds, [{"name": "kind", "comparison_operator": "is", "value": "none"}]), set(),
       "a filter matching nothing returns no records")
