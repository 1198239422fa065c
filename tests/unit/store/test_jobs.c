/*
 * test_jobs.c - the store's job queue and job-owned writes on SQLite: claim,
 * finish and recover; fairness between tenants; token ownership after
 * delete, pause, replace and the watchdog; the whole pipeline stage by stage;
 * idempotent indexing; the zero-segment guard; the consistency check against
 * deliberate corruption; and the cost of a claim behind a long queue.
 */
#include "harness.h"
#include "store_fixture.h"

#include "core/clock.h"
#include "core/ids.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* --- claim, finish, recover ---------------------------------------------------------- */

TEST(store_job_claim_finish_recover)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_job job, job2;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &job), RG_ENOTFOUND);
    rg_document a, b, got;
    fx_doc_add(&f, &a, "a", "b");
    fx_doc_add(&f, &b, "b", "b");
    int64_t n = 0;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &job), RG_OK);
    CHECK_EQ_STR(job.document_id, a.id);
    CHECK_EQ_STR(job.tenant_id, f.ten.id);
    CHECK_EQ_STR(job.dataset_id, f.ds.id);
    CHECK(job.token != 0);
    CHECK(job.id > 0);
    CHECK_EQ_INT(job.attempts, 1);
    CHECK_EQ_INT(rg_store_jobs_queued(f.s, &n), RG_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(rg_store_job_document(f.s, f.a, &job, &got), RG_OK);
    CHECK_EQ_STR(got.id, a.id);
    CHECK_EQ_STR(got.upload.id, a.upload.id);
    CHECK(got.process_rule != NULL);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &job, RG_DOC_PARSING), RG_OK);
    FX_CHECK_OK(&f);

    /* a restart puts running jobs back; their old tokens own nothing */
    if (!fx_reopen(&f)) {
        fx_close(&f);
        return;
    }
    CHECK_EQ_INT(rg_store_jobs_recover(f.s, &n), RG_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(rg_store_jobs_queued(f.s, &n), RG_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &job, RG_DOC_CLEANING), RG_ECANCELED);
    FX_CHECK_OK(&f);
    CHECK_EQ_INT(rg_store_job_claim(f.s, &job2), RG_OK);
    CHECK_EQ_INT(job2.id, job.id); /* still the oldest */
    CHECK_EQ_INT(job2.attempts, 2);
    CHECK(job2.token != job.token);
    /* the restarted job goes through stages the document already passed */
    CHECK_EQ_INT(rg_store_job_stage(f.s, &job2, RG_DOC_PARSING), RG_OK);
    CHECK_EQ_INT(fx_get(&f, a.id, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_PARSING);

    /* finishing a job that was not claimed (or twice) changes nothing */
    CHECK_EQ_INT(rg_store_job_finish(f.s, &job, false), RG_OK);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &job2, RG_DOC_CLEANING), RG_OK);
    fx_job_split(&f, &job2, 2, NULL);
    fx_job_index_all(&f, &job2);
    CHECK_EQ_INT(rg_store_job_finish(f.s, &job2, false), RG_OK);
    CHECK_EQ_INT(rg_store_job_finish(f.s, &job2, false), RG_OK);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM jobs WHERE state = 'done'"), 1);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &job2, RG_DOC_INDEXING), RG_ECANCELED);
    CHECK_EQ_INT(rg_store_jobs_recover(f.s, &n), RG_OK);
    CHECK_EQ_INT(n, 0);
    FX_CHECK_OK(&f);

    rg_job zero;
    memset(&zero, 0, sizeof zero);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &zero, RG_DOC_PARSING), RG_ECANCELED);
    fx_close(&f);
}

/* --- fairness ------------------------------------------------------------------------ */

TEST(store_job_fairness)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_tenant tb;
    CHECK_EQ_INT(rg_store_tenant_ensure(f.s, "beta", &tb), RG_OK);
    rg_dataset db;
    fx_dataset(&f, tb.id, "kb-beta", &db);
    rg_document d;
    for (int i = 0; i < 100; i++)
        fx_doc_add(&f, &d, "a-doc", "a");
    fx_doc_fill(&f, &d, tb.id, db.id, "b-doc", "b");
    CHECK_EQ_INT(rg_store_document_insert(f.s, &d), RG_OK);

    rg_job j1, j2, j3, j4;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &j1), RG_OK);
    CHECK_EQ_INT(rg_store_job_claim(f.s, &j2), RG_OK);
    CHECK(strcmp(j1.tenant_id, tb.id) == 0 || strcmp(j2.tenant_id, tb.id) == 0);
    CHECK(strcmp(j1.tenant_id, j2.tenant_id) != 0);
    /* with B's queue empty, A goes on in order */
    CHECK_EQ_INT(rg_store_job_claim(f.s, &j3), RG_OK);
    CHECK_EQ_INT(rg_store_job_claim(f.s, &j4), RG_OK);
    CHECK_EQ_STR(j3.tenant_id, f.ten.id);
    CHECK_EQ_STR(j4.tenant_id, f.ten.id);
    CHECK(j4.id > j3.id);
    /* B queues again: it is next, A having been claimed more recently */
    fx_doc_fill(&f, &d, tb.id, db.id, "b-doc-2", "b");
    CHECK_EQ_INT(rg_store_document_insert(f.s, &d), RG_OK);
    rg_job j5;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &j5), RG_OK);
    CHECK_EQ_STR(j5.tenant_id, tb.id);
    CHECK_EQ_STR(j5.document_id, d.id);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

/* --- ownership --------------------------------------------------------------------------- */

/* Every job-owned call with job returns RG_ECANCELED and the document is unchanged. */
static void check_all_canceled(store_fx *f, const rg_job *job, const char *seg_id)
{
    long long segs = fx_sql_int(f, "SELECT COUNT(*) FROM segments");
    long long idx = fx_sql_int(f, "SELECT COUNT(*) FROM segment_index");
    long long docs_sig =
        fx_sql_int(f, "SELECT COALESCE(SUM(completed_segments * 1000 + total_segments + "
                      "length(status) + COALESCE(length(error), 0)), -2) FROM documents");
    rg_document got;
    CHECK_EQ_INT(rg_store_job_document(f->s, f->a, job, &got), RG_ECANCELED);
    CHECK_EQ_INT(rg_store_job_stage(f->s, job, RG_DOC_CLEANING), RG_ECANCELED);
    rg_segment seg;
    memset(&seg, 0, sizeof seg);
    rg_uuid4(seg.id);
    seg.content = "late";
    CHECK_EQ_INT(rg_store_job_segments(f->s, job, &seg, 1, NULL, 0, 4), RG_ECANCELED);
    rg_segment *items = NULL;
    size_t n = 0;
    CHECK_EQ_INT(rg_store_job_pending(f->s, f->a, job, 10, &items, &n), RG_ECANCELED);
    if (seg_id) {
        rg_segment_index it = fx_index_item(seg_id);
        CHECK_EQ_INT(rg_store_job_indexed(f->s, job, &it, 1), RG_ECANCELED);
    }
    CHECK_EQ_INT(rg_store_job_fail(f->s, job, "late failure"), RG_ECANCELED);
    CHECK_EQ_INT(fx_sql_int(f, "SELECT COUNT(*) FROM segments"), segs);
    CHECK_EQ_INT(fx_sql_int(f, "SELECT COUNT(*) FROM segment_index"), idx);
    CHECK_EQ_INT(fx_sql_int(f, "SELECT COALESCE(SUM(completed_segments * 1000 + total_segments + "
                               "length(status) + COALESCE(length(error), 0)), -2) FROM documents"),
                 docs_sig);
}

/* Claims the next job and stores 3 segments with one of them indexed. */
static void start_job(store_fx *f, rg_job *job, char (*ids)[RG_UUID_LEN + 1])
{
    CHECK_EQ_INT(rg_store_job_claim(f->s, job), RG_OK);
    fx_job_split(f, job, 3, ids);
    rg_segment_index it = fx_index_item(ids[0]);
    CHECK_EQ_INT(rg_store_job_indexed(f->s, job, &it, 1), RG_OK);
}

TEST(store_job_ownership_delete_pause)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d, p, got;
    fx_doc_add(&f, &d, "deleted", "b");
    fx_doc_add(&f, &p, "paused", "b");
    char ids[3][RG_UUID_LEN + 1];
    rg_job job;
    const char *why = NULL;

    start_job(&f, &job, ids);
    CHECK_EQ_INT(rg_store_document_delete(f.s, f.ten.id, f.ds.id, d.id), RG_OK);
    check_all_canceled(&f, &job, ids[1]);
    CHECK_EQ_INT(rg_store_job_finish(f.s, &job, true), RG_OK); /* the job is gone: no-op */
    FX_CHECK_OK(&f);

    start_job(&f, &job, ids);
    const char *one[] = {p.id};
    CHECK_EQ_INT(rg_store_document_action(f.s, f.a, f.ten.id, f.ds.id, RG_DOC_PAUSE, one, 1,
                                          "owner-1", &why),
                 RG_OK);
    check_all_canceled(&f, &job, ids[1]);
    CHECK_EQ_INT(rg_store_job_finish(f.s, &job, true), RG_OK);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM jobs WHERE state = 'paused'"), 1);
    FX_CHECK_OK(&f);
    /* resume queues a new job, which continues with the pending segments */
    CHECK_EQ_INT(rg_store_document_action(f.s, f.a, f.ten.id, f.ds.id, RG_DOC_RESUME, one, 1,
                                          "owner-1", &why),
                 RG_OK);
    rg_job again;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &again), RG_OK);
    CHECK_EQ_STR(again.document_id, p.id);
    CHECK_EQ_INT(rg_store_job_document(f.s, f.a, &again, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_INDEXING);
    CHECK_EQ_INT(got.completed_segments, 1);
    fx_job_index_all(&f, &again);
    CHECK_EQ_INT(rg_store_job_finish(f.s, &again, false), RG_OK);
    CHECK_EQ_INT(fx_get(&f, p.id, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_COMPLETED);
    CHECK_EQ_INT(got.completed_segments, 3);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

TEST(store_job_ownership_replace_expire)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d, e, got;
    fx_doc_add(&f, &d, "replaced", "b");
    fx_doc_add(&f, &e, "expired", "b");
    char ids[3][RG_UUID_LEN + 1];
    rg_job job;

    start_job(&f, &job, ids);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    rg_document r = got;
    fx_upload(&f, &r.upload, "replaced-2", "other text");
    CHECK_EQ_INT(rg_store_document_replace(f.s, &r), RG_OK);
    check_all_canceled(&f, &job, NULL); /* its segments are gone with the old content */
    CHECK_EQ_INT(rg_store_job_finish(f.s, &job, false), RG_OK);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM jobs WHERE state = 'queued'"), 2);
    FX_CHECK_OK(&f);

    /* the watchdog: nothing is stalled yet; then the job's last write gets old */
    rg_job ej;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &ej), RG_OK);
    CHECK_EQ_STR(ej.document_id, e.id);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &ej, RG_DOC_PARSING), RG_OK);
    int64_t n = -1;
    CHECK_EQ_INT(rg_store_jobs_expire(f.s, 60, "stalled", &n), RG_OK);
    CHECK_EQ_INT(n, 0);
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE documents SET progress_at = progress_at - 120 WHERE id = '%s'", e.id);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    CHECK_EQ_INT(rg_store_jobs_expire(f.s, 60, "stalled for a minute", &n), RG_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(fx_get(&f, e.id, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_ERROR);
    CHECK_EQ_STR(got.error, "stalled for a minute");
    CHECK(got.stopped_at > 0);
    check_all_canceled(&f, &ej, NULL);
    CHECK_EQ_INT(rg_store_job_finish(f.s, &ej, false), RG_OK);
    CHECK_EQ_INT(rg_store_jobs_expire(f.s, 0, "again", &n), RG_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(rg_store_jobs_expire(f.s, -1, "bad", &n), RG_EINVAL);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

/* The worker saw RG_ECANCELED because of a pause, but the document was resumed
 * before it ended the job: the job goes back to the queue, nothing is lost. */
TEST(store_job_resume_before_finish)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d, got;
    fx_doc_add(&f, &d, "flaky", "b");
    const char *one[] = {d.id};
    const char *why = NULL;
    rg_job job;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &job), RG_OK);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &job, RG_DOC_PARSING), RG_OK);
    CHECK_EQ_INT(rg_store_document_action(f.s, f.a, f.ten.id, f.ds.id, RG_DOC_PAUSE, one, 1,
                                          "owner-1", &why),
                 RG_OK);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &job, RG_DOC_CLEANING), RG_ECANCELED);
    CHECK_EQ_INT(rg_store_document_action(f.s, f.a, f.ten.id, f.ds.id, RG_DOC_RESUME, one, 1,
                                          "owner-1", &why),
                 RG_OK);
    int64_t n = 0;
    CHECK_EQ_INT(rg_store_jobs_queued(f.s, &n), RG_OK);
    CHECK_EQ_INT(n, 0); /* the job still runs */
    CHECK_EQ_INT(rg_store_job_finish(f.s, &job, true), RG_OK);
    CHECK_EQ_INT(rg_store_jobs_queued(f.s, &n), RG_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &job, RG_DOC_CLEANING), RG_ECANCELED);
    FX_CHECK_OK(&f);

    /* a restart while paused: the running job waits for resume, not in the queue */
    rg_job again;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &again), RG_OK);
    CHECK_EQ_INT(again.id, job.id);
    CHECK_EQ_INT(again.attempts, 2);
    CHECK_EQ_INT(rg_store_document_action(f.s, f.a, f.ten.id, f.ds.id, RG_DOC_PAUSE, one, 1,
                                          "owner-1", &why),
                 RG_OK);
    CHECK_EQ_INT(rg_store_jobs_recover(f.s, &n), RG_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM jobs WHERE state = 'paused'"), 1);
    FX_CHECK_OK(&f);
    CHECK_EQ_INT(rg_store_document_action(f.s, f.a, f.ten.id, f.ds.id, RG_DOC_RESUME, one, 1,
                                          "owner-1", &why),
                 RG_OK);
    fx_complete_next(&f, 2, NULL);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_COMPLETED);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM jobs"), 1);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

/* --- the happy path ---------------------------------------------------------------------- */

TEST(store_job_happy_path)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d, got;
    fx_doc_add(&f, &d, "happy.txt", "20250101000000444444");
    rg_job job;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &job), RG_OK);

    CHECK_EQ_INT(rg_store_job_stage(f.s, &job, RG_DOC_PARSING), RG_OK);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_PARSING);
    CHECK_EQ_STR(rg_doc_display_status(&got), "indexing");
    int64_t started = got.processing_started_at;
    CHECK(started > 0);
    CHECK_EQ_INT(got.parsing_completed_at, -1);
    FX_CHECK_OK(&f);

    CHECK_EQ_INT(rg_store_job_stage(f.s, &job, RG_DOC_CLEANING), RG_OK);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &job, RG_DOC_PARSING), RG_OK); /* backward: no move */
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_CLEANING);
    CHECK(got.parsing_completed_at >= started);
    CHECK_EQ_INT(got.processing_started_at, started);
    CHECK_EQ_INT(got.cleaning_completed_at, -1);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &job, RG_DOC_INDEXING), RG_EINVAL); /* no segments */

    CHECK_EQ_INT(rg_store_job_stage(f.s, &job, RG_DOC_SPLITTING), RG_OK);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_SPLITTING);
    CHECK(got.cleaning_completed_at >= got.parsing_completed_at);
    CHECK_EQ_INT(got.splitting_completed_at, -1);

    /* segments: indexing, counters set, the dataset's word count follows */
    char ids[5][RG_UUID_LEN + 1];
    rg_segment segs[5];
    rg_child_chunk kids[2];
    memset(segs, 0, sizeof segs);
    memset(kids, 0, sizeof kids);
    for (int i = 0; i < 5; i++) {
        rg_uuid4(segs[i].id);
        memcpy(ids[i], segs[i].id, sizeof ids[i]);
        segs[i].content = "content";
        segs[i].word_count = 7;
        segs[i].position = 99; /* the store numbers them 1..n */
    }
    for (int i = 0; i < 2; i++) {
        rg_uuid4(kids[i].id);
        memcpy(kids[i].segment_id, ids[4], sizeof kids[i].segment_id);
        kids[i].position = i + 1;
        kids[i].content = "child";
        kids[i].word_count = 5;
    }
    /* a child whose parent is not among the segments: nothing is stored */
    rg_child_chunk stray = kids[0];
    rg_uuid4(stray.id);
    rg_uuid4(stray.segment_id);
    rg_child_chunk bad_kids[3] = {kids[0], kids[1], stray};
    CHECK_EQ_INT(rg_store_job_segments(f.s, &job, segs, 5, bad_kids, 3, 35), RG_EINVAL);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM segments"), 0);
    CHECK_EQ_INT(rg_store_job_segments(f.s, &job, segs, 5, kids, 2, 35), RG_OK);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_INDEXING);
    CHECK_EQ_INT(got.total_segments, 5);
    CHECK_EQ_INT(got.completed_segments, 0);
    CHECK_EQ_INT(got.word_count, 35);
    CHECK(got.splitting_completed_at >= got.cleaning_completed_at);
    CHECK_EQ_INT(fx_dataset_now(&f).word_count, 35);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT MAX(position) FROM segments"), 5);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM segments WHERE enabled = 0 AND status = "
                                "'waiting'"),
                 5);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM child_chunks"), 2);
    FX_CHECK_OK(&f);

    /* splitting again replaces the segments (word count: new - old) */
    segs[4].word_count = 17;
    CHECK_EQ_INT(rg_store_job_segments(f.s, &job, segs, 5, kids, 2, 45), RG_OK);
    CHECK_EQ_INT(fx_dataset_now(&f).word_count, 45);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM segments"), 5);
    FX_CHECK_OK(&f);

    /* indexing in two batches; the last completes the document */
    rg_segment *pending = NULL;
    size_t n = 0;
    CHECK_EQ_INT(rg_store_job_pending(f.s, f.a, &job, 3, &pending, &n), RG_OK);
    CHECK_EQ_INT(n, 3);
    if (n == 3)
        CHECK_EQ_STR(pending[0].id, ids[0]);
    rg_segment_index items[5];
    for (int i = 0; i < 5; i++)
        items[i] = fx_index_item(ids[i]);
    items[1].vector = NULL; /* economy-style: terms only */
    items[1].dims = 0;
    items[1].keywords = "[\"k\"]";
    CHECK_EQ_INT(rg_store_job_indexed(f.s, &job, items, 3), RG_OK);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.completed_segments, 3);
    CHECK_EQ_INT(got.status, RG_DOC_INDEXING);
    CHECK_EQ_INT(fx_dataset_now(&f).available_document_count, 0);
    CHECK_EQ_INT(rg_store_job_pending(f.s, f.a, &job, 3, &pending, &n), RG_OK);
    CHECK_EQ_INT(n, 2);
    if (n == 2)
        CHECK_EQ_STR(pending[0].id, ids[3]);
    FX_CHECK_OK(&f);
    CHECK_EQ_INT(rg_store_job_indexed(f.s, &job, items + 3, 2), RG_OK);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_COMPLETED);
    CHECK_EQ_STR(rg_doc_display_status(&got), "available");
    CHECK_EQ_INT(got.completed_segments, 5);
    CHECK_EQ_INT(got.tokens, 25);
    CHECK(got.completed_at >= got.splitting_completed_at);
    CHECK(got.indexing_latency >= 0);
    CHECK(got.error == NULL);
    CHECK_EQ_INT(fx_dataset_now(&f).available_document_count, 1);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM segments WHERE enabled = 1 AND status = "
                                "'completed' AND completed_at IS NOT NULL"),
                 5);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM segment_index"), 5);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT SUM(length(vector)) FROM segment_index"), 4 * 16);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT dims FROM segment_index WHERE vector IS NULL"), 0);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM segments WHERE keywords = '[\"k\"]'"), 1);
    CHECK_EQ_INT(rg_store_job_pending(f.s, f.a, &job, 3, &pending, &n), RG_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &job, RG_DOC_INDEXING), RG_EINVAL); /* completed */
    CHECK_EQ_INT(rg_store_job_fail(f.s, &job, "too late"), RG_EINVAL);
    CHECK_EQ_INT(rg_store_job_finish(f.s, &job, false), RG_OK);
    FX_CHECK_OK(&f);

    rg_document *st = NULL;
    CHECK_EQ_INT(rg_store_document_batch_status(f.s, f.a, f.ten.id, f.ds.id, "20250101000000444444",
                                                &st, &n),
                 RG_OK);
    CHECK_EQ_INT(n, 1);
    if (n == 1) {
        CHECK_EQ_INT(st[0].status, RG_DOC_COMPLETED);
        CHECK_EQ_INT(st[0].processing_started_at, started);
        CHECK_EQ_INT(st[0].completed_segments, 5);
    }
    fx_close(&f);
}

TEST(store_job_indexed_idempotent)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d, got;
    fx_doc_add(&f, &d, "twice", "b");
    rg_job job;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &job), RG_OK);
    char ids[3][RG_UUID_LEN + 1];
    fx_job_split(&f, &job, 3, ids);
    rg_segment_index it = fx_index_item(ids[1]);
    CHECK_EQ_INT(rg_store_job_indexed(f.s, &job, &it, 1), RG_OK);
    CHECK_EQ_INT(rg_store_job_indexed(f.s, &job, &it, 1), RG_OK);
    rg_segment_index dup[2] = {it, it};
    CHECK_EQ_INT(rg_store_job_indexed(f.s, &job, dup, 2), RG_OK);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.completed_segments, 1);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM segment_index"), 1);
    FX_CHECK_OK(&f);

    /* a segment of another document is refused, and the batch with it */
    rg_segment_index foreign[2] = {fx_index_item(ids[0]), fx_index_item("nope")};
    CHECK_EQ_INT(rg_store_job_indexed(f.s, &job, foreign, 2), RG_EINVAL);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.completed_segments, 1);

    rg_segment_index rest[2] = {fx_index_item(ids[0]), fx_index_item(ids[2])};
    CHECK_EQ_INT(rg_store_job_indexed(f.s, &job, rest, 2), RG_OK);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_COMPLETED);
    int64_t completed_at = got.completed_at;
    /* once more after completion: nothing moves */
    CHECK_EQ_INT(rg_store_job_indexed(f.s, &job, rest, 2), RG_OK);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.completed_segments, 3);
    CHECK_EQ_INT(got.completed_at, completed_at);
    CHECK_EQ_INT(fx_dataset_now(&f).available_document_count, 1);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

TEST(store_job_zero_segments)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d, got;
    fx_doc_add(&f, &d, "empty", "b");
    rg_job job;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &job), RG_OK);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &job, RG_DOC_SPLITTING), RG_OK);
    CHECK_EQ_INT(rg_store_job_segments(f.s, &job, NULL, 0, NULL, 0, 0), RG_EINVAL);
    CHECK_EQ_INT(rg_store_job_indexed(f.s, &job, NULL, 0), RG_EINVAL);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &job, RG_DOC_INDEXING), RG_EINVAL);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_SPLITTING);
    CHECK_EQ_INT(fx_dataset_now(&f).available_document_count, 0);
    /* the pipeline fails such a document */
    CHECK_EQ_INT(rg_store_job_fail(f.s, &job, "the document contains no text"), RG_OK);
    CHECK_EQ_INT(rg_store_job_finish(f.s, &job, false), RG_OK);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_ERROR);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

TEST(store_job_retry_keeps_segments)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d, got;
    fx_doc_add(&f, &d, "retry", "b");
    char ids[3][RG_UUID_LEN + 1];
    rg_job job;
    start_job(&f, &job, ids); /* 1 of 3 indexed */
    CHECK_EQ_INT(rg_store_job_fail(f.s, &job, "model down"), RG_OK);
    CHECK_EQ_INT(rg_store_job_finish(f.s, &job, false), RG_OK);
    const char *why = NULL;
    const char *one[] = {d.id};
    CHECK_EQ_INT(rg_store_document_action(f.s, f.a, f.ten.id, f.ds.id, RG_DOC_RETRY, one, 1,
                                          "owner-1", &why),
                 RG_OK);
    FX_CHECK_OK(&f);
    rg_job again;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &again), RG_OK);
    CHECK_EQ_INT(rg_store_job_document(f.s, f.a, &again, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_WAITING);
    CHECK_EQ_INT(got.total_segments, 3);
    CHECK_EQ_INT(got.completed_segments, 1);
    rg_segment *pending = NULL;
    size_t n = 0;
    CHECK_EQ_INT(rg_store_job_pending(f.s, f.a, &again, 10, &pending, &n), RG_OK);
    CHECK_EQ_INT(n, 2);
    fx_job_index_all(&f, &again);
    CHECK_EQ_INT(rg_store_job_finish(f.s, &again, false), RG_OK);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_COMPLETED);
    CHECK_EQ_INT(got.completed_segments, 3);
    CHECK(got.error == NULL);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

/* --- the check ------------------------------------------------------------------------------ */

/* rg_store_check fails and its reason contains want. */
static void check_detects(store_fx *f, const char *want)
{
    const char *why = NULL;
    CHECK_EQ_INT(rg_store_check(f->s, f->a, &why), RG_EIO);
    CHECK(why != NULL && strstr(why, want) != NULL);
    if (why && !strstr(why, want))
        fprintf(stderr, "  check said: %s\n", why);
}

TEST(store_check_detects_corruption)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document a, b;
    fx_doc_add(&f, &a, "a", "b");
    fx_doc_add(&f, &b, "b", "b");
    fx_complete_next(&f, 3, NULL);
    FX_CHECK_OK(&f);
    char sql[256];

    CHECK_EQ_INT(fx_sql(&f, "UPDATE datasets SET document_count = document_count + 1"), 0);
    check_detects(&f, "document_count is 3 but the rows say 2");
    CHECK_EQ_INT(fx_sql(&f, "UPDATE datasets SET document_count = document_count - 1"), 0);
    FX_CHECK_OK(&f);

    CHECK_EQ_INT(fx_sql(&f, "UPDATE datasets SET available_document_count = 0"), 0);
    check_detects(&f, "available_document_count");
    CHECK_EQ_INT(fx_sql(&f, "UPDATE datasets SET available_document_count = 1"), 0);
    CHECK_EQ_INT(fx_sql(&f, "UPDATE datasets SET word_count = 7"), 0);
    check_detects(&f, "word_count is 7 but the rows say 30");
    CHECK_EQ_INT(fx_sql(&f, "UPDATE datasets SET word_count = 30"), 0);
    FX_CHECK_OK(&f);

    snprintf(sql, sizeof sql, "UPDATE documents SET completed_segments = 2 WHERE id = '%s'", a.id);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    check_detects(&f, "completed_segments is 2 but the rows say 3");
    snprintf(sql, sizeof sql, "UPDATE documents SET completed_segments = 3 WHERE id = '%s'", a.id);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    snprintf(sql, sizeof sql, "UPDATE documents SET total_segments = 4 WHERE id = '%s'", a.id);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    check_detects(&f, "total_segments is 4");
    snprintf(sql, sizeof sql, "UPDATE documents SET total_segments = 3 WHERE id = '%s'", a.id);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    FX_CHECK_OK(&f);

    snprintf(sql, sizeof sql, "UPDATE documents SET job_token = 12345 WHERE id = '%s'", b.id);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    check_detects(&f, "job_token");
    snprintf(sql, sizeof sql, "UPDATE documents SET job_token = 0 WHERE id = '%s'", b.id);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    CHECK_EQ_INT(fx_sql(&f, "DELETE FROM jobs WHERE state = 'queued'"), 0);
    check_detects(&f, "no job is queued or running");
    fx_close(&f);
}

/* --- a long queue -------------------------------------------------------------------------- */

#define LONG_QUEUE 10000

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Queues n documents of the fixture's tenant in one transaction by copying
 * the template document's rows (upload and job included), so that the test
 * does not pay n fsyncs. */
static void clone_documents(store_fx *f, const rg_document *tmpl, int n)
{
    char sql[2048];
    snprintf(sql, sizeof sql,
             "BEGIN;"
             "CREATE TEMP TABLE seq AS WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1"
             "  FROM c WHERE i < %d) SELECT i, lower(hex(randomblob(16))) AS h FROM c;"
             "INSERT INTO upload_files SELECT 'u-' || h, tenant_id, name, size, extension,"
             "  mime_type, created_by, created_at_us, sha256 FROM upload_files, seq"
             "  WHERE id = '%s';"
             "INSERT INTO documents (id, tenant_id, dataset_id, position, batch, name,"
             "  data_source_type, created_from, created_by, created_at, updated_at, doc_form,"
             "  process_rule_id, upload_id) SELECT 'd-' || h, tenant_id, dataset_id, position + i,"
             "  batch, name, data_source_type, created_from, created_by, created_at, updated_at,"
             "  doc_form, process_rule_id, 'u-' || h FROM documents, seq WHERE id = '%s';"
             "INSERT INTO jobs (tenant_id, dataset_id, document_id, state, created_at)"
             "  SELECT tenant_id, dataset_id, 'd-' || h, 'queued', created_at"
             "  FROM documents, seq WHERE id = '%s' ORDER BY i;"
             "DROP TABLE seq;"
             "COMMIT;",
             n, tmpl->upload.id, tmpl->id, tmpl->id);
    CHECK_EQ_INT(fx_sql(f, sql), 0);
}

TEST(store_job_claim_long_queue)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document tmpl, other;
    fx_doc_add(&f, &tmpl, "bulk", "bulk");
    clone_documents(&f, &tmpl, LONG_QUEUE - 1);
    rg_tenant tb;
    CHECK_EQ_INT(rg_store_tenant_ensure(f.s, "beta", &tb), RG_OK);
    rg_dataset db;
    fx_dataset(&f, tb.id, "kb-beta", &db);
    fx_doc_fill(&f, &other, tb.id, db.id, "late", "late");
    CHECK_EQ_INT(rg_store_document_insert(f.s, &other), RG_OK);
    int64_t queued = 0;
    CHECK_EQ_INT(rg_store_jobs_queued(f.s, &queued), RG_OK);
    CHECK_EQ_INT(queued, LONG_QUEUE + 1);
    FX_CHECK_OK(&f);

    enum { CLAIMS = 200 };
    bool saw_beta = false;
    int64_t last_a = 0;
    bool ordered = true;
    double t0 = now_ms();
    for (int i = 0; i < CLAIMS; i++) {
        rg_job job;
        CHECK_EQ_INT(rg_store_job_claim(f.s, &job), RG_OK);
        if (strcmp(job.tenant_id, tb.id) == 0) {
            CHECK(i < 2);
            saw_beta = true;
        } else {
            ordered = ordered && job.id > last_a;
            last_a = job.id;
        }
    }
    double ms = now_ms() - t0;
    CHECK(saw_beta);
    CHECK(ordered);
    CHECK_EQ_INT(rg_store_jobs_queued(f.s, &queued), RG_OK);
    CHECK_EQ_INT(queued, LONG_QUEUE + 1 - CLAIMS);
    printf("  store_job_claim_long_queue: %d claims behind %d queued jobs: %.3f ms per claim "
           "(each one commit with fsync)\n",
           CLAIMS, LONG_QUEUE, ms / CLAIMS);
    FX_CHECK_OK(&f);
    fx_close(&f);
}
