/*
 * test_rerank.c - the rerank client's pure parts (src/embed/rerank_int.h):
 * the request body (cutting, top_n), both answer shapes, scores by index,
 * left-out documents, the logistic mapping of logits and every malformed
 * answer; the registry (rerank.h) and the start-up refusals that need no
 * service.  The exchange itself is covered by tests/api/test_rerank.py.
 */
#include "harness.h"
#include "core/alloc.h"
#include "core/config.h"
#include "embed/rerank.h"
#include "embed/rerank_int.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static rg_rc parse(const char *body, size_t n, double *scores, char *err)
{
    return rg_rerank__parse_response(body, strlen(body), n, scores, err, 256);
}

TEST(rerank_request_body)
{
    rg_buf b;
    rg_buf_init(&b, 1 << 20);
    rg_str docs[2] = {RG_STR("first \"doc\""), RG_STR("")};
    CHECK(rg_rerank__request("bge", RG_STR("q?"), docs, 2, &b) == RG_OK);
    json_t *j = json_loadb(b.p, b.len, 0, NULL);
    CHECK(j != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "model")), "bge");
    CHECK_EQ_STR(json_string_value(json_object_get(j, "query")), "q?");
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "top_n")), 2);
    json_t *d = json_object_get(j, "documents");
    CHECK_EQ_INT(json_array_size(d), 2);
    CHECK_EQ_STR(json_string_value(json_array_get(d, 0)), "first \"doc\"");
    json_decref(j);
    /* a long document is cut to RG_RERANK_DOC_CHARS code points */
    size_t big = RG_RERANK_DOC_CHARS + 100;
    char *text = rg_xmalloc(big * 2);
    for (size_t i = 0; i < big; i++)
        memcpy(text + 2 * i, "\xc3\xa9", 2);
    rg_str one = {text, big * 2};
    rg_buf_reset(&b);
    CHECK(rg_rerank__request("m", RG_STR("q"), &one, 1, &b) == RG_OK);
    j = json_loadb(b.p, b.len, 0, NULL);
    CHECK(j != NULL);
    CHECK_EQ_INT(json_string_length(json_array_get(json_object_get(j, "documents"), 0)),
                 RG_RERANK_DOC_CHARS * 2);
    json_decref(j);
    rg_buf_free(&b);
    rg_buf_init(&b, 64); /* over the request limit */
    CHECK(rg_rerank__request("m", RG_STR("q"), &one, 1, &b) == RG_ETOOBIG);
    rg_buf_free(&b);
    rg_free(text);
}

TEST(rerank_response_shapes)
{
    double s[3];
    char err[256] = "";
    /* Jina / Cohere / vLLM: results in relevance order, placed by index */
    CHECK(parse("{\"model\":\"m\",\"results\":[{\"index\":2,\"relevance_score\":0.9,"
                "\"document\":{\"text\":\"c\"}},{\"index\":0,\"relevance_score\":0.5},"
                "{\"index\":1,\"relevance_score\":0.1}]}",
                3, s, err) == RG_OK);
    CHECK(s[0] == 0.5 && s[1] == 0.1 && s[2] == 0.9);
    /* text-embeddings-inference: a bare array of {index, score} */
    CHECK(parse("[{\"index\":1,\"score\":0.75},{\"index\":0,\"score\":0.25}]", 2, s, err) == RG_OK);
    CHECK(s[0] == 0.25 && s[1] == 0.75);
    /* a document left out scores 0 */
    CHECK(parse("{\"results\":[{\"index\":1,\"relevance_score\":0.4}]}", 3, s, err) == RG_OK);
    CHECK(s[0] == 0 && s[1] == 0.4 && s[2] == 0);
}

TEST(rerank_logits_are_mapped_keeping_order)
{
    double s[3];
    char err[256] = "";
    CHECK(parse("{\"results\":[{\"index\":0,\"relevance_score\":-2.5},"
                "{\"index\":1,\"relevance_score\":0.2},{\"index\":2,\"relevance_score\":3}]}",
                3, s, err) == RG_OK);
    CHECK(fabs(s[0] - 1 / (1 + exp(2.5))) < 1e-12);
    CHECK(fabs(s[1] - 1 / (1 + exp(-0.2))) < 1e-12); /* mapped too: one scale per answer */
    CHECK(fabs(s[2] - 1 / (1 + exp(-3.0))) < 1e-12);
    CHECK(s[0] < s[1] && s[1] < s[2]);
    for (int i = 0; i < 3; i++)
        CHECK(s[i] > 0 && s[i] < 1);
    /* scores in [0,1] are kept as they are */
    CHECK(parse("[{\"index\":0,\"score\":1},{\"index\":1,\"score\":0}]", 2, s, err) == RG_OK);
    CHECK(s[0] == 1 && s[1] == 0);
}

TEST(rerank_malformed_responses)
{
    static const char *const bad[][2] = {
        {"{\"results\": [{\"index\": 0", "malformed JSON"},
        {"", "malformed JSON"},
        {"{\"detail\":\"model not loaded\"}", "model not loaded"},
        {"{\"results\":[{\"index\":3,\"relevance_score\":0.1}]}", "valid \"index\""},
        {"{\"results\":[{\"index\":-1,\"relevance_score\":0.1}]}", "valid \"index\""},
        {"{\"results\":[{\"index\":\"0\",\"relevance_score\":0.1}]}", "valid \"index\""},
        {"{\"results\":[{\"relevance_score\":0.1}]}", "valid \"index\""},
        {"{\"results\":[{\"index\":0}]}", "finite"},
        {"{\"results\":[{\"index\":0,\"relevance_score\":\"high\"}]}", "finite"},
        {"{\"results\":[{\"index\":0,\"relevance_score\":0.1},{\"index\":0,"
         "\"relevance_score\":0.2}]}",
         "appears twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double s[3];
        char err[256] = "";
        CHECK(parse(bad[i][0], 3, s, err) == RG_EUPSTREAM);
        CHECK(strstr(err, bad[i][1]) != NULL);
    }
}

static rg_rc fake_rerank(const rg_rerank_model *m, rg_str q, const rg_str *docs, size_t n,
                         double *scores, char *err)
{
    (void)m, (void)q, (void)docs, (void)err;
    for (size_t i = 0; i < n; i++)
        scores[i] = 0.5;
    return RG_OK;
}

TEST(rerank_registry)
{
    static const rg_rerank_model a = {"test-provider", "test-a", "A", 512, fake_rerank};
    static const rg_rerank_model nameless = {"test-provider", "", "B", 512, fake_rerank};
    static const rg_rerank_model nofn = {"test-provider", "test-c", "C", 512, NULL};
    size_t before = rg_rerank_models(NULL);
    CHECK(rg_rerank_find("test-provider", "test-a") == NULL);
    CHECK(rg_rerank_register(&a) == RG_OK);
    CHECK(rg_rerank_register(&a) == RG_ECONFLICT);
    CHECK(rg_rerank_register(&nameless) == RG_EINVAL);
    CHECK(rg_rerank_register(&nofn) == RG_EINVAL);
    CHECK(rg_rerank_register(NULL) == RG_EINVAL);
    const rg_rerank_model *const *all;
    CHECK_EQ_INT(rg_rerank_models(&all), before + 1);
    CHECK(all[before] == &a);
    CHECK(rg_rerank_find("test-provider", "test-a") == &a);
    CHECK(rg_rerank_find("other", "test-a") == NULL);
    CHECK(rg_rerank_find(NULL, "test-a") == NULL);
}

TEST(rerank_start_refusals)
{
    rg_config c;
    rg_config_defaults(&c);
    char err[512] = "";
    CHECK(rg_rerank_start(&c, err, sizeof err) == RG_OK); /* nothing configured */
    snprintf(c.rerank_models, sizeof c.rerank_models, "bge");
    CHECK(rg_rerank_start(&c, err, sizeof err) == RG_EINVAL);
    CHECK(strstr(err, "--rerank-models is set but --rerank-url is not") != NULL);
    snprintf(c.rerank_url, sizeof c.rerank_url, "ftp://127.0.0.1/v1");
    CHECK(rg_rerank_start(&c, err, sizeof err) == RG_EINVAL);
    CHECK(strstr(err, "--rerank-url: must start with http://") != NULL);
    snprintf(c.rerank_url, sizeof c.rerank_url, "http://127.0.0.1:1/v1");
    snprintf(c.rerank_models, sizeof c.rerank_models, " , ");
    CHECK(rg_rerank_start(&c, err, sizeof err) == RG_EINVAL);
    CHECK(strstr(err, "--rerank-models: no model") != NULL);
}
