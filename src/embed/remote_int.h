/*
 * remote_int.h - the pure parts of the HTTP client shared by the remote
 * engines (remote.c), exposed for tests/unit/embed/test_remote.c: the models
 * list, the base URL, Retry-After, the backoff schedule, where a long text is
 * cut and the service's error message.  None of them does I/O or keeps state.
 *
 * Messages name the engine's settings by their common prefix opt ("--embed-
 * openai", "--rerank"): opt + "-url", opt + "-key", opt + "-models".
 */
#ifndef RG_EMBED_REMOTE_INT_H
#define RG_EMBED_REMOTE_INT_H

#include "core/common.h"
#include "core/str.h"

/* Longest model name accepted in a models list (bytes). */
#define RG_REMOTE_MAX_NAME 128
/* Models one models list may name. */
#define RG_REMOTE_MAX_MODELS 32
/* Largest dimension count accepted from a list (embedding models). */
#define RG_REMOTE_MAX_DIMS 16384
/* Retry-After values (seconds or HTTP-date) are cut to this many milliseconds. */
#define RG_REMOTE_RETRY_AFTER_MAX_MS 120000
/* Backoff: full jitter over min(cap, base * 2^retry) milliseconds. */
#define RG_REMOTE_BACKOFF_BASE_MS 500
#define RG_REMOTE_BACKOFF_CAP_MS  30000
/* Bytes of a service's error message kept for the error line. */
#define RG_REMOTE_MESSAGE_MAX 200

/* One entry of a models list: dims 0 means "not given". */
typedef struct rg_remote__spec {
    char name[RG_REMOTE_MAX_NAME + 1];
    int dims;
} rg_remote__spec;

/* Parses "name[:dims],..." into out[0..*n) (at most RG_REMOTE_MAX_MODELS).
 * Entries are trimmed; empty entries are skipped.  With dims_ok the part
 * after the LAST colon is the dimension count when it is all digits (so an
 * Ollama tag, "nomic-embed-text:latest", stays part of the name); without it
 * the whole entry is the name.  RG_EINVAL with a line in err (errlen bytes,
 * starting with opt + "-models") for no model, a name too long or with a
 * control character or space, dims out of 1..RG_REMOTE_MAX_DIMS, a duplicate
 * name or too many entries. */
RG_WUR rg_rc rg_remote__parse_models(const char *opt, const char *list, bool dims_ok,
                                     rg_remote__spec *out, size_t *n, char *err, size_t errlen);

/* Checks a base URL and writes it to base (cap bytes) without trailing
 * slashes.  Refused (RG_EINVAL, err starts with opt + "-url" and says why): a
 * scheme other than http:// or https://, no host, user info ('@' before the
 * path), a query or fragment, white space or control characters, or a result
 * that does not fit.  *v1 is set to whether the path ends in "/v1" (callers
 * only warn when not: some services use another version segment). */
RG_WUR rg_rc rg_remote__check_url(const char *opt, const char *url, char *base, size_t cap,
                                  bool *v1, char *err, size_t errlen);

/* Parses a Retry-After value (delta seconds, or an HTTP-date in any of the
 * three forms of RFC 9110) into milliseconds from now_s, clamped to
 * [0, RG_REMOTE_RETRY_AFTER_MAX_MS].  False when the value is neither. */
bool rg_remote__retry_after(const char *value, int64_t now_s, int64_t *ms);

/* The ceiling of the jittered delay before retry number retry (0-based):
 * min(RG_REMOTE_BACKOFF_CAP_MS, RG_REMOTE_BACKOFF_BASE_MS << retry). */
int64_t rg_remote__backoff_cap_ms(int retry);

/* The number of bytes of valid UTF-8 t that hold its first max_chars code
 * points (all of t when it has no more): where a long text is cut. */
size_t rg_remote__cut(rg_str t, size_t max_chars);

/* The service's own explanation in an error body: error.message (OpenAI,
 * LocalAI), error when it is a string (Ollama, text-embeddings-inference),
 * message (vLLM), detail when a string (FastAPI, Jina), else the first
 * RG_REMOTE_MESSAGE_MAX bytes of the body.  Written to out (cap bytes) on one
 * line, control characters and invalid UTF-8 replaced by '?'. */
void rg_remote__error_message(const char *body, size_t len, char *out, size_t cap);

#endif
