/*
 * bench_search.c - known-item retrieval on man pages: ragd's BM25 snapshot
 * (index/) against SQLite FTS5's bm25(), same chunks, same query words.
 *
 * Input: the corpus bench/search/run renders, pages each preceded by a line
 * "\036<file name>".  For each page the NAME section's text ("ls - list
 * directory contents") becomes the query and is cut out of the page; pages
 * without one, and pages whose NAME text repeats an earlier page's (aliases),
 * are skipped.  Pages are cleaned (remove_extra_spaces) and split with Dify's
 * automatic rule by ragd's own code.  ragd indexes each chunk's
 * rg_keywords_terms, as the pipeline stores them; FTS5 indexes the chunk text
 * (unicode61 tokenizer) and is asked "w1" OR "w2" ... with ragd's query
 * tokens.  A query's reciprocal rank is 1 / the rank of the first of its
 * top 10 chunks that belongs to its page (0 if none); recall@5 counts a hit
 * in the top 5.  Latency: one query, one thread, wall clock, from query text
 * to ids (ragd: tokenize, search, ids; FTS5: bind, step every row), the
 * better of two runs (the first warms the caches; the minimum filters out
 * a busy machine's preemptions).
 * Usage: bench_search CORPUS
 */
#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"
#include "index/index_int.h"
#include "ingest/clean.h"
#include "ingest/keywords.h"
#include "ingest/split.h"
#include "text/tokenize.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOP_K  10
#define PASSES 2 /* each query runs twice; the faster run counts */

typedef struct page {
    const char *name;  /* file name */
    const char *query; /* the NAME text */
    rg_str text;       /* cleaned, without the NAME text */
    bool skip;
} page;

typedef struct engine_result {
    const char *label;
    double mrr, recall5, p50_us, p99_us, mean_us;
} engine_result;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
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
        rg_buf_free(&b);
        return NULL;
    }
    return rg_buf_take(&b, len);
}

static bool blank(const char *p, const char *end)
{
    for (; p < end; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r')
            return false;
    return true;
}

/* Finds the NAME section's text in raw; returns the query (arena, white
 * space collapsed) and the page without it, or NULL. */
static const char *cut_name(rg_arena *a, rg_str raw, rg_str *rest)
{
    const char *p = raw.p, *end = raw.p + raw.n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        rg_str line = rg_str_trim((rg_str){p, (size_t)(le - p)});
        const char *next = nl ? nl + 1 : end;
        if (rg_str_eqz(line, "NAME")) {
            const char *from = next, *to = next;
            while (to < end) { /* the indented lines up to a blank one */
                const char *n2 = memchr(to, '\n', (size_t)(end - to));
                const char *e2 = n2 ? n2 : end;
                if (blank(to, e2) || (*to != ' ' && *to != '\t'))
                    break;
                to = n2 ? n2 + 1 : end;
            }
            if (to == from)
                return NULL;
            rg_buf q;
            rg_buf_init(&q, 1 << 16);
            bool space = false;
            for (const char *c = from; c < to; c++) {
                bool ws = *c == ' ' || *c == '\t' || *c == '\n' || *c == '\r';
                if (ws)
                    space = q.len > 0;
                else {
                    if (space)
                        (void)rg_buf_putc(&q, ' ');
                    space = false;
                    (void)rg_buf_putc(&q, *c);
                }
            }
            const char *query = q.len ? rg_arena_strndup(a, q.p, q.len) : NULL;
            rg_buf_free(&q);
            size_t head = (size_t)(from - raw.p), tail = (size_t)(end - to);
            char *t = rg_arena_alloc(a, head + tail + 1);
            memcpy(t, raw.p, head);
            memcpy(t + head, to, tail);
            t[head + tail] = '\0';
            *rest = (rg_str){t, head + tail};
            return query;
        }
        p = next;
    }
    return NULL;
}

static int by_query(const void *x, const void *y)
{
    const page *a = *(page *const *)x, *b = *(page *const *)y;
    int c = strcmp(a->query, b->query);
    return c ? c : (a > b) - (a < b);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Rank (1..) of the first result of page pg, 0 if none. */
static int rank_of(const size_t *pages_of_results, size_t n, size_t pg)
{
    for (size_t i = 0; i < n; i++)
        if (pages_of_results[i] == pg)
            return (int)i + 1;
    return 0;
}

static void tally(engine_result *r, const int *ranks, double *lat, size_t nq)
{
    double rr = 0, r5 = 0, sum = 0;
    for (size_t i = 0; i < nq; i++) {
        if (ranks[i])
            rr += 1.0 / ranks[i];
        r5 += ranks[i] >= 1 && ranks[i] <= 5;
        sum += lat[i];
    }
    qsort(lat, nq, sizeof *lat, cmp_double);
    size_t i99 = (size_t)((double)nq * 0.99);
    r->mrr = rr / (double)nq;
    r->recall5 = r5 / (double)nq;
    r->p50_us = lat[nq / 2] * 1e6;
    r->p99_us = lat[i99 < nq ? i99 : nq - 1] * 1e6;
    r->mean_us = sum / (double)nq * 1e6;
}

typedef struct {
    rg_buf *b;
    size_t n;
} or_query;

static void add_or_term(rg_str tok, void *arg)
{
    or_query *q = arg;
    (void)rg_buf_printf(q->b, "%s\"%.*s\"", q->n++ ? " OR " : "", (int)tok.n, tok.p);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_search CORPUS\n");
        return 2;
    }
    size_t len;
    char *raw = read_file(argv[1], &len);
    if (!raw) {
        fprintf(stderr, "bench_search: cannot read %s\n", argv[1]);
        return 1;
    }
    rg_arena *a = rg_arena_new((size_t)4 << 30);

    /* pages */
    size_t n_pages = 0, cap = 0;
    page *pages = NULL;
    for (char *p = raw, *end = raw + len; p < end;) {
        char *rec = memchr(p, '\036', (size_t)(end - p));
        if (!rec)
            break;
        char *nl = memchr(rec, '\n', (size_t)(end - rec));
        if (!nl)
            break;
        char *next = memchr(nl, '\036', (size_t)(end - nl));
        char *stop = next ? next : end;
        if (n_pages == cap) {
            cap = cap ? cap * 2 : 1024;
            pages = rg_xrealloc(pages, cap * sizeof *pages);
        }
        page *pg = &pages[n_pages++];
        memset(pg, 0, sizeof *pg);
        pg->name = rg_arena_strndup(a, rec + 1, (size_t)(nl - rec - 1));
        rg_str body = {nl + 1, (size_t)(stop - nl - 1)};
        rg_str rest;
        if (!rg_utf8_valid(body.p, body.n) || !(pg->query = cut_name(a, body, &rest))) {
            pg->skip = true;
        } else {
            rg_buf clean;
            rg_buf_init(&clean, (size_t)1 << 30);
            const rg_clean_rule rule = RG_CLEAN_REMOVE_EXTRA_SPACES;
            if (rg_clean_text(rest, &rule, 1, &clean) != RG_OK)
                pg->skip = true;
            else
                pg->text =
                    (rg_str){rg_arena_strndup(a, clean.p ? clean.p : "", clean.len), clean.len};
            rg_buf_free(&clean);
        }
        p = stop;
    }
    /* aliases: the same NAME text as an earlier page */
    page **sorted = rg_xmalloc((n_pages ? n_pages : 1) * sizeof *sorted);
    size_t n_named = 0;
    for (size_t i = 0; i < n_pages; i++)
        if (!pages[i].skip)
            sorted[n_named++] = &pages[i];
    qsort(sorted, n_named, sizeof *sorted, by_query);
    size_t dups = 0;
    for (size_t i = 1; i < n_named; i++)
        if (strcmp(sorted[i]->query, sorted[i - 1]->query) == 0) {
            sorted[i]->skip = true;
            dups++;
        }
    rg_free(sorted);

    /* chunks */
    rg_split_rule rule = rg_split_rule_automatic();
    size_t n_chunks = 0, ccap = 0, chunk_bytes = 0, n_docs = 0;
    rg_str *chunks = NULL;
    size_t *chunk_page = NULL;
    for (size_t i = 0; i < n_pages; i++) {
        if (pages[i].skip)
            continue;
        rg_str *cs;
        size_t nc;
        if (rg_split_text(a, pages[i].text, &rule, 0, &cs, &nc) != RG_OK || nc == 0) {
            pages[i].skip = true;
            continue;
        }
        n_docs++;
        for (size_t j = 0; j < nc; j++) {
            if (n_chunks == ccap) {
                ccap = ccap ? ccap * 2 : 4096;
                chunks = rg_xrealloc(chunks, ccap * sizeof *chunks);
                chunk_page = rg_xrealloc(chunk_page, ccap * sizeof *chunk_page);
            }
            chunks[n_chunks] = cs[j];
            chunk_page[n_chunks++] = i;
            chunk_bytes += cs[j].n;
        }
    }

    /* ragd: terms as the pipeline stores them, then the snapshot */
    double t0 = now_s();
    rg_index_row *rows = rg_xcalloc(n_chunks ? n_chunks : 1, sizeof *rows);
    for (size_t c = 0; c < n_chunks; c++) {
        rows[c].segment_id = rg_arena_printf(a, "%zu", c);
        rows[c].document_id = rg_arena_printf(a, "%zu", chunk_page[c]);
        rows[c].terms = rg_keywords_terms(a, chunks[c], &rows[c].terms_len, NULL);
    }
    double t_terms = now_s() - t0;
    t0 = now_s();
    rg_index *ix;
    if (rg_index__build(rows, n_chunks, 1, &ix) != RG_OK) {
        fprintf(stderr, "bench_search: index build failed\n");
        return 1;
    }
    double t_build = now_s() - t0;

    /* FTS5 */
    sqlite3 *db;
    sqlite3_stmt *ins, *sel;
    t0 = now_s();
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sqlite3_exec(db, "CREATE VIRTUAL TABLE c USING fts5(body); BEGIN", NULL, NULL, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO c(rowid, body) VALUES (?1, ?2)", -1, &ins, NULL) !=
            SQLITE_OK) {
        fprintf(stderr, "bench_search: sqlite: %s (FTS5 missing?)\n", sqlite3_errmsg(db));
        return 1;
    }
    for (size_t c = 0; c < n_chunks; c++) {
        sqlite3_bind_int64(ins, 1, (sqlite3_int64)c + 1);
        sqlite3_bind_text(ins, 2, chunks[c].p, (int)chunks[c].n, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            fprintf(stderr, "bench_search: insert: %s\n", sqlite3_errmsg(db));
            return 1;
        }
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    /* merge the b-trees into one, as a tuned deployment would */
    if (sqlite3_exec(db, "COMMIT; INSERT INTO c(c) VALUES ('optimize')", NULL, NULL, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT rowid FROM c WHERE c MATCH ?1 ORDER BY rank LIMIT 10", -1,
                           &sel, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_search: sqlite: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    double t_fts = now_s() - t0;

    /* queries (pages with at least one query token) */
    size_t nq = 0;
    size_t *q_page = rg_xmalloc((n_pages ? n_pages : 1) * sizeof *q_page);
    const char **q_fts = rg_xmalloc((n_pages ? n_pages : 1) * sizeof *q_fts);
    for (size_t i = 0; i < n_pages; i++) {
        if (pages[i].skip)
            continue;
        rg_buf b;
        rg_buf_init(&b, 1 << 16);
        or_query oq = {&b, 0};
        rg_tokenize(rg_str_c(pages[i].query), add_or_term, &oq);
        if (oq.n) {
            q_page[nq] = i;
            q_fts[nq++] = rg_arena_strndup(a, b.p, b.len);
        }
        rg_buf_free(&b);
    }
    if (nq == 0) {
        fprintf(stderr, "bench_search: no queries\n");
        return 1;
    }

    int *ranks = rg_xcalloc(nq, sizeof *ranks), *ranks0 = rg_xcalloc(nq, sizeof *ranks0);
    double *lat = rg_xcalloc(nq, sizeof *lat);
    engine_result res[3] = {{.label = "ragd BM25 (MaxScore)"},
                            {.label = "ragd BM25 (exhaustive)"},
                            {.label = "SQLite FTS5 bm25()"}};
    size_t differ = 0;
    for (int e = 0; e < 3; e++) {
        for (size_t q = 0; q < nq; q++)
            lat[q] = 1e9;
        for (int pass = 0; pass < PASSES; pass++) {
            for (size_t q = 0; q < nq; q++) {
                size_t got[TOP_K], n = 0;
                const char *query = pages[q_page[q]].query;
                double s = now_s();
                if (e < 2) {
                    rg_hit h[TOP_K];
                    rg_rc rc = e == 0
                                   ? rg_index_search_text(ix, rg_str_c(query), TOP_K, NULL, h, &n)
                                   : rg_index__search_text_exhaustive(ix, rg_str_c(query), TOP_K,
                                                                      NULL, h, &n);
                    double t = now_s() - s;
                    if (t < lat[q])
                        lat[q] = t;
                    if (rc != RG_OK) {
                        fprintf(stderr, "bench_search: search: %s\n", rg_rc_name(rc));
                        return 1;
                    }
                    for (size_t i = 0; i < n; i++)
                        got[i] = strtoul(h[i].document_id, NULL, 10);
                } else {
                    sqlite3_bind_text(sel, 1, q_fts[q], -1, SQLITE_STATIC);
                    int rc;
                    size_t rowids[TOP_K];
                    while ((rc = sqlite3_step(sel)) == SQLITE_ROW)
                        if (n < TOP_K)
                            rowids[n++] = (size_t)sqlite3_column_int64(sel, 0);
                    sqlite3_reset(sel);
                    double t = now_s() - s;
                    if (t < lat[q])
                        lat[q] = t;
                    if (rc != SQLITE_DONE) {
                        fprintf(stderr, "bench_search: query %s: %s\n", q_fts[q],
                                sqlite3_errmsg(db));
                        return 1;
                    }
                    for (size_t i = 0; i < n; i++)
                        got[i] = chunk_page[rowids[i] - 1];
                }
                int r = rank_of(got, n, q_page[q]);
                if (pass == 1 && e == 1 && r != ranks0[q])
                    differ++;
                ranks[q] = r;
            }
        }
        if (getenv("BENCH_DEBUG"))
            for (size_t q = 0; q < nq; q++)
                fprintf(stderr, "%d\t%zu\t%d\t%.1f\t%s\t%s\n", e, q, ranks[q], lat[q] * 1e6,
                        pages[q_page[q]].name, pages[q_page[q]].query);
        tally(&res[e], ranks, lat, nq);
        if (e == 0)
            memcpy(ranks0, ranks, nq * sizeof *ranks);
    }

    size_t gcloud = 0;
    for (size_t i = 0; i < n_pages; i++)
        gcloud += !pages[i].skip && strncmp(pages[i].name, "gcloud", 6) == 0;
    printf("corpus: %zu pages rendered, %zu documents (%zu of them gcloud; %zu skipped without"
           " NAME or empty, %zu aliases), %zu chunks of %.0f bytes on average\n",
           n_pages, n_docs, gcloud, n_pages - n_docs - dups, dups, n_chunks,
           (double)chunk_bytes / (double)(n_chunks ? n_chunks : 1));
    printf("ragd:   %zu units, %zu terms, %llu postings; rg_keywords_terms %.2f s, "
           "snapshot build %.3f s\n",
           rg_index_size(ix), ix->text.n_terms, (unsigned long long)ix->text.n_post, t_terms,
           t_build);
    printf("FTS5:   in-memory table, insert and commit %.2f s\n", t_fts);
    printf("queries: %zu known items (NAME line of each document), top %d\n\n", nq, TOP_K);
    printf("%-24s %8s %9s %9s %9s %9s\n", "engine", "MRR@10", "recall@5", "p50 us", "p99 us",
           "mean us");
    for (int e = 0; e < 3; e++)
        printf("%-24s %8.4f %9.4f %9.1f %9.1f %9.1f\n", res[e].label, res[e].mrr, res[e].recall5,
               res[e].p50_us, res[e].p99_us, res[e].mean_us);
    printf("\nragd (MaxScore) / FTS5: MRR@10 x%.3f (goal >= 1), p50 x%.3f, p99 x%.3f "
           "(goal <= 0.2)\n",
           res[0].mrr / res[2].mrr, res[0].p50_us / res[2].p50_us, res[0].p99_us / res[2].p99_us);
    printf("MaxScore vs exhaustive: %zu queries ranked the known item differently (must be 0),"
           " p99 x%.3f\n",
           differ, res[0].p99_us / res[1].p99_us);

    sqlite3_finalize(sel);
    sqlite3_close(db);
    rg_index_release(ix);
    rg_free(ranks);
    rg_free(ranks0);
    rg_free(lat);
    rg_free(q_page);
    rg_free(q_fts);
    rg_free(rows);
    rg_free(chunks);
    rg_free(chunk_page);
    rg_free(pages);
    rg_arena_free(a);
    rg_free(raw);
    return differ ? 1 : 0;
}
