/*
 * test_registry.c - the snapshot registry over a fake row source (version
 * reuse and rebuild, old snapshots outliving a swap, errors, one build for
 * many concurrent acquires) and over the real store.
 */
#include "harness.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "index/index_int.h"
#include "ingest/keywords.h"
#include "unit/store/store_fixture.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

/* A dataset "ds" of tenant "t" whose rows are n units "s0".."s<n-1", each with
 * the terms of word; versions and failures set by the test. */
typedef struct fake {
    atomic_llong version;
    atomic_int n_rows;
    atomic_int scans;
    atomic_int scan_ms; /* each scan sleeps this long */
    atomic_int fail;    /* next scans fail with this */
    atomic_int gone;    /* the dataset does not exist */
    const char *word;
} fake;

static rg_rc fake_version(void *ctx, const char *tenant_id, const char *dataset_id, int64_t *v)
{
    fake *f = ctx;
    if (strcmp(tenant_id, "t") != 0 || atomic_load(&f->gone))
        return RG_ENOTFOUND;
    /* another dataset of the tenant gets a version of its own */
    *v = atomic_load(&f->version) + (strcmp(dataset_id, "ds") == 0 ? 0 : 1000);
    return RG_OK;
}

static rg_rc fake_scan(void *ctx, const char *tenant_id, const char *dataset_id, int64_t *v,
                       rg_rc (*fn)(const rg_index_row *row, void *arg), void *arg)
{
    fake *f = ctx;
    atomic_fetch_add(&f->scans, 1);
    int ms = atomic_load(&f->scan_ms);
    if (ms) {
        struct timespec ts = {0, (long)ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    rg_rc fail = atomic_load(&f->fail);
    if (fail)
        return fail;
    RG_TRY(fake_version(ctx, tenant_id, dataset_id, v));
    int n = atomic_load(&f->n_rows);
    char terms[64];
    int tl = snprintf(terms, sizeof terms, "%s\t1\n", f->word);
    for (int i = 0; i < n; i++) {
        char seg[16];
        snprintf(seg, sizeof seg, "s%d", i);
        rg_index_row row = {
            .segment_id = seg, .document_id = "d", .terms = terms, .terms_len = (size_t)tl};
        RG_TRY(fn(&row, arg));
    }
    return RG_OK;
}

static rg_index_registry *fake_registry(fake *f)
{
    rg_index__source src = {.version = fake_version, .scan = fake_scan, .ctx = f};
    rg_index_registry *r = NULL;
    CHECK_EQ_INT(rg_index__registry_new_source(&src, &r), RG_OK);
    return r;
}

static size_t hits_for(rg_index *ix, const char *q)
{
    rg_hit h[64];
    size_t n = 0;
    CHECK_EQ_INT(rg_index_search_text(ix, rg_str_c(q), 64, NULL, h, &n), RG_OK);
    return n;
}

TEST(index_registry_reuse_and_rebuild)
{
    fake f = {.word = "kiwi"};
    atomic_store(&f.version, 1);
    atomic_store(&f.n_rows, 3);
    rg_index_registry *r = fake_registry(&f);

    rg_index *a, *b, *c;
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &a), RG_OK);
    CHECK_EQ_INT(atomic_load(&f.scans), 1);
    CHECK_EQ_INT(rg_index_size(a), 3);
    CHECK_EQ_INT(a->version, 1);
    /* same version: the same snapshot, no scan */
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &b), RG_OK);
    CHECK(a == b);
    CHECK_EQ_INT(atomic_load(&f.scans), 1);
    rg_index_release(b);

    /* a change: a new snapshot; the old one stays usable until released */
    atomic_store(&f.version, 2);
    atomic_store(&f.n_rows, 5);
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &c), RG_OK);
    CHECK(c != a);
    CHECK_EQ_INT(atomic_load(&f.scans), 2);
    CHECK_EQ_INT(rg_index_size(c), 5);
    CHECK_EQ_INT(hits_for(c, "kiwi"), 5);
    CHECK_EQ_INT(rg_index_size(a), 3);
    CHECK_EQ_INT(hits_for(a, "kiwi"), 3);
    rg_index_release(a); /* freed here (ASan would see a leak or a double free) */
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &b), RG_OK);
    CHECK(b == c);
    rg_index_release(b);
    rg_index_release(c);

    /* a version going back (a restored store) is a change too */
    atomic_store(&f.version, 1);
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &a), RG_OK);
    CHECK_EQ_INT(atomic_load(&f.scans), 3);
    CHECK_EQ_INT(a->version, 1);
    rg_index_release(a);

    /* datasets are separate, and so are tenants */
    CHECK_EQ_INT(rg_index_acquire(r, "t", "other", &b), RG_OK);
    CHECK_EQ_INT(b->version, 1001);
    CHECK_EQ_INT(atomic_load(&f.scans), 4);
    rg_index_release(b);
    CHECK_EQ_INT(rg_index_acquire(r, "u", "ds", &b), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_index__registry_builds(r), 4);
    rg_index_registry_free(r);
}

TEST(index_registry_errors)
{
    fake f = {.word = "fig"};
    atomic_store(&f.version, 1);
    atomic_store(&f.n_rows, 2);
    rg_index_registry *r = fake_registry(&f);
    rg_index *a = NULL;

    /* a failed scan fails the acquire and leaves nothing behind */
    atomic_store(&f.fail, RG_EIO);
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &a), RG_EIO);
    atomic_store(&f.fail, 0);
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &a), RG_OK);
    CHECK_EQ_INT(rg_index_size(a), 2);
    rg_index_release(a);

    /* a failed rebuild keeps the old snapshot current; the next acquire
     * retries */
    atomic_store(&f.version, 2);
    atomic_store(&f.fail, RG_ENOMEM);
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &a), RG_ENOMEM);
    atomic_store(&f.fail, 0);
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &a), RG_OK);
    CHECK_EQ_INT(a->version, 2);
    rg_index_release(a);

    /* a deleted dataset: not found, and its snapshot is dropped */
    atomic_store(&f.gone, 1);
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &a), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_index_acquire(r, NULL, "ds", &a), RG_EINVAL);
    rg_index_registry_free(r);
}

typedef struct {
    rg_index_registry *r;
    rg_index *got;
    rg_rc rc;
} acquirer;

static void *acquire_thread(void *arg)
{
    acquirer *a = arg;
    a->rc = rg_index_acquire(a->r, "t", "ds", &a->got);
    return NULL;
}

/* Acquires from n threads at once; returns how many distinct snapshots. */
static int acquire_concurrently(rg_index_registry *r, int n, rg_index **first)
{
    acquirer a[16];
    pthread_t th[16];
    for (int i = 0; i < n; i++) {
        a[i] = (acquirer){r, NULL, RG_EIO};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, acquire_thread, &a[i]), 0);
    }
    for (int i = 0; i < n; i++)
        CHECK_EQ_INT(pthread_join(th[i], NULL), 0);
    int distinct = 0;
    for (int i = 0; i < n; i++) {
        CHECK_EQ_INT(a[i].rc, RG_OK);
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen |= a[j].got == a[i].got;
        distinct += !seen;
    }
    *first = a[0].got;
    for (int i = 1; i < n; i++)
        rg_index_release(a[i].got);
    return distinct;
}

TEST(index_registry_concurrent_single_build)
{
    fake f = {.word = "plum"};
    atomic_store(&f.version, 1);
    atomic_store(&f.n_rows, 50);
    atomic_store(&f.scan_ms, 50);
    rg_index_registry *r = fake_registry(&f);
    rg_index *ix;

    /* 12 threads find no snapshot: one scans, the others wait for it */
    CHECK_EQ_INT(acquire_concurrently(r, 12, &ix), 1);
    CHECK_EQ_INT(atomic_load(&f.scans), 1);
    CHECK_EQ_INT(rg_index_size(ix), 50);

    /* a stale snapshot: again one rebuild; the old one is still held here */
    atomic_store(&f.version, 2);
    atomic_store(&f.n_rows, 60);
    rg_index *fresh;
    CHECK_EQ_INT(acquire_concurrently(r, 12, &fresh), 1);
    CHECK_EQ_INT(atomic_load(&f.scans), 2);
    CHECK(fresh != ix);
    CHECK_EQ_INT(rg_index_size(fresh), 60);
    CHECK_EQ_INT(hits_for(ix, "plum"), 50);
    rg_index_release(ix);
    rg_index_release(fresh);
    CHECK_EQ_INT(rg_index__registry_builds(r), 2);
    rg_index_registry_free(r);
}

typedef struct {
    rg_index_registry *r;
    fake *f;
    int stale; /* acquires that returned a snapshot older than the version read before */
} churner;

static void *churn_thread(void *arg)
{
    churner *c = arg;
    for (int i = 0; i < 200; i++) {
        int64_t before = atomic_load(&c->f->version);
        rg_index *ix;
        if (rg_index_acquire(c->r, "t", "ds", &ix) != RG_OK) {
            c->stale++;
            continue;
        }
        if (ix->version < before)
            c->stale++;
        rg_index_release(ix);
        if (i % 3 == 0)
            atomic_fetch_add(&c->f->version, 1);
    }
    return NULL;
}

TEST(index_registry_never_older_than_read)
{
    /* versions move while threads acquire: no acquire may return a snapshot
     * older than the version it could have read when it started */
    fake f = {.word = "pear"};
    atomic_store(&f.version, 1);
    atomic_store(&f.n_rows, 20);
    rg_index_registry *r = fake_registry(&f);
    churner c[6];
    pthread_t th[6];
    for (int i = 0; i < 6; i++) {
        c[i] = (churner){r, &f, 0};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, churn_thread, &c[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        CHECK_EQ_INT(pthread_join(th[i], NULL), 0);
        CHECK_EQ_INT(c[i].stale, 0);
    }
    CHECK(rg_index__registry_builds(r) <= (uint64_t)atomic_load(&f.scans));
    rg_index_registry_free(r);
}

/* --- over the real store ------------------------------------------------------ */

/* Indexes every pending segment of the job's document with terms of text and
 * a 4-dimension vector. */
static void index_job(store_fx *fx, const rg_job *job, const char *text)
{
    static const float vec[4] = {1, 0, 0, 0};
    rg_segment *segs;
    size_t n;
    CHECK_EQ_INT(rg_store_job_pending(fx->s, fx->a, job, 100, &segs, &n), RG_OK);
    rg_segment_index *items = rg_arena_calloc(fx->a, n ? n : 1, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        items[i].segment_id = segs[i].id;
        items[i].vector = vec;
        items[i].dims = 4;
        items[i].terms = rg_keywords_terms(fx->a, rg_str_c(text), &items[i].terms_len, NULL);
        items[i].tokens = 3;
    }
    CHECK_EQ_INT(rg_store_job_indexed(fx->s, job, items, n), RG_OK);
}

TEST(index_registry_over_store)
{
    store_fx fx;
    if (!fx_open(&fx))
        return;
    rg_index_registry *r = NULL;
    CHECK_EQ_INT(rg_index_registry_new(fx.s, &r), RG_OK);
    rg_index *ix = NULL;
    rg_rc rc = rg_index_acquire(r, fx.ten.id, fx.ds.id, &ix);
    CHECK_EQ_INT(rc, RG_OK);
    if (rc != RG_OK) {
        rg_index_registry_free(r);
        fx_close(&fx);
        return;
    }
    CHECK_EQ_INT(rg_index_size(ix), 0);
    rg_index_release(ix);

    rg_document d1, d2;
    fx_doc_add(&fx, &d1, "one.txt", "b1");
    fx_doc_add(&fx, &d2, "two.txt", "b1");
    rg_job job;
    CHECK_EQ_INT(rg_store_job_claim(fx.s, &job), RG_OK);
    fx_job_split(&fx, &job, 3, NULL);
    index_job(&fx, &job, "mango orchard harvest");
    CHECK_EQ_INT(rg_store_job_finish(fx.s, &job, false), RG_OK);
    CHECK_EQ_INT(rg_store_job_claim(fx.s, &job), RG_OK);
    fx_job_split(&fx, &job, 2, NULL);
    index_job(&fx, &job, "papaya harvest");
    CHECK_EQ_INT(rg_store_job_finish(fx.s, &job, false), RG_OK);

    /* completed documents: rebuilt, searchable by text and vector */
    rc = rg_index_acquire(r, fx.ten.id, fx.ds.id, &ix);
    CHECK_EQ_INT(rc, RG_OK);
    if (rc != RG_OK) {
        rg_index_registry_free(r);
        fx_close(&fx);
        return;
    }
    CHECK_EQ_INT(rg_index_size(ix), 5);
    CHECK_EQ_INT(hits_for(ix, "harvest"), 5);
    CHECK_EQ_INT(hits_for(ix, "mango"), 3);
    float q[4] = {1, 0, 0, 0};
    rg_hit h[8];
    size_t n = 0;
    CHECK_EQ_INT(rg_index_search_vector(ix, q, 4, 8, NULL, h, &n), RG_OK);
    CHECK_EQ_INT(n, 5);
    uint64_t builds = rg_index__registry_builds(r);
    rg_index *again = NULL;
    CHECK_EQ_INT(rg_index_acquire(r, fx.ten.id, fx.ds.id, &again), RG_OK);
    CHECK(again == ix);
    CHECK_EQ_INT(rg_index__registry_builds(r), builds);
    rg_index_release(again);

    /* disabling a document changes the version: rebuilt without it */
    const char *ids[] = {d2.id};
    const char *why = NULL;
    CHECK_EQ_INT(rg_store_document_action(fx.s, fx.a, fx.ten.id, fx.ds.id, RG_DOC_DISABLE, ids, 1,
                                          "user", &why),
                 RG_OK);
    rg_index *after = NULL;
    CHECK_EQ_INT(rg_index_acquire(r, fx.ten.id, fx.ds.id, &after), RG_OK);
    if (!after) {
        rg_index_release(ix);
        rg_index_registry_free(r);
        fx_close(&fx);
        return;
    }
    CHECK(after != ix);
    CHECK_EQ_INT(rg_index_size(after), 3);
    CHECK_EQ_INT(hits_for(after, "papaya"), 0);
    CHECK_EQ_INT(hits_for(ix, "papaya"), 2); /* the old snapshot is unchanged */
    rg_index_release(ix);
    rg_index_release(after);

    /* another tenant's id for the dataset finds nothing */
    rc = rg_index_acquire(r, "00000000-0000-0000-0000-000000000000", fx.ds.id, &ix);
    if (rc == RG_OK) {
        CHECK_EQ_INT(rg_index_size(ix), 0);
        rg_index_release(ix);
    }
    rg_index_registry_free(r);
    fx_close(&fx);
}
