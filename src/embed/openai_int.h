/*
 * openai_int.h - the pure part of the OpenAI-compatible embeddings client
 * (openai.c) exposed for tests/unit/embed/test_openai.c: the embeddings
 * response.  The models list, the base URL, Retry-After, backoff, cutting and
 * the service's error message are shared with the rerank client and live in
 * remote_int.h.  Nothing here does I/O or keeps state.
 */
#ifndef RG_EMBED_OPENAI_INT_H
#define RG_EMBED_OPENAI_INT_H

#include "core/common.h"

/* Parses an embeddings response body (len bytes) for n texts of dims numbers
 * into out (n * dims floats, caller-owned), ordered by each item's "index"
 * when present (else by position), each row L2-normalised (zero stays zero).
 * When dims is 0 the first row's length is taken and written to *got_dims
 * (the probe; n must then be 1).  RG_EUPSTREAM with a line in err (errlen
 * bytes) for malformed JSON, a count or dimension mismatch, a bad or
 * repeated index or a non-finite number. */
RG_WUR rg_rc rg_openai__parse_response(const char *body, size_t len, size_t n, int dims, float *out,
                                       int *got_dims, char *err, size_t errlen);

#endif
