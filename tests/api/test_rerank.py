"""Rerank models (provider openai_api_compatible, --rerank-*) on a running server, against a
stand-in rerank service defined here: listing, reranked /retrieve for every search method,
score_threshold and top_k on rerank scores, parent-child records, the dataset's stored
retrieval_model, an unknown model, a failing service, and the external knowledge API
(which never reranks).

The stand-in (http.server on 127.0.0.1, an ephemeral port, started at import so that
SERVER_ENV can name it) answers POST /v1/rerank by the model name:
    mark    Jina/Cohere shape {"results": [{"index", "relevance_score", "document"}]},
            best first: a document containing the word MARK scores 0.9, any other 0.1
    logits  text-embeddings-inference's bare [{"index", "score"}] with raw logits: +4 for a
            MARK document, -4 otherwise (ragd maps them by 1/(1+e^-s))
    down    always 500 with an error object whose message carries the key
Every request is recorded (model, query, documents, top_n, Authorization header)."""
import json
import math
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import check, eq, expect_error, retrieval_model as rm
from test_retrieve import HIER_RULE, PARA_RULE

KEY = "rr-standin-5ecret-Key-9876543210"
PROVIDER = "openai_api_compatible"
MODELS_PATH = "/v1/workspaces/current/models/model-types/rerank"
MARK = "kiwi"
DOWN_MESSAGE = "The reranker is down for maintenance"
# src/api/retrieve.c: records reranked <= max(top_k x RETRIEVE_CANDIDATES, RERANK_MIN_CANDIDATES)
CANDIDATES, MIN_CANDIDATES = 4, 20
NO_MODEL = ("No Rerank Model available. Please configure a valid provider in the Settings -> "
            "Model Provider.")


class Standin:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []  # dicts: model, query, documents, top_n, auth

    def seen(self, model=None):
        with self.lock:
            return [r for r in self.requests if model is None or r["model"] == model]


STANDIN = Standin()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization")
        try:
            req = json.loads(raw)
            model, query, docs = req["model"], req["query"], req["documents"]
        except (ValueError, KeyError, TypeError):
            return self.reply(400, {"detail": "bad request body"})
        with STANDIN.lock:
            STANDIN.requests.append({"model": model, "query": query, "documents": docs,
                                     "top_n": req.get("top_n"), "auth": auth})
        if self.path != "/v1/rerank" or auth != f"Bearer {KEY}":
            return self.reply(401, {"detail": "wrong path or key"})
        marked = [MARK in d.lower() for d in docs]
        if model == "mark":
            res = [{"index": i, "relevance_score": 0.9 if m else 0.1, "document": {"text": d}}
                   for i, (m, d) in enumerate(zip(marked, docs))]
            res.sort(key=lambda r: -r["relevance_score"])
            return self.reply(200, {"model": model, "results": res, "usage": {"total_tokens": 1}})
        if model == "logits":
            return self.reply(200, [{"index": i, "score": 4.0 if m else -4.0}
                                    for i, m in enumerate(marked)][::-1])
        if model == "down":
            return self.reply(500, {"error": {"message": f"{DOWN_MESSAGE} (key {KEY})"}})
        return self.reply(404, {"detail": f"model {model} not found"})


SERVER = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
SERVER.daemon_threads = True
threading.Thread(target=SERVER.serve_forever, daemon=True).start()
URL = f"http://127.0.0.1:{SERVER.server_address[1]}/v1"

SERVER_ENV = {
    "RAGD_GLOVE_PATH": "",  # the hash embedder: deterministic lexical similarity
    "RAGD_RERANK_URL": URL,
    "RAGD_RERANK_KEY": KEY,
    "RAGD_RERANK_MODELS": "mark, logits,down",
    "RAGD_RERANK_TIMEOUT": "2",
    "RAGD_RERANK_RETRIES": "1",
}

# Every document mentions volcanoes (so each search method finds them all); two carry the
# marker word but are worse matches for the query than the others.
DOCS = [
    ("v1.txt", "Volcanoes spread hot ash over the villages near volcanoes."),
    ("v2.txt", "Ash from volcanoes covered the villages and the volcanoes smoked."),
    ("v3.txt", "Volcanoes and villages: ash clouds drift from volcanoes."),
    ("k1.txt", f"A {MARK} bird once lived near volcanoes."),
    ("k2.txt", f"The {MARK} fruit grows in volcanoes' soil."),
    ("v4.txt", "Volcanoes erupt; villages evacuate before the ash arrives at volcanoes."),
]
QUERY = "volcanoes ash villages"
METHODS = ("semantic_search", "full_text_search", "hybrid_search")

_corpus = {}


def reranked(method, top_k, model="mark", threshold=None, **extra):
    return rm(method, top_k, threshold, reranking_enable=True, reranking_mode="reranking_model",
              reranking_model={"reranking_provider_name": PROVIDER,
                               "reranking_model_name": model}, **extra)


def add_docs(srv, ds, docs, **fields):
    batches = [srv.create_text(ds, name, text, indexing_technique="high_quality", **fields)[1]
               for name, text in docs]
    for b in batches:
        it = srv.wait_indexed(ds, b)[0]
        assert it["indexing_status"] == "completed", f"document not indexed: {it}"


def corpus(srv):
    if "id" not in _corpus:
        ds = srv.create_dataset(f"rr-{uuid.uuid4().hex[:8]}", indexing_technique="high_quality")
        add_docs(srv, ds["id"], DOCS, process_rule=PARA_RULE)
        _corpus["id"] = ds["id"]
    return _corpus["id"]


def records(resp, what):
    st, _, js, raw = resp
    if not eq(st, 200, f"{what}: HTTP status ({raw[:300]!r})"):
        return []
    return (js or {}).get("records") or []


def contents(recs):
    return [r["segment"]["content"] for r in recs]


def marked(recs):
    return [MARK in c for c in contents(recs)]


def test_rerank_models_are_listed(srv):
    st, _, js, raw = srv.call("GET", MODELS_PATH)
    if not eq(st, 200, f"GET rerank models ({raw[:200]!r})"):
        return
    data = (js or {}).get("data") or []
    eq([p.get("provider") for p in data], [PROVIDER], "one provider entry")
    if not data:
        return
    models = data[0].get("models") or []
    eq([m.get("model") for m in models], ["mark", "logits", "down"], "the configured models")
    check(all(m.get("model_type") == "rerank" and m.get("status") == "active"
              and isinstance((m.get("model_properties") or {}).get("context_size"), int)
              for m in models), f"rerank model entries: {models}")
    st, _, js, _ = srv.call("GET", "/v1/workspaces/current/models/model-types/text-embedding")
    names = [m["model"] for p in (js or {}).get("data", []) for m in p.get("models", [])]
    check(st == 200 and "mark" not in names, f"rerank models are not embedding models: {names}")


def test_rerank_reorders_every_method(srv):
    ds = corpus(srv)
    for method in METHODS:
        plain = records(srv.retrieve(ds, QUERY, rm(method, 3)), f"{method} without rerank")
        check(plain and not marked(plain)[0],
              f"{method}: without rerank a marked document is not first (the test can tell): "
              f"{contents(plain)}")
        before = len(STANDIN.seen())
        st, hdrs, js, raw = resp = srv.retrieve(ds, QUERY, reranked(method, 3))
        recs = records(resp, f"{method} reranked")
        eq(marked(recs), [True, True, False], f"{method}: marked documents first, top_k 3 "
           f"({contents(recs)})")
        eq([r["score"] for r in recs], [0.9, 0.9, 0.1], f"{method}: the rerank scores")
        reqs = STANDIN.seen()[before:]
        if not eq(len(reqs), 1, f"{method}: one rerank request per retrieve"):
            continue
        r = reqs[0]
        eq(r["auth"], f"Bearer {KEY}", f"{method}: the Bearer key")
        eq(r["query"], QUERY, f"{method}: the query")
        check(3 <= len(r["documents"]) <= max(3 * CANDIDATES, MIN_CANDIDATES)
              and r["top_n"] == len(r["documents"]),
              f"{method}: {len(r['documents'])} documents, top_n {r['top_n']}")
        check(set(r["documents"]) <= {t for _, t in DOCS}, f"{method}: segment contents sent")
        check(sum(MARK in d for d in r["documents"]) == 2,
              f"{method}: both marked documents were candidates: {r['documents']}")
        timing = {k.lower(): v for k, v in (hdrs or {}).items()}.get("server-timing", "")
        check("rerank;dur=" in timing and "search;dur=" in timing,
              f"{method}: Server-Timing names the rerank: {timing!r}")


def test_threshold_and_top_k_apply_to_rerank_scores(srv):
    ds = corpus(srv)
    for method in METHODS:
        recs = records(srv.retrieve(ds, QUERY, reranked(method, 4, threshold=0.5)),
                       f"{method} threshold 0.5")
        eq(marked(recs), [True, True], f"{method}: only rerank scores >= 0.5 remain")
        recs = records(srv.retrieve(ds, QUERY, reranked(method, 1)), f"{method} top_k 1")
        eq(marked(recs), [True], f"{method}: top_k 1 keeps the best reranked record")
        recs = records(srv.retrieve(ds, QUERY, reranked(method, 6)), f"{method} top_k 6")
        eq(len(recs), len(DOCS), f"{method}: top_k 6 returns every document")
        eq(marked(recs)[:2], [True, True], f"{method}: top_k 6 order")


def test_logits_are_mapped_to_0_1(srv):
    ds = corpus(srv)
    recs = records(srv.retrieve(ds, QUERY, reranked("semantic_search", 3, "logits")), "logits")
    eq(marked(recs), [True, True, False], "logits: marked documents first")
    want = [1 / (1 + math.exp(-4))] * 2 + [1 / (1 + math.exp(4))]
    got = [r["score"] for r in recs]
    check(len(got) == 3 and all(abs(a - b) < 1e-6 for a, b in zip(got, want)),
          f"logits mapped by 1/(1+e^-s): {got} (want {want})")


def test_parent_child_children_are_reranked(srv):
    ds = srv.create_dataset(f"rr-hier-{uuid.uuid4().hex[:6]}",
                            indexing_technique="high_quality")["id"]
    text = ("Volcanoes erupt ash over villages.\nVolcanoes and villages and ash.\n\n"
            f"A {MARK} lives near volcanoes.\nVolcanoes rumble.")
    add_docs(srv, ds, [("hier.txt", text)], doc_form="hierarchical_model",
             process_rule=HIER_RULE)
    before = len(STANDIN.seen())
    recs = records(srv.retrieve(ds, QUERY, reranked("hybrid_search", 2)), "parent-child")
    if not eq(len(recs), 2, "parent-child: both parents"):
        return
    check(MARK in recs[0]["segment"]["content"], f"parent-child: the marked parent first: {recs}")
    kids = recs[0]["child_chunks"]
    check(kids and MARK in kids[0]["content"] and kids[0]["score"] == 0.9
          and recs[0]["score"] == 0.9, f"parent-child: the best child is reranked: {kids}")
    reqs = STANDIN.seen()[before:]
    if eq(len(reqs), 1, "parent-child: one rerank request"):
        docs = reqs[0]["documents"]
        check(f"A {MARK} lives near volcanoes." in docs and text not in docs,
              f"parent-child: the child chunks are sent: {docs}")


def test_unknown_rerank_model_is_refused(srv):
    ds = corpus(srv)
    before = len(STANDIN.seen())
    for what, model in (("unknown model", reranked("semantic_search", 3, "no-such-model")),
                        ("unknown provider", dict(reranked("semantic_search", 3), reranking_model={
                            "reranking_provider_name": "cohere",
                            "reranking_model_name": "mark"})),
                        ("no model named", dict(reranked("semantic_search", 3), reranking_model={
                            "reranking_provider_name": "", "reranking_model_name": ""}))):
        expect_error(srv.retrieve(ds, QUERY, model), 400, "invalid_param", what,
                     message=NO_MODEL)
        st, _, js, raw = srv.call("POST", "/v1/datasets", body={
            "name": f"rr-bad-{uuid.uuid4().hex[:6]}", "indexing_technique": "high_quality",
            "retrieval_model": model})
        expect_error((st, _, js, raw), 400, "invalid_param", f"create dataset, {what}",
                     message=NO_MODEL)
    eq(STANDIN.seen()[before:], [], "no request for a refused model")
    # reranking off, or weighted_score mode: the model is not used and not checked
    recs = records(srv.retrieve(ds, QUERY, dict(reranked("semantic_search", 3, "no-such-model"),
                                                reranking_enable=False)), "reranking off")
    eq(len(recs), 3, "reranking_enable false ignores reranking_model")


def test_a_failing_service_is_a_completion_request_error(srv):
    ds = corpus(srv)
    before = len(STANDIN.seen("down"))
    t0 = time.time()
    expect_error(srv.retrieve(ds, QUERY, reranked("full_text_search", 3, "down")), 400,
                 "completion_request_error", "rerank service down",
                 message=lambda m: DOWN_MESSAGE in m and "HTTP 500 after 1 retry" in m
                 and KEY not in m and "***" in m)
    check(time.time() - t0 < 8, "the failure is bounded in time")
    eq(len(STANDIN.seen("down")) - before, 2, "one attempt and one retry")
    check(KEY not in srv.log() + srv.stdout(), "the key appears nowhere in the server's output")


def test_stored_retrieval_model_reranks(srv):
    stored = reranked("hybrid_search", 2)
    ds = srv.create_dataset(f"rr-stored-{uuid.uuid4().hex[:6]}", indexing_technique="high_quality",
                            retrieval_model=stored)["id"]
    add_docs(srv, ds, DOCS, process_rule=PARA_RULE)
    got = srv.dataset(ds).get("retrieval_model_dict") or {}
    eq(got.get("reranking_model"), stored["reranking_model"], "the stored reranking_model")
    before = len(STANDIN.seen())
    recs = records(srv.retrieve(ds, QUERY), "retrieve with the stored model")
    eq(marked(recs), [True, True], "the stored model reranks (top_k 2)")
    eq(len(STANDIN.seen()[before:]), 1, "one rerank request")
    # a request's own retrieval_model wins
    recs = records(srv.retrieve(ds, QUERY, rm("semantic_search", 2)), "request model")
    check(recs and not marked(recs)[0], f"the request's model (no rerank) wins: {contents(recs)}")
    # the external knowledge API is not reranked
    before = len(STANDIN.seen())
    st, _, js, raw = srv.call("POST", "/v1/retrieval", key=None, headers={
        "Authorization": f"Bearer {srv.key}"}, body={
        "knowledge_id": ds, "query": QUERY, "retrieval_setting": {"top_k": 2,
                                                                  "score_threshold": 0}})
    eq(st, 200, f"external retrieval ({raw[:200]!r})")
    eq(STANDIN.seen()[before:], [], "the external knowledge API makes no rerank request")
