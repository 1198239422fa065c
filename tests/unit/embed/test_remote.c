/*
 * test_remote.c - the pure parts of the HTTP client shared by the remote
 * engines (src/embed/remote_int.h): the models list (with and without
 * dimensions), the base URL, Retry-After in both forms, the backoff ceiling,
 * cutting long texts and the service's error message.  The exchange itself
 * (retries, timeouts, in-flight slots) is covered by tests/api/
 * test_embed_openai.py and test_rerank.py against stand-in services.
 */
#include "harness.h"
#include "embed/remote_int.h"

#include <string.h>

static rg_remote__spec specs[RG_REMOTE_MAX_MODELS];

TEST(remote_models_list)
{
    char err[256] = "";
    size_t n = 0;
    CHECK(rg_remote__parse_models("--embed-openai", "a, b:384 ,,nomic-embed-text:latest,x:tag:8",
                                  true, specs, &n, err, sizeof err) == RG_OK);
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

TEST(remote_models_list_refusals)
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
        CHECK(rg_remote__parse_models("--embed-openai", bad[i][0], true, specs, &n, err,
                                      sizeof err) == RG_EINVAL);
        CHECK(strstr(err, bad[i][1]) != NULL);
    }
    char many[2048] = "", err[256];
    for (int i = 0; i <= RG_REMOTE_MAX_MODELS; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "m%d,", i);
    size_t n;
    CHECK(rg_remote__parse_models("--embed-openai", many, true, specs, &n, err, sizeof err) ==
          RG_EINVAL);
    CHECK(strstr(err, "more than") != NULL);
    char longname[RG_REMOTE_MAX_NAME + 2];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK(rg_remote__parse_models("--embed-openai", longname, true, specs, &n, err, sizeof err) ==
          RG_EINVAL);
}

TEST(remote_base_url)
{
    char base[64], err[256];
    bool v1 = false;
    CHECK(rg_remote__check_url("--embed-openai", "http://127.0.0.1:8000/v1/", base, sizeof base,
                               &v1, err, sizeof err) == RG_OK);
    CHECK_EQ_STR(base, "http://127.0.0.1:8000/v1");
    CHECK(v1);
    CHECK(rg_remote__check_url("--embed-openai", "HTTPS://api.example.com/v1beta/openai//", base,
                               sizeof base, &v1, err, sizeof err) == RG_OK);
    CHECK_EQ_STR(base, "HTTPS://api.example.com/v1beta/openai");
    CHECK(!v1);
    CHECK(rg_remote__check_url("--embed-openai", "http://h", base, sizeof base, &v1, err,
                               sizeof err) == RG_OK);
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
        CHECK(rg_remote__check_url("--embed-openai", bad[i][0], base, sizeof base, &v1, err,
                                   sizeof err) == RG_EINVAL);
        CHECK(strstr(err, bad[i][1]) != NULL);
        CHECK(strstr(err, "secret") == NULL);
    }
}

TEST(remote_retry_after)
{
    int64_t ms = -1, now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
    CHECK(rg_remote__retry_after("1", now, &ms));
    CHECK_EQ_INT(ms, 1000);
    CHECK(rg_remote__retry_after(" 0 ", now, &ms));
    CHECK_EQ_INT(ms, 0);
    CHECK(rg_remote__retry_after("86400", now, &ms));
    CHECK_EQ_INT(ms, RG_REMOTE_RETRY_AFTER_MAX_MS);
    CHECK(rg_remote__retry_after("99999999999999999999999", now, &ms));
    CHECK_EQ_INT(ms, RG_REMOTE_RETRY_AFTER_MAX_MS);
    /* the three HTTP-date forms of RFC 9110, 7 s after now */
    CHECK(rg_remote__retry_after("Sun, 06 Nov 1994 08:49:44 GMT", now, &ms));
    CHECK_EQ_INT(ms, 7000);
    CHECK(rg_remote__retry_after("Sunday, 06-Nov-94 08:49:44 GMT", now, &ms));
    CHECK_EQ_INT(ms, 7000);
    CHECK(rg_remote__retry_after("Sun Nov  6 08:49:44 1994", now, &ms));
    CHECK_EQ_INT(ms, 7000);
    CHECK(rg_remote__retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now, &ms)); /* past */
    CHECK_EQ_INT(ms, 0);
    CHECK(rg_remote__retry_after("Mon, 07 Nov 1994 08:49:37 GMT", now, &ms)); /* a day */
    CHECK_EQ_INT(ms, RG_REMOTE_RETRY_AFTER_MAX_MS);
    CHECK(!rg_remote__retry_after("", now, &ms));
    CHECK(!rg_remote__retry_after("soon", now, &ms));
    CHECK(!rg_remote__retry_after("-5", now, &ms));
}

TEST(remote_backoff_ceiling)
{
    CHECK_EQ_INT(rg_remote__backoff_cap_ms(0), 500);
    CHECK_EQ_INT(rg_remote__backoff_cap_ms(1), 1000);
    CHECK_EQ_INT(rg_remote__backoff_cap_ms(5), 16000);
    CHECK_EQ_INT(rg_remote__backoff_cap_ms(6), RG_REMOTE_BACKOFF_CAP_MS);
    CHECK_EQ_INT(rg_remote__backoff_cap_ms(20), RG_REMOTE_BACKOFF_CAP_MS);
    CHECK_EQ_INT(rg_remote__backoff_cap_ms(1000), RG_REMOTE_BACKOFF_CAP_MS);
}

TEST(remote_cut_at_a_character)
{
    rg_str t = RG_STR("ab\xc3\xa9\xe6\x97\xa5z"); /* a b é 日 z */
    CHECK_EQ_INT(rg_remote__cut(t, 0), 0);
    CHECK_EQ_INT(rg_remote__cut(t, 2), 2);
    CHECK_EQ_INT(rg_remote__cut(t, 3), 4);
    CHECK_EQ_INT(rg_remote__cut(t, 4), 7);
    CHECK_EQ_INT(rg_remote__cut(t, 5), 8);
    CHECK_EQ_INT(rg_remote__cut(t, 100), 8);
}

static const char *message(const char *body)
{
    static char out[RG_REMOTE_MESSAGE_MAX + 8];
    rg_remote__error_message(body, strlen(body), out, sizeof out);
    return out;
}

TEST(remote_error_message)
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
    CHECK_EQ_INT(strlen(message(big)), RG_REMOTE_MESSAGE_MAX);
    /* a multi-byte character is never split at the end */
    char cjk[RG_REMOTE_MESSAGE_MAX + 8] = "x";
    for (size_t i = 1; i + 3 < sizeof cjk; i += 3)
        memcpy(cjk + i, "\xe6\x97\xa5", 4);
    CHECK(rg_utf8_valid(message(cjk), strlen(message(cjk))));
}

TEST(remote_models_list_without_dimensions)
{
    char err[256] = "";
    size_t n = 0;
    CHECK(rg_remote__parse_models("--rerank", "bge-reranker:latest, jina:8 ,", false, specs, &n,
                                  err, sizeof err) == RG_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_STR(specs[0].name, "bge-reranker:latest");
    CHECK_EQ_STR(specs[1].name, "jina:8"); /* no dimensions for rerank models */
    CHECK_EQ_INT(specs[1].dims, 0);
    CHECK(rg_remote__parse_models("--rerank", "a,a", false, specs, &n, err, sizeof err) ==
          RG_EINVAL);
    CHECK(strncmp(err, "--rerank-models: ", 17) == 0);
    CHECK(rg_remote__parse_models("--rerank", "", false, specs, &n, err, sizeof err) == RG_EINVAL);
    CHECK(strstr(err, "(NAME,...)") != NULL);
    char base[64];
    bool v1;
    CHECK(rg_remote__check_url("--rerank", "http://u@h/v1", base, sizeof base, &v1, err,
                               sizeof err) == RG_EINVAL);
    CHECK(strstr(err, "--rerank-url: must not carry user info (give the key with --rerank-key)"));
}
