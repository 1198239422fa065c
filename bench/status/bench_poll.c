/*
 * bench_poll.c - where the time of one indexing-status poll goes, without
 * HTTP: the pieces of rg_api_authenticate + rg_api_indexing_status timed one
 * by one in this process, on a data directory no server has open.
 *
 *   bench_poll --data DIR --key KEY --dataset ID --batch BATCH [--iters 2000]
 *
 * Timed, each --iters times, one thread, best-of-3 averages:
 *   auth      rg_api_key_hash + rg_store_key_find + rg_store_dataset_get
 *   query     rg_store_document_batch_status (one indexed query, N rows)
 *   render    the handler's JSON loop, copied from src/api/documents.c
 *             (rg_jsonw into an rg_buf)
 *   render*   the same bytes written by a minimal writer (constant keys
 *             memcpy'd, integers without printf): what the JSON could cost;
 *             checked byte-for-byte against render
 */
#include "api/api.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/ids.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(const char *what, rg_rc rc)
{
    if (rc != RG_OK) {
        fprintf(stderr, "bench_poll: %s: %s\n", what, rg_rc_name(rc));
        exit(1);
    }
}

/* The loop of rg_api_indexing_status, verbatim but for the writer's target. */
static void render(rg_buf *b, const rg_document *items, size_t n)
{
    rg_jsonw w;
    rg_jsonw_init(&w, b);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "data");
    rg_jsonw_arr(&w);
    for (size_t i = 0; i < n; i++) {
        const rg_document *d = &items[i];
        bool paused = d->is_paused && d->status != RG_DOC_COMPLETED && d->status != RG_DOC_ERROR;
        rg_jsonw_obj(&w);
        rg_jsonw_kstr(&w, "id", d->id);
        rg_jsonw_kstr(&w, "indexing_status", paused ? "paused" : rg_doc_status_name(d->status));
        rg_jsonw_kint_or_null(&w, "processing_started_at", d->processing_started_at);
        rg_jsonw_kint_or_null(&w, "parsing_completed_at", d->parsing_completed_at);
        rg_jsonw_kint_or_null(&w, "cleaning_completed_at", d->cleaning_completed_at);
        rg_jsonw_kint_or_null(&w, "splitting_completed_at", d->splitting_completed_at);
        rg_jsonw_kint_or_null(&w, "completed_at", d->completed_at);
        rg_jsonw_kint_or_null(&w, "paused_at", d->paused_at);
        rg_jsonw_kstr(&w, "error", d->error);
        rg_jsonw_kint_or_null(&w, "stopped_at", d->stopped_at);
        rg_jsonw_kint(&w, "completed_segments", d->completed_segments);
        rg_jsonw_kint(&w, "total_segments", d->total_segments);
        rg_jsonw_obj_end(&w);
    }
    rg_jsonw_arr_end(&w);
    rg_jsonw_obj_end(&w);
}

/* ---- the minimal writer ---------------------------------------------------------- */

typedef struct out {
    char *p;
    size_t n;
} out;

#define LIT(o, s) (memcpy((o)->p + (o)->n, s, sizeof(s) - 1), (o)->n += sizeof(s) - 1)

static void put_int(out *o, int64_t v)
{
    char tmp[24];
    size_t k = sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--k] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--k] = '-';
    memcpy(o->p + o->n, tmp + k, sizeof tmp - k);
    o->n += sizeof tmp - k;
}

static void put_int_or_null(out *o, int64_t v)
{
    if (v < 0)
        LIT(o, "null");
    else
        put_int(o, v);
}

/* A JSON string; escapes as rg_jsonw does (only what must be, \u00XX for controls). */
static void put_str(out *o, const char *z)
{
    if (!z) {
        LIT(o, "null");
        return;
    }
    static const char hex[] = "0123456789abcdef";
    o->p[o->n++] = '"';
    for (const unsigned char *c = (const unsigned char *)z; *c; c++) {
        if (*c >= 0x20 && *c != '"' && *c != '\\') {
            o->p[o->n++] = (char)*c;
            continue;
        }
        o->p[o->n++] = '\\';
        switch (*c) {
        case '"': o->p[o->n++] = '"'; break;
        case '\\': o->p[o->n++] = '\\'; break;
        case '\n': o->p[o->n++] = 'n'; break;
        case '\r': o->p[o->n++] = 'r'; break;
        case '\t': o->p[o->n++] = 't'; break;
        default:
            LIT(o, "u00");
            o->p[o->n++] = hex[*c >> 4];
            o->p[o->n++] = hex[*c & 15];
        }
    }
    o->p[o->n++] = '"';
}

/* Worst case per document: fixed text, 9 numbers, an id, a status and an error
 * that may grow 6x when escaped. */
static size_t render_fast_max(const rg_document *items, size_t n)
{
    size_t m = 64;
    for (size_t i = 0; i < n; i++)
        m += 512 + 9 * 21 + (items[i].error ? 6 * strlen(items[i].error) : 0);
    return m;
}

static void render_fast(out *o, const rg_document *items, size_t n)
{
    LIT(o, "{\"data\":[");
    for (size_t i = 0; i < n; i++) {
        const rg_document *d = &items[i];
        bool paused = d->is_paused && d->status != RG_DOC_COMPLETED && d->status != RG_DOC_ERROR;
        if (i)
            o->p[o->n++] = ',';
        LIT(o, "{\"id\":");
        put_str(o, d->id);
        LIT(o, ",\"indexing_status\":");
        put_str(o, paused ? "paused" : rg_doc_status_name(d->status));
        LIT(o, ",\"processing_started_at\":");
        put_int_or_null(o, d->processing_started_at);
        LIT(o, ",\"parsing_completed_at\":");
        put_int_or_null(o, d->parsing_completed_at);
        LIT(o, ",\"cleaning_completed_at\":");
        put_int_or_null(o, d->cleaning_completed_at);
        LIT(o, ",\"splitting_completed_at\":");
        put_int_or_null(o, d->splitting_completed_at);
        LIT(o, ",\"completed_at\":");
        put_int_or_null(o, d->completed_at);
        LIT(o, ",\"paused_at\":");
        put_int_or_null(o, d->paused_at);
        LIT(o, ",\"error\":");
        put_str(o, d->error);
        LIT(o, ",\"stopped_at\":");
        put_int_or_null(o, d->stopped_at);
        LIT(o, ",\"completed_segments\":");
        put_int(o, d->completed_segments);
        LIT(o, ",\"total_segments\":");
        put_int(o, d->total_segments);
        o->p[o->n++] = '}';
    }
    LIT(o, "]}");
}

/* ---- main ---------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_poll --data DIR --key KEY --dataset ID --batch BATCH [--iters N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *data = NULL, *key = NULL, *dsid = NULL, *batch = NULL;
    int iters = 2000;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--data") == 0)
            data = argv[++i];
        else if (strcmp(argv[i], "--key") == 0)
            key = argv[++i];
        else if (strcmp(argv[i], "--dataset") == 0)
            dsid = argv[++i];
        else if (strcmp(argv[i], "--batch") == 0)
            batch = argv[++i];
        else if (strcmp(argv[i], "--iters") == 0)
            iters = atoi(argv[++i]);
        else
            usage();
    }
    if (!data || !key || !dsid || !batch || iters < 1)
        usage();
    rg_log_set_level(RG_LOG_WARN);
    check("ids_init", rg_ids_init());
    rg_store *s;
    check("store_open", rg_store_open(data, &s));

    double best[4] = {1e9, 1e9, 1e9, 1e9};
    size_t n = 0, bytes = 0;
    for (int round = 0; round < 3; round++) {
        double t0 = now_s();
        for (int i = 0; i < iters; i++) {
            rg_arena *a = rg_arena_new((size_t)1 << 20);
            unsigned char hash[32];
            rg_key k;
            rg_dataset ds;
            rg_api_key_hash(rg_str_c(key), hash);
            check("key_find", rg_store_key_find(s, hash, &k));
            check("dataset_get", rg_store_dataset_get(s, a, k.tenant.id, dsid, &ds));
            rg_arena_free(a);
        }
        double t1 = now_s();
        rg_key k;
        unsigned char hash[32];
        rg_api_key_hash(rg_str_c(key), hash);
        check("key_find", rg_store_key_find(s, hash, &k));
        for (int i = 0; i < iters; i++) {
            rg_arena *a = rg_arena_new((size_t)16 << 20);
            rg_document *items;
            check("batch_status",
                  rg_store_document_batch_status(s, a, k.tenant.id, dsid, batch, &items, &n));
            rg_arena_free(a);
        }
        double t2 = now_s();
        rg_arena *a = rg_arena_new((size_t)16 << 20);
        rg_document *items;
        check("batch_status",
              rg_store_document_batch_status(s, a, k.tenant.id, dsid, batch, &items, &n));
        if (n == 0) {
            fprintf(stderr, "bench_poll: batch %s has no documents\n", batch);
            return 1;
        }
        rg_buf ref;
        rg_buf_init(&ref, (size_t)64 << 20);
        render(&ref, items, n);
        bytes = ref.len;
        double t3 = now_s();
        for (int i = 0; i < iters; i++) {
            rg_buf b;
            rg_buf_init(&b, (size_t)64 << 20);
            render(&b, items, n);
            rg_buf_free(&b);
        }
        double t4 = now_s();
        for (int i = 0; i < iters; i++) {
            out o = {malloc(render_fast_max(items, n)), 0};
            render_fast(&o, items, n);
            if (i == 0 && (o.n != ref.len || memcmp(o.p, ref.p, o.n) != 0)) {
                fprintf(stderr, "bench_poll: the minimal writer differs from rg_jsonw\n");
                return 1;
            }
            free(o.p);
        }
        double t5 = now_s();
        rg_buf_free(&ref);
        rg_arena_free(a);
        double t[4] = {t1 - t0, t2 - t1, t4 - t3, t5 - t4};
        for (int j = 0; j < 4; j++)
            if (t[j] < best[j])
                best[j] = t[j];
    }
    printf("in-process cost of one poll (%zu documents, %zu bytes of JSON; best of 3 x %d, one "
           "thread):\n",
           n, bytes, iters);
    const char *names[4] = {
        "auth: key hash + key_find + dataset_get", "query: rg_store_document_batch_status",
        "render: the handler's rg_jsonw loop", "render*: minimal writer, same bytes"};
    for (int j = 0; j < 4; j++)
        printf("  %-44s %8.1f us\n", names[j], best[j] * 1e6 / iters);
    printf("  %-44s %8.1f us  (auth + query + render)\n", "sum",
           (best[0] + best[1] + best[2]) * 1e6 / iters);
    rg_store_close(s);
    return 0;
}
