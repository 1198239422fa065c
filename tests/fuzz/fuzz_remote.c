/*
 * fuzz_remote.c - libFuzzer target for what ragd reads from remote model
 * services: the embeddings response parser (openai.c), the rerank response
 * parser (rerank.c), the extraction of a service's error message and the
 * Retry-After parser (remote.c).
 *
 * The first two bytes choose the request's shape (texts 0..7, dimensions
 * 1..16); the rest is the response body, given from a private copy so that
 * an overread is seen.  An accepted embeddings response must fill exactly
 * n rows of dims finite floats, each of norm 1 or 0; an accepted rerank
 * response n scores in [0, 1]; a refusal must come with a message.  The
 * error message is NUL-terminated within its buffer, printable enough to
 * log, and never longer than asked.  Build: see tests/fuzz/run.
 */
#include "embed/openai_int.h"
#include "embed/remote_int.h"
#include "embed/rerank_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(x)                                                                                    \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz_remote: %s:%d: %s\n", __FILE__, __LINE__, #x);                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void embeddings(const char *body, size_t len, size_t n, int dims)
{
    float out[8 * 16];
    char err[256] = "";
    int got = 0;
    rg_rc rc = rg_openai__parse_response(body, len, n, dims, out, &got, err, sizeof err);
    if (rc != RG_OK) {
        MUST(err[0] != '\0' && memchr(err, '\0', sizeof err));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        double norm = 0;
        for (int d = 0; d < dims; d++) {
            MUST(isfinite(out[i * (size_t)dims + (size_t)d]));
            norm += (double)out[i * (size_t)dims + (size_t)d] * out[i * (size_t)dims + (size_t)d];
        }
        MUST(norm == 0 || fabs(norm - 1) < 1e-3);
    }
}

static void rerank(const char *body, size_t len, size_t n)
{
    double scores[8];
    char err[256] = "";
    rg_rc rc = rg_rerank__parse_response(body, len, n, scores, err, sizeof err);
    if (rc != RG_OK) {
        MUST(err[0] != '\0' && memchr(err, '\0', sizeof err));
        return;
    }
    for (size_t i = 0; i < n; i++)
        MUST(scores[i] >= 0 && scores[i] <= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t n = data[0] % 8;
    int dims = 1 + data[1] % 16;
    size_t len = size - 2;
    char *body = malloc(len + 1);
    if (!body)
        return 0;
    memcpy(body, data + 2, len);
    body[len] = '\0'; /* for the string parsers; the JSON ones get len */
    embeddings(body, len, n, dims);
    rerank(body, len, n);
    char msg[64];
    memset(msg, 'x', sizeof msg);
    rg_remote__error_message(body, len, msg, sizeof msg);
    MUST(memchr(msg, '\0', sizeof msg) != NULL);
    int64_t ms = -1;
    if (rg_remote__retry_after(body, 1700000000, &ms))
        MUST(ms >= 0);
    free(body);
    return 0;
}
