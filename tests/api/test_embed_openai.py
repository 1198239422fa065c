"""The OpenAI-compatible embeddings client (provider openai_api_compatible) on a running
server, against a stand-in service defined here.

The stand-in (http.server on 127.0.0.1, an ephemeral port, started at import so that
SERVER_ENV can name it) answers POST /v1/embeddings as scripted by the model name:
    ok-8       8-d vectors derived from each text's SHA-256
    ratelimit  429 with Retry-After: 1 for its first two requests, then like ok-8
    down       always 500 with an OpenAI error object (whose message carries the key,
               to prove ragd scrubs it)
    slow       sleeps past ragd's 2 s timeout
    garbage    200 with a body that is not JSON
    wrongdim   7 numbers per text for a model configured with 8
    probe      6-d vectors; listed without dimensions, so ragd asks at start-up
    busy       like ok-8 after 0.3 s, counting the requests it serves at once
Every request is recorded (model, number of texts, Authorization header, time)."""
import hashlib
import json
import socket
import struct
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import check, eq, expect_error, retrieval_model as rm

KEY = "sk-standin-5ecret-Key-0123456789"
MODELS_PATH = "/v1/workspaces/current/models/model-types/text-embedding"
PROVIDER = "openai_api_compatible"
SLOW_S = 2.6  # past RAGD_EMBED_OPENAI_TIMEOUT
INFLIGHT = 3  # requests in flight, whole server
DOWN_MESSAGE = "The stand-in is down for maintenance"


def vector(text, dims):
    h = hashlib.sha256(text.encode()).digest()
    return [struct.unpack_from("b", h, i)[0] / 128.0 for i in range(dims)]


class Standin:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []  # (model, n texts, authorization, time, status)
        self.counts = {}
        self.busy_now = 0
        self.busy_max = 0

    def seen(self, model):
        with self.lock:
            return [r for r in self.requests if r[0] == model]


STANDIN = Standin()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization")
        try:
            req = json.loads(raw)
            model, texts = req["model"], req["input"]
        except (ValueError, KeyError, TypeError):
            return self.reply(400, {"error": {"message": "bad request body"}})
        with STANDIN.lock:
            count = STANDIN.counts.get(model, 0)
            STANDIN.counts[model] = count + 1
        status, body, headers = self.script(model, texts, count, auth, req)
        with STANDIN.lock:
            STANDIN.requests.append((model, len(texts), auth, time.monotonic(), status))
        if status:
            try:
                self.reply(status, body, headers)
            except OSError:  # the client gave up (timeout)
                pass

    def script(self, model, texts, count, auth, req):
        if self.path != "/v1/embeddings" or auth != f"Bearer {KEY}":
            return 401, {"error": {"message": "wrong path or key"}}, ()
        if req.get("encoding_format") != "float":
            return 400, {"error": {"message": "encoding_format is not float"}}, ()
        dims = {"ok-8": 8, "busy": 8, "ratelimit": 8, "probe": 6, "wrongdim": 7, "slow": 8}.get(model)
        if model == "ratelimit" and count < 2:
            return 429, {"error": {"message": "Rate limit reached for requests"}}, \
                [("Retry-After", "1")]
        if model == "down":
            return 500, {"error": {"message": f"{DOWN_MESSAGE} (key {KEY})",
                                   "type": "server_error"}}, ()
        if model == "slow":
            time.sleep(SLOW_S)
        if model == "busy":
            with STANDIN.lock:
                STANDIN.busy_now += 1
                STANDIN.busy_max = max(STANDIN.busy_max, STANDIN.busy_now)
            time.sleep(0.3)
            with STANDIN.lock:
                STANDIN.busy_now -= 1
        if model == "garbage":
            return 200, b'{"data": [{"embedding": [0.1, 0.2', ()
        if dims is None:
            return 404, {"error": {"message": f"model {model} not found"}}, ()
        # answered in reverse order: ragd must place rows by "index"
        data = [{"object": "embedding", "index": i, "embedding": vector(t, dims)}
                for i, t in enumerate(texts)][::-1]
        return 200, {"object": "list", "data": data, "model": model}, ()


SERVER = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
SERVER.daemon_threads = True
threading.Thread(target=SERVER.serve_forever, daemon=True).start()
URL = f"http://127.0.0.1:{SERVER.server_address[1]}/v1"

SERVER_ENV = {
    "RAGD_EMBED_OPENAI_URL": URL + "/",  # a trailing slash is tolerated
    "RAGD_EMBED_OPENAI_KEY": KEY,
    "RAGD_EMBED_OPENAI_MODELS": ("ok-8:8, ratelimit:8,down:8,slow:8,garbage:8,wrongdim:8,probe,"
                                 "busy:8"),
    "RAGD_EMBED_OPENAI_INFLIGHT": str(INFLIGHT),
    "RAGD_HTTP_THREADS": "8",
    "RAGD_EMBED_OPENAI_BATCH": "4",
    "RAGD_EMBED_OPENAI_TIMEOUT": "2",
    "RAGD_EMBED_OPENAI_RETRIES": "3",
}

PARA_RULE = {"mode": "custom", "rules": {"pre_processing_rules": [], "segmentation": {
    "separator": "\\n\\n", "max_tokens": 200, "chunk_overlap": 0}}}
TOPICS = ["whales migrate to warm waters", "volcanoes spread ash over villages",
          "bees pollinate the orchards", "green tea grows in Zhejiang",
          "pandas eat bamboo in Sichuan", "glaciers carve deep valleys",
          "comets return every seventy years", "owls hunt mice at night",
          "coral reefs shelter small fish", "deserts bloom after rare rain"]


def dataset(srv, name, model):
    return srv.create_dataset(name, indexing_technique="high_quality",
                              embedding_model_provider=PROVIDER, embedding_model=model)["id"]


def index(srv, ds, name, text, timeout=30):
    """Creates a document and waits; returns (status item, seconds taken)."""
    t0 = time.time()
    _, batch = srv.create_text(ds, name, text, indexing_technique="high_quality",
                               process_rule=PARA_RULE)
    return srv.wait_indexed(ds, batch, timeout=timeout)[0], time.time() - t0


def test_models_are_listed_and_a_model_without_dims_is_probed(srv):
    st, _, js, raw = srv.call("GET", MODELS_PATH)
    eq(st, 200, f"GET models ({raw[:150]!r})")
    prov = [p for p in (js or {}).get("data", []) if p.get("provider") == PROVIDER]
    if not eq(len(prov), 1, f"one {PROVIDER} entry"):
        return
    dims = {m.get("model"): (m.get("model_properties") or {}).get("dimensions")
            for m in prov[0].get("models", [])}
    eq(sorted(dims), sorted(["ok-8", "ratelimit", "down", "slow", "garbage", "wrongdim",
                             "probe", "busy"]), "models offered")
    eq(dims.get("probe"), 6, "probe: the dimensions the stand-in answered at start-up")
    eq(dims.get("ok-8"), 8, "ok-8: the dimensions of the list")
    eq([r[1] for r in STANDIN.seen("probe")], [1], "one probe request of one text")


def test_a_document_is_indexed_and_found(srv):
    ds = dataset(srv, "oa-ok", "ok-8")
    before = len(STANDIN.seen("ok-8"))
    it, _ = index(srv, ds, "topics.txt", "\n\n".join(TOPICS))
    eq(it.get("indexing_status"), "completed", f"document indexed: {it}")
    reqs = STANDIN.seen("ok-8")[before:]
    check(sum(r[1] for r in reqs) >= len(TOPICS), f"every chunk was sent: {reqs}")
    check(reqs and all(1 <= r[1] <= 4 for r in reqs), f"requests of at most 4 texts: {reqs}")
    check(all(r[2] == f"Bearer {KEY}" for r in reqs), "every request has the Bearer key")
    for want in (TOPICS[3], TOPICS[8]):
        st, _, js, raw = srv.retrieve(ds, want, rm("semantic_search", 3))
        if not eq(st, 200, f"retrieve {want!r} ({raw[:200]!r})"):
            continue
        recs = (js or {}).get("records") or []
        got = [(r.get("segment") or {}).get("content") for r in recs]
        eq(got[:1], [want], f"semantic_search {want!r} finds its chunk first")
        check(recs and abs(recs[0].get("score", 0) - 1.0) < 1e-3,
              f"an identical text scores 1: {recs[:1]}")


def test_the_cache_spares_the_service(srv):
    """Vectors are cached by (model, SHA-256 of the text): the same text indexed again, in
    the same or another dataset, makes no request; with --embed-cache 0 it does."""
    texts = [f"cached paragraph {i}: {t}" for i, t in enumerate(TOPICS)]
    first = dataset(srv, "oa-cache-1", "ok-8")
    before = len(STANDIN.seen("ok-8"))
    it, _ = index(srv, first, "cached.txt", "\n\n".join(texts))
    eq(it.get("indexing_status"), "completed", f"first ingestion: {it}")
    sent = sum(r[1] for r in STANDIN.seen("ok-8")[before:])
    check(sent >= len(texts), f"the first ingestion embeds every chunk ({sent} texts sent)")
    for name in ("oa-cache-2", "oa-cache-3"):
        ds = dataset(srv, name, "ok-8")
        before = len(STANDIN.seen("ok-8"))
        it, _ = index(srv, ds, "again.txt", "\n\n".join(texts))
        eq(it.get("indexing_status"), "completed", f"{name}: {it}")
        eq(STANDIN.seen("ok-8")[before:], [], f"{name}: the same text makes no model call")
        st, _, js, raw = srv.retrieve(ds, texts[4], rm("semantic_search", 1))
        got = [(r.get("segment") or {}).get("content") for r in (js or {}).get("records") or []]
        eq(got, [texts[4]], f"{name}: cached vectors are searchable")
    off = srv.spawn(env={"RAGD_EMBED_CACHE": "0"})
    ds = off.create_dataset("oa-cache-off", indexing_technique="high_quality",
                            embedding_model_provider=PROVIDER, embedding_model="ok-8")["id"]
    before = len(STANDIN.seen("ok-8"))
    _, batch = off.create_text(ds, "off.txt", "\n\n".join(texts),
                               indexing_technique="high_quality", process_rule=PARA_RULE)
    off.wait_indexed(ds, batch)
    check(sum(r[1] for r in STANDIN.seen("ok-8")[before:]) >= len(texts),
          "with the cache off every chunk is embedded again")


def test_429_is_retried_after_retry_after(srv):
    ds = dataset(srv, "oa-429", "ratelimit")
    it, _ = index(srv, ds, "limited.txt", "\n\n".join(TOPICS[:3]))
    eq(it.get("indexing_status"), "completed", f"document completes after 429s: {it}")
    reqs = STANDIN.seen("ratelimit")
    eq([r[4] for r in reqs[:3]], [429, 429, 200], "two 429s, then success")
    if len(reqs) >= 3:
        gaps = [reqs[i + 1][3] - reqs[i][3] for i in range(2)]
        check(all(g >= 0.95 for g in gaps), f"each retry waited Retry-After (1 s): {gaps}")
    check("ratelimit" in srv.log() and "HTTP 429" in srv.log(), "retries logged at warn")


def test_failures_end_the_document_in_error(srv):
    """down (500 always), slow (timeouts), garbage (not JSON), wrongdim (7 of 8)."""
    cases = {"down": DOWN_MESSAGE, "slow": "timed out", "garbage": "malformed JSON",
             "wrongdim": "returned 7 dimensions, the model is configured with 8"}
    batches = {}
    t0 = time.time()
    for model in cases:
        ds = dataset(srv, f"oa-{model}", model)
        _, batch = srv.create_text(ds, f"{model}.txt", "\n\n".join(TOPICS[:2]),
                                   indexing_technique="high_quality", process_rule=PARA_RULE)
        batches[model] = (ds, batch)
    for model, want in cases.items():
        ds, batch = batches[model]
        it = srv.wait_indexed(ds, batch, timeout=40)[0]
        eq(it.get("indexing_status"), "error", f"{model}: document ends in error")
        msg = it.get("error") or ""
        check(want in msg, f"{model}: error names the problem ({want!r}): {msg!r}")
        check(KEY not in msg, f"{model}: the key is not in the error: {msg!r}")
    check(time.time() - t0 < 40, "failures are bounded in time")
    down = STANDIN.seen("down")
    eq(len(down), 4, "down: one attempt and 3 retries")
    ds, batch = batches["down"]
    msg = srv.wait_indexed(ds, batch)[0].get("error") or ""
    check("HTTP 500 after 3 retries" in msg and "***" in msg,
          f"down: status, retries and the scrubbed key in the message: {msg!r}")


def test_retrieve_on_a_failing_model_is_a_completion_request_error(srv):
    for model, want in (("garbage", "malformed JSON"), ("wrongdim", "7 dimensions")):
        ds = dataset(srv, f"oa-retrieve-{model}", model)
        resp = srv.retrieve(ds, "whales", rm("semantic_search", 3))
        expect_error(resp, 400, "completion_request_error", f"/retrieve with {model}",
                     message=lambda m, w=want: w in m and KEY not in m)


def test_requests_in_flight_are_bounded(srv):
    """8 concurrent /retrieve calls (8 HTTP threads) share 3 in-flight slots."""
    ds = dataset(srv, "oa-busy", "busy")
    results = []

    def one(i):
        st, _, _, raw = srv.retrieve(ds, f"query {i}", rm("semantic_search", 3))
        results.append((st, raw[:120]))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    eq(sorted(r[0] for r in results), [200] * 8, f"every query answered: {results}")
    eq(STANDIN.busy_max, INFLIGHT, "the stand-in saw exactly the in-flight limit at once")


def test_the_key_never_reaches_the_log(srv):
    log = srv.log() + srv.stdout()
    check("HTTP 500" in log or "retry" in log, "the log has the retries (the test looks)")
    check(KEY not in log, "the key appears nowhere in the server's output")


def serve_once(srv, env):
    """Runs `ragd serve` with env added on srv's data directory, expecting it to stop at
    start-up; its stderr joins srv's log (for the sanitizer check)."""
    e = srv.env()
    e.update(env)
    p = subprocess.run([srv.bin, "serve", "--data", srv.data, "--listen", "127.0.0.1:0"],
                       env=e, capture_output=True, text=True, timeout=30)
    with srv._log_lock:
        srv._log.extend(f"[serve_once] {l}" for l in p.stderr.splitlines())
    return p


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: connection refused
    return port


def test_start_up_fails_when_a_probe_cannot_reach_the_service(srv):
    t0 = time.time()
    p = serve_once(srv, {"RAGD_EMBED_OPENAI_URL": f"http://127.0.0.1:{free_port()}/v1",
                         "RAGD_EMBED_OPENAI_MODELS": "ok-8:8,nomic-embed-text:latest"})
    check(p.returncode != 0, f"serve exits non-zero (got {p.returncode})")
    check("cannot learn the dimensions of model nomic-embed-text:latest" in p.stderr
          and "nomic-embed-text:latest:DIMENSIONS" in p.stderr,
          f"the message says what to do: {p.stderr[-400:]!r}")
    check(time.time() - t0 < 15, "the probe gives up quickly")


def test_bad_urls_and_lists_are_refused_at_start(srv):
    for url, models, why in (("ftp://127.0.0.1/v1", "a:4", "http:// or https://"),
                             ("http://user:pw@127.0.0.1/v1", "a:4", "user info"),
                             ("http://127.0.0.1/v1?x=1", "a:4", "query"),
                             (URL, "a:4,a:8", "listed twice"),
                             (URL, "a:0", "dimensions must be"),
                             ("", "a:4", "--embed-openai-url is not")):
        p = serve_once(srv, {"RAGD_EMBED_OPENAI_URL": url, "RAGD_EMBED_OPENAI_MODELS": models})
        check(p.returncode != 0 and why in p.stderr, f"{url} {models}: refused with {why!r} "
              f"(exit {p.returncode}, {p.stderr[-300:]!r})")
        check(":pw@" not in p.stderr, f"{url}: the user info is not echoed")
