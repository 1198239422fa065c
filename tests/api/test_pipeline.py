"""The indexing pipeline seen through the API: stage order and timestamps, crash and
resume, pause/resume/retry, delete while indexing, fairness between tenants, the
watchdog, and updates of a paused document.

The module's server pauses RAGD_BATCH_DELAY_MS before every batch of RAGD_INDEX_BATCH
segments, so documents can be caught mid-indexing; the fairness and watchdog tests
spawn servers of their own."""
import random
import time
import uuid

import fixtures
from harness import check, eq, expect_error

BATCH, DELAY_MS = 2, 300
SERVER_ENV = {"RAGD_INDEX_BATCH": str(BATCH), "RAGD_BATCH_DELAY_MS": str(DELAY_MS),
              "RAGD_WORKERS": "2"}
STAGES = ["waiting", "parsing", "cleaning", "splitting", "indexing", "completed"]
STAMPS = ["processing_started_at", "parsing_completed_at", "cleaning_completed_at",
          "splitting_completed_at", "completed_at"]
RULE = {"mode": "custom", "rules": {"pre_processing_rules": [],
                                    "segmentation": {"separator": "\\n\\n", "max_tokens": 100,
                                                     "chunk_overlap": 0}}}


def paragraphs(n, tag="p"):
    """n paragraphs, one segment each under RULE."""
    return "\n\n".join(f"Paragraph {tag}{i} of the test text, about rivers and hills."
                       for i in range(n))


def new_dataset(srv, key=None):
    kw = {"key": key} if key else {}
    return srv.create_dataset("pipe-" + uuid.uuid4().hex[:10], indexing_technique="economy",
                              **kw)["id"]


def status(srv, ds, batch):
    st, _, js, raw = srv.indexing_status(ds, batch)
    assert st == 200 and js and js.get("data"), f"indexing-status: HTTP {st} {raw[:200]!r}"
    return js["data"][0]


def wait_for(srv, ds, batch, pred, timeout=15, what="condition"):
    """Polls the batch's first item until pred(item); returns the item (or the last
    one, with a recorded failure, on timeout)."""
    deadline = time.time() + timeout
    while True:
        it = status(srv, ds, batch)
        if pred(it):
            return it
        if time.time() > deadline:
            check(False, f"timed out after {timeout} s waiting for {what}: {it}")
            return it
        time.sleep(0.02)


class Watch:
    """Checks a sequence of status items of one document: statuses only move forward
    (paused aside), completed_segments never falls and never exceeds total_segments,
    total_segments never changes once set."""

    def __init__(self, name):
        self.name, self.items, self.last = name, [], None

    def see(self, it):
        self.items.append(it)
        st = it["indexing_status"]
        check(st in STAGES or st == "paused", f"{self.name}: unknown status {st!r}")
        c, t = it["completed_segments"], it["total_segments"]
        check(0 <= c <= t or t == 0 and c == 0, f"{self.name}: completed {c} of total {t}")
        p = self.last
        if p is not None:
            if st in STAGES and p["indexing_status"] in STAGES:
                check(STAGES.index(st) >= STAGES.index(p["indexing_status"]),
                      f"{self.name}: status went back from {p['indexing_status']} to {st}")
            check(c >= p["completed_segments"],
                  f"{self.name}: completed_segments fell from {p['completed_segments']} to {c}")
            if p["total_segments"]:
                eq(t, p["total_segments"], f"{self.name}: total_segments changed")
        self.last = it
        return it

    def until(self, srv, ds, batch, pred, timeout=20, what="condition"):
        deadline = time.time() + timeout
        while True:
            it = self.see(status(srv, ds, batch))
            if pred(it):
                return it
            if time.time() > deadline:
                check(False, f"{self.name}: timed out after {timeout} s waiting for {what}: {it}")
                return it
            time.sleep(0.02)


def final_checks(it, name):
    eq(it["indexing_status"], "completed", f"{name}: final status ({it.get('error')!r})")
    check(it["total_segments"] > 0, f"{name}: total_segments {it['total_segments']}")
    eq(it["completed_segments"], it["total_segments"], f"{name}: completed == total")
    stamps = [it.get(k) for k in STAMPS]
    check(all(isinstance(s, int) for s in stamps), f"{name}: stage timestamps set: {stamps}")
    if all(isinstance(s, int) for s in stamps):
        check(stamps == sorted(stamps), f"{name}: stage timestamps in order: {stamps}")
    eq((it.get("error"), it.get("paused_at"), it.get("stopped_at")), (None, None, None),
       f"{name}: error, paused_at, stopped_at")


def mid_indexing(it):
    return (it["indexing_status"] == "indexing"
            and 0 < it["completed_segments"] < it["total_segments"])


# ---- stages ------------------------------------------------------------------------------------


def test_stage_order_and_timestamps(srv):
    ds = new_dataset(srv)
    n = 12
    doc, batch = srv.create_text(ds, "stages.txt", paragraphs(n), process_rule=RULE)
    w = Watch("stages")
    first = w.see(status(srv, ds, batch))
    check(first["indexing_status"] in STAGES, f"first status {first['indexing_status']}")
    it = w.until(srv, ds, batch, lambda i: i["indexing_status"] in ("completed", "error"),
                 what="completed")
    final_checks(it, "stages")
    eq(it["total_segments"], n, "one segment per paragraph")
    seen = [i["completed_segments"] for i in w.items]
    check(all(c % BATCH == 0 or c == n for c in seen),
          f"completed_segments rises by RAGD_INDEX_BATCH={BATCH}: {sorted(set(seen))}")
    check(len(set(seen)) >= 3, f"indexing was observed mid-way: {sorted(set(seen))}")
    statuses = [i["indexing_status"] for i in w.items]
    check("indexing" in statuses, f"the indexing stage was observed: {sorted(set(statuses))}")
    det = srv.document(ds, doc["id"])
    eq(det.get("completed_at"), it["completed_at"], "detail completed_at = status completed_at")
    lat = det.get("indexing_latency")
    check(isinstance(lat, float) and lat > 0, f"indexing_latency {lat!r}")
    eq((det.get("indexing_status"), det.get("display_status"), det.get("tokens")),
       ("completed", "available", 0), "detail status, display_status, tokens (economy)")
    # unknown batches and another dataset's batch
    expect_error(srv.indexing_status(ds, "19990101000000123456"), 404, "not_found",
                 "indexing-status of an unknown batch", "Documents not found.")
    other = new_dataset(srv)
    expect_error(srv.indexing_status(other, batch), 404, "not_found",
                 "indexing-status of another dataset's batch")
    bkey = srv.create_key(tenant="pipeline-other-tenant")
    bds = new_dataset(srv, key=bkey)
    expect_error(srv.indexing_status(bds, batch, key=bkey), 404, "not_found",
                 "indexing-status of another tenant's batch")
    expect_error(srv.indexing_status(ds, batch, key=bkey), 404, "not_found",
                 "indexing-status through another tenant's key")


# ---- crash and resume ---------------------------------------------------------------------------


def test_crash_and_resume(srv):
    n = 40
    text = paragraphs(n, "crash")
    ds = new_dataset(srv)
    doc, batch = srv.create_text(ds, "crash.txt", text, process_rule=RULE)
    w = Watch("crash")
    before = w.until(srv, ds, batch, lambda i: i["indexing_status"] == "indexing"
                     and BATCH <= i["completed_segments"] <= n - 2 * BATCH,
                     timeout=15, what="mid-indexing before the kill")
    srv.kill9()
    killed_at = before["completed_segments"]
    srv.start()  # same data directory
    after = w.see(status(srv, ds, batch))
    check(after["completed_segments"] >= killed_at,
          f"durable progress: {killed_at} completed before the kill, "
          f"{after['completed_segments']} after the restart")
    for k in STAMPS[:4]:
        eq(after.get(k), before.get(k), f"{k} kept across the restart (no re-parse, no re-split)")
    # an uninterrupted run of the same text, same rule, in another dataset (indexed
    # meanwhile by the second worker)
    rds = new_dataset(srv)
    rdoc, rbatch = srv.create_text(rds, "crash.txt", text, process_rule=RULE)
    it = w.until(srv, ds, batch, lambda i: i["indexing_status"] in ("completed", "error"),
                 timeout=25, what="completed after the restart")
    final_checks(it, "crash")
    eq(it["total_segments"], n, "total_segments after the restart")
    rit = srv.wait_indexed(rds, rbatch, timeout=20)[0]
    final_checks(rit, "reference")
    eq(it["total_segments"], rit["total_segments"], "same total_segments as the uninterrupted run")
    mine, theirs = srv.list_item(ds, doc["id"]), srv.list_item(rds, rdoc["id"])
    eq(mine.get("word_count"), theirs.get("word_count"), "same word_count as the uninterrupted run")
    eq(srv.document(ds, doc["id"]).get("segment_count"), n, "segment_count after the restart")
    d = srv.dataset(ds)
    eq((d["document_count"], d["word_count"], d["total_available_documents"]),
       (1, theirs.get("word_count"), 1), "dataset counters after the restart")
    # the chunks themselves: same contents in the same order, none lost, none twice, all completed
    def chunks(dsid, docid):
        st, _, js, raw = srv.call("GET", f"/v1/datasets/{dsid}/documents/{docid}/segments?limit=100")
        eq(st, 200, f"list segments ({raw[:200]!r})")
        return (js or {}).get("data", [])
    got, ref = chunks(ds, doc["id"]), chunks(rds, rdoc["id"])
    eq([c.get("content") for c in got], [c.get("content") for c in ref],
       "segment contents equal those of the uninterrupted run")
    eq([c.get("position") for c in got], list(range(1, n + 1)), "positions 1..n, no duplicates")
    check(all(c.get("status") == "completed" and c.get("enabled") for c in got),
          "every segment completed and enabled after the restart")
    eq(len({c.get("index_node_id") for c in got}), n, "no segment stored twice")


# ---- pause, resume, retry ------------------------------------------------------------------------


def processing(srv, ds, doc_id, act):
    return srv.call("PATCH", f"/v1/datasets/{ds}/documents/{doc_id}/processing/{act}")


def test_pause_and_resume(srv):
    n = 16
    ds = new_dataset(srv)
    doc, batch = srv.create_text(ds, "pause.txt", paragraphs(n, "pause"), process_rule=RULE)
    w = Watch("pause")
    w.until(srv, ds, batch, mid_indexing, what="mid-indexing")
    st, _, js, raw = processing(srv, ds, doc["id"], "pause")
    eq((st, js), (200, {"result": "success"}), f"pause ({raw[:200]!r})")
    p = w.see(status(srv, ds, batch))
    eq(p["indexing_status"], "paused", "status after pause")
    check(isinstance(p.get("paused_at"), int), f"paused_at set: {p}")
    held = p["completed_segments"]
    check(held < n, f"paused before the end ({held} of {n})")
    det = srv.document(ds, doc["id"])
    eq((det["indexing_status"], det["display_status"]), ("indexing", "paused"),
       "detail: raw status kept, display_status paused")
    expect_error(processing(srv, ds, doc["id"], "pause"), 400, "invalid_action", "pause twice")
    t_end = time.time() + 2.0
    while time.time() < t_end:
        it = w.see(status(srv, ds, batch))
        eq(it["completed_segments"], held, "completed_segments while paused")
        eq(it["indexing_status"], "paused", "status while paused")
        if it["completed_segments"] != held or it["indexing_status"] != "paused":
            break
        time.sleep(0.1)
    # a pause survives kill -9 and a restart
    srv.kill9()
    srv.start()
    it = w.see(status(srv, ds, batch))
    eq((it["indexing_status"], it["completed_segments"], it.get("paused_at")),
       ("paused", held, p.get("paused_at")), "paused document after kill -9 and restart")
    time.sleep(0.6)
    eq(w.see(status(srv, ds, batch))["completed_segments"], held,
       "a paused document is not resumed by a restart")
    st, _, js, raw = processing(srv, ds, doc["id"], "resume")
    eq((st, js), (200, {"result": "success"}), f"resume ({raw[:200]!r})")
    r = w.see(status(srv, ds, batch))
    check(r["indexing_status"] != "paused" and r.get("paused_at") is None,
          f"after resume: not paused, paused_at cleared: {r}")
    it = w.until(srv, ds, batch, lambda i: i["indexing_status"] in ("completed", "error"),
                 what="completed after resume")
    final_checks(it, "pause/resume")
    eq(it["total_segments"], n, "total after resume")
    expect_error(processing(srv, ds, doc["id"], "pause"), 400, "invalid_action",
                 "pause a completed document")
    expect_error(processing(srv, ds, doc["id"], "resume"), 400, "invalid_action",
                 "resume a document that is not paused")
    expect_error(processing(srv, ds, doc["id"], "stop"), 400, "invalid_action",
                 "an unknown processing action")
    expect_error(processing(srv, ds, str(uuid.uuid4()), "pause"), 404, "not_found",
                 "pause an unknown document")


def test_pause_while_waiting(srv):
    """A queued document that is paused is never claimed until resumed."""
    slow = srv.spawn(env={"RAGD_WORKERS": "1", "RAGD_INDEX_BATCH": "1",
                          "RAGD_BATCH_DELAY_MS": "300"})
    ds = new_dataset(slow)
    busy, bbatch = slow.create_text(ds, "busy.txt", paragraphs(3, "busy"), process_rule=RULE)
    queued, qbatch = slow.create_text(ds, "queued.txt", paragraphs(2, "q"), process_rule=RULE)
    q = status(slow, ds, qbatch)
    eq(q["indexing_status"], "waiting", "the second document waits for the only worker")
    eq(processing(slow, ds, queued["id"], "pause")[0], 200, "pause a waiting document")
    eq(slow.wait_indexed(ds, bbatch, timeout=15)[0]["indexing_status"], "completed", "busy one")
    time.sleep(0.6)
    q = status(slow, ds, qbatch)
    eq((q["indexing_status"], q["completed_segments"]), ("paused", 0),
       "the paused waiting document was not indexed")
    eq(processing(slow, ds, queued["id"], "resume")[0], 200, "resume")
    final_checks(slow.wait_indexed(ds, qbatch, timeout=15)[0], "paused while waiting")


def test_retry(srv):
    ds = new_dataset(srv)
    bad, batch = srv.create_file(ds, "noise.pdf", fixtures.random_bytes(3000, seed=5),
                                 data={"process_rule": {"mode": "automatic"}})
    first = srv.wait_indexed(ds, batch)[0]
    eq(first["indexing_status"], "error", "random bytes named .pdf end in error")
    reason = first.get("error")
    check(reason and "not a valid PDF" in reason, f"reason {reason!r}")
    # make a re-run visible: its stopped_at will be a later second
    while int(time.time()) <= (first.get("stopped_at") or 0):
        time.sleep(0.05)
    st, _, js, raw = srv.call("POST", f"/v1/datasets/{ds}/retry",
                              body={"document_ids": [bad["id"]]})
    eq((st, js), (200, {"result": "success"}), f"retry ({raw[:200]!r})")
    again = status(srv, ds, batch)
    refailed = (again["indexing_status"] == "error"
                and again.get("stopped_at") != first["stopped_at"])
    check(again["indexing_status"] in ("waiting", "parsing") or refailed,
          f"right after retry the document is waiting again (or already re-failed): {again}")
    if again["indexing_status"] in ("waiting", "parsing"):
        eq((again.get("error"), again.get("stopped_at")), (None, None),
           "retry clears error and stopped_at")
    end = srv.wait_indexed(ds, batch)[0]
    eq(end["indexing_status"], "error", "the retried document fails again (bytes unchanged)")
    eq(end.get("error"), reason, "same reason")
    check(isinstance(end.get("stopped_at"), int) and end["stopped_at"] > first["stopped_at"],
          f"the retry ran again: stopped_at {first['stopped_at']} -> {end.get('stopped_at')}")
    good, gbatch = srv.create_text(ds, "good.txt", "Short and fine.")
    srv.wait_indexed(ds, gbatch)
    expect_error(srv.call("POST", f"/v1/datasets/{ds}/retry", body={"document_ids": [good["id"]]}),
                 400, "invalid_action", "retry a document that is not in error")
    expect_error(srv.call("POST", f"/v1/datasets/{ds}/retry",
                          body={"document_ids": [str(uuid.uuid4())]}),
                 404, "not_found", "retry an unknown document")
    expect_error(srv.call("POST", f"/v1/datasets/{ds}/retry", body={"document_ids": []}),
                 400, "invalid_param", "retry without ids")


# ---- delete while indexing, update while paused ----------------------------------------------


def test_delete_while_indexing(srv):
    ds = new_dataset(srv)
    doc, batch = srv.create_text(ds, "doomed.txt", paragraphs(20, "doom"), process_rule=RULE)
    wait_for(srv, ds, batch, mid_indexing, what="mid-indexing")
    st, _, _, raw = srv.call("DELETE", f"/v1/datasets/{ds}/documents/{doc['id']}")
    eq(st, 204, f"delete mid-indexing ({raw[:200]!r})")
    expect_error(srv.call("GET", f"/v1/datasets/{ds}/documents/{doc['id']}"), 404, "not_found",
                 "GET a deleted document")
    expect_error(srv.indexing_status(ds, batch), 404, "not_found", "the deleted document's batch")
    eq(srv.call("GET", "/healthz", key=None)[0], 200, "healthy after the delete")
    d = srv.dataset(ds)
    eq((d["document_count"], d["word_count"], d["total_available_documents"]), (0, 0, 0),
       "dataset counters after deleting the only document mid-indexing")
    time.sleep(2 * DELAY_MS / 1000)  # let the worker reach its next write
    text = "The queue is not blocked by a deleted document."
    nd, nbatch = srv.create_text(ds, "next.txt", text, process_rule=RULE)
    final_checks(srv.wait_indexed(ds, nbatch, timeout=10)[0], "document after the delete")
    d = srv.dataset(ds)
    eq((d["document_count"], d["word_count"], d["total_available_documents"]), (1, len(text), 1),
       "dataset counters after a new document")
    expect_error(srv.indexing_status(ds, batch), 404, "not_found", "the deleted batch stays gone")


def test_update_while_indexing_and_paused(srv):
    ds = new_dataset(srv)
    doc, batch = srv.create_text(ds, "edit.txt", paragraphs(12, "edit"), process_rule=RULE)
    wait_for(srv, ds, batch, mid_indexing, what="mid-indexing")
    url = f"/v1/datasets/{ds}/documents/{doc['id']}/update-by-text"
    new = "A short replacement text."
    expect_error(srv.call("POST", url, body={"name": "edit.txt", "text": new}), 400,
                 "invalid_param", "update while indexing")
    eq(processing(srv, ds, doc["id"], "pause")[0], 200, "pause")
    # COMPAT.md D12 and the refusal above: "pause it first"
    st, _, js, raw = srv.call("POST", url, body={"name": "edit.txt", "text": new})
    eq(st, 200, f"update-by-text of a paused document ({raw[:200]!r})")
    if st == 200:
        eq(js.get("batch"), batch, "update keeps the batch")
        it = srv.wait_indexed(ds, batch, timeout=10)[0]
        final_checks(it, "updated paused document")
        eq(it["total_segments"], 1, "the new text is one segment")
        eq(srv.list_item(ds, doc["id"]).get("word_count"), len(new), "new word_count")
    else:
        processing(srv, ds, doc["id"], "resume")
        srv.wait_indexed(ds, batch, timeout=15)


# ---- fairness, watchdog, wake-up -----------------------------------------------------------------


def test_fairness_between_tenants(srv):
    """Tenant A queues 30 documents, then tenant B one: with one worker, B's is
    indexed next, long before A's last."""
    s = srv.spawn(env={"RAGD_WORKERS": "1", "RAGD_INDEX_BATCH": "4", "RAGD_BATCH_DELAY_MS": "120"})
    bkey = s.create_key(tenant="fair-b")
    ads, bds = new_dataset(s), new_dataset(s, key=bkey)
    a_docs = [s.create_text(ads, f"a{i:02d}.txt", f"Tenant A document number {i}.")
              for i in range(30)]

    def a_done():
        js = s.call("GET", f"/v1/datasets/{ads}/documents?status=available&limit=1")[2]
        return js["total"]

    bdoc, bbatch = s.create_text(bds, "b.txt", "Tenant B has one small document.", key=bkey)
    done_at_b_create = a_done()
    check(done_at_b_create < 25, f"A's queue is long enough to test ({done_at_b_create} done)")
    it = s.wait_indexed(bds, bbatch, key=bkey, timeout=20, interval=0.02)[0]
    done_at_b_end = a_done()
    eq(it["indexing_status"], "completed", "B's document")
    last = status(s, ads, a_docs[-1][1])
    check(last["indexing_status"] != "completed",
          f"B's document completed before A's last one ({last['indexing_status']})")
    check(done_at_b_end - done_at_b_create <= 3,
          f"B waited for {done_at_b_end - done_at_b_create} of A's documents (expected the one "
          f"in flight, and at most two more finishing while the answers travel)")
    if last.get("completed_at") and it.get("completed_at"):
        check(it["completed_at"] <= last["completed_at"], "B completed_at <= A's last completed_at")


def test_watchdog(srv):
    """No progress for RAGD_STALL_TIMEOUT seconds: the document ends in error, with
    a reason naming the watchdog, and stopped_at."""
    s = srv.spawn(env={"RAGD_STALL_TIMEOUT": "5", "RAGD_INDEX_BATCH": "1",
                       "RAGD_BATCH_DELAY_MS": "8000", "RAGD_WORKERS": "1"})
    ds = new_dataset(s)
    t0 = time.time()
    doc, batch = s.create_text(ds, "stalls.txt", paragraphs(3, "stall"), process_rule=RULE)
    it = s.wait_indexed(ds, batch, timeout=15, interval=0.1)[0]
    took = time.time() - t0
    eq(it["indexing_status"], "error", "a stalled document ends in error")
    err = (it.get("error") or "").lower()
    check("watchdog" in err and "no progress" in err, f"watchdog reason: {it.get('error')!r}")
    check(isinstance(it.get("stopped_at"), int), f"stopped_at set: {it}")
    check(took >= 4.5, f"failed after {took:.1f} s, before the stall timeout of 5 s")
    eq(it["completed_segments"], 0, "nothing was indexed")
    det = s.document(ds, doc["id"])
    eq((det["display_status"], det["error"]), ("error", it.get("error")), "detail")
    eq(s.call("GET", "/healthz", key=None)[0], 200, "healthy after the watchdog")


def test_idle_worker_starts_at_once(srv):
    """A document queued on an idle server is picked up at once (the API wakes the
    workers), not at the workers' next one-second poll."""
    s = srv.spawn(env={"RAGD_BATCH_DELAY_MS": "0", "RAGD_INDEX_BATCH": "32"})
    ds = new_dataset(s)
    rnd = random.Random(17)
    took = []
    for i in range(8):
        time.sleep(rnd.uniform(0.15, 0.4))  # land at different points of the poll cycle
        t0 = time.time()
        _, batch = s.create_text(ds, f"w{i}.txt", "Tiny.")
        s.wait_indexed(ds, batch, interval=0.01)
        took.append(time.time() - t0)
    mean = sum(took) / len(took)
    check(mean < 0.25, f"a one-segment document took {mean:.2f} s on average from create to "
          f"completed on an idle server ({', '.join(f'{t:.2f}' for t in sorted(took))})")
