/*
 * hnsw.h - an approximate nearest-neighbour graph (HNSW, Malkov & Yashunin
 * 2016) over the rows of a float32 matrix that the caller owns, for
 * similarity = dot product of L2-normalised rows (cosine).  Internal to
 * index/ (and its tests and bench/vectors).
 *
 * The graph stores row numbers only: every call that reads vectors takes the
 * matrix base pointer (row r is data[r * dims .. r * dims + dims)), so the
 * caller's matrix may be reallocated between calls; rows must never change
 * once added.  One writer adds rows 0, 1, 2, ... in order; searches may run
 * concurrently with each other but not with an add.
 */
#ifndef RG_INDEX_HNSW_H
#define RG_INDEX_HNSW_H

#include "index/index_int.h"

#include <stdint.h>

/* Largest M accepted (level 0 keeps 2 M neighbours per node). */
#define RG_INDEX_HNSW_MAX_M 64
/* Highest level a node can be drawn at (level 0 is the base); with M >= 4
 * the chance of reaching it is below 4^-31 per node. */
#define RG_INDEX_HNSW_MAX_LEVEL 31
/* Largest ef (construction or search) accepted. */
#define RG_INDEX_HNSW_MAX_EF 65536
/* Largest number of rows a graph holds (row numbers are 32-bit, and the top
 * value marks "none"). */
#define RG_INDEX_HNSW_MAX_ROWS (UINT32_MAX - 1u)

typedef struct rg_index__hnsw_params {
    int m;               /* neighbours per node on levels >= 1; 2 m on level 0 */
    int ef_construction; /* candidate list length while inserting */
    int ef_search;       /* default candidate list length of a search (ef 0) */
    uint64_t seed;       /* level draws: same seed and rows -> same graph */
} rg_index__hnsw_params;

typedef struct rg_index__hnsw rg_index__hnsw;

/* Fills p with the defaults (M 16, ef_construction 200, ef_search 192, seed
 * 1: recall@10 0.957 on the GloVe words; hnsw.c's comment says why). */
void rg_index__hnsw_defaults(rg_index__hnsw_params *p);

/* A new empty graph for rows of dims floats (p NULL: the defaults; p is
 * copied).  RG_EINVAL when dims or a parameter is out of range, RG_ENOMEM.
 * The caller frees *out with rg_index__hnsw_free. */
RG_WUR rg_rc rg_index__hnsw_new(int dims, const rg_index__hnsw_params *p, rg_index__hnsw **out);

/* Inserts row number row of the matrix at data (borrowed for the call only,
 * never kept); row must equal the number of rows added so far.  RG_EINVAL on
 * a row out of order or over RG_INDEX_HNSW_MAX_ROWS, RG_ENOMEM (the graph is
 * left as before the call). */
RG_WUR rg_rc rg_index__hnsw_add(rg_index__hnsw *h, const float *data, uint32_t row);

/* The best min(k, allowed rows) rows for query q (dims floats, borrowed),
 * best first (score = dot product, descending; ties by row ascending), into
 * out (k entries, the caller's), their number into *n.  ef: candidate list
 * length, 0 = the graph's ef_search; raised to k when smaller.  allow: NULL,
 * or a bitmap over rows (bit r of allow[r / 64] set = row r may be returned;
 * at least ceil(rows / 64) words).  Disallowed rows are still walked through
 * but never returned, and the search only stops once ef allowed rows are held
 * (or every reachable row was seen), so its cost grows like ef / (allowed
 * fraction) while its recall stays at or above the unfiltered one.  Measured
 * on 331k GloVe rows at ef 192 (bench/vectors/run filter): 1.0 ms at 50 %
 * allowed, 2.8 ms at 10 %, 4.9 ms at 5 %, 25 ms at 1 %, against an exact
 * scan of the allowed rows taking 5.7, 3.4 and 1.0 ms at 10, 5 and 1 %: a
 * caller should scan exactly when under ~8 % of the rows are allowed.
 * Approximate: a true neighbour may be missed.
 * Thread-safe against other searches: the visited set comes from a
 * mutex-guarded pool in the graph.  RG_ENOMEM when a search buffer cannot be
 * had. */
RG_WUR rg_rc rg_index__hnsw_search(const rg_index__hnsw *h, const float *data, const float *q,
                                   size_t k, size_t ef, const uint64_t *allow,
                                   rg_index__scored *out, size_t *n);

/* Makes room for rows rows in all (a hint: add grows the arrays by doubling
 * otherwise, which can leave up to half of them unused).  RG_ENOMEM. */
RG_WUR rg_rc rg_index__hnsw_reserve(rg_index__hnsw *h, size_t rows);

/* Rows added so far. */
size_t rg_index__hnsw_rows(const rg_index__hnsw *h);

/* Bytes the graph holds (links, levels, search buffers; not the vectors). */
size_t rg_index__hnsw_bytes(const rg_index__hnsw *h);

/* Frees the graph; NULL is fine. */
void rg_index__hnsw_free(rg_index__hnsw *h);

#endif
