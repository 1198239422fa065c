/*
 * test_hash_embed.c - the built-in feature-hashing embedder and the model
 * registry: shape and norm, determinism, the zero vector, that similar texts
 * (English and unsegmented Chinese) are closer than unrelated ones, that
 * truncation at context_size reads nothing past the input, and lookups.
 */
#include "harness.h"

#include "core/alloc.h"
#include "embed/hash_embed.h"
#include "embed/registry.h"

#include <math.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#define DIMS 384

/* Embeds the NUL-terminated z with the default model into v (DIMS floats). */
static rg_rc embed1(const char *z, float *v)
{
    rg_str s = rg_str_c(z);
    return rg_hash_embed_model.embed(&rg_hash_embed_model, &s, 1, v, NULL);
}

static double dot(const float *a, const float *b)
{
    double s = 0;
    for (int i = 0; i < DIMS; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* Cosine of the embeddings of two NUL-terminated texts (vectors are unit). */
static double cos2(const char *a, const char *b)
{
    float va[DIMS], vb[DIMS];
    CHECK(embed1(a, va) == RG_OK);
    CHECK(embed1(b, vb) == RG_OK);
    return dot(va, vb);
}

static bool all_zero(const float *v)
{
    for (int i = 0; i < DIMS; i++)
        if (v[i] != 0.0f)
            return false;
    return true;
}

TEST(hash_embed_dims_and_unit_norm)
{
    CHECK_EQ_INT(rg_hash_embed_model.dims, DIMS);
    CHECK_EQ_INT(rg_hash_embed_model.context_size, 8192);
    static const char *const texts[] = {
        "a",    "The quick brown fox jumps over the lazy dog.", "光合作用",
        "🙂", "Привет, мир! Γειά σου Κόσμε. مرحبا بالعالم",   "x x x x x x x x x x x x x x x x",
    };
    for (size_t i = 0; i < RG_ARRAY_LEN(texts); i++) {
        float v[DIMS + 1];
        v[DIMS] = 12345.0f; /* sentinel: nothing written past the row */
        CHECK(embed1(texts[i], v) == RG_OK);
        CHECK(fabs(sqrt(dot(v, v)) - 1.0) < 1e-5);
        CHECK(v[DIMS] == 12345.0f);
        int nonzero = 0;
        for (int d = 0; d < DIMS; d++)
            nonzero += v[d] != 0.0f;
        CHECK(nonzero >= 1);
    }
}

TEST(hash_embed_deterministic)
{
    const char *z = "Deterministic: the same text gives the same vector, 同じ文は同じベクトル.";
    float a[DIMS], b[DIMS];
    CHECK(embed1(z, a) == RG_OK);
    CHECK(embed1(z, b) == RG_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    /* Pinned values: a change here changes every stored vector of every
     * dataset, so it must be deliberate (and come with a re-index).  "hello"
     * has six features (the word and five 3-grams), no two in one dimension. */
    static const struct {
        int dim;
        float sign;
    } golden[] = {{17, 1}, {46, 1}, {67, 1}, {99, -1}, {207, -1}, {241, -1}};
    float v[DIMS], want[DIMS] = {0};
    for (size_t i = 0; i < RG_ARRAY_LEN(golden); i++)
        want[golden[i].dim] = golden[i].sign * (float)(1 / sqrt(6.0));
    CHECK(embed1("hello", v) == RG_OK);
    for (int d = 0; d < DIMS; d++)
        CHECK(fabsf(v[d] - want[d]) < 1e-6f);
}

TEST(hash_embed_batch_equals_single)
{
    /* The per-call scratch table is reused across a batch: no leftovers. */
    const char *z[] = {"first text about apples and pears", "", "植物的光合作用",
                       "a much longer third text, with punctuation; and more words to count",
                       "short"};
    enum { N = RG_ARRAY_LEN(z) };
    rg_str s[N];
    for (int i = 0; i < N; i++)
        s[i] = rg_str_c(z[i]);
    float *batch = rg_xmalloc(sizeof(float) * DIMS * N);
    CHECK(rg_hash_embed_model.embed(&rg_hash_embed_model, s, N, batch, NULL) == RG_OK);
    for (int i = 0; i < N; i++) {
        float one[DIMS];
        CHECK(embed1(z[i], one) == RG_OK);
        CHECK(memcmp(one, batch + i * DIMS, sizeof one) == 0);
    }
    rg_free(batch);
}

TEST(hash_embed_empty_gives_zero_vector)
{
    float v[DIMS];
    for (int i = 0; i < DIMS; i++)
        v[i] = 1.0f;
    rg_str empty = RG_STR_NULL;
    CHECK(rg_hash_embed_model.embed(&rg_hash_embed_model, &empty, 1, v, NULL) == RG_OK);
    CHECK(all_zero(v));
    /* Only separators and ignorables: no features either. */
    CHECK(embed1("  \t\n.,;!? -- \xE3\x80\x80\xE3\x80\x82 \xC2\xA0 \xE2\x80\x8D\xEF\xBB\xBF", v) ==
          RG_OK);
    CHECK(all_zero(v));
}

TEST(hash_embed_bad_arguments)
{
    float v[DIMS];
    rg_str s = RG_STR("x");
    CHECK(rg_hash_embed_model.embed(&rg_hash_embed_model, NULL, 0, NULL, NULL) == RG_OK);
    CHECK(rg_hash_embed_model.embed(&rg_hash_embed_model, &s, 1, NULL, NULL) == RG_EINVAL);
    CHECK(rg_hash_embed_model.embed(&rg_hash_embed_model, NULL, 1, v, NULL) == RG_EINVAL);
    rg_str bad = {NULL, 3};
    CHECK(rg_hash_embed_model.embed(&rg_hash_embed_model, &bad, 1, v, NULL) == RG_EINVAL);
    CHECK(rg_hash_embed(NULL, &s, 1, v, NULL) == RG_EINVAL);
}

TEST(hash_embed_folds_case_width_and_punctuation)
{
    float a[DIMS], b[DIMS];
    CHECK(embed1("Hello, World! ÉCOLE Über ΣΟΦΙΑ МОСКВА ＡＢＣ１２３", a) == RG_OK);
    CHECK(embed1("hello world école über σοφια москва abc123", b) == RG_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    /* but the words themselves matter */
    CHECK(cos2("hello world", "hello word") < 0.95);
}

TEST(hash_embed_similar_english_closer)
{
    const char *a = "The cat sat on the mat in the kitchen.";
    const char *b = "A cat was sitting on the kitchen mat.";
    const char *c = "Quarterly revenue grew because of strong cloud sales.";
    double ab = cos2(a, b), ac = cos2(a, c);
    CHECK(ab > 0.4);
    CHECK(ab - ac > 0.3);

    const char *q = "How do I reset my password?";
    const char *d1 = "To reset your password, open settings and choose reset password.";
    const char *d2 = "The volcano erupted and lava flowed into the sea.";
    CHECK(cos2(q, d1) - cos2(q, d2) > 0.2);
    /* morphology through 3-grams: inflected forms still match */
    CHECK(cos2("embedding documents", "embedded document") >
          cos2("embedding documents", "volcanic eruptions") + 0.2);
}

TEST(hash_embed_sublinear_tf)
{
    /* "x" and "y" each have two features (the word and "^x$"), none sharing a
     * dimension; in "x x x x y" x's weigh 1 + ln 4 each, y's 1. */
    CHECK(fabs(cos2("x", "y")) < 1e-7);
    double wx = 1 + log(4.0), want = 2 / (sqrt(2 * wx * wx + 2) * sqrt(2.0));
    CHECK(fabs(cos2("x x x x y", "y") - want) < 1e-5);
    CHECK(fabs(cos2("x x x x y", "y x x x x") - 1) < 1e-6); /* a bag of features */
}

TEST(hash_embed_chinese_without_spaces)
{
    const char *a = "光合作用是植物利用光能的过程";
    const char *b = "植物的光合作用";
    const char *c = "火山喷发产生熔岩";
    double ab = cos2(a, b), ac = cos2(a, c);
    CHECK(ab > 0.3);
    CHECK(ab - ac > 0.25);
    /* bigrams: the same ideographs in another order are another text */
    CHECK(cos2("光合作用", "用作合光") < 0.5);
    /* Japanese mixing kanji and kana */
    CHECK(cos2("東京は日本の首都です", "日本の首都は東京") >
          cos2("東京は日本の首都です", "火山が噴火した") + 0.25);
}

TEST(hash_embed_truncates_at_context_size)
{
    /* 10000 three-byte ideographs and words in an exact-size heap buffer (no
     * NUL, so ASan sees any read past the end); the vector must equal that of
     * the first 8192 code points. */
    const int ctx = rg_hash_embed_model.context_size;
    size_t n = 0, cap = 40000, cut = 0, cut_less = 0;
    char *buf = rg_xmalloc(cap);
    static const char *const pieces[] = {
        "数", "据", "库", " ", "w", "o", "r", "d", "\xF0\x9F\x99\x82"};
    unsigned k = 0;
    for (int chars = 0; chars < 10000; chars++, k = (k * 4 + 1) % RG_ARRAY_LEN(pieces)) {
        if (chars + 1 == ctx)
            CHECK(strcmp(pieces[k], " ") != 0); /* so that the last character matters */
        size_t len = strlen(pieces[k]);
        memcpy(buf + n, pieces[k], len);
        n += len;
        if (chars + 1 == ctx)
            cut = n;
        if (chars + 2 == ctx)
            cut_less = n;
    }
    char *exact = rg_xmalloc(n);
    memcpy(exact, buf, n);
    rg_str s[3] = {{exact, n}, {exact, cut}, {exact, cut_less}};
    float v[3 * DIMS];
    CHECK(rg_hash_embed_model.embed(&rg_hash_embed_model, s, 3, v, NULL) == RG_OK);
    CHECK(memcmp(v, v + DIMS, sizeof(float) * DIMS) == 0);
    CHECK(fabs(sqrt(dot(v, v)) - 1.0) < 1e-5);
    /* the cut is exact: one code point less makes a difference */
    CHECK(memcmp(v + DIMS, v + 2 * DIMS, sizeof(float) * DIMS) != 0);

    /* A buffer that ends inside a multi-byte sequence (outside the contract)
     * is not read past either. */
    char *tail = rg_xmalloc(4);
    memcpy(tail, "ab\xE5\x85", 4); /* "ab" + 2 of the 3 bytes of 光 */
    rg_str t = {tail, 4};
    CHECK(rg_hash_embed_model.embed(&rg_hash_embed_model, &t, 1, v, NULL) == RG_OK);
    rg_free(tail);
    rg_free(exact);
    rg_free(buf);
}

TEST(hash_embed_emoji_and_combining_marks)
{
    /* 4-byte emoji, ZWJ sequences, skin tones, variation selectors, combining
     * marks, a supplementary-plane ideograph, Hangul, Devanagari, Thai. */
    const char *z = "cafe\xCC\x81 na\xC3\xAFve 👩‍💻 👍🏽 ❤️ 𠀀𠀁 한국어 "
                    "नमस्ते "
                    "ภาษาไทย "
                    "Z\xCC\xB7\xCD\x91"
                    "a\xCC\xB4\xCC\x81"
                    "l\xCC\xB8g\xCC\xB5o";
    float v[DIMS], w[DIMS];
    CHECK(embed1(z, v) == RG_OK);
    CHECK(fabs(sqrt(dot(v, v)) - 1.0) < 1e-5);
    CHECK(embed1(z, w) == RG_OK);
    CHECK(memcmp(v, w, sizeof v) == 0);
    /* emoji are features: a different emoji gives a different vector */
    CHECK(cos2("👍", "👍") > 0.999);
    CHECK(cos2("👍", "🔥") < 0.5);
    /* a skin tone or a variation selector does not change the meaning */
    CHECK(cos2("👍🏽", "👍") > 0.999);
    CHECK(cos2("❤️", "❤") > 0.999);
    /* combining marks stay inside their word */
    CHECK(cos2("cafe\xCC\x81 au lait", "cafe\xCC\x81 au lait") > 0.999);
}

TEST(hash_embed_registry_lookup)
{
    CHECK(rg_embed_find("ragd", "ragd-hash-384") == &rg_hash_embed_model);
    CHECK(rg_embed_find("ragd", "ragd-hash-385") == NULL);
    CHECK(rg_embed_find("openai", "ragd-hash-384") == NULL);
    CHECK(rg_embed_find("RAGD", "ragd-hash-384") == NULL);
    CHECK(rg_embed_find(NULL, "ragd-hash-384") == NULL);
    CHECK(rg_embed_find("ragd", NULL) == NULL);
    CHECK(rg_embed_default() == &rg_hash_embed_model);
    CHECK_EQ_STR(rg_embed_default()->label, "ragd built-in feature hashing (384-d)");
    const rg_embed_model *const *all = NULL;
    size_t n = rg_embed_models(&all);
    CHECK(n >= 1);
    CHECK(all && all[0] == &rg_hash_embed_model);
}

/* A run-time model: the same engine with 64 dims and a short context. */
static const rg_embed_model test_hash64 = {
    .provider = "ragd-test",
    .name = "hash-64",
    .label = "test: feature hashing (64-d)",
    .dims = 64,
    .context_size = 16,
    .embed = rg_hash_embed,
};

/* Registration changes process-wide state that other tests (the models API)
 * may list, and there is no unregistering: it is tested in a child process. */
#define CHILD_CHECK(c)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            CHECK(c);                                                                              \
            bad = 1;                                                                               \
        }                                                                                          \
    } while (0)

static int registry_register_child(void)
{
    int bad = 0;
    CHILD_CHECK(rg_embed_register(NULL) == RG_EINVAL);
    rg_embed_model broken = test_hash64;
    broken.dims = 0;
    CHILD_CHECK(rg_embed_register(&broken) == RG_EINVAL);
    broken = test_hash64;
    broken.name = "";
    CHILD_CHECK(rg_embed_register(&broken) == RG_EINVAL);
    broken = test_hash64;
    broken.embed = NULL;
    CHILD_CHECK(rg_embed_register(&broken) == RG_EINVAL);
    CHILD_CHECK(rg_embed_register(&rg_hash_embed_model) == RG_ECONFLICT);

    size_t before = rg_embed_models(NULL);
    CHILD_CHECK(rg_embed_find("ragd-test", "hash-64") == NULL);
    CHILD_CHECK(rg_embed_register(&test_hash64) == RG_OK);
    CHILD_CHECK(rg_embed_models(NULL) == before + 1);
    const rg_embed_model *const *all = NULL;
    CHILD_CHECK(rg_embed_models(&all) == before + 1 && all[before] == &test_hash64);
    const rg_embed_model *m = rg_embed_find("ragd-test", "hash-64");
    CHILD_CHECK(m == &test_hash64);
    CHILD_CHECK(rg_embed_register(&test_hash64) == RG_ECONFLICT);
    CHILD_CHECK(rg_embed_default() == &rg_hash_embed_model);
    if (m) {
        float v[64], w[64];
        rg_str s[2] = {RG_STR("sixteen chars ok and then more"), RG_STR("sixteen chars ok")};
        CHILD_CHECK(m->embed(m, s, 1, v, NULL) == RG_OK);
        CHILD_CHECK(m->embed(m, s + 1, 1, w, NULL) == RG_OK);
        CHILD_CHECK(memcmp(v, w, sizeof v) == 0); /* its own context_size applies */
    }

    /* fill the table: the limit is reported, earlier models stay */
    static rg_embed_model fill[RG_EMBED_MAX_MODELS];
    static char names[RG_EMBED_MAX_MODELS][16];
    size_t added = 0;
    rg_rc rc = RG_OK;
    for (size_t i = 0; i < RG_EMBED_MAX_MODELS && rc == RG_OK; i++) {
        snprintf(names[i], sizeof names[i], "fill-%zu", i);
        fill[i] = test_hash64;
        fill[i].name = names[i];
        rc = rg_embed_register(&fill[i]);
        added += rc == RG_OK;
    }
    CHILD_CHECK(rc == RG_ENOMEM);
    CHILD_CHECK(rg_embed_models(NULL) == RG_EMBED_MAX_MODELS);
    CHILD_CHECK(added == RG_EMBED_MAX_MODELS - before - 1);
    CHILD_CHECK(rg_embed_find("ragd-test", "hash-64") == &test_hash64);
    CHILD_CHECK(rg_embed_find("ragd", "ragd-hash-384") == &rg_hash_embed_model);
    return bad;
}

TEST(hash_embed_registry_register)
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(registry_register_child());
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* the parent's registry is untouched */
    CHECK(rg_embed_find("ragd-test", "hash-64") == NULL);
}

/* Threads embedding at once get what a single thread gets. */
enum { N_THREADS = 4, N_ROUNDS = 20 };
static const char *const mt_texts[] = {"parallel embedding of the same texts", "并发嵌入相同的文本",
                                       "🙂 emoji and words", ""};
enum { MT_N = RG_ARRAY_LEN(mt_texts) };

static void *mt_worker(void *arg)
{
    float *out = arg;
    rg_str s[MT_N];
    for (int i = 0; i < MT_N; i++)
        s[i] = rg_str_c(mt_texts[i]);
    for (int r = 0; r < N_ROUNDS; r++)
        if (rg_hash_embed_model.embed(&rg_hash_embed_model, s, MT_N, out, NULL) != RG_OK)
            return arg;
    return NULL;
}

TEST(hash_embed_thread_safe)
{
    static float want[MT_N * DIMS], got[N_THREADS][MT_N * DIMS];
    CHECK(mt_worker(want) == NULL);
    pthread_t th[N_THREADS];
    for (int t = 0; t < N_THREADS; t++)
        CHECK(pthread_create(&th[t], NULL, mt_worker, got[t]) == 0);
    for (int t = 0; t < N_THREADS; t++) {
        void *ret = got[t];
        CHECK(pthread_join(th[t], &ret) == 0);
        CHECK(ret == NULL);
        CHECK(memcmp(got[t], want, sizeof want) == 0);
    }
}
