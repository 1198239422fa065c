#!/usr/bin/env python3
"""e2e.py - end-to-end ingestion through ragd's HTTP API (bench/ingest/run).

    e2e.py --url http://127.0.0.1:PORT --key KEY --list FILE --technique economy|high_quality
           [--conns 4] [--poll-ms 20] [--json OUT]

Creates a dataset with the technique, uploads every document listed in FILE
(one path per line) with POST .../document/create-by-text (Dify's automatic
process rule) over --conns keep-alive connections, while one more connection
polls GET .../documents/{batch}/indexing-status of the oldest documents not yet
seen completed, every --poll-ms.  The clock runs from the first upload to the
moment the last document is seen completed.  Then every document's detail is
read (indexing_latency, segment_count) and the per-stage times are summed from
the status timestamps.

Those timestamps are whole Unix seconds, so one document's stage times are
+-1 s; summed over many documents the rounding averages out (for a stage of
length d starting at a uniformly random fraction of a second, floor(t+d) -
floor(t) is d on average), which is why stage times are only reported as sums
and shares.  Prints a human summary; --json writes the numbers for the caller.
Standard library only.
"""
import argparse
import http.client
import json
import queue
import resource
import sys
import threading
import time
import urllib.parse


class Client:
    def __init__(self, url, key):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.hdr = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
        self.conn = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.conn.request(method, path, body=data, headers=self.hdr)
                r = self.conn.getresponse()
                raw = r.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        if r.status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {r.status}: {raw[:300]!r}")
        return json.loads(raw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--list", required=True)
    ap.add_argument("--technique", required=True, choices=["economy", "high_quality"])
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--poll-ms", type=int, default=20)
    ap.add_argument("--json")
    a = ap.parse_args()

    paths = [p for p in open(a.list).read().split("\n") if p]
    texts = [open(p, "rb").read().decode("utf-8") for p in paths]
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    n = len(texts)

    c = Client(a.url, a.key)
    ds = c.call("POST", "/v1/datasets",
                {"name": f"ingest-{a.technique}-{int(time.time()) % 100000}",
                 "indexing_technique": a.technique})["id"]
    base = f"/v1/datasets/{ds}"

    created = [None] * n  # (doc id, batch)
    sent_at = [0.0] * n
    done_at = [None] * n
    last_status = [None] * n
    todo = queue.Queue()
    for i in range(n):
        todo.put(i)
    errors = []
    uploaded = threading.Event()
    upload_end = [0.0]
    n_created = [0]
    lock = threading.Lock()

    def uploader():
        cl = Client(a.url, a.key)
        try:
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                sent_at[i] = time.monotonic()
                r = cl.call("POST", base + "/document/create-by-text",
                            {"name": f"doc-{i:05d}.txt", "text": texts[i],
                             "process_rule": {"mode": "automatic"}})
                created[i] = (r["document"]["id"], r["batch"])
                with lock:
                    n_created[0] += 1
                    upload_end[0] = time.monotonic()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    t0 = time.monotonic()
    ups = [threading.Thread(target=uploader) for _ in range(max(1, a.conns))]
    for t in ups:
        t.start()

    # the poller: oldest documents first, stop a round at the first one still running
    pc = Client(a.url, a.key)
    polls = 0
    lo = 0
    deadline = t0 + 3600
    while lo < n and not errors:
        i = lo
        while i < n:
            if done_at[i] is not None:
                if i == lo:
                    lo += 1
                i += 1
                continue
            if created[i] is None:
                break
            st = pc.call("GET", f"{base}/documents/{created[i][1]}/indexing-status")["data"][0]
            polls += 1
            last_status[i] = st
            if st["indexing_status"] == "error":
                errors.append(RuntimeError(f"document {i}: {st.get('error')}"))
                break
            if st["indexing_status"] != "completed":
                break
            done_at[i] = time.monotonic()
            if i == lo:
                lo += 1
            i += 1
        if lo < n:
            time.sleep(a.poll_ms / 1000)
        if time.monotonic() > deadline:
            errors.append(RuntimeError("timed out"))
    for t in ups:
        t.join()
    if errors:
        print(f"e2e: FAILED: {errors[0]}", file=sys.stderr)
        sys.exit(1)
    wall = max(done_at) - t0

    # details, after the clock has stopped
    segs = 0
    lat = []
    stage = {"queued": 0, "parsing": 0, "cleaning": 0, "splitting": 0, "indexing": 0}
    for i in range(n):
        d = c.call("GET", f"{base}/documents/{created[i][0]}")
        segs += d["segment_count"]
        lat.append(d["indexing_latency"] or 0.0)
        s = last_status[i]
        stage["queued"] += s["processing_started_at"] - d["created_at"]
        stage["parsing"] += s["parsing_completed_at"] - s["processing_started_at"]
        stage["cleaning"] += s["cleaning_completed_at"] - s["parsing_completed_at"]
        stage["splitting"] += s["splitting_completed_at"] - s["cleaning_completed_at"]
        stage["indexing"] += s["completed_at"] - s["splitting_completed_at"]
    lat.sort()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out = {
        "technique": a.technique, "documents": n, "bytes": nbytes, "segments": segs,
        "wall_s": wall, "upload_s": upload_end[0] - t0, "mb_per_s": nbytes / 1e6 / wall,
        "seg_per_s": segs / wall, "polls": polls,
        "latency_sum_s": sum(lat), "latency_p50_s": lat[len(lat) // 2], "latency_max_s": lat[-1],
        "stage_sum_s": stage, "client_cpu_s": ru.ru_utime + ru.ru_stime,
    }
    busy = sum(v for k, v in stage.items() if k != "queued") or 1
    print(f"e2e {a.technique}: {n} documents, {nbytes / 1e6:.2f} MB, {segs} segments")
    print(f"  wall {wall:.2f} s (uploads done after {out['upload_s']:.2f} s, {a.conns} connections;"
          f" {polls} status polls)")
    print(f"  {out['mb_per_s']:.2f} MB/s, {out['seg_per_s']:.0f} segments/s")
    print(f"  per document indexing_latency: p50 {out['latency_p50_s']:.3f} s, max"
          f" {out['latency_max_s']:.3f} s, sum {out['latency_sum_s']:.2f} s")
    print("  stage time summed over documents (status timestamps, whole seconds; see e2e.py):")
    print(f"    {'queued (created -> processing_started)':44s} {stage['queued']:6d} s")
    for k, label in [("parsing", "parsing"), ("cleaning", "cleaning"),
                     ("splitting", "splitting (+keywords, segments stored)"),
                     ("indexing", "indexing (terms/vectors, batches)")]:
        print(f"    {label:44s} {stage[k]:6d} s  {100 * stage[k] / busy:5.1f} % of processing")
    print(f"  client CPU {out['client_cpu_s']:.2f} s")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f)


if __name__ == "__main__":
    main()
