/*
 * rerank_int.h - the pure part of the OpenAI-compatible rerank client
 * (rerank.c) exposed for tests/unit/embed/test_rerank.c: the request body and
 * the response with its score mapping.  Nothing here does I/O.
 */
#ifndef RG_EMBED_RERANK_INT_H
#define RG_EMBED_RERANK_INT_H

#include "core/buf.h"
#include "core/common.h"
#include "core/str.h"

/* Writes {"model","query","documents":[...],"top_n":n} into b, the query and
 * each document cut to RG_RERANK_DOC_CHARS code points.  RG_ETOOBIG when b's
 * maximum is reached. */
RG_WUR rg_rc rg_rerank__request(const char *model, rg_str query, const rg_str *docs, size_t n,
                                rg_buf *b);

/* Parses a rerank answer (len bytes) for n documents into scores (n doubles,
 * caller-owned): {"results":[{"index","relevance_score"},...]} or a bare
 * array of {"index","score"} (either score key in either shape).  Documents
 * the answer leaves out score 0; when any score is outside [0,1] every score
 * given is mapped by 1/(1+e^-s).  RG_EUPSTREAM with a line in err (errlen
 * bytes) for malformed JSON, no results array (the service's message is
 * quoted), an index missing, out of range or repeated, or a score that is
 * not a finite number. */
RG_WUR rg_rc rg_rerank__parse_response(const char *body, size_t len, size_t n, double *scores,
                                       char *err, size_t errlen);

#endif
