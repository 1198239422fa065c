/*
 * gguf.c - GGUF v2/v3 reader: one validating pass at open, views after.
 *
 * Layout (little-endian): "GGUF", u32 version, u64 n_tensors, u64 n_kv; the
 * n_kv metadata entries (key string, u32 type, value); the n_tensors tensor
 * descriptors (name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset);
 * padding to general.alignment (default 32); the data section, where each
 * tensor's offset points.  A string is a u64 length and that many bytes.
 *
 * Every count and length is checked against the bytes that remain BEFORE
 * anything is allocated or skipped, so a count of 2^63 is an error, not an
 * allocation.  Decisions (each refusal names what it refuses):
 *  - versions 2 and 3 only; a header whose version reads as 2 or 3 byte-
 *    swapped is a big-endian file and is refused as such; v1 is refused;
 *  - arrays of arrays are refused (llama.cpp writes none; no depth to bound);
 *  - tensor types other than F32, F16 and Q8_0 are refused at open, naming
 *    the type, so that a model ragd cannot compute with fails at start-up
 *    and every accepted tensor converts with rg_gguf_to_f32;
 *  - duplicate keys and duplicate tensor names are refused; keys are at most
 *    GG_MAX_KEY bytes, tensor names at most GG_MAX_NAME bytes;
 *  - general.alignment, when present, must be a u32 power of two;
 *  - tensor offsets must be multiples of the alignment, inside the data
 *    section and pairwise disjoint (checked after sorting by offset);
 *  - an element count of zero is allowed (an empty tensor).
 * Metadata and tensors are kept in arrays sorted by key/name for binary
 * search; values are views into the mapping.
 */
#include "embed/gguf.h"
#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "gguf.c reads little-endian GGUF with native loads; port the loads first"
#endif

#define GG_MAGIC      "GGUF"
#define GG_MAX_KEY    65536u              /* longest metadata key accepted, bytes */
#define GG_MAX_NAME   256u                /* longest tensor name accepted, bytes (ggml: 64) */
#define GG_MAX_DIMS   4                   /* ggml's GGML_MAX_DIMS */
#define GG_MAX_DIM    (UINT64_C(1) << 62) /* largest ne[i]; ggml keeps them in int64 */
#define GG_MAX_ELEMS  (UINT64_C(1) << 60) /* largest element count of one tensor */
#define GG_DEF_ALIGN  32u /* data-section alignment when general.alignment is absent */
#define GG_MIN_KV     13u /* smallest metadata entry: key length, type, one byte */
#define GG_MIN_TENSOR 32u /* smallest tensor descriptor (name length .. offset) */
#define GG_Q8_0_BLOCK 32u /* values per q8_0 block */
#define GG_Q8_0_BYTES 34u /* bytes per q8_0 block: f16 scale, 32 int8 */
#define GG_ALIGN_KEY  "general.alignment"

enum {
    T_U8 = 0,
    T_I8,
    T_U16,
    T_I16,
    T_U32,
    T_I32,
    T_F32,
    T_BOOL,
    T_STR,
    T_ARR,
    T_U64,
    T_I64,
    T_F64,
    T_COUNT
};

/* Bytes of one scalar of each metadata type; 0 for string and array. */
static const uint8_t scalar_size[T_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
static const char *const type_names[T_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};

typedef struct gg_kv {
    rg_str key;
    uint32_t type;      /* T_*; for T_ARR the element type is etype */
    uint32_t etype;     /* arrays: element type */
    uint64_t count;     /* arrays: element count */
    const uint8_t *val; /* scalar bytes, string length field, or first array element */
} gg_kv;

struct rg_gguf {
    const uint8_t *base;
    size_t size;
    bool mapped;
    gg_kv *kv; /* sorted by key */
    size_t n_kv;
    rg_gguf_tensor *t; /* file order */
    size_t n_t;
    const rg_gguf_tensor **by_name; /* into t, sorted by name */
};

typedef struct cursor {
    const uint8_t *p;
    size_t n, off;
    char *err;
    size_t errlen;
    const char *what; /* path or "(memory)" for messages */
} cursor;

RG_PRINTF(2, 3) static rg_rc bad(cursor *c, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        int k = snprintf(c->err, c->errlen, "%s: ", c->what);
        if (k < 0 || (size_t)k >= c->errlen)
            return RG_EINVAL;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + k, c->errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return RG_EINVAL;
}

static size_t left(const cursor *c)
{
    return c->n - c->off;
}

static rg_rc need(cursor *c, uint64_t n, const char *what)
{
    if (n > left(c))
        return bad(c, "truncated: %s needs %llu bytes at offset %zu, %zu left", what,
                   (unsigned long long)n, c->off, left(c));
    return RG_OK;
}

static rg_rc rd32(cursor *c, uint32_t *v, const char *what)
{
    RG_TRY(need(c, 4, what));
    memcpy(v, c->p + c->off, 4);
    c->off += 4;
    return RG_OK;
}

static rg_rc rd64(cursor *c, uint64_t *v, const char *what)
{
    RG_TRY(need(c, 8, what));
    memcpy(v, c->p + c->off, 8);
    c->off += 8;
    return RG_OK;
}

/* A GGUF string of at most max bytes (max 0: bounded only by the file). */
static rg_rc rdstr(cursor *c, rg_str *s, uint64_t max, const char *what)
{
    uint64_t len;
    RG_TRY(rd64(c, &len, what));
    if (max && len > max)
        return bad(c, "%s of %llu bytes at offset %zu (limit %llu)", what, (unsigned long long)len,
                   c->off - 8, (unsigned long long)max);
    RG_TRY(need(c, len, what));
    s->p = (const char *)c->p + c->off;
    s->n = (size_t)len;
    c->off += (size_t)len;
    return RG_OK;
}

static int str_cmp(rg_str a, rg_str b)
{
    int r = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);
    return r ? r : (a.n > b.n) - (a.n < b.n);
}

/* ---- metadata ----------------------------------------------------------- */

/* Skips one value of element type et (not an array); strings are checked. */
static rg_rc skip_scalar(cursor *c, uint32_t et, const char *key)
{
    if (et == T_STR) {
        rg_str s;
        return rdstr(c, &s, 0, "a string value");
    }
    RG_TRY(need(c, scalar_size[et], key));
    c->off += scalar_size[et];
    return RG_OK;
}

static rg_rc read_array(cursor *c, gg_kv *kv)
{
    RG_TRY(rd32(c, &kv->etype, "an array's element type"));
    if (kv->etype >= T_COUNT)
        return bad(c, "key %.*s: array of unknown type %u", (int)kv->key.n, kv->key.p, kv->etype);
    if (kv->etype == T_ARR)
        return bad(c, "key %.*s: arrays of arrays are not supported", (int)kv->key.n, kv->key.p);
    RG_TRY(rd64(c, &kv->count, "an array's length"));
    kv->val = c->p + c->off;
    uint64_t each = kv->etype == T_STR ? 8 : scalar_size[kv->etype];
    if (kv->count > left(c) / each)
        return bad(c, "key %.*s: array of %llu %s does not fit in the %zu bytes left",
                   (int)kv->key.n, kv->key.p, (unsigned long long)kv->count, type_names[kv->etype],
                   left(c));
    if (kv->etype != T_STR) {
        c->off += (size_t)(kv->count * each);
        return RG_OK;
    }
    for (uint64_t i = 0; i < kv->count; i++)
        RG_TRY(skip_scalar(c, T_STR, "an array string"));
    return RG_OK;
}

static rg_rc read_kv(cursor *c, gg_kv *kv)
{
    RG_TRY(rdstr(c, &kv->key, GG_MAX_KEY, "a metadata key"));
    RG_TRY(rd32(c, &kv->type, "a metadata type"));
    if (kv->type >= T_COUNT)
        return bad(c, "key %.*s: unknown value type %u", (int)kv->key.n, kv->key.p, kv->type);
    if (kv->type == T_ARR)
        return read_array(c, kv);
    kv->val = c->p + c->off;
    return skip_scalar(c, kv->type, "a metadata value");
}

static int kv_cmp(const void *a, const void *b)
{
    return str_cmp(((const gg_kv *)a)->key, ((const gg_kv *)b)->key);
}

static const gg_kv *kv_find(const rg_gguf *g, const char *key)
{
    if (!g || !key)
        return NULL;
    rg_str k = rg_str_c(key);
    size_t lo = 0, hi = g->n_kv;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = str_cmp(g->kv[mid].key, k);
        if (r == 0)
            return &g->kv[mid];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static rg_rc read_metadata(cursor *c, rg_gguf *g, uint64_t n_kv, uint32_t *align)
{
    if (n_kv > left(c) / GG_MIN_KV)
        return bad(c, "%llu metadata entries cannot fit in %zu bytes", (unsigned long long)n_kv,
                   left(c));
    g->kv = rg_try_malloc((size_t)n_kv * sizeof *g->kv + 1);
    if (!g->kv)
        return RG_ENOMEM;
    for (uint64_t i = 0; i < n_kv; i++, g->n_kv++)
        RG_TRY(read_kv(c, &g->kv[i]));
    qsort(g->kv, g->n_kv, sizeof *g->kv, kv_cmp);
    for (size_t i = 1; i < g->n_kv; i++)
        if (str_cmp(g->kv[i - 1].key, g->kv[i].key) == 0)
            return bad(c, "duplicate metadata key %.*s", (int)g->kv[i].key.n, g->kv[i].key.p);
    *align = GG_DEF_ALIGN;
    const gg_kv *a = kv_find(g, GG_ALIGN_KEY);
    if (a) {
        if (a->type != T_U32)
            return bad(c, "%s is a %s, not a u32", GG_ALIGN_KEY, type_names[a->type]);
        memcpy(align, a->val, 4);
        if (*align == 0 || (*align & (*align - 1)))
            return bad(c, "%s %u is not a power of two", GG_ALIGN_KEY, *align);
    }
    return RG_OK;
}

/* ---- tensors ------------------------------------------------------------ */

static const char *ggml_type_name(uint32_t t)
{
    static const char *const names[] = {"f32",  "f16",  "q4_0", "q4_1", "q4_2", "q4_3",
                                        "q5_0", "q5_1", "q8_0", "q8_1", "q2_K", "q3_K",
                                        "q4_K", "q5_K", "q6_K", "q8_K"};
    return t < RG_ARRAY_LEN(names) ? names[t] : t == 30 ? "bf16" : "unknown";
}

/* Bytes of t's data from its type and shape; refuses other types. */
static rg_rc tensor_bytes(cursor *c, rg_gguf_tensor *t)
{
    switch (t->type) {
    case RG_GGUF_F32: t->nbytes = t->n * 4; return RG_OK;
    case RG_GGUF_F16: t->nbytes = t->n * 2; return RG_OK;
    case RG_GGUF_Q8_0:
        if (t->ne[0] % GG_Q8_0_BLOCK)
            return bad(c, "tensor %.*s: q8_0 row of %llu values is not a multiple of %u",
                       (int)t->name.n, t->name.p, (unsigned long long)t->ne[0], GG_Q8_0_BLOCK);
        t->nbytes = t->n / GG_Q8_0_BLOCK * GG_Q8_0_BYTES;
        return RG_OK;
    default:
        return bad(c, "tensor %.*s: ggml type %u (%s) is not supported (f32, f16, q8_0 are)",
                   (int)t->name.n, t->name.p, t->type, ggml_type_name(t->type));
    }
}

static rg_rc read_tensor(cursor *c, rg_gguf_tensor *t, uint64_t *offset)
{
    RG_TRY(rdstr(c, &t->name, GG_MAX_NAME, "a tensor name"));
    uint32_t nd;
    RG_TRY(rd32(c, &nd, "a tensor's dimension count"));
    if (nd < 1 || nd > GG_MAX_DIMS)
        return bad(c, "tensor %.*s: %u dimensions (1 to %d)", (int)t->name.n, t->name.p, nd,
                   GG_MAX_DIMS);
    t->n_dims = (int)nd;
    t->n = 1;
    for (int i = 0; i < GG_MAX_DIMS; i++) {
        t->ne[i] = 1;
        if (i < (int)nd)
            RG_TRY(rd64(c, &t->ne[i], "a tensor dimension"));
        if (t->ne[i] > GG_MAX_DIM || __builtin_mul_overflow(t->n, t->ne[i], &t->n) ||
            t->n > GG_MAX_ELEMS)
            return bad(c, "tensor %.*s: shape too large", (int)t->name.n, t->name.p);
    }
    RG_TRY(rd32(c, &t->type, "a tensor type"));
    RG_TRY(rd64(c, offset, "a tensor offset"));
    return tensor_bytes(c, t);
}

/* A tensor's data offset as read, and its index in file order. */
typedef struct gg_place {
    uint64_t off;
    size_t idx;
} gg_place;

static int name_cmp(const void *a, const void *b)
{
    return str_cmp((*(const rg_gguf_tensor *const *)a)->name,
                   (*(const rg_gguf_tensor *const *)b)->name);
}

static int off_cmp(const void *a, const void *b)
{
    uint64_t x = ((const gg_place *)a)->off, y = ((const gg_place *)b)->off;
    return (x > y) - (x < y);
}

/* Offsets aligned, inside the data section, disjoint; then data pointers. */
static rg_rc place_tensors(cursor *c, rg_gguf *g, gg_place *pl, uint32_t align)
{
    size_t start = c->off;
    if (g->n_t == 0)
        return RG_OK;
    if (start % align)
        start += align - start % align;
    if (start > c->n)
        return bad(c, "truncated: no data section after the tensor descriptors");
    uint64_t data = c->n - start;
    qsort(pl, g->n_t, sizeof *pl, off_cmp);
    rg_rc rc = RG_OK;
    uint64_t end = 0;
    for (size_t k = 0; k < g->n_t && rc == RG_OK; k++) {
        rg_gguf_tensor *t = &g->t[pl[k].idx];
        uint64_t o = pl[k].off;
        if (o % align)
            rc = bad(c, "tensor %.*s: offset %llu is not a multiple of %u", (int)t->name.n,
                     t->name.p, (unsigned long long)o, align);
        else if (o > data || t->nbytes > data - o)
            rc = bad(c, "tensor %.*s: %llu bytes at %llu run past the data section (%llu bytes)",
                     (int)t->name.n, t->name.p, (unsigned long long)t->nbytes,
                     (unsigned long long)o, (unsigned long long)data);
        else if (o < end)
            rc = bad(c, "tensor %.*s overlaps the tensor before it", (int)t->name.n, t->name.p);
        else {
            end = o + t->nbytes;
            t->data = c->p + start + o;
        }
    }
    return rc;
}

static rg_rc read_tensors(cursor *c, rg_gguf *g, uint64_t n_t, uint32_t align)
{
    if (n_t > left(c) / GG_MIN_TENSOR)
        return bad(c, "%llu tensors cannot fit in %zu bytes", (unsigned long long)n_t, left(c));
    g->t = rg_try_malloc((size_t)n_t * sizeof *g->t + 1);
    g->by_name = rg_try_malloc((size_t)n_t * sizeof *g->by_name + 1);
    gg_place *pl = rg_try_malloc((size_t)n_t * sizeof *pl + 1);
    rg_rc rc = g->t && g->by_name && pl ? RG_OK : RG_ENOMEM;
    for (uint64_t i = 0; i < n_t && rc == RG_OK; i++) {
        memset(&g->t[i], 0, sizeof g->t[i]);
        pl[i].idx = (size_t)i;
        rc = read_tensor(c, &g->t[i], &pl[i].off);
        g->by_name[i] = &g->t[i];
        g->n_t = (size_t)i + 1;
    }
    if (rc == RG_OK) {
        qsort(g->by_name, g->n_t, sizeof *g->by_name, name_cmp);
        for (size_t i = 1; i < g->n_t && rc == RG_OK; i++) {
            rg_str a = g->by_name[i - 1]->name, b = g->by_name[i]->name;
            if (str_cmp(a, b) == 0)
                rc = bad(c, "duplicate tensor name %.*s", (int)b.n, b.p);
        }
    }
    if (rc == RG_OK)
        rc = place_tensors(c, g, pl, align);
    rg_free(pl);
    return rc;
}

/* ---- open and close ----------------------------------------------------- */

static rg_rc parse(cursor *c, rg_gguf *g)
{
    uint32_t version, align = GG_DEF_ALIGN;
    uint64_t n_t, n_kv;
    RG_TRY(need(c, 4, "the magic"));
    if (memcmp(c->p, GG_MAGIC, 4) != 0)
        return bad(c, "not a GGUF file (bad magic)");
    c->off = 4;
    RG_TRY(rd32(c, &version, "the version"));
    if (version == 0x02000000u || version == 0x03000000u)
        return bad(c, "big-endian GGUF is not supported");
    if (version != 2 && version != 3)
        return bad(c, "GGUF version %u is not supported (2 and 3 are)", version);
    RG_TRY(rd64(c, &n_t, "the tensor count"));
    RG_TRY(rd64(c, &n_kv, "the metadata count"));
    if (n_t > UINT32_MAX)
        return bad(c, "%llu tensors", (unsigned long long)n_t);
    RG_TRY(read_metadata(c, g, n_kv, &align));
    return read_tensors(c, g, n_t, align);
}

rg_rc rg_gguf_open_mem(const void *p, size_t n, rg_gguf **out, char *err, size_t errlen)
{
    *out = NULL;
    rg_gguf *g = rg_xcalloc(1, sizeof *g);
    g->base = p, g->size = n;
    cursor c = {.p = p, .n = n, .err = err, .errlen = errlen, .what = "(memory)"};
    rg_rc rc = parse(&c, g);
    if (rc != RG_OK) {
        if (rc == RG_ENOMEM && err && errlen)
            snprintf(err, errlen, "%s: out of memory reading the GGUF header", c.what);
        rg_gguf_close(g);
        return rc;
    }
    *out = g;
    return RG_OK;
}

rg_rc rg_gguf_open(const char *path, rg_gguf **out, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        int e = fd < 0 ? errno : 0;
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path,
                     e ? strerror(e) : "not a regular, non-empty file");
        if (fd >= 0)
            close(fd);
        return RG_EIO;
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot map: %s", path, strerror(e));
        return RG_EIO;
    }
    rg_gguf *g = rg_xcalloc(1, sizeof *g);
    g->base = map, g->size = (size_t)st.st_size, g->mapped = true;
    cursor c = {.p = map, .n = g->size, .err = err, .errlen = errlen, .what = path};
    rg_rc rc = parse(&c, g);
    if (rc != RG_OK) {
        if (rc == RG_ENOMEM && err && errlen)
            snprintf(err, errlen, "%s: out of memory reading the GGUF header", path);
        rg_gguf_close(g);
        return rc;
    }
    *out = g;
    return RG_OK;
}

void rg_gguf_close(rg_gguf *g)
{
    if (!g)
        return;
    if (g->mapped)
        munmap((void *)g->base, g->size);
    rg_free(g->kv);
    rg_free(g->t);
    rg_free(g->by_name);
    rg_free(g);
}

/* ---- metadata lookups --------------------------------------------------- */

/* The integer at kv as int64/uint64 (false for non-integers). */
static bool kv_int(const gg_kv *kv, bool *neg, uint64_t *mag)
{
    const uint8_t *v = kv->val;
    int64_t s = 0;
    uint64_t u = 0;
    bool is_signed = true;
    switch (kv->type) {
    case T_U8: u = v[0], is_signed = false; break;
    case T_I8: s = (int8_t)v[0]; break;
    case T_U16: {
        uint16_t x;
        memcpy(&x, v, 2);
        u = x, is_signed = false;
    } break;
    case T_I16: {
        int16_t x;
        memcpy(&x, v, 2);
        s = x;
    } break;
    case T_U32: {
        uint32_t x;
        memcpy(&x, v, 4);
        u = x, is_signed = false;
    } break;
    case T_I32: {
        int32_t x;
        memcpy(&x, v, 4);
        s = x;
    } break;
    case T_U64: memcpy(&u, v, 8), is_signed = false; break;
    case T_I64: memcpy(&s, v, 8); break;
    default: return false;
    }
    *neg = is_signed && s < 0;
    *mag = is_signed ? (s < 0 ? 0 : (uint64_t)s) : u;
    return true;
}

bool rg_gguf_u32(const rg_gguf *g, const char *key, uint32_t *out)
{
    const gg_kv *kv = kv_find(g, key);
    bool neg;
    uint64_t v;
    if (!kv || !kv_int(kv, &neg, &v) || neg || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

bool rg_gguf_f32(const rg_gguf *g, const char *key, float *out)
{
    const gg_kv *kv = kv_find(g, key);
    if (kv && kv->type == T_F32) {
        memcpy(out, kv->val, 4);
        return true;
    }
    if (kv && kv->type == T_F64) {
        double d;
        memcpy(&d, kv->val, 8);
        *out = (float)d;
        return true;
    }
    return false;
}

bool rg_gguf_str(const rg_gguf *g, const char *key, rg_str *out)
{
    const gg_kv *kv = kv_find(g, key);
    if (!kv || kv->type != T_STR)
        return false;
    uint64_t len;
    memcpy(&len, kv->val, 8);
    *out = (rg_str){(const char *)kv->val + 8, (size_t)len};
    return true;
}

bool rg_gguf_bool(const rg_gguf *g, const char *key, bool *out)
{
    const gg_kv *kv = kv_find(g, key);
    if (!kv || kv->type != T_BOOL)
        return false;
    *out = kv->val[0] != 0;
    return true;
}

bool rg_gguf_strs(const rg_gguf *g, const char *key, rg_str *out, size_t max, size_t *n)
{
    const gg_kv *kv = kv_find(g, key);
    if (!kv || kv->type != T_ARR || kv->etype != T_STR)
        return false;
    *n = (size_t)kv->count;
    const uint8_t *p = kv->val;
    for (size_t i = 0; out && i < *n && i < max; i++) {
        uint64_t len;
        memcpy(&len, p, 8);
        out[i] = (rg_str){(const char *)p + 8, (size_t)len};
        p += 8 + len;
    }
    return true;
}

/* ---- tensors ------------------------------------------------------------ */

const rg_gguf_tensor *rg_gguf_tensor_find(const rg_gguf *g, const char *name)
{
    if (!g || !name)
        return NULL;
    rg_str k = rg_str_c(name);
    size_t lo = 0, hi = g->n_t;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const rg_gguf_tensor *t = g->by_name[mid];
        int r = str_cmp(t->name, k);
        if (r == 0)
            return t;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t rg_gguf_tensor_count(const rg_gguf *g)
{
    return g ? g->n_t : 0;
}

const rg_gguf_tensor *rg_gguf_tensor_at(const rg_gguf *g, size_t i)
{
    return g && i < g->n_t ? &g->t[i] : NULL;
}

float rg_gguf_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = h >> 10 & 0x1F, man = h & 0x3FF, u;
    if (exp == 0x1F) {
        u = sign | 0x7F800000u | man << 13; /* inf, NaN (payload kept) */
    } else if (exp) {
        u = sign | (exp + 112) << 23 | man << 13;
    } else if (!man) {
        u = sign; /* signed zero */
    } else {      /* subnormal: man * 2^-24, normalised */
        int e = 113;
        while (!(man & 0x400)) {
            man <<= 1;
            e--;
        }
        u = sign | (uint32_t)e << 23 | (man & 0x3FF) << 13;
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

rg_rc rg_gguf_to_f32(const rg_gguf_tensor *t, float *out)
{
    const uint8_t *p = t->data;
    switch (t->type) {
    case RG_GGUF_F32: memcpy(out, p, (size_t)t->n * 4); return RG_OK;
    case RG_GGUF_F16:
        for (uint64_t i = 0; i < t->n; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            out[i] = rg_gguf_f16_to_f32(h);
        }
        return RG_OK;
    case RG_GGUF_Q8_0:
        for (uint64_t b = 0; b < t->n / GG_Q8_0_BLOCK; b++, p += GG_Q8_0_BYTES) {
            uint16_t h;
            memcpy(&h, p, 2);
            float d = rg_gguf_f16_to_f32(h);
            for (unsigned j = 0; j < GG_Q8_0_BLOCK; j++)
                out[b * GG_Q8_0_BLOCK + j] = d * (float)(int8_t)p[2 + j];
        }
        return RG_OK;
    default: return RG_EINVAL;
    }
}
