"""Retrieval: POST /v1/datasets/{id}/retrieve (alias /hit-testing) with every search method,
top_k, score thresholds, the dataset's stored retrieval model, Chinese text and validation;
what a search sees after document and chunk edits; parent-child records; and the external
knowledge API (POST /retrieval, /v1/retrieval) through which Dify mounts a ragd dataset.

Two shared corpora (one high_quality, one economy dataset, one topic per document) are
created once per server; tests that edit anything make datasets of their own."""
import re
import threading
import time
import uuid

from harness import check, eq, expect_error, retrieval_model as rm

# These tests are written against the language-agnostic hash embedder (Chinese documents,
# keyword-like queries), so their server keeps it as the default even when the GloVe table
# is installed; tests/api/test_embed.py covers GloVe.  (Under GloVe, test_parent_child_records
# shows a record scored by a direct hit on its parent segment, above its best child.)
SERVER_ENV = {"RAGD_GLOVE_PATH": ""}

HQ_DOCS = [
    ("astronomy.txt", "Astronomers observe distant galaxies and nebulae through large telescopes "
                      "on clear nights."),
    ("baking.txt", "Bake the sourdough loaf in a hot oven until the crust turns golden and crisp."),
    ("gardening.txt", "Water the tomato seedlings every morning and pull weeds from the vegetable "
                      "beds."),
    ("chess.txt", "The grandmaster sacrificed her queen and delivered checkmate with a knight."),
    ("sailing.txt", "Sailors trim the mainsail and steer the yacht across choppy harbour waves."),
    ("photosynthesis.txt", "光合作用是植物利用阳光把二氧化碳和水转化为葡萄糖的过程。"),
    ("greatwall.txt", "长城是中国古代修建的军事防御工程，绵延数千公里。"),
]
ECO_DOCS = [
    ("whales.txt", "Humpback whales migrate thousands of kilometres to warm breeding waters."),
    ("volcano.txt", "Volcanic eruptions spread ash and lava over the surrounding villages."),
    ("bees.txt", "Honeybees pollinate orchards and store nectar as honey in wax combs."),
    ("tea.txt", "绿茶产于浙江，龙井茶以色绿、香郁、味甘、形美著称。"),
    ("panda.txt", "大熊猫主要生活在四川的竹林中，以竹子为食。"),
]
TEXT = dict(HQ_DOCS + ECO_DOCS)
PARA_RULE = {"mode": "custom", "rules": {"pre_processing_rules": [], "segmentation": {
    "separator": "\\n\\n", "max_tokens": 200, "chunk_overlap": 0}}}
HIER_RULE = {"mode": "hierarchical", "rules": {
    "pre_processing_rules": [], "parent_mode": "paragraph",
    "segmentation": {"separator": "\\n\\n", "max_tokens": 500},
    "subchunk_segmentation": {"separator": "\\n", "max_tokens": 100, "chunk_overlap": 0}}}
METHODS_HQ = ("semantic_search", "full_text_search", "hybrid_search")

_corpora = {}


def weights(vector, keyword):
    return {"weight_type": "customized",
            "vector_setting": {"vector_weight": vector, "embedding_provider_name": "",
                               "embedding_model_name": ""},
            "keyword_setting": {"keyword_weight": keyword}}


def hybrid(top_k=4, vector=0.7, keyword=0.3, threshold=None):
    return rm("hybrid_search", top_k, threshold, reranking_mode="weighted_score",
              weights=weights(vector, keyword))


def new_dataset(srv, technique, key=None, **fields):
    kw = {"key": key} if key else {}
    return srv.create_dataset(f"ret-{uuid.uuid4().hex[:10]}", indexing_technique=technique,
                              **kw, **fields)["id"]


def add_docs(srv, ds, docs, technique, key=None, **fields):
    """Creates text documents and waits for all of them; returns {name: document id}."""
    kw = {"key": key} if key else {}
    ids, batches = {}, []
    for name, text in docs:
        d, b = srv.create_text(ds, name, text, indexing_technique=technique, **kw, **fields)
        ids[name] = d["id"]
        batches.append(b)
    for b in batches:
        it = srv.wait_indexed(ds, b, **kw)[0]
        assert it["indexing_status"] == "completed", f"corpus document not indexed: {it}"
    return ids


def corpus(srv, technique):
    """(dataset id, {name: document id}) of the shared corpus of that technique."""
    k = (srv.data, technique)
    if k not in _corpora:
        ds = new_dataset(srv, technique)
        _corpora[k] = (ds, add_docs(srv, ds, HQ_DOCS if technique == "high_quality" else ECO_DOCS,
                                    technique))
    return _corpora[k]


def records(resp, msg, top_k=None):
    """The records of a retrieve answer, checked: HTTP 200, scores numbers in descending
    order, no segment twice, at most top_k."""
    st, _, js, raw = resp
    if not eq(st, 200, f"{msg}: HTTP status ({raw[:300]!r})"):
        return []
    recs = js.get("records") if isinstance(js, dict) else None
    if not check(isinstance(recs, list), f"{msg}: no records list in {raw[:300]!r}"):
        return []
    scores = [r.get("score") for r in recs]
    if not check(all(isinstance(s, (int, float)) and not isinstance(s, bool) for s in scores),
                 f"{msg}: scores are not all numbers: {scores}"):
        return recs
    check(scores == sorted(scores, reverse=True), f"{msg}: scores not descending: {scores}")
    ids = [r["segment"]["id"] for r in recs]
    check(len(set(ids)) == len(ids), f"{msg}: a segment is listed twice: {ids}")
    if top_k is not None:
        check(len(recs) <= top_k, f"{msg}: {len(recs)} records for top_k {top_k}")
    return recs


def names(recs):
    return [r["segment"]["document"]["name"] for r in recs]


def seg_ids(recs):
    return [r["segment"]["id"] for r in recs]


def search(srv, ds, query, method="full_text_search", top_k=100, msg=None):
    return records(srv.retrieve(ds, query, rm(method, top_k)), msg or f"{method} {query!r}", top_k)


def found(srv, ds, query, seg_id, method="full_text_search"):
    return seg_id in seg_ids(search(srv, ds, query, method))


def action(srv, ds, name, ids):
    st, _, js, raw = srv.call("PATCH", f"/v1/datasets/{ds}/documents/status/{name}",
                              body={"document_ids": ids})
    eq(st, 200, f"PATCH documents/status/{name} ({raw[:200]!r})")


def seg_path(ds, doc, seg=None):
    p = f"/v1/datasets/{ds}/documents/{doc}/segments"
    return p + f"/{seg}" if seg else p


# ---- each search method --------------------------------------------------------------------


def test_each_method_finds_the_right_chunk(srv):
    hq, _ = corpus(srv, "high_quality")
    eco, _ = corpus(srv, "economy")
    cases = [
        (hq, rm("semantic_search", 3), "telescopes observing galaxies", "astronomy.txt"),
        (hq, rm("full_text_search", 3), "sourdough oven", "baking.txt"),
        (hq, hybrid(3, 0.6, 0.4), "checkmate queen knight", "chess.txt"),
        (hq, rm("keyword_search", 3), "mainsail yacht", "sailing.txt"),
        (eco, rm("keyword_search", 3), "honeybees nectar", "bees.txt"),
    ]
    for ds, model, query, want in cases:
        msg = f"{model['search_method']} on {'economy' if ds == eco else 'high_quality'} {query!r}"
        st, _, js, raw = srv.retrieve(ds, query, model)
        recs = records((st, _, js, raw), msg, 3)
        if not check(recs, f"{msg}: no records"):
            continue
        eq((js.get("query") or {}).get("content"), query, f"{msg}: query.content")
        eq(names(recs)[0], want, f"{msg}: best record's document (all: {names(recs)})")
        eq(recs[0]["segment"]["content"], TEXT[want], f"{msg}: best record's content")
        check(isinstance(recs[0]["child_chunks"], list) and recs[0]["child_chunks"] == [],
              f"{msg}: child_chunks of a text_model record: {recs[0].get('child_chunks')!r}")
    # full-text methods list only the chunks that share a term with the query
    for ds, method, query, want in ((hq, "full_text_search", "sourdough oven", ["baking.txt"]),
                                    (eco, "keyword_search", "honeybees nectar", ["bees.txt"])):
        eq(names(search(srv, ds, query, method)), want, f"{method} {query!r}: the only match")
    # an economy dataset searches by keywords whatever the request names
    recs = records(srv.retrieve(eco, "volcanic lava", rm("semantic_search", 3)),
                   "semantic_search on an economy dataset", 3)
    eq(names(recs)[:1], ["volcano.txt"], "semantic_search on an economy dataset (keyword search)")


def test_hybrid_weights_are_applied(srv):
    """hybrid = vector_weight x cosine + keyword_weight x normalised BM25 (best match 1)."""
    hq, _ = corpus(srv, "high_quality")
    q = "telescopes galaxies nebulae"
    sem = records(srv.retrieve(hq, q, rm("semantic_search", 1)), "semantic", 1)
    ft = records(srv.retrieve(hq, q, rm("full_text_search", 1)), "full text", 1)
    if not (check(sem and ft, "semantic and full-text searches found nothing")):
        return
    eq(ft[0]["score"], 1.0, "full_text_search: the best match scores 1")
    cos = sem[0]["score"]
    for v, k in ((1.0, 0.0), (0.0, 1.0), (0.5, 0.5), (0.2, 0.8)):
        recs = records(srv.retrieve(hq, q, hybrid(1, v, k)), f"hybrid {v}/{k}", 1)
        if not check(recs, f"hybrid {v}/{k}: no record"):
            continue
        eq(names(recs), ["astronomy.txt"], f"hybrid {v}/{k}: best document")
        check(abs(recs[0]["score"] - (v * cos + k * 1.0)) < 1e-6,
              f"hybrid {v}/{k}: score {recs[0]['score']}, expected {v} x {cos} + {k} x 1")


def test_hybrid_scores_every_candidate_by_both_methods(srv):
    """Each hybrid record's score is vector_weight x its cosine + keyword_weight x its
    normalised BM25, also for a record only one of the two candidate lists held (Dify
    scores every candidate by both methods; a missing one does not count as 0)."""
    hq, _ = corpus(srv, "high_quality")
    for q in ("telescopes galaxies nebulae", "sourdough oven crust", "sails and wind"):
        cos = {r["segment"]["id"]: r["score"]
               for r in search(srv, hq, q, "semantic_search", 100)}
        bm = {r["segment"]["id"]: r["score"]
              for r in search(srv, hq, q, "full_text_search", 100)}
        for v, k in ((0.7, 0.3), (0.3, 0.7)):
            recs = records(srv.retrieve(hq, q, hybrid(1, v, k)), f"hybrid {q!r}", 1)
            for r in recs:  # top_k 1: 4 candidates a list, fewer than the corpus
                sid = r["segment"]["id"]
                want = v * max(cos.get(sid, 0), 0) + k * bm.get(sid, 0)
                check(abs(r["score"] - want) < 1e-6,
                      f"hybrid {v}/{k} {q!r}: {r['score']} != {v} x {cos.get(sid)} + {k} x "
                      f"{bm.get(sid, 0)}")


def test_reciprocal_rank_fusion(srv):
    """reranking_mode reciprocal_rank_fusion (ragd extension): sum of w x 61 / (60 + rank)
    over the semantic and the full-text lists, so the unit first in both scores 1."""
    hq, _ = corpus(srv, "high_quality")
    q = "telescopes galaxies nebulae"
    sem = records(srv.retrieve(hq, q, rm("semantic_search", 20)), "semantic", 20)
    ft = records(srv.retrieve(hq, q, rm("full_text_search", 20)), "full text", 20)
    for v, k in ((0.5, 0.5), (0.8, 0.2)):
        model = rm("hybrid_search", 5, None, reranking_mode="reciprocal_rank_fusion",
                   weights=weights(v, k))
        recs = records(srv.retrieve(hq, q, model), f"rrf {v}/{k}", 5)
        if not check(recs, f"rrf {v}/{k}: no record"):
            continue
        want = {}
        for w, lst in ((v, sem), (k, ft)):
            for rank, r in enumerate(lst[:20]):
                sid = r["segment"]["id"]
                want[sid] = want.get(sid, 0) + w * 61 / (61 + rank)
        for r in recs:
            check(abs(r["score"] - want.get(r["segment"]["id"], -1)) < 1e-9,
                  f"rrf {v}/{k}: {r['segment']['document']['name']} scored {r['score']}, "
                  f"expected {want.get(r['segment']['id'])}")
        eq(names(recs)[0], "astronomy.txt", f"rrf {v}/{k}: best document")
        if v == k:
            eq(recs[0]["score"], 1.0, "rrf: first in both lists scores 1")
    # without weights: equal ones
    model = rm("hybrid_search", 1, None, reranking_mode="reciprocal_rank_fusion")
    recs = records(srv.retrieve(hq, q, model), "rrf without weights", 1)
    eq([r["score"] for r in recs], [1.0], "rrf without weights: equal weights")
    st, _, js, _ = srv.retrieve(hq, q, rm("hybrid_search", 1, None, reranking_mode="rrf"))
    expect_error((st, _, js, _), 400, "invalid_param", "an unknown reranking_mode")


def test_server_timing(srv):
    """/retrieve says how long the query embedding and the search took (Server-Timing)."""
    hq, _ = corpus(srv, "high_quality")
    for method in METHODS_HQ:
        st, hdrs, _, raw = srv.retrieve(hq, "telescopes", rm(method, 3))
        eq(st, 200, f"{method}: status ({raw[:200]!r})")
        v = {k.lower(): x for k, x in hdrs.items()}.get("server-timing", "")
        m = re.fullmatch(r"embed;dur=(\d+\.\d{3}), search;dur=(\d+\.\d{3})", v)
        if check(m, f"{method}: Server-Timing {v!r}"):
            if method == "full_text_search":
                eq(float(m.group(1)), 0.0, f"{method}: no query embedding")


def test_approximate_index(srv):
    """With RAGD_ANN_MIN_VECTORS low, semantic search goes through the HNSW index built in
    the background: the same answers as the exact scan of another server on the same
    corpus (the graph holds fewer vectors than its candidate list, so it is exact), and
    an edit is visible at once (its document is searched in a layer over the base)."""
    s = srv.spawn(env={"RAGD_ANN_MIN_VECTORS": "5"})
    hq, _ = corpus(s, "high_quality")
    ref, _ = corpus(srv, "high_quality")
    queries = ["telescopes observing galaxies", "bread dough", "ships and sails", "insects"]
    search(s, hq, queries[0], "semantic_search")  # the first search builds the snapshot
    deadline = time.time() + 20
    while "approximate index over" not in s.log() and time.time() < deadline:
        time.sleep(0.05)
    check("approximate index over" in s.log(), "the background thread built the index")
    for q in queries:
        for m in ("semantic_search", "hybrid_search"):
            got = [(r["segment"]["content"], round(r["score"], 6)) for r in search(s, hq, q, m, 5)]
            want = [(r["segment"]["content"], round(r["score"], 6))
                    for r in search(srv, ref, q, m, 5)]
            eq(got, want, f"{m} {q!r}: through the graph as by the exact scan")
    add_docs(s, hq, [("zebra.txt", "Zebras graze on the savanna in striped herds.")],
             "high_quality")
    for m in ("semantic_search", "hybrid_search"):
        check("zebra.txt" in names(search(s, hq, "striped zebras savanna", m, 3)),
              f"{m}: a new document is found at once (in the layer over the graph's base)")
        check("astronomy.txt" in names(search(s, hq, "telescopes galaxies", m, 3)),
              f"{m}: the base's documents are still found through the graph")


def test_top_k(srv):
    hq, _ = corpus(srv, "high_quality")
    eco, _ = corpus(srv, "economy")
    four = "telescopes sourdough checkmate mainsail"  # one word of four documents
    eq(len(search(srv, hq, four, "full_text_search", 10)), 4, "full text, top_k 10: 4 matches")
    for method in METHODS_HQ + ("keyword_search",):
        for k in (1, 2, 3):
            model = hybrid(k) if method == "hybrid_search" else rm(method, k)
            recs = records(srv.retrieve(hq, four, model), f"{method} top_k {k}", k)
            eq(len(recs), k, f"{method}, top_k {k}: records")
    three = "whales volcanic honeybees"
    eq(len(search(srv, eco, three, "keyword_search", 10)), 3, "economy, top_k 10: 3 matches")
    eq(len(records(srv.retrieve(eco, three, rm("keyword_search", 2)), "economy top_k 2", 2)), 2,
       "economy keyword_search, top_k 2: records")
    recs = records(srv.retrieve(hq, "telescopes", rm("semantic_search", 100)), "top_k 100", 100)
    check(1 <= len(recs) <= len(HQ_DOCS), f"top_k 100: {len(recs)} records of {len(HQ_DOCS)}")


def test_score_threshold(srv):
    hq, _ = corpus(srv, "high_quality")
    q = "telescopes galaxies sourdough checkmate"
    for method in METHODS_HQ:
        model = hybrid(10) if method == "hybrid_search" else rm(method, 10)
        base = [r["score"] for r in records(srv.retrieve(hq, q, model), f"{method} base", 10)]
        mids = sorted({s for s in base if 0 < s < base[0]}, reverse=True) if base else []
        if not check(mids, f"{method}: no score strictly between 0 and the best: {base}"):
            continue
        t = mids[len(mids) // 2]  # a score that some record has exactly: >= keeps it
        model.update(score_threshold_enabled=True, score_threshold=t)
        got = [r["score"] for r in records(srv.retrieve(hq, q, model), f"{method} t={t}", 10)]
        eq(got, [s for s in base if s >= t], f"{method}, score_threshold {t}: scores kept (>=)")
        model["score_threshold_enabled"] = False
        got = [r["score"] for r in records(srv.retrieve(hq, q, model), f"{method} disabled", 10)]
        eq(got, base, f"{method}: a threshold that is not enabled changes nothing")
    # full text: the best match scores exactly 1, and threshold 1 keeps it
    recs = records(srv.retrieve(hq, q, rm("full_text_search", 10, 1.0)), "threshold 1.0", 10)
    check(recs and all(r["score"] == 1.0 for r in recs),
          f"full_text_search, threshold 1.0: {[r['score'] for r in recs]}")


def test_stored_retrieval_model(srv):
    ds = new_dataset(srv, "high_quality", retrieval_model=rm("full_text_search", 1))
    add_docs(srv, ds, HQ_DOCS[:4], "high_quality")
    q = "telescopes sourdough checkmate"
    for label, extra in (("no retrieval_model", {}),
                         ("retrieval_model null", {"retrieval_model": None})):
        st, _, js, raw = srv.call("POST", f"/v1/datasets/{ds}/retrieve",
                                  body=dict(query=q, **extra))
        recs = records((st, _, js, raw), label)
        eq([r["score"] for r in recs], [1.0], f"{label}: the stored model (full text, top_k 1)")
    eq(len(records(srv.retrieve(ds, q, rm("full_text_search", 3)), "request model")), 3,
       "a request's retrieval_model wins over the stored one")
    st, _, _, raw = srv.call("PATCH", f"/v1/datasets/{ds}",
                             body={"retrieval_model": rm("full_text_search", 2)})
    eq(st, 200, f"PATCH the dataset's retrieval_model ({raw[:200]!r})")
    eq(len(records(srv.retrieve(ds, q), "after PATCH")), 2, "the patched model (top_k 2) is used")
    srv.call("PATCH", f"/v1/datasets/{ds}", body={"retrieval_model": rm("semantic_search", 3)})
    recs = records(srv.retrieve(ds, "telescopes galaxies"), "stored semantic", 3)
    check(recs and names(recs)[0] == "astronomy.txt" and recs[0]["score"] < 1.0,
          f"stored semantic_search: {[(n, r['score']) for n, r in zip(names(recs), recs)]}")


def test_chinese_queries(srv):
    hq, _ = corpus(srv, "high_quality")
    eco, _ = corpus(srv, "economy")
    for query, want in (("二氧化碳", "photosynthesis.txt"), ("长城", "greatwall.txt"),
                        ("植物的光合作用", "photosynthesis.txt")):
        eq(names(search(srv, hq, query, "full_text_search")), [want],
           f"full_text_search {query!r} on Chinese text")
    eq(names(search(srv, hq, "光合作用", "semantic_search"))[:1], ["photosynthesis.txt"],
       "semantic_search 光合作用")
    for query, want in (("龙井茶", "tea.txt"), ("大熊猫", "panda.txt"),
                        ("四川竹林", "panda.txt")):
        eq(names(search(srv, eco, query, "keyword_search")), [want],
           f"economy keyword_search {query!r}")


def test_long_query_accepted(srv):
    hq, _ = corpus(srv, "high_quality")
    q = "Which telescopes let astronomers observe galaxies and nebulae? " * 5
    check(len(q) > 250, "the query is longer than 250 characters")
    for method in METHODS_HQ:
        model = hybrid(2) if method == "hybrid_search" else rm(method, 2)
        recs = records(srv.retrieve(hq, q, model), f"{method}, {len(q)}-character query", 2)
        eq(names(recs)[:1], ["astronomy.txt"], f"{method}: a {len(q)}-character query")


def test_invalid_requests(srv):
    hq, _ = corpus(srv, "high_quality")
    good = rm("semantic_search", 3)

    def without(k):
        return {f: v for f, v in good.items() if f != k}

    cases = [
        ({"query": "x", "retrieval_model": rm("magic_search", 3)}, "unknown search_method"),
        ({"query": "x", "retrieval_model": rm("semantic_search", 0)}, "top_k 0"),
        ({"query": "x", "retrieval_model": rm("semantic_search", 10000)}, "top_k 10000"),
        ({"query": "x", "retrieval_model": rm("semantic_search", -1)}, "top_k -1"),
        ({"query": "x", "retrieval_model": rm("semantic_search", "3")}, "top_k a string"),
        ({"query": "x", "retrieval_model": hybrid(3, 0.5, 0.4)}, "weights summing to 0.9"),
        ({"query": "x", "retrieval_model": hybrid(3, 0.9, 0.3)}, "weights summing to 1.2"),
        ({"query": "x", "retrieval_model": rm("semantic_search", 3, 1.5)}, "score_threshold 1.5"),
        ({"query": ""}, "empty query"),
        ({"query": "   "}, "blank query"),
        ({}, "missing query"),
        ({"retrieval_model": good}, "retrieval_model but no query"),
        ({"query": 42}, "query a number"),
        ({"query": "x", "retrieval_model": "semantic_search"}, "retrieval_model a string"),
        ({"query": "x", "retrieval_model": {"search_method": "semantic_search"}},
         "retrieval_model with search_method only"),
    ] + [({"query": "x", "retrieval_model": without(k)}, f"retrieval_model without {k}")
         for k in ("search_method", "reranking_enable", "top_k", "score_threshold_enabled")]
    for path in ("retrieve", "hit-testing"):
        for body, what in cases:
            expect_error(srv.call("POST", f"/v1/datasets/{hq}/{path}", body=body), 400,
                         "invalid_param", f"/{path} with {what}")
    for path in ("retrieve", "hit-testing"):
        expect_error(srv.retrieve(str(uuid.uuid4()), "telescopes", good, path=path), 404,
                     "not_found", f"/{path} on an unknown dataset")


def test_hit_testing_alias(srv):
    hq, _ = corpus(srv, "high_quality")
    for model in (rm("semantic_search", 3), rm("full_text_search", 3), hybrid(3)):
        a = records(srv.retrieve(hq, "sourdough crust", model), "retrieve", 3)
        b = records(srv.retrieve(hq, "sourdough crust", model, path="hit-testing"),
                    "hit-testing", 3)
        check(a, f"{model['search_method']}: /retrieve found nothing")
        eq([(r["segment"]["id"], r["score"]) for r in b],
           [(r["segment"]["id"], r["score"]) for r in a],
           f"{model['search_method']}: /hit-testing answers as /retrieve")


# ---- visibility after edits --------------------------------------------------------------


def test_document_status_visibility(srv):
    ds = new_dataset(srv, "high_quality")
    ids = add_docs(srv, ds, [("kangaroo.txt", "Kangaroos hop across the dusty outback."),
                             ("koala.txt", "Koalas sleep all day in eucalyptus trees.")],
                   "high_quality")
    a, b = ids["kangaroo.txt"], ids["koala.txt"]

    def visible(msg):
        """(kangaroo document found by full text, by semantic search), koala still found."""
        ft = search(srv, ds, "kangaroos outback", "full_text_search", msg=msg)
        sem = search(srv, ds, "kangaroos outback", "semantic_search", msg=msg)
        check("koala.txt" in names(search(srv, ds, "koalas eucalyptus")),
              f"{msg}: the other document is no longer found")
        docs = {r["segment"]["document_id"] for r in ft}, {r["segment"]["document_id"] for r in sem}
        return a in docs[0], a in docs[1]

    eq(visible("indexed"), (True, True), "a new document is found")
    action(srv, ds, "disable", [a])
    eq(visible("disabled"), (False, False), "a disabled document's chunks are not retrieved")
    action(srv, ds, "enable", [a])
    eq(visible("enabled"), (True, True), "an enabled document's chunks are retrieved again")
    action(srv, ds, "archive", [a])
    eq(visible("archived"), (False, False), "an archived document's chunks are not retrieved")
    action(srv, ds, "un_archive", [a])
    eq(visible("un_archived"), (True, True), "an un_archived document is retrieved again")
    st, _, _, raw = srv.call("DELETE", f"/v1/datasets/{ds}/documents/{a}")
    eq(st, 204, f"delete the document ({raw[:200]!r})")
    eq(visible("deleted"), (False, False), "a deleted document's chunks are not retrieved")
    check(b in {r["segment"]["document_id"] for r in search(srv, ds, "koalas", "hybrid_search")},
          "the remaining document is still found by hybrid search")


def chunk_edits_visible(srv, technique, methods):
    ds = new_dataset(srv, technique)
    doc = add_docs(srv, ds, [("animals.txt", "Otters float on their backs.\n\n"
                                             "Beavers build dams across rivers.")],
                   technique, process_rule=PARA_RULE)["animals.txt"]
    st, _, js, raw = srv.call("POST", seg_path(ds, doc), body={
        "segments": [{"content": "Narwhals have one long spiral tusk."}]})
    if not eq(st, 200, f"{technique}: add a chunk ({raw[:200]!r})"):
        return
    sid = js["data"][0]["id"]
    for m in methods:  # at once: no wait between the call and the search
        check(found(srv, ds, "narwhals tusk", sid, m),
              f"{technique}/{m}: a chunk added through the API is not retrieved at once")
    st, _, js, raw = srv.call("POST", seg_path(ds, doc, sid),
                              body={"segment": {"content": "Axolotls regrow their lost limbs."}})
    eq(st, 200, f"{technique}: update the chunk ({raw[:200]!r})")
    for m in methods:
        check(found(srv, ds, "axolotls limbs", sid, m),
              f"{technique}/{m}: the updated chunk is not found by its new words")
    full_text = methods[-1]
    check(not found(srv, ds, "narwhals tusk", sid, full_text),
          f"{technique}/{full_text}: the updated chunk is still found by its old words")
    st, _, js, raw = srv.call("POST", seg_path(ds, doc, sid), body={"segment": {"enabled": False}})
    eq((st, (js or {}).get("data", {}).get("enabled")), (200, False),
       f"{technique}: disable the chunk ({raw[:200]!r})")
    for m in methods:
        check(not found(srv, ds, "axolotls limbs", sid, m),
              f"{technique}/{m}: a disabled chunk is still retrieved")
    check(found(srv, ds, "beavers dams", srv.segments(ds, doc)[1]["id"], full_text),
          f"{technique}: the document's other chunks are still found")
    srv.call("POST", seg_path(ds, doc, sid), body={"segment": {"enabled": True}})
    check(found(srv, ds, "axolotls limbs", sid, full_text),
          f"{technique}: a chunk enabled again is not retrieved")
    eq(srv.call("DELETE", seg_path(ds, doc, sid))[0], 204, f"{technique}: delete the chunk")
    for m in methods:
        check(not found(srv, ds, "axolotls limbs", sid, m),
              f"{technique}/{m}: a deleted chunk is still retrieved")


def test_chunk_edits_visible_high_quality(srv):
    chunk_edits_visible(srv, "high_quality", ("semantic_search", "hybrid_search",
                                              "full_text_search"))


def test_chunk_edits_visible_economy(srv):
    chunk_edits_visible(srv, "economy", ("keyword_search",))


def test_economy_chunk_keywords_searchable(srv):
    """Dify 4.3.1: an economy chunk's keyword-table entries are the keywords given with it
    (extracted only when none are given), so keyword_search finds it by them."""
    ds = new_dataset(srv, "economy")
    doc = add_docs(srv, ds, [("a.txt", "Camels cross the desert.\n\nLlamas live in the Andes.")],
                   "economy", process_rule=PARA_RULE)["a.txt"]
    st, _, js, raw = srv.call("POST", seg_path(ds, doc), body={"segments": [
        {"content": "Quokkas smile at tourists.", "keywords": ["marsupial", "rottnest"]}]})
    if not eq(st, 200, f"add a chunk with keywords ({raw[:200]!r})"):
        return
    sid = js["data"][0]["id"]
    check(found(srv, ds, "quokkas", sid, "keyword_search"), "found by a word of its content")
    check(found(srv, ds, "marsupial", sid, "keyword_search"),
          "POST .../segments {keywords: [marsupial, rottnest]} on an economy dataset, then "
          "keyword_search 'marsupial': the chunk is not found by its given keyword")


def test_document_update_visibility(srv):
    """update-by-text replaces a document's chunks: once re-indexed, its new words find it
    and its old words do not."""
    ds = new_dataset(srv, "high_quality")
    doc = add_docs(srv, ds, [("bird.txt", "Puffins nest on rocky cliffs.")],
                   "high_quality")["bird.txt"]
    st, _, js, raw = srv.call("POST", f"/v1/datasets/{ds}/documents/{doc}/update-by-text",
                              body={"name": "bird.txt", "text": "Ospreys dive for trout."})
    if not eq(st, 200, f"update-by-text ({raw[:200]!r})"):
        return
    srv.wait_indexed(ds, js["batch"])
    for m in ("full_text_search", "hybrid_search"):
        check(doc in {r["segment"]["document_id"] for r in search(srv, ds, "ospreys trout", m)},
              f"{m}: the updated document is not found by its new words")
    check(not search(srv, ds, "puffins cliffs"), "the updated document is found by its old words")


def test_search_after_restart(srv):
    ds = new_dataset(srv, "high_quality")
    ids = add_docs(srv, ds, [("moss.txt", "Mosses grow on damp northern stones."),
                             ("fern.txt", "Ferns unfurl fronds in shady forests.")],
                   "high_quality", process_rule=PARA_RULE)
    st, _, js, _ = srv.call("POST", seg_path(ds, ids["moss.txt"]),
                            body={"segments": [{"content": "Lichens pair fungi with algae."}]})
    sid = js["data"][0]["id"] if st == 200 else None
    action(srv, ds, "disable", [ids["fern.txt"]])
    srv.restart()
    for m in METHODS_HQ:
        check(found(srv, ds, "lichens algae", sid, m), f"{m} after restart: the added chunk")
        check("moss.txt" in names(search(srv, ds, "mosses damp stones", m)),
              f"{m} after restart: an indexed document")
        check("fern.txt" not in names(search(srv, ds, "ferns fronds", m)),
              f"{m} after restart: a disabled document is retrieved")
    action(srv, ds, "enable", [ids["fern.txt"]])
    check("fern.txt" in names(search(srv, ds, "ferns fronds")), "enabled after the restart")


# ---- parent-child ---------------------------------------------------------------------------

HIER_TEXT = ("Volcanoes erupt molten lava and ash.\nMagma chambers lie beneath volcanoes.\n"
             "Volcanic lava flows cool into basalt rock.\n\n"
             "Penguins live in Antarctica.\nPenguins swim fast to catch fish.\n"
             "Emperor penguins huddle against the cold.")


def hier_dataset(srv):
    ds = new_dataset(srv, "high_quality")
    d, b = srv.create_text(ds, "hier.txt", HIER_TEXT, indexing_technique="high_quality",
                           doc_form="hierarchical_model", process_rule=HIER_RULE)
    it = srv.wait_indexed(ds, b)[0]
    assert it["indexing_status"] == "completed", f"hierarchical document: {it}"
    return ds, d["id"]


def children_of(srv, ds, doc, seg):
    st, _, js, raw = srv.call("GET", seg_path(ds, doc, seg) + "/child_chunks?limit=100")
    assert st == 200, f"list child chunks: HTTP {st} {raw[:200]!r}"
    return {c["id"]: c for c in js["data"]}


def test_parent_child_records(srv):
    ds, doc = hier_dataset(srv)
    segs = srv.segments(ds, doc)
    if not eq(len(segs), 2, "hierarchical document: one segment per paragraph"):
        return
    volcano, penguin = segs
    kids = children_of(srv, ds, doc, volcano["id"])
    eq(len(kids), 3, "the first parent has one child chunk per line")
    for model in (rm("semantic_search", 2), rm("full_text_search", 2), hybrid(2)):
        m = model["search_method"]
        recs = records(srv.retrieve(ds, "volcanoes lava", model), f"{m} on parent-child", 2)
        if not check(recs, f"{m}: no record"):
            continue
        r = recs[0]
        eq(r["segment"]["id"], volcano["id"], f"{m}: the record is the parent segment")
        eq(r["segment"]["content"], volcano["content"],
           f"{m}: the record carries the parent's text")
        cc = r.get("child_chunks")
        if not check(isinstance(cc, list) and cc, f"{m}: child_chunks empty: {cc!r}"):
            continue
        check(all(set(c) >= {"id", "content", "position", "score"} for c in cc),
              f"{m}: child chunk fields {[sorted(c) for c in cc]}")
        check(all(c["id"] in kids and kids[c["id"]]["content"] == c["content"] for c in cc),
              f"{m}: child_chunks are not the parent's own children")
        cs = [c["score"] for c in cc]
        eq(cs, sorted(cs, reverse=True), f"{m}: child_chunks sorted by score, descending")
        eq(r["score"], max(cs), f"{m}: the record's score is its best child's")
        check(len({c["id"] for c in cc}) == len(cc), f"{m}: a child chunk is listed twice")
        eq(cc[0]["content"], "Volcanoes erupt molten lava and ash.", f"{m}: the best child")
        if m == "full_text_search":
            check(penguin["id"] not in seg_ids(recs), "full text: the parent without a match")


def test_parent_child_chunk_edits_visible(srv):
    ds, doc = hier_dataset(srv)
    volcano, penguin = srv.segments(ds, doc)
    base = seg_path(ds, doc, penguin["id"]) + "/child_chunks"

    def child_hit(query, child_id):
        recs = search(srv, ds, query, "full_text_search")
        return any(c["id"] == child_id for r in recs for c in r["child_chunks"])

    st, _, js, raw = srv.call("POST", base, body={"content": "Krill swarm beneath sea ice."})
    if not eq(st, 200, f"create a child chunk ({raw[:200]!r})"):
        return
    cid = js["data"]["id"]
    check(child_hit("krill swarm", cid), "a new child chunk is not retrieved at once")
    recs = search(srv, ds, "krill swarm", "full_text_search")
    eq(seg_ids(recs), [penguin["id"]], "a new child chunk is retrieved under its parent")
    st, _, _, raw = srv.call("PATCH", f"{base}/{cid}", body={"content": "Albatrosses glide far."})
    eq(st, 200, f"update the child chunk ({raw[:200]!r})")
    check(child_hit("albatrosses glide", cid), "an updated child is not found by its new words")
    check(not child_hit("krill swarm", cid), "an updated child is still found by its old words")
    eq(srv.call("DELETE", f"{base}/{cid}")[0], 204, "delete the child chunk")
    check(not child_hit("albatrosses glide", cid), "a deleted child chunk is still retrieved")
    check(child_hit("emperor penguins huddle",
                    next(k for k, c in children_of(srv, ds, doc, penguin["id"]).items()
                         if c["content"].startswith("Emperor"))),
          "the parent's other children are still retrieved")


def test_parent_update(srv):
    """New content for a parent-child segment: the parent is found by its new words at once.
    Without regenerate_child_chunks its children stay (Dify 4.3.4: only that flag rebuilds
    them); with it they are rebuilt from the new content, and the old words find nothing."""
    ds, doc = hier_dataset(srv)
    volcano, _ = srv.segments(ds, doc)
    old_kids = sorted(c["content"] for c in children_of(srv, ds, doc, volcano["id"]).values())
    new = "Glaciers carve deep fjords slowly.\nIcebergs calve from glaciers."
    st, _, js, raw = srv.call("POST", seg_path(ds, doc, volcano["id"]),
                              body={"segment": {"content": new}})
    if not eq(st, 200, f"update a parent segment ({raw[:200]!r})"):
        return
    eq(js["data"]["content"], new, "the parent's new content")
    for m in METHODS_HQ:
        check(volcano["id"] in seg_ids(search(srv, ds, "glaciers fjords", m)),
              f"{m}: the updated parent is not found by its new words")
    eq(sorted(c["content"] for c in children_of(srv, ds, doc, volcano["id"]).values()), old_kids,
       "without regenerate_child_chunks the children are kept")
    st, _, js, raw = srv.call("POST", seg_path(ds, doc, volcano["id"]), body={
        "segment": {"content": new, "regenerate_child_chunks": True}})
    if not eq(st, 200, f"update with regenerate_child_chunks ({raw[:200]!r})"):
        return
    got = children_of(srv, ds, doc, volcano["id"])
    kids = sorted(c["content"] for c in got.values())
    eq(kids, sorted(new.split("\n")), "regenerate_child_chunks: children of the new content")
    eq(sorted(c.get("type") for c in got.values()), ["automatic", "automatic"],
       "regenerated children are automatic")
    eq(sorted(c.get("position") for c in got.values()), [1, 2], "regenerated positions")
    check(volcano["id"] not in seg_ids(search(srv, ds, "magma chambers")),
          "after regenerate_child_chunks the parent is still found by its old words")
    for m in METHODS_HQ:
        recs = search(srv, ds, "icebergs calve", m)
        hit = next((r for r in recs if r["segment"]["id"] == volcano["id"]), None)
        if check(hit, f"{m}: the parent is found through its regenerated child"):
            check(any(k["content"].startswith("Icebergs") for k in hit["child_chunks"]),
                  f"{m}: the matched regenerated child is returned: {hit['child_chunks']}")


# ---- the external knowledge API ----------------------------------------------------------


def ext(srv, body, key=None, headers=None, path="/v1/retrieval"):
    hdrs = dict(headers or {})
    if key is not None:
        hdrs["Authorization"] = f"Bearer {key}"
    elif "Authorization" not in hdrs:
        hdrs["Authorization"] = None
    return srv.call("POST", path, body=body, headers=hdrs, key=None)


def expect_ext_error(resp, status, code, msg):
    st, _, js, raw = resp
    if not eq(st, status, f"{msg}: HTTP status ({raw[:200]!r})"):
        return
    check(isinstance(js, dict) and set(js) == {"error_code", "error_msg"}
          and isinstance(js.get("error_msg"), str),
          f"{msg}: body is not {{error_code, error_msg}}: {raw[:200]!r}")
    eq((js or {}).get("error_code"), code, f"{msg}: error_code")


def test_external_probe(srv):
    """Dify registers an endpoint with a body-less POST {endpoint}/retrieval and refuses
    it on 404, 403 or 502."""
    for path in ("/v1/retrieval", "/retrieval"):
        st, _, js, raw = srv.call("POST", path)
        eq((st, js), (200, {"records": []}), f"body-less POST {path} ({raw[:200]!r})")
        st, _, js, raw = srv.call("POST", path, raw=b"")
        check(st not in (403, 404, 502),
              f"POST {path} with Content-Type application/json and no body: HTTP {st}")


def test_external_auth_errors(srv):
    hq, _ = corpus(srv, "high_quality")
    body = {"knowledge_id": hq, "query": "telescopes",
            "retrieval_setting": {"top_k": 2, "score_threshold": 0.0}}
    for path in ("/v1/retrieval", "/retrieval"):
        expect_ext_error(ext(srv, body, path=path), 403, 1001, f"{path} without Authorization")
        for h in (f"Basic {srv.key}", srv.key, f"Token {srv.key}", "Bearer"):
            expect_ext_error(ext(srv, body, headers={"Authorization": h}, path=path), 403, 1001,
                             f"{path} with Authorization {h[:12]!r}...")
        for bad in ("dataset-" + "x" * 24, "not-a-key", srv.key[:-1] + ("a" if srv.key[-1] != "a"
                                                                         else "b")):
            expect_ext_error(ext(srv, body, key=bad, path=path), 403, 1002,
                             f"{path} with an unknown key {bad[:14]}...")
        expect_ext_error(ext(srv, dict(body, knowledge_id=str(uuid.uuid4())), key=srv.key,
                             path=path), 404, 2001, f"{path} with an unknown knowledge_id")
        expect_ext_error(ext(srv, dict(body, knowledge_id="not-a-uuid"), key=srv.key, path=path),
                         404, 2001, f"{path} with a knowledge_id that is not an id")
    # another tenant's dataset, and a dataset-bound key on a dataset it is not bound to
    other = srv.create_key(tenant="ext-other")
    theirs = new_dataset(srv, "economy", key=other)
    expect_ext_error(ext(srv, dict(body, knowledge_id=theirs), key=srv.key), 404, 2001,
                     "another tenant's dataset")
    st, _, js, raw = ext(srv, dict(body, knowledge_id=theirs), key=other)
    eq((st, (js or {}).get("records")), (200, []),
       f"the owner's key on its empty dataset ({raw[:200]!r})")
    bound = srv.create_key(dataset=theirs, tenant="ext-other")
    expect_ext_error(ext(srv, dict(body, knowledge_id=hq), key=bound), 404, 2001,
                     "a dataset-bound key on another dataset")


def test_external_retrieval(srv):
    hq, _ = corpus(srv, "high_quality")
    eco, _ = corpus(srv, "economy")

    def query(ds, q, top_k, threshold=0.0, path="/v1/retrieval"):
        st, _, js, raw = ext(srv, {"knowledge_id": ds, "query": q, "metadata_condition": None,
                                   "retrieval_setting": {"top_k": top_k,
                                                         "score_threshold": threshold}},
                             key=srv.key, path=path)
        if not eq(st, 200, f"external retrieval {q!r} ({raw[:300]!r})"):
            return []
        check(isinstance(js, dict) and isinstance(js.get("records"), list),
              f"external answer is not {{records: [...]}}: {raw[:300]!r}")
        recs = js.get("records") or []
        for r in recs:
            check(isinstance(r.get("content"), str) and isinstance(r.get("title"), str)
                  and isinstance(r.get("score"), (int, float)) and 0 <= r["score"] <= 1,
                  f"external record fields: {r}")
            check(isinstance(r.get("metadata"), dict),
                  f"external record metadata must be an object: {r.get('metadata')!r}")
        scores = [r.get("score") for r in recs]
        check(scores == sorted(scores, reverse=True), f"external scores not descending: {scores}")
        check(len(recs) <= top_k, f"external: {len(recs)} records for top_k {top_k}")
        return recs

    for path in ("/v1/retrieval", "/retrieval"):
        recs = query(hq, "telescopes galaxies", 2, path=path)
        if check(recs, f"{path}: nothing found"):
            eq((recs[0]["title"], recs[0]["content"]), ("astronomy.txt", TEXT["astronomy.txt"]),
               f"{path}: the best record")
    q = "telescopes galaxies sourdough checkmate"
    for k in (1, 3):
        eq(len(query(hq, q, k)), k, f"external top_k {k}")
    base = [r["score"] for r in query(hq, q, 10)]
    mids = sorted({s for s in base if 0 < s < base[0]}, reverse=True) if base else []
    if check(mids, f"external: no score strictly between 0 and the best: {base}"):
        t = mids[len(mids) // 2]
        eq([r["score"] for r in query(hq, q, 10, t)], [s for s in base if s >= t],
           f"external score_threshold {t} (>=)")
    recs = query(eco, "honeybees nectar", 2)
    eq([r["title"] for r in recs], ["bees.txt"], "external retrieval on an economy dataset")
    recs = query(eco, "龙井茶", 2)
    eq([r["title"] for r in recs], ["tea.txt"], "external retrieval, Chinese query")
    expect_ext_error(ext(srv, {"knowledge_id": hq, "query": "x",
                               "retrieval_setting": {"top_k": 0, "score_threshold": 0}},
                         key=srv.key), 400, 400, "external top_k 0")


# ---- concurrency (last: a crash here must not hide the other results) ----------------


def visible_edits(srv, ds, doc, sid, word, prev, misses):
    """One round: the chunk just added is found; the previous one, renamed, is found by
    its new word only; deleted, by none."""
    if not found(srv, ds, word, sid, "keyword_search"):
        misses.append(f"added chunk {word} not found")
    if not prev:
        return
    pid, pword = prev
    srv.call("POST", seg_path(ds, doc, pid),
             body={"segment": {"content": f"Renamed {pword}x now."}})
    if found(srv, ds, pword, pid, "keyword_search"):
        misses.append(f"updated chunk still found by its old word {pword}")
    if not found(srv, ds, pword + "x", pid, "keyword_search"):
        misses.append(f"updated chunk not found by its new word {pword}x")
    srv.call("DELETE", seg_path(ds, doc, pid))
    if found(srv, ds, pword + "x", pid, "keyword_search"):
        misses.append(f"deleted chunk {pword}x still found")


def edits_under_load(srv, hammer_body):
    """Edits chunks of an economy dataset while four clients search it without pause with
    hammer_body(dataset) -> (path, body); every edit must be visible to the editor's next
    search, and every search must answer 200."""
    ds = new_dataset(srv, "economy")
    doc = add_docs(srv, ds, [("base.txt", "Common ground for every search.\n\n"
                                          "More common ground.")],
                   "economy", process_rule=PARA_RULE)["base.txt"]
    stop, bad = threading.Event(), []
    path, body = hammer_body(ds)

    def hammer():
        conn = srv.connection()
        try:
            while not stop.is_set():
                st = srv.call("POST", path, body=body, conn=conn)[0]
                if st != 200:
                    bad.append(st)
        except OSError as e:  # the server went away: reported below
            bad.append(repr(e))
        finally:
            conn.close()

    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    misses, lost = [], False
    try:
        prev = None
        for i in range(25):
            word = f"zq{i}marker"
            st, _, js, raw = srv.call("POST", seg_path(ds, doc), body={
                "segments": [{"content": f"Chunk {word} arrives."}]})
            if st != 200:
                misses.append(f"add {i}: HTTP {st} {raw[:120]!r}")
                continue
            sid = js["data"][0]["id"]
            visible_edits(srv, ds, doc, sid, word, prev, misses)
            prev = (sid, word)
    except OSError as e:
        misses.append(f"the editing client lost the server: {e!r}")
        lost = True
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        if lost or any(not isinstance(b, int) for b in bad):
            try:  # a dying server (sanitizer report): let it exit, so that the runner
                srv.proc.wait(15)  # counts the crash against this test
            except Exception:  # noqa: BLE001 - still running
                pass
    eq(misses, [], "edits not visible to the next search")
    eq(bad[:5], [], f"{path}: searches running alongside the edits failed")
    if srv.crashed():
        check(False, "the server died; its last sanitizer report, ragd frames:\n"
              + last_sanitizer_frames(srv))


def last_sanitizer_frames(srv, n=14):
    """The headline and the ragd stack frames of the newest sanitizer report in the log."""
    lines = srv.log().splitlines()
    starts = [i for i, l in enumerate(lines) if "ERROR: AddressSanitizer" in l
              or "runtime error:" in l]
    if not starts:
        return "(no sanitizer report)"
    block = lines[starts[-1]:starts[-1] + 80]
    keep = [block[0]] + [l.strip() for l in block[1:] if " src/" in l and "libsanitizer" not in l
                         or l.startswith(("READ", "WRITE", "freed", "previously"))]
    return "\n".join(keep[:n])


def test_read_your_writes_under_concurrent_searches(srv):
    edits_under_load(srv, lambda ds: (f"/v1/datasets/{ds}/retrieve", {
        "query": "common ground", "retrieval_model": rm("keyword_search", 5)}))


def test_external_retrieval_under_concurrent_edits(srv):
    edits_under_load(srv, lambda ds: ("/v1/retrieval", {
        "knowledge_id": ds, "query": "common ground",
        "retrieval_setting": {"top_k": 5, "score_threshold": 0.0}}))
