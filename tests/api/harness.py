"""harness.py - runs a ragd server for black-box API tests (standard library only).

Server          a ragd process on an ephemeral port with its own temporary data
                directory and a first API key (tenant "default").
check / eq      record a failure of the current test and carry on; a test passes
                when nothing was recorded and no exception escaped.
skip            ends the current test as skipped (not a failure).

A test module defines functions test_*(srv) and may set
    SERVER_ENV = {"RAGD_...": "..."}   environment of the module's server
It may start more servers with srv.spawn(env=...); they are stopped and checked
(exit 0 on SIGTERM, no sanitizer report) with the module's own.

Document helpers: srv.upload() sends multipart/form-data (multipart() builds it),
srv.create_text() / srv.create_file() create a document, srv.wait_indexed(dataset,
batch) polls indexing-status until every document of the batch is completed or in
error, srv.document() / srv.list_item() / srv.dataset() read one object.

Retrieval helpers: srv.retrieve() posts to .../retrieve (or /hit-testing), retrieval_model()
builds a RetrievalModel, srv.segments() lists every chunk of a document.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SPEC_PATH = os.path.join(REPO, "..", "shared", "spec", "knowledge-api.en.json")
CONFORMANCE = os.path.join(REPO, "..", "shared", "tools", "conformance.py")

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")
DEFAULT = object()  # "use the server's default key"

# ---- the test registry ------------------------------------------------------------


class Skip(Exception):
    """Raised by skip(): the test does not apply to this server."""


_failures = []


def reset_failures():
    del _failures[:]


def failures():
    return list(_failures)


def _short(v, n=300):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "..."


def check(cond, msg):
    """Records msg as a failure of the current test when cond is false."""
    if not cond:
        _failures.append(str(msg))
    return bool(cond)


def eq(a, b, msg):
    """Records a failure when a != b, showing both values."""
    if a != b:
        _failures.append(f"{msg}: got {_short(a)}, expected {_short(b)}")
        return False
    return True


def skip(why):
    raise Skip(why)


def expect_error(resp, status, code, msg, message=None):
    """Checks an error response: status, JSON envelope {code, message, status}, code
    and (optionally) the exact message or a predicate on it.  resp is call()'s tuple."""
    got, _, body, raw = resp
    if not eq(got, status, f"{msg}: HTTP status (body {raw[:200]!r})"):
        return False
    ok = check(isinstance(body, dict) and isinstance(body.get("code"), str)
               and isinstance(body.get("message"), str) and body.get("status") == status,
               f"{msg}: body is not the envelope {{code, message, status}}: {raw[:200]!r}")
    if not ok:
        return False
    if code is not None:
        ok &= eq(body["code"], code, f"{msg}: error code")
    if callable(message):
        ok &= check(message(body["message"]), f"{msg}: unexpected message {body['message']!r}")
    elif message is not None:
        ok &= eq(body["message"], message, f"{msg}: error message")
    return ok


def load_spec():
    with open(SPEC_PATH) as f:
        return json.load(f)


# ---- the server ---------------------------------------------------------------------


class Server:
    """One ragd process.  start() creates the data directory and the default key,
    then serves on 127.0.0.1:0 and waits for /healthz."""

    def __init__(self, binary, env=None, args=None, data_dir=None, make_key=True):
        self.bin = os.path.abspath(binary)
        self.extra_env = dict(env or {})
        self.args = list(args or [])
        self.own_dir = data_dir is None
        self.data = data_dir or tempfile.mkdtemp(prefix="ragd-api-")
        self.proc = None
        self.port = None
        self.key = None
        self.make_key = make_key  # False: let `serve` create the first key itself
        self.keys = []  # every key created through this harness
        self.expected_exit = False  # set by stop()/kill9(): a death that is not a crash
        self.extras = []  # servers started by spawn()
        self._log = []  # stderr lines of every run, in order
        self._out = []  # stdout lines of every run of `serve`
        self._log_lock = threading.Lock()
        self._threads = []

    # -- environment and CLI --
    def env(self):
        e = {k: v for k, v in os.environ.items() if not k.startswith("RAGD_")}
        e.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        e.update(self.extra_env)
        return e

    def cli(self, *args, timeout=20):
        """Runs `ragd ARGS --data DIR` and returns the CompletedProcess (text).  Its
        stderr is also kept for sanitizer_report()."""
        p = subprocess.run([self.bin, *args, "--data", self.data], env=self.env(),
                           capture_output=True, text=True, timeout=timeout)
        with self._log_lock:
            self._log.extend(f"[cli {' '.join(args)}] {l}" for l in p.stderr.splitlines())
        return p

    def create_key(self, tenant=None, dataset=None):
        """`ragd key create` (optionally --tenant / --dataset); returns the key."""
        args = ["key", "create"]
        if tenant:
            args += ["--tenant", tenant]
        if dataset:
            args += ["--dataset", dataset]
        p = self.cli(*args)
        if p.returncode != 0:
            raise RuntimeError(f"ragd {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
        key = p.stdout.strip()
        if not re.fullmatch(r"dataset-[A-Za-z0-9]{24}", key):
            raise RuntimeError(f"ragd key create printed {p.stdout!r}, not a key alone")
        self.keys.append(key)
        return key

    # -- process lifecycle --
    def _reader(self, stream, port_box, ready, sink):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._log_lock:
                sink.append(line)
            if not ready.is_set():
                m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
                if m:
                    port_box.append(int(m.group(1)))
                    ready.set()
        stream.close()
        ready.set()  # the process ended: wake start() up

    def start(self):
        if self.key is None and self.make_key:
            self.key = self.create_key()
        self.expected_exit = False
        cmd = [self.bin, "serve", "--data", self.data, "--listen", "127.0.0.1:0", *self.args]
        self.proc = subprocess.Popen(cmd, env=self.env(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        port_box, ready = [], threading.Event()
        for stream, box, ev, sink in ((self.proc.stderr, port_box, ready, self._log),
                                      (self.proc.stdout, [], threading.Event(), self._out)):
            t = threading.Thread(target=self._reader, args=(stream, box, ev, sink), daemon=True)
            t.start()
            self._threads.append(t)
        ready.wait(START_TIMEOUT)
        if not port_box:
            self._abort_start("did not log 'listening on 127.0.0.1:PORT'")
        self.port = port_box[0]
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self._abort_start(f"exited {self.proc.returncode} during start-up")
            try:
                if self.call("GET", "/healthz", key=None, timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self._abort_start("GET /healthz never answered 200")

    def _abort_start(self, why):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.expected_exit = True
        raise RuntimeError(f"ragd serve {why}; stderr:\n{self.log_tail()}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def crashed(self):
        """True when the process ended without stop()/kill9() being asked to end it."""
        return self.proc is not None and self.proc.poll() is not None and not self.expected_exit

    def stop(self):
        """SIGTERM; asserts exit code 0 within STOP_TIMEOUT seconds."""
        if self.proc is None:
            return
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            was_expected = self.expected_exit
            self.expected_exit = True
            assert was_expected, f"server had already died (exit {rc}) before stop()"
            return
        self.expected_exit = True
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self._join_readers()
            raise AssertionError(f"server did not exit within {STOP_TIMEOUT:.0f} s of SIGTERM")
        self._join_readers()
        assert rc == 0, f"server exited {rc} on SIGTERM; stderr tail:\n{self.log_tail()}"

    def kill9(self):
        """SIGKILL and wait."""
        if self.alive():
            self.expected_exit = True
            self.proc.kill()
            self.proc.wait()
            self._join_readers()

    def restart(self):
        """Starts again on the same data directory (stopping first if running).  The
        port changes."""
        if self.alive():
            self.stop()
        return self.start()

    def _join_readers(self):
        for t in self._threads:
            t.join(2)
        self._threads = [t for t in self._threads if t.is_alive()]

    def spawn(self, env=None, args=None, make_key=True):
        """Starts another server (own data dir) that the runner stops with this one."""
        e = dict(self.extra_env)
        e.update(env or {})
        s = Server(self.bin, env=e, args=args, make_key=make_key)
        self.extras.append(s)
        return s.start()

    def cleanup(self):
        for s in self.extras:
            s.cleanup()
        if self.alive():
            self.kill9()
        if self.own_dir and not os.environ.get("RAGD_TEST_KEEP"):
            shutil.rmtree(self.data, ignore_errors=True)

    # -- logs --
    def log(self):
        with self._log_lock:
            return "\n".join(self._log)

    def stdout(self):
        """What `serve` printed on stdout, all runs."""
        with self._log_lock:
            return "\n".join(self._out)

    def log_tail(self, n=30):
        with self._log_lock:
            return "\n".join(self._log[-n:])

    def sanitizer_report(self):
        """Every stderr line (of any run and CLI call) from a sanitizer report, or ''."""
        with self._log_lock:
            lines = list(self._log)
        out, inside = [], False
        for i, l in enumerate(lines):
            if any(m in l for m in SANITIZER_MARKERS) or l.startswith("==") and "ERROR" in l:
                inside = True
            if inside:
                out.append(l)
                if len(out) > 60:
                    break
        return "\n".join(out)

    # -- HTTP --
    def connection(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def call(self, method, path, body=None, raw=None, headers=None, key=DEFAULT, timeout=10,
             conn=None):
        """One request.  body: a Python value sent as JSON; raw: bytes sent as they are
        (Content-Type application/json unless headers say otherwise; a header given as
        None is left out).  key: DEFAULT for the server's key, None for no Authorization.
        conn: an open HTTPConnection to reuse (kept open).
        Returns (status, headers, parsed JSON or None, raw bytes)."""
        hdrs = {}
        if key is DEFAULT:
            key = self.key
        if key is not None:
            hdrs["Authorization"] = f"Bearer {key}"
        data = None
        if raw is not None:
            data = raw
            hdrs["Content-Type"] = "application/json"
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        for k, v in (headers or {}).items():
            for old in [h for h in hdrs if h.lower() == k.lower()]:
                del hdrs[old]
            if v is not None:
                hdrs[k] = v
        own = conn is None
        c = conn or self.connection(timeout)
        try:
            c.request(method, path, body=data, headers=hdrs)
            r = c.getresponse()
            payload = r.read()
            status, rh = r.status, r.headers
        finally:
            if own:
                c.close()
        parsed = None
        if payload and "json" in (rh.get("Content-Type") or ""):
            try:
                parsed = json.loads(payload)
            except ValueError:
                parsed = None
        return status, rh, parsed, payload

    # -- convenience --
    def create_dataset(self, name, key=DEFAULT, **fields):
        """POST /v1/datasets; returns the body, or raises with the response when not 200."""
        body = dict(fields, name=name)
        st, _, js, raw = self.call("POST", "/v1/datasets", body=body, key=key)
        if st != 200 or not isinstance(js, dict):
            raise RuntimeError(f"create dataset {name!r}: HTTP {st} {raw[:300]!r}")
        return js

    def raw_socket(self, timeout=10):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return s

    # -- documents (additive helpers) --
    def upload(self, path, files=(), data=DEFAULT, fields=(), method="POST", key=DEFAULT,
               timeout=30):
        """A multipart/form-data request.  files: (field, filename, bytes[, content type])
        tuples; data: a Python value sent as the "data" part (JSON), or a str sent as it
        is, or DEFAULT for no "data" part; fields: more (name, str) text parts.  Returns
        call()'s tuple."""
        parts = list(fields)
        if data is not DEFAULT:
            parts.insert(0, ("data", data if isinstance(data, str) else json.dumps(data)))
        body, ctype = multipart(parts, files)
        return self.call(method, path, raw=body, headers={"Content-Type": ctype}, key=key,
                         timeout=timeout)

    def indexing_status(self, dataset, batch, key=DEFAULT):
        """GET .../documents/{batch}/indexing-status; returns call()'s tuple."""
        return self.call("GET", f"/v1/datasets/{dataset}/documents/{batch}/indexing-status",
                         key=key)

    def wait_indexed(self, dataset, batch, timeout=30, key=DEFAULT, interval=0.05,
                     until=("completed", "error")):
        """Polls the indexing status of a batch until every document's indexing_status is
        in until; returns the list of status items.  Raises AssertionError on timeout or
        on an answer that is not 200."""
        deadline = time.time() + timeout
        items = None
        while True:
            st, _, js, raw = self.indexing_status(dataset, batch, key=key)
            if st != 200 or not isinstance(js, dict):
                raise AssertionError(f"indexing-status of batch {batch}: HTTP {st} {raw[:200]!r}")
            items = js.get("data") or []
            if items and all(it.get("indexing_status") in until for it in items):
                return items
            if time.time() > deadline:
                raise AssertionError(f"batch {batch} not {'/'.join(until)} within {timeout} s: "
                                     f"{_short(items, 600)}")
            time.sleep(interval)

    def create_text(self, dataset, name, text, key=DEFAULT, **fields):
        """POST create-by-text (indexing_technique economy unless given); returns
        (document, batch), or raises with the response when not 200."""
        body = dict(fields, name=name, text=text)
        body.setdefault("indexing_technique", "economy")
        st, _, js, raw = self.call("POST", f"/v1/datasets/{dataset}/document/create-by-text",
                                   body=body, key=key)
        if st != 200 or not isinstance(js, dict) or "document" not in js:
            raise AssertionError(f"create-by-text {name!r}: HTTP {st} {raw[:300]!r}")
        return js["document"], js["batch"]

    def create_file(self, dataset, filename, content, data=DEFAULT, key=DEFAULT):
        """POST create-by-file with one file part; returns (document, batch), or raises
        with the response when not 200."""
        st, _, js, raw = self.upload(f"/v1/datasets/{dataset}/document/create-by-file",
                                     files=[("file", filename, content)], data=data, key=key)
        if st != 200 or not isinstance(js, dict) or "document" not in js:
            raise AssertionError(f"create-by-file {filename!r}: HTTP {st} {raw[:300]!r}")
        return js["document"], js["batch"]

    def document(self, dataset, doc_id, key=DEFAULT, query=""):
        """GET one document (detail form); returns the body, or raises when not 200."""
        st, _, js, raw = self.call("GET", f"/v1/datasets/{dataset}/documents/{doc_id}{query}",
                                   key=key)
        if st != 200 or not isinstance(js, dict):
            raise AssertionError(f"GET document {doc_id}: HTTP {st} {raw[:300]!r}")
        return js

    def list_item(self, dataset, doc_id, key=DEFAULT):
        """The list form of one document (from GET .../documents, every page), or None."""
        page = 1
        while True:
            st, _, js, raw = self.call("GET", f"/v1/datasets/{dataset}/documents?limit=100"
                                       f"&page={page}", key=key)
            if st != 200 or not isinstance(js, dict):
                raise AssertionError(f"list documents: HTTP {st} {raw[:300]!r}")
            for d in js.get("data", []):
                if d.get("id") == doc_id:
                    return d
            if not js.get("has_more"):
                return None
            page += 1

    def dataset(self, dataset, key=DEFAULT):
        """GET one dataset; returns the body, or raises when not 200."""
        st, _, js, raw = self.call("GET", f"/v1/datasets/{dataset}", key=key)
        if st != 200 or not isinstance(js, dict):
            raise AssertionError(f"GET dataset {dataset}: HTTP {st} {raw[:300]!r}")
        return js

    # -- retrieval and chunks (additive helpers) --
    def retrieve(self, dataset, query, model=None, path="retrieve", key=DEFAULT, **fields):
        """POST /v1/datasets/{dataset}/{path} with {"query", "retrieval_model", **fields};
        a query or model of None is left out.  Returns call()'s tuple."""
        body = dict(fields)
        if query is not None:
            body["query"] = query
        if model is not None:
            body["retrieval_model"] = model
        return self.call("POST", f"/v1/datasets/{dataset}/{path}", body=body, key=key)

    def segments(self, dataset, doc_id, key=DEFAULT):
        """Every segment of a document (GET .../segments, all pages), in list order; raises
        when a page is not 200."""
        out, page = [], 1
        while True:
            st, _, js, raw = self.call("GET", f"/v1/datasets/{dataset}/documents/{doc_id}"
                                       f"/segments?limit=100&page={page}", key=key)
            if st != 200 or not isinstance(js, dict):
                raise AssertionError(f"list segments of {doc_id}: HTTP {st} {raw[:300]!r}")
            out.extend(js.get("data") or [])
            if not js.get("has_more"):
                return out
            page += 1


def retrieval_model(method="semantic_search", top_k=4, threshold=None, **extra):
    """A RetrievalModel with the four required fields; threshold (a number) enables
    score_threshold; extra fields (weights, ...) are added as given."""
    m = {"search_method": method, "reranking_enable": False, "top_k": top_k,
         "score_threshold_enabled": threshold is not None}
    if threshold is not None:
        m["score_threshold"] = threshold
    m.update(extra)
    return m


def multipart(fields=(), files=(), boundary=None):
    """Builds a multipart/form-data body: fields are (name, str) pairs, files are
    (field, filename, bytes[, content type]) tuples (filename None: a part without a
    filename).  Returns (body bytes, Content-Type value)."""
    boundary = boundary or "ragdtest" + os.urandom(12).hex()
    out = []
    for name, value in fields:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                   .encode())
        out.append(value.encode() if isinstance(value, str) else value)
        out.append(b"\r\n")
    for f in files:
        name, filename, content = f[0], f[1], f[2]
        ctype = f[3] if len(f) > 3 else "application/octet-stream"
        disp = f'form-data; name="{name}"'
        if filename is not None:
            disp += f'; filename="{filename}"'
        out.append(f"--{boundary}\r\nContent-Disposition: {disp}\r\n"
                   f"Content-Type: {ctype}\r\n\r\n".encode())
        out.append(content)
        out.append(b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"
