"""Documents: process rules and what the splitter guarantees through the API, Dify's
validation messages, list/get (pagination, keyword, display-status filters, metadata
forms), status actions, update by text and by file, delete, and the dataset counters
after every change."""
import re
import time
import uuid

import fixtures
from harness import check, eq, expect_error

SERVER_ENV = {"RAGD_INDEX_BATCH": "4"}
SLOW_ENV = {"RAGD_WORKERS": "1", "RAGD_INDEX_BATCH": "1", "RAGD_BATCH_DELAY_MS": "700"}

PARA60 = "Rivers carry water from the hills down into the sea below us"  # 60 chars
assert len(PARA60) == 60
WORDS250 = " ".join(["abcd"] * 50)  # 249 chars: 50 words of 4 letters
PARA300 = ("Glaciers move slowly and shape the valleys they flow through " * 5)[:300]
assert len(PARA300) == 300 and "  " not in PARA300

DETAIL_KEYS = ["id", "position", "data_source_type", "data_source_info", "dataset_process_rule_id",
               "dataset_process_rule", "document_process_rule", "name", "created_from",
               "created_by", "created_at", "tokens", "indexing_status", "completed_at",
               "updated_at", "indexing_latency", "error", "enabled", "disabled_at",
               "disabled_by", "archived", "doc_type", "doc_metadata", "segment_count",
               "average_segment_length", "hit_count", "display_status", "doc_form",
               "doc_language", "summary_index_status", "need_summary"]


def new_dataset(srv, key=None, **fields):
    kw = {"key": key} if key else {}
    return srv.create_dataset("docs-" + uuid.uuid4().hex[:10], **kw, **fields)["id"]


def custom(sep, max_tokens, overlap=0, pre=()):
    return {"mode": "custom", "rules": {
        "pre_processing_rules": [{"id": p, "enabled": True} for p in pre],
        "segmentation": {"separator": sep, "max_tokens": max_tokens, "chunk_overlap": overlap}}}


def hierarchical(parent_sep="\\n\\n", parent_max=500, child_sep="\\n", child_max=100):
    return {"mode": "hierarchical", "rules": {
        "pre_processing_rules": [], "parent_mode": "paragraph",
        "segmentation": {"separator": parent_sep, "max_tokens": parent_max},
        "subchunk_segmentation": {"separator": child_sep, "max_tokens": child_max,
                                  "chunk_overlap": 0}}}


def create_text_raw(srv, ds, body, key=None):
    kw = {"key": key} if key else {}
    return srv.call("POST", f"/v1/datasets/{ds}/document/create-by-text", body=body, **kw)


def indexed(srv, ds, name, text, **fields):
    """Creates a text document and waits for it; returns (document, final status item)."""
    doc, batch = srv.create_text(ds, name, text, **fields)
    return doc, srv.wait_indexed(ds, batch)[0]


def counters(srv, ds):
    d = srv.dataset(ds)
    return d.get("document_count"), d.get("word_count"), d.get("total_available_documents")


def expect_counters(srv, ds, want, msg):
    got = counters(srv, ds)
    eq(got, want, f"{msg}: dataset (document_count, word_count, total_available_documents)")
    d = srv.dataset(ds)
    eq(d.get("total_documents"), want[0], f"{msg}: total_documents")


def action(srv, ds, name, ids):
    return srv.call("PATCH", f"/v1/datasets/{ds}/documents/status/{name}",
                    body={"document_ids": ids})


# ---- create --------------------------------------------------------------------------------


def test_create_by_text_answer(srv):
    ds = new_dataset(srv, indexing_technique="economy")
    long_name = "é" * 150 + "x" * 100 + ".txt"
    st, _, js, raw = create_text_raw(srv, ds, {"name": long_name, "text": "Some text."})
    if not eq(st, 200, f"create-by-text ({raw[:200]!r})"):
        return
    doc, batch = js["document"], js["batch"]
    check(isinstance(batch, str) and re.fullmatch(r"\d{20}", batch), f"batch {batch!r}: 20 digits")
    eq(doc.get("name"), long_name[:200], "the name is cut to 200 characters")
    eq((doc.get("position"), doc.get("data_source_type"), doc.get("created_from"),
        doc.get("doc_form"), doc.get("enabled"), doc.get("archived")),
       (1, "upload_file", "api", "text_model", True, False), "document fields")
    check(doc.get("indexing_status") in ("waiting", "parsing", "cleaning", "splitting",
                                         "indexing", "completed"),
          f"indexing_status {doc.get('indexing_status')!r}")
    up = (doc.get("data_source_detail_dict") or {}).get("upload_file") or {}
    eq((up.get("extension"), up.get("mime_type"), up.get("size")), ("txt", "text/plain", 10),
       "the text is stored as a .txt upload")
    eq(doc.get("data_source_info"), {"upload_file_id": up.get("id")}, "data_source_info")
    srv.wait_indexed(ds, batch)
    dl = srv.call("GET", f"/v1/datasets/{ds}/documents/{doc['id']}/download")[2]
    eq(srv.call("GET", dl["url"])[3], b"Some text.", "the stored text")
    second = srv.create_text(ds, "second.txt", "More.")[0]
    eq(second.get("position"), 2, "positions follow creation")
    expect_error(create_text_raw(srv, ds, {"text": "no name"}), 400, "invalid_param",
                 "create-by-text without a name")
    expect_error(create_text_raw(srv, ds, {"name": "n.txt"}), 400, "invalid_param",
                 "create-by-text without text")
    expect_error(create_text_raw(srv, str(uuid.uuid4()), {"name": "n.txt", "text": "t"}), 404,
                 "not_found", "create-by-text in an unknown dataset")


# ---- rules and the splitter -------------------------------------------------------------


def test_custom_rule_segment_count(srv):
    """separator "\\n\\n", max 100: five 60-character paragraphs are one segment each; a
    250-character paragraph is cut at spaces into 99 + 99 + 49 characters."""
    ds = new_dataset(srv)
    text = "\n\n".join([PARA60] * 5 + [WORDS250])
    for sep in ("\\n\\n", "\n\n"):
        doc, item = indexed(srv, ds, f"custom-{len(sep)}.txt", text, process_rule=custom(sep, 100))
        eq(item["indexing_status"], "completed", f"custom rule {sep!r}: status ({item})")
        eq(item["total_segments"], 8, f"custom rule {sep!r}: segments")
        eq(srv.document(ds, doc["id"]).get("segment_count"), 8, f"custom {sep!r}: segment_count")
        eq(srv.list_item(ds, doc["id"]).get("word_count"), 5 * 60 + 99 + 99 + 49,
           f"custom rule {sep!r}: word_count (sum of the stripped chunks)")
        rule = srv.document(ds, doc["id"]).get("document_process_rule") or {}
        eq(rule.get("mode"), "custom", "custom rule: document_process_rule.mode")
        eq(((rule.get("rules") or {}).get("segmentation") or {}).get("max_tokens"), 100,
           "custom rule: stored max_tokens")


def test_custom_rule_never_exceeds_max_tokens(srv):
    """A long text without separators is packed into chunks of at most max_tokens."""
    ds = new_dataset(srv)
    text = "x" * 1000
    doc, item = indexed(srv, ds, "packed.txt", text, process_rule=custom("\\n\\n", 120))
    eq(item["total_segments"], 9, "1000 characters at most 120 per chunk: 9 chunks")
    eq(srv.list_item(ds, doc["id"]).get("word_count"), 1000, "no character lost or repeated")


def test_automatic_rule(srv):
    """automatic = chunks of at most 500 with overlap 50: three 300-character paragraphs
    cannot share a chunk, so 3 segments (a 1024-character rule would give 1)."""
    ds = new_dataset(srv)
    text = "\n\n".join([PARA300] * 3)
    for name, extra in (("auto.txt", {"process_rule": {"mode": "automatic"}}),
                        ("default.txt", {})):
        doc, item = indexed(srv, ds, name, text, **extra)
        eq(item["indexing_status"], "completed", f"{name}: status")
        eq(item["total_segments"], 3, f"{name}: segments under the automatic rule")
        eq(srv.list_item(ds, doc["id"]).get("word_count"), 900, f"{name}: word_count")
        rule = srv.document(ds, doc["id"]).get("document_process_rule") or {}
        eq(rule.get("mode"), "automatic", f"{name}: document_process_rule.mode")
        seg = (rule.get("rules") or {}).get("segmentation") or {}
        eq(seg.get("max_tokens"), 500, f"{name}: automatic max_tokens")


def test_automatic_rule_removes_extra_spaces(srv):
    ds = new_dataset(srv)
    doc, item = indexed(srv, ds, "spaces.txt", "one    two\t\tthree",
                        process_rule={"mode": "automatic"})
    eq(srv.list_item(ds, doc["id"]).get("word_count"), len("one two three"),
       "automatic rule collapses runs of spaces (remove_extra_spaces)")


def test_hierarchical_rule_accepted(srv):
    ds = new_dataset(srv)
    text = "Parent one line a\nParent one line b\n\nParent two line a\nParent two line b"
    doc, batch = srv.create_text(ds, "hier.txt", text, doc_form="hierarchical_model",
                                 process_rule=hierarchical())
    eq(doc.get("doc_form"), "hierarchical_model", "hierarchical: doc_form in the create answer")
    item = srv.wait_indexed(ds, batch)[0]
    eq(item["indexing_status"], "completed", f"hierarchical: status ({item})")
    eq(item["total_segments"], 2, "hierarchical: one segment per parent")
    det = srv.document(ds, doc["id"])
    eq(det.get("doc_form"), "hierarchical_model", "hierarchical: detail doc_form")
    rule = det.get("document_process_rule") or {}
    eq(rule.get("mode"), "hierarchical", "hierarchical: document_process_rule.mode")
    eq((rule.get("rules") or {}).get("parent_mode"), "paragraph", "hierarchical: parent_mode")
    eq(srv.dataset(ds).get("doc_form"), "hierarchical_model", "dataset doc_form after the first")


def test_invalid_rules(srv):
    ds = new_dataset(srv, indexing_technique="economy")
    seg = "Custom segment length should be between 50 and 4000."
    cases = [
        ({"mode": "fancy"}, lambda m: m == "Process rule mode is invalid"),
        ({"mode": "custom"}, lambda m: m == "Process rule rules is required"),
        (custom("\\n", 49), lambda m: m == seg),
        (custom("\\n", 4001), lambda m: m == seg),
        (custom("\\n", 100, overlap=100), lambda m: m.startswith("Got a larger chunk overlap")),
        (custom("\\n", 100, overlap=150), lambda m: m.startswith("Got a larger chunk overlap")),
        (hierarchical(child_max=49), lambda m: m == seg),
    ]
    for rule, pred in cases:
        body = {"name": "r.txt", "text": "some text", "indexing_technique": "economy",
                "process_rule": rule}
        if rule.get("mode") == "hierarchical":
            body["doc_form"] = "hierarchical_model"
        expect_error(create_text_raw(srv, ds, body), 400, "invalid_param",
                     f"process_rule {rule}", pred)
    # the same rules are refused by create-by-file (the data part)
    expect_error(srv.upload(f"/v1/datasets/{ds}/document/create-by-file",
                            files=[("file", "r.txt", b"some text")],
                            data={"process_rule": custom("\\n", 4001)}),
                 400, "invalid_param", "create-by-file with max_tokens 4001", seg)
    # a hierarchical rule needs doc_form hierarchical_model, and the reverse
    expect_error(create_text_raw(srv, ds, {"name": "r.txt", "text": "t",
                                           "process_rule": hierarchical()}),
                 400, "invalid_param", "hierarchical rule with doc_form text_model")
    eq(srv.dataset(ds)["document_count"], 0, "no document was created by refused requests")


def test_doc_form_checks(srv):
    ds = new_dataset(srv)
    indexed(srv, ds, "first.txt", "The first document fixes the doc_form.")
    expect_error(create_text_raw(srv, ds, {"name": "h.txt", "text": "t",
                                           "doc_form": "hierarchical_model",
                                           "process_rule": hierarchical()}),
                 400, "invalid_param", "doc_form different from the dataset's",
                 "doc_form is different from the dataset doc_form.")
    expect_error(create_text_raw(srv, ds, {"name": "q.txt", "text": "t", "doc_form": "qa_model"}),
                 400, "invalid_param", "doc_form qa_model")
    expect_error(create_text_raw(srv, ds, {"name": "x.txt", "text": "t", "doc_form": "table"}),
                 400, "invalid_param", "unknown doc_form", "Invalid doc_form.")
    fresh = new_dataset(srv)
    expect_error(create_text_raw(srv, fresh, {"name": "q.txt", "text": "t",
                                              "indexing_technique": "economy",
                                              "doc_form": "qa_model"}),
                 400, "invalid_param", "doc_form qa_model on a fresh dataset")
    eq(srv.dataset(ds)["document_count"], 1, "refused documents are not created")


def test_indexing_technique_required_then_dataset_fallback(srv):
    ds = new_dataset(srv)  # no technique yet
    expect_error(create_text_raw(srv, ds, {"name": "a.txt", "text": "some text"}),
                 400, "invalid_param", "create-by-text without a technique on a fresh dataset",
                 "indexing_technique is required.")
    expect_error(srv.upload(f"/v1/datasets/{ds}/document/create-by-file",
                            files=[("file", "a.txt", b"some text")]),
                 400, "invalid_param", "create-by-file without a technique on a fresh dataset",
                 "indexing_technique is required.")
    eq(srv.dataset(ds).get("indexing_technique"), None, "the refused requests set no technique")
    _, first = indexed(srv, ds, "first.txt", "Economy keeps keyword tables.",
                       indexing_technique="economy")
    eq(first["indexing_status"], "completed", "first document (economy)")
    eq(srv.dataset(ds).get("indexing_technique"), "economy", "dataset technique after the first")
    st, _, js, raw = create_text_raw(srv, ds, {"name": "second.txt", "text": "Falls back."})
    eq(st, 200, f"a later document without indexing_technique ({raw[:200]!r})")
    if st == 200:
        item = srv.wait_indexed(ds, js["batch"])[0]
        eq(item["indexing_status"], "completed", "the later document indexes")
        eq(srv.document(ds, js["document"]["id"]).get("tokens"), 0,
           "the later document is economy, as its dataset (tokens 0)")
    # naming the other technique does not switch a document away from the dataset's
    st, _, js, raw = create_text_raw(srv, ds, {"name": "third.txt", "text": "Still economy.",
                                               "indexing_technique": "high_quality"})
    eq(st, 200, f"a document naming high_quality in an economy dataset ({raw[:200]!r})")
    if st == 200:
        srv.wait_indexed(ds, js["batch"])
        eq(srv.document(ds, js["document"]["id"]).get("tokens"), 0,
           "a document always uses the dataset's technique")
    hq = new_dataset(srv, indexing_technique="high_quality")
    doc, item = indexed(srv, hq, "hq.txt", "Vectors come from the embedding model.",
                        indexing_technique=None)
    eq(item["indexing_status"], "completed", f"high_quality document ({item})")
    tokens = srv.document(hq, doc["id"]).get("tokens")
    check(isinstance(tokens, int) and tokens > 0, f"high_quality document tokens {tokens!r}")


# ---- list and get --------------------------------------------------------------------------


def test_list_pagination_and_keyword(srv):
    ds = new_dataset(srv, indexing_technique="economy")
    names = ["alpha-one.txt", "beta-two.txt", "alpha-three.txt", "gamma-four.txt",
             "beta-five.txt"]
    ids = []
    for n in names:
        doc, _ = srv.create_text(ds, n, f"Text of {n}.")
        ids.append(doc["id"])
    st, _, js, raw = srv.call("GET", f"/v1/datasets/{ds}/documents?page=1&limit=2")
    eq(st, 200, "list page 1")
    eq((js["total"], js["page"], js["limit"], js["has_more"], len(js["data"])), (5, 1, 2, True, 2),
       "page 1 of 3: (total, page, limit, has_more, items)")
    eq([d["id"] for d in js["data"]], ids[::-1][:2], "newest first (position descending)")
    eq([d["position"] for d in js["data"]], [5, 4], "positions")
    js = srv.call("GET", f"/v1/datasets/{ds}/documents?page=3&limit=2")[2]
    eq((js["total"], js["has_more"], [d["id"] for d in js["data"]]), (5, False, [ids[0]]),
       "page 3 of 3")
    js = srv.call("GET", f"/v1/datasets/{ds}/documents?page=4&limit=2")[2]
    eq((js["total"], js["has_more"], js["data"]), (5, False, []), "past the last page")
    js = srv.call("GET", f"/v1/datasets/{ds}/documents?page=1&limit=5")[2]
    eq((len(js["data"]), js["has_more"]), (5, False), "an exact page has no more")
    js = srv.call("GET", f"/v1/datasets/{ds}/documents?keyword=alpha")[2]
    eq(sorted(d["name"] for d in js["data"]), ["alpha-one.txt", "alpha-three.txt"],
       "keyword=alpha")
    eq(js["total"], 2, "keyword total")
    js = srv.call("GET", f"/v1/datasets/{ds}/documents?keyword=nothing-like-this")[2]
    eq((js["total"], js["data"]), (0, []), "keyword without a match")
    expect_error(srv.call("GET", f"/v1/datasets/{ds}/documents?limit=0"), 400, "invalid_param",
                 "limit=0")
    expect_error(srv.call("GET", f"/v1/datasets/{uuid.uuid4()}/documents"), 404, "not_found",
                 "documents of an unknown dataset")


def _filter(srv, ds, status):
    st, _, js, raw = srv.call("GET", f"/v1/datasets/{ds}/documents?status={status}&limit=100")
    if not eq(st, 200, f"list status={status}"):
        return None
    ids = sorted(d["id"] for d in js["data"])
    eq(js["total"], len(ids), f"status={status}: total")
    return ids


def test_list_status_filters(srv):
    ds = new_dataset(srv, indexing_technique="economy")
    docs = {}
    for n in ("avail", "dis", "arch"):
        docs[n] = indexed(srv, ds, f"{n}.txt", f"Document {n} for the filters.")[0]["id"]
    bad, bbatch = srv.create_file(ds, "noise.pdf", fixtures.random_bytes(),
                                  data={"process_rule": {"mode": "automatic"}})
    docs["err"] = bad["id"]
    eq(srv.wait_indexed(ds, bbatch)[0]["indexing_status"], "error", "noise.pdf ends in error")
    eq(action(srv, ds, "disable", [docs["dis"]])[0], 200, "disable")
    eq(action(srv, ds, "archive", [docs["arch"]])[0], 200, "archive")
    want = {"available": [docs["avail"]], "active": [docs["avail"]], "ENABLED": [docs["avail"]],
            "disabled": [docs["dis"]], "archived": [docs["arch"]], "error": [docs["err"]],
            "queuing": [], "indexing": [], "paused": [],
            "no-such-status": sorted(docs.values())}
    for status, ids in want.items():
        eq(_filter(srv, ds, status), sorted(ids), f"status={status}")
    det = {k: srv.document(ds, v).get("display_status") for k, v in docs.items()}
    eq(det, {"avail": "available", "dis": "disabled", "arch": "archived", "err": "error"},
       "display_status of each")


def test_list_status_filters_while_indexing(srv):
    """queuing / indexing / paused need documents caught mid-way: a server with one
    worker and a pause before every one-segment batch."""
    slow = srv.spawn(env=SLOW_ENV)
    ds = new_dataset(slow, indexing_technique="economy")
    a, abatch = slow.create_text(ds, "busy.txt", "\n\n".join(["busy paragraph"] * 6),
                                 process_rule=custom("\\n\\n", 100))
    b, bbatch = slow.create_text(ds, "queued.txt", "waits for the only worker")
    deadline = time.time() + 10
    while time.time() < deadline:
        it = slow.indexing_status(ds, abatch)[2]["data"][0]
        if it["indexing_status"] == "indexing":
            break
        time.sleep(0.05)
    eq(it["indexing_status"], "indexing", "the first document is being indexed")
    eq(_filter(slow, ds, "indexing"), [a["id"]], "status=indexing")
    eq(_filter(slow, ds, "queuing"), [b["id"]], "status=queuing")
    eq(slow.document(ds, b["id"]).get("display_status"), "queuing", "queued display_status")
    eq(slow.document(ds, a["id"]).get("display_status"), "indexing", "indexing display_status")
    expect_error(action(slow, ds, "disable", [a["id"]]), 400, "invalid_action",
                 "disable before completed", "Document: busy.txt is not completed.")
    eq(slow.call("PATCH", f"/v1/datasets/{ds}/documents/{a['id']}/processing/pause")[0], 200,
       "pause")
    eq(_filter(slow, ds, "paused"), [a["id"]], "status=paused")
    eq(_filter(slow, ds, "indexing"), [], "status=indexing after the pause")
    eq(slow.document(ds, a["id"]).get("display_status"), "paused", "paused display_status")
    for d in (a, b):  # end quickly
        eq(slow.call("DELETE", f"/v1/datasets/{ds}/documents/{d['id']}")[0], 204, "delete")


def test_get_metadata_forms(srv):
    ds = new_dataset(srv, indexing_technique="economy")
    doc, _ = indexed(srv, ds, "meta.txt", "Metadata forms of one document.")
    base = f"/v1/datasets/{ds}/documents/{doc['id']}"
    full = srv.document(ds, doc["id"])
    eq(list(full), DETAIL_KEYS, "detail keys (metadata=all by default), in Dify's order")
    eq(list(srv.document(ds, doc["id"], query="?metadata=all")), DETAIL_KEYS, "metadata=all")
    only = srv.document(ds, doc["id"], query="?metadata=only")
    eq(sorted(only), ["doc_metadata", "doc_type", "id"], "metadata=only keys")
    eq(only.get("id"), doc["id"], "metadata=only id")
    without = srv.document(ds, doc["id"], query="?metadata=without")
    eq(list(without), [k for k in DETAIL_KEYS if k not in ("doc_type", "doc_metadata")],
       "metadata=without keys")
    expect_error(srv.call("GET", base + "?metadata=bogus"), 400, "invalid_metadata",
                 "metadata=bogus", "Invalid metadata value: bogus")
    expect_error(srv.call("GET", f"/v1/datasets/{ds}/documents/{uuid.uuid4()}"), 404,
                 "not_found", "unknown document")
    other = new_dataset(srv)
    expect_error(srv.call("GET", f"/v1/datasets/{other}/documents/{doc['id']}"), 404,
                 "not_found", "a document through another dataset")
    eq(full.get("average_segment_length"),
       srv.list_item(ds, doc["id"])["word_count"] // full["segment_count"],
       "average_segment_length = word_count // segment_count")


# ---- status actions, update, delete, counters -----------------------------------------------


def test_status_actions_and_counters(srv):
    ds = new_dataset(srv, indexing_technique="economy")
    expect_counters(srv, ds, (0, 0, 0), "empty dataset")
    t1, t2 = "First document text.", "Second document, a bit longer than the first."
    d1 = indexed(srv, ds, "one.txt", t1)[0]["id"]
    expect_counters(srv, ds, (1, len(t1), 1), "after one document")
    d2 = indexed(srv, ds, "two.txt", t2)[0]["id"]
    expect_counters(srv, ds, (2, len(t1) + len(t2), 2), "after two documents")
    words = len(t1) + len(t2)

    def ok(name, ids, msg):
        st, _, js, raw = action(srv, ds, name, ids)
        eq((st, js), (200, {"result": "success"}), f"{msg} ({raw[:200]!r})")

    ok("disable", [d1], "disable a completed document")
    det = srv.document(ds, d1)
    eq((det["enabled"], det["display_status"]), (False, "disabled"), "disabled document")
    check(isinstance(det.get("disabled_at"), int) and det.get("disabled_by"),
          f"disabled_at / disabled_by set: {det.get('disabled_at')!r} {det.get('disabled_by')!r}")
    expect_counters(srv, ds, (2, words, 1), "after disable")
    ok("disable", [d1], "disable again (no-op)")
    expect_counters(srv, ds, (2, words, 1), "after a second disable")
    ok("enable", [d1], "enable")
    det = srv.document(ds, d1)
    eq((det["enabled"], det["disabled_at"], det["disabled_by"], det["display_status"]),
       (True, None, None, "available"), "enabled document")
    expect_counters(srv, ds, (2, words, 2), "after enable")
    ok("archive", [d1, d2], "archive both")
    eq([srv.document(ds, d)["archived"] for d in (d1, d2)], [True, True], "archived flags")
    expect_counters(srv, ds, (2, words, 0), "after archive")
    expect_error(srv.call("DELETE", f"/v1/datasets/{ds}/documents/{d1}"), 403,
                 "archived_document_immutable", "delete an archived document")
    expect_error(srv.call("POST", f"/v1/datasets/{ds}/documents/{d1}/update-by-text",
                          body={"name": "x.txt", "text": "new"}),
                 403, "archived_document_immutable", "update an archived document")
    ok("un_archive", [d2], "un_archive one")
    eq(srv.document(ds, d2)["display_status"], "available", "un_archived document")
    expect_counters(srv, ds, (2, words, 1), "after un_archive")
    for name in ("enable", "disable", "archive", "un_archive", "frobnicate"):
        ok(name, [], f"{name} with an empty document_ids")
    st, _, js, raw = srv.call("PATCH", f"/v1/datasets/{ds}/documents/status/enable", body={})
    eq(st, 200, f"enable without document_ids ({raw[:200]!r})")
    expect_error(action(srv, ds, "frobnicate", [d2]), 400, "invalid_action",
                 "an unknown action with ids",
                 "Invalid action: frobnicate. Must be one of ['enable', 'disable', 'archive', "
                 "'un_archive']")
    expect_counters(srv, ds, (2, words, 1), "after the refused actions")
    # all or nothing: one refusal leaves every document as it was
    bad, bbatch = srv.create_file(ds, "broken.pdf", fixtures.random_bytes(1024, seed=11),
                                  data={"process_rule": {"mode": "automatic"}})
    eq(srv.wait_indexed(ds, bbatch)[0]["indexing_status"], "error", "broken.pdf ends in error")
    expect_counters(srv, ds, (3, words, 1), "after a failed document")
    expect_error(action(srv, ds, "disable", [d2, bad["id"]]), 400, "invalid_action",
                 "disable a document in error", "Document: broken.pdf is not completed.")
    eq(srv.document(ds, d2)["enabled"], True, "a refused batch disables nothing")
    ok("un_archive", [d1], "un_archive the other")
    eq(srv.call("DELETE", f"/v1/datasets/{ds}/documents/{d1}")[0], 204, "delete")
    expect_error(srv.call("GET", f"/v1/datasets/{ds}/documents/{d1}"), 404, "not_found",
                 "a deleted document")
    expect_error(srv.call("DELETE", f"/v1/datasets/{ds}/documents/{d1}"), 404, "not_found",
                 "delete twice", "Document Not Exists.")
    expect_counters(srv, ds, (2, len(t2), 1), "after delete")
    eq(srv.call("DELETE", f"/v1/datasets/{ds}/documents/{bad['id']}")[0], 204, "delete error doc")
    expect_counters(srv, ds, (1, len(t2), 1), "after deleting the failed document")


def test_update_by_text(srv):
    ds = new_dataset(srv, indexing_technique="economy")
    t_old = "Original text of the document."
    doc, batch = srv.create_text(ds, "orig.txt", t_old)
    srv.wait_indexed(ds, batch)
    before = srv.document(ds, doc["id"])
    t_new = "Replacement text, which is quite a bit longer than the original one was."
    st, _, js, raw = srv.call("POST", f"/v1/datasets/{ds}/documents/{doc['id']}/update-by-text",
                              body={"name": "renamed.txt", "text": t_new})
    if not eq(st, 200, f"update-by-text ({raw[:200]!r})"):
        return
    eq(js.get("batch"), batch, "update keeps the document's batch")
    eq(js["document"]["id"], doc["id"], "update answers the same document")
    eq(js["document"]["name"], "renamed.txt", "update renames")
    item = srv.wait_indexed(ds, batch)[0]
    eq(item["indexing_status"], "completed", f"updated document re-indexed ({item})")
    eq(item["id"], doc["id"], "the batch still holds the document")
    eq(srv.list_item(ds, doc["id"]).get("word_count"), len(t_new), "new word_count")
    expect_counters(srv, ds, (1, len(t_new), 1), "after update-by-text")
    st, _, dl, _ = srv.call("GET", f"/v1/datasets/{ds}/documents/{doc['id']}/download")
    st, _, _, body = srv.call("GET", dl["url"])
    eq(body, t_new.encode(), "the file URL serves the new text")
    after = srv.document(ds, doc["id"])
    eq(after.get("position"), before.get("position"), "update keeps the position")
    check((after.get("updated_at") or 0) >= (before.get("updated_at") or 0), "updated_at moves on")
    # a new rule alone re-splits the same text
    text = "\n\n".join([PARA60] * 4)
    st, _, js, raw = srv.call("POST", f"/v1/datasets/{ds}/documents/{doc['id']}/update-by-text",
                              body={"name": "paras.txt", "text": text})
    srv.wait_indexed(ds, batch)
    st, _, js, raw = srv.call("POST", f"/v1/datasets/{ds}/documents/{doc['id']}/update-by-text",
                              body={"process_rule": custom("\\n\\n", 100)})
    eq(st, 200, f"update-by-text with only a process_rule ({raw[:200]!r})")
    item = srv.wait_indexed(ds, batch)[0]
    eq(item["total_segments"], 4, "re-split with the new rule: one segment per paragraph")
    eq(srv.document(ds, doc["id"]).get("name"), "paras.txt", "a rule-only update keeps the name")
    # refusals
    base = f"/v1/datasets/{ds}/documents/{doc['id']}/update-by-text"
    expect_error(srv.call("POST", base, body={"name": "only-a-name.txt"}), 400, "invalid_param",
                 "update without text or rule", "Data source or Process rule is required")
    expect_error(srv.call("POST", base, body={"text": "text without a name"}), 400,
                 "invalid_param", "text without name", "name is required when text is provided")
    expect_error(srv.call("POST", base, body={"name": "a.txt", "text": "t",
                                              "process_rule": custom("\\n", 10)}),
                 400, "invalid_param", "update with an invalid rule",
                 "Custom segment length should be between 50 and 4000.")
    expect_error(srv.call("POST", f"/v1/datasets/{ds}/documents/{uuid.uuid4()}/update-by-text",
                          body={"name": "a.txt", "text": "t"}), 404, "not_found",
                 "update an unknown document")


def test_update_by_file(srv):
    ds = new_dataset(srv, indexing_technique="economy")
    doc, batch = srv.create_file(ds, "first.txt", b"The first version of the file.",
                                 data={"process_rule": {"mode": "automatic"}})
    srv.wait_indexed(ds, batch)
    contents = {}
    for method, path in (("POST", f"/v1/datasets/{ds}/documents/{doc['id']}/update-by-file"),
                         ("POST", f"/v1/datasets/{ds}/documents/{doc['id']}/update_by_file"),
                         ("PATCH", f"/v1/datasets/{ds}/documents/{doc['id']}")):
        new = f"Version written by {method} {path[-14:]}, with new words in it.".encode()
        name = f"v-{method.lower()}-{len(contents)}.md"
        st, _, js, raw = srv.upload(path, files=[("file", name, new)], method=method)
        if not eq(st, 200, f"{method} {path}: update by file ({raw[:200]!r})"):
            continue
        contents[name] = new
        eq(js.get("batch"), batch, f"{method} update-by-file keeps the batch")
        eq(js["document"]["name"], name, f"{method}: the name becomes the new file's")
        item = srv.wait_indexed(ds, batch)[0]
        eq(item["indexing_status"], "completed", f"{method}: re-indexed ({item})")
        eq(srv.list_item(ds, doc["id"]).get("word_count"), len(new), f"{method}: new word_count")
        det = srv.document(ds, doc["id"])
        up = (det.get("data_source_info") or {}).get("upload_file") or {}
        eq((up.get("name"), up.get("extension"), up.get("size")), (name, "md", len(new)),
           f"{method}: upload_file of the detail")
        dl = srv.call("GET", f"/v1/datasets/{ds}/documents/{doc['id']}/download")[2]
        eq(srv.call("GET", dl["url"])[3], new, f"{method}: the file URL serves the new file")
        expect_counters(srv, ds, (1, len(new), 1), f"after {method} update-by-file")
    base = f"/v1/datasets/{ds}/documents/{doc['id']}/update-by-file"
    expect_error(srv.upload(base, data={}), 400, "invalid_param",
                 "update-by-file without file or rule", "Data source or Process rule is required")
    expect_error(srv.upload(base, files=[("file", "x.exe", b"MZ")]), 415,
                 "unsupported_file_type", "update-by-file with an .exe")
    expect_error(srv.upload(base, files=[("file", "a.txt", b"a"), ("file", "b.txt", b"b")]), 400,
                 "too_many_files", "update-by-file with two files")
    expect_error(srv.upload(base, files=[("file", "", b"a")]), 400,
                 "filename_not_exists_error", "update-by-file with an empty filename")
    st, _, js, raw = srv.upload(base, data={"process_rule": custom("\\n", 100)})
    eq(st, 200, f"update-by-file with only a rule ({raw[:200]!r})")
    srv.wait_indexed(ds, batch)
    eq(srv.document(ds, doc["id"]).get("name"), list(contents)[-1] if contents else None,
       "a rule-only update keeps the name")


def test_update_fixes_a_failed_document(srv):
    """COMPAT D12: a document in error accepts new content."""
    ds = new_dataset(srv, indexing_technique="economy")
    bad, batch = srv.create_file(ds, "report.pdf", fixtures.random_bytes(512, seed=21),
                                 data={"process_rule": {"mode": "automatic"}})
    eq(srv.wait_indexed(ds, batch)[0]["indexing_status"], "error", "random .pdf fails")
    expect_counters(srv, ds, (1, 0, 0), "after a failed document")
    good = b"The report, as plain text this time."
    st, _, js, raw = srv.upload(f"/v1/datasets/{ds}/documents/{bad['id']}/update-by-file",
                                files=[("file", "report.txt", good)])
    if not eq(st, 200, f"update-by-file of a document in error ({raw[:200]!r})"):
        return
    it = srv.wait_indexed(ds, batch)[0]
    eq((it["indexing_status"], it.get("error"), it.get("stopped_at")), ("completed", None, None),
       "the fixed document completes, its error cleared")
    expect_counters(srv, ds, (1, len(good), 1), "after fixing the document")


def test_status_action_skips_unknown_ids(srv):
    """Dify 4.2.9: ids that are not documents of the dataset are skipped silently and
    the others are acted on (COMPAT.md row 17 says "same")."""
    ds = new_dataset(srv, indexing_technique="economy")
    doc, _ = indexed(srv, ds, "known.txt", "A known document.")
    st, _, js, raw = action(srv, ds, "disable", [doc["id"], str(uuid.uuid4())])
    eq((st, js), (200, {"result": "success"}), f"disable with one unknown id ({raw[:200]!r})")
    eq(srv.document(ds, doc["id"]).get("enabled"), False, "the known document is disabled")
