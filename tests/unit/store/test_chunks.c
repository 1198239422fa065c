/*
 * test_chunks.c - chunk editing in the store (the segments API) on SQLite:
 * reading one segment; appending segments to a completed document (and the
 * refusals); rewriting and deleting one; adding, rewriting and deleting child
 * chunks; the counters (document word_count, total and completed segments,
 * the dataset's word_count) and rg_store_check after every edit; index data
 * written with the rows; tenant isolation; and the new invariants of the
 * consistency check against deliberate corruption.
 */
#include "harness.h"
#include "store_fixture.h"

#include "core/clock.h"
#include "core/ids.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

RG_PRINTF(2, 3) static long long sql_count(store_fx *f, const char *fmt, ...)
{
    char sql[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return fx_sql_int(f, sql);
}

/* The fixture's counters of document id, checked against want_*. */
static void check_counts(store_fx *f, const char *id, int64_t want_total, int64_t want_done,
                         int64_t want_words, const char *file, int line)
{
    rg_document d;
    rg_rc rc = fx_get(f, id, &d);
    if (rc != RG_OK || d.total_segments != want_total || d.completed_segments != want_done ||
        d.word_count != want_words) {
        char m[256];
        snprintf(m, sizeof m,
                 "document counters: %s, total %lld/%lld, done %lld/%lld, words %lld/%lld",
                 rg_rc_name(rc), (long long)d.total_segments, (long long)want_total,
                 (long long)d.completed_segments, (long long)want_done, (long long)d.word_count,
                 (long long)want_words);
        rg_test_fail(file, line, m);
    }
}
#define CHECK_COUNTS(f, id, t, d, w) check_counts((f), (id), (t), (d), (w), __FILE__, __LINE__)

/* A completed document of the fixture's dataset with n segments (10 words each). */
static void completed_doc(store_fx *f, rg_document *d, const char *name, int n)
{
    fx_doc_add(f, d, name, "b");
    fx_complete_next(f, n, NULL);
}

TEST(store_segment_get)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d, other;
    completed_doc(&f, &d, "a", 3);
    fx_doc_add(&f, &other, "other", "b");
    size_t n;
    char(*ids)[RG_UUID_LEN + 1] = fx_segment_ids(&f, d.id, &n);
    CHECK_EQ_INT(n, 3);
    if (n != 3) {
        fx_close(&f);
        return;
    }
    rg_segment g;
    CHECK_EQ_INT(rg_store_segment_get(f.s, f.a, f.ten.id, d.id, ids[1], &g), RG_OK);
    CHECK_EQ_STR(g.id, ids[1]);
    CHECK_EQ_STR(g.document_id, d.id);
    CHECK_EQ_STR(g.dataset_id, f.ds.id);
    CHECK_EQ_INT(g.position, 2);
    CHECK_EQ_INT(g.word_count, 10);
    CHECK_EQ_STR(g.status, "completed");
    CHECK(g.enabled);
    CHECK(g.content && strstr(g.content, "segment 02") != NULL);

    /* another document, another tenant, an unknown id: not found */
    CHECK_EQ_INT(rg_store_segment_get(f.s, f.a, f.ten.id, other.id, ids[1], &g), RG_ENOTFOUND);
    rg_tenant tb;
    CHECK_EQ_INT(rg_store_tenant_ensure(f.s, "beta", &tb), RG_OK);
    CHECK_EQ_INT(rg_store_segment_get(f.s, f.a, tb.id, d.id, ids[1], &g), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_segment_get(f.s, f.a, f.ten.id, d.id, "nope", &g), RG_ENOTFOUND);
    fx_close(&f);
}

TEST(store_segments_add)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d, waiting;
    completed_doc(&f, &d, "a", 3);
    fx_doc_add(&f, &waiting, "waiting", "b");
    CHECK_COUNTS(&f, d.id, 3, 3, 30);
    CHECK_EQ_INT(fx_dataset_now(&f).word_count, 30);

    rg_segment segs[2] = {fx_segment("added one", 9), fx_segment("added two", 9)};
    segs[1].word_count = 4;
    segs[1].keywords = NULL;
    rg_segment_index idx[2] = {fx_index_item(NULL), fx_index_item(NULL)};
    idx[1].vector = NULL; /* economy: terms only, keywords from indexing */
    idx[1].dims = 0;
    idx[1].keywords = "[\"two\"]";
    CHECK_EQ_INT(rg_store_segments_add(f.s, f.ten.id, d.id, segs, idx, 2), RG_OK);
    CHECK_EQ_INT(segs[0].position, 4);
    CHECK_EQ_INT(segs[1].position, 5);
    CHECK_EQ_STR(segs[1].status, "completed");
    CHECK_EQ_STR(segs[1].dataset_id, f.ds.id);
    CHECK_COUNTS(&f, d.id, 5, 5, 43);
    CHECK_EQ_INT(fx_dataset_now(&f).word_count, 43);
    FX_CHECK_OK(&f);

    rg_segment got;
    CHECK_EQ_INT(rg_store_segment_get(f.s, f.a, f.ten.id, d.id, segs[1].id, &got), RG_OK);
    CHECK_EQ_STR(got.content, "added two");
    CHECK_EQ_STR(got.status, "completed");
    CHECK(got.enabled);
    CHECK(got.completed_at > 0 && got.indexing_at > 0);
    CHECK_EQ_STR(got.keywords, "[\"two\"]");
    CHECK_EQ_INT(got.tokens, 3);
    CHECK_EQ_STR(got.created_by, "editor-1");
    CHECK_EQ_INT(
        sql_count(&f, "SELECT dims FROM segment_index WHERE segment_id = '%s'", segs[0].id), 4);
    CHECK_EQ_INT(sql_count(&f,
                           "SELECT COUNT(*) FROM segment_index WHERE segment_id = '%s'"
                           " AND vector IS NULL AND terms IS NOT NULL",
                           segs[1].id),
                 1);

    /* without index data: rows only */
    rg_segment bare = fx_segment("bare", 1);
    CHECK_EQ_INT(rg_store_segments_add(f.s, f.ten.id, d.id, &bare, NULL, 1), RG_OK);
    CHECK_EQ_INT(bare.position, 6);
    CHECK_EQ_INT(
        sql_count(&f, "SELECT COUNT(*) FROM segment_index WHERE segment_id = '%s'", bare.id), 0);
    CHECK_COUNTS(&f, d.id, 6, 6, 44);

    /* refusals write nothing */
    rg_segment more = fx_segment("more", 5);
    CHECK_EQ_INT(rg_store_segments_add(f.s, f.ten.id, waiting.id, &more, NULL, 1), RG_EINVAL);
    CHECK_EQ_INT(rg_store_segments_add(f.s, f.ten.id, d.id, &more, NULL, 0), RG_EINVAL);
    rg_tenant tb;
    CHECK_EQ_INT(rg_store_tenant_ensure(f.s, "beta", &tb), RG_OK);
    CHECK_EQ_INT(rg_store_segments_add(f.s, tb.id, d.id, &more, NULL, 1), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_segments_add(f.s, f.ten.id, "no-such-doc", &more, NULL, 1), RG_ENOTFOUND);
    rg_segment bad = fx_segment(NULL, 5);
    CHECK_EQ_INT(rg_store_segments_add(f.s, f.ten.id, d.id, &bad, NULL, 1), RG_EINVAL);
    rg_segment_index bad_idx = fx_index_item(NULL);
    bad_idx.dims = 0; /* a vector of no dimensions */
    CHECK_EQ_INT(rg_store_segments_add(f.s, f.ten.id, d.id, &more, &bad_idx, 1), RG_EINVAL);
    /* a clash in the middle of a batch rolls the whole batch back */
    rg_segment clash[2] = {fx_segment("fresh", 5), segs[0]};
    CHECK_EQ_INT(rg_store_segments_add(f.s, f.ten.id, d.id, clash, NULL, 2), RG_ECONFLICT);
    CHECK_EQ_INT(sql_count(&f, "SELECT COUNT(*) FROM segments WHERE id = '%s'", clash[0].id), 0);
    CHECK_COUNTS(&f, d.id, 6, 6, 44);
    CHECK_EQ_INT(fx_dataset_now(&f).word_count, 44);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

TEST(store_segment_update)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d;
    completed_doc(&f, &d, "a", 3);
    size_t n;
    char(*ids)[RG_UUID_LEN + 1] = fx_segment_ids(&f, d.id, &n);
    if (n != 3) {
        CHECK_EQ_INT(n, 3);
        fx_close(&f);
        return;
    }
    rg_segment g;
    CHECK_EQ_INT(rg_store_segment_get(f.s, f.a, f.ten.id, d.id, ids[0], &g), RG_OK);
    char old_hash[65];
    memcpy(old_hash, g.index_node_hash, sizeof old_hash);

    /* content and word count: the document and the dataset follow the difference */
    g.content = "rewritten content";
    g.answer = "an answer";
    g.keywords = "[\"rewritten\"]";
    g.word_count = 25;
    g.tokens = 8;
    g.index_node_hash[0] = '\0'; /* unset: the stored hash stays */
    g.updated_by = "editor-2";
    g.updated_at = 0;
    CHECK_EQ_INT(rg_store_segment_update(f.s, f.ten.id, &g, NULL), RG_OK);
    CHECK_COUNTS(&f, d.id, 3, 3, 45);
    CHECK_EQ_INT(fx_dataset_now(&f).word_count, 45);
    FX_CHECK_OK(&f);
    rg_segment got;
    CHECK_EQ_INT(rg_store_segment_get(f.s, f.a, f.ten.id, d.id, ids[0], &got), RG_OK);
    CHECK_EQ_STR(got.content, "rewritten content");
    CHECK_EQ_STR(got.answer, "an answer");
    CHECK_EQ_STR(got.keywords, "[\"rewritten\"]");
    CHECK_EQ_INT(got.tokens, 8);
    CHECK_EQ_STR(got.index_node_hash, old_hash);
    CHECK_EQ_STR(got.updated_by, "editor-2");
    CHECK(got.updated_at > 0);
    CHECK_EQ_STR(got.status, "completed");

    /* disable, then enable again */
    got.enabled = false;
    got.disabled_at = -1;
    got.disabled_by = "editor-3";
    CHECK_EQ_INT(rg_store_segment_update(f.s, f.ten.id, &got, NULL), RG_OK);
    CHECK_EQ_INT(rg_store_segment_get(f.s, f.a, f.ten.id, d.id, ids[0], &g), RG_OK);
    CHECK(!g.enabled);
    CHECK(g.disabled_at > 0);
    CHECK_EQ_STR(g.disabled_by, "editor-3");
    CHECK_COUNTS(&f, d.id, 3, 3, 45); /* a disabled segment still counts */
    g.enabled = true;
    memset(g.index_node_hash, 'c', 64);
    CHECK_EQ_INT(rg_store_segment_update(f.s, f.ten.id, &g, NULL), RG_OK);
    CHECK_EQ_INT(rg_store_segment_get(f.s, f.a, f.ten.id, d.id, ids[0], &got), RG_OK);
    CHECK(got.enabled);
    CHECK_EQ_INT(got.disabled_at, -1);
    CHECK(got.disabled_by == NULL);
    CHECK(got.index_node_hash[0] == 'c');

    /* index data replaced when given */
    static const float vec8[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    rg_segment_index idx = fx_index_item(NULL);
    idx.vector = vec8;
    idx.dims = 8;
    got.word_count = 5;
    CHECK_EQ_INT(rg_store_segment_update(f.s, f.ten.id, &got, &idx), RG_OK);
    CHECK_EQ_INT(sql_count(&f, "SELECT dims FROM segment_index WHERE segment_id = '%s'", ids[0]),
                 8);
    CHECK_EQ_INT(
        sql_count(&f, "SELECT COUNT(*) FROM segment_index WHERE segment_id = '%s'", ids[0]), 1);
    CHECK_COUNTS(&f, d.id, 3, 3, 25);
    CHECK_EQ_INT(fx_dataset_now(&f).word_count, 25);
    FX_CHECK_OK(&f);

    /* another tenant, another document, an unknown id: not found, nothing written */
    rg_tenant tb;
    CHECK_EQ_INT(rg_store_tenant_ensure(f.s, "beta", &tb), RG_OK);
    got.word_count = 99;
    CHECK_EQ_INT(rg_store_segment_update(f.s, tb.id, &got, &idx), RG_ENOTFOUND);
    rg_segment wrong = got;
    rg_uuid4(wrong.document_id);
    CHECK_EQ_INT(rg_store_segment_update(f.s, f.ten.id, &wrong, NULL), RG_ENOTFOUND);
    rg_uuid4(wrong.id);
    memcpy(wrong.document_id, d.id, sizeof wrong.document_id);
    CHECK_EQ_INT(rg_store_segment_update(f.s, f.ten.id, &wrong, NULL), RG_ENOTFOUND);
    got.word_count = -1;
    CHECK_EQ_INT(rg_store_segment_update(f.s, f.ten.id, &got, NULL), RG_EINVAL);
    CHECK_COUNTS(&f, d.id, 3, 3, 25);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

TEST(store_segment_delete)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d;
    completed_doc(&f, &d, "a", 3);
    size_t n;
    char(*ids)[RG_UUID_LEN + 1] = fx_segment_ids(&f, d.id, &n);
    if (n != 3) {
        CHECK_EQ_INT(n, 3);
        fx_close(&f);
        return;
    }
    rg_tenant tb;
    CHECK_EQ_INT(rg_store_tenant_ensure(f.s, "beta", &tb), RG_OK);
    CHECK_EQ_INT(rg_store_segment_delete(f.s, tb.id, d.id, ids[1]), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_segment_delete(f.s, f.ten.id, f.ds.id, ids[1]), RG_ENOTFOUND);
    CHECK_COUNTS(&f, d.id, 3, 3, 30);

    /* the middle one goes with its child chunk and index row; positions stay */
    CHECK_EQ_INT(rg_store_segment_delete(f.s, f.ten.id, d.id, ids[1]), RG_OK);
    CHECK_COUNTS(&f, d.id, 2, 2, 20);
    CHECK_EQ_INT(fx_dataset_now(&f).word_count, 20);
    CHECK_EQ_INT(sql_count(&f, "SELECT COUNT(*) FROM child_chunks WHERE segment_id = '%s'", ids[1]),
                 0);
    CHECK_EQ_INT(
        sql_count(&f, "SELECT COUNT(*) FROM segment_index WHERE segment_id = '%s'", ids[1]), 0);
    CHECK_EQ_INT(sql_count(&f, "SELECT MAX(position) FROM segments WHERE document_id = '%s'", d.id),
                 3);
    CHECK_EQ_INT(rg_store_segment_delete(f.s, f.ten.id, d.id, ids[1]), RG_ENOTFOUND);
    FX_CHECK_OK(&f);

    /* an appended segment goes after the last position, then everything can go */
    rg_segment more = fx_segment("more", 7);
    CHECK_EQ_INT(rg_store_segments_add(f.s, f.ten.id, d.id, &more, NULL, 1), RG_OK);
    CHECK_EQ_INT(more.position, 4);
    CHECK_COUNTS(&f, d.id, 3, 3, 27);
    CHECK_EQ_INT(rg_store_segment_delete(f.s, f.ten.id, d.id, ids[0]), RG_OK);
    CHECK_EQ_INT(rg_store_segment_delete(f.s, f.ten.id, d.id, ids[2]), RG_OK);
    CHECK_EQ_INT(rg_store_segment_delete(f.s, f.ten.id, d.id, more.id), RG_OK);
    CHECK_COUNTS(&f, d.id, 0, 0, 0);
    CHECK_EQ_INT(fx_dataset_now(&f).word_count, 0);
    CHECK_EQ_INT(fx_dataset_now(&f).available_document_count, 1);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

/* Deleting a segment that is not completed (the document is still being
 * indexed) lowers total_segments only. */
TEST(store_segment_delete_pending)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d;
    fx_doc_add(&f, &d, "a", "b");
    rg_job job;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &job), RG_OK);
    char ids[3][RG_UUID_LEN + 1];
    fx_job_split(&f, &job, 3, ids);
    rg_segment_index one = fx_index_item(ids[0]);
    CHECK_EQ_INT(rg_store_job_indexed(f.s, &job, &one, 1), RG_OK);
    CHECK_COUNTS(&f, d.id, 3, 1, 30);
    CHECK_EQ_INT(rg_store_segment_delete(f.s, f.ten.id, d.id, ids[2]), RG_OK);
    CHECK_COUNTS(&f, d.id, 2, 1, 20);
    FX_CHECK_OK(&f);
    CHECK_EQ_INT(rg_store_segment_delete(f.s, f.ten.id, d.id, ids[0]), RG_OK);
    CHECK_COUNTS(&f, d.id, 1, 0, 10);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

TEST(store_child_chunks_edit)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d;
    completed_doc(&f, &d, "a", 2);
    size_t n;
    char(*ids)[RG_UUID_LEN + 1] = fx_segment_ids(&f, d.id, &n);
    if (n != 2) {
        CHECK_EQ_INT(n, 2);
        fx_close(&f);
        return;
    }
    /* the fixture gave each segment one child at position 1 */
    rg_child_chunk c;
    memset(&c, 0, sizeof c);
    rg_uuid4(c.id);
    memcpy(c.segment_id, ids[0], sizeof c.segment_id);
    c.content = "a new child";
    c.word_count = 11;
    c.type = "automatic"; /* ignored: an added chunk is customized */
    rg_segment_index idx = fx_index_item(NULL);
    CHECK_EQ_INT(rg_store_child_chunk_add(f.s, f.ten.id, &c, &idx), RG_OK);
    CHECK_EQ_INT(c.position, 2);
    CHECK_EQ_STR(c.type, "customized");
    rg_child_chunk *kids = NULL;
    size_t nk = 0;
    CHECK_EQ_INT(rg_store_child_chunk_list(f.s, f.a, ids[0], &kids, &nk), RG_OK);
    CHECK_EQ_INT(nk, 2);
    if (nk == 2) {
        CHECK_EQ_STR(kids[1].id, c.id);
        CHECK_EQ_STR(kids[1].content, "a new child");
        CHECK_EQ_STR(kids[1].type, "customized");
        CHECK_EQ_INT(kids[1].word_count, 11);
        CHECK(kids[1].created_at > 0);
    }
    CHECK_EQ_INT(sql_count(&f,
                           "SELECT COUNT(*) FROM child_index x JOIN child_chunks c"
                           " ON c.id = x.child_id AND c.segment_id = x.segment_id"
                           " AND c.dataset_id = x.dataset_id WHERE x.child_id = '%s' AND dims = 4",
                           c.id),
                 1);
    /* children do not count toward the parent's or the document's words */
    CHECK_COUNTS(&f, d.id, 2, 2, 20);
    FX_CHECK_OK(&f);

    /* without index data, then an index row added by an update */
    rg_child_chunk c2 = c;
    rg_uuid4(c2.id);
    c2.content = "another";
    CHECK_EQ_INT(rg_store_child_chunk_add(f.s, f.ten.id, &c2, NULL), RG_OK);
    CHECK_EQ_INT(c2.position, 3);
    CHECK_EQ_INT(sql_count(&f, "SELECT COUNT(*) FROM child_index WHERE child_id = '%s'", c2.id), 0);
    c2.content = "another, rewritten";
    c2.word_count = 18;
    c2.type = NULL; /* customized */
    CHECK_EQ_INT(rg_store_child_chunk_update(f.s, f.ten.id, &c2, &idx), RG_OK);
    CHECK_EQ_INT(sql_count(&f, "SELECT COUNT(*) FROM child_index WHERE child_id = '%s'", c2.id), 1);
    CHECK_EQ_INT(rg_store_child_chunk_list(f.s, f.a, ids[0], &kids, &nk), RG_OK);
    CHECK_EQ_INT(nk, 3);
    if (nk == 3) {
        CHECK_EQ_STR(kids[2].content, "another, rewritten");
        CHECK_EQ_INT(kids[2].word_count, 18);
        CHECK_EQ_INT(kids[2].position, 3);
        CHECK_EQ_STR(kids[2].type, "customized");
    }
    /* an update without index data keeps the index row */
    c2.content = "third version";
    CHECK_EQ_INT(rg_store_child_chunk_update(f.s, f.ten.id, &c2, NULL), RG_OK);
    CHECK_EQ_INT(sql_count(&f, "SELECT COUNT(*) FROM child_index WHERE child_id = '%s'", c2.id), 1);

    /* tenant isolation and wrong parents: not found, nothing written */
    rg_tenant tb;
    CHECK_EQ_INT(rg_store_tenant_ensure(f.s, "beta", &tb), RG_OK);
    rg_child_chunk foreign = c;
    rg_uuid4(foreign.id);
    CHECK_EQ_INT(rg_store_child_chunk_add(f.s, tb.id, &foreign, &idx), RG_ENOTFOUND);
    CHECK_EQ_INT(sql_count(&f, "SELECT COUNT(*) FROM child_chunks WHERE id = '%s'", foreign.id), 0);
    rg_uuid4(foreign.segment_id);
    CHECK_EQ_INT(rg_store_child_chunk_add(f.s, f.ten.id, &foreign, NULL), RG_ENOTFOUND);
    c2.content = "hijacked";
    CHECK_EQ_INT(rg_store_child_chunk_update(f.s, tb.id, &c2, NULL), RG_ENOTFOUND);
    rg_child_chunk moved = c2;
    memcpy(moved.segment_id, ids[1], sizeof moved.segment_id);
    CHECK_EQ_INT(rg_store_child_chunk_update(f.s, f.ten.id, &moved, NULL), RG_ENOTFOUND);
    CHECK_EQ_INT(
        sql_count(&f, "SELECT COUNT(*) FROM child_chunks WHERE content = '%s'", "hijacked"), 0);
    CHECK_EQ_INT(rg_store_child_chunk_delete(f.s, tb.id, ids[0], c2.id), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_child_chunk_delete(f.s, f.ten.id, ids[1], c2.id), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_child_chunk_add(f.s, f.ten.id, &c, NULL), RG_ECONFLICT); /* same id */

    /* delete: the index row goes too, the other positions stay */
    CHECK_EQ_INT(rg_store_child_chunk_delete(f.s, f.ten.id, ids[0], c.id), RG_OK);
    CHECK_EQ_INT(sql_count(&f, "SELECT COUNT(*) FROM child_index WHERE child_id = '%s'", c.id), 0);
    CHECK_EQ_INT(rg_store_child_chunk_delete(f.s, f.ten.id, ids[0], c.id), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_child_chunk_list(f.s, f.a, ids[0], &kids, &nk), RG_OK);
    CHECK_EQ_INT(nk, 2);
    if (nk == 2) {
        CHECK_EQ_INT(kids[0].position, 1);
        CHECK_EQ_INT(kids[1].position, 3);
    }
    /* the next one still goes after the last */
    rg_child_chunk c3 = c;
    rg_uuid4(c3.id);
    CHECK_EQ_INT(rg_store_child_chunk_add(f.s, f.ten.id, &c3, NULL), RG_OK);
    CHECK_EQ_INT(c3.position, 4);

    /* deleting the parent takes the children and their index rows */
    CHECK_EQ_INT(rg_store_segment_delete(f.s, f.ten.id, d.id, ids[0]), RG_OK);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM child_index"), 0);
    CHECK_EQ_INT(sql_count(&f, "SELECT COUNT(*) FROM child_chunks WHERE segment_id = '%s'", ids[0]),
                 0);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

/* rg_store_check looks at the invariants chunk editing keeps. */
static void check_detects(store_fx *f, const char *want)
{
    const char *why = NULL;
    CHECK_EQ_INT(rg_store_check(f->s, f->a, &why), RG_EIO);
    CHECK(why != NULL && strstr(why, want) != NULL);
    if (why && !strstr(why, want))
        fprintf(stderr, "  check said: %s\n", why);
}

TEST(store_check_detects_chunk_corruption)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d;
    completed_doc(&f, &d, "a", 2);
    size_t n;
    char(*ids)[RG_UUID_LEN + 1] = fx_segment_ids(&f, d.id, &n);
    if (n != 2) {
        CHECK_EQ_INT(n, 2);
        fx_close(&f);
        return;
    }
    rg_child_chunk c;
    memset(&c, 0, sizeof c);
    rg_uuid4(c.id);
    memcpy(c.segment_id, ids[0], sizeof c.segment_id);
    c.content = "child";
    rg_segment_index idx = fx_index_item(NULL);
    CHECK_EQ_INT(rg_store_child_chunk_add(f.s, f.ten.id, &c, &idx), RG_OK);
    FX_CHECK_OK(&f);
    char sql[512];

    /* a segment's word count changed behind the document's back */
    snprintf(sql, sizeof sql, "UPDATE segments SET word_count = 11 WHERE id = '%s'", ids[0]);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    check_detects(&f, "word_count is 20 but the rows say 21");
    snprintf(sql, sizeof sql, "UPDATE segments SET word_count = 10 WHERE id = '%s'", ids[0]);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    FX_CHECK_OK(&f);

    /* a segment in another dataset than its document */
    snprintf(sql, sizeof sql, "UPDATE segments SET dataset_id = 'elsewhere' WHERE id = '%s'",
             ids[1]);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    check_detects(&f, "segment");
    snprintf(sql, sizeof sql, "UPDATE segments SET dataset_id = '%s' WHERE id = '%s'", f.ds.id,
             ids[1]);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    FX_CHECK_OK(&f);

    /* an index row that names another segment than its chunk's */
    snprintf(sql, sizeof sql, "UPDATE child_index SET segment_id = '%s' WHERE child_id = '%s'",
             ids[1], c.id);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    check_detects(&f, "child index row");
    snprintf(sql, sizeof sql, "UPDATE child_index SET segment_id = '%s' WHERE child_id = '%s'",
             ids[0], c.id);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    FX_CHECK_OK(&f);

    /* a completed document with a segment that is not */
    snprintf(sql, sizeof sql,
             "UPDATE segments SET status = 'waiting' WHERE id = '%s';"
             " UPDATE documents SET completed_segments = 1 WHERE id = '%s'",
             ids[1], d.id);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    check_detects(&f, "completed with 1 of 2 segments completed");
    fx_close(&f);
}
