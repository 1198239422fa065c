/*
 * hash_embed.c - ragd's built-in embedder: signed feature hashing ("the
 * hashing trick") of what a text is made of, with no model file and no network.
 *
 * One pass over the first context_size code points of a text produces
 * features of five kinds, each hashed with its own kind byte in front:
 *
 *   word     a run of word characters, case-folded ("Linux" == "linux")
 *   tri      character 3-grams of each word with boundary markers: "cat" gives
 *            "^ca", "cat", "at$" (a word of L code points gives L of them),
 *            built from code points, so a multi-byte character is never split
 *   cjk1/2   CJK ideographs (U+3400-9FFF, U+F900-FAFF, planes 2-3, and the
 *            ideographic marks U+3005-3007): every ideograph and every pair of
 *            neighbours within a run, so Chinese without spaces matches
 *            "光合作用" against "光合" + "合作" + "作用"
 *   sym      an emoji or pictograph (U+2600-27BF, U+1F000-1FAFF) on its own
 *
 * Word characters are ASCII letters and digits and every non-ASCII code point
 * that the class table below does not call a separator (Unicode white space,
 * punctuation, symbols), ignorable (joiners, variation selectors, soft hyphen,
 * bidi controls, skin-tone modifiers), CJK or sym.  So Cyrillic, Greek, Arabic,
 * Hangul... are words split on spaces and punctuation, and scripts written
 * without spaces other than CJK (Thai, kana runs) lean on their 3-grams.
 * Case folding covers ASCII, Latin-1, Latin Extended-A, Vietnamese (Latin
 * Extended Additional), Greek, Cyrillic and Armenian; fullwidth ASCII
 * (U+FF01-FF5E) is read as ASCII.  There is no Unicode normalisation: a
 * precomposed "é" and "e" + U+0301 are different characters.
 *
 * A feature's 64-bit hash is FNV-1a over its kind byte and the UTF-8 of its
 * code points (boundary markers are the bytes 0xFE/0xFF, which UTF-8 never
 * uses), finished with the murmur3 fmix64 mixer.  Its high 32 bits pick the
 * dimension (Lemire's multiply-shift range reduction) and bit 31 the sign, so
 * collisions cancel in expectation instead of piling up.  Term frequencies are
 * counted exactly per feature in an open-addressing table (per-call scratch,
 * reused across the texts of a batch and emptied through its list of used
 * slots), weighted 1 + ln(tf) times the kind's weight, summed in double in
 * order of first occurrence and L2-normalised; no features gives the zero
 * vector.  ln is computed with basic IEEE-754 operations (no libm log), so a
 * vector is bit-identical across runs, threads and machines with IEEE doubles
 * (gcc's -std=c11 does not contract a*b+c into fma).  Nothing global is
 * written: the engine is thread-safe.
 *
 * Truncation: only the first context_size code points of a text are read (a
 * malformed byte counts as one); a word cut at the limit ends there.
 */
#include "embed/hash_embed.h"

#include "core/alloc.h"

#include <math.h>
#include <string.h>

enum { HE_DIMS = 384, HE_CONTEXT = 8192 };

/* Feature kinds; the value is the byte that starts the feature's hash. */
enum { K_WORD, K_TRI, K_CJK1, K_CJK2, K_SYM, K_COUNT };

/* Relative weight of one occurrence of each kind.  Words and 3-grams weigh
 * the same: matching man-page summaries against their DESCRIPTION paragraphs
 * (3000 pages, MRR 0.664 -> 0.680) preferred that to 3-grams at 0.5; so a
 * word's share grows with its length, as in fastText.  A CJK bigram is about
 * as specific as a short word, a single ideograph less so. */
static const double kind_weight[K_COUNT] = {
    [K_WORD] = 1.0, [K_TRI] = 1.0, [K_CJK1] = 0.5, [K_CJK2] = 1.0, [K_SYM] = 1.0,
};

/* Character classes after case folding. */
enum { C_WORD, C_SEP, C_CJK, C_SYM, C_IGN };

#define MARK_BOW    0x110000u /* beyond Unicode: the 3-gram boundary markers */
#define MARK_EOW    0x110001u
#define REPLACEMENT 0xFFFDu

/* ---- UTF-8 ------------------------------------------------------------- */

/* Decodes the code point at s[*i] (*i < n) and advances *i past it.  A
 * malformed or truncated sequence gives U+FFFD and advances one byte; no byte
 * at or past s[n] is ever read. */
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
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else
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
    return REPLACEMENT;
}

/* ---- case folding and character classes -------------------------------- */

/* Simple lower-case mapping for the scripts listed in the header comment;
 * other code points are returned unchanged. */
static uint32_t fold(uint32_t c)
{
    if (c < 0x80)
        return c - 'A' < 26 ? c + 32 : c;
    if (c < 0xC0)
        return c;
    if (c <= 0xDE)
        return c == 0xD7 ? c : c + 32;
    if (c < 0x100)
        return c;
    if (c < 0x180) { /* Latin Extended-A: mostly upper/lower pairs */
        if (c < 0x130 || (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177))
            return c | 1;
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            return c & 1 ? c + 1 : c;
        return c == 0x178 ? 0xFF : c;
    }
    if (c >= 0x386 && c <= 0x3A9) { /* Greek */
        if (c >= 0x391)
            return c == 0x3A2 ? c : c + 32;
        if (c == 0x386)
            return 0x3AC;
        if (c >= 0x388 && c <= 0x38A)
            return c + 37;
        if (c == 0x38C)
            return 0x3CC;
        if (c >= 0x38E)
            return c + 63;
        return c;
    }
    if (c == 0x3C2) /* final sigma */
        return 0x3C3;
    if (c >= 0x400 && c <= 0x42F) /* Cyrillic */
        return c < 0x410 ? c + 80 : c + 32;
    if (c >= 0x531 && c <= 0x556) /* Armenian */
        return c + 48;
    if (c >= 0x1E00 && c <= 0x1EFF) { /* Latin Extended Additional */
        if (c <= 0x1E95 || c >= 0x1EA0)
            return c | 1;
        return c == 0x1E9E ? 0xDF : c;
    }
    if (c >= 0xFF01 && c <= 0xFF5E) /* fullwidth ASCII */
        return fold(c - 0xFEE0);
    return c;
}

/* Non-ASCII code points that are not word characters, sorted, disjoint. */
static const struct cls_range {
    uint32_t lo, hi;
    unsigned char cls;
} cls_ranges[] = {
    {0x0080, 0x00A9, C_SEP},                            /* C1 controls, NBSP, ¡¢£¤¥¦§¨© */
    {0x00AB, 0x00AC, C_SEP},   {0x00AD, 0x00AD, C_IGN}, /* soft hyphen */
    {0x00AE, 0x00B1, C_SEP},   {0x00B4, 0x00B4, C_SEP},   {0x00B6, 0x00B8, C_SEP},
    {0x00BB, 0x00BB, C_SEP},   {0x00BF, 0x00BF, C_SEP},   {0x00D7, 0x00D7, C_SEP},
    {0x00F7, 0x00F7, C_SEP},   {0x037E, 0x037E, C_SEP},   {0x0387, 0x0387, C_SEP},
    {0x055A, 0x055F, C_SEP},   {0x0589, 0x058A, C_SEP},   {0x05BE, 0x05BE, C_SEP},
    {0x05C0, 0x05C0, C_SEP},   {0x05C3, 0x05C3, C_SEP},   {0x05C6, 0x05C6, C_SEP},
    {0x05F3, 0x05F4, C_SEP},   {0x060C, 0x060D, C_SEP},   {0x061B, 0x061B, C_SEP},
    {0x061D, 0x061F, C_SEP},   {0x066A, 0x066D, C_SEP},   {0x06D4, 0x06D4, C_SEP},
    {0x0964, 0x0965, C_SEP},   {0x0970, 0x0970, C_SEP},   {0x0E4F, 0x0E4F, C_SEP},
    {0x0E5A, 0x0E5B, C_SEP},   {0x0F04, 0x0F12, C_SEP},   {0x104A, 0x104F, C_SEP},
    {0x10FB, 0x10FB, C_SEP},   {0x1360, 0x1368, C_SEP},   {0x1680, 0x1680, C_SEP},
    {0x17D4, 0x17DA, C_SEP},   {0x1800, 0x180A, C_SEP},   {0x180B, 0x180F, C_IGN},
    {0x2000, 0x200B, C_SEP}, /* spaces, zero-width space */
    {0x200C, 0x200F, C_IGN}, /* ZWNJ, ZWJ, LRM, RLM */
    {0x2010, 0x2029, C_SEP}, /* dashes, quotes, bullets, line/paragraph sep. */
    {0x202A, 0x202E, C_IGN}, /* bidi embeddings */
    {0x202F, 0x205F, C_SEP},   {0x2060, 0x206F, C_IGN}, /* word joiner, bidi isolates */
    {0x20A0, 0x20CF, C_SEP},                            /* currency */
    {0x2190, 0x245F, C_SEP}, /* arrows, maths, technical, control pictures */
    {0x2500, 0x25FF, C_SEP}, /* box drawing, blocks, geometric shapes */
    {0x2600, 0x27BF, C_SYM}, /* miscellaneous symbols, dingbats */
    {0x27C0, 0x2B4F, C_SEP},   {0x2B50, 0x2B55, C_SYM},   {0x2B56, 0x2BFF, C_SEP},
    {0x2E00, 0x2E7F, C_SEP}, /* supplemental punctuation */
    {0x3000, 0x3004, C_SEP}, /* ideographic space, 、。〃 */
    {0x3005, 0x3007, C_CJK}, /* 々〆〇 */
    {0x3008, 0x3020, C_SEP}, /* CJK brackets */
    {0x3030, 0x3030, C_SEP},   {0x3036, 0x3037, C_SEP},   {0x303C, 0x303F, C_SEP},
    {0x30FB, 0x30FB, C_SEP}, /* katakana middle dot */
    {0x3400, 0x4DBF, C_CJK},   {0x4DC0, 0x4DFF, C_SEP},   {0x4E00, 0x9FFF, C_CJK},
    {0xF900, 0xFAFF, C_CJK},   {0xFD3E, 0xFD3F, C_SEP},   {0xFE00, 0xFE0F, C_IGN},
    {0xFE10, 0xFE19, C_SEP},   {0xFE30, 0xFE6F, C_SEP},   {0xFEFF, 0xFEFF, C_IGN},
    {0xFF5F, 0xFF65, C_SEP},   {0xFFE0, 0xFFEE, C_SEP},   {0xFFF0, 0xFFFF, C_SEP},
    {0x1F000, 0x1F3FA, C_SYM}, {0x1F3FB, 0x1F3FF, C_IGN}, /* skin tones */
    {0x1F400, 0x1FAFF, C_SYM}, {0x20000, 0x3FFFF, C_CJK}, /* ideographs, planes 2-3 */
    {0xE0000, 0xE01EF, C_IGN},                            /* tags, variation selectors supplement */
};

/* The class of a case-folded code point. */
static unsigned classify(uint32_t c)
{
    if (c < 0x80)
        return (c | 0x20) - 'a' < 26 || c - '0' < 10 ? C_WORD : C_SEP;
    size_t lo = 0, hi = RG_ARRAY_LEN(cls_ranges);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c < cls_ranges[mid].lo)
            hi = mid;
        else if (c > cls_ranges[mid].hi)
            lo = mid + 1;
        else
            return cls_ranges[mid].cls;
    }
    return C_WORD;
}

/* ---- hashing ----------------------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

static inline uint64_t fnv_byte(uint64_t h, unsigned b)
{
    return (h ^ b) * FNV_PRIME;
}

/* Feeds cp to the hash as its UTF-8 bytes (a marker as 0xFE or 0xFF). */
static inline uint64_t fnv_cp(uint64_t h, uint32_t cp)
{
    if (cp < 0x80)
        return fnv_byte(h, cp);
    if (cp >= MARK_BOW)
        return fnv_byte(h, cp == MARK_BOW ? 0xFE : 0xFF);
    if (cp < 0x800) {
        h = fnv_byte(h, 0xC0 | cp >> 6);
    } else if (cp < 0x10000) {
        h = fnv_byte(h, 0xE0 | cp >> 12);
        h = fnv_byte(h, 0x80 | (cp >> 6 & 0x3F));
    } else {
        h = fnv_byte(h, 0xF0 | cp >> 18);
        h = fnv_byte(h, 0x80 | (cp >> 12 & 0x3F));
        h = fnv_byte(h, 0x80 | (cp >> 6 & 0x3F));
    }
    return fnv_byte(h, 0x80 | (cp & 0x3F));
}

/* murmur3's 64-bit finaliser: every input bit affects every output bit. */
static inline uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

/* ---- per-text feature counts ------------------------------------------- */

typedef struct slot {
    uint64_t key; /* fmix64 of the feature hash; 0 = empty */
    uint32_t tf;
    uint32_t kind;
} slot;

typedef struct feats {
    slot *tab;      /* all empty between texts */
    size_t mask;    /* capacity - 1, a power of two minus one */
    uint32_t *used; /* indices of the occupied slots, in order of first use */
    size_t n_used;
} feats;

/* Counts one occurrence of the feature whose unfinished FNV hash is h. */
static void feat_add(feats *f, uint64_t h, unsigned kind)
{
    uint64_t key = fmix64(h);
    key += !key;
    size_t i = (size_t)key & f->mask;
    while (f->tab[i].key && f->tab[i].key != key)
        i = (i + 1) & f->mask;
    if (!f->tab[i].key) {
        f->tab[i].key = key;
        f->tab[i].kind = kind;
        f->used[f->n_used++] = (uint32_t)i;
    }
    f->tab[i].tf++;
}

/* The word being read: its hash so far and its last two code points. */
typedef struct word {
    uint64_t h;
    uint32_t p1, p2;
    size_t len;
} word;

static void trigram(feats *f, uint32_t a, uint32_t b, uint32_t c)
{
    feat_add(f, fnv_cp(fnv_cp(fnv_cp(fnv_byte(FNV_OFFSET, K_TRI), a), b), c), K_TRI);
}

static void word_push(feats *f, word *w, uint32_t cp)
{
    if (w->len == 0) {
        w->h = fnv_byte(FNV_OFFSET, K_WORD);
        w->p2 = MARK_BOW;
    } else {
        trigram(f, w->p2, w->p1, cp);
        w->p2 = w->p1;
    }
    w->p1 = cp;
    w->h = fnv_cp(w->h, cp);
    w->len++;
}

static void word_end(feats *f, word *w)
{
    if (w->len == 0)
        return;
    trigram(f, w->p2, w->p1, MARK_EOW);
    feat_add(f, w->h, K_WORD);
    w->len = 0;
}

/* Counts the features of the first limit code points of s[0..n). */
static void text_features(feats *f, const unsigned char *s, size_t n, size_t limit)
{
    word w = {0};
    uint32_t prev_cjk = 0; /* 0 when the previous character was not CJK */
    size_t i = 0;
    for (size_t chars = 0; i < n && chars < limit; chars++) {
        uint32_t cp = fold(utf8_next(s, n, &i));
        unsigned cls = classify(cp);
        if (cls == C_IGN)
            continue;
        if (cls == C_WORD) {
            word_push(f, &w, cp);
            prev_cjk = 0;
            continue;
        }
        word_end(f, &w);
        if (cls == C_CJK) {
            feat_add(f, fnv_cp(fnv_byte(FNV_OFFSET, K_CJK1), cp), K_CJK1);
            if (prev_cjk)
                feat_add(f, fnv_cp(fnv_cp(fnv_byte(FNV_OFFSET, K_CJK2), prev_cjk), cp), K_CJK2);
            prev_cjk = cp;
            continue;
        }
        prev_cjk = 0;
        if (cls == C_SYM)
            feat_add(f, fnv_cp(fnv_byte(FNV_OFFSET, K_SYM), cp), K_SYM);
    }
    word_end(f, &w);
}

/* ---- weighting and the vector ------------------------------------------ */

/* 1 + ln(tf) from basic IEEE-754 operations only, so that it does not depend
 * on the libm at hand: tf = m * 2^e exactly with m in [sqrt(1/2), sqrt(2)),
 * ln m = 2 atanh(z), z = (m-1)/(m+1), |z| < 0.172, by its series to z^21
 * (the rest is below 1e-17), evaluated by Horner's rule. */
static double sublinear(uint32_t tf)
{
    if (tf <= 1)
        return 1.0;
    int e = 32 - __builtin_clz(tf); /* 2^(e-1) <= tf < 2^e */
    double m = (double)tf / (double)(1ull << e);
    if (m < 0.70710678118654752440) {
        m *= 2;
        e--;
    }
    double z = (m - 1) / (m + 1), z2 = z * z;
    double p = 1.0 / 21;
    static const double inv_odd[] = {1.0 / 19, 1.0 / 17, 1.0 / 15, 1.0 / 13, 1.0 / 11,
                                     1.0 / 9,  1.0 / 7,  1.0 / 5,  1.0 / 3,  1.0};
    for (size_t k = 0; k < RG_ARRAY_LEN(inv_odd); k++)
        p = p * z2 + inv_odd[k];
    return 1.0 + e * 0.69314718055994530942 + 2 * z * p;
}

/* Table capacity for a text of at most nchars code points: each code point
 * yields at most two features (a word of L gives L 3-grams and itself, a CJK
 * run of L gives L unigrams and L-1 bigrams), and the load stays <= 1/2, so
 * cap / 2 entries of the used list suffice.  0 when the size would overflow
 * (slot indices are 32-bit). */
static size_t table_cap(size_t nchars)
{
    if (nchars > UINT32_MAX / 8 || nchars > SIZE_MAX / (8 * sizeof(slot)))
        return 0;
    size_t cap = 16;
    while (cap < 4 * nchars)
        cap *= 2;
    return cap;
}

/* Adds the weighted features of the table into acc (dims doubles), in order
 * of first occurrence, and empties the table for the next text. */
static void accumulate(feats *f, double *acc, size_t dims)
{
    for (size_t i = 0; i < f->n_used; i++) {
        slot *s = &f->tab[f->used[i]];
        double v = kind_weight[s->kind] * sublinear(s->tf);
        size_t d = (size_t)(((s->key >> 32) * (uint64_t)dims) >> 32);
        acc[d] += (s->key >> 31) & 1 ? -v : v;
        *s = (slot){0, 0, 0};
    }
    f->n_used = 0;
}

/* The sum of squares of v[0..n), in four interleaved partial sums (fixed
 * order, so still deterministic) rather than one long dependency chain. */
static double squared_norm(const double *v, size_t n)
{
    double s[4] = {0, 0, 0, 0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++)
            s[k] += v[i + k] * v[i + k];
    for (; i < n; i++)
        s[0] += v[i] * v[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

rg_rc rg_hash_embed(const rg_embed_model *m, const rg_str *texts, size_t n, float *out, char *err)
{
    if (!m || m->dims <= 0 || m->context_size <= 0 || (n && (!texts || !out)))
        return rg_embed_fail(err, RG_EINVAL, "no texts or no output to embed into");
    size_t dims = (size_t)m->dims, limit = (size_t)m->context_size, cap_max = 0;
    for (size_t t = 0; t < n; t++) {
        if (!texts[t].p && texts[t].n)
            return RG_EINVAL;
        size_t cap = table_cap(texts[t].n < limit ? texts[t].n : limit);
        if (!cap)
            return RG_ENOMEM;
        if (cap > cap_max)
            cap_max = cap;
    }
    if (!n)
        return RG_OK;
    if (dims > SIZE_MAX / sizeof(double))
        return RG_ENOMEM;
    slot *tab = rg_try_malloc(cap_max * sizeof(slot));
    uint32_t *used = rg_try_malloc(cap_max / 2 * sizeof(uint32_t));
    double *acc = rg_try_malloc(dims * sizeof(double));
    if (!tab || !used || !acc) {
        rg_free(tab);
        rg_free(used);
        rg_free(acc);
        return rg_embed_fail(err, RG_ENOMEM, "out of memory");
    }
    memset(tab, 0, cap_max * sizeof(slot));
    for (size_t t = 0; t < n; t++) {
        size_t nb = texts[t].n;
        /* a small text probes a small, cache-friendly part of the table */
        feats f = {tab, table_cap(nb < limit ? nb : limit) - 1, used, 0};
        if (nb)
            text_features(&f, (const unsigned char *)texts[t].p, nb, limit);
        memset(acc, 0, dims * sizeof(double));
        accumulate(&f, acc, dims);
        double inv = squared_norm(acc, dims);
        inv = inv > 0 ? 1 / sqrt(inv) : 0;
        float *row = out + t * dims;
        for (size_t d = 0; d < dims; d++)
            row[d] = (float)(acc[d] * inv);
    }
    rg_free(tab);
    rg_free(used);
    rg_free(acc);
    return RG_OK;
}

const rg_embed_model rg_hash_embed_model = {
    .provider = "ragd",
    .name = "ragd-hash-384",
    .label = "ragd built-in feature hashing (384-d)",
    .dims = HE_DIMS,
    .context_size = HE_CONTEXT,
    .embed = rg_hash_embed,
};
