/*
 * test_index.c - what search reads from the store on SQLite: the dataset's
 * index version (changes with every kind of change search can see, in the
 * same transaction, and not with writes it cannot see or to other datasets);
 * the scan's visibility rules (disabled segments; disabled, archived and
 * unfinished documents); child chunks of parent-child documents; order;
 * a snapshot that writes during the scan do not disturb; a callback that stops
 * the scan; tenant isolation; and the time of a 100,000-row scan (printed).
 */
#include "harness.h"
#include "store_fixture.h"

#include "core/clock.h"
#include "core/ids.h"
#include "store/sqlite/sqlite_int.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* --- collecting a scan ----------------------------------------------------------------- */

typedef struct unit {
    char segment_id[RG_UUID_LEN + 1], document_id[RG_UUID_LEN + 1], child_id[RG_UUID_LEN + 1];
    int dims;
    float first; /* vector[0], 0 without a vector */
    size_t terms_len;
} unit;

typedef struct scan {
    unit items[64];
    size_t n;
    size_t stop_after;      /* 0: never */
    store_fx *write_during; /* non-NULL: writes a new segment into doc during the scan */
    const char *doc;
} scan;

static rg_rc collect(const rg_index_row *row, void *arg)
{
    scan *sc = arg;
    if (sc->stop_after && sc->n == sc->stop_after)
        return RG_ECANCELED;
    if (sc->write_during) {
        store_fx *f = sc->write_during;
        sc->write_during = NULL;
        rg_segment g = fx_segment("written during the scan", 1);
        rg_segment_index idx = fx_index_item(NULL);
        CHECK_EQ_INT(rg_store_segments_add(f->s, f->ten.id, sc->doc, &g, &idx, 1), RG_OK);
    }
    if (sc->n == RG_ARRAY_LEN(sc->items))
        return RG_ENOMEM;
    unit *u = &sc->items[sc->n++];
    memset(u, 0, sizeof *u);
    CHECK(row->segment_id && row->document_id);
    snprintf(u->segment_id, sizeof u->segment_id, "%s", row->segment_id ? row->segment_id : "");
    snprintf(u->document_id, sizeof u->document_id, "%s", row->document_id ? row->document_id : "");
    if (row->child_id)
        snprintf(u->child_id, sizeof u->child_id, "%s", row->child_id);
    CHECK((row->vector == NULL) == (row->dims == 0));
    u->dims = row->dims;
    u->first = row->vector ? row->vector[0] : 0;
    CHECK((row->terms == NULL) == (row->terms_len == 0));
    u->terms_len = row->terms_len;
    return RG_OK;
}

static rg_rc scan_all(store_fx *f, const char *dataset_id, scan *sc, int64_t *version)
{
    sc->n = 0;
    return rg_store_index_scan(f->s, f->ten.id, dataset_id, version, collect, sc);
}

/* How many units of the scan belong to document doc_id. */
static size_t units_of(const scan *sc, const char *doc_id)
{
    size_t k = 0;
    for (size_t i = 0; i < sc->n; i++)
        k += strcmp(sc->items[i].document_id, doc_id) == 0;
    return k;
}

static void completed_doc(store_fx *f, rg_document *d, const char *name, const char *form, int n)
{
    fx_doc_fill(f, d, f->ten.id, f->ds.id, name, "b");
    d->doc_form = form;
    CHECK_EQ_INT(rg_store_document_insert(f->s, d), RG_OK);
    fx_complete_next(f, n, NULL);
}

/* --- the version ------------------------------------------------------------------------- */

/* Records a failure unless the version moved (moves) or stayed, and returns it. */
static int64_t expect_version(store_fx *f, int64_t before, bool moves, const char *what, int line)
{
    int64_t now = fx_version(f, f->ds.id);
    if (moves ? now == before : now != before) {
        char m[256];
        snprintf(m, sizeof m, "index version %s on %s (%lld -> %lld)",
                 moves ? "did not change" : "changed", what, (long long)before, (long long)now);
        rg_test_fail(__FILE__, line, m);
    }
    return now;
}
#define MOVES(v, what) (v) = expect_version(&f, (v), true, (what), __LINE__)
#define STAYS(v, what) (v) = expect_version(&f, (v), false, (what), __LINE__)

static rg_rc do_action(store_fx *f, const char *doc_id, rg_doc_action action)
{
    const char *ids[1] = {doc_id};
    const char *why = NULL;
    return rg_store_document_action(f->s, f->a, f->ten.id, f->ds.id, action, ids, 1, "u-1", &why);
}

TEST(store_index_version_follows_changes)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    int64_t v = fx_version(&f, f.ds.id);
    CHECK_EQ_INT(v, 0);
    rg_tenant tb;
    CHECK_EQ_INT(rg_store_tenant_ensure(f.s, "beta", &tb), RG_OK);
    int64_t x = -1;
    CHECK_EQ_INT(rg_store_index_version(f.s, tb.id, f.ds.id, &x), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_index_version(f.s, f.ten.id, "no-such-dataset", &x), RG_ENOTFOUND);

    /* a document on its way: nothing a search can see until it completes */
    rg_document a;
    fx_doc_add(&f, &a, "a", "b");
    STAYS(v, "document insert");
    rg_job job;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &job), RG_OK);
    char ids[3][RG_UUID_LEN + 1];
    fx_job_split(&f, &job, 3, ids);
    STAYS(v, "stages and stored segments");
    rg_segment_index one = fx_index_item(ids[0]);
    CHECK_EQ_INT(rg_store_job_indexed(f.s, &job, &one, 1), RG_OK);
    STAYS(v, "a batch indexed");
    fx_job_index_all(&f, &job);
    MOVES(v, "document completed");
    CHECK_EQ_INT(rg_store_job_finish(f.s, &job, false), RG_OK);
    STAYS(v, "job finish");

    /* chunk edits */
    rg_segment add = fx_segment("added", 5);
    rg_segment_index idx = fx_index_item(NULL);
    CHECK_EQ_INT(rg_store_segments_add(f.s, f.ten.id, a.id, &add, &idx, 1), RG_OK);
    MOVES(v, "segments add");
    rg_segment bare = fx_segment("bare", 1);
    CHECK_EQ_INT(rg_store_segments_add(f.s, f.ten.id, a.id, &bare, NULL, 1), RG_OK);
    MOVES(v, "segments add without index data");
    rg_segment g;
    CHECK_EQ_INT(rg_store_segment_get(f.s, f.a, f.ten.id, a.id, ids[1], &g), RG_OK);
    g.content = "new content";
    CHECK_EQ_INT(rg_store_segment_update(f.s, f.ten.id, &g, NULL), RG_OK);
    MOVES(v, "segment content");
    g.tokens = 42;
    CHECK_EQ_INT(rg_store_segment_update(f.s, f.ten.id, &g, &idx), RG_OK);
    MOVES(v, "segment index data");
    g.enabled = false;
    CHECK_EQ_INT(rg_store_segment_update(f.s, f.ten.id, &g, NULL), RG_OK);
    MOVES(v, "segment disabled");
    g.content = "edited while disabled";
    CHECK_EQ_INT(rg_store_segment_update(f.s, f.ten.id, &g, &idx), RG_OK);
    STAYS(v, "edit of a disabled segment");
    g.enabled = true;
    CHECK_EQ_INT(rg_store_segment_update(f.s, f.ten.id, &g, NULL), RG_OK);
    MOVES(v, "segment enabled");
    CHECK_EQ_INT(rg_store_segment_delete(f.s, f.ten.id, a.id, ids[2]), RG_OK);
    MOVES(v, "segment delete");

    /* child chunks (and their index rows) of a searchable segment */
    rg_child_chunk c;
    memset(&c, 0, sizeof c);
    rg_uuid4(c.id);
    memcpy(c.segment_id, ids[0], sizeof c.segment_id);
    c.content = "child";
    c.word_count = 5;
    CHECK_EQ_INT(rg_store_child_chunk_add(f.s, f.ten.id, &c, NULL), RG_OK);
    MOVES(v, "child chunk add");
    CHECK_EQ_INT(rg_store_child_chunk_update(f.s, f.ten.id, &c, NULL), RG_OK);
    MOVES(v, "child chunk update");
    CHECK_EQ_INT(rg_store_child_chunk_update(f.s, f.ten.id, &c, &idx), RG_OK);
    MOVES(v, "child index data");
    CHECK_EQ_INT(rg_store_child_chunk_delete(f.s, f.ten.id, ids[0], c.id), RG_OK);
    MOVES(v, "child chunk delete");
    rg_uuid4(c.id);
    CHECK_EQ_INT(rg_store_child_chunk_add(f.s, f.ten.id, &c, NULL), RG_OK);
    MOVES(v, "child chunk add");
    CHECK_EQ_INT(rg_store_child_chunk_delete(f.s, f.ten.id, ids[0], c.id), RG_OK);
    MOVES(v, "delete of a child chunk without index data");

    /* index rows written by themselves (as the pipeline does) */
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO child_index (child_id, segment_id, dataset_id, dims)"
             " SELECT id, segment_id, dataset_id, 0 FROM child_chunks WHERE segment_id = '%s'",
             ids[0]);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    MOVES(v, "child index rows inserted");
    CHECK_EQ_INT(fx_sql(&f, "UPDATE child_index SET dims = 0"), 0);
    MOVES(v, "child index rows rewritten");
    CHECK_EQ_INT(fx_sql(&f, "DELETE FROM child_index"), 0);
    MOVES(v, "child index rows deleted");
    snprintf(sql, sizeof sql, "DELETE FROM segment_index WHERE segment_id = '%s'", add.id);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    MOVES(v, "segment index row deleted");
    snprintf(sql, sizeof sql,
             "INSERT INTO segment_index (segment_id, dataset_id, dims) VALUES ('%s', '%s', 0)",
             add.id, f.ds.id);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    MOVES(v, "segment index row inserted");
    CHECK_EQ_INT(fx_sql(&f, "UPDATE segment_index SET dims = 0"), 0);
    MOVES(v, "segment index rows rewritten");

    /* the document's state */
    CHECK_EQ_INT(do_action(&f, a.id, RG_DOC_DISABLE), RG_OK);
    MOVES(v, "document disable");
    CHECK_EQ_INT(rg_store_segment_delete(f.s, f.ten.id, a.id, ids[0]), RG_OK);
    STAYS(v, "segment delete in a disabled document");
    CHECK_EQ_INT(do_action(&f, a.id, RG_DOC_ENABLE), RG_OK);
    MOVES(v, "document enable");
    CHECK_EQ_INT(do_action(&f, a.id, RG_DOC_ARCHIVE), RG_OK);
    MOVES(v, "document archive");
    CHECK_EQ_INT(do_action(&f, a.id, RG_DOC_UN_ARCHIVE), RG_OK);
    MOVES(v, "document un_archive");

    /* writes search cannot see, and writes to another dataset */
    rg_dataset other;
    fx_dataset(&f, f.ten.id, "other", &other);
    rg_document b;
    fx_doc_fill(&f, &b, f.ten.id, other.id, "b", "b");
    CHECK_EQ_INT(rg_store_document_insert(f.s, &b), RG_OK);
    int64_t vo = fx_version(&f, other.id);
    fx_complete_next(&f, 2, NULL);
    CHECK(fx_version(&f, other.id) > vo);
    rg_segment add2 = fx_segment("elsewhere", 5);
    CHECK_EQ_INT(rg_store_segments_add(f.s, f.ten.id, b.id, &add2, &idx, 1), RG_OK);
    CHECK_EQ_INT(rg_store_segment_delete(f.s, f.ten.id, b.id, add2.id), RG_OK);
    STAYS(v, "another dataset's edits");
    rg_dataset ds = fx_dataset_now(&f);
    ds.description = "renamed";
    ds.name = "kb-renamed";
    CHECK_EQ_INT(rg_store_dataset_update(f.s, &ds), RG_OK);
    STAYS(v, "dataset update");
    CHECK_EQ_INT(rg_store_segment_get(f.s, f.a, f.ten.id, a.id, ids[1], &g), RG_OK);
    CHECK_EQ_INT(rg_store_segment_update(f.s, f.ten.id, &g, NULL), RG_OK);
    STAYS(v, "a rewrite that changes nothing searched");
    CHECK_EQ_INT(rg_store_segment_update(f.s, tb.id, &g, &idx), RG_ENOTFOUND);
    STAYS(v, "another tenant's refused edit");

    /* a rolled-back write leaves it alone */
    rg_segment clash[2] = {fx_segment("fresh", 5), add};
    CHECK_EQ_INT(rg_store_segments_add(f.s, f.ten.id, a.id, clash, NULL, 2), RG_ECONFLICT);
    STAYS(v, "a failed add");

    /* a completed document replaced goes out of search; deleted likewise */
    fx_doc_add(&f, &b, "c", "b");
    fx_complete_next(&f, 1, NULL);
    MOVES(v, "second document completed");
    CHECK_EQ_INT(rg_store_document_delete(f.s, f.ten.id, f.ds.id, b.id), RG_OK);
    MOVES(v, "document delete");
    rg_document w;
    fx_doc_add(&f, &w, "waiting", "b");
    CHECK_EQ_INT(rg_store_document_delete(f.s, f.ten.id, f.ds.id, w.id), RG_OK);
    STAYS(v, "delete of a document never searchable");
    rg_document r;
    fx_doc_fill(&f, &r, f.ten.id, f.ds.id, "a2", "b");
    memcpy(r.id, a.id, sizeof r.id);
    CHECK_EQ_INT(rg_store_document_replace(f.s, &r), RG_OK);
    MOVES(v, "document replace");

    /* survives a restart */
    if (fx_reopen(&f))
        STAYS(v, "reopen");
    FX_CHECK_OK(&f);
    fx_close(&f);
}

/* --- what the scan returns ------------------------------------------------------------------ */

/* --- the change log ---------------------------------------------------------------------- */

typedef struct changes {
    scan rows;
    char docs[8][RG_UUID_LEN + 1];
    size_t n_docs;
} changes;

static rg_rc note_changed(const char *document_id, void *arg)
{
    changes *c = arg;
    if (c->n_docs == RG_ARRAY_LEN(c->docs))
        return RG_ENOMEM;
    snprintf(c->docs[c->n_docs++], sizeof c->docs[0], "%s", document_id);
    return RG_OK;
}

static rg_rc collect_changed(const rg_index_row *row, void *arg)
{
    return collect(row, &((changes *)arg)->rows);
}

/* The changes since `since`: the documents (in *c) and the version. */
static rg_rc changes_since(store_fx *f, int64_t since, changes *c, int64_t *version)
{
    memset(c, 0, sizeof *c);
    return rg_store_index_scan_changes(f->s, f->ten.id, f->ds.id, since, version, note_changed,
                                       collect_changed, c);
}

TEST(store_index_scan_changes)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    changes c;
    int64_t v0 = fx_version(&f, f.ds.id), v;
    rg_document a, b;
    completed_doc(&f, &a, "a", "text_model", 2);
    CHECK_EQ_INT(changes_since(&f, v0, &c, &v), RG_OK);
    CHECK_EQ_INT(v, fx_version(&f, f.ds.id));
    CHECK(c.n_docs == 1 && strcmp(c.docs[0], a.id) == 0);
    CHECK_EQ_INT(c.rows.n, 2);
    CHECK_EQ_INT(units_of(&c.rows, a.id), 2);
    int64_t v1 = v;
    CHECK_EQ_INT(changes_since(&f, v1, &c, &v), RG_OK); /* nothing since */
    CHECK(v == v1 && c.n_docs == 0 && c.rows.n == 0);

    completed_doc(&f, &b, "b", "text_model", 3);
    CHECK_EQ_INT(changes_since(&f, v1, &c, &v), RG_OK);
    CHECK(c.n_docs == 1 && strcmp(c.docs[0], b.id) == 0 && c.rows.n == 3);
    int64_t v2 = v;

    /* a chunk of a deleted: a again, with its one remaining unit */
    size_t n;
    char(*ids)[RG_UUID_LEN + 1] = fx_segment_ids(&f, a.id, &n);
    CHECK_EQ_INT(rg_store_segment_delete(f.s, f.ten.id, a.id, ids[0]), RG_OK);
    CHECK_EQ_INT(changes_since(&f, v2, &c, &v), RG_OK);
    CHECK(c.n_docs == 1 && strcmp(c.docs[0], a.id) == 0 && c.rows.n == 1);
    int64_t v3 = v;

    /* b disabled: b, and no unit of it */
    CHECK_EQ_INT(do_action(&f, b.id, RG_DOC_DISABLE), RG_OK);
    CHECK_EQ_INT(changes_since(&f, v3, &c, &v), RG_OK);
    CHECK(c.n_docs == 1 && strcmp(c.docs[0], b.id) == 0 && c.rows.n == 0);
    /* since the start: both documents once each, as they are now */
    CHECK_EQ_INT(changes_since(&f, v0, &c, &v), RG_OK);
    CHECK_EQ_INT(c.n_docs, 2);
    CHECK(c.rows.n == 1 && units_of(&c.rows, a.id) == 1);

    /* trimmed: older versions are refused, newer ones still answered */
    CHECK_EQ_INT(rg_store_index_log_trim(f.s, f.ten.id, f.ds.id, v3), RG_OK);
    CHECK_EQ_INT(changes_since(&f, v2, &c, &v), RG_ENOTFOUND);
    CHECK_EQ_INT(c.n_docs, 0);
    CHECK_EQ_INT(changes_since(&f, v3, &c, &v), RG_OK);
    CHECK(c.n_docs == 1 && strcmp(c.docs[0], b.id) == 0);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM index_log WHERE version <= (SELECT "
                                "index_log_from FROM datasets LIMIT 1)"),
                 0);
    /* a version the store never had, another tenant's dataset */
    CHECK_EQ_INT(changes_since(&f, v + 100, &c, &v), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_index_scan_changes(f.s, "nope", f.ds.id, v3, &v, note_changed,
                                             collect_changed, &c),
                 RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_index_log_trim(f.s, "nope", f.ds.id, v3), RG_ENOTFOUND);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

TEST(store_index_scan_visibility)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document a, b, dis, arch, waiting, failed;
    completed_doc(&f, &a, "a", "text_model", 3);
    completed_doc(&f, &b, "b", "text_model", 2);
    completed_doc(&f, &dis, "disabled", "text_model", 2);
    completed_doc(&f, &arch, "archived", "text_model", 2);
    fx_doc_add(&f, &failed, "failed", "b");
    fx_doc_add(&f, &waiting, "waiting", "b");
    CHECK_EQ_INT(do_action(&f, dis.id, RG_DOC_DISABLE), RG_OK);
    CHECK_EQ_INT(do_action(&f, arch.id, RG_DOC_ARCHIVE), RG_OK);
    /* failed: indexed halfway, then in error; waiting: still queued */
    rg_job job;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &job), RG_OK);
    CHECK_EQ_STR(job.document_id, failed.id);
    char fids[2][RG_UUID_LEN + 1];
    fx_job_split(&f, &job, 2, fids);
    rg_segment_index one = fx_index_item(fids[0]);
    CHECK_EQ_INT(rg_store_job_indexed(f.s, &job, &one, 1), RG_OK);
    CHECK_EQ_INT(rg_store_job_fail(f.s, &job, "broken"), RG_OK);
    CHECK_EQ_INT(rg_store_job_finish(f.s, &job, false), RG_OK);

    size_t n;
    char(*ids)[RG_UUID_LEN + 1] = fx_segment_ids(&f, a.id, &n);
    CHECK_EQ_INT(n, 3);
    rg_segment g;
    if (n == 3) {
        CHECK_EQ_INT(rg_store_segment_get(f.s, f.a, f.ten.id, a.id, ids[1], &g), RG_OK);
        g.enabled = false;
        CHECK_EQ_INT(rg_store_segment_update(f.s, f.ten.id, &g, NULL), RG_OK);
    }

    static scan sc;
    memset(&sc, 0, sizeof sc);
    int64_t version = -1;
    CHECK_EQ_INT(scan_all(&f, f.ds.id, &sc, &version), RG_OK);
    CHECK_EQ_INT(version, fx_version(&f, f.ds.id));
    CHECK(version > 0);
    CHECK_EQ_INT(sc.n, 4);
    CHECK_EQ_INT(units_of(&sc, a.id), 2);
    CHECK_EQ_INT(units_of(&sc, b.id), 2);
    if (sc.n == 4 && n == 3) {
        /* document position, then segment position; the disabled one left out */
        CHECK_EQ_STR(sc.items[0].segment_id, ids[0]);
        CHECK_EQ_STR(sc.items[1].segment_id, ids[2]);
        CHECK_EQ_STR(sc.items[0].document_id, a.id);
        CHECK_EQ_STR(sc.items[2].document_id, b.id);
        for (size_t i = 0; i < sc.n; i++) {
            CHECK_EQ_INT(sc.items[i].dims, 4);
            CHECK(sc.items[i].first == 0.5f);
            CHECK_EQ_INT(sc.items[i].terms_len, sizeof "opaque terms");
            CHECK(sc.items[i].child_id[0] == '\0');
        }
    }

    /* each exclusion lifted brings its rows back */
    CHECK_EQ_INT(do_action(&f, dis.id, RG_DOC_ENABLE), RG_OK);
    CHECK_EQ_INT(do_action(&f, arch.id, RG_DOC_UN_ARCHIVE), RG_OK);
    g.enabled = true;
    CHECK_EQ_INT(rg_store_segment_update(f.s, f.ten.id, &g, NULL), RG_OK);
    CHECK_EQ_INT(scan_all(&f, f.ds.id, &sc, &version), RG_OK);
    CHECK_EQ_INT(sc.n, 9);
    CHECK_EQ_INT(units_of(&sc, dis.id), 2);
    CHECK_EQ_INT(units_of(&sc, arch.id), 2);
    CHECK_EQ_INT(units_of(&sc, failed.id), 0);
    CHECK_EQ_INT(units_of(&sc, waiting.id), 0);

    /* a segment without index data is still a unit, without vector or terms */
    rg_segment bare = fx_segment("bare", 1);
    CHECK_EQ_INT(rg_store_segments_add(f.s, f.ten.id, b.id, &bare, NULL, 1), RG_OK);
    CHECK_EQ_INT(scan_all(&f, f.ds.id, &sc, &version), RG_OK);
    CHECK_EQ_INT(sc.n, 10);
    bool seen = false;
    for (size_t i = 0; i < sc.n; i++)
        if (i > 0 && strcmp(sc.items[i].segment_id, bare.id) == 0) {
            seen = true;
            CHECK_EQ_INT(sc.items[i].dims, 0);
            CHECK_EQ_INT(sc.items[i].terms_len, 0);
            CHECK_EQ_STR(sc.items[i - 1].document_id, b.id); /* after b's others */
        }
    CHECK(seen);

    /* another tenant sees nothing; an unknown dataset is not found */
    rg_tenant tb;
    CHECK_EQ_INT(rg_store_tenant_ensure(f.s, "beta", &tb), RG_OK);
    sc.n = 0;
    CHECK_EQ_INT(rg_store_index_scan(f.s, tb.id, f.ds.id, &version, collect, &sc), RG_ENOTFOUND);
    CHECK_EQ_INT(sc.n, 0);
    CHECK_EQ_INT(version, 0);
    CHECK_EQ_INT(scan_all(&f, "no-such-dataset", &sc, &version), RG_ENOTFOUND);

    /* an empty dataset: no rows, version 0 */
    rg_dataset empty;
    fx_dataset(&f, f.ten.id, "empty", &empty);
    version = -1;
    CHECK_EQ_INT(scan_all(&f, empty.id, &sc, &version), RG_OK);
    CHECK_EQ_INT(sc.n, 0);
    CHECK_EQ_INT(version, 0);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

TEST(store_index_scan_stops_and_snapshots)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document a;
    completed_doc(&f, &a, "a", "text_model", 4);
    static scan sc;
    memset(&sc, 0, sizeof sc);
    int64_t version = -1;

    /* the callback's error ends the scan and is returned */
    sc.stop_after = 2;
    CHECK_EQ_INT(scan_all(&f, f.ds.id, &sc, &version), RG_ECANCELED);
    CHECK_EQ_INT(sc.n, 2);
    CHECK_EQ_INT(version, 0);
    sc.stop_after = 0;

    /* a write committed during the scan is not in it; the version says so */
    int64_t before = fx_version(&f, f.ds.id);
    sc.write_during = &f;
    sc.doc = a.id;
    CHECK_EQ_INT(scan_all(&f, f.ds.id, &sc, &version), RG_OK);
    CHECK_EQ_INT(sc.n, 4);
    CHECK_EQ_INT(version, before);
    CHECK(fx_version(&f, f.ds.id) > version);
    CHECK_EQ_INT(scan_all(&f, f.ds.id, &sc, &version), RG_OK);
    CHECK_EQ_INT(sc.n, 5);
    CHECK_EQ_INT(version, fx_version(&f, f.ds.id));
    FX_CHECK_OK(&f);
    fx_close(&f);
}

TEST(store_index_scan_hierarchical)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document h, t;
    completed_doc(&f, &h, "parent-child", "hierarchical_model", 2);
    completed_doc(&f, &t, "text", "text_model", 1);
    size_t n;
    char(*hids)[RG_UUID_LEN + 1] = fx_segment_ids(&f, h.id, &n);
    char(*tids)[RG_UUID_LEN + 1] = fx_segment_ids(&f, t.id, &n);
    rg_child_chunk *kids = NULL, *tkids = NULL;
    size_t nk = 0, ntk = 0;
    CHECK_EQ_INT(rg_store_child_chunk_list(f.s, f.a, hids[0], &kids, &nk), RG_OK);
    CHECK_EQ_INT(rg_store_child_chunk_list(f.s, f.a, tids[0], &tkids, &ntk), RG_OK);
    if (nk != 1 || ntk != 1 || n != 1) {
        CHECK(!"fixture: one child per segment");
        fx_close(&f);
        return;
    }
    static scan sc;
    memset(&sc, 0, sizeof sc);
    int64_t version;

    /* no child vectors yet: the parents are units (full text works) */
    CHECK_EQ_INT(scan_all(&f, f.ds.id, &sc, &version), RG_OK);
    CHECK_EQ_INT(sc.n, 3);
    CHECK_EQ_INT(units_of(&sc, h.id), 2);

    /* a child with index data is a unit after its parent; a text document's
     * child chunks never are */
    static const float cv[4] = {0.25f, 0, 0, 0};
    rg_segment_index cidx = fx_index_item(NULL);
    cidx.vector = cv;
    CHECK_EQ_INT(rg_store_child_chunk_update(f.s, f.ten.id, &kids[0], &cidx), RG_OK);
    CHECK_EQ_INT(rg_store_child_chunk_update(f.s, f.ten.id, &tkids[0], &cidx), RG_OK);
    rg_child_chunk extra;
    memset(&extra, 0, sizeof extra);
    rg_uuid4(extra.id);
    memcpy(extra.segment_id, hids[0], sizeof extra.segment_id);
    extra.content = "extra child";
    CHECK_EQ_INT(rg_store_child_chunk_add(f.s, f.ten.id, &extra, &cidx), RG_OK);
    rg_child_chunk plain = extra; /* no index data: not a unit */
    rg_uuid4(plain.id);
    CHECK_EQ_INT(rg_store_child_chunk_add(f.s, f.ten.id, &plain, NULL), RG_OK);
    CHECK_EQ_INT(scan_all(&f, f.ds.id, &sc, &version), RG_OK);
    CHECK_EQ_INT(sc.n, 5);
    if (sc.n == 5) {
        CHECK_EQ_STR(sc.items[0].segment_id, hids[0]);
        CHECK(sc.items[0].child_id[0] == '\0');
        CHECK_EQ_STR(sc.items[1].segment_id, hids[0]);
        CHECK_EQ_STR(sc.items[1].child_id, kids[0].id);
        CHECK_EQ_STR(sc.items[1].document_id, h.id);
        CHECK(sc.items[1].first == 0.25f);
        CHECK_EQ_STR(sc.items[2].child_id, extra.id);
        CHECK_EQ_STR(sc.items[3].segment_id, hids[1]);
        CHECK(sc.items[3].child_id[0] == '\0');
        CHECK_EQ_STR(sc.items[4].segment_id, tids[0]);
        CHECK(sc.items[4].child_id[0] == '\0');
    }

    /* a parent without index data of its own: only its children */
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE segment_index SET vector = NULL, dims = 0, terms = NULL"
             " WHERE segment_id = '%s'",
             hids[0]);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    CHECK_EQ_INT(scan_all(&f, f.ds.id, &sc, &version), RG_OK);
    CHECK_EQ_INT(sc.n, 4);
    if (sc.n == 4) {
        CHECK_EQ_STR(sc.items[0].child_id, kids[0].id);
        CHECK_EQ_STR(sc.items[1].child_id, extra.id);
    }

    /* a vector alone is index data enough */
    snprintf(sql, sizeof sql, "UPDATE segment_index SET terms = NULL WHERE segment_id = '%s'",
             hids[1]);
    CHECK_EQ_INT(fx_sql(&f, sql), 0);
    CHECK_EQ_INT(scan_all(&f, f.ds.id, &sc, &version), RG_OK);
    CHECK_EQ_INT(sc.n, 4);
    if (sc.n == 4) {
        CHECK_EQ_STR(sc.items[2].segment_id, hids[1]);
        CHECK_EQ_INT(sc.items[2].dims, 4);
        CHECK_EQ_INT(sc.items[2].terms_len, 0);
    }

    /* a disabled parent hides its children */
    rg_segment g;
    CHECK_EQ_INT(rg_store_segment_get(f.s, f.a, f.ten.id, h.id, hids[0], &g), RG_OK);
    g.enabled = false;
    CHECK_EQ_INT(rg_store_segment_update(f.s, f.ten.id, &g, NULL), RG_OK);
    CHECK_EQ_INT(scan_all(&f, f.ds.id, &sc, &version), RG_OK);
    CHECK_EQ_INT(sc.n, 2);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

/* Vectors come back whole and float-aligned, whatever their place in the
 * page (rows of varying lengths put some blobs at odd addresses). */
#define VEC_SEGS 24

typedef struct vec_check {
    rg_segment *segs;
    size_t n, seen, bad;
} vec_check;

static rg_rc check_vector(const rg_index_row *row, void *arg)
{
    vec_check *vc = arg;
    vc->seen++;
    for (size_t i = 0; i < vc->n; i++) {
        if (strcmp(vc->segs[i].id, row->segment_id) != 0)
            continue;
        int dims = 3 + (int)(i % 5);
        if (!row->vector || row->dims != dims || row->terms_len != i % 7 + 1 ||
            (uintptr_t)row->vector % _Alignof(float) != 0) {
            vc->bad++;
            return RG_OK;
        }
        for (int k = 0; k < dims; k++)
            if (row->vector[k] != (float)(i * 100 + (size_t)k))
                vc->bad++;
        return RG_OK;
    }
    vc->bad++; /* not one of ours */
    return RG_OK;
}

TEST(store_index_scan_vectors_intact)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document a;
    completed_doc(&f, &a, "a", "text_model", 1);
    size_t n = 0;
    char(*first)[RG_UUID_LEN + 1] = fx_segment_ids(&f, a.id, &n);
    if (n == 1)
        CHECK_EQ_INT(rg_store_segment_delete(f.s, f.ten.id, a.id, first[0]), RG_OK);
    static rg_segment segs[VEC_SEGS];
    static rg_segment_index idx[VEC_SEGS];
    static float vecs[VEC_SEGS][8];
    static const char terms[] = "abcdefgh";
    for (size_t i = 0; i < VEC_SEGS; i++) {
        segs[i] = fx_segment(i % 2 ? "odd" : "an even segment", 3);
        for (int k = 0; k < 8; k++)
            vecs[i][k] = (float)(i * 100 + (size_t)k);
        idx[i] = (rg_segment_index){
            .vector = vecs[i], .dims = 3 + (int)(i % 5), .terms = terms, .terms_len = i % 7 + 1};
    }
    CHECK_EQ_INT(rg_store_segments_add(f.s, f.ten.id, a.id, segs, idx, VEC_SEGS), RG_OK);
    vec_check vc = {.segs = segs, .n = VEC_SEGS};
    int64_t version;
    CHECK_EQ_INT(rg_store_index_scan(f.s, f.ten.id, f.ds.id, &version, check_vector, &vc), RG_OK);
    CHECK_EQ_INT(vc.seen, VEC_SEGS);
    CHECK_EQ_INT(vc.bad, 0);
    fx_close(&f);
}

/* --- the scan's query plan ------------------------------------------------------------- */

/* Appends the plan's "detail" lines of sql, run on the fixture's file, to out. */
static void query_plan(store_fx *f, const char *sql, char *out, size_t cap)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *q = rg_arena_printf(f->a, "EXPLAIN QUERY PLAN %s", sql);
    out[0] = '\0';
    size_t len = 0;
    if (sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW && len < cap) {
            const char *d = (const char *)sqlite3_column_text(st, 3);
            int k = snprintf(out + len, cap - len, "%s\n", d ? d : "?");
            len += k > 0 ? (size_t)k : 0;
        }
    } else
        CHECK(!"EXPLAIN QUERY PLAN of the scan failed");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* The scan streams: two joins merged in index order, one lookup per unit,
 * never a sort (a temporary b-tree) nor a scan of a whole table.  Checked on
 * a file that has data and statistics (PRAGMA optimize runs at close). */
TEST(store_index_scan_plan)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document a;
    completed_doc(&f, &a, "a", "hierarchical_model", 3);
    completed_doc(&f, &a, "b", "text_model", 2);
    if (!fx_reopen(&f)) {
        fx_close(&f);
        return;
    }
    char plan[2048];
    query_plan(&f, rg_sqlite_index_scan_sql(), plan, sizeof plan);
    CHECK(strstr(plan, "MERGE (UNION ALL)") != NULL);
    CHECK(strstr(plan, "TEMP B-TREE") == NULL);
    CHECK(strstr(plan, "SCAN ") == NULL);
    CHECK(strstr(plan, "SEARCH d USING INDEX documents_dataset_position") != NULL);
    CHECK(strstr(plan, "SEARCH s USING INDEX segments_document_status") != NULL);
    CHECK(strstr(plan, "SEARCH c USING INDEX child_chunks_segment") != NULL);
    if (strstr(plan, "TEMP B-TREE") || strstr(plan, "SCAN "))
        fprintf(stderr, "  the scan's plan:\n%s", plan);
    fx_close(&f);
}

/* --- migration 3 on a database that has data ------------------------------------------ */

TEST(store_index_migration_on_existing_data)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document a;
    completed_doc(&f, &a, "a", "text_model", 2);
    /* take the file back to schema version 2, as an older ragd left it (so
     * without migration 4's tables either) */
    rg_store_close(f.s);
    f.s = NULL;
    static const char downgrade[] =
        "BEGIN;"
        "DROP TABLE embed_cache;"
        "DROP TABLE tag_bindings; DROP TABLE tags; DROP TABLE dataset_metadatas;"
        "DROP TRIGGER iv_documents_insert; DROP TRIGGER iv_documents_update;"
        "DROP TRIGGER iv_documents_delete; DROP TRIGGER iv_segments_insert;"
        "DROP TRIGGER iv_segments_update; DROP TRIGGER iv_segments_delete;"
        "DROP TRIGGER iv_segment_index_insert;"
        "DROP TRIGGER iv_segment_index_update;"
        "DROP TRIGGER iv_segment_index_delete;"
        "DROP TRIGGER iv_child_chunks_insert;"
        "DROP TRIGGER iv_child_chunks_update;"
        "DROP TRIGGER iv_child_chunks_delete; DROP TRIGGER iv_child_index_insert;"
        "DROP TRIGGER iv_child_index_update; DROP TRIGGER iv_child_index_delete;"
        "DROP TABLE index_log; ALTER TABLE datasets DROP COLUMN index_log_from;"
        "DROP TABLE child_index;"
        "ALTER TABLE datasets DROP COLUMN index_version;"
        "PRAGMA user_version = 2;"
        "COMMIT;";
    CHECK_EQ_INT(fx_sql(&f, downgrade), 0);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'iv\\_%'"
                                " ESCAPE '\\'"),
                 0);
    if (!fx_reopen(&f)) {
        fx_close(&f);
        return;
    }
    CHECK_EQ_INT(fx_sql_int(&f, "PRAGMA user_version"), 6); /* 3 and every later one */
    int64_t v = fx_version(&f, f.ds.id);
    CHECK_EQ_INT(v, 0);
    static scan sc;
    memset(&sc, 0, sizeof sc);
    int64_t version = -1;
    CHECK_EQ_INT(scan_all(&f, f.ds.id, &sc, &version), RG_OK);
    CHECK_EQ_INT(sc.n, 2);
    CHECK_EQ_INT(version, 0);
    CHECK_EQ_INT(do_action(&f, a.id, RG_DOC_DISABLE), RG_OK);
    MOVES(v, "document disable after the migration");
    CHECK_EQ_INT(scan_all(&f, f.ds.id, &sc, &version), RG_OK);
    CHECK_EQ_INT(sc.n, 0);
    CHECK_EQ_INT(version, v);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

/* --- a large dataset ---------------------------------------------------------------------- */

#define BIG_DOCS  10
#define BIG_BATCH 10000 /* segments per document */
#define BIG_DIMS  64

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct big_scan {
    size_t n, bad;
    double sum;
} big_scan;

static rg_rc count_rows(const rg_index_row *row, void *arg)
{
    big_scan *b = arg;
    b->n++;
    if (!row->vector || row->dims != BIG_DIMS || row->terms_len == 0)
        b->bad++;
    else
        b->sum += row->vector[BIG_DIMS - 1];
    return RG_OK;
}

/* A completed document of the fixture's dataset without segments (the
 * pipeline's one deleted). */
static void empty_completed_doc(store_fx *f, rg_document *doc)
{
    fx_doc_add(f, doc, "big", "b");
    fx_complete_next(f, 1, NULL);
    size_t n1 = 0;
    char(*first)[RG_UUID_LEN + 1] = fx_segment_ids(f, doc->id, &n1);
    CHECK_EQ_INT(n1, 1);
    if (n1 == 1)
        CHECK_EQ_INT(rg_store_segment_delete(f->s, f->ten.id, doc->id, first[0]), RG_OK);
}

/* Gives every segment-less document of the dataset BIG_BATCH completed
 * segments with index data (random ids, BIG_DIMS floats of v), in one
 * transaction of raw SQL: quicker than the store's per-edit bookkeeping. */
static void bulk_segments(store_fx *f, float v)
{
    unsigned char b[sizeof(float)];
    memcpy(b, &v, sizeof b);
    char hex[BIG_DIMS * 2 * sizeof(float) + 1];
    for (int i = 0; i < BIG_DIMS; i++)
        for (size_t k = 0; k < sizeof b; k++)
            snprintf(hex + (i * sizeof b + k) * 2, 3, "%02X", b[k]);
    char *sql = rg_arena_printf(
        f->a,
        "BEGIN;"
        "CREATE TEMP TABLE seq AS WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1"
        "  FROM c WHERE i < %d) SELECT i FROM c;"
        "CREATE TEMP TABLE bulk AS SELECT id FROM documents WHERE dataset_id = '%s'"
        "  AND total_segments = 0;"
        "INSERT INTO segments (id, tenant_id, dataset_id, document_id, position, content,"
        "  word_count, tokens, status, enabled, created_at, updated_at, indexing_at,"
        "  completed_at)"
        "  SELECT lower(hex(randomblob(16))), d.tenant_id, d.dataset_id, d.id, seq.i,"
        "  'bulk segment ' || seq.i, 9, 3, 'completed', 1, 0, 0, 0, 0"
        "  FROM temp.bulk b JOIN documents d ON d.id = b.id, seq ORDER BY d.id, seq.i;"
        "INSERT INTO segment_index (segment_id, dataset_id, vector, dims, terms)"
        "  SELECT s.id, s.dataset_id, X'%s', %d, CAST('alpha' || char(9) || '1' || char(10)"
        "  AS BLOB) FROM temp.bulk b JOIN segments s ON s.document_id = b.id;"
        "UPDATE documents SET word_count = 9 * %d, total_segments = %d,"
        "  completed_segments = %d WHERE id IN (SELECT id FROM temp.bulk);"
        "DROP TABLE seq; DROP TABLE bulk;"
        "COMMIT;",
        BIG_BATCH, f->ds.id, hex, BIG_DIMS, BIG_BATCH, BIG_BATCH, BIG_BATCH);
    CHECK_EQ_INT(fx_sql(f, sql), 0);
}

TEST(store_index_scan_100k)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    /* nine documents of 10,000 segments by raw SQL, then one through the store */
    rg_document doc;
    for (int d = 0; d < BIG_DOCS - 1; d++)
        empty_completed_doc(&f, &doc);
    bulk_segments(&f, 1.0f / BIG_DIMS);
    empty_completed_doc(&f, &doc);
    static float vec[BIG_DIMS];
    for (int i = 0; i < BIG_DIMS; i++)
        vec[i] = 1.0f / BIG_DIMS;
    static const char terms[] = "alpha\t1\nbeta\t2\ngamma\t1\n";
    rg_segment *segs = rg_arena_calloc(f.a, BIG_BATCH, sizeof *segs);
    rg_segment_index *idx = rg_arena_calloc(f.a, BIG_BATCH, sizeof *idx);
    for (int i = 0; i < BIG_BATCH; i++) {
        segs[i] = fx_segment("some segment content of a typical length for the test", 9);
        idx[i] = (rg_segment_index){
            .vector = vec, .dims = BIG_DIMS, .terms = terms, .terms_len = sizeof terms - 1};
    }
    double t0 = now_ms();
    CHECK_EQ_INT(rg_store_segments_add(f.s, f.ten.id, doc.id, segs, idx, BIG_BATCH), RG_OK);
    double t_add = now_ms() - t0;
    FX_CHECK_OK(&f);

    big_scan b = {0};
    int64_t version = 0;
    double best = 1e18;
    for (int rep = 0; rep < 3; rep++) {
        memset(&b, 0, sizeof b);
        t0 = now_ms();
        CHECK_EQ_INT(rg_store_index_scan(f.s, f.ten.id, f.ds.id, &version, count_rows, &b), RG_OK);
        double ms = now_ms() - t0;
        best = ms < best ? ms : best;
    }
    CHECK_EQ_INT(b.n, BIG_DOCS * BIG_BATCH);
    CHECK_EQ_INT(b.bad, 0);
    CHECK(b.sum > 0);
    CHECK_EQ_INT(version, fx_version(&f, f.ds.id));
    t0 = now_ms();
    for (int i = 0; i < 1000; i++)
        (void)fx_version(&f, f.ds.id);
    double version_us = now_ms() - t0; /* ms for 1000 = us for one */
    printf("  store_index_scan_100k: %d rows (%d-dim vectors) scanned in %.1f ms (best of 3);"
           " %d segments appended in one call in %.0f ms; index_version %.1f us\n",
           BIG_DOCS * BIG_BATCH, BIG_DIMS, best, BIG_BATCH, t_add, version_us);
    fx_close(&f);
}
