/*
 * openai_int.h - the pure parts of the OpenAI-compatible client (openai.c),
 * exposed for tests/unit/embed/test_openai.c: the models list, the base URL,
 * Retry-After, where a long text is cut, the backoff schedule, the embeddings response and the
 * service's error message.  None of them does I/O or keeps state.
 */
#ifndef RG_EMBED_OPENAI_INT_H
#define RG_EMBED_OPENAI_INT_H

#include "core/common.h"
#include "core/str.h"

/* Longest model name accepted in --embed-openai-models (bytes). */
#define RG_OPENAI_MAX_NAME 128
/* Models one --embed-openai-models list may name. */
#define RG_OPENAI_MAX_MODELS 32
/* Largest dimension count accepted from the list or from a probe. */
#define RG_OPENAI_MAX_DIMS 16384
/* Retry-After values (seconds or HTTP-date) are cut to this many milliseconds. */
#define RG_OPENAI_RETRY_AFTER_MAX_MS 120000
/* Backoff: full jitter over min(cap, base * 2^retry) milliseconds. */
#define RG_OPENAI_BACKOFF_BASE_MS 500
#define RG_OPENAI_BACKOFF_CAP_MS  30000
/* Bytes of a service's error message kept for the error line. */
#define RG_OPENAI_MESSAGE_MAX 200

/* One entry of the models list: dims 0 means "not given, probe it". */
typedef struct rg_openai__spec {
    char name[RG_OPENAI_MAX_NAME + 1];
    int dims;
} rg_openai__spec;

/* Parses "name[:dims],..." into out[0..*n) (at most RG_OPENAI_MAX_MODELS).
 * Entries are trimmed; empty entries are skipped.  The part after the LAST
 * colon is the dimension count only when it is all digits, so an Ollama tag
 * ("nomic-embed-text:latest") stays part of the name.  RG_EINVAL with a line
 * in err (errlen bytes) for no model, a name too long or with a control
 * character or space, dims out of 1..RG_OPENAI_MAX_DIMS, a duplicate name or
 * too many entries. */
RG_WUR rg_rc rg_openai__parse_models(const char *list, rg_openai__spec *out, size_t *n, char *err,
                                     size_t errlen);

/* Checks a base URL and writes it to base (cap bytes) without trailing
 * slashes.  Refused (RG_EINVAL, err says why): a scheme other than http:// or
 * https://, no host, user info ('@' before the path), a query or fragment,
 * white space or control characters, or a result that does not fit.  *v1 is
 * set to whether the path ends in "/v1" (the caller only warns when not:
 * some services use another version segment). */
RG_WUR rg_rc rg_openai__check_url(const char *url, char *base, size_t cap, bool *v1, char *err,
                                  size_t errlen);

/* Parses a Retry-After value (delta seconds, or an HTTP-date in any of the
 * three forms of RFC 9110) into milliseconds from now_s, clamped to
 * [0, RG_OPENAI_RETRY_AFTER_MAX_MS].  False when the value is neither. */
bool rg_openai__retry_after(const char *value, int64_t now_s, int64_t *ms);

/* The ceiling of the jittered delay before retry number retry (0-based):
 * min(RG_OPENAI_BACKOFF_CAP_MS, RG_OPENAI_BACKOFF_BASE_MS << retry). */
int64_t rg_openai__backoff_cap_ms(int retry);

/* Parses an embeddings response body (len bytes) for n texts of dims numbers
 * into out (n * dims floats, caller-owned), ordered by each item's "index"
 * when present (else by position), each row L2-normalised (zero stays zero).
 * When dims is 0 the first row's length is taken and written to *got_dims
 * (the probe; n must then be 1).  RG_EUPSTREAM with a line in err (errlen
 * bytes) for malformed JSON, a count or dimension mismatch, a bad or
 * repeated index or a non-finite number. */
RG_WUR rg_rc rg_openai__parse_response(const char *body, size_t len, size_t n, int dims, float *out,
                                       int *got_dims, char *err, size_t errlen);

/* The number of bytes of valid UTF-8 t that hold its first max_chars code
 * points (all of t when it has no more): where a long text is cut. */
size_t rg_openai__cut(rg_str t, size_t max_chars);

/* The service's own explanation in an error body: error.message (OpenAI,
 * LocalAI), error when it is a string (Ollama, text-embeddings-inference),
 * message (vLLM), detail when a string (FastAPI), else the first
 * RG_OPENAI_MESSAGE_MAX bytes of the body.  Written to out (cap bytes) on one
 * line, control characters and invalid UTF-8 replaced by '?'. */
void rg_openai__error_message(const char *body, size_t len, char *out, size_t cap);

#endif
