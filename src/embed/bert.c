/*
 * bert.c - the BERT-family sentence encoder over GGUF files (see bert.h for
 * what is accepted and the limits).
 *
 * Load: rg_gguf validates the file; this file checks the architecture, the
 * hyper-parameters against named limits and every tensor's presence, type
 * and shape, then widens every weight to float32 (the Q, K and V projections
 * of a layer into one [3h, h] matrix, so that one GEMM computes all three)
 * and builds the WordPiece tokenizer.  The mapping is closed after load;
 * the model keeps ~4 bytes per parameter.
 *
 * embed(): every text is tokenized first ([CLS] pieces [SEP], at most
 * bert.context_length tokens).  Sequences are then packed back to back -
 * no padding - into batches of at most BERT_BATCH_TOKENS tokens: every
 * operation but attention works row by row, so a batch is one [tokens, h]
 * matrix and each projection one cblas_sgemm over all its rows; attention
 * runs per sequence and head over that sequence's own rows only, which is
 * exactly what a padding mask would compute, without the padded work.
 * Mean pooling averages every token of the sequence, [CLS] and [SEP]
 * included (sentence-transformers' mask covers them).  Everything is float32;
 * softmax subtracts the row's maximum; GELU is the exact erf form, through a
 * rational approximation of erf (absolute error < 4e-7, see vf_erf) on
 * 4-float vectors.
 *
 * Threads: OpenBLAS's thread count is process-wide; rg_bert_start sets it.
 * Forward passes of all models are serialised by one mutex, one batch at a
 * time, so concurrent embed() calls interleave batch by batch and never run
 * two multi-threaded GEMMs over the same cores; tokenization and pooling
 * run outside the lock.  Scratch memory belongs to the call.
 */
#include "embed/bert.h"

#include "core/alloc.h"
#include "core/hash.h"
#include "core/log.h"
#include "embed/gguf.h"
#include "embed/registry.h"
#include "embed/wordpiece.h"

#include <cblas.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Limits on a file's hyper-parameters (bge-large: h 1024, ffn 4096, 24
 * layers, 512 positions; the largest BERT-family encoders stay well below). */
#define BERT_MAX_HIDDEN  4096
#define BERT_MAX_FFN     16384
#define BERT_MAX_LAYERS  64
#define BERT_MAX_HEADS   128
#define BERT_MAX_CONTEXT 8192
#define BERT_MAX_VOCAB   (1u << 21)
/* Tokens of one forward pass (all sequences of a batch together); a call's
 * scratch is min(its tokens, this) * (5 h + ffn) floats plus one head's
 * L x L scores: at most 28 MB for MiniLM. */
#define BERT_BATCH_TOKENS 2048
/* Characters the model is said to read (rg_embed_model.context_size) per
 * token of its window: English WordPiece averages ~4-5 characters a token,
 * so 8 overstates rather than cuts text the window would have held. */
#define BERT_CHARS_PER_TOKEN 8
/* Hex digits of the file's SHA-256 kept as the model's revision. */
#define BERT_REVISION_HEX 16
/* Room for one line naming a file and a tensor. */
#define BERT_NAME_MAX 96

enum { POOL_MEAN = 1, POOL_CLS = 2 }; /* llama.cpp's bert.pooling_type values */

typedef struct bert_layer {
    float *qkv_w, *qkv_b;   /* [3h, h], [3h]: Q, K, V rows stacked */
    float *o_w, *o_b;       /* [h, h], [h] */
    float *ln1_w, *ln1_b;   /* attn_output_norm */
    float *up_w, *up_b;     /* [ffn, h], [ffn] */
    float *down_w, *down_b; /* [h, ffn], [h] */
    float *ln2_w, *ln2_b;   /* layer_output_norm */
} bert_layer;

typedef struct rg_bert {
    rg_embed_model model; /* first: embed() recovers the rg_bert from it */
    size_t hidden, heads, ffn, layers, ctx, vocab;
    float eps;
    int pooling;
    float *tok, *pos, *type0; /* [vocab, h], [ctx, h], [h] (token type 0) */
    float *eln_w, *eln_b;     /* token_embd_norm */
    bert_layer *layer;
    rg_wordpiece *wp;
} rg_bert;

static pthread_mutex_t forward_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- math ----------------------------------------------------------------- */

/* The element-wise work (GELU, softmax, LayerNorm, bias and residual adds)
 * is written on 4-float vectors (GCC/Clang vector extensions: SSE on
 * x86-64, with an x86-64-v3 clone of each hot function for AVX2 encodings,
 * NEON on ARM): -O2 vectorises no loop of unknown count, and scalar GELU and
 * exp were a fifth of the forward pass.  8-float vectors measured the same
 * (the element-wise work is ~5 % of the pass now) and would change the
 * calling convention between the baseline and the AVX clone. */
typedef float vf __attribute__((vector_size(16)));
typedef int32_t vi __attribute__((vector_size(16)));
#define VF_LANES 4

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones) && !defined(__SANITIZE_ADDRESS__)
#define BERT_SIMD __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
#endif
#ifndef BERT_SIMD
#define BERT_SIMD
#endif

#define VF_ALWAYS static inline __attribute__((always_inline))

VF_ALWAYS vf vf_load(const float *p)
{
    vf v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Helpers take vectors by address or are macros (wider vectors would change
 * the calling convention between the baseline and the AVX clone). */
#define VF_STORE(p, v)                                                                             \
    do {                                                                                           \
        vf vf_t_ = (v);                                                                            \
        memcpy((p), &vf_t_, sizeof vf_t_);                                                         \
    } while (0)

/* Lane-wise blend: m ? a : b (m a comparison's all-ones or zero lanes). */
#define VF_BLEND(m, a, b) ((vf)(((m) & (vi)(a)) | (~(m) & (vi)(b))))
#define VF_MIN(a, b)      VF_BLEND((a) < (b), (a), (b))
#define VF_MAX(a, b)      VF_BLEND((a) > (b), (a), (b))

VF_ALWAYS float vf_sum(const vf *v)
{
    float s = 0;
    for (int i = 0; i < VF_LANES; i++)
        s += (*v)[i];
    return s;
}

/* erf(x): x P(x^2) / Q(x^2) on |x| <= 4, degree 5 over 5 (coefficients
 * fitted by iterated weighted least squares on Chebyshev nodes; absolute
 * error below 4e-7 in float32, a few ulps of 1), +-1 beyond (erf(4) is
 * 1 - 1.5e-8). */
VF_ALWAYS vf vf_erf(const vf *x)
{
    vf lo = (vf){0} - 4.0f, hi = (vf){0} + 4.0f, c = VF_MAX(*x, lo);
    c = VF_MIN(c, hi);
    vf z = c * c;
    vf p = (vf){0} + 1.975961595e-06f;
    p = p * z + 2.874625789e-04f;
    p = p * z + 3.985127434e-03f;
    p = p * z + 5.341039225e-02f;
    p = p * z + 1.958394200e-01f;
    p = p * z + 1.128378987e+00f;
    vf q = (vf){0} + 3.746203583e-05f;
    q = q * z + 1.211552182e-03f;
    q = q * z + 1.540770475e-02f;
    q = q * z + 1.163043678e-01f;
    q = q * z + 5.068895221e-01f;
    q = q * z + 1.0f;
    return c * p / q;
}

/* e^x for x <= 0 (softmax after the max is subtracted),
 * relative error about 1e-7: x = k ln2 + r with |r| <= ln2 / 2 (k rounded by adding and
 * subtracting 1.5 2^23), e^r by its Taylor series to degree 7, 2^k put in
 * the exponent bits.  x below -87 gives e^-87 (~1.6e-38) instead of less:
 * nothing next to the row's maximum, whose term is 1. */
VF_ALWAYS vf vf_exp_neg(const vf *x0)
{
    vf lo = (vf){0} - 87.0f, x = VF_MAX(*x0, lo);
    vf k = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
    vf r = (x - k * 0.693145752f) - k * 1.42860677e-06f;
    vf p = (vf){0} + 1.98412698e-04f;
    p = p * r + 1.38888889e-03f;
    p = p * r + 8.33333333e-03f;
    p = p * r + 4.16666667e-02f;
    p = p * r + 1.66666667e-01f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    vi bits = (__builtin_convertvector(k, vi) + 127) * (1 << 23);
    return p * (vf)bits;
}

VF_ALWAYS vf vf_gelu(const vf *x)
{
    vf z = *x * 0.70710678118654752f;
    return 0.5f * *x * (1.0f + vf_erf(&z));
}

/* GELU, exact (erf) form, in place over n values. */
BERT_SIMD static void gelu(float *x, size_t n)
{
    size_t i = 0;
    for (; i + VF_LANES <= n; i += VF_LANES) {
        vf v = vf_load(x + i);
        VF_STORE(x + i, vf_gelu(&v));
    }
    if (i < n) { /* the tail, through a zero-padded vector */
        float t[VF_LANES] = {0};
        memcpy(t, x + i, (n - i) * sizeof *t);
        vf v = vf_load(t);
        VF_STORE(t, vf_gelu(&v));
        memcpy(x + i, t, (n - i) * sizeof *t);
    }
}

/* Row-wise LayerNorm of rows x [rows, h] in place. */
BERT_SIMD static void layer_norm(float *x, size_t rows, size_t h, const float *w, const float *b,
                                 float eps)
{
    size_t hv = h - h % VF_LANES;
    for (size_t r = 0; r < rows; r++) {
        float *v = x + r * h;
        vf acc = {0};
        for (size_t i = 0; i < hv; i += VF_LANES)
            acc += vf_load(v + i);
        float mean = vf_sum(&acc), var = 0;
        for (size_t i = hv; i < h; i++)
            mean += v[i];
        mean /= (float)h;
        acc = (vf){0};
        for (size_t i = 0; i < hv; i += VF_LANES) {
            vf d = vf_load(v + i) - mean;
            acc += d * d;
        }
        var = vf_sum(&acc);
        for (size_t i = hv; i < h; i++)
            var += (v[i] - mean) * (v[i] - mean);
        float inv = 1.0f / sqrtf(var / (float)h + eps);
        for (size_t i = 0; i < hv; i += VF_LANES)
            VF_STORE(v + i, (vf_load(v + i) - mean) * inv * vf_load(w + i) + vf_load(b + i));
        for (size_t i = hv; i < h; i++)
            v[i] = (v[i] - mean) * inv * w[i] + b[i];
    }
}

/* Sets every row of y [rows, n] to b [n]. */
static void fill_rows(float *y, size_t rows, const float *b, size_t n)
{
    for (size_t r = 0; r < rows; r++)
        memcpy(y + r * n, b, n * sizeof *y);
}

/* Adds b [n] to every row of y [rows, n]. */
BERT_SIMD static void add_rows(float *y, size_t rows, const float *b, size_t n)
{
    size_t nv = n - n % VF_LANES;
    for (size_t r = 0; r < rows; r++) {
        float *v = y + r * n;
        for (size_t i = 0; i < nv; i += VF_LANES)
            VF_STORE(v + i, vf_load(v + i) + vf_load(b + i));
        for (size_t i = nv; i < n; i++)
            v[i] += b[i];
    }
}

/* y [m, n] (+)= x [m, k] . w [n, k]^T (row-major, PyTorch's layout). */
static void linear(const float *x, size_t m, size_t k, const float *w, size_t n, float *y,
                   float beta)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f, x, (int)k, w,
                (int)k, beta, y, (int)n);
}

/* Numerically stable softmax of each row of s [rows, n] in place. */
BERT_SIMD static void softmax_rows(float *s, size_t rows, size_t n)
{
    size_t nv = n - n % VF_LANES;
    for (size_t r = 0; r < rows; r++) {
        float *v = s + r * n, mx = v[0];
        for (size_t i = 1; i < n; i++)
            mx = v[i] > mx ? v[i] : mx;
        vf acc = {0};
        for (size_t i = 0; i < nv; i += VF_LANES) {
            vf d = vf_load(v + i) - mx;
            vf e = vf_exp_neg(&d);
            VF_STORE(v + i, e);
            acc += e;
        }
        if (nv < n) {
            float t[VF_LANES];
            for (size_t i = 0; i < VF_LANES; i++)
                t[i] = nv + i < n ? v[nv + i] - mx : -100.0f; /* padding: e^-87 */
            vf d = vf_load(t);
            vf e = vf_exp_neg(&d);
            VF_STORE(t, e);
            memcpy(v + nv, t, (n - nv) * sizeof *t);
            for (size_t i = 0; i < n - nv; i++)
                acc[i] += t[i];
        }
        float inv = 1.0f / vf_sum(&acc);
        for (size_t i = 0; i < nv; i += VF_LANES)
            VF_STORE(v + i, vf_load(v + i) * inv);
        for (size_t i = nv; i < n; i++)
            v[i] *= inv;
    }
}

/* ---- the forward pass ------------------------------------------------------ */

/* One call's scratch: arrays for cap tokens (at most BERT_BATCH_TOKENS, or
 * the call's longest sequence when longer) and one head's scores. */
typedef struct scratch {
    size_t cap;         /* tokens */
    float *x, *qkv, *c; /* [cap, h], [cap, 3h], [cap, h] */
    float *u;           /* [cap, ffn] */
    float *s;           /* [ctx, ctx]: one head's scores */
} scratch;

static void scratch_free(scratch *w)
{
    rg_free(w->x);
    rg_free(w->qkv);
    rg_free(w->c);
    rg_free(w->u);
    rg_free(w->s);
}

/* Scratch for batches of up to cap tokens and sequences of up to longest. */
static rg_rc scratch_new(const rg_bert *b, size_t cap, size_t longest, scratch *w)
{
    memset(w, 0, sizeof *w);
    w->cap = cap;
    size_t h = b->hidden;
    w->x = rg_try_malloc(w->cap * h * sizeof(float));
    w->qkv = rg_try_malloc(w->cap * 3 * h * sizeof(float));
    w->c = rg_try_malloc(w->cap * h * sizeof(float));
    w->u = rg_try_malloc(w->cap * b->ffn * sizeof(float));
    w->s = rg_try_malloc(longest * longest * sizeof(float));
    if (!w->x || !w->qkv || !w->c || !w->u || !w->s) {
        scratch_free(w);
        return RG_ENOMEM;
    }
    return RG_OK;
}

/* A batch: n sequences, sequence i's tokens ids[off[i] .. off[i] + len[i]). */
typedef struct batch {
    size_t n, tokens;
    const int32_t *const *ids; /* per sequence */
    const size_t *len;
    size_t off[BERT_BATCH_TOKENS / 2]; /* a sequence in a batch has at least 3 tokens */
} batch;

/* Self-attention of one layer: w->c = softmax(Q K^T / sqrt(d)) V per
 * sequence and head, from w->qkv. */
static void attention(const rg_bert *b, const batch *bt, scratch *w)
{
    size_t h = b->hidden, d = h / b->heads;
    float scale = 1.0f / sqrtf((float)d);
    for (size_t i = 0; i < bt->n; i++) {
        size_t l = bt->len[i];
        const float *q = w->qkv + bt->off[i] * 3 * h;
        for (size_t hd = 0; hd < b->heads; hd++) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)l, (int)l, (int)d, scale,
                        q + hd * d, (int)(3 * h), q + h + hd * d, (int)(3 * h), 0.0f, w->s, (int)l);
            softmax_rows(w->s, l, l);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)l, (int)d, (int)l, 1.0f,
                        w->s, (int)l, q + 2 * h + hd * d, (int)(3 * h), 0.0f,
                        w->c + bt->off[i] * h + hd * d, (int)h);
        }
    }
}

/* The encoder over a batch: leaves the last hidden states in w->x. */
static void forward(const rg_bert *b, const batch *bt, scratch *w)
{
    size_t h = b->hidden, t = bt->tokens;
    for (size_t i = 0; i < bt->n; i++)
        for (size_t p = 0; p < bt->len[i]; p++) {
            float *x = w->x + (bt->off[i] + p) * h;
            const float *e = b->tok + (size_t)bt->ids[i][p] * h, *pe = b->pos + p * h;
            for (size_t k = 0; k < h; k++)
                x[k] = e[k] + pe[k] + b->type0[k];
        }
    layer_norm(w->x, t, h, b->eln_w, b->eln_b, b->eps);
    for (size_t li = 0; li < b->layers; li++) {
        const bert_layer *L = &b->layer[li];
        fill_rows(w->qkv, t, L->qkv_b, 3 * h);
        linear(w->x, t, h, L->qkv_w, 3 * h, w->qkv, 1.0f);
        attention(b, bt, w);
        add_rows(w->x, t, L->o_b, h); /* residual + bias, then the projection */
        linear(w->c, t, h, L->o_w, h, w->x, 1.0f);
        layer_norm(w->x, t, h, L->ln1_w, L->ln1_b, b->eps);
        fill_rows(w->u, t, L->up_b, b->ffn);
        linear(w->x, t, h, L->up_w, b->ffn, w->u, 1.0f);
        gelu(w->u, t * b->ffn);
        add_rows(w->x, t, L->down_b, h);
        linear(w->u, t, b->ffn, L->down_w, h, w->x, 1.0f);
        layer_norm(w->x, t, h, L->ln2_w, L->ln2_b, b->eps);
    }
}

/* Pools sequence i of the batch into out [h] and L2-normalises it; false
 * when a value is not finite. */
static bool pool(const rg_bert *b, const batch *bt, const scratch *w, size_t i, float *out)
{
    size_t h = b->hidden, l = bt->len[i];
    const float *x = w->x + bt->off[i] * h;
    double acc_n = 0;
    for (size_t k = 0; k < h; k++) {
        double v = 0;
        if (b->pooling == POOL_CLS)
            v = x[k];
        else {
            for (size_t p = 0; p < l; p++)
                v += x[p * h + k];
            v /= (double)l;
        }
        out[k] = (float)v;
        acc_n += v * v;
    }
    if (!isfinite(acc_n))
        return false;
    float inv = acc_n > 0 ? (float)(1.0 / sqrt(acc_n)) : 0.0f;
    for (size_t k = 0; k < h; k++)
        out[k] *= inv;
    return true;
}

/* Runs one batch under the forward lock and pools it into out rows idx[]. */
static rg_rc run_batch(const rg_bert *b, const batch *bt, scratch *w, const size_t *idx, float *out,
                       char *err)
{
    pthread_mutex_lock(&forward_lock);
    forward(b, bt, w);
    pthread_mutex_unlock(&forward_lock);
    for (size_t i = 0; i < bt->n; i++)
        if (!pool(b, bt, w, i, out + idx[i] * b->hidden))
            return rg_embed_fail(err, RG_EUPSTREAM, "%s: the model produced non-finite values",
                                 b->model.name);
    return RG_OK;
}

static rg_rc bert_embed(const rg_embed_model *m, const rg_str *texts, size_t n, float *out,
                        char *err)
{
    const rg_bert *b = (const rg_bert *)m;
    if (n == 0)
        return RG_OK;
    int32_t *ids = rg_try_malloc(n * b->ctx * sizeof *ids);
    size_t *len = rg_try_malloc(n * sizeof *len);
    const int32_t **seq = rg_try_malloc(BERT_BATCH_TOKENS / 2 * sizeof *seq);
    size_t *slen = rg_try_malloc(BERT_BATCH_TOKENS / 2 * sizeof *slen);
    size_t *idx = rg_try_malloc(BERT_BATCH_TOKENS / 2 * sizeof *idx);
    batch *bt = rg_try_malloc(sizeof *bt);
    scratch w = {0};
    rg_rc rc = ids && len && seq && slen && idx && bt ? RG_OK : RG_ENOMEM;
    size_t longest = 0, total = 0;
    for (size_t i = 0; i < n && rc == RG_OK; i++) {
        len[i] = rg_wordpiece_encode(b->wp, texts[i], ids + i * b->ctx, b->ctx);
        if (len[i] <= 2) /* no piece: the zero vector, as for an empty text */
            memset(out + i * b->hidden, 0, b->hidden * sizeof *out);
        else {
            longest = len[i] > longest ? len[i] : longest;
            total += len[i];
        }
    }
    /* Scratch for what this call needs: a query of 10 tokens takes 10 rows,
     * not BERT_BATCH_TOKENS. */
    size_t cap = total < BERT_BATCH_TOKENS ? total : BERT_BATCH_TOKENS;
    if (rc == RG_OK && total)
        rc = scratch_new(b, cap > longest ? cap : longest, longest, &w);
    if (rc != RG_OK) {
        rg_embed_fail(err, rc, "%s: out of memory for a batch", m->name);
        goto done;
    }
    bt->ids = seq;
    bt->len = slen;
    bt->n = bt->tokens = 0;
    for (size_t i = 0; i <= n && rc == RG_OK; i++) {
        bool fits = i < n && bt->tokens + len[i] <= w.cap && bt->n < BERT_BATCH_TOKENS / 2;
        if (i == n || (!fits && len[i] > 2)) {
            if (bt->n)
                rc = run_batch(b, bt, &w, idx, out, err);
            bt->n = bt->tokens = 0;
        }
        if (i < n && len[i] > 2) {
            seq[bt->n] = ids + i * b->ctx;
            slen[bt->n] = len[i];
            idx[bt->n] = i;
            bt->off[bt->n++] = bt->tokens;
            bt->tokens += len[i];
        }
    }
done:
    scratch_free(&w);
    rg_free(bt);
    rg_free(idx);
    rg_free(slen);
    rg_free(seq);
    rg_free(len);
    rg_free(ids);
    return rc;
}

/* ---- loading ---------------------------------------------------------------- */

typedef struct loader {
    const char *path;
    rg_gguf *g;
    char *err;
    size_t errlen;
} loader;

/* Writes "PATH: what" into the loader's err; returns RG_EINVAL. */
static rg_rc load_fail(const loader *ld, const char *fmt, ...) RG_PRINTF(2, 3);
static rg_rc load_fail(const loader *ld, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(ld->err, ld->errlen, "%s: %s", ld->path, what);
    return RG_EINVAL;
}

/* Checks tensor name has shape [ne0, ne1] (GGUF order, ne0 contiguous; ne1
 * 0: one dimension; ne1 1 also accepts [ne0]) and a type
 * ragd reads, and widens it into dst (ne0 * max(ne1, 1) floats). */
static rg_rc load_tensor(const loader *ld, const char *name, size_t ne0, size_t ne1, float *dst)
{
    const rg_gguf_tensor *t = rg_gguf_tensor_find(ld->g, name);
    if (!t)
        return load_fail(ld, "tensor %s is missing", name);
    char got[80], want[64];
    if (t->n_dims == 1)
        snprintf(got, sizeof got, "[%llu]", (unsigned long long)t->ne[0]);
    else
        snprintf(got, sizeof got, "[%llu, %llu%s]", (unsigned long long)t->ne[0],
                 (unsigned long long)t->ne[1], t->n_dims > 2 ? ", ..." : "");
    if (ne1)
        snprintf(want, sizeof want, "[%zu, %zu]", ne0, ne1);
    else
        snprintf(want, sizeof want, "[%zu]", ne0);
    bool ok = t->ne[0] == ne0 && (ne1 ? t->n_dims <= 2 && t->ne[1] == ne1 : t->n_dims == 1);
    if (!ok)
        return load_fail(ld, "tensor %s has shape %s, expected %s", name, got, want);
    if (t->type != RG_GGUF_F32 && t->type != RG_GGUF_F16 && t->type != RG_GGUF_Q8_0)
        return load_fail(ld, "tensor %s has ggml type %u, not F32, F16 or Q8_0", name, t->type);
    if (rg_gguf_to_f32(t, dst) != RG_OK)
        return load_fail(ld, "tensor %s cannot be converted to float32", name);
    return RG_OK;
}

/* Allocates n floats for a weight (never freed: the model lives forever). */
static float *weights(size_t n)
{
    return rg_try_malloc(n * sizeof(float));
}

static rg_rc load_layer(const loader *ld, rg_bert *b, size_t li)
{
    size_t h = b->hidden, f = b->ffn;
    bert_layer *L = &b->layer[li];
    L->qkv_w = weights(3 * h * h);
    L->qkv_b = weights(3 * h);
    L->o_w = weights(h * h);
    L->up_w = weights(f * h);
    L->up_b = weights(f);
    L->down_w = weights(h * f);
    L->o_b = weights(6 * h); /* o_b, ln1_w, ln1_b, down_b, ln2_w, ln2_b */
    if (!L->qkv_w || !L->qkv_b || !L->o_w || !L->up_w || !L->up_b || !L->down_w || !L->o_b)
        return RG_ENOMEM;
    float *small = L->o_b;
    L->ln1_w = small + h;
    L->ln1_b = small + 2 * h;
    L->down_b = small + 3 * h;
    L->ln2_w = small + 4 * h;
    L->ln2_b = small + 5 * h;
    static const char *const qkv[3] = {"attn_q", "attn_k", "attn_v"};
    char nm[BERT_NAME_MAX];
    for (int j = 0; j < 3; j++) {
        snprintf(nm, sizeof nm, "blk.%zu.%s.weight", li, qkv[j]);
        RG_TRY(load_tensor(ld, nm, h, h, L->qkv_w + (size_t)j * h * h));
        snprintf(nm, sizeof nm, "blk.%zu.%s.bias", li, qkv[j]);
        RG_TRY(load_tensor(ld, nm, h, 0, L->qkv_b + (size_t)j * h));
    }
    struct {
        const char *name;
        size_t ne0, ne1;
        float *dst;
    } t[] = {
        {"attn_output.weight", h, h, L->o_w},
        {"attn_output.bias", h, 0, L->o_b},
        {"attn_output_norm.weight", h, 0, L->ln1_w},
        {"attn_output_norm.bias", h, 0, L->ln1_b},
        {"ffn_up.weight", h, f, L->up_w},
        {"ffn_up.bias", f, 0, L->up_b},
        {"ffn_down.weight", f, h, L->down_w},
        {"ffn_down.bias", h, 0, L->down_b},
        {"layer_output_norm.weight", h, 0, L->ln2_w},
        {"layer_output_norm.bias", h, 0, L->ln2_b},
    };
    for (size_t j = 0; j < sizeof t / sizeof t[0]; j++) {
        snprintf(nm, sizeof nm, "blk.%zu.%s", li, t[j].name);
        RG_TRY(load_tensor(ld, nm, t[j].ne0, t[j].ne1, t[j].dst));
    }
    return RG_OK;
}

/* Reads a required unsigned hyper-parameter within [lo, hi]. */
static rg_rc hparam(const loader *ld, const char *key, size_t lo, size_t hi, size_t *out)
{
    uint32_t v;
    if (!rg_gguf_u32(ld->g, key, &v))
        return load_fail(ld, "%s is missing or not an integer", key);
    if (v < lo || v > hi)
        return load_fail(ld, "%s is %u, outside [%zu, %zu]", key, v, lo, hi);
    *out = v;
    return RG_OK;
}

static rg_rc load_hparams(const loader *ld, rg_bert *b)
{
    rg_str arch;
    if (!rg_gguf_str(ld->g, "general.architecture", &arch))
        return load_fail(ld, "general.architecture is missing");
    if (!rg_str_eqz(arch, "bert")) {
        return load_fail(ld, "general.architecture is '%.*s', not 'bert'",
                         (int)(arch.n < 40 ? arch.n : 40), arch.p);
    }
    RG_TRY(hparam(ld, "bert.embedding_length", 1, BERT_MAX_HIDDEN, &b->hidden));
    RG_TRY(hparam(ld, "bert.feed_forward_length", 1, BERT_MAX_FFN, &b->ffn));
    RG_TRY(hparam(ld, "bert.block_count", 1, BERT_MAX_LAYERS, &b->layers));
    RG_TRY(hparam(ld, "bert.attention.head_count", 1, BERT_MAX_HEADS, &b->heads));
    RG_TRY(hparam(ld, "bert.context_length", 3, BERT_MAX_CONTEXT, &b->ctx));
    if (b->hidden % b->heads)
        return load_fail(ld,
                         "bert.embedding_length is not a multiple of bert.attention.head_count");
    if (!rg_gguf_f32(ld->g, "bert.attention.layer_norm_epsilon", &b->eps) || !(b->eps > 0) ||
        !(b->eps < 1))
        return load_fail(ld, "bert.attention.layer_norm_epsilon is missing or not in (0, 1)");
    bool causal = false;
    if (rg_gguf_bool(ld->g, "bert.attention.causal", &causal) && causal)
        return load_fail(ld, "bert.attention.causal is true: not a sentence encoder");
    uint32_t pt = POOL_MEAN; /* absent: mean, what sentence-transformers models mostly use */
    (void)rg_gguf_u32(ld->g, "bert.pooling_type", &pt);
    if (pt != POOL_MEAN && pt != POOL_CLS)
        return load_fail(ld, "bert.pooling_type is neither 1 (mean) nor 2 (cls)");
    b->pooling = (int)pt;
    return RG_OK;
}

/* A special token id from the first of keys present, else -1 (look up). */
static int32_t special_id(const loader *ld, const char *k1, const char *k2)
{
    uint32_t v;
    if (rg_gguf_u32(ld->g, k1, &v) || (k2 && rg_gguf_u32(ld->g, k2, &v)))
        return v <= INT32_MAX ? (int32_t)v : INT32_MAX; /* out of range: refused below */
    return -1;
}

static rg_rc load_tokenizer(const loader *ld, rg_bert *b)
{
    rg_str model;
    if (rg_gguf_str(ld->g, "tokenizer.ggml.model", &model) && !rg_str_eqz(model, "bert"))
        return load_fail(ld, "tokenizer.ggml.model is not 'bert' (WordPiece)");
    size_t n = 0;
    if (!rg_gguf_strs(ld->g, "tokenizer.ggml.tokens", NULL, 0, &n) || n < 3 || n > BERT_MAX_VOCAB)
        return load_fail(ld, "tokenizer.ggml.tokens is missing or of a bad size");
    rg_str *v = rg_try_malloc(n * sizeof *v);
    if (!v)
        return RG_ENOMEM;
    size_t got = 0;
    (void)rg_gguf_strs(ld->g, "tokenizer.ggml.tokens", v, n, &got);
    bool lower; /* ragd's own key, else uncased unless the vocabulary is cased */
    if (!rg_gguf_bool(ld->g, "ragd.tokenizer.lowercase", &lower))
        lower = !rg_wordpiece_vocab_cased(v, n);
    rg_wordpiece_opts o = {
        .lowercase = lower,
        .phantom = true,
        .cls = special_id(ld, "tokenizer.ggml.cls_token_id", "tokenizer.ggml.bos_token_id"),
        .sep = special_id(ld, "tokenizer.ggml.seperator_token_id",
                          "tokenizer.ggml.separator_token_id"),
        .unk = special_id(ld, "tokenizer.ggml.unknown_token_id", NULL),
    };
    char why[200] = "";
    rg_rc rc = rg_wordpiece_new(v, n, &o, &b->wp, why, sizeof why);
    rg_free(v);
    if (rc == RG_ENOMEM)
        return rc;
    if (rc != RG_OK)
        return load_fail(ld, "tokenizer: %s", why);
    b->vocab = n;
    return RG_OK;
}

static rg_rc load_weights(const loader *ld, rg_bert *b)
{
    size_t h = b->hidden;
    const rg_gguf_tensor *tt = rg_gguf_tensor_find(ld->g, "token_types.weight");
    const rg_gguf_tensor *pe = rg_gguf_tensor_find(ld->g, "position_embd.weight");
    size_t n_types = tt && tt->n_dims == 2 ? (size_t)tt->ne[1] : 1;
    size_t n_pos = pe && pe->n_dims == 2 && pe->ne[1] >= b->ctx && pe->ne[1] <= BERT_MAX_CONTEXT
                       ? (size_t)pe->ne[1]
                       : b->ctx;
    b->type0 = weights(h * n_types); /* only row 0 is used */
    b->pos = weights(h * n_pos);
    b->tok = weights(h * b->vocab);
    b->eln_w = weights(2 * h);
    b->layer = rg_try_malloc(b->layers * sizeof *b->layer);
    if (!b->type0 || !b->pos || !b->tok || !b->eln_w || !b->layer)
        return RG_ENOMEM;
    memset(b->layer, 0, b->layers * sizeof *b->layer);
    b->eln_b = b->eln_w + h;
    RG_TRY(load_tensor(ld, "token_embd.weight", h, b->vocab, b->tok));
    RG_TRY(load_tensor(ld, "token_types.weight", h, n_types, b->type0));
    RG_TRY(load_tensor(ld, "position_embd.weight", h, n_pos, b->pos));
    RG_TRY(load_tensor(ld, "token_embd_norm.weight", h, 0, b->eln_w));
    RG_TRY(load_tensor(ld, "token_embd_norm.bias", h, 0, b->eln_b));
    for (size_t li = 0; li < b->layers; li++)
        RG_TRY(load_layer(ld, b, li));
    return RG_OK;
}

/* The first BERT_REVISION_HEX hex digits of the SHA-256 of the file. */
static rg_rc file_digest(const loader *ld, char out[BERT_REVISION_HEX + 1])
{
    int fd = open(ld->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0) {
        if (fd >= 0)
            close(fd);
        snprintf(ld->err, ld->errlen, "%s: cannot read the file to digest it", ld->path);
        return RG_EIO;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        snprintf(ld->err, ld->errlen, "%s: cannot map the file to digest it", ld->path);
        return RG_EIO;
    }
    char hex[65];
    rg_sha256_hex2((rg_str){p, (size_t)st.st_size}, (rg_str){"", 0}, hex);
    munmap(p, (size_t)st.st_size);
    memcpy(out, hex, BERT_REVISION_HEX);
    out[BERT_REVISION_HEX] = '\0';
    return RG_OK;
}

/* The model's name: the basename of path without ".gguf". */
static char *model_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".gguf") == 0)
        n -= 5;
    return rg_xstrndup(base, n);
}

static const char *type_name(const rg_gguf *g)
{
    const rg_gguf_tensor *t = rg_gguf_tensor_find(g, "blk.0.ffn_up.weight");
    return !t ? "?" : t->type == RG_GGUF_F32 ? "f32" : t->type == RG_GGUF_F16 ? "f16" : "q8_0";
}

/* Frees a model that failed to load (a registered one is never freed). */
static void bert_free(rg_bert *b)
{
    for (size_t i = 0; b->layer && i < b->layers; i++) {
        bert_layer *L = &b->layer[i];
        rg_free(L->qkv_w);
        rg_free(L->qkv_b);
        rg_free(L->o_w);
        rg_free(L->o_b);
        rg_free(L->up_w);
        rg_free(L->up_b);
        rg_free(L->down_w);
    }
    rg_free(b->layer);
    rg_free(b->tok);
    rg_free(b->pos);
    rg_free(b->type0);
    rg_free(b->eln_w);
    rg_wordpiece_free(b->wp);
    rg_free((char *)b->model.name);
    rg_free((char *)b->model.label);
    rg_free((char *)b->model.revision);
    rg_free(b);
}

/* Loads one file into a new model, allocated once and never freed (the
 * registry keeps it); on failure nothing is kept. */
static rg_rc load_model(const char *path, rg_bert **out, char *err, size_t errlen)
{
    loader ld = {path, NULL, err, errlen};
    RG_TRY(rg_gguf_open(path, &ld.g, err, errlen));
    rg_bert *b = rg_xcalloc(1, sizeof *b);
    rg_rc rc = load_hparams(&ld, b);
    if (rc == RG_OK)
        rc = load_tokenizer(&ld, b);
    if (rc == RG_OK)
        rc = load_weights(&ld, b);
    char *rev = rg_xcalloc(1, BERT_REVISION_HEX + 1), label[200];
    if (rc == RG_OK)
        rc = file_digest(&ld, rev);
    if (rc == RG_ENOMEM)
        snprintf(err, errlen, "%s: out of memory loading the model", path);
    if (rc == RG_OK) {
        b->model.name = model_name(path);
        snprintf(label, sizeof label, "%s (BERT %zu dims, %zu layers, %s, %s pooling)",
                 b->model.name, b->hidden, b->layers, type_name(ld.g),
                 b->pooling == POOL_CLS ? "CLS" : "mean");
        b->model.provider = "ragd";
        b->model.label = rg_xstrdup(label);
        b->model.dims = (int)b->hidden;
        b->model.context_size = (int)(b->ctx * BERT_CHARS_PER_TOKEN);
        b->model.revision = rev;
        b->model.cache = true; /* a forward pass costs far more than a lookup */
        b->model.embed = bert_embed;
        *out = b;
    } else {
        b->model.revision = rev;
        bert_free(b);
    }
    rg_gguf_close(ld.g);
    return rc;
}

rg_rc rg_bert_start(const char *paths, int threads, char *err, size_t errlen)
{
    if (!paths || !*paths)
        return RG_OK;
    openblas_set_num_threads(threads > 0 ? threads : (int)sysconf(_SC_NPROCESSORS_ONLN));
    for (const char *p = paths; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char path[4096];
        if (n == 0 || n >= sizeof path) {
            snprintf(err, errlen, "--embed-gguf: an empty or over-long path in the list");
            return RG_EINVAL;
        }
        memcpy(path, p, n);
        path[n] = '\0';
        rg_bert *b = NULL;
        RG_TRY(load_model(path, &b, err, errlen));
        rg_rc rc = rg_embed_register(&b->model);
        if (rc != RG_OK) {
            snprintf(err, errlen, "%s: cannot register model ragd/%s: %s", path, b->model.name,
                     rc == RG_ECONFLICT ? "the name is taken" : "registry full or name invalid");
            bert_free(b);
            return rc;
        }
        rg_info("embed: ragd/%s from %s (%s, revision %s)", b->model.name, path, b->model.label,
                b->model.revision);
        p += n;
        if (*p == ',')
            p++;
    }
    return RG_OK;
}

bool rg_bert_shape_of(const rg_embed_model *m, rg_bert_shape *out)
{
    if (!m || m->embed != bert_embed)
        return false;
    const rg_bert *b = (const rg_bert *)m;
    *out = (rg_bert_shape){b->hidden, b->ffn, b->layers, b->heads, b->ctx};
    return true;
}

size_t rg_bert_tokens(const rg_embed_model *m, rg_str text)
{
    if (!m || m->embed != bert_embed)
        return 0;
    const rg_bert *b = (const rg_bert *)m;
    int32_t *ids = rg_try_malloc(b->ctx * sizeof *ids);
    size_t n = ids ? rg_wordpiece_encode(b->wp, text, ids, b->ctx) : 0;
    rg_free(ids);
    return n;
}
