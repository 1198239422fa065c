/*
 * test_bert.c - the BERT encoder through the registry: concurrent embed()
 * calls, batching, the zero vector, the shape and token-count helpers, and
 * refusals at start-up.
 *
 * The model is a tiny random one written by tools/gguf-tiny-bert (python3 +
 * numpy) into a temporary directory; when the tool cannot run, the tests that
 * need it print a note and pass.  Numerical agreement with an independent
 * implementation is tests/api/test_bert.py's job; here every vector is
 * compared with the same text embedded alone, single-threaded: batching and
 * concurrency must not change a bit... up to the summation order of a GEMM,
 * hence a tolerance of 1e-5.
 */
#include "harness.h"
#include "core/alloc.h"
#include "embed/bert.h"
#include "embed/embed.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { T_DIMS = 32, T_TEXTS = 6, T_THREADS = 4, T_ROUNDS = 3 };

static const char *const t_texts[T_TEXTS] = {
    "the quick brown fox",
    "",
    "Hello, World!",
    "中文 and café",
    "   ",
    "a longer text that goes on and on with many words to make it the longest of the batch",
};

static char t_dir[64], t_path[128];

/* Generates the tiny model once; NULL when the generator is unavailable. */
static const rg_embed_model *tiny_model(void)
{
    static const rg_embed_model *m;
    static bool tried;
    if (tried)
        return m;
    tried = true;
    snprintf(t_dir, sizeof t_dir, "/tmp/ragd-test-bert-XXXXXX");
    if (!mkdtemp(t_dir))
        return NULL;
    snprintf(t_path, sizeof t_path, "%s/unit-tiny.gguf", t_dir);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "tools/gguf-tiny-bert --out %s --hidden %d --heads 4 --ffn 64 --ctx 24 "
             "--layers 2 >/dev/null 2>&1",
             t_path, T_DIMS);
    if (system(cmd) != 0) {
        printf("  note: tools/gguf-tiny-bert did not run: BERT unit tests skipped\n");
        return NULL;
    }
    char err[256] = "";
    if (rg_bert_start(t_path, 2, err, sizeof err) != RG_OK) {
        printf("  rg_bert_start: %s\n", err);
        return NULL;
    }
    m = rg_embed_find("ragd", "unit-tiny");
    return m; /* the file stays for bert_start_refuses_a_second_model_of_that_name */
}

static rg_str *texts(void)
{
    static rg_str s[T_TEXTS];
    for (int i = 0; i < T_TEXTS; i++)
        s[i] = rg_str_c(t_texts[i]);
    return s;
}

static float max_diff(const float *a, const float *b, size_t n)
{
    float d = 0;
    for (size_t i = 0; i < n; i++)
        d = fabsf(a[i] - b[i]) > d ? fabsf(a[i] - b[i]) : d;
    return d;
}

/* Each text alone: the expected rows. */
static void embed_alone(const rg_embed_model *m, float *want)
{
    for (int i = 0; i < T_TEXTS; i++)
        CHECK(m->embed(m, texts() + i, 1, want + i * T_DIMS, NULL) == RG_OK);
}

TEST(bert_registers_and_reports_its_shape)
{
    const rg_embed_model *m = tiny_model();
    if (!m)
        return;
    CHECK_EQ_INT(m->dims, T_DIMS);
    CHECK(strcmp(m->provider, "ragd") == 0);
    CHECK(m->revision && strlen(m->revision) == 16);
    CHECK_EQ_INT(m->context_size, 24 * 8);
    rg_bert_shape sh;
    CHECK(rg_bert_shape_of(m, &sh));
    CHECK(sh.hidden == T_DIMS && sh.layers == 2 && sh.heads == 4 && sh.ffn == 64 && sh.ctx == 24);
    CHECK(!rg_bert_shape_of(rg_embed_find("ragd", "ragd-hash-384"), &sh));
    CHECK_EQ_INT((int)rg_bert_tokens(m, rg_str_c("")), 2);
    CHECK_EQ_INT((int)rg_bert_tokens(m, rg_str_c("! ! !")), 5);
    /* the window: 24 tokens at most, [SEP] included */
    CHECK_EQ_INT((int)rg_bert_tokens(m, rg_str_c(t_texts[5])), 24);
}

TEST(bert_batch_equals_texts_alone_and_blank_is_zero)
{
    const rg_embed_model *m = tiny_model();
    if (!m)
        return;
    float want[T_TEXTS * T_DIMS], got[T_TEXTS * T_DIMS];
    embed_alone(m, want);
    CHECK(m->embed(m, texts(), T_TEXTS, got, NULL) == RG_OK);
    CHECK(max_diff(want, got, T_TEXTS * T_DIMS) < 1e-5f);
    for (int i = 0; i < T_TEXTS; i++) {
        double n2 = 0;
        for (int k = 0; k < T_DIMS; k++)
            n2 += (double)got[i * T_DIMS + k] * got[i * T_DIMS + k];
        bool blank = i == 1 || i == 4;
        CHECK(blank ? n2 == 0 : fabs(n2 - 1) < 1e-4);
    }
}

typedef struct worker_arg {
    const rg_embed_model *m;
    const float *want;
    float diff;
    int fails;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    float got[T_TEXTS * T_DIMS];
    for (int r = 0; r < T_ROUNDS; r++) {
        if (a->m->embed(a->m, texts(), T_TEXTS, got, NULL) != RG_OK)
            a->fails++;
        float d = max_diff(a->want, got, T_TEXTS * T_DIMS);
        a->diff = d > a->diff ? d : a->diff;
    }
    return NULL;
}

TEST(bert_concurrent_calls_agree)
{
    const rg_embed_model *m = tiny_model();
    if (!m)
        return;
    float want[T_TEXTS * T_DIMS];
    embed_alone(m, want);
    pthread_t th[T_THREADS];
    worker_arg args[T_THREADS];
    for (int i = 0; i < T_THREADS; i++) {
        args[i] = (worker_arg){m, want, 0, 0};
        CHECK(pthread_create(&th[i], NULL, worker, &args[i]) == 0);
    }
    for (int i = 0; i < T_THREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(args[i].fails, 0);
        CHECK(args[i].diff < 1e-5f);
    }
}

TEST(bert_start_refuses_bad_files_naming_them)
{
    char err[512] = "";
    CHECK(rg_bert_start("/nonexistent/model.gguf", 1, err, sizeof err) != RG_OK);
    CHECK(strstr(err, "/nonexistent/model.gguf") != NULL);
    err[0] = '\0';
    CHECK(rg_bert_start("a.gguf,,b.gguf", 1, err, sizeof err) != RG_OK);
    CHECK(err[0] != '\0');
    char path[] = "/tmp/ragd-test-bert-bad-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK(write(fd, "GGUF\x03\x00\x00\x00garbage", 15) == 15);
    close(fd);
    err[0] = '\0';
    CHECK(rg_bert_start(path, 1, err, sizeof err) != RG_OK);
    CHECK(strstr(err, path) != NULL);
    unlink(path);
    CHECK(rg_bert_start("", 1, err, sizeof err) == RG_OK); /* none configured */
}

TEST(bert_start_refuses_a_second_model_of_that_name)
{
    if (!tiny_model())
        return;
    char err[512] = "";
    CHECK(rg_bert_start(t_path, 1, err, sizeof err) == RG_ECONFLICT); /* nothing leaks (LSan) */
    CHECK(strstr(err, "unit-tiny") != NULL);
    unlink(t_path);
    rmdir(t_dir);
}
