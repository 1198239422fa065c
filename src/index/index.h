/*
 * index.h - in-memory search over one dataset: BM25 full text and exact
 * vector search, built from the store and kept current by version.
 *
 * The registry keeps one immutable snapshot per dataset.  acquire() compares
 * the snapshot's index version with the store's (one cheap read) and rebuilds
 * it when they differ, so every change a call has committed is visible to the
 * next search.  Snapshots are reference-counted: a search keeps using the one
 * it acquired while a newer one is built.  Searches are thread-safe.
 */
#ifndef RG_INDEX_INDEX_H
#define RG_INDEX_INDEX_H

#include "core/arena.h"
#include "core/common.h"
#include "core/str.h"
#include "store/store.h"

typedef struct rg_index rg_index;
typedef struct rg_index_registry rg_index_registry;

/* One result: the unit's ids (borrowed from the snapshot: valid until it is
 * released) and its score (BM25, or cosine similarity in [-1, 1]). */
typedef struct rg_hit {
    const char *segment_id, *document_id, *child_id; /* child_id NULL for segments */
    double score;
    uint32_t ref; /* the unit in its snapshot (rg_index_*_scores) */
} rg_hit;

/* Creates a registry over the store (borrowed; must outlive it). */
RG_WUR rg_rc rg_index_registry_new(rg_store *s, rg_index_registry **out);
/* Vectors of one dimension from which a snapshot gets an approximate index
 * (HNSW, hnsw.h) by default; below it searches scan them exactly. */
#define RG_INDEX_ANN_MIN_DEFAULT 20000

/* Sets that threshold (0: never build one).  The index is built by the
 * registry's background thread after the snapshot is published; until it is
 * ready, and when a newer snapshot replaces it, searches scan exactly. */
void rg_index_registry_ann(rg_index_registry *r, size_t min_rows);
/* Frees the registry and every snapshot (none may be acquired). */
void rg_index_registry_free(rg_index_registry *r);
/* Returns a reference to the dataset's current snapshot, rebuilt if stale.
 * Release it with rg_index_release. */
RG_WUR rg_rc rg_index_acquire(rg_index_registry *r, const char *tenant_id, const char *dataset_id,
                              rg_index **out);
/* Drops a reference from rg_index_acquire. */
void rg_index_release(rg_index *ix);
/* Number of searchable units in the snapshot. */
size_t rg_index_size(const rg_index *ix);

/* The cosine similarity of q (dims floats) with the unit of each of hits[0..n)
 * (hits of searches on ix) into out: NAN for a unit without a vector of that
 * dimension.  For fusing lists: a unit one list did not return still gets its
 * score from the other method. */
RG_WUR rg_rc rg_index_vector_scores(const rg_index *ix, const float *q, int dims,
                                    const rg_hit *hits, size_t n, double *out);
/* The BM25 score of the query for the unit of each of hits[0..n) into out,
 * exactly as rg_index_search_text scores it (0 when no term matches). */
RG_WUR rg_rc rg_index_text_scores(const rg_index *ix, rg_str query, const rg_hit *hits, size_t n,
                                  double *out);

/* A subset of one snapshot's units that searches keep to: the filter is
 * applied inside the search (a unit outside it is never scored into the top
 * k), so a filter matching few units still gets its k best. */
typedef struct rg_index_filter rg_index_filter;

/* The units of the documents doc_ids[0..n) (any order; ids the snapshot does
 * not hold are ignored), allocated in arena a, valid while ix is held. */
RG_WUR rg_rc rg_index_filter_documents(const rg_index *ix, rg_arena *a, const char *const *doc_ids,
                                       size_t n, rg_index_filter **out);
/* Number of units the filter lets through. */
size_t rg_index_filter_units(const rg_index_filter *f);

/* BM25 (k1 1.2, b 0.75, Lucene's non-negative IDF) of the query's terms
 * (tokenized as at indexing, text/tokenize.h); best k into out (caller array of
 * k), *n how many, best first, only units that match at least one term and
 * pass filter (NULL: every unit; else made from this snapshot). */
RG_WUR rg_rc rg_index_search_text(const rg_index *ix, rg_str query, size_t k,
                                  const rg_index_filter *filter, rg_hit *out, size_t *n);
/* Cosine similarity of q (dims floats, L2-normalised) against the units with
 * a vector of that dimension that pass filter (NULL: all); best k into out,
 * best first. */
RG_WUR rg_rc rg_index_search_vector(const rg_index *ix, const float *q, int dims, size_t k,
                                    const rg_index_filter *filter, rg_hit *out, size_t *n);

#endif
