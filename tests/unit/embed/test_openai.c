/*
 * test_openai.c - the pure part of the OpenAI-compatible embeddings client
 * (src/embed/openai_int.h): the embeddings response (order by index, counts,
 * widths, normalisation, malformed JSON).  Start-up refusals that need no
 * service are checked through rg_openai_start.  The shared pieces (models
 * list, URL, Retry-After, backoff, cutting, error messages) are tested in
 * test_remote.c; the HTTP exchange itself by tests/api/test_embed_openai.py
 * against a stand-in service.
 */
#include "harness.h"
#include "core/config.h"
#include "embed/openai.h"
#include "embed/openai_int.h"

#include <math.h>
#include <string.h>

static rg_rc parse(const char *body, size_t n, int dims, float *out, char *err)
{
    return rg_openai__parse_response(body, strlen(body), n, dims, out, NULL, err, 256);
}

TEST(openai_response_rows_by_index_normalised)
{
    float out[6] = {9, 9, 9, 9, 9, 9};
    char err[256] = "";
    const char *body = "{\"object\":\"list\",\"data\":["
                       "{\"index\":2,\"embedding\":[0,0]},"
                       "{\"index\":0,\"embedding\":[3,4]},"
                       "{\"index\":1,\"embedding\":[0,-2]}],\"model\":\"m\"}";
    CHECK(parse(body, 3, 2, out, err) == RG_OK);
    CHECK(fabsf(out[0] - 0.6f) < 1e-6f && fabsf(out[1] - 0.8f) < 1e-6f);
    CHECK(out[2] == 0 && out[3] == -1);
    CHECK(out[4] == 0 && out[5] == 0); /* a zero vector stays zero */
    /* no index: by position */
    CHECK(parse("{\"data\":[{\"embedding\":[1,0]},{\"embedding\":[0,5]}]}", 2, 2, out, err) ==
          RG_OK);
    CHECK(out[0] == 1 && out[1] == 0 && out[2] == 0 && out[3] == 1);
}

TEST(openai_response_mismatches)
{
    float out[8];
    char err[256];
    CHECK(parse("{\"data\":[{\"embedding\":[1,2,3]}]}", 1, 2, out, err) == RG_EUPSTREAM);
    CHECK(strstr(err, "returned 3 dimensions, the model is configured with 2") != NULL);
    CHECK(parse("{\"data\":[{\"embedding\":[1]},{\"embedding\":[1]},{\"embedding\":[1]}]}", 4, 1,
                out, err) == RG_EUPSTREAM);
    CHECK(strstr(err, "returned 3 embeddings for 4 texts") != NULL);
    CHECK(parse("{\"data\": [{\"embedding\": [0.1, 0.2", 1, 2, out, err) == RG_EUPSTREAM);
    CHECK(strstr(err, "malformed JSON") != NULL);
    CHECK(parse("", 1, 2, out, err) == RG_EUPSTREAM);
    CHECK(strstr(err, "malformed JSON") != NULL);
    CHECK(parse("{\"data\":[{\"index\":0,\"embedding\":[1]},{\"index\":0,\"embedding\":[1]}]}", 2,
                1, out, err) == RG_EUPSTREAM);
    CHECK(strstr(err, "appears twice") != NULL);
    CHECK(parse("{\"data\":[{\"index\":1,\"embedding\":[1]}]}", 1, 1, out, err) == RG_EUPSTREAM);
    CHECK(strstr(err, "bad \"index\"") != NULL);
    CHECK(parse("{\"data\":[{\"index\":\"0\",\"embedding\":[1]}]}", 1, 1, out, err) ==
          RG_EUPSTREAM);
    CHECK(parse("{\"data\":[{\"embedding\":\"AAAAAA==\"}]}", 1, 1, out, err) == RG_EUPSTREAM);
    CHECK(strstr(err, "base64") != NULL);
    CHECK(parse("{\"data\":[{\"embedding\":[1,\"x\"]}]}", 1, 2, out, err) == RG_EUPSTREAM);
    CHECK(strstr(err, "finite") != NULL);
    CHECK(parse("{\"data\":[{\"embedding\":[1,1e39]}]}", 1, 2, out, err) == RG_EUPSTREAM);
    CHECK(parse("[1,2]", 1, 2, out, err) == RG_EUPSTREAM);
    CHECK(parse("{\"error\":{\"message\":\"quota exceeded\"}}", 1, 2, out, err) == RG_EUPSTREAM);
    CHECK(strstr(err, "quota exceeded") != NULL);
}

TEST(openai_response_probe_learns_the_width)
{
    char err[256] = "";
    int dims = 0;
    const char *ok = "{\"data\":[{\"index\":0,\"embedding\":[0.1,0.2,0.3,0.4,0.5,0.6]}]}";
    CHECK(rg_openai__parse_response(ok, strlen(ok), 1, 0, NULL, &dims, err, sizeof err) == RG_OK);
    CHECK_EQ_INT(dims, 6);
    const char *empty = "{\"data\":[{\"index\":0,\"embedding\":[]}]}";
    CHECK(rg_openai__parse_response(empty, strlen(empty), 1, 0, NULL, &dims, err, sizeof err) ==
          RG_EUPSTREAM);
}

TEST(openai_start_refusals)
{
    rg_config c;
    rg_config_defaults(&c);
    char err[512] = "";
    CHECK(rg_openai_start(&c, err, sizeof err) == RG_OK); /* nothing configured */
    snprintf(c.openai_models, sizeof c.openai_models, "m:8");
    CHECK(rg_openai_start(&c, err, sizeof err) == RG_EINVAL);
    CHECK(strstr(err, "--embed-openai-url") != NULL);
    snprintf(c.openai_url, sizeof c.openai_url, "file:///etc/passwd");
    CHECK(rg_openai_start(&c, err, sizeof err) == RG_EINVAL);
    CHECK(strstr(err, "http:// or https://") != NULL);
    snprintf(c.openai_url, sizeof c.openai_url, "http://127.0.0.1:1/v1");
    snprintf(c.openai_models, sizeof c.openai_models, " , ");
    CHECK(rg_openai_start(&c, err, sizeof err) == RG_EINVAL);
    CHECK(strstr(err, "no model") != NULL);
}
