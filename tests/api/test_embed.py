"""Embedding engines on a running server: the built-in GloVe model (issue 5).

When build/models/glove-100d.bin is present (scripts/fetch-glove, run by `make test`),
the server lists ragd/ragd-glove-100d and uses it as the default for new high_quality
datasets; semantic search then finds paraphrases that share no word with the query.
Without the table every test here skips with a message."""
import os

from harness import check, eq, retrieval_model as rm, skip

GLOVE = ("ragd", "ragd-glove-100d")
MODELS = "/v1/workspaces/current/models/model-types/text-embedding"

DOCS = [
    ("tires.txt", "The automobile needs new tires before the winter."),
    ("stocks.txt", "Shares tumbled on the exchange as investors feared inflation."),
    ("cake.txt", "She baked a chocolate cake for her daughter's birthday party."),
    ("doctor.txt", "The physician prescribed medication for the patient's illness."),
    ("football.txt", "The striker scored twice and his team won the championship."),
]
# queries with no word in common with the document they should find
QUERIES = [
    ("car requires replacement wheels", "tires.txt"),
    ("stock market crash worries traders", "stocks.txt"),
    ("dessert baking celebration", "cake.txt"),
    ("sick person visits hospital", "doctor.txt"),
    ("soccer goal victory", "football.txt"),
]


def offered(srv):
    st, _, js, raw = srv.call("GET", MODELS)
    eq(st, 200, f"GET models ({raw[:150]!r})")
    return [(p.get("provider"), m.get("model")) for p in (js or {}).get("data", [])
            for m in p.get("models", [])]


def need_glove(srv):
    if GLOVE not in offered(srv):
        skip("GloVe table absent (scripts/fetch-glove): ragd-glove-100d not offered")


def test_glove_is_the_default_for_high_quality(srv):
    need_glove(srv)
    ds = srv.create_dataset("embed-default", indexing_technique="high_quality")
    eq((ds.get("embedding_model_provider"), ds.get("embedding_model")), GLOVE,
       "default model of a new high_quality dataset")


def test_glove_semantic_search_finds_paraphrases(srv):
    need_glove(srv)
    ds = srv.create_dataset("embed-para", indexing_technique="high_quality",
                            embedding_model_provider=GLOVE[0], embedding_model=GLOVE[1])["id"]
    batches = [srv.create_text(ds, name, text, indexing_technique="high_quality")[1]
               for name, text in DOCS]
    for b in batches:
        it = srv.wait_indexed(ds, b)[0]
        eq(it.get("indexing_status"), "completed", f"document indexed: {it}")
    for query, want in QUERIES:
        st, _, js, raw = srv.retrieve(ds, query, rm("semantic_search", 3))
        if not eq(st, 200, f"retrieve {query!r} ({raw[:200]!r})"):
            continue
        recs = (js or {}).get("records") or []
        got = [(r.get("segment") or {}).get("document", {}).get("name") for r in recs]
        check(got[:1] == [want], f"semantic_search {query!r}: best {got}, want {want}")


def test_without_a_usable_table_the_hash_model_stays_default(srv):
    """Runs whether or not the table is installed: off, missing and hostile tables."""
    bad = os.path.join(srv.data, "hostile-glove.bin")
    with open(bad, "wb") as f:
        f.write(b"RGGLOVE1" + b"\x01\x00\x00\x00" + b"\xff" * 200)
    for path, why in (("", "turned off"), ("/nonexistent/glove.bin", "missing"),
                      (bad, "hostile")):
        s = srv.spawn(env={"RAGD_GLOVE_PATH": path})
        check(GLOVE not in offered(s), f"{why} table: GloVe not offered")
        ds = s.create_dataset(f"embed-hash-{why.replace(' ', '-')}",
                              indexing_technique="high_quality")
        eq((ds.get("embedding_model_provider"), ds.get("embedding_model")),
           ("ragd", "ragd-hash-384"), f"{why} table: default model")
        if path:
            check("glove" in s.log_tail(50), f"{why} table: a warning in the log")


def _names(srv, ds, query, method, k=3):
    st, _, js, raw = srv.retrieve(ds, query, rm(method, k))
    eq(st, 200, f"{method} {query!r} ({raw[:200]!r})")
    return [(r.get("segment") or {}).get("document", {}).get("name")
            for r in (js or {}).get("records") or []]


def _status(srv, ds, batches):
    out = []
    for b in batches:
        st, _, js, raw = srv.indexing_status(ds, b)
        eq(st, 200, f"indexing-status ({raw[:200]!r})")
        out += (js or {}).get("data") or []
    return out


def _patch(srv, ds, **fields):
    st, _, js, raw = srv.call("PATCH", f"/v1/datasets/{ds}", body=fields)
    eq(st, 200, f"PATCH {fields} ({raw[:200]!r})")
    return js or {}


def test_model_change_reembeds_every_document(srv):
    """A new embedding model (or technique) re-indexes the dataset's documents through the
    pipeline: status says indexing at once, chunks are kept (a disabled one stays disabled),
    and search works with the new model's vectors afterwards."""
    need_glove(srv)
    s = srv.spawn(env={"RAGD_BATCH_DELAY_MS": "300"})  # slow enough to see "indexing"
    ds = s.create_dataset("embed-change", indexing_technique="high_quality",
                          embedding_model_provider=GLOVE[0], embedding_model=GLOVE[1])["id"]
    made = [s.create_text(ds, name, text, indexing_technique="high_quality")
            for name, text in DOCS]
    batches = [b for _, b in made]
    for b in batches:
        s.wait_indexed(ds, b)
    check(_names(s, ds, "car requires replacement wheels", "semantic_search")[:1] ==
          ["tires.txt"], "GloVe finds the paraphrase before the change")
    cake = next(d for d, _ in made if d["name"] == "cake.txt")
    seg = s.segments(ds, cake["id"])[0]["id"]
    st, _, js, raw = s.call("POST", f"/v1/datasets/{ds}/documents/{cake['id']}/segments/{seg}",
                            body={"segment": {"enabled": False}})
    eq(st, 200, f"disable a chunk ({raw[:200]!r})")

    got = _patch(s, ds, embedding_model_provider="ragd", embedding_model="ragd-hash-384")
    eq(got.get("embedding_model"), "ragd-hash-384", "PATCH answers the new model")
    now = _status(s, ds, batches)
    check(now and all(it.get("indexing_status") == "indexing" and
                      it.get("completed_segments") == 0 for it in now),
          f"right after the change every document is indexing again: {now}")
    for b in batches:
        eq(s.wait_indexed(ds, b)[0].get("indexing_status"), "completed", "re-embedded")
    # the hash model's 384-dimension vectors answer: the old 100-d ones would not
    eq(_names(s, ds, "automobile tires winter", "semantic_search")[:1], ["tires.txt"],
       "semantic search with the new model")
    segs = s.segments(ds, cake["id"])
    eq([g.get("enabled") for g in segs], [False], "a disabled chunk stays disabled")
    check("cake.txt" not in _names(s, ds, "chocolate cake birthday", "semantic_search", 5),
          "the disabled chunk is still not retrieved")
    it = _status(s, ds, batches[:1])[0]
    eq((it.get("indexing_status"), it.get("completed_segments"), it.get("total_segments")),
       ("completed", 1, 1), "counters after re-embedding")

    # economy and back: keyword search, then GloVe paraphrases again
    _patch(s, ds, indexing_technique="economy")
    for b in batches:
        s.wait_indexed(ds, b)
    eq(_names(s, ds, "physician medication", "keyword_search")[:1], ["doctor.txt"],
       "economy: keyword search")
    _patch(s, ds, indexing_technique="high_quality", embedding_model_provider=GLOVE[0],
           embedding_model=GLOVE[1])
    for b in batches:
        s.wait_indexed(ds, b)
    eq(_names(s, ds, "soccer goal victory", "semantic_search")[:1], ["football.txt"],
       "back to GloVe: paraphrases found again")
    # a PATCH that changes no model re-indexes nothing
    _patch(s, ds, description="same model")
    check(all(it.get("indexing_status") == "completed" for it in _status(s, ds, batches)),
          "an unrelated PATCH leaves the documents completed")
