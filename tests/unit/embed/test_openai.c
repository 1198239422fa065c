/*
 * test_openai.c - the pure parts of the OpenAI-compatible client
 * (src/embed/openai_int.h): the models list, the base URL, Retry-After in
 * both forms, the backoff ceiling, cutting long texts, the embeddings
 * response (order by index, counts, widths, normalisation, malformed JSON)
 * and the service's error message.  Start-up refusals that need no service
 * are checked through rg_openai_start.  The HTTP exchange itself is covered
 * by tests/api/test_embed_openai.py against a stand-in service.
 */
#include "harness.h"
#include "core/config.h"
#include "embed/openai.h"
#include "embed/openai_int.h"

#include <math.h>

static rg_openai__spec specs[RG_OPENAI_MAX_MODELS];

TEST(openai_models_list)
{
    char err[256] = "";
    size_t n = 0;
    CHECK(rg_openai__parse_models("a, b:384 ,,nomic-embed-text:latest,x:tag:8", specs, &n, err,
                                  sizeof err) == RG_OK);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_STR(specs[0].name, "a");
    CHECK_EQ_INT(specs[0].dims, 0);
    CHECK_EQ_STR(specs[1].name, "b");
    CHECK_EQ_INT(specs[1].dims, 384);
    CHECK_EQ_STR(specs[2].name, "nomic-embed-text:latest"); /* an Ollama tag, not dims */
    CHECK_EQ_INT(specs[2].dims, 0);
    CHECK_EQ_STR(specs[3].name, "x:tag");
    CHECK_EQ_INT(specs[3].dims, 8);
}

TEST(openai_models_list_refusals)
{
    static const char *const bad[][2] = {
        {"", "no model"},
        {" , ,", "no model"},
        {"a:0", "dimensions"},
        {"a:16385", "dimensions"},
        {":8", "1-128 bytes"},
        {"a b:8", "space or control"},
        {"a:8,a:4", "listed twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        size_t n;
        CHECK(rg_openai__parse_models(bad[i][0], specs, &n, err, sizeof err) == RG_EINVAL);
        CHECK(strstr(err, bad[i][1]) != NULL);
    }
    char many[2048] = "", err[256];
    for (int i = 0; i <= RG_OPENAI_MAX_MODELS; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "m%d,", i);
    size_t n;
    CHECK(rg_openai__parse_models(many, specs, &n, err, sizeof err) == RG_EINVAL);
    CHECK(strstr(err, "more than") != NULL);
    char longname[RG_OPENAI_MAX_NAME + 2];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK(rg_openai__parse_models(longname, specs, &n, err, sizeof err) == RG_EINVAL);
}

TEST(openai_base_url)
{
    char base[64], err[256];
    bool v1 = false;
    CHECK(rg_openai__check_url("http://127.0.0.1:8000/v1/", base, sizeof base, &v1, err,
                               sizeof err) == RG_OK);
    CHECK_EQ_STR(base, "http://127.0.0.1:8000/v1");
    CHECK(v1);
    CHECK(rg_openai__check_url("HTTPS://api.example.com/v1beta/openai//", base, sizeof base, &v1,
                               err, sizeof err) == RG_OK);
    CHECK_EQ_STR(base, "HTTPS://api.example.com/v1beta/openai");
    CHECK(!v1);
    CHECK(rg_openai__check_url("http://h", base, sizeof base, &v1, err, sizeof err) == RG_OK);
    CHECK(!v1);
    static const char *const bad[][2] = {
        {"ftp://h/v1", "http:// or https://"},
        {"h/v1", "http:// or https://"},
        {"http:///v1", "no host"},
        {"http://u:secret@h/v1", "user info"},
        {"http://h/v1?key=1", "query"},
        {"http://h/v1#x", "query"},
        {"http://h /v1", "white space"},
        {"http://h/v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "too long"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        CHECK(rg_openai__check_url(bad[i][0], base, sizeof base, &v1, err, sizeof err) ==
              RG_EINVAL);
        CHECK(strstr(err, bad[i][1]) != NULL);
        CHECK(strstr(err, "secret") == NULL);
    }
}

TEST(openai_retry_after)
{
    int64_t ms = -1, now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
    CHECK(rg_openai__retry_after("1", now, &ms));
    CHECK_EQ_INT(ms, 1000);
    CHECK(rg_openai__retry_after(" 0 ", now, &ms));
    CHECK_EQ_INT(ms, 0);
    CHECK(rg_openai__retry_after("86400", now, &ms));
    CHECK_EQ_INT(ms, RG_OPENAI_RETRY_AFTER_MAX_MS);
    CHECK(rg_openai__retry_after("99999999999999999999999", now, &ms));
    CHECK_EQ_INT(ms, RG_OPENAI_RETRY_AFTER_MAX_MS);
    /* the three HTTP-date forms of RFC 9110, 7 s after now */
    CHECK(rg_openai__retry_after("Sun, 06 Nov 1994 08:49:44 GMT", now, &ms));
    CHECK_EQ_INT(ms, 7000);
    CHECK(rg_openai__retry_after("Sunday, 06-Nov-94 08:49:44 GMT", now, &ms));
    CHECK_EQ_INT(ms, 7000);
    CHECK(rg_openai__retry_after("Sun Nov  6 08:49:44 1994", now, &ms));
    CHECK_EQ_INT(ms, 7000);
    CHECK(rg_openai__retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now, &ms)); /* past */
    CHECK_EQ_INT(ms, 0);
    CHECK(rg_openai__retry_after("Mon, 07 Nov 1994 08:49:37 GMT", now, &ms)); /* a day */
    CHECK_EQ_INT(ms, RG_OPENAI_RETRY_AFTER_MAX_MS);
    CHECK(!rg_openai__retry_after("", now, &ms));
    CHECK(!rg_openai__retry_after("soon", now, &ms));
    CHECK(!rg_openai__retry_after("-5", now, &ms));
}

TEST(openai_backoff_ceiling)
{
    CHECK_EQ_INT(rg_openai__backoff_cap_ms(0), 500);
    CHECK_EQ_INT(rg_openai__backoff_cap_ms(1), 1000);
    CHECK_EQ_INT(rg_openai__backoff_cap_ms(5), 16000);
    CHECK_EQ_INT(rg_openai__backoff_cap_ms(6), RG_OPENAI_BACKOFF_CAP_MS);
    CHECK_EQ_INT(rg_openai__backoff_cap_ms(20), RG_OPENAI_BACKOFF_CAP_MS);
    CHECK_EQ_INT(rg_openai__backoff_cap_ms(1000), RG_OPENAI_BACKOFF_CAP_MS);
}

TEST(openai_cut_at_a_character)
{
    rg_str t = RG_STR("ab\xc3\xa9\xe6\x97\xa5z"); /* a b é 日 z */
    CHECK_EQ_INT(rg_openai__cut(t, 0), 0);
    CHECK_EQ_INT(rg_openai__cut(t, 2), 2);
    CHECK_EQ_INT(rg_openai__cut(t, 3), 4);
    CHECK_EQ_INT(rg_openai__cut(t, 4), 7);
    CHECK_EQ_INT(rg_openai__cut(t, 5), 8);
    CHECK_EQ_INT(rg_openai__cut(t, 100), 8);
}

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

static const char *message(const char *body)
{
    static char out[RG_OPENAI_MESSAGE_MAX + 8];
    rg_openai__error_message(body, strlen(body), out, sizeof out);
    return out;
}

TEST(openai_error_message)
{
    CHECK_EQ_STR(message("{\"error\":{\"message\":\"Rate limit reached for requests\","
                         "\"type\":\"requests\"}}"),
                 "Rate limit reached for requests");
    CHECK_EQ_STR(message("{\"error\":\"model 'x' not found\"}"), "model 'x' not found");
    CHECK_EQ_STR(message("{\"object\":\"error\",\"message\":\"bad input\",\"code\":400}"),
                 "bad input");
    CHECK_EQ_STR(message("{\"detail\":\"Not Found\"}"), "Not Found");
    CHECK_EQ_STR(message("<html>\r\n<b>502 Bad Gateway</b>"), "<html>?"
                                                              "?<b>502 Bad Gateway</b>");
    CHECK_EQ_STR(message("bad \xff byte \xc3\xa9"), "bad ? byte \xc3\xa9");
    CHECK_EQ_STR(message(""), "(empty body)");
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK_EQ_INT(strlen(message(big)), RG_OPENAI_MESSAGE_MAX);
    /* a multi-byte character is never split at the end */
    char cjk[RG_OPENAI_MESSAGE_MAX + 8] = "x";
    for (size_t i = 1; i + 3 < sizeof cjk; i += 3)
        memcpy(cjk + i, "\xe6\x97\xa5", 4);
    CHECK(rg_utf8_valid(message(cjk), strlen(message(cjk))));
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
