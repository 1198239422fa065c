"""Chunks: the segments API (list with page/limit/keyword/status, get, add, update, delete,
idempotent by design) and the child chunks of parent-child documents (list, create, update,
delete), with the document and dataset counters after every edit."""
import uuid

import fixtures
from harness import check, eq, expect_error

PARA_RULE = {"mode": "custom", "rules": {"pre_processing_rules": [], "segmentation": {
    "separator": "\\n\\n", "max_tokens": 200, "chunk_overlap": 0}}}
HIER_RULE = {"mode": "hierarchical", "rules": {
    "pre_processing_rules": [], "parent_mode": "paragraph",
    "segmentation": {"separator": "\\n\\n", "max_tokens": 500},
    "subchunk_segmentation": {"separator": "\\n", "max_tokens": 100, "chunk_overlap": 0}}}
PARAS = ["Paragraph one is about zebras on the plain.",
         "Paragraph two is about Zebras again, with stripes.",
         "Paragraph three is about lions.",
         "Paragraph four is about giraffes and acacia trees.",
         "Paragraph five is about elephants at the river."]
HIER_TEXT = ("Volcanoes erupt molten lava and ash.\nMagma chambers lie beneath volcanoes.\n"
             "Volcanic lava flows cool into basalt rock.\n\n"
             "Penguins live in Antarctica.\nPenguins swim fast to catch fish.")
SEGMENT_KEYS = {"id", "position", "document_id", "content", "sign_content", "answer", "word_count",
                "tokens", "keywords", "index_node_id", "index_node_hash", "hit_count", "enabled",
                "disabled_at", "disabled_by", "status", "created_by", "created_at", "updated_at",
                "updated_by", "indexing_at", "completed_at", "error", "stopped_at", "child_chunks",
                "attachments", "summary"}
CHILD_KEYS = {"id", "segment_id", "content", "position", "word_count", "type", "created_at",
              "updated_at"}


def new_dataset(srv, technique="economy"):
    return srv.create_dataset(f"chunks-{uuid.uuid4().hex[:10]}",
                              indexing_technique=technique)["id"]


def paragraphs_doc(srv, technique="economy", paras=PARAS):
    """A dataset with one document of one segment per paragraph; returns (dataset, doc id)."""
    ds = new_dataset(srv, technique)
    d, b = srv.create_text(ds, "paras.txt", "\n\n".join(paras), indexing_technique=technique,
                           process_rule=PARA_RULE)
    it = srv.wait_indexed(ds, b)[0]
    assert it["indexing_status"] == "completed" and it["total_segments"] == len(paras), it
    return ds, d["id"]


def hier_doc(srv):
    ds = new_dataset(srv, "high_quality")
    d, b = srv.create_text(ds, "hier.txt", HIER_TEXT, indexing_technique="high_quality",
                           doc_form="hierarchical_model", process_rule=HIER_RULE)
    it = srv.wait_indexed(ds, b)[0]
    assert it["indexing_status"] == "completed", it
    return ds, d["id"]


def seg_path(ds, doc, seg=None):
    p = f"/v1/datasets/{ds}/documents/{doc}/segments"
    return p + f"/{seg}" if seg else p


def listing(srv, ds, doc, query=""):
    st, _, js, raw = srv.call("GET", seg_path(ds, doc) + query)
    if not eq(st, 200, f"GET segments{query} ({raw[:200]!r})"):
        return {"data": [], "total": None}
    return js


def add(srv, ds, doc, *segments):
    return srv.call("POST", seg_path(ds, doc), body={"segments": list(segments)})


def counters(srv, ds, doc):
    """(document word_count, document segment_count, dataset word_count)."""
    return (srv.list_item(ds, doc).get("word_count"), srv.document(ds, doc).get("segment_count"),
            srv.dataset(ds).get("word_count"))


# ---- list and get -------------------------------------------------------------------------


def test_list_segments(srv):
    ds, doc = paragraphs_doc(srv)
    js = listing(srv, ds, doc)
    eq((js.get("total"), js.get("has_more"), js.get("limit"), js.get("page"), js.get("doc_form")),
       (5, False, 20, 1, "text_model"), "list: total, has_more, limit, page, doc_form")
    data = js.get("data") or []
    eq([s.get("position") for s in data], [1, 2, 3, 4, 5], "list: positions in order")
    eq([s.get("content") for s in data], PARAS, "list: contents")
    if data:
        eq(set(data[0]), SEGMENT_KEYS, "list: segment fields")
        eq((data[0]["word_count"], data[0]["status"], data[0]["enabled"], data[0]["tokens"]),
           (len(PARAS[0]), "completed", True, 0), "list: word_count, status, enabled, tokens")
    pages = [(2, 1, [1, 2], True), (2, 2, [3, 4], True), (2, 3, [5], False), (2, 4, [], False),
             (5, 1, [1, 2, 3, 4, 5], False), (4, 2, [5], False)]
    for limit, page, want, more in pages:
        js = listing(srv, ds, doc, f"?limit={limit}&page={page}")
        eq(([s["position"] for s in js.get("data", [])], js.get("total"), js.get("has_more"),
            js.get("limit"), js.get("page")), (want, 5, more, limit, page),
           f"list limit {limit} page {page}: positions, total, has_more, limit, page")
    for kw, want in (("zebras", [1, 2]), ("ZEBRAS", [1, 2]), ("Lions", [3]), ("acacia", [4]),
                     ("no-such-word", [])):
        js = listing(srv, ds, doc, f"?keyword={kw}")
        eq(([s["position"] for s in js.get("data", [])], js.get("total")), (want, len(want)),
           f"list keyword={kw} (case-insensitive substring)")
    eq(listing(srv, ds, doc, "?status=completed").get("total"), 5, "list status=completed")
    eq(listing(srv, ds, doc, "?status=error").get("total"), 0, "list status=error")
    eq(listing(srv, ds, doc, "?status=indexing&keyword=zebras").get("total"), 0,
       "list status=indexing and a keyword")
    expect_error(srv.call("GET", seg_path(ds, str(uuid.uuid4()))), 404, "not_found",
                 "list the segments of an unknown document")
    expect_error(srv.call("GET", f"/v1/datasets/{uuid.uuid4()}/documents/{doc}/segments"), 404,
                 "not_found", "list segments in an unknown dataset")


def test_list_status_repeatable(srv):
    """Dify 4.3.2: status is repeatable (status IN the list)."""
    ds, doc = paragraphs_doc(srv)
    eq(listing(srv, ds, doc, "?status=error&status=completed").get("total"), 5,
       "GET .../segments?status=error&status=completed: segments whose status is either")


def test_get_segment(srv):
    ds, doc = paragraphs_doc(srv)
    segs = srv.segments(ds, doc)
    for s in (segs[0], segs[-1]):
        st, _, js, raw = srv.call("GET", seg_path(ds, doc, s["id"]))
        if eq(st, 200, f"get segment {s['position']} ({raw[:200]!r})"):
            eq(js.get("doc_form"), "text_model", "get: doc_form")
            eq(js.get("data"), s, f"get segment {s['position']}: the list's object")
    expect_error(srv.call("GET", seg_path(ds, doc, str(uuid.uuid4()))), 404, "not_found",
                 "get an unknown segment")
    expect_error(srv.call("GET", seg_path(ds, str(uuid.uuid4()), segs[0]["id"])), 404,
                 "not_found", "get a segment through an unknown document")


# ---- add ------------------------------------------------------------------------------


def test_add_segments(srv):
    ds, doc = paragraphs_doc(srv)
    one = {"content": "Okapis hide in the Congo rainforest.", "answer": "The okapi.",
           "keywords": ["okapi", "congo"]}
    two = {"content": "Tapirs have short trunks."}
    st, _, js, raw = add(srv, ds, doc, one, two)
    if not eq(st, 200, f"add two chunks ({raw[:300]!r})"):
        return
    eq(js.get("doc_form"), "text_model", "add: doc_form")
    data = js.get("data") or []
    if not eq(len(data), 2, "add: one object per chunk"):
        return
    a, b = data
    eq(set(a), SEGMENT_KEYS, "add: segment fields")
    eq((a["content"], a["answer"], a["keywords"]), (one["content"], one["answer"], one["keywords"]),
       "add: content, answer and keywords are kept")
    eq((b["content"], b["answer"]), (two["content"], None), "add: a chunk without answer")
    check(isinstance(b["keywords"], list), f"add: keywords of a chunk given none {b['keywords']!r}")
    eq([a["position"], b["position"]], [6, 7], "add: positions continue after the last")
    eq((b["word_count"], b["status"], b["enabled"], b["tokens"], b["document_id"]),
       (len(two["content"]), "completed", True, 0, doc),
       "add: word_count, status, enabled, tokens, document_id")
    check(isinstance(a.get("index_node_id"), str) and len(a.get("index_node_hash") or "") == 64,
          f"add: index_node_id / index_node_hash {a.get('index_node_id')!r} "
          f"{a.get('index_node_hash')!r}")
    check(isinstance(a.get("completed_at"), int) and isinstance(a.get("indexing_at"), int),
          "add: indexing_at and completed_at are set")
    for s in (a, b):
        st, _, got, raw = srv.call("GET", seg_path(ds, doc, s["id"]))
        eq((st, (got or {}).get("data")), (200, s), f"get an added chunk ({raw[:200]!r})")
    js = listing(srv, ds, doc)
    eq((js.get("total"), [s["id"] for s in js["data"][5:]]), (7, [a["id"], b["id"]]),
       "list after add: the new chunks come last")
    hq, hdoc = paragraphs_doc(srv, "high_quality", PARAS[:2])
    st, _, js, raw = add(srv, hq, hdoc, two)
    if eq(st, 200, f"add to a high_quality document ({raw[:200]!r})"):
        s = js["data"][0]
        eq((s["position"], s["keywords"], s["content"]), (3, [], two["content"]),
           "high_quality add: position, keywords, content")


def test_high_quality_chunk_tokens(srv):
    """Dify 3.6 / 4.3.1 / 4.3.4: tokens is the embedding model's token count of the content
    (0 only for economy), set when a chunk is added and recomputed when its content changes;
    the pipeline's own chunks have it."""
    ds, doc = paragraphs_doc(srv, "high_quality", PARAS[:2])
    indexed = srv.segments(ds, doc)[0]
    check(indexed["tokens"] > 0, f"an indexed high_quality chunk has tokens {indexed['tokens']}")
    st, _, js, raw = add(srv, ds, doc, {"content": PARAS[0]})
    if eq(st, 200, f"add ({raw[:200]!r})"):
        eq(js["data"][0]["tokens"], indexed["tokens"],
           "POST .../segments on a high_quality document: tokens of the added chunk (the same "
           "text as indexed chunk 1)")
    longer = PARAS[0] + " " + PARAS[3] + " " + PARAS[4]
    st, _, js, raw = srv.call("POST", seg_path(ds, doc, indexed["id"]),
                              body={"segment": {"content": longer}})
    if eq(st, 200, f"update ({raw[:200]!r})"):
        check(js["data"]["tokens"] > indexed["tokens"],
              f"POST .../segments/{{id}} with three times the text: tokens "
              f"{js['data']['tokens']}, was {indexed['tokens']} (not recomputed)")


def test_add_answer_word_count(srv):
    """Dify 4.3.1 / 7.7: a chunk's word_count is len(content); the answer counts only for
    qa_model documents."""
    ds, doc = paragraphs_doc(srv, paras=PARAS[:1])
    c = {"content": "Okapis hide in the Congo rainforest.", "answer": "The okapi."}
    st, _, js, raw = add(srv, ds, doc, c)
    if not eq(st, 200, f"add ({raw[:200]!r})"):
        return
    sid = js["data"][0]["id"]
    eq(js["data"][0]["word_count"], len(c["content"]),
       "POST .../segments {content, answer} on a text_model document: word_count")
    new = "Okapis have striped legs."
    st, _, js, raw = srv.call("POST", seg_path(ds, doc, sid), body={"segment": {"content": new}})
    eq((st, (js or {}).get("data", {}).get("word_count")), (200, len(new)),
       f"update its content: word_count ({raw[:200]!r})")
    eq(srv.list_item(ds, doc).get("word_count"), len(PARAS[0]) + len(new),
       "document word_count after add and update")


def test_add_refused(srv):
    ds, doc = paragraphs_doc(srv, paras=PARAS[:2])
    cases = [
        ({"segments": [{"content": ""}]}, "empty content"),
        ({"segments": [{"content": "   \n "}]}, "blank content"),
        ({"segments": [{"content": "fine"}, {"content": ""}]}, "a second chunk with empty content"),
        ({"segments": [{"answer": "no content"}]}, "no content"),
        ({"segments": [{"content": 5}]}, "content a number"),
        ({"segments": []}, "an empty list"),
        ({}, "no segments"),
        ({"segments": [{"content": "x", "keywords": "okapi"}]}, "keywords a string"),
    ]
    for body, what in cases:
        expect_error(srv.call("POST", seg_path(ds, doc), body=body), 400, "invalid_param",
                     f"add with {what}")
    expect_error(add(srv, ds, str(uuid.uuid4()), {"content": "x"}), 404, "not_found",
                 "add to an unknown document")
    expect_error(srv.call("POST", f"/v1/datasets/{uuid.uuid4()}/documents/{doc}/segments",
                          body={"segments": [{"content": "x"}]}), 404, "not_found",
                 "add in an unknown dataset")
    eq(listing(srv, ds, doc).get("total"), 2, "refused adds create nothing")
    eq(srv.list_item(ds, doc).get("word_count"), len(PARAS[0]) + len(PARAS[1]),
       "refused adds leave word_count alone")


def test_add_document_checks(srv):
    """Dify 4.3.1: a document that is disabled, or not completed, takes no new chunks
    (404 not_found "Document is disabled." / "Document is not completed.")."""
    ds, doc = paragraphs_doc(srv, paras=PARAS[:1])
    srv.call("PATCH", f"/v1/datasets/{ds}/documents/status/disable", body={"document_ids": [doc]})
    expect_error(add(srv, ds, doc, {"content": "While disabled."}), 404, "not_found",
                 "POST .../segments on a disabled document")
    bad, batch = srv.create_file(ds, "broken.pdf", fixtures.random_bytes(512, seed=5),
                                 data={"process_rule": {"mode": "automatic"}})
    eq(srv.wait_indexed(ds, batch)[0]["indexing_status"], "error", "random .pdf ends in error")
    expect_error(add(srv, ds, bad["id"], {"content": "Into a failed document."}), 404,
                 "not_found", "POST .../segments on a document in error (not completed)")


# ---- update and delete ----------------------------------------------------------------


def test_update_segment(srv):
    ds, doc = paragraphs_doc(srv)
    s = srv.segments(ds, doc)[2]
    new = "Paragraph three is now about cheetahs sprinting."
    st, _, js, raw = srv.call("POST", seg_path(ds, doc, s["id"]),
                              body={"segment": {"content": new, "keywords": ["cheetah"]}})
    if not eq(st, 200, f"update content and keywords ({raw[:200]!r})"):
        return
    eq(js.get("doc_form"), "text_model", "update: doc_form")
    u = js.get("data") or {}
    eq((u.get("id"), u.get("position"), u.get("content"), u.get("keywords"), u.get("word_count")),
       (s["id"], 3, new, ["cheetah"], len(new)),
       "update: id, position, content, keywords, word_count")
    check(u.get("index_node_hash") != s["index_node_hash"], "update: a new index_node_hash")
    check((u.get("updated_at") or 0) >= s["updated_at"], "update: updated_at moves on")
    check(u.get("updated_by"), f"update: updated_by {u.get('updated_by')!r}")
    eq(srv.call("GET", seg_path(ds, doc, s["id"]))[2].get("data"), u, "get after update")
    # keywords alone
    st, _, js, raw = srv.call("POST", seg_path(ds, doc, s["id"]),
                              body={"segment": {"keywords": ["cat", "fast"]}})
    eq((st, (js or {}).get("data", {}).get("keywords"), (js or {}).get("data", {}).get("content")),
       (200, ["cat", "fast"], new), f"update keywords only ({raw[:200]!r})")
    # disable and enable
    st, _, js, raw = srv.call("POST", seg_path(ds, doc, s["id"]),
                              body={"segment": {"enabled": False}})
    d = (js or {}).get("data") or {}
    eq((st, d.get("enabled"), d.get("content")), (200, False, new), f"disable ({raw[:200]!r})")
    check(isinstance(d.get("disabled_at"), int) and d.get("disabled_by"),
          f"disable: disabled_at / disabled_by {d.get('disabled_at')!r} {d.get('disabled_by')!r}")
    eq(listing(srv, ds, doc).get("total"), 5, "a disabled chunk is still listed")
    st, _, js, raw = srv.call("POST", seg_path(ds, doc, s["id"]),
                              body={"segment": {"enabled": True}})
    d = (js or {}).get("data") or {}
    eq((st, d.get("enabled"), d.get("disabled_at"), d.get("disabled_by")), (200, True, None, None),
       f"enable again ({raw[:200]!r})")
    # refusals
    for body, what in (({"segment": {"content": ""}}, "empty content"),
                       ({"segment": {"content": "  "}}, "blank content"),
                       ({"segment": "text"}, "segment a string"), ({}, "no segment"),
                       ({"segment": {"enabled": "yes"}}, "enabled a string")):
        expect_error(srv.call("POST", seg_path(ds, doc, s["id"]), body=body), 400,
                     "invalid_param", f"update with {what}")
    expect_error(srv.call("POST", seg_path(ds, doc, str(uuid.uuid4())),
                          body={"segment": {"content": "x"}}), 404, "not_found",
                 "update an unknown segment")
    eq(srv.call("GET", seg_path(ds, doc, s["id"]))[2]["data"]["content"], new,
       "refused updates change nothing")


def test_update_disabled_segment_refused(srv):
    """Dify 4.3.4: a disabled chunk takes no edit unless the same request enables it
    (400 invalid_param "Can't update disabled segment")."""
    ds, doc = paragraphs_doc(srv, paras=PARAS[:2])
    s = srv.segments(ds, doc)[0]
    srv.call("POST", seg_path(ds, doc, s["id"]), body={"segment": {"enabled": False}})
    expect_error(srv.call("POST", seg_path(ds, doc, s["id"]),
                          body={"segment": {"content": "Edited while disabled."}}),
                 400, "invalid_param", "POST .../segments/{id} {segment: {content}} on a disabled "
                 "chunk")
    st, _, js, raw = srv.call("POST", seg_path(ds, doc, s["id"]), body={
        "segment": {"content": "Edited and enabled.", "enabled": True}})
    d = (js or {}).get("data") or {}
    eq((st, d.get("content"), d.get("enabled")), (200, "Edited and enabled.", True),
       f"an edit that enables the chunk is accepted ({raw[:200]!r})")


def test_delete_segment(srv):
    ds, doc = paragraphs_doc(srv)
    segs = srv.segments(ds, doc)
    victim = segs[1]
    st, _, _, raw = srv.call("DELETE", seg_path(ds, doc, victim["id"]))
    eq((st, raw), (204, b""), "delete a segment: 204 without a body")
    st, _, _, raw = srv.call("DELETE", seg_path(ds, doc, victim["id"]))
    eq(st, 204, f"delete it again: 204, idempotent by design ({raw[:200]!r})")
    expect_error(srv.call("GET", seg_path(ds, doc, victim["id"])), 404, "not_found",
                 "get a deleted segment")
    expect_error(srv.call("POST", seg_path(ds, doc, victim["id"]),
                          body={"segment": {"content": "back"}}), 404, "not_found",
                 "update a deleted segment")
    js = listing(srv, ds, doc)
    eq((js.get("total"), [s["position"] for s in js["data"]]), (4, [1, 3, 4, 5]),
       "list after delete: the others keep their positions")
    st, _, js, raw = add(srv, ds, doc, {"content": "After a delete."})
    eq((st, (js or {}).get("data", [{}])[0].get("position")), (200, 6),
       f"add after a delete: position continues from the largest ({raw[:200]!r})")
    expect_error(srv.call("DELETE", seg_path(ds, str(uuid.uuid4()), segs[0]["id"])), 404,
                 "not_found", "delete through an unknown document")
    eq(srv.call("GET", seg_path(ds, doc, segs[0]["id"]))[0], 200,
       "a segment named through an unknown document is not deleted")


def test_counters_follow_chunk_edits(srv):
    ds, doc = paragraphs_doc(srv)
    words = sum(len(p) for p in PARAS)
    eq(counters(srv, ds, doc), (words, 5, words), "after indexing")
    a, b = "Hyenas laugh at night.", "Meerkats stand guard."
    st, _, js, _ = add(srv, ds, doc, {"content": a}, {"content": b})
    words += len(a) + len(b)
    eq(counters(srv, ds, doc), (words, 7, words), "after adding two chunks")
    sid = js["data"][0]["id"]
    longer = "Hyenas laugh loudly at night across the savanna."
    srv.call("POST", seg_path(ds, doc, sid), body={"segment": {"content": longer}})
    words += len(longer) - len(a)
    eq(counters(srv, ds, doc), (words, 7, words), "after updating a chunk (longer)")
    shorter = "Hyenas."
    srv.call("POST", seg_path(ds, doc, sid), body={"segment": {"content": shorter}})
    words += len(shorter) - len(longer)
    eq(counters(srv, ds, doc), (words, 7, words), "after updating a chunk (shorter)")
    srv.call("POST", seg_path(ds, doc, sid), body={"segment": {"keywords": ["hyena"]}})
    eq(counters(srv, ds, doc), (words, 7, words), "after updating keywords only")
    eq(srv.call("DELETE", seg_path(ds, doc, sid))[0], 204, "delete")
    words -= len(shorter)
    eq(counters(srv, ds, doc), (words, 6, words), "after deleting a chunk")
    eq(srv.call("DELETE", seg_path(ds, doc, sid))[0], 204, "delete again")
    eq(counters(srv, ds, doc), (words, 6, words), "a second delete changes no counter")
    first = srv.segments(ds, doc)[0]
    srv.call("DELETE", seg_path(ds, doc, first["id"]))
    words -= len(PARAS[0])
    eq(counters(srv, ds, doc), (words, 5, words), "after deleting an indexed chunk")
    det = srv.document(ds, doc)
    eq(det.get("average_segment_length"), words // 5, "average_segment_length follows")


# ---- child chunks ---------------------------------------------------------------------


def test_child_chunks(srv):
    ds, doc = hier_doc(srv)
    segs = srv.segments(ds, doc)
    if not eq(len(segs), 2, "hierarchical document: two parents"):
        return
    parent = segs[0]
    eq([c["content"] for c in parent["child_chunks"]], HIER_TEXT.split("\n\n")[0].split("\n"),
       "the segment list carries each parent's child chunks")
    base = seg_path(ds, doc, parent["id"]) + "/child_chunks"

    def kids(query=""):
        st, _, js, raw = srv.call("GET", base + query)
        if not eq(st, 200, f"list child chunks{query} ({raw[:200]!r})"):
            return {"data": []}
        return js

    js = kids()
    eq((js.get("total"), js.get("total_pages"), js.get("page"), js.get("limit")), (3, 1, 1, 20),
       "child chunks: total, total_pages, page, limit")
    data = js.get("data") or []
    if data:
        eq(set(data[0]), CHILD_KEYS, "child chunk fields")
    eq([(c["position"], c["type"], c["segment_id"]) for c in data],
       [(i, "automatic", parent["id"]) for i in (1, 2, 3)], "child chunks: position, type, parent")
    for q, want, tp in (("?limit=2", [1, 2], 2), ("?limit=2&page=2", [3], 2),
                        ("?limit=1&page=3", [3], 3), ("?limit=3&page=2", [], 1)):
        js = kids(q)
        eq(([c["position"] for c in js.get("data", [])], js.get("total"), js.get("total_pages")),
           (want, 3, tp), f"child chunks{q}: positions, total, total_pages")
    eq([c["position"] for c in kids("?keyword=lava").get("data", [])], [1, 3], "keyword=lava")
    # create
    text = "Lava tubes form tunnels underground."
    st, _, js, raw = srv.call("POST", base, body={"content": text})
    if not eq(st, 200, f"create a child chunk ({raw[:200]!r})"):
        return
    c = js.get("data") or {}
    eq(set(js), {"data"}, "create: the answer is {data}")
    eq((c.get("content"), c.get("type"), c.get("position"), c.get("word_count"),
        c.get("segment_id")),
       (text, "customized", 4, len(text), parent["id"]),
       "create: content, type customized, position, word_count, segment_id")
    js = kids()
    eq((js.get("total"), [k["id"] for k in js["data"]][-1:]), (4, [c.get("id")]),
       "list after create")
    # update
    first = data[0]
    st, _, js, raw = srv.call("PATCH", f"{base}/{first['id']}",
                              body={"content": "Ash clouds rise."})
    u = (js or {}).get("data") or {}
    eq((st, u.get("id"), u.get("content"), u.get("type"), u.get("position"), u.get("word_count")),
       (200, first["id"], "Ash clouds rise.", "customized", 1, len("Ash clouds rise.")),
       f"update a child chunk ({raw[:200]!r})")
    listed = {k["id"]: k for k in kids().get("data", [])}
    eq((listed.get(first["id"]) or {}).get("content"), "Ash clouds rise.", "list after update")
    # delete
    st, _, _, raw = srv.call("DELETE", f"{base}/{c.get('id')}")
    eq((st, raw), (204, b""), "delete a child chunk: 204 without a body")
    eq(kids().get("total"), 3, "list after delete")
    expect_error(srv.call("DELETE", f"{base}/{c.get('id')}"), 404, "not_found",
                 "delete a deleted child chunk")
    expect_error(srv.call("PATCH", f"{base}/{uuid.uuid4()}", body={"content": "x"}), 404,
                 "not_found", "update an unknown child chunk")
    other = seg_path(ds, doc, segs[1]["id"]) + "/child_chunks"
    expect_error(srv.call("PATCH", f"{other}/{first['id']}", body={"content": "x"}), 404,
                 "not_found", "update a child chunk through another parent")
    for body, what in (({"content": ""}, "empty content"), ({}, "no content"),
                       ({"content": 3}, "content a number")):
        expect_error(srv.call("POST", base, body=body), 400, "invalid_param", f"create with {what}")
    expect_error(srv.call("POST", seg_path(ds, doc, str(uuid.uuid4())) + "/child_chunks",
                          body={"content": "x"}), 404, "not_found",
                 "create under an unknown segment")
    eq(srv.segments(ds, doc)[0]["word_count"], parent["word_count"],
       "child chunk edits leave the parent's word_count alone")


def test_child_chunk_on_text_document(srv):
    ds, doc = paragraphs_doc(srv, paras=PARAS[:2])
    s = srv.segments(ds, doc)[0]
    expect_error(srv.call("POST", seg_path(ds, doc, s["id"]) + "/child_chunks",
                          body={"content": "A child of a text_model chunk."}), 400,
                 "invalid_param", "create a child chunk on a non-hierarchical document")
    st, _, js, raw = srv.call("GET", seg_path(ds, doc, s["id"]) + "/child_chunks")
    eq((st, (js or {}).get("total")), (200, 0),
       f"a text_model chunk has no children ({raw[:200]!r})")


def test_child_chunk_list_follows_dify(srv):
    """Dify 4.4: limit is capped at 100 (the capped value is echoed) and keyword is a
    case-insensitive substring."""
    ds, doc = hier_doc(srv)
    parent = srv.segments(ds, doc)[0]
    base = seg_path(ds, doc, parent["id"]) + "/child_chunks"
    st, _, js, raw = srv.call("GET", base + "?limit=200")
    eq((st, (js or {}).get("limit"), (js or {}).get("total")), (200, 100, 3),
       f"GET .../child_chunks?limit=200: (status, limit, total) ({raw[:160]!r})")
    st, _, js, raw = srv.call("GET", base + "?keyword=MAGMA")
    eq((st, [c["content"] for c in (js or {}).get("data", [])]),
       (200, ["Magma chambers lie beneath volcanoes."]), "GET .../child_chunks?keyword=MAGMA")
