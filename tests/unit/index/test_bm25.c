/*
 * test_bm25.c - BM25 scores against hand-computed values, ranking, query
 * handling (deduplication, stop words, unknown terms, CJK bigrams), and the
 * MaxScore search against the exhaustive scorer on random Zipf corpora.
 */
#include "harness.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "index/index_int.h"
#include "ingest/keywords.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* The 3-unit corpus of the hand computation (N = 3, avgdl = 3):
 *   s1 "apple banana apple"        apple 2, banana 1      dl 3
 *   s2 "banana cherry"             banana 1, cherry 1     dl 2
 *   s3 "cherry cherry cherry date" cherry 3, date 1       dl 4
 * idf(df 1) = ln(1 + 2.5/1.5) = ln 2.666667 = 0.980829
 * idf(df 2) = ln(1 + 1.5/2.5) = ln 1.6      = 0.470004
 * w = tf 2.2 / (tf + 1.2 (0.25 + 0.75 dl / 3)):
 *   s1 apple  2.2*2/(2 + 1.2)   = 1.375        s1 banana 2.2/(1 + 1.2) = 1
 *   s2 banana/cherry 2.2/(1 + 0.9) = 1.157895  s3 cherry 6.6/(3 + 1.5) = 1.466667
 *   s3 date 2.2/(1 + 1.5) = 0.88 */
static const rg_index_row corpus3[] = {
    {.segment_id = "s1", .document_id = "d1", .terms = "apple\t2\nbanana\t1\n", .terms_len = 17},
    {.segment_id = "s2", .document_id = "d1", .terms = "banana\t1\ncherry\t1\n", .terms_len = 18},
    {.segment_id = "s3", .document_id = "d2", .terms = "cherry\t3\ndate\t1\n", .terms_len = 16},
};

static bool near(double a, double b)
{
    return fabs(a - b) < 1e-6 * (fabs(b) > 1 ? fabs(b) : 1);
}

#define CHECK_NEAR(a, b)                                                                           \
    do {                                                                                           \
        double x_ = (a), y_ = (b);                                                                 \
        if (!near(x_, y_)) {                                                                       \
            char m_[200];                                                                          \
            snprintf(m_, sizeof m_, "%s ~= %s (%.9f != %.9f)", #a, #b, x_, y_);                    \
            rg_test_fail(__FILE__, __LINE__, m_);                                                  \
        }                                                                                          \
    } while (0)

static size_t search(const rg_index *ix, const char *q, size_t k, rg_hit *out)
{
    size_t n = 99;
    CHECK_EQ_INT(rg_index_search_text(ix, rg_str_c(q), k, NULL, out, &n), RG_OK);
    return n;
}

TEST(index_bm25_hand_computed)
{
    rg_index *ix;
    CHECK_EQ_INT(rg_index__build(corpus3, 3, 7, &ix), RG_OK);
    CHECK_EQ_INT(rg_index_size(ix), 3);
    CHECK_EQ_INT(ix->text.n_docs, 3);
    CHECK_NEAR(ix->text.avgdl, 3.0);
    rg_hit h[5];

    CHECK_EQ_INT(search(ix, "apple", 5, h), 1);
    CHECK_EQ_STR(h[0].segment_id, "s1");
    CHECK_EQ_STR(h[0].document_id, "d1");
    CHECK(h[0].child_id == NULL);
    CHECK_NEAR(h[0].score, 0.980829253 * 1.375); /* 1.348640 */

    CHECK_EQ_INT(search(ix, "banana cherry", 5, h), 3);
    CHECK_EQ_STR(h[0].segment_id, "s2");
    CHECK_NEAR(h[0].score, 2 * 0.470003629 * 1.157894737); /* 1.088429 */
    CHECK_EQ_STR(h[1].segment_id, "s3");
    CHECK_NEAR(h[1].score, 0.470003629 * 1.466666667); /* 0.689339 */
    CHECK_EQ_STR(h[2].segment_id, "s1");
    CHECK_NEAR(h[2].score, 0.470003629 * 1.0);
    CHECK_EQ_STR(h[2].document_id, "d1");

    CHECK_EQ_INT(search(ix, "DATE cherry", 5, h), 2);
    CHECK_EQ_STR(h[0].segment_id, "s3");
    CHECK_NEAR(h[0].score, 0.470003629 * 1.466666667 + 0.980829253 * 0.88); /* 1.552468 */
    rg_index_release(ix);
}

TEST(index_bm25_query_handling)
{
    rg_index *ix;
    CHECK_EQ_INT(rg_index__build(corpus3, 3, 1, &ix), RG_OK);
    rg_hit h[5];
    /* a repeated query term is walked once and weighs its count (Lucene's
     * summed boosts): banana x3, cherry x2, case folded */
    CHECK_EQ_INT(search(ix, "banana, Banana BANANA cherry cherry", 5, h), 3);
    CHECK_EQ_STR(h[0].segment_id, "s2");
    CHECK_NEAR(h[0].score, 5 * 0.470003629 * 1.157894737);
    CHECK_EQ_STR(h[1].segment_id, "s1"); /* 3 x 0.470004 = 1.410011: now above s3 */
    CHECK_NEAR(h[1].score, 3 * 0.470003629);
    CHECK_EQ_STR(h[2].segment_id, "s3"); /* 2 x 0.689339 = 1.378677 */
    CHECK_NEAR(h[2].score, 2 * 0.470003629 * 1.466666667);
    /* k bounds the answer, best first */
    CHECK_EQ_INT(search(ix, "banana cherry", 1, h), 1);
    CHECK_EQ_STR(h[0].segment_id, "s2");
    CHECK_EQ_INT(search(ix, "banana cherry", 0, NULL), 0);
    /* nothing that matches: unknown words, stop words, punctuation, empty */
    CHECK_EQ_INT(search(ix, "zebra", 5, h), 0);
    CHECK_EQ_INT(search(ix, "the of and", 5, h), 0);
    CHECK_EQ_INT(search(ix, "?!", 5, h), 0);
    CHECK_EQ_INT(search(ix, "", 5, h), 0);
    size_t n = 7;
    CHECK_EQ_INT(rg_index_search_text(ix, (rg_str){"\xff\xfe", 2}, 5, NULL, h, &n), RG_EINVAL);
    CHECK_EQ_INT(n, 0);
    rg_index_release(ix);
}

TEST(index_bm25_ranking_and_rows)
{
    /* tf and length: the short unit that repeats the term wins; units without
     * terms count for nothing (not in N), malformed lines are skipped, child
     * chunks carry their ids */
    static const char t3[] = "rust\t1\nmemory\t1\nsafety\t1\nsystems\t1\nlanguage\t1\n";
    const rg_index_row rows[] = {
        {.segment_id = "a", .document_id = "d", .terms = "rust\t3\n", .terms_len = 7},
        {.segment_id = "b", .document_id = "d", .terms = NULL},
        {.segment_id = "c",
         .document_id = "e",
         .child_id = "c1",
         .terms = t3,
         .terms_len = sizeof t3 - 1},
        {.segment_id = "x", .document_id = "e", .terms = "junk\nno tab\tx\n\t3\n", .terms_len = 17},
        {.segment_id = "c",
         .document_id = "e",
         .child_id = "c2",
         .terms = "go\t1\nrust\t1\n",
         .terms_len = 12},
    };
    rg_index *ix;
    CHECK_EQ_INT(rg_index__build(rows, 5, 1, &ix), RG_OK);
    CHECK_EQ_INT(rg_index_size(ix), 5);
    CHECK_EQ_INT(ix->text.n_docs, 3);
    rg_hit h[5];
    CHECK_EQ_INT(search(ix, "rust", 5, h), 3);
    CHECK_EQ_STR(h[0].segment_id, "a");
    CHECK_EQ_STR(h[1].child_id, "c2"); /* shorter than c1 */
    CHECK_EQ_STR(h[1].segment_id, "c");
    CHECK_EQ_STR(h[2].child_id, "c1");
    CHECK(h[0].score > h[1].score && h[1].score > h[2].score);
    CHECK_EQ_INT(search(ix, "rust safety", 5, h), 3);
    CHECK_EQ_STR(h[0].child_id, "c1"); /* two terms beat one */
    CHECK_EQ_INT(search(ix, "junk tab", 5, h), 0);
    rg_index_release(ix);

    /* an empty snapshot answers nothing */
    CHECK_EQ_INT(rg_index__build(NULL, 0, 1, &ix), RG_OK);
    CHECK_EQ_INT(rg_index_size(ix), 0);
    CHECK_EQ_INT(search(ix, "rust", 5, h), 0);
    rg_index_release(ix);
}

/* Rows whose terms come from the real indexing path (rg_keywords_terms). */
static rg_index *build_texts(rg_arena *a, const char *const *texts, size_t n)
{
    rg_index_row *rows = rg_arena_calloc(a, n, sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        rows[i].segment_id = rg_arena_printf(a, "s%zu", i);
        rows[i].document_id = "doc";
        rows[i].terms = rg_keywords_terms(a, rg_str_c(texts[i]), &rows[i].terms_len, NULL);
    }
    rg_index *ix = NULL;
    CHECK_EQ_INT(rg_index__build(rows, n, 1, &ix), RG_OK);
    return ix;
}

TEST(index_bm25_cjk)
{
    rg_arena *a = rg_arena_new(1 << 20);
    const char *texts[] = {
        "The weather is nice today, let us go for a walk.",
        "我们喜欢研究自然语言处理和信息检索。",
        "今天天气很好，我们去公园散步吧。",
        "東京は日本の首都です。ひらがなとカタカナ。",
        "한국어 형태소 분석은 어렵습니다.",
    };
    rg_index *ix = build_texts(a, texts, RG_ARRAY_LEN(texts));
    rg_hit h[5];
    CHECK_EQ_INT(search(ix, "语言处理", 5, h), 1); /* 语言 言处 处理 */
    CHECK_EQ_STR(h[0].segment_id, "s1");
    CHECK_EQ_INT(search(ix, "今天的天气怎么样", 5, h), 1);
    CHECK_EQ_STR(h[0].segment_id, "s2");
    CHECK(search(ix, "我们", 5, h) == 2); /* in both Chinese units */
    CHECK_EQ_INT(search(ix, "日本の首都", 5, h), 1);
    CHECK_EQ_STR(h[0].segment_id, "s3");
    CHECK_EQ_INT(search(ix, "형태소 분석", 5, h), 1);
    CHECK_EQ_STR(h[0].segment_id, "s4");
    CHECK_EQ_INT(search(ix, "Weather WALK", 5, h), 1);
    CHECK_EQ_STR(h[0].segment_id, "s0");
    rg_index_release(ix);
    rg_arena_free(a);
}

/* --- pruned == exhaustive on random corpora ----------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t x = rng_state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 2685821657736338717ull;
}

static double uniform(void)
{
    return (double)(rng() >> 11) / 9007199254740992.0;
}

/* A term drawn from the Zipf CDF (rank 0 most frequent). */
static uint32_t zipf(const double *cdf, uint32_t vocab)
{
    double x = uniform() * cdf[vocab - 1];
    uint32_t lo = 0, hi = vocab - 1;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (cdf[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

#define VOCAB 20000
#define UNITS 5000

static rg_index *random_corpus(rg_arena *a, const double *cdf, uint64_t seed)
{
    rng_state = seed;
    rg_index_row *rows = rg_arena_calloc(a, UNITS, sizeof *rows);
    uint32_t *tf = rg_xcalloc(VOCAB, sizeof *tf);
    uint32_t *seen = rg_xmalloc(200 * sizeof *seen);
    for (size_t u = 0; u < UNITS; u++) {
        size_t len = 5 + rng() % 150, n_seen = 0;
        for (size_t i = 0; i < len; i++) {
            uint32_t t = zipf(cdf, VOCAB);
            if (tf[t]++ == 0)
                seen[n_seen++] = t;
        }
        rg_buf b;
        rg_buf_init(&b, 1 << 20);
        for (size_t i = 0; i < n_seen; i++) {
            CHECK_EQ_INT(rg_buf_printf(&b, "t%u\t%u\n", seen[i], tf[seen[i]]), RG_OK);
            tf[seen[i]] = 0;
        }
        rows[u].segment_id = rg_arena_printf(a, "u%zu", u);
        rows[u].document_id = rg_arena_printf(a, "d%zu", u / 10);
        rows[u].terms = rg_arena_strndup(a, b.p, b.len);
        rows[u].terms_len = b.len;
        rg_buf_free(&b);
    }
    rg_free(tf);
    rg_free(seen);
    rg_index *ix = NULL;
    CHECK_EQ_INT(rg_index__build(rows, UNITS, 1, &ix), RG_OK);
    return ix;
}

static bool same_hits(const rg_hit *x, size_t nx, const rg_hit *y, size_t ny)
{
    if (nx != ny)
        return false;
    for (size_t i = 0; i < nx; i++)
        if (strcmp(x[i].segment_id, y[i].segment_id) != 0 || x[i].score != y[i].score)
            return false;
    return true;
}

TEST(index_bm25_pruned_equals_exhaustive)
{
    double *cdf = rg_xmalloc(VOCAB * sizeof *cdf);
    double sum = 0;
    for (uint32_t r = 0; r < VOCAB; r++)
        cdf[r] = sum += 1.0 / pow(r + 1.0, 1.05);
    static const size_t ks[] = {1, 3, 10, 50, 1000, 10000};
    rg_hit *p = rg_xmalloc(10000 * sizeof *p), *e = rg_xmalloc(10000 * sizeof *e);
    int mismatches = 0, queries = 0;
    uint64_t work_pruned = 0, work_all = 0;
    for (uint64_t corpus = 1; corpus <= 2; corpus++) {
        rg_arena *a = rg_arena_new((size_t)256 << 20);
        rg_index *ix = random_corpus(a, cdf, corpus * 7919);
        CHECK_EQ_INT(rg_index_size(ix), UNITS);
        for (int q = 0; q < 200; q++) {
            /* 1..6 terms: Zipf draws (common words) mixed with uniform ones
             * (rare words, often absent) */
            char query[256];
            size_t len = 0, nt = 1 + rng() % 6;
            for (size_t i = 0; i < nt; i++) {
                uint32_t t = rng() % 3 ? zipf(cdf, VOCAB) : (uint32_t)(rng() % VOCAB);
                len += (size_t)snprintf(query + len, sizeof query - len, "t%u ", t);
            }
            size_t k = ks[q % RG_ARRAY_LEN(ks)], np = 0, ne = 0;
            CHECK_EQ_INT(rg_index_search_text(ix, rg_str_c(query), k, NULL, p, &np), RG_OK);
            CHECK_EQ_INT(rg_index__search_text_exhaustive(ix, rg_str_c(query), k, NULL, e, &ne),
                         RG_OK);
            queries++;
            if (!same_hits(p, np, e, ne)) {
                if (mismatches++ < 3)
                    fprintf(stderr, "  pruned != exhaustive: \"%s\" k %zu (%zu vs %zu hits)\n",
                            query, k, np, ne);
            }
        }
        /* the two most common terms (in nearly every unit) with a rarer one
         * (Zipf rank 100..149: a few hundred units), k 10: once the heap holds
         * units with the rarer term, the common lists are only probed */
        rg_index__scored heap[10];
        for (uint32_t rare = 100; rare < 150; rare++) {
            char query[64];
            snprintf(query, sizeof query, "t0 t1 t%u", rare);
            rg_index__topk tp = {.e = heap, .k = 10};
            CHECK_EQ_INT(rg_index__text_search(&ix->text, rg_str_c(query), false, NULL, &tp),
                         RG_OK);
            work_pruned += tp.work;
            rg_index__topk te = {.e = heap, .k = 10};
            CHECK_EQ_INT(rg_index__text_search(&ix->text, rg_str_c(query), true, NULL, &te), RG_OK);
            work_all += te.work;
        }
        rg_index_release(ix);
        rg_arena_free(a);
    }
    CHECK_EQ_INT(queries, 400);
    CHECK_EQ_INT(mismatches, 0);
    if (work_pruned * 10 > work_all) {
        char m[128];
        snprintf(m, sizeof m, "pruning read %llu postings of %llu", (unsigned long long)work_pruned,
                 (unsigned long long)work_all);
        rg_test_fail(__FILE__, __LINE__, m);
    }
    rg_free(p);
    rg_free(e);
    rg_free(cdf);
}
