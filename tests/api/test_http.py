"""The HTTP layer: JSON error envelopes for 404/405/415/400, body limits (413 before
the body is read), keep-alive, slow and stalled clients, oversized headers."""
import json
import re
import select
import socket
import time

from harness import check, eq, expect_error, skip

# small limits keep the oversized-body tests fast; a stalled client is dropped after 2 s
SERVER_ENV = {"RAGD_MAX_JSON_BODY": "64K", "RAGD_CONN_TIMEOUT": "2"}
LIMIT = 64 * 1024
STATE = {}


# ---- raw-socket helpers ---------------------------------------------------------


def read_response(s, timeout=5.0):
    """Reads one HTTP response from s.  Returns (status or None, header text, body,
    seconds taken, closed-by-peer)."""
    t0 = time.time()
    buf = b""
    closed = False
    s.settimeout(0.2)
    while time.time() - t0 < timeout:
        head_end = buf.find(b"\r\n\r\n")
        if head_end >= 0:
            m = re.search(rb"(?im)^content-length:\s*(\d+)", buf[:head_end])
            if m and len(buf) - head_end - 4 >= int(m.group(1)):
                break
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        buf += chunk
    dt = time.time() - t0
    head, _, body = buf.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return (int(m.group(1)) if m else None), head.decode("latin-1"), body, dt, closed


def send_until_answered(s, pieces):
    """Sends pieces one by one, stopping as soon as the server has something to say
    (or has closed).  Returns how many bytes went out."""
    sent = 0
    for p in pieces:
        r, _, _ = select.select([s], [], [], 0)
        if r:
            break
        try:
            s.sendall(p)
        except OSError:
            break
        sent += len(p)
    return sent


def request_head(srv, method, path, extra, key=True):
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{srv.port}"]
    if key:
        lines.append(f"Authorization: Bearer {srv.key}")
    lines += extra
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def error_body(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


def alive(srv, msg):
    try:
        st = srv.call("GET", "/healthz", key=None, timeout=3)[0]
    except OSError as e:
        st = repr(e)
    return eq(st, 200, f"{msg}: server still answers /healthz")


# ---- tests --------------------------------------------------------------------------


def test_setup_dataset_for_the_end(srv):
    ds = srv.create_dataset("http-survivor", description="must survive the abuse below")
    STATE["ds"] = ds["id"]


def test_healthz_needs_no_key(srv):
    st, h, js, raw = srv.call("GET", "/healthz", key=None)
    eq(st, 200, "GET /healthz without a key")
    eq((js or {}).get("status"), "ok", f"/healthz body {raw[:100]!r}")
    check("json" in (h.get("Content-Type") or ""), "/healthz Content-Type is JSON")


def test_unknown_route_is_json_404(srv):
    for path in ("/v1/nope", "/nope", "/v1/datasets/", "/v1//datasets", "/v1/datasets/x/y/z/w"):
        r = srv.call("GET", path)
        expect_error(r, 404, "not_found", f"GET {path}")
        check("json" in (r[1].get("Content-Type") or ""), f"GET {path}: Content-Type is not JSON")


def test_non_uuid_dataset_id_is_json_404(srv):
    for bad in ("not-a-uuid", "12345", "00000000-0000-0000-0000-00000000000", "%00"):
        expect_error(srv.call("GET", f"/v1/datasets/{bad}"), 404, "not_found", f"GET /v1/datasets/{bad}")


def test_wrong_method_is_405(srv):
    expect_error(srv.call("PUT", "/v1/datasets", body={"name": "x"}), 405, "method_not_allowed",
                 "PUT /v1/datasets")
    expect_error(srv.call("DELETE", "/v1/datasets"), 405, "method_not_allowed", "DELETE /v1/datasets")
    expect_error(srv.call("POST", f"/v1/datasets/{STATE.get('ds')}", body={}), 405,
                 "method_not_allowed", "POST /v1/datasets/{id}")
    expect_error(srv.call("POST", "/healthz", key=None), 405, "method_not_allowed", "POST /healthz")


def test_non_json_content_type_is_415(srv):
    body = json.dumps({"name": "media-type"}).encode()
    expect_error(srv.call("POST", "/v1/datasets", raw=body, headers={"Content-Type": "text/plain"}),
                 415, "unsupported_media_type", "POST /v1/datasets as text/plain")
    expect_error(srv.call("POST", "/v1/datasets", raw=body, headers={"Content-Type": None}), 415,
                 "unsupported_media_type", "POST /v1/datasets without Content-Type")
    expect_error(srv.call("POST", "/v1/datasets", raw=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"}),
                 415, "unsupported_media_type", "POST /v1/datasets as a form")


def test_json_content_type_variants_accepted(srv):
    for i, ct in enumerate(("application/json; charset=utf-8", "Application/JSON",
                            "application/vnd.api+json")):
        body = json.dumps({"name": f"ctype-{i}"}).encode()
        st, _, _, raw = srv.call("POST", "/v1/datasets", raw=body, headers={"Content-Type": ct})
        eq(st, 200, f"POST /v1/datasets as {ct!r} ({raw[:150]!r})")


def test_empty_body_is_400_bad_request(srv):
    for raw in (b"", b"   \r\n"):
        expect_error(srv.call("POST", "/v1/datasets", raw=raw), 400, "bad_request",
                     f"POST /v1/datasets with body {raw!r}",
                     "Invalid JSON payload received or JSON payload is empty.")


def test_malformed_json_is_400_bad_request(srv):
    for raw in (b'{"name": ', b"{name: 1}", b"{'name': 'x'}", b'{"name": "x"} trailing', b"nul"):
        expect_error(srv.call("POST", "/v1/datasets", raw=raw), 400, "bad_request",
                     f"POST /v1/datasets with {raw!r}")


def test_non_object_json_is_400(srv):
    expect_error(srv.call("POST", "/v1/datasets", raw=b'[{"name": "x"}]'), 400, "invalid_param",
                 "JSON array body")
    r = srv.call("POST", "/v1/datasets", raw=b'"just a string"')
    expect_error(r, 400, None, "JSON string body")
    r = srv.call("POST", "/v1/datasets", raw=b"42")
    expect_error(r, 400, None, "JSON number body")


def test_duplicate_keys_are_400(srv):
    r = srv.call("POST", "/v1/datasets", raw=b'{"name": "dup-a", "name": "dup-b"}')
    expect_error(r, 400, None, "duplicate key in the JSON body")
    lst = srv.call("GET", "/v1/datasets?keyword=dup-&limit=100")[2] or {}
    eq(lst.get("total"), 0, "a dataset was created from a body with duplicate keys")


def test_invalid_utf8_is_400(srv):
    for raw in (b'{"name": "bad-\xff\xfe"}', b'{"name": "half-\xe4\xb8"}', b'{"na\xc0me": "x"}'):
        expect_error(srv.call("POST", "/v1/datasets", raw=raw), 400, None,
                     f"invalid UTF-8 {raw!r}")


def test_nul_in_string_is_400(srv):
    r = srv.call("POST", "/v1/datasets", raw=b'{"name": "nul\\u0000name"}')
    expect_error(r, 400, None, "name with an escaped NUL")
    r = srv.call("POST", "/v1/datasets", raw=b'{"name": "nul-desc", "description": "a\\u0000b"}')
    expect_error(r, 400, None, "description with an escaped NUL")


def test_deeply_nested_json_is_4xx_and_server_lives(srv):
    # over the 64K limit: refused by size
    r = srv.call("POST", "/v1/datasets", raw=b"[" * 100000)
    check(400 <= r[0] < 500, f"100k '[': HTTP {r[0]}, expected 4xx")
    alive(srv, "after 100k '['")
    # under the limit: reaches the parser, which must refuse the depth without recursing away
    for raw in (b"[" * 60000, b'{"a":' * 12000 + b"1" + b"}" * 12000):
        if len(raw) > LIMIT:
            raw = raw[:LIMIT]
        r = srv.call("POST", "/v1/datasets", raw=raw)
        expect_error(r, 400, None, f"{len(raw)} bytes of nesting")
        alive(srv, "after deep nesting")


def test_body_at_the_limit_is_accepted(srv):
    head = b'{"name": "at-the-limit"}'
    raw = head + b" " * (LIMIT - len(head))
    eq(len(raw), LIMIT, "test body size")
    st, _, js, body = srv.call("POST", "/v1/datasets", raw=raw)
    eq(st, 200, f"a body of exactly the limit ({LIMIT} bytes): {body[:200]!r}")


def test_body_one_byte_over_the_limit_is_413(srv):
    head = b'{"name": "over-the-limit"}'
    raw = head + b" " * (LIMIT + 1 - len(head))
    s = srv.raw_socket()
    try:
        s.sendall(request_head(srv, "POST", "/v1/datasets",
                               ["Content-Type: application/json", f"Content-Length: {len(raw)}"]))
        send_until_answered(s, [raw[i:i + 4096] for i in range(0, len(raw), 4096)])
        st, head_txt, body, dt, _ = read_response(s)
    finally:
        s.close()
    eq(st, 413, f"{LIMIT + 1}-byte body: status ({head_txt[:80]!r})")
    eq((error_body(body) or {}).get("code"), "request_entity_too_large", "413 code")
    lst = srv.call("GET", "/v1/datasets?keyword=over-the-limit")[2] or {}
    eq(lst.get("total"), 0, "the oversized body created a dataset")


def test_declared_oversized_body_gets_413_unread(srv):
    s = srv.raw_socket()
    try:
        s.sendall(request_head(srv, "POST", "/v1/datasets",
                               ["Content-Type: application/json", "Content-Length: 10485760"])
                  + b'{"name": "huge')
        st, head_txt, body, dt, _ = read_response(s, timeout=5)
    finally:
        s.close()
    eq(st, 413, f"Content-Length 10 MB with a few bytes sent: status ({head_txt[:80]!r})")
    check(dt < 2.0, f"the 413 took {dt:.2f} s: the server waited for the body")
    js = error_body(body) or {}
    eq(js.get("code"), "request_entity_too_large", "413 code")
    eq(js.get("status"), 413, "413 envelope status")
    alive(srv, "after the declared oversized body")


def test_chunked_body_over_the_limit_is_413(srv):
    s = srv.raw_socket()
    try:
        s.sendall(request_head(srv, "POST", "/v1/datasets",
                               ["Content-Type: application/json", "Transfer-Encoding: chunked"]))
        piece = b"1000\r\n" + b" " * 4096 + b"\r\n"
        sent = send_until_answered(s, [piece] * 48)  # 192 KB if nobody stops us
        try:
            s.sendall(b"0\r\n\r\n")
        except OSError:
            pass
        st, head_txt, body, dt, _ = read_response(s, timeout=5)
    finally:
        s.close()
    eq(st, 413, f"chunked body growing past {LIMIT} bytes: status "
               f"({'connection closed without a response' if st is None else head_txt[:80]!r})")
    eq((error_body(body) or {}).get("code"), "request_entity_too_large", "chunked 413 code")
    check(sent < 48 * len(piece) or st == 413, "the server read the whole oversized chunked body")
    alive(srv, "after the chunked oversized body")


def test_unroutable_request_with_a_big_body_gets_an_answer(srv):
    # the server reads at most 64 KB of a body it will not use; past that it must still
    # answer (404 or 413), not drop the connection
    for n in (70000, 200000):
        s = srv.raw_socket()
        try:
            s.sendall(request_head(srv, "POST", "/v1/nope",
                                   ["Content-Type: application/json", f"Content-Length: {n}"]))
            send_until_answered(s, [b" " * 4096] * (n // 4096) + [b" " * (n % 4096)])
            st, head_txt, body, _, _ = read_response(s, timeout=5)
        finally:
            s.close()
        check(st in (404, 413), f"POST /v1/nope with a {n}-byte body: "
              f"{'connection closed without a response' if st is None else st}, expected 404 or 413")
        check(st is None or (error_body(body) or {}).get("status") == st,
              f"POST /v1/nope with a {n}-byte body: not a JSON envelope {body[:100]!r}")
    alive(srv, "after big bodies to an unknown route")


def test_chunked_body_under_the_limit_is_accepted(srv):
    body = json.dumps({"name": "chunked-ok", "description": "sent in chunks"}).encode()
    s = srv.raw_socket()
    try:
        s.sendall(request_head(srv, "POST", "/v1/datasets",
                               ["Content-Type: application/json", "Transfer-Encoding: chunked"]))
        for i in range(0, len(body), 7):
            part = body[i:i + 7]
            s.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        st, _, resp, _, _ = read_response(s)
    finally:
        s.close()
    eq(st, 200, f"chunked JSON body: {resp[:200]!r}")
    eq((error_body(resp) or {}).get("name"), "chunked-ok", "chunked body parsed")


def test_keep_alive_200_requests_on_one_connection(srv):
    ds = STATE.get("ds")
    c = srv.connection()
    first = None
    bad = []
    try:
        for i in range(200):
            kind = i % 4
            if kind == 0:
                r = srv.call("GET", "/healthz", key=None, conn=c)
            elif kind == 1:
                r = srv.call("GET", f"/v1/datasets/{ds}", conn=c)
            elif kind == 2:
                r = srv.call("PATCH", f"/v1/datasets/{ds}", body={"description": f"round {i}"}, conn=c)
            else:
                r = srv.call("GET", "/v1/datasets?limit=2", conn=c)
            if r[0] != 200:
                bad.append(f"request {i}: HTTP {r[0]} {r[3][:100]!r}")
            if first is None:
                first = c.sock
            if c.sock is not first or c.sock is None:
                bad.append(f"request {i}: the connection was not reused (server closed it)")
                break
    finally:
        c.close()
    check(not bad, "; ".join(bad[:5]))


def test_keep_alive_survives_error_responses(srv):
    c = srv.connection()
    first = None
    try:
        calls = [
            ("GET", "/v1/nope", {}, 404),
            ("POST", "/v1/datasets", {"body": {}}, 400),
            ("GET", "/v1/datasets", {"key": None}, 401),
            ("PUT", "/v1/datasets", {"body": {"name": "x"}}, 405),
            ("POST", "/v1/datasets", {"raw": b"{\"name\":1", "headers": {"Content-Type": "text/plain"}}, 415),
            ("POST", "/v1/datasets", {"raw": b"{\"name\":"}, 400),
            ("GET", "/healthz", {"key": None}, 200),
        ]
        for method, path, kw, want in calls:
            r = srv.call(method, path, conn=c, **kw)
            eq(r[0], want, f"{method} {path} on a kept-alive connection")
            if first is None:
                first = c.sock
            check(c.sock is first, f"after {method} {path} -> {r[0]} the server closed the connection")
            if c.sock is not first:
                break
    finally:
        c.close()


def test_slow_clients_do_not_block_others(srv):
    socks = []
    try:
        for _ in range(50):
            s = srv.raw_socket()
            s.sendall(b"GET /v1/datasets HT")
            socks.append(s)
        time.sleep(0.2)
        t0 = time.time()
        st = srv.call("GET", "/v1/datasets?limit=1", timeout=5)[0]
        dt = time.time() - t0
        eq(st, 200, "a normal request while 50 clients stall")
        check(dt < 2.0, f"a normal request took {dt:.2f} s while 50 clients stall")
    finally:
        for s in socks:
            s.close()


def test_client_stalled_mid_body_is_disconnected(srv):
    s = srv.raw_socket(timeout=10)
    try:
        s.sendall(request_head(srv, "POST", "/v1/datasets",
                               ["Content-Type: application/json", "Content-Length: 100"])
                  + b'{"name": "stall')
        t0 = time.time()
        st, head_txt, body, dt, closed = read_response(s, timeout=8)
        dt = time.time() - t0
    finally:
        s.close()
    check(closed, f"a client stalled mid-body was not disconnected within 8 s (got {head_txt[:60]!r})")
    check(1.0 <= dt <= 6.0, f"stalled client dropped after {dt:.2f} s; expected about 2 s")
    alive(srv, "after a stalled client")
    lst = srv.call("GET", "/v1/datasets?keyword=stall")[2] or {}
    eq(lst.get("total"), 0, "the stalled request created a dataset")


def test_idle_keep_alive_connection_is_closed_after_timeout(srv):
    c = srv.connection()
    try:
        eq(srv.call("GET", "/healthz", key=None, conn=c)[0], 200, "first request")
        sock = c.sock
        sock.settimeout(6)
        t0 = time.time()
        try:
            data = sock.recv(1)
        except OSError:
            data = b""
        dt = time.time() - t0
        eq(data, b"", "idle connection: no unsolicited bytes")
        check(1.0 <= dt <= 5.0, f"idle keep-alive connection closed after {dt:.2f} s; expected about 2 s")
    finally:
        c.close()


def test_oversized_header_is_4xx_not_a_crash(srv):
    s = srv.raw_socket()
    try:
        head = (f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ").encode()
        send_until_answered(s, [head] + [b"a" * 4096] * 32 + [b"\r\n\r\n"])
        st, head_txt, body, dt, closed = read_response(s, timeout=5)
    finally:
        s.close()
    check(st in (413, 431), f"128 KB header: status {st}, expected 431 or 413 ({head_txt[:80]!r})")
    alive(srv, "after an oversized header")
    # many small headers adding up past the limit
    s = srv.raw_socket()
    try:
        hdrs = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 60) for i in range(2000))
        send_until_answered(s, [b"GET /healthz HTTP/1.1\r\nHost: x\r\n", hdrs, b"\r\n"])
        st, head_txt, _, _, _ = read_response(s, timeout=5)
    finally:
        s.close()
    check(st in (413, 431), f"2000 headers: status {st}, expected 431 or 413 ({head_txt[:80]!r})")
    alive(srv, "after many headers")
    # a request line longer than the connection memory
    s = srv.raw_socket()
    try:
        send_until_answered(s, [b"GET /v1/datasets?keyword=", b"k" * 100000, b" HTTP/1.1\r\nHost: x\r\n\r\n"])
        st, head_txt, _, _, _ = read_response(s, timeout=5)
    finally:
        s.close()
    check(st in (413, 414, 431), f"100 KB request line: status {st}, expected 414, 431 or 413 ({head_txt[:80]!r})")
    alive(srv, "after a long request line")


def test_head_request(srv):
    st, h, _, raw = srv.call("HEAD", "/healthz", key=None)
    if st in (405, 501):
        skip(f"HEAD not supported (HTTP {st})")
    eq(st, 200, "HEAD /healthz")
    eq(raw, b"", "HEAD /healthz has no body")
    st, _, _, raw = srv.call("HEAD", f"/v1/datasets/{STATE.get('ds')}")
    eq(st, 200, "HEAD /v1/datasets/{id}")
    eq(raw, b"", "HEAD /v1/datasets/{id} has no body")


def test_garbage_request_line_does_not_kill_the_server(srv):
    for junk in (b"\x00\x01\x02\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                 b"POST /v1/datasets HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                 b"POST /v1/datasets HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
                 b"POST /v1/datasets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
        s = srv.raw_socket()
        try:
            s.sendall(junk)
            st, head_txt, _, _, _ = read_response(s, timeout=4)
        finally:
            s.close()
        check(st is None or 400 <= st < 600, f"{junk[:40]!r}: status {st}")
    alive(srv, "after garbage requests")


def test_server_alive_and_first_dataset_intact(srv):
    ds = STATE.get("ds")
    check(ds, "no dataset from the first test")
    st, _, js, raw = srv.call("GET", f"/v1/datasets/{ds}")
    eq(st, 200, f"the dataset created first still exists ({raw[:150]!r})")
    eq((js or {}).get("name"), "http-survivor", "its name")


def test_sigterm_with_a_stalled_client_exits_in_time(srv):
    # default timeouts: the stalled request is in flight for the whole grace period
    other = srv.spawn(env={"RAGD_CONN_TIMEOUT": "30"})
    s = other.raw_socket()
    idle = other.connection()
    try:
        eq(other.call("GET", "/healthz", key=None, conn=idle)[0], 200, "idle keep-alive connection")
        s.sendall(request_head(other, "POST", "/v1/datasets",
                               ["Content-Type: application/json", "Content-Length: 100"]) + b'{"na')
        time.sleep(0.2)
        t0 = time.time()
        try:
            other.stop()  # asserts exit 0 within 10 s
        except AssertionError as e:
            check(False, str(e))
        check(time.time() - t0 < 10, f"SIGTERM took {time.time() - t0:.1f} s")
    finally:
        s.close()
        idle.close()
