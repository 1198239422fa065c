/*
 * fuzz_gguf.c - libFuzzer target for the GGUF reader and the WordPiece
 * tokenizer.
 *
 * The input is opened with rg_gguf_open_mem (from a private copy, so any
 * overread is seen).  A refused input must come with a message.  An
 * accepted one has every metadata key looked up with every typed getter,
 * every tensor converted with rg_gguf_to_f32 (F32 data must come back
 * bit-for-bit) and checked against what open() promised (shape product,
 * byte size inside the buffer); when it carries tokenizer.ggml.tokens, a
 * tokenizer is built from them (phantom form, both casings) and the input
 * itself is encoded.  Every input is also encoded as text with a fixed small
 * vocabulary.  Encodings must start with [CLS], end with [SEP], stay within
 * max and hold only ids of the vocabulary.  gguf.c is included to reach the
 * key list.  Build: see tests/fuzz/run.
 */
#include "embed/gguf.c"
#include "embed/wordpiece.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(x)                                                                                    \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz_gguf: %s:%d: %s\n", __FILE__, __LINE__, #x);                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_IDS  64
#define MAX_TEXT 4096 /* bytes of the input encoded as text (speed) */

static void encode_check(const rg_wordpiece *wp, size_t nv, rg_str text, int32_t cls, int32_t sep)
{
    int32_t ids[MAX_IDS];
    for (size_t max = 0; max <= MAX_IDS; max += 21) {
        size_t n = rg_wordpiece_encode(wp, text, ids, max);
        if (max < 2) {
            MUST(n == 0);
            continue;
        }
        MUST(n >= 2 && n <= max);
        MUST(cls < 0 || ids[0] == cls);
        MUST(sep < 0 || ids[n - 1] == sep);
        for (size_t i = 0; i < n; i++)
            MUST(ids[i] >= 0 && (size_t)ids[i] < nv);
    }
}

static void fixed_vocab(rg_str text)
{
    static const rg_str v[] = {RG_STR("[UNK]"),     RG_STR("[CLS]"), RG_STR("[SEP]"),
                               RG_STR("a"),         RG_STR("##a"),   RG_STR("ab"),
                               RG_STR("##b"),       RG_STR("."),     RG_STR("\xc3\xa9"),
                               RG_STR("##\xc3\xa9")};
    for (int lower = 0; lower < 2; lower++) {
        rg_wordpiece_opts o = {
            .lowercase = lower, .phantom = false, .cls = -1, .sep = -1, .unk = -1};
        rg_wordpiece *wp = NULL;
        MUST(rg_wordpiece_new(v, RG_ARRAY_LEN(v), &o, &wp, NULL, 0) == RG_OK);
        encode_check(wp, RG_ARRAY_LEN(v), text, 1, 2);
        rg_wordpiece_free(wp);
    }
}

static void metadata(const rg_gguf *g)
{
    for (size_t i = 0; i < g->n_kv; i++) {
        char key[256];
        size_t n = g->kv[i].key.n < sizeof key - 1 ? g->kv[i].key.n : sizeof key - 1;
        memcpy(key, g->kv[i].key.p, n);
        key[n] = 0;
        uint32_t u;
        float f;
        bool b;
        rg_str s;
        size_t ns = 0;
        (void)rg_gguf_u32(g, key, &u);
        (void)rg_gguf_f32(g, key, &f);
        (void)rg_gguf_bool(g, key, &b);
        if (rg_gguf_str(g, key, &s))
            MUST((const uint8_t *)s.p >= g->base &&
                 (const uint8_t *)s.p + s.n <= g->base + g->size);
        if (rg_gguf_strs(g, key, NULL, 0, &ns) && ns) {
            rg_str *all = rg_xmalloc(ns * sizeof *all);
            MUST(rg_gguf_strs(g, key, all, ns, &ns));
            for (size_t k = 0; k < ns; k++)
                MUST((const uint8_t *)all[k].p >= g->base &&
                     (const uint8_t *)all[k].p + all[k].n <= g->base + g->size);
            rg_free(all);
        }
    }
}

static void tensors(const rg_gguf *g)
{
    for (size_t i = 0; i < rg_gguf_tensor_count(g); i++) {
        const rg_gguf_tensor *t = rg_gguf_tensor_at(g, i);
        MUST(t != NULL);
        char name[300];
        memcpy(name, t->name.p, t->name.n);
        name[t->name.n] = 0;
        const rg_gguf_tensor *f = rg_gguf_tensor_find(g, name);
        MUST(strlen(name) != t->name.n || f == t); /* a name with a NUL is not findable */
        MUST(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3] == t->n);
        MUST((const uint8_t *)t->data >= g->base && t->nbytes <= g->size &&
             (const uint8_t *)t->data + t->nbytes <= g->base + g->size);
        float *out = rg_xmalloc(t->n * sizeof *out + 1);
        MUST(rg_gguf_to_f32(t, out) == RG_OK);
        if (t->type == RG_GGUF_F32)
            MUST(memcmp(out, t->data, t->nbytes) == 0);
        rg_free(out);
    }
}

static void vocab(const rg_gguf *g, rg_str text)
{
    size_t n = 0;
    if (!rg_gguf_strs(g, "tokenizer.ggml.tokens", NULL, 0, &n) || n == 0)
        return;
    rg_str *v = rg_xmalloc(n * sizeof *v);
    MUST(rg_gguf_strs(g, "tokenizer.ggml.tokens", v, n, &n));
    for (int lower = 0; lower < 2; lower++) {
        rg_wordpiece_opts o = {
            .lowercase = lower, .phantom = true, .cls = -1, .sep = -1, .unk = -1};
        rg_wordpiece *wp = NULL;
        char err[128];
        if (rg_wordpiece_new(v, n, &o, &wp, err, sizeof err) == RG_OK)
            encode_check(wp, n, text, -1, -1);
        else
            MUST(err[0]);
        rg_wordpiece_free(wp);
    }
    (void)rg_wordpiece_vocab_cased(v, n);
    rg_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = rg_xmalloc(size + 1);
    memcpy(copy, data, size);
    rg_str text = {(const char *)copy, size < MAX_TEXT ? size : MAX_TEXT};
    fixed_vocab(text);
    rg_gguf *g = NULL;
    char err[256] = "";
    rg_rc rc = rg_gguf_open_mem(copy, size, &g, err, sizeof err);
    if (rc != RG_OK) {
        MUST(g == NULL && err[0] && (rc == RG_EINVAL || rc == RG_ENOMEM));
    } else {
        metadata(g);
        tensors(g);
        vocab(g, text);
        rg_gguf_close(g);
    }
    rg_free(copy);
    return 0;
}
