/*
 * test_gguf.c - the GGUF reader over files written byte by byte here.
 *
 * A small writer builds a valid v3 file with one metadata entry of every
 * type (arrays of integers and of strings included) and three tensors of
 * known values (f32, f16, q8_0); it is read back exactly.  Then every prefix
 * of it, and copies with one hostile field (counts and lengths of 2^63,
 * shapes that overflow, 0 or 5 dimensions, misaligned, out-of-bounds and
 * overlapping offsets, duplicate names and keys, unknown types, bad
 * alignments, bad magic and versions) must be refused with RG_EINVAL and no
 * out-of-bounds read (each copy is its own heap block, so ASan would see
 * one).  f16 special values and q8_0 dequantisation are checked bit-exactly.
 */
#include "harness.h"
#include "core/alloc.h"
#include "embed/gguf.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct bytes {
    unsigned char *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = rg_xrealloc(b->p, b->cap);
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put8(bytes *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put16(bytes *b, uint16_t v)
{
    put(b, &v, 2);
}

static void put32(bytes *b, uint32_t v)
{
    put(b, &v, 4);
}

static void put64(bytes *b, uint64_t v)
{
    put(b, &v, 8);
}

static void putstr(bytes *b, const char *s)
{
    put64(b, strlen(s));
    put(b, s, strlen(s));
}

static void set32(bytes *b, size_t at, uint32_t v)
{
    memcpy(b->p + at, &v, 4);
}

static void set64(bytes *b, size_t at, uint64_t v)
{
    memcpy(b->p + at, &v, 8);
}

/* Positions of fields in the valid file, for the hostile copies. */
static struct {
    size_t n_tensors, n_kv, key0_len, str_len, arr_count, sarr_count, align_val;
    size_t t_name_len[3], t_ndims[3], t_ne0[3], t_ne1[3], t_type[3], t_off[3];
} at;

enum { ALIGN = 64 };

static const float w32[6] = {0, 0.5f, -1, 1.5f, 2, -2.5f};
static const uint16_t w16_bits[4] = {0x3C00, 0xC000, 0x3800, 0x7BFF}; /* 1 -2 0.5 65504 */
static const float w16[4] = {1, -2, 0.5f, 65504};

/* The valid file: 15 metadata entries, tensors w32 [3,2] f32, w16 [4] f16,
 * q8 [32,2] q8_0, data in that order, ending at q8's last byte. */
static bytes build(void)
{
    bytes b = {0};
    put(&b, "GGUF", 4);
    put32(&b, 3);
    at.n_tensors = b.n;
    put64(&b, 3);
    at.n_kv = b.n;
    put64(&b, 15);
    at.key0_len = b.n;
    putstr(&b, "general.architecture");
    put32(&b, 8);
    at.str_len = b.n;
    putstr(&b, "bert");
    putstr(&b, "k.u8"), put32(&b, 0), put8(&b, 200);
    putstr(&b, "k.i8"), put32(&b, 1), put8(&b, (uint8_t)-5);
    putstr(&b, "k.u16"), put32(&b, 2), put16(&b, 60000);
    putstr(&b, "k.i16"), put32(&b, 3), put16(&b, (uint16_t)-300);
    putstr(&b, "k.u32"), put32(&b, 4), put32(&b, 4000000000u);
    putstr(&b, "k.i32"), put32(&b, 5), put32(&b, (uint32_t)-7);
    float f = 1.5f;
    putstr(&b, "k.f32"), put32(&b, 6), put(&b, &f, 4);
    putstr(&b, "k.bool"), put32(&b, 7), put8(&b, 1);
    putstr(&b, "k.u64"), put32(&b, 10), put64(&b, UINT64_C(1) << 40);
    putstr(&b, "k.i64"), put32(&b, 11), put64(&b, (uint64_t) - (INT64_C(1) << 40));
    double d = 0.25;
    putstr(&b, "k.f64"), put32(&b, 12), put(&b, &d, 8);
    putstr(&b, "k.arr"), put32(&b, 9), put32(&b, 5);
    at.arr_count = b.n;
    put64(&b, 3), put32(&b, 1), put32(&b, 2), put32(&b, 3);
    putstr(&b, "k.strs"), put32(&b, 9), put32(&b, 8);
    at.sarr_count = b.n;
    put64(&b, 3), putstr(&b, "a"),
        putstr(&b, "\xe2\x96\x81"
                   "bc"),
        putstr(&b, "");
    putstr(&b, "general.alignment"), put32(&b, 4);
    at.align_val = b.n;
    put32(&b, ALIGN);
    static const char *const names[3] = {"w32", "w16", "q8"};
    static const uint64_t ne0[3] = {3, 4, 32}, ne1[3] = {2, 1, 2};
    static const uint32_t types[3] = {0, 1, 8};
    static const uint64_t offs[3] = {0, ALIGN, 2 * ALIGN};
    for (int i = 0; i < 3; i++) {
        at.t_name_len[i] = b.n;
        putstr(&b, names[i]);
        at.t_ndims[i] = b.n;
        put32(&b, i == 1 ? 1 : 2);
        at.t_ne0[i] = b.n;
        put64(&b, ne0[i]);
        at.t_ne1[i] = b.n;
        if (i != 1)
            put64(&b, ne1[i]);
        at.t_type[i] = b.n;
        put32(&b, types[i]);
        at.t_off[i] = b.n;
        put64(&b, offs[i]);
    }
    while (b.n % ALIGN)
        put8(&b, 0);
    size_t data = b.n;
    put(&b, w32, sizeof w32);
    while (b.n < data + ALIGN)
        put8(&b, 0xEE);
    for (int i = 0; i < 4; i++)
        put16(&b, w16_bits[i]);
    while (b.n < data + 2 * ALIGN)
        put8(&b, 0xEE);
    for (int blk = 0; blk < 2; blk++) {
        put16(&b, blk ? 0x3400 : 0x3800); /* d = 0.25, 0.5 */
        for (int j = 0; j < 32; j++)
            put8(&b, (uint8_t)(int8_t)(j - 16 + blk * 100));
    }
    return b;
}

/* Opens a private heap copy of p[0..n) so that ASan sees any overread. */
static rg_rc open_copy(const void *p, size_t n, rg_gguf **g, char *err, size_t errlen)
{
    void *copy = rg_xmalloc(n ? n : 1);
    memcpy(copy, p, n);
    rg_rc rc = rg_gguf_open_mem(copy, n, g, err, errlen);
    if (*g)
        rg_gguf_close(*g);
    *g = NULL;
    rg_free(copy);
    return rc;
}

static void check_valid(const rg_gguf *g)
{
    uint32_t u;
    float f;
    bool bo;
    rg_str s;
    CHECK(rg_gguf_str(g, "general.architecture", &s) && rg_str_eqz(s, "bert"));
    CHECK(rg_gguf_u32(g, "k.u8", &u) && u == 200);
    CHECK(!rg_gguf_u32(g, "k.i8", &u)); /* -5 does not fit */
    CHECK(rg_gguf_u32(g, "k.u16", &u) && u == 60000);
    CHECK(!rg_gguf_u32(g, "k.i16", &u));
    CHECK(rg_gguf_u32(g, "k.u32", &u) && u == 4000000000u);
    CHECK(!rg_gguf_u32(g, "k.i32", &u));
    CHECK(!rg_gguf_u32(g, "k.u64", &u)); /* 2^40 does not fit */
    CHECK(!rg_gguf_u32(g, "k.i64", &u));
    CHECK(!rg_gguf_u32(g, "k.f32", &u));
    CHECK(!rg_gguf_u32(g, "k.bool", &u));
    CHECK(!rg_gguf_u32(g, "k.arr", &u));
    CHECK(rg_gguf_u32(g, "general.alignment", &u) && u == ALIGN);
    CHECK(rg_gguf_f32(g, "k.f32", &f) && f == 1.5f);
    CHECK(rg_gguf_f32(g, "k.f64", &f) && f == 0.25f);
    CHECK(!rg_gguf_f32(g, "k.u8", &f));
    CHECK(rg_gguf_bool(g, "k.bool", &bo) && bo);
    CHECK(!rg_gguf_bool(g, "k.u8", &bo));
    CHECK(!rg_gguf_str(g, "k.strs", &s));
    CHECK(!rg_gguf_str(g, "missing", &s));
    rg_str v[3];
    size_t n = 0;
    CHECK(rg_gguf_strs(g, "k.strs", NULL, 0, &n) && n == 3);
    CHECK(rg_gguf_strs(g, "k.strs", v, 2, &n) && n == 3);
    CHECK(rg_str_eqz(v[0], "a") && rg_str_eqz(v[1], "\xe2\x96\x81"
                                                    "bc"));
    CHECK(rg_gguf_strs(g, "k.strs", v, 3, &n) && v[2].n == 0);
    CHECK(!rg_gguf_strs(g, "k.arr", v, 3, &n));

    CHECK_EQ_INT(rg_gguf_tensor_count(g), 3);
    CHECK(rg_gguf_tensor_at(g, 3) == NULL);
    CHECK(rg_gguf_tensor_find(g, "nope") == NULL);
    const rg_gguf_tensor *t = rg_gguf_tensor_find(g, "w32");
    CHECK(t && t == rg_gguf_tensor_at(g, 0));
    if (!t)
        return;
    CHECK(t->type == RG_GGUF_F32 && t->n_dims == 2 && t->ne[0] == 3 && t->ne[1] == 2);
    CHECK(t->ne[2] == 1 && t->ne[3] == 1 && t->n == 6 && t->nbytes == 24);
    float out[64];
    CHECK(rg_gguf_to_f32(t, out) == RG_OK && memcmp(out, w32, sizeof w32) == 0);
    t = rg_gguf_tensor_find(g, "w16");
    CHECK(t && t->type == RG_GGUF_F16 && t->n_dims == 1 && t->n == 4 && t->nbytes == 8);
    CHECK(t && rg_gguf_to_f32(t, out) == RG_OK && memcmp(out, w16, sizeof w16) == 0);
    t = rg_gguf_tensor_find(g, "q8");
    CHECK(t && t->type == RG_GGUF_Q8_0 && t->n == 64 && t->nbytes == 68);
    if (t && rg_gguf_to_f32(t, out) == RG_OK) {
        for (int j = 0; j < 32; j++) {
            CHECK(out[j] == 0.5f * (float)(j - 16));
            CHECK(out[32 + j] == 0.25f * (float)(int8_t)(uint8_t)(j - 16 + 100));
        }
    }
    rg_gguf_tensor bogus = *t;
    bogus.type = 2;
    CHECK(rg_gguf_to_f32(&bogus, out) == RG_EINVAL);
}

TEST(gguf_valid_file_reads_back_exactly)
{
    bytes b = build();
    rg_gguf *g = NULL;
    char err[256] = "";
    CHECK(rg_gguf_open_mem(b.p, b.n, &g, err, sizeof err) == RG_OK);
    if (g)
        check_valid(g);
    rg_gguf_close(g);

    /* version 2 is the same layout */
    set32(&b, 4, 2);
    CHECK(rg_gguf_open_mem(b.p, b.n, &g, err, sizeof err) == RG_OK);
    rg_gguf_close(g);

    /* through a file and mmap */
    char path[] = "/tmp/ragd-test-gguf-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, b.p, b.n) == (ssize_t)b.n);
    close(fd);
    CHECK(rg_gguf_open(path, &g, err, sizeof err) == RG_OK);
    if (g)
        check_valid(g);
    rg_gguf_close(g);
    unlink(path);
    CHECK(rg_gguf_open(path, &g, err, sizeof err) == RG_EIO && g == NULL);
    CHECK(strstr(err, path) != NULL);
    rg_gguf_close(NULL);
    rg_free(b.p);
}

TEST(gguf_every_truncation_refused)
{
    bytes b = build();
    for (size_t n = 0; n < b.n; n++) {
        rg_gguf *g = (rg_gguf *)1;
        char err[256] = "";
        rg_rc rc = open_copy(b.p, n, &g, err, sizeof err);
        if (rc != RG_EINVAL || !err[0]) {
            char m[64];
            snprintf(m, sizeof m, "prefix of %zu bytes accepted", n);
            rg_test_fail(__FILE__, __LINE__, m);
        }
    }
    rg_free(b.p);
}

/* Applies one mutation to a fresh valid file; expects refusal with a
 * message containing want. */
static void refused(int line, void (*mut)(bytes *, uint64_t), uint64_t arg, const char *want)
{
    bytes b = build();
    mut(&b, arg);
    rg_gguf *g = NULL;
    char err[256] = "";
    rg_rc rc = open_copy(b.p, b.n, &g, err, sizeof err);
    if (rc != RG_EINVAL || !strstr(err, want)) {
        char m[400];
        snprintf(m, sizeof m, "mutation at line %d: rc %d, err \"%s\", wanted \"%s\"", line,
                 (int)rc, err, want);
        rg_test_fail(__FILE__, __LINE__, m);
    }
    rg_free(b.p);
}

static void m_n_tensors(bytes *b, uint64_t v)
{
    set64(b, at.n_tensors, v);
}
static void m_n_kv(bytes *b, uint64_t v)
{
    set64(b, at.n_kv, v);
}
static void m_key0_len(bytes *b, uint64_t v)
{
    set64(b, at.key0_len, v);
}
static void m_str_len(bytes *b, uint64_t v)
{
    set64(b, at.str_len, v);
}
static void m_arr_count(bytes *b, uint64_t v)
{
    set64(b, at.arr_count, v);
}
static void m_sarr_count(bytes *b, uint64_t v)
{
    set64(b, at.sarr_count, v);
}
static void m_arr_type(bytes *b, uint64_t v)
{
    set32(b, at.arr_count - 4, (uint32_t)v);
}
static void m_kv_type(bytes *b, uint64_t v)
{
    set32(b, at.str_len - 4, (uint32_t)v);
}
static void m_align(bytes *b, uint64_t v)
{
    set32(b, at.align_val, (uint32_t)v);
}
static void m_align_type(bytes *b, uint64_t v)
{
    set32(b, at.align_val - 4, (uint32_t)v); /* i32: same bytes, wrong type */
}
static void m_ne0(bytes *b, uint64_t v)
{
    set64(b, at.t_ne0[0], v);
}
static void m_ne1(bytes *b, uint64_t v)
{
    set64(b, at.t_ne1[0], v);
}
static void m_ndims(bytes *b, uint64_t v)
{
    set32(b, at.t_ndims[1], (uint32_t)v);
}
static void m_type(bytes *b, uint64_t v)
{
    set32(b, at.t_type[1], (uint32_t)v);
}
static void m_q8_ne0(bytes *b, uint64_t v)
{
    set64(b, at.t_ne0[2], v);
}
static void m_off1(bytes *b, uint64_t v)
{
    set64(b, at.t_off[1], v);
}
static void m_off2(bytes *b, uint64_t v)
{
    set64(b, at.t_off[2], v);
}
static void m_name_len(bytes *b, uint64_t v)
{
    set64(b, at.t_name_len[0], v);
}
static void m_dup_name(bytes *b, uint64_t v)
{
    (void)v; /* "w16" -> "w32" */
    b->p[at.t_name_len[1] + 8 + 1] = '3', b->p[at.t_name_len[1] + 8 + 2] = '2';
}
static void m_dup_key(bytes *b, uint64_t v)
{
    (void)v; /* "k.i8" -> "k.u8" */
    size_t k = at.key0_len;
    for (size_t i = 0; i + 4 < b->n; i++)
        if (memcmp(b->p + i, "k.i8", 4) == 0) {
            k = i;
            break;
        }
    b->p[k + 2] = 'u';
}
static void m_magic(bytes *b, uint64_t v)
{
    b->p[0] = (unsigned char)v;
}
static void m_version(bytes *b, uint64_t v)
{
    set32(b, 4, (uint32_t)v);
}

#define REFUSED(mut, arg, want) refused(__LINE__, mut, arg, want)

TEST(gguf_hostile_headers_refused)
{
    const uint64_t huge = UINT64_C(1) << 63;
    REFUSED(m_n_tensors, huge, "tensors");
    REFUSED(m_n_tensors, UINT64_C(1) << 60, "tensors");
    REFUSED(m_n_tensors, 4, "");
    REFUSED(m_n_kv, huge, "metadata entries cannot fit");
    REFUSED(m_n_kv, UINT64_MAX, "metadata entries cannot fit");
    REFUSED(m_n_kv, 16, "");
    REFUSED(m_key0_len, huge, "limit");
    REFUSED(m_key0_len, 65537, "limit");
    REFUSED(m_key0_len, 60000, "truncated");
    REFUSED(m_str_len, huge, "truncated");
    REFUSED(m_str_len, UINT64_MAX, "truncated");
    REFUSED(m_arr_count, huge, "does not fit");
    REFUSED(m_arr_count, UINT64_C(1) << 62, "does not fit");
    REFUSED(m_sarr_count, huge, "does not fit");
    REFUSED(m_sarr_count, 1000, "");
    REFUSED(m_arr_type, 9, "arrays of arrays");
    REFUSED(m_arr_type, 13, "unknown type");
    REFUSED(m_kv_type, 13, "unknown value type");
    REFUSED(m_kv_type, 0xFFFFFFFFu, "unknown value type");
    REFUSED(m_align, 0, "power of two");
    REFUSED(m_align, 48, "power of two");
    REFUSED(m_align_type, 5, "not a u32");
    REFUSED(m_align, 128, "not a multiple of 128");
    REFUSED(m_ne0, huge, "shape too large");
    REFUSED(m_ne0, UINT64_C(1) << 32, "run past");
    REFUSED(m_ne1, UINT64_C(1) << 62, "shape too large");
    REFUSED(m_ne0, 1000, "run past");
    REFUSED(m_ndims, 0, "0 dimensions");
    REFUSED(m_ndims, 5, "5 dimensions");
    REFUSED(m_ndims, 0xFFFFFFFFu, "dimensions");
    REFUSED(m_type, 2, "ggml type 2 (q4_0)");
    REFUSED(m_type, 12345, "ggml type 12345 (unknown)");
    REFUSED(m_q8_ne0, 16, "not a multiple of 32");
    REFUSED(m_off1, 1, "not a multiple of 64");
    REFUSED(m_off1, 0, "overlaps");
    REFUSED(m_off2, ALIGN, "overlaps");
    REFUSED(m_off2, 3 * ALIGN, "run past");
    REFUSED(m_off2, huge, "run past");
    REFUSED(m_off2, UINT64_MAX - 63, "run past");
    REFUSED(m_name_len, 257, "limit");
    REFUSED(m_name_len, huge, "limit");
    REFUSED(m_dup_name, 0, "duplicate tensor name w32");
    REFUSED(m_dup_key, 0, "duplicate metadata key k.u8");
    REFUSED(m_magic, 'X', "bad magic");
    REFUSED(m_version, 1, "version 1");
    REFUSED(m_version, 4, "version 4");
    REFUSED(m_version, 0x03000000u, "big-endian");
    REFUSED(m_version, 0x02000000u, "big-endian");
}

TEST(gguf_empty_and_minimal_files)
{
    bytes b = {0};
    put(&b, "GGUF", 4), put32(&b, 3), put64(&b, 0), put64(&b, 0);
    rg_gguf *g = NULL;
    char err[128];
    CHECK(rg_gguf_open_mem(b.p, b.n, &g, err, sizeof err) == RG_OK);
    CHECK(rg_gguf_tensor_count(g) == 0 && rg_gguf_tensor_at(g, 0) == NULL);
    uint32_t u;
    CHECK(!rg_gguf_u32(g, "general.alignment", &u));
    rg_gguf_close(g);
    /* a tensor whose data section is missing entirely */
    set64(&b, 8, 1);
    putstr(&b, "t"), put32(&b, 1), put64(&b, 1), put32(&b, 0), put64(&b, 0);
    CHECK(rg_gguf_open_mem(b.p, b.n, &g, err, sizeof err) == RG_EINVAL);
    CHECK(strstr(err, "(memory)") == err);
    /* err may be NULL */
    CHECK(rg_gguf_open_mem(b.p, b.n, &g, NULL, 0) == RG_EINVAL && g == NULL);
    rg_free(b.p);
}

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

TEST(gguf_f16_conversion_exact)
{
    CHECK(bits(rg_gguf_f16_to_f32(0x0000)) == 0x00000000u);
    CHECK(bits(rg_gguf_f16_to_f32(0x8000)) == 0x80000000u);
    CHECK(rg_gguf_f16_to_f32(0x3C00) == 1.0f);
    CHECK(rg_gguf_f16_to_f32(0xC000) == -2.0f);
    CHECK(rg_gguf_f16_to_f32(0x7BFF) == 65504.0f);
    CHECK(rg_gguf_f16_to_f32(0x0400) == ldexpf(1, -14)); /* smallest normal */
    CHECK(rg_gguf_f16_to_f32(0x0001) == ldexpf(1, -24)); /* smallest subnormal */
    CHECK(rg_gguf_f16_to_f32(0x8001) == -ldexpf(1, -24));
    CHECK(rg_gguf_f16_to_f32(0x03FF) == ldexpf(1023, -24)); /* largest subnormal */
    CHECK(rg_gguf_f16_to_f32(0x0200) == ldexpf(1, -15));
    CHECK(rg_gguf_f16_to_f32(0x3555) == ldexpf(0x555 | 0x400, -12)); /* ~0.333 */
    CHECK(bits(rg_gguf_f16_to_f32(0x7C00)) == 0x7F800000u);          /* +inf */
    CHECK(bits(rg_gguf_f16_to_f32(0xFC00)) == 0xFF800000u);          /* -inf */
    CHECK(isnan(rg_gguf_f16_to_f32(0x7E00)));
    CHECK(bits(rg_gguf_f16_to_f32(0x7C01)) == 0x7F802000u); /* signalling NaN payload kept */
    CHECK(isnan(rg_gguf_f16_to_f32(0xFFFF)));
    /* every finite half: exact against ldexp of its parts */
    for (uint32_t h = 0; h < 0x10000; h++) {
        uint32_t e = h >> 10 & 0x1F, m = h & 0x3FF;
        if (e == 0x1F)
            continue;
        float want = e ? ldexpf((float)(m | 0x400), (int)e - 25) : ldexpf((float)m, -24);
        if (h & 0x8000)
            want = -want;
        if (bits(rg_gguf_f16_to_f32((uint16_t)h)) != bits(want)) {
            CHECK(!"f16 value converted wrongly");
            break;
        }
    }
}
