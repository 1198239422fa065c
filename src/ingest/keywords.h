/*
 * keywords.h - Dify's economy keyword table: the top keywords of each chunk
 * by TF-IDF, computed over the chunks of one document (Dify's jieba uses a
 * built-in corpus IDF; ragd uses the document's own chunks, which needs no
 * language data and ranks words that distinguish a chunk from its siblings).
 * Also the per-chunk term lists stored for full-text search.
 */
#ifndef RG_INGEST_KEYWORDS_H
#define RG_INGEST_KEYWORDS_H

#include "core/arena.h"
#include "core/common.h"
#include "core/str.h"

#define RG_KEYWORDS_PER_CHUNK 10 /* Dify's dataset.keyword_number default */

/* For each of the n chunks, writes into out[i] a JSON array text (arena) of
 * at most k keywords, best first (ties by first appearance). */
void rg_keywords_extract(rg_arena *a, const rg_str *chunks, size_t n, size_t k, const char **out);
/* The term list of one chunk for the full-text index: "term\ttf\n" lines in
 * first-appearance order (arena); *len is its length.  When n_tokens is not
 * NULL it receives the number of tokens (the sum of the tf values), so the
 * caller need not tokenize the chunk again. */
const char *rg_keywords_terms(rg_arena *a, rg_str chunk, size_t *len, int64_t *n_tokens);

#endif
