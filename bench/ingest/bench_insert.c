/*
 * bench_insert.c - where ingestion time goes, without HTTP: the pipeline's CPU
 * stages timed one by one, then the bulk-insert rate of the very same
 * segments into the store, then into plain SQLite.
 *
 *   bench_insert --list FILE --tmp DIR [--technique economy|high_quality] [--batch 32]
 *
 * FILE lists one document (a UTF-8 .txt) per line, in upload order.  DIR is a
 * scratch directory (created; the caller removes it).  Everything runs in one
 * thread, in this order:
 *
 *  1. prepare (timed per stage, no store): for each document, what
 *     src/ingest/pipeline.c does before and between its store calls -
 *     rg_extract_file (parsing), rg_clean_text with Dify's automatic rule,
 *     rg_split_text, the per-segment hash / ids / leading-symbol strip,
 *     rg_keywords_extract (economy), and per batch of 32 rg_keywords_terms,
 *     (which also counts the tokens) and the embedder (high_quality).  The results are kept.
 *  2. store: a fresh store in DIR/store; tenant and dataset through the store
 *     API, then per document exactly the pipeline's store sequence:
 *     document_insert (the API's create, with an adopted upload), job_claim,
 *     job_stage x3, job_segments (all segments, one transaction), then per
 *     batch job_pending + job_indexed, a last empty job_pending, job_finish.
 *     Every call is timed; "raw insert" is job_segments + job_indexed only.
 *  3. plain SQLite in DIR/plain.db, same pragmas as the store (WAL,
 *     synchronous=FULL): one INSERT per segment (id, document, position,
 *     content, keywords, terms, vector), one transaction per batch.
 *  4. the commit floor: 200 one-row transactions in that database.
 *
 * MB/s everywhere is input text (10^6 bytes of documents) per second, so
 * every row compares with the end-to-end numbers of bench/ingest/run.
 * Lines starting with "RESULT" are read by that script.
 */
#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/hash.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/str.h"
#include "embed/embed.h"
#include "ingest/clean.h"
#include "ingest/extract.h"
#include "ingest/keywords.h"
#include "ingest/process_rule.h"
#include "ingest/split.h"
#include "store/store.h"
#include "text/tokenize.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_DOCS 100000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, rg_rc rc)
{
    fprintf(stderr, "bench_insert: %s: %s\n", what, rg_rc_name(rc));
    exit(1);
}

#define CHECK(what, call)                                                                          \
    do {                                                                                           \
        rg_rc rc_ = (call);                                                                        \
        if (rc_ != RG_OK)                                                                          \
            die(what, rc_);                                                                        \
    } while (0)

/* ---- timers ---------------------------------------------------------------- */

typedef struct timer {
    const char *name;
    double s;
    long calls;
} timer;

enum {
    T_PARSE,
    T_CLEAN,
    T_SPLIT,
    T_SEGMENT,
    T_KEYWORDS,
    T_TERMS,
    T_EMBED,
    T_TOKENS,
    T_CREATE,
    T_CLAIM,
    T_STAGE,
    T_SEGMENTS,
    T_PENDING,
    T_INDEXED,
    T_FINISH,
    T_COUNT
};

static timer timers[T_COUNT] = {
    [T_PARSE] = {"parse (rg_extract_file)", 0, 0},
    [T_CLEAN] = {"clean (rg_clean_text)", 0, 0},
    [T_SPLIT] = {"split (rg_split_text)", 0, 0},
    [T_SEGMENT] = {"segment rows (sha256, uuid)", 0, 0},
    [T_KEYWORDS] = {"keywords (economy)", 0, 0},
    [T_TERMS] = {"terms (rg_keywords_terms)", 0, 0},
    [T_EMBED] = {"embed (high_quality)", 0, 0},
    [T_TOKENS] = {"vectors into rows (high_quality)", 0, 0},
    [T_CREATE] = {"document_insert (+upload)", 0, 0},
    [T_CLAIM] = {"job_claim", 0, 0},
    [T_STAGE] = {"job_stage", 0, 0},
    [T_SEGMENTS] = {"job_segments", 0, 0},
    [T_PENDING] = {"job_pending", 0, 0},
    [T_INDEXED] = {"job_indexed", 0, 0},
    [T_FINISH] = {"job_finish", 0, 0},
};

static double t_start;
static void tic(void)
{
    t_start = now_s();
}
static void toc(int t)
{
    timers[t].s += now_s() - t_start;
    timers[t].calls++;
}

/* ---- documents -------------------------------------------------------------- */

typedef struct doc {
    const char *path;
    char *text;
    size_t len;
    rg_segment *segs;
    size_t n;
    int64_t words;
    rg_segment_index *items; /* n, filled by prepare */
    size_t seg_bytes;
} doc;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_insert: cannot open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    rg_buf b;
    rg_buf_init(&b, (size_t)1 << 32);
    char chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (rg_buf_append(&b, chunk, n) != RG_OK)
            break;
    bool bad = ferror(f) || rg_buf_failed(&b);
    fclose(f);
    if (bad) {
        fprintf(stderr, "bench_insert: cannot read %s\n", path);
        exit(1);
    }
    return rg_buf_take(&b, len);
}

/* Step 1 for one document: the pipeline's CPU work, timed per stage. */
static void prepare(rg_arena *a, doc *d, const rg_process_rule *rule, const rg_embed_model *m,
                    size_t batch, const char *created_by)
{
    char why[512] = "";
    rg_buf raw, clean;
    rg_buf_init(&raw, RG_EXTRACT_MAX_TEXT);
    tic();
    rg_rc rc = rg_extract_file(d->path, RG_DOCTYPE_TXT, &raw, why, sizeof why);
    toc(T_PARSE);
    if (rc != RG_OK) {
        fprintf(stderr, "bench_insert: extract %s: %s\n", d->path, why);
        exit(1);
    }
    rg_buf_init(&clean, RG_EXTRACT_MAX_TEXT);
    tic();
    rc = rg_clean_text(rg_buf_str(&raw), rule->clean, rule->n_clean, &clean);
    toc(T_CLEAN);
    CHECK("clean", rc);
    rg_buf_free(&raw);

    rg_str *chunks;
    size_t n;
    tic();
    rc = rg_split_text(a, rg_buf_str(&clean), &rule->segmentation, 0, &chunks, &n);
    toc(T_SPLIT);
    CHECK("split", rc);

    tic();
    d->segs = rg_arena_calloc(a, n ? n : 1, sizeof *d->segs);
    for (size_t i = 0; i < n; i++) {
        char hash[65];
        rg_sha256_hex2(chunks[i], RG_STR("None"), hash);
        rg_str c = rg_clean_leading_symbols(chunks[i]);
        if (c.n == 0)
            continue;
        rg_segment *g = &d->segs[d->n++];
        rg_uuid4(g->id);
        rg_uuid4(g->index_node_id);
        memcpy(g->index_node_hash, hash, sizeof hash);
        g->position = (int64_t)d->n;
        g->content = rg_arena_strz(a, c);
        g->word_count = (int64_t)rg_utf8_len(c.p, c.n);
        g->status = "waiting";
        g->created_by = created_by;
        g->created_at = g->updated_at = rg_now_s();
        g->indexing_at = g->completed_at = g->stopped_at = g->disabled_at = -1;
        d->words += g->word_count;
        d->seg_bytes += c.n;
    }
    toc(T_SEGMENT);
    rg_buf_free(&clean);

    if (!m) {
        rg_str *texts = rg_arena_alloc(a, (d->n ? d->n : 1) * sizeof *texts);
        const char **kw = rg_arena_alloc(a, (d->n ? d->n : 1) * sizeof *kw);
        for (size_t i = 0; i < d->n; i++)
            texts[i] = rg_str_c(d->segs[i].content);
        tic();
        rg_keywords_extract(a, texts, d->n, RG_KEYWORDS_PER_CHUNK, kw);
        toc(T_KEYWORDS);
        for (size_t i = 0; i < d->n; i++)
            d->segs[i].keywords = kw[i];
    }

    /* what index_batch computes, batch by batch */
    d->items = rg_arena_calloc(a, d->n ? d->n : 1, sizeof *d->items);
    for (size_t off = 0; off < d->n; off += batch) {
        size_t k = d->n - off < batch ? d->n - off : batch;
        float *vecs = NULL;
        if (m) {
            rg_str *texts = rg_arena_alloc(a, k * sizeof *texts);
            for (size_t i = 0; i < k; i++)
                texts[i] = rg_str_c(d->segs[off + i].content);
            vecs = rg_arena_alloc(a, k * (size_t)m->dims * sizeof *vecs);
            tic();
            rc = m->embed(m, texts, k, vecs, NULL);
            toc(T_EMBED);
            CHECK("embed", rc);
        }
        tic();
        for (size_t i = 0; i < k; i++) {
            rg_segment_index *it = &d->items[off + i];
            it->segment_id = d->segs[off + i].id;
            int64_t tokens = 0; /* counted in the same pass, as the pipeline does */
            it->terms =
                rg_keywords_terms(a, rg_str_c(d->segs[off + i].content), &it->terms_len, &tokens);
            it->keywords = d->segs[off + i].keywords;
            it->tokens = m ? tokens : 0;
        }
        toc(T_TERMS);
        if (m) {
            tic();
            for (size_t i = 0; i < k; i++) {
                rg_segment_index *it = &d->items[off + i];
                it->vector = vecs + i * (size_t)m->dims;
                it->dims = m->dims;
            }
            toc(T_TOKENS);
        }
    }
}

/* ---- step 2: the store ---------------------------------------------------------- */

/* The API's create-by-text: the text as an adopted upload, then document_insert. */
static void create_document(rg_store *s, const rg_tenant *t, const rg_dataset *ds,
                            const char *technique, const char *process_rule, const doc *src,
                            rg_document *d, const rg_embed_model *m)
{
    memset(d, 0, sizeof *d);
    rg_uuid4(d->id);
    memcpy(d->tenant_id, t->id, sizeof d->tenant_id);
    memcpy(d->dataset_id, ds->id, sizeof d->dataset_id);
    rg_batch_id(d->batch);
    d->name = "bench";
    d->data_source_type = "upload_file";
    d->created_from = "api";
    d->created_by = t->owner_id;
    d->created_at = d->updated_at = rg_now_s();
    d->doc_form = "text_model";
    d->doc_language = "English";
    d->indexing_technique = technique;
    if (m) {
        d->embedding_model = m->name;
        d->embedding_model_provider = m->provider;
    }
    d->process_rule = process_rule;
    d->status = RG_DOC_WAITING;
    d->enabled = true;
    rg_uuid4(d->upload.id);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.text", rg_store_spool_dir(s), d->upload.id);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, src->text, src->len) != (ssize_t)src->len || fsync(fd) != 0 ||
        close(fd) != 0) {
        fprintf(stderr, "bench_insert: spool %s: %s\n", path, strerror(errno));
        exit(1);
    }
    CHECK("upload_adopt", rg_store_upload_adopt(s, d->upload.id, path));
    d->upload.name = "bench.txt";
    d->upload.size = (int64_t)src->len;
    d->upload.extension = "txt";
    d->upload.mime_type = "text/plain";
    d->upload.created_by = t->owner_id;
    d->upload.created_at_us = rg_now_us();
    CHECK("document_insert", rg_store_document_insert(s, d));
}

static void run_store(const char *dir, doc *docs, size_t nd, const char *technique,
                      const char *process_rule, const rg_embed_model *m, size_t batch)
{
    rg_store *s;
    CHECK("store_open", rg_store_open(dir, &s));
    rg_tenant t;
    CHECK("tenant_ensure", rg_store_tenant_ensure(s, "bench", &t));
    rg_dataset ds = {0};
    rg_uuid4(ds.id);
    memcpy(ds.tenant_id, t.id, sizeof ds.tenant_id);
    ds.name = "bench-insert";
    ds.description = "";
    ds.provider = "vendor";
    ds.permission = "only_me";
    ds.indexing_technique = technique;
    ds.created_by = ds.updated_by = t.owner_id;
    ds.created_at = ds.updated_at = rg_now_s();
    ds.enable_api = true;
    if (m) {
        ds.embedding_model = m->name;
        ds.embedding_model_provider = m->provider;
    }
    CHECK("dataset_insert", rg_store_dataset_insert(s, &ds));

    rg_arena *a = rg_arena_new((size_t)1 << 30);
    for (size_t i = 0; i < nd; i++) {
        doc *src = &docs[i];
        rg_document d;
        rg_job job;
        tic();
        create_document(s, &t, &ds, technique, process_rule, src, &d, m);
        toc(T_CREATE);
        tic();
        CHECK("job_claim", rg_store_job_claim(s, &job));
        toc(T_CLAIM);
        for (size_t k = 0; k < src->n; k++) {
            memcpy(src->segs[k].document_id, d.id, sizeof d.id);
            memcpy(src->segs[k].dataset_id, d.dataset_id, sizeof d.dataset_id);
        }
        for (rg_doc_status st = RG_DOC_PARSING; st <= RG_DOC_SPLITTING; st++) {
            tic();
            CHECK("job_stage", rg_store_job_stage(s, &job, st));
            toc(T_STAGE);
        }
        tic();
        CHECK("job_segments",
              rg_store_job_segments(s, &job, src->segs, src->n, NULL, 0, src->words));
        toc(T_SEGMENTS);
        size_t done = 0;
        for (;;) {
            rg_segment *pend;
            size_t np;
            tic();
            CHECK("job_pending", rg_store_job_pending(s, a, &job, batch, &pend, &np));
            toc(T_PENDING);
            if (np == 0)
                break;
            /* pending returns the same segments, in order, that prepare indexed */
            if (strcmp(pend[0].id, src->items[done].segment_id) != 0) {
                fprintf(stderr, "bench_insert: pending segments out of order\n");
                exit(1);
            }
            tic();
            CHECK("job_indexed", rg_store_job_indexed(s, &job, src->items + done, np));
            toc(T_INDEXED);
            done += np;
        }
        tic();
        CHECK("job_finish", rg_store_job_finish(s, &job, false));
        toc(T_FINISH);
        rg_document got;
        CHECK("document_get", rg_store_document_get(s, a, t.id, ds.id, d.id, &got));
        if (got.status != RG_DOC_COMPLETED || got.completed_segments != (int64_t)src->n) {
            fprintf(stderr, "bench_insert: document %zu ended %s with %lld/%zu segments\n", i,
                    rg_doc_status_name(got.status), (long long)got.completed_segments, src->n);
            exit(1);
        }
    }
    const char *why = NULL;
    CHECK("store_check", rg_store_check(s, a, &why));
    rg_arena_free(a);
    rg_store_close(s);
}

/* ---- step 3: plain SQLite --------------------------------------------------------- */

static void sql_ok(sqlite3 *db, int r, const char *what)
{
    if (r != SQLITE_OK && r != SQLITE_DONE && r != SQLITE_ROW) {
        fprintf(stderr, "bench_insert: sqlite %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static void exec(sqlite3 *db, const char *sql)
{
    sql_ok(db, sqlite3_exec(db, sql, NULL, NULL, NULL), sql);
}

static double run_plain(const char *path, const doc *docs, size_t nd, size_t batch,
                        double *commit_ms)
{
    sqlite3 *db;
    sql_ok(NULL, sqlite3_open(path, &db), "open");
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, "PRAGMA synchronous=FULL");
    exec(db, "CREATE TABLE segments (id TEXT PRIMARY KEY, document_id TEXT NOT NULL,"
             " position INTEGER NOT NULL, content TEXT NOT NULL, keywords TEXT, terms BLOB,"
             " vector BLOB);"
             "CREATE INDEX segments_document ON segments (document_id, position);"
             "CREATE TABLE one (x INTEGER)");
    sqlite3_stmt *ins, *begin, *commit;
    sql_ok(db,
           sqlite3_prepare_v2(db, "INSERT INTO segments VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1,
                              &ins, NULL),
           "prepare");
    sql_ok(db, sqlite3_prepare_v2(db, "BEGIN", -1, &begin, NULL), "prepare");
    sql_ok(db, sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL), "prepare");
    double t0 = now_s();
    for (size_t i = 0; i < nd; i++) {
        const doc *d = &docs[i];
        char doc_id[RG_UUID_LEN + 1];
        rg_uuid4(doc_id);
        for (size_t off = 0; off < d->n; off += batch) {
            size_t k = d->n - off < batch ? d->n - off : batch;
            sql_ok(db, sqlite3_step(begin), "begin");
            sqlite3_reset(begin);
            for (size_t j = off; j < off + k; j++) {
                const rg_segment *g = &d->segs[j];
                const rg_segment_index *it = &d->items[j];
                sqlite3_bind_text(ins, 1, g->id, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 2, doc_id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(ins, 3, g->position);
                sqlite3_bind_text(ins, 4, g->content, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 5, g->keywords, -1, SQLITE_STATIC);
                sqlite3_bind_blob(ins, 6, it->terms, (int)it->terms_len, SQLITE_STATIC);
                if (it->vector)
                    sqlite3_bind_blob(ins, 7, it->vector, it->dims * (int)sizeof(float),
                                      SQLITE_STATIC);
                else
                    sqlite3_bind_null(ins, 7);
                sql_ok(db, sqlite3_step(ins), "insert");
                sqlite3_reset(ins);
            }
            sql_ok(db, sqlite3_step(commit), "commit");
            sqlite3_reset(commit);
        }
    }
    double secs = now_s() - t0;

    sqlite3_stmt *one;
    sql_ok(db, sqlite3_prepare_v2(db, "INSERT INTO one VALUES (1)", -1, &one, NULL), "prepare");
    enum { COMMITS = 200 };
    double c0 = now_s();
    for (int i = 0; i < COMMITS; i++) {
        sql_ok(db, sqlite3_step(begin), "begin");
        sqlite3_reset(begin);
        sql_ok(db, sqlite3_step(one), "insert");
        sqlite3_reset(one);
        sql_ok(db, sqlite3_step(commit), "commit");
        sqlite3_reset(commit);
    }
    *commit_ms = (now_s() - c0) * 1000.0 / COMMITS;
    sqlite3_finalize(ins);
    sqlite3_finalize(one);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    return secs;
}

/* ---- main ---------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: bench_insert --list FILE --tmp DIR [--technique economy|high_quality]"
                    " [--batch N]\n");
    exit(2);
}

static void result(const char *name, size_t segs, size_t bytes, double secs)
{
    printf("RESULT %-12s segments %zu  seconds %.3f  seg_per_s %.0f  MB_per_s %.2f\n", name, segs,
           secs, (double)segs / secs, (double)bytes / 1e6 / secs);
}

int main(int argc, char **argv)
{
    const char *list = NULL, *tmp = NULL, *technique = "economy";
    size_t batch = 32;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--list") == 0)
            list = argv[++i];
        else if (strcmp(argv[i], "--tmp") == 0)
            tmp = argv[++i];
        else if (strcmp(argv[i], "--technique") == 0)
            technique = argv[++i];
        else if (strcmp(argv[i], "--batch") == 0)
            batch = (size_t)atoi(argv[++i]);
        else
            usage();
    }
    if (!list || !tmp || batch < 1 ||
        (strcmp(technique, "economy") != 0 && strcmp(technique, "high_quality") != 0))
        usage();
    rg_log_set_level(RG_LOG_WARN);
    CHECK("ids_init", rg_ids_init());
    const rg_embed_model *m = strcmp(technique, "economy") == 0 ? NULL : rg_embed_default();
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "bench_insert: mkdir %s: %s\n", tmp, strerror(errno));
        return 1;
    }

    /* the documents */
    size_t list_len;
    char *names = slurp(list, &list_len);
    doc *docs = rg_xcalloc(MAX_DOCS, sizeof *docs);
    size_t nd = 0, bytes = 0;
    for (char *line = strtok(names, "\n"); line && nd < MAX_DOCS; line = strtok(NULL, "\n")) {
        docs[nd].path = line;
        docs[nd].text = slurp(line, &docs[nd].len);
        bytes += docs[nd].len;
        nd++;
    }
    if (nd == 0) {
        fprintf(stderr, "bench_insert: %s lists no documents\n", list);
        return 1;
    }

    /* Dify's automatic rule, stored and loaded as the API and pipeline do */
    rg_arena *a = rg_arena_new((size_t)16 << 30);
    json_t *jr = json_pack("{s:s}", "mode", "automatic");
    const char *stored;
    rg_process_rule rule;
    char why[256];
    if (rg_process_rule_check(a, jr, &stored, why, sizeof why) != RG_OK ||
        rg_process_rule_load(a, stored, &rule, why, sizeof why) != RG_OK) {
        fprintf(stderr, "bench_insert: process rule: %s\n", why);
        return 1;
    }
    json_decref(jr);

    /* 1. prepare */
    size_t segs = 0, seg_bytes = 0;
    double p0 = now_s();
    for (size_t i = 0; i < nd; i++) {
        prepare(a, &docs[i], &rule, m, batch, "bench");
        segs += docs[i].n;
        seg_bytes += docs[i].seg_bytes;
    }
    double prep_s = now_s() - p0;
    printf("input: %zu documents, %.2f MB, technique %s, batch %zu\n", nd, (double)bytes / 1e6,
           technique, batch);
    printf("segments: %zu (content %.2f MB, mean %.0f bytes)\n", segs, (double)seg_bytes / 1e6,
           (double)seg_bytes / (double)segs);
    printf("\n-- CPU stages of the pipeline, one thread, no store (MB/s of input)\n");
    for (int t = T_PARSE; t <= T_TOKENS; t++)
        if (timers[t].calls)
            printf("  %-30s %8.3f s  %9.1f MB/s\n", timers[t].name, timers[t].s,
                   (double)bytes / 1e6 / timers[t].s);
    printf("  %-30s %8.3f s  %9.1f MB/s\n", "all CPU stages", prep_s, (double)bytes / 1e6 / prep_s);
    result("cpu_stages", segs, bytes, prep_s);

    /* 2. the store */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/store", tmp);
    double s0 = now_s();
    run_store(dir, docs, nd, technique, stored, m, batch);
    double store_s = now_s() - s0;
    printf("\n-- store calls, one thread, fresh store in %s (synchronous=FULL, WAL)\n", dir);
    double sum = 0;
    for (int t = T_CREATE; t < T_COUNT; t++) {
        sum += timers[t].s;
        printf("  %-30s %7ld calls %8.3f s  %8.3f ms/call\n", timers[t].name, timers[t].calls,
               timers[t].s, timers[t].s * 1000.0 / (double)timers[t].calls);
    }
    printf("  %-30s %7s       %8.3f s  (wall incl. checks %.3f s)\n", "all store calls", "", sum,
           store_s);
    double raw = timers[T_SEGMENTS].s + timers[T_INDEXED].s;
    result("store_raw", segs, bytes, raw);                      /* job_segments + job_indexed */
    result("store_seq", segs, bytes, sum - timers[T_CREATE].s); /* everything a worker calls */
    result("store_all", segs, bytes, sum);                      /* + the API's create */

    /* 3. plain SQLite */
    char path[1100];
    snprintf(path, sizeof path, "%s/plain.db", tmp);
    double commit_ms;
    double plain_s = run_plain(path, docs, nd, batch, &commit_ms);
    printf("\n-- plain SQLite: one INSERT per segment, one transaction per %zu, WAL, "
           "synchronous=FULL\n",
           batch);
    result("sqlite_plain", segs, bytes, plain_s);
    printf("RESULT commit_floor ms_per_commit %.3f  (one-row transactions, same database)\n",
           commit_ms);

    for (size_t i = 0; i < nd; i++)
        rg_free(docs[i].text);
    rg_free(docs);
    rg_free(names);
    rg_arena_free(a);
    return 0;
}
