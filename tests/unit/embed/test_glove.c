/*
 * test_glove.c - the GloVe table reader and the SIF sentence embedder.
 *
 * Tiny tables are written byte by byte in the layout tools/glove-convert
 * produces (a handful of words with known vectors, f32 and f16), so lookup,
 * OOV, empty text, the SIF weights, common-component removal, normalisation
 * and the refusal of truncated or hostile files are checked exactly.  When
 * build/models/glove-100d.bin exists (scripts/fetch-glove), a paraphrase with
 * no shared words is checked on the real table; otherwise that test prints a
 * note and passes.
 */
#include "harness.h"
#include "core/alloc.h"
#include "embed/glove.h"
#include "embed/registry.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

enum { T_DIMS = 4, T_WORDS = 6 };

/* Frequency order: the table's id of each word is its index here. */
static const char *const t_words[T_WORDS] = {"the", "cat", "dog", "e-mail", "john", "car"};
static const float t_vecs[T_WORDS][T_DIMS] = {
    {1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 1}, {0.5f, 0.5f, 0, 0}, {0, 0.25f, 0, 0}, {0, 0, 2, 0},
};

typedef struct bytes {
    unsigned char *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = rg_xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put32(bytes *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put(b, x, 4);
}

static void put64(bytes *b, uint64_t v)
{
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}

static void pad8(bytes *b)
{
    while (b->n % 8)
        put(b, "", 1);
}

static void set64(bytes *b, size_t at, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b->p[at + i] = (unsigned char)(v >> 8 * i);
}

/* float -> IEEE half for the values of this test (exact: small dyadics). */
static uint16_t to_f16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if (!(u & 0x7FFFFFFF))
        return (uint16_t)(u >> 16);
    return (uint16_t)((u >> 16 & 0x8000) | (((u >> 23 & 0xFF) - 112) << 10) | (u >> 13 & 0x3FF));
}

static int cmp_ids(const void *a, const void *b)
{
    const char *x = t_words[*(const uint32_t *)a], *y = t_words[*(const uint32_t *)b];
    return strcmp(x, y); /* no word is a prefix of another with a NUL: strcmp == memcmp order */
}

/* The table of t_words/t_vecs with common component pc, dtype 1 (f16) or 2. */
static bytes build(uint32_t dtype, const float pc[T_DIMS])
{
    bytes b = {0};
    put(&b, "RGGLOVE1", 8);
    put32(&b, 1), put32(&b, T_DIMS), put32(&b, T_WORDS), put32(&b, dtype);
    for (int i = 0; i < 7; i++)
        put64(&b, 0);
    size_t s_off = b.n, s_len = 0;
    for (int i = 0; i < T_WORDS; i++)
        put(&b, t_words[i], strlen(t_words[i])), s_len += strlen(t_words[i]);
    pad8(&b);
    size_t o_off = b.n;
    uint32_t o = 0;
    for (int i = 0; i < T_WORDS; i++)
        put32(&b, o), o += (uint32_t)strlen(t_words[i]);
    put32(&b, o);
    pad8(&b);
    size_t x_off = b.n;
    uint32_t ids[T_WORDS];
    for (uint32_t i = 0; i < T_WORDS; i++)
        ids[i] = i;
    qsort(ids, T_WORDS, sizeof ids[0], cmp_ids);
    for (int i = 0; i < T_WORDS; i++)
        put32(&b, ids[i]);
    pad8(&b);
    size_t c_off = b.n;
    for (int d = 0; d < T_DIMS; d++) {
        uint32_t u;
        memcpy(&u, &pc[d], 4);
        put32(&b, u);
    }
    pad8(&b);
    size_t v_off = b.n;
    for (int i = 0; i < T_WORDS; i++)
        for (int d = 0; d < T_DIMS; d++) {
            if (dtype == 1) {
                uint16_t h = to_f16(t_vecs[i][d]);
                unsigned char x[2] = {(unsigned char)h, (unsigned char)(h >> 8)};
                put(&b, x, 2);
            } else {
                uint32_t u;
                memcpy(&u, &t_vecs[i][d], 4);
                put32(&b, u);
            }
        }
    set64(&b, 24, s_off), set64(&b, 32, s_len), set64(&b, 40, o_off), set64(&b, 48, x_off);
    set64(&b, 56, c_off), set64(&b, 64, v_off), set64(&b, 72, b.n);
    return b;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(fwrite(p, 1, n, f) == n);
    fclose(f);
}

/* Opens the bytes of b as a table (through a temporary file). */
static rg_rc open_bytes(const void *p, size_t n, rg_glove **g, char *err, size_t errlen)
{
    char path[] = "/tmp/ragd-glove-test-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return RG_EIO;
    close(fd);
    write_file(path, p, n);
    rg_rc rc = rg_glove_open(path, g, err, errlen);
    unlink(path); /* the mapping outlives the name */
    return rc;
}

static const float no_pc[T_DIMS] = {0, 0, 0, 0};

static void embed1(const rg_glove *g, const char *text, float *out)
{
    const rg_embed_model *m = rg_glove_model(g);
    rg_str t = rg_str_c(text);
    CHECK(m->embed(m, &t, 1, out, NULL) == RG_OK);
}

static double norm(const float *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    return sqrt(s);
}

static bool near(double a, double b)
{
    return fabs(a - b) < 1e-5;
}

/* The SIF weight of the word of rank r in a table of T_WORDS words. */
static double sif(int r)
{
    double h = log((double)T_WORDS) + 0.5772156649015329;
    return 1e-3 / (1e-3 + 1 / ((r + 1) * h));
}

TEST(glove_lookup_and_model)
{
    for (uint32_t dtype = 1; dtype <= 2; dtype++) {
        bytes b = build(dtype, no_pc);
        rg_glove *g = NULL;
        char err[256] = "";
        CHECK(open_bytes(b.p, b.n, &g, err, sizeof err) == RG_OK);
        rg_free(b.p);
        if (!g)
            continue;
        for (int i = 0; i < T_WORDS; i++)
            CHECK_EQ_INT(rg_glove_lookup(g, t_words[i], strlen(t_words[i])), i);
        CHECK_EQ_INT(rg_glove_lookup(g, "zebra", 5), -1);
        CHECK_EQ_INT(rg_glove_lookup(g, "ca", 2), -1);
        CHECK_EQ_INT(rg_glove_lookup(g, "cats", 4), -1);
        CHECK_EQ_INT(rg_glove_lookup(g, "", 0), -1);
        const rg_embed_model *m = rg_glove_model(g);
        CHECK_EQ_STR(m->provider, "ragd");
        CHECK_EQ_STR(m->name, "ragd-glove-4d");
        CHECK_EQ_INT(m->dims, T_DIMS);
        float v[T_DIMS];
        embed1(g, "cat", v); /* one word: its own direction */
        CHECK(near(v[0], 0) && near(v[1], 1) && near(v[2], 0) && near(v[3], 0));
        embed1(g, "  CAT!!", v); /* case and punctuation do not matter */
        CHECK(near(v[1], 1));
        embed1(g, "john", v); /* normalised: 0.25 becomes 1 */
        CHECK(near(v[1], 1) && near(norm(v, T_DIMS), 1));
        rg_glove_close(g);
    }
}

TEST(glove_empty_oov_numbers_punctuation)
{
    bytes b = build(2, no_pc);
    rg_glove *g = NULL;
    char err[256];
    CHECK(open_bytes(b.p, b.n, &g, err, sizeof err) == RG_OK);
    rg_free(b.p);
    if (!g)
        return;
    const char *zero[] = {"", "zebra quagga", "1990 42 3.14", "!!! ... ---", "\xff\xfe"};
    for (size_t i = 0; i < RG_ARRAY_LEN(zero); i++) {
        float v[T_DIMS] = {9, 9, 9, 9};
        embed1(g, zero[i], v);
        CHECK(norm(v, T_DIMS) == 0);
    }
    float a[T_DIMS], c[T_DIMS];
    embed1(g, "cat", a);
    embed1(g, "zebra, cat 1990!", c); /* OOV and numbers skipped */
    CHECK(memcmp(a, c, sizeof a) == 0);
    embed1(g, "e-mail", a); /* a joined word of the table */
    CHECK(near(a[0], sqrt(0.5)) && near(a[1], sqrt(0.5)));
    embed1(g, "john's", a); /* clitic dropped */
    embed1(g, "john", c);
    CHECK(memcmp(a, c, sizeof a) == 0);
    embed1(g, "John\xE2\x80\x99s", a); /* U+2019 as an apostrophe */
    CHECK(memcmp(a, c, sizeof a) == 0);
    embed1(g, "cat-dog", a); /* not in the table: its parts */
    embed1(g, "cat dog", c);
    CHECK(memcmp(a, c, sizeof a) == 0);
    /* an empty batch, and a NULL text with bytes, are handled */
    const rg_embed_model *m = rg_glove_model(g);
    CHECK(m->embed(m, NULL, 0, NULL, NULL) == RG_OK);
    rg_str bad = {NULL, 3};
    CHECK(m->embed(m, &bad, 1, a, NULL) == RG_EINVAL);
    rg_glove_close(g);
}

TEST(glove_sif_weights_and_common_component)
{
    bytes b = build(1, no_pc);
    rg_glove *g = NULL;
    char err[256];
    CHECK(open_bytes(b.p, b.n, &g, err, sizeof err) == RG_OK);
    rg_free(b.p);
    if (!g)
        return;
    float v[T_DIMS];
    embed1(g, "the cat", v); /* orthogonal words: the ratio is the weights' ratio */
    CHECK(fabs(v[0] / v[1] - sif(0) / sif(1)) < 1e-4);
    CHECK(v[0] < v[1]); /* the more frequent word weighs less */
    CHECK(near(norm(v, T_DIMS), 1));
    embed1(g, "cat cat the", v); /* repeats count */
    CHECK(fabs(v[0] / v[1] - sif(0) / (2 * sif(1))) < 1e-4);
    rg_glove_close(g);

    const float pc[T_DIMS] = {0, 0, 0, 1}; /* removing it leaves dog = (0, 0, 1, 0) */
    b = build(1, pc);
    CHECK(open_bytes(b.p, b.n, &g, err, sizeof err) == RG_OK);
    rg_free(b.p);
    if (!g)
        return;
    embed1(g, "dog", v);
    CHECK(near(v[2], 1) && near(v[3], 0));
    rg_glove_close(g);
}

/* Opening must fail with a message, never crash or read out of bounds. */
static void refused(const bytes *b, const char *what)
{
    rg_glove *g = (rg_glove *)1;
    char err[256] = "";
    rg_rc rc = open_bytes(b->p, b->n, &g, err, sizeof err);
    if (rc == RG_OK || g != NULL || !*err) {
        char m[128];
        snprintf(m, sizeof m, "hostile table accepted: %s", what);
        rg_test_fail(__FILE__, __LINE__, m);
    }
    if (rc == RG_OK)
        rg_glove_close(g);
}

TEST(glove_refuses_truncated_and_hostile_files)
{
    bytes good = build(1, no_pc);
    for (size_t n = 0; n < good.n; n += n < 100 ? 1 : 7) {
        bytes t = {good.p, n, n};
        refused(&t, "truncated");
    }
    bytes b = {rg_xmalloc(good.n), good.n, good.n};
    struct {
        size_t at;
        unsigned char byte;
        const char *what;
    } pokes[] = {
        {0, 'X', "magic"},         {8, 2, "version"},
        {12, 4, "dims 0"},         {15, 0x7F, "dims huge"},
        {19, 0x7F, "count huge"},  {20, 9, "dtype"},
        {31, 0x7F, "strings off"}, {39, 0x7F, "strings len"},
        {47, 0x10, "offsets off"}, {55, 0x10, "sorted off"},
        {63, 0x10, "pc off"},      {71, 0x10, "vectors off"},
        {72, 0x01, "file size"},   {41, 0x01, "unaligned offsets"},
    };
    for (size_t i = 0; i < RG_ARRAY_LEN(pokes); i++) {
        memcpy(b.p, good.p, good.n);
        b.p[pokes[i].at] ^= pokes[i].byte;
        refused(&b, pokes[i].what);
    }
    /* a word offset past the strings, and a sorted index out of order */
    size_t o_off = good.p[40] | (size_t)good.p[41] << 8,
           x_off = good.p[48] | (size_t)good.p[49] << 8;
    memcpy(b.p, good.p, good.n);
    b.p[o_off + 4 * 3] = 0xFF;
    refused(&b, "word offset");
    memcpy(b.p, good.p, good.n);
    unsigned char tmp[4];
    memcpy(tmp, b.p + x_off, 4), memcpy(b.p + x_off, b.p + x_off + 4, 4),
        memcpy(b.p + x_off + 4, tmp, 4);
    refused(&b, "sorted order");
    memcpy(b.p, good.p, good.n);
    b.p[x_off] = 0xEE;
    refused(&b, "sorted id");
    rg_free(b.p);
    rg_free(good.p);
    rg_glove *g = (rg_glove *)1;
    char err[256];
    CHECK(rg_glove_open("/nonexistent/glove.bin", &g, err, sizeof err) == RG_EIO && !g);
    CHECK(rg_glove_open("/tmp", &g, err, sizeof err) == RG_EIO && !g);
}

TEST(glove_default_model_switch)
{
    CHECK(rg_embed_default() != NULL);
    const rg_embed_model *before = rg_embed_default();
    bytes b = build(2, no_pc);
    rg_glove *g = NULL;
    char err[256];
    CHECK(open_bytes(b.p, b.n, &g, err, sizeof err) == RG_OK);
    rg_free(b.p);
    if (!g)
        return;
    rg_embed_set_default(rg_glove_model(g));
    CHECK(rg_embed_default() == rg_glove_model(g));
    rg_embed_set_default(NULL); /* back to the hash model */
    CHECK(rg_embed_default() == before);
    rg_glove_close(g);
}

static double cosine(const float *a, const float *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s; /* rows are unit length */
}

TEST(glove_real_table_paraphrase)
{
    const char *path = "build/models/glove-100d.bin";
    if (access(path, F_OK) != 0) {
        printf("note: %s absent (scripts/fetch-glove); GloVe paraphrase check skipped\n", path);
        return;
    }
    rg_glove *g = NULL;
    char err[256] = "";
    CHECK(rg_glove_open(path, &g, err, sizeof err) == RG_OK);
    if (!g) {
        printf("glove: %s: %s\n", path, err);
        return;
    }
    const rg_embed_model *m = rg_glove_model(g);
    CHECK_EQ_STR(m->name, "ragd-glove-100d");
    CHECK(rg_glove_lookup(g, "the", 3) == 0);
    rg_str t[4] = {rg_str_c("car requires replacement wheels"),
                   rg_str_c("The automobile needs new tires"),
                   rg_str_c("The stock market fell sharply on inflation fears"),
                   rg_str_c("She baked a chocolate cake for the birthday party")};
    float *v = rg_xcalloc(4 * 100, sizeof(float));
    CHECK(m->embed(m, t, 4, v, NULL) == RG_OK);
    double same = cosine(v, v + 100, 100), other1 = cosine(v, v + 200, 100),
           other2 = cosine(v, v + 300, 100);
    CHECK(same > other1 && same > other2);
    CHECK(near(norm(v, 100), 1));
    if (getenv("RAGD_TEST_LOG"))
        printf("glove paraphrase: %.3f vs %.3f, %.3f\n", same, other1, other2);
    rg_free(v);
    rg_glove_close(g);
}
