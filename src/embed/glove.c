/*
 * glove.c - the GloVe sentence embedder: a memory-mapped word-vector table
 * and smooth-inverse-frequency (SIF) averaging (Arora, Liang, Ma 2017).
 *
 * The file (tools/glove-convert documents the layout) is mapped read-only and
 * checked before use: header fields in range, every section inside the file,
 * word offsets increasing (no empty word, none over 255 bytes) and inside the
 * string block, the sorted index made of valid ids in strictly increasing
 * byte order (which proves the words distinct), the common component finite.
 * Vectors are f16 or f32 as the header says; non-finite values are not
 * checked up front - a sentence whose sum is not finite comes out as the zero
 * vector instead.  Lookups go through an open-addressing hash table of the
 * ids built at open (4 MB for 341,479 words, ~20 ms): a probe or two instead
 * of the ~19 string compares of a binary search over the sorted index, which
 * made lookup half of the embedding time.  f16 values are widened through a
 * 65,536-entry table.
 *
 * Tokenizer (over the first context_size code points):
 *   - ASCII letters and digits and non-ASCII code points other than the
 *     punctuation and space ranges below make words; ASCII letters are
 *     lower-cased (the table is all lower case).
 *   - Punctuation is a separator and never looked up, although the table has
 *     entries for it: with SIF weights near zero it would add only noise.
 *     Separators are ASCII other than letters and digits, U+0080-00BF,
 *     U+00D7, U+00F7, U+2000-206F (spaces, dashes, quotes, bullets) and
 *     U+3000-303F; U+2019 (right single quote) is read as an apostrophe.
 *   - '-', '\'', '.' and '&' between two word characters join them into one
 *     token ("e-mail", "at&t").  A joined token missing from the table is
 *     looked up part by part; the English clitics after an apostrophe (s, t,
 *     d, m, ll, re, ve) are dropped ("john's" -> "john").
 *   - Numbers: a token or part made only of digits is skipped - the table has
 *     no pure numbers (the package drops them); mixed tokens such as "h1n1" or
 *     "f-16" are looked up as they are.
 *   - Unknown words (OOV) and tokens over 64 bytes are skipped.
 *
 * Weights: a word of frequency rank r (0 = most frequent) gets
 * a / (a + p(w)), a = 1e-3, with p(w) from Zipf's law over the table's
 * count words: p(r) = 1 / ((r + 1) * H), H = ln(count) + 0.5772 (the
 * harmonic number).  "the" weighs 0.013, a rank-1000 word 0.93.  The weighted
 * vectors are summed in double, the common component c (unit, stored in the
 * file) is projected out (v -= (v.c) c), and the result is L2-normalised; a
 * text with no known word gives the zero vector.  Nothing global is written
 * after start-up, so embed() is thread-safe.
 */
#include "embed/glove.h"

#include "core/alloc.h"
#include "core/log.h"
#include "embed/registry.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    GL_HEADER = 80,
    GL_VERSION = 1,
    GL_F16 = 1,
    GL_F32 = 2,
    GL_MAX_DIMS = 4096,
    GL_MAX_WORD = 64, /* longer tokens are OOV; the table's longest word is 42 bytes */
    GL_CONTEXT = 8192,
};
#define GL_MAX_COUNT (1u << 30)
#define GL_SIF_A     1e-3

struct rg_glove {
    rg_embed_model model; /* first: embed() recovers the rg_glove from it */
    char name[32], label[64];
    const unsigned char *map; /* the whole file, read-only; owned */
    size_t size;
    uint32_t dims, count, dtype;
    const unsigned char *strings;
    uint64_t strings_len;
    const unsigned char *offs;   /* count + 1 little-endian u32 */
    const unsigned char *sorted; /* count little-endian u32 */
    float *pc;                   /* dims floats, owned (copied out of the map) */
    uint32_t *slots;             /* open-addressing word table: id + 1, 0 = empty; owned */
    size_t mask;                 /* number of slots - 1 (a power of two >= 2 * count) */
    float *half;                 /* f16 bit pattern -> float, 65536 entries, owned */
    const unsigned char *vecs;
    double inv_h; /* 1 / H: p(rank r) = inv_h / (r + 1) */
};

/* ---- reading the little-endian file ------------------------------------ */

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static float f32_at(const unsigned char *p)
{
    uint32_t u = le32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* IEEE binary16 -> float, exactly (subnormals, infinities and NaN too). */
static float f16_at(const unsigned char *p)
{
    uint32_t h = (uint32_t)p[0] | (uint32_t)p[1] << 8;
    uint32_t sign = (h & 0x8000u) << 16, exp = h >> 10 & 0x1F, man = h & 0x3FF, u;
    if (exp == 0x1F)
        u = sign | 0x7F800000u | man << 13;
    else if (exp)
        u = sign | (exp + 112) << 23 | man << 13;
    else if (!man)
        u = sign;
    else { /* subnormal: man * 2^-24 */
        float f = (float)man * 0x1p-24f;
        return sign ? -f : f;
    }
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The bytes of word id (id < count; validated at open). */
static rg_str word_of(const rg_glove *g, uint32_t id)
{
    uint32_t a = le32(g->offs + 4 * (size_t)id), b = le32(g->offs + 4 * ((size_t)id + 1));
    return (rg_str){(const char *)g->strings + a, b - a};
}

/* memcmp order with the shorter of two equal prefixes first. */
static int word_cmp(rg_str a, rg_str b)
{
    int c = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);
    if (c)
        return c;
    return a.n < b.n ? -1 : a.n > b.n;
}

/* FNV-1a over the bytes, finished with murmur3's fmix64. */
static uint64_t word_hash(const char *w, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)w[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ h >> 33;
}

long rg_glove_lookup(const rg_glove *g, const char *w, size_t n)
{
    for (size_t i = word_hash(w, n) & g->mask;; i = (i + 1) & g->mask) {
        uint32_t v = g->slots[i];
        if (!v)
            return -1;
        rg_str x = word_of(g, v - 1);
        if (x.n == n && memcmp(x.p, w, n) == 0)
            return (long)(v - 1);
    }
}

/* Builds the in-memory word table (the file's sorted index has proved the
 * words distinct) and the f16 conversion table. */
static rg_rc build_tables(rg_glove *g)
{
    size_t cap = 16;
    while (cap < 2 * (size_t)g->count)
        cap *= 2;
    g->slots = rg_try_malloc(cap * sizeof *g->slots);
    if (!g->slots)
        return RG_ENOMEM;
    memset(g->slots, 0, cap * sizeof *g->slots);
    g->mask = cap - 1;
    for (uint32_t id = 0; id < g->count; id++) {
        rg_str x = word_of(g, id);
        size_t i = word_hash(x.p, x.n) & g->mask;
        while (g->slots[i])
            i = (i + 1) & g->mask;
        g->slots[i] = id + 1;
    }
    if (g->dtype == GL_F16) {
        g->half = rg_xmalloc(65536 * sizeof *g->half);
        for (uint32_t h = 0; h < 65536; h++) {
            unsigned char b[2] = {(unsigned char)h, (unsigned char)(h >> 8)};
            g->half[h] = f16_at(b);
        }
    }
    return RG_OK;
}

/* ---- opening and validation -------------------------------------------- */

static rg_rc fail(char *err, size_t errlen, rg_rc rc, const char *fmt, ...) RG_PRINTF(4, 5);

static rg_rc fail(char *err, size_t errlen, rg_rc rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* True when [off, off + len) lies inside a file of size bytes and off is a
 * multiple of align. */
static bool section_ok(uint64_t off, uint64_t len, uint64_t size, uint64_t align)
{
    return off % align == 0 && off >= GL_HEADER && off <= size && len <= size - off;
}

static rg_rc embed_glove(const rg_embed_model *m, const rg_str *texts, size_t n, float *out,
                         char *err);

/* Validates the mapped file into g; the message says what is wrong. */
static rg_rc validate(rg_glove *g, char *err, size_t errlen)
{
    const unsigned char *p = g->map;
    uint64_t size = g->size;
    if (size < GL_HEADER)
        return fail(err, errlen, RG_EINVAL, "shorter than its header (%llu bytes)",
                    (unsigned long long)size);
    if (memcmp(p, "RGGLOVE1", 8) != 0)
        return fail(err, errlen, RG_EINVAL, "not a ragd GloVe table (bad magic)");
    uint32_t version = le32(p + 8);
    g->dims = le32(p + 12), g->count = le32(p + 16), g->dtype = le32(p + 20);
    if (version != GL_VERSION)
        return fail(err, errlen, RG_EINVAL, "unsupported version %u", version);
    if (g->dims == 0 || g->dims > GL_MAX_DIMS || g->count == 0 || g->count > GL_MAX_COUNT ||
        (g->dtype != GL_F16 && g->dtype != GL_F32))
        return fail(err, errlen, RG_EINVAL, "header out of range (dims %u, count %u, dtype %u)",
                    g->dims, g->count, g->dtype);
    uint64_t s_off = le64(p + 24), s_len = le64(p + 32), o_off = le64(p + 40), x_off = le64(p + 48),
             c_off = le64(p + 56), v_off = le64(p + 64), f_size = le64(p + 72);
    if (f_size != size)
        return fail(err, errlen, RG_EINVAL, "truncated or padded: %llu bytes, header says %llu",
                    (unsigned long long)size, (unsigned long long)f_size);
    uint64_t cnt = g->count, dims = g->dims, esz = g->dtype == GL_F16 ? 2 : 4;
    if (!section_ok(s_off, s_len, size, 1) || !section_ok(o_off, 4 * (cnt + 1), size, 4) ||
        !section_ok(x_off, 4 * cnt, size, 4) || !section_ok(c_off, 4 * dims, size, 4) ||
        !section_ok(v_off, cnt * dims * esz, size, esz))
        return fail(err, errlen, RG_EINVAL, "a section lies outside the file");
    g->strings = p + s_off, g->strings_len = s_len;
    g->offs = p + o_off, g->sorted = p + x_off, g->vecs = p + v_off;
    uint32_t prev = le32(g->offs);
    if (prev != 0)
        return fail(err, errlen, RG_EINVAL, "word offsets do not start at 0");
    for (uint64_t i = 1; i <= cnt; i++) {
        uint32_t o = le32(g->offs + 4 * i);
        if (o <= prev || o > s_len || o - prev > 255)
            return fail(err, errlen, RG_EINVAL, "word %llu: bad offset",
                        (unsigned long long)(i - 1));
        prev = o;
    }
    for (uint64_t i = 0; i < cnt; i++) {
        uint32_t id = le32(g->sorted + 4 * i);
        if (id >= cnt)
            return fail(err, errlen, RG_EINVAL, "sorted index %llu: no such word",
                        (unsigned long long)i);
        if (i && word_cmp(word_of(g, le32(g->sorted + 4 * (i - 1))), word_of(g, id)) >= 0)
            return fail(err, errlen, RG_EINVAL, "sorted index %llu: out of order or duplicate",
                        (unsigned long long)i);
    }
    g->pc = rg_xcalloc(dims, sizeof(float));
    double norm = 0;
    for (uint64_t d = 0; d < dims; d++) {
        g->pc[d] = f32_at(p + c_off + 4 * d);
        if (!isfinite(g->pc[d]))
            return fail(err, errlen, RG_EINVAL, "common component is not finite");
        norm += (double)g->pc[d] * g->pc[d];
    }
    if (norm > 0) /* stored unit-length; renormalise against rounding */
        for (uint64_t d = 0; d < dims; d++)
            g->pc[d] = (float)(g->pc[d] / sqrt(norm));
    if (build_tables(g) != RG_OK)
        return fail(err, errlen, RG_ENOMEM, "no memory for the word table");
    g->inv_h = 1.0 / (log((double)cnt) + 0.5772156649015329);
    snprintf(g->name, sizeof g->name, "ragd-glove-%ud", g->dims);
    snprintf(g->label, sizeof g->label, "ragd built-in GloVe SIF (%u-d, %u words)", g->dims,
             g->count);
    g->model = (rg_embed_model){
        .provider = "ragd",
        .name = g->name,
        .label = g->label,
        .dims = (int)g->dims,
        .context_size = GL_CONTEXT,
        .embed = embed_glove,
    };
    return RG_OK;
}

rg_rc rg_glove_open(const char *path, rg_glove **out, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, RG_EIO, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errlen, RG_EIO, "not a regular file");
    }
    if (st.st_size < GL_HEADER) {
        close(fd);
        return fail(err, errlen, RG_EINVAL, "shorter than its header (%lld bytes)",
                    (long long)st.st_size);
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return fail(err, errlen, RG_EIO, "cannot map: %s", strerror(e));
    rg_glove *g = rg_xcalloc(1, sizeof *g);
    g->map = map, g->size = (size_t)st.st_size;
    rg_rc rc = validate(g, err, errlen);
    if (rc != RG_OK) {
        rg_glove_close(g);
        return rc;
    }
    *out = g;
    return RG_OK;
}

void rg_glove_close(rg_glove *g)
{
    if (!g)
        return;
    munmap((void *)g->map, g->size);
    rg_free(g->pc);
    rg_free(g->slots);
    rg_free(g->half);
    rg_free(g);
}

const rg_embed_model *rg_glove_model(const rg_glove *g)
{
    return &g->model;
}

/* ---- tokens and the sentence vector ------------------------------------ */

/* Decodes the code point at s[*i] (*i < n) and advances *i; a malformed
 * sequence gives U+FFFD and advances one byte; never reads past s[n]. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    size_t k = *i;
    unsigned c = s[k];
    if (c < 0x80) {
        *i = k + 1;
        return c;
    }
    size_t len;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07, min = 0x10000;
    else
        goto bad;
    if (n - k < len)
        goto bad;
    for (size_t j = 1; j < len; j++) {
        if ((s[k + j] & 0xC0) != 0x80)
            goto bad;
        cp = cp << 6 | (s[k + j] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF)
        goto bad;
    *i = k + len;
    return cp;
bad:
    *i = k + 1;
    return 0xFFFD;
}

enum { T_WORD, T_SEP, T_JOIN };

static unsigned cp_class(uint32_t c)
{
    if (c < 0x80) {
        if ((c | 0x20) - 'a' < 26 || c - '0' < 10)
            return T_WORD;
        return c == '-' || c == '\'' || c == '.' || c == '&' ? T_JOIN : T_SEP;
    }
    if (c == 0x2019)
        return T_JOIN;
    if (c <= 0xBF || c == 0xD7 || c == 0xF7 || (c >= 0x2000 && c <= 0x206F) ||
        (c >= 0x3000 && c <= 0x303F) || c == 0xFFFD)
        return T_SEP;
    return T_WORD;
}

/* Adds the SIF-weighted vector of word id to acc. */
static void add_word(const rg_glove *g, uint32_t id, double *acc)
{
    double p = g->inv_h / ((double)id + 1);
    double w = GL_SIF_A / (GL_SIF_A + p);
    size_t dims = g->dims;
    if (g->dtype == GL_F16) {
        const unsigned char *v = g->vecs + (size_t)id * dims * 2;
        for (size_t d = 0; d < dims; d++)
            acc[d] += w * g->half[v[2 * d] | v[2 * d + 1] << 8];
    } else {
        const unsigned char *v = g->vecs + (size_t)id * dims * 4;
        for (size_t d = 0; d < dims; d++)
            acc[d] += w * f32_at(v + 4 * d);
    }
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned)s[i] - '0' >= 10)
            return false;
    return true;
}

static bool is_clitic(const char *s, size_t n)
{
    static const char *const cl[] = {"s", "t", "d", "m", "ll", "re", "ve"};
    for (size_t i = 0; i < RG_ARRAY_LEN(cl); i++)
        if (strlen(cl[i]) == n && memcmp(cl[i], s, n) == 0)
            return true;
    return false;
}

/* Looks up one part (no joiners) and adds it; returns 1 when it was found. */
static int add_part(const rg_glove *g, const char *s, size_t n, double *acc)
{
    if (!n || all_digits(s, n))
        return 0;
    long id = rg_glove_lookup(g, s, n);
    if (id < 0)
        return 0;
    add_word(g, (uint32_t)id, acc);
    return 1;
}

/* Adds the token tok[0..n) (lower-cased, joiners as ASCII); returns the
 * number of words found. */
static int add_token(const rg_glove *g, const char *tok, size_t n, double *acc)
{
    if (!n || n > GL_MAX_WORD || all_digits(tok, n))
        return 0;
    long id = rg_glove_lookup(g, tok, n);
    if (id >= 0) {
        add_word(g, (uint32_t)id, acc);
        return 1;
    }
    int found = 0;
    size_t start = 0;
    char after = 0; /* the joiner before the current part */
    for (size_t i = 0; i <= n; i++) {
        if (i < n && tok[i] != '-' && tok[i] != '\'' && tok[i] != '.' && tok[i] != '&')
            continue;
        if (!(after == '\'' && is_clitic(tok + start, i - start)))
            found += add_part(g, tok + start, i - start, acc);
        if (i < n)
            after = tok[i];
        start = i + 1;
    }
    return found;
}

/* The token being read: its lower-cased bytes, with single joiners kept. */
typedef struct token {
    char b[GL_MAX_WORD];
    size_t len;
    bool over; /* longer than GL_MAX_WORD: OOV */
    char join; /* a joiner seen after the last word character, or 0 */
} token;

static void tok_put(token *t, const char *b, size_t k)
{
    if (t->over || t->len + k > GL_MAX_WORD) {
        t->over = true;
        return;
    }
    memcpy(t->b + t->len, b, k);
    t->len += k;
}

/* Adds the token to acc if it is a word of the table; empties it. */
static int tok_flush(const rg_glove *g, token *t, double *acc)
{
    int found = t->len && !t->over ? add_token(g, t->b, t->len, acc) : 0;
    t->len = 0, t->over = false, t->join = 0;
    return found;
}

/* The SIF sum of the tokens of the first limit code points of s[0..n) into
 * acc; returns the number of words found. */
static int text_sum(const rg_glove *g, const unsigned char *s, size_t n, size_t limit, double *acc)
{
    token t = {.len = 0};
    int found = 0;
    size_t i = 0;
    for (size_t chars = 0; i < n && chars < limit; chars++) {
        size_t at = i;
        uint32_t cp = utf8_next(s, n, &i);
        unsigned cls = cp_class(cp);
        if (cls == T_WORD) {
            if ((t.len || t.over) && t.join) {
                tok_put(&t, &t.join, 1);
                t.join = 0;
            }
            if (cp < 0x80) {
                char c = (char)(cp - 'A' < 26 ? cp + 32 : cp);
                tok_put(&t, &c, 1);
            } else
                tok_put(&t, (const char *)s + at, i - at); /* valid UTF-8, as is */
        } else if (cls == T_JOIN && (t.len || t.over) && !t.join)
            t.join = cp == 0x2019 ? '\'' : (char)cp;
        else
            found += tok_flush(g, &t, acc);
    }
    return found + tok_flush(g, &t, acc);
}

static rg_rc embed_glove(const rg_embed_model *m, const rg_str *texts, size_t n, float *out,
                         char *err)
{
    if (!m || (n && (!texts || !out)))
        return rg_embed_fail(err, RG_EINVAL, "no texts or no output to embed into");
    const rg_glove *g = (const rg_glove *)m;
    size_t dims = g->dims;
    for (size_t t = 0; t < n; t++)
        if (!texts[t].p && texts[t].n)
            return RG_EINVAL;
    if (!n)
        return RG_OK;
    double *acc = rg_try_malloc(dims * sizeof(double)); /* dims <= GL_MAX_DIMS */
    if (!acc)
        return rg_embed_fail(err, RG_ENOMEM, "out of memory");
    for (size_t t = 0; t < n; t++) {
        memset(acc, 0, dims * sizeof(double));
        float *row = out + t * dims;
        int found = texts[t].n ? text_sum(g, (const unsigned char *)texts[t].p, texts[t].n,
                                          (size_t)m->context_size, acc)
                               : 0;
        double dot = 0, norm = 0;
        for (size_t d = 0; d < dims; d++)
            dot += acc[d] * g->pc[d];
        for (size_t d = 0; d < dims; d++) {
            acc[d] -= dot * g->pc[d];
            norm += acc[d] * acc[d];
        }
        double inv = found && norm > 0 && isfinite(norm) ? 1 / sqrt(norm) : 0;
        for (size_t d = 0; d < dims; d++)
            row[d] = (float)(acc[d] * inv);
    }
    rg_free(acc);
    return RG_OK;
}

/* ---- start-up ----------------------------------------------------------- */

const rg_embed_model *rg_glove_start(void)
{
    const char *env = getenv("RAGD_GLOVE_PATH");
    char cand[3][PATH_MAX];
    size_t nc = 0;
    if (env) {
        if (!*env) {
            rg_info("glove: disabled (RAGD_GLOVE_PATH is empty)");
            return NULL;
        }
        snprintf(cand[nc++], sizeof cand[0], "%s", env);
    } else {
        char exe[PATH_MAX];
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (k > 0) {
            exe[k] = '\0';
            char *slash = strrchr(exe, '/');
            if (slash) {
                *slash = '\0';
                snprintf(cand[nc++], sizeof cand[0], "%.3800s/models/glove-100d.bin", exe);
                snprintf(cand[nc++], sizeof cand[0], "%.3800s/../models/glove-100d.bin", exe);
            }
        }
        snprintf(cand[nc++], sizeof cand[0], "build/models/glove-100d.bin");
    }
    for (size_t i = 0; i < nc; i++) {
        if (!env && access(cand[i], F_OK) != 0)
            continue;
        rg_glove *g;
        char err[256];
        if (rg_glove_open(cand[i], &g, err, sizeof err) != RG_OK) {
            rg_warn("glove: %s: %s; GloVe model not registered", cand[i], err);
            return NULL;
        }
        rg_rc rc = rg_embed_register(&g->model);
        if (rc != RG_OK) {
            rg_warn("glove: %s: cannot register %s (%s)", cand[i], g->name, rg_rc_name(rc));
            rg_glove_close(g);
            return NULL;
        }
        rg_embed_set_default(&g->model);
        rg_info("glove: %s (%u words x %u, %s) registered as ragd/%s, the default model", cand[i],
                g->count, g->dims, g->dtype == GL_F16 ? "f16" : "f32", g->name);
        return &g->model; /* registered: kept for the life of the process */
    }
    rg_info("glove: no table found (run scripts/fetch-glove); default model stays ragd-hash-384");
    return NULL;
}
