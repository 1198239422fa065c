/*
 * keywords.c - term counting with an arena hash table, TF-IDF ranking.
 *
 * Each chunk's terms are counted in a small open-addressing table; document
 * frequencies are counted in one more table over all chunks.  Scores are
 * (1 + log tf) * log((1 + N) / (1 + df)) + tiny order bias, so identical
 * inputs always give identical keyword lists.
 */
#include "ingest/keywords.h"

#include "core/buf.h"
#include "core/jsonw.h"
#include "text/tokenize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *term;
    size_t len;
    uint32_t count, first;
} term_slot;

typedef struct {
    rg_arena *a;
    term_slot *slots;
    size_t cap, used;
    uint32_t order;
} term_table;

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static void table_init(term_table *t, rg_arena *a, size_t cap)
{
    t->a = a;
    t->cap = cap;
    t->used = 0;
    t->order = 0;
    t->slots = rg_arena_calloc(a, cap, sizeof *t->slots);
}

static term_slot *table_find(term_table *t, rg_str s)
{
    size_t i = hash_bytes(s.p, s.n) & (t->cap - 1);
    while (t->slots[i].term && !(t->slots[i].len == s.n && memcmp(t->slots[i].term, s.p, s.n) == 0))
        i = (i + 1) & (t->cap - 1);
    return &t->slots[i];
}

static void table_grow(term_table *t)
{
    term_slot *old = t->slots;
    size_t old_cap = t->cap;
    table_init(t, t->a, old_cap * 2);
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].term) {
            term_slot *s = table_find(t, (rg_str){old[i].term, old[i].len});
            *s = old[i];
            t->used++;
        }
    t->order = (uint32_t)t->used;
}

static void table_add(rg_str tok, void *arg)
{
    term_table *t = arg;
    if ((t->used + 1) * 2 > t->cap)
        table_grow(t);
    term_slot *s = table_find(t, tok);
    if (!s->term) {
        s->term = rg_arena_strndup(t->a, tok.p, tok.n);
        s->len = tok.n;
        s->first = t->order++;
        t->used++;
    }
    s->count++;
}

static void count_chunk(term_table *t, rg_arena *a, rg_str chunk)
{
    table_init(t, a, 64);
    rg_tokenize(chunk, table_add, t);
}

typedef struct {
    term_slot *slot;
    double score;
} ranked;

static int by_score(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    if (a->score != b->score)
        return a->score < b->score ? 1 : -1;
    return (a->slot->first > b->slot->first) - (a->slot->first < b->slot->first);
}

void rg_keywords_extract(rg_arena *a, const rg_str *chunks, size_t n, size_t k, const char **out)
{
    term_table *per = rg_arena_calloc(a, n ? n : 1, sizeof *per);
    term_table df;
    table_init(&df, a, 1024);
    for (size_t i = 0; i < n; i++) {
        count_chunk(&per[i], a, chunks[i]);
        for (size_t j = 0; j < per[i].cap; j++)
            if (per[i].slots[j].term) {
                rg_str s = {per[i].slots[j].term, per[i].slots[j].len};
                table_add(s, &df); /* each chunk counts once */
            }
    }
    for (size_t i = 0; i < n; i++) {
        ranked *r = rg_arena_alloc(a, (per[i].used ? per[i].used : 1) * sizeof *r);
        size_t m = 0;
        for (size_t j = 0; j < per[i].cap; j++) {
            term_slot *s = &per[i].slots[j];
            if (!s->term)
                continue;
            uint32_t d = table_find(&df, (rg_str){s->term, s->len})->count;
            double idf = log((1.0 + (double)n) / (1.0 + (double)d)) + 1.0;
            r[m].slot = s;
            r[m].score = (1.0 + log((double)s->count)) * idf;
            m++;
        }
        qsort(r, m, sizeof *r, by_score);
        rg_buf b;
        rg_buf_init(&b, 1 << 16);
        rg_jsonw w;
        rg_jsonw_init(&w, &b);
        rg_jsonw_arr(&w);
        for (size_t j = 0; j < m && j < k; j++)
            rg_jsonw_str(&w, (rg_str){r[j].slot->term, r[j].slot->len});
        rg_jsonw_arr_end(&w);
        out[i] = rg_arena_strndup(a, b.p ? b.p : "[]", b.p ? b.len : 2);
        rg_buf_free(&b);
    }
}

/* Appends the decimal form of v (no printf: this runs once per term). */
static void append_u32(rg_buf *b, uint32_t v)
{
    char tmp[10], *e = tmp + sizeof tmp, *p = e;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    (void)rg_buf_append(b, p, (size_t)(e - p));
}

const char *rg_keywords_terms(rg_arena *a, rg_str chunk, size_t *len, int64_t *n_tokens)
{
    term_table t;
    count_chunk(&t, a, chunk);
    term_slot **order = rg_arena_calloc(a, t.used ? t.used : 1, sizeof *order);
    for (size_t j = 0; j < t.cap; j++)
        if (t.slots[j].term)
            order[t.slots[j].first] = &t.slots[j];
    rg_buf b;
    rg_buf_init(&b, (size_t)1 << 26);
    int64_t tokens = 0;
    for (size_t j = 0; j < t.used; j++)
        if (order[j]) {
            (void)rg_buf_append(&b, order[j]->term, order[j]->len);
            (void)rg_buf_putc(&b, '\t');
            append_u32(&b, order[j]->count);
            (void)rg_buf_putc(&b, '\n');
            tokens += order[j]->count;
        }
    if (n_tokens)
        *n_tokens = tokens;
    *len = b.len;
    const char *res = rg_arena_strndup(a, b.p ? b.p : "", b.len);
    rg_buf_free(&b);
    return res;
}
