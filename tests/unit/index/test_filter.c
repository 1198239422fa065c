/*
 * test_filter.c - document filters applied inside the searches: a snapshot of
 * 40 documents (one of them split in two runs of units), filters of one,
 * several, unknown and no documents; full-text and vector results are exactly
 * the best of the allowed units (compared with the unfiltered search over
 * every unit, kept to the allowed ones), even when the allowed units are all
 * below the unfiltered top k.
 */
#include "harness.h"

#include "core/arena.h"
#include "index/index_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { F_DOCS = 40, F_PER = 5, F_UNITS = F_DOCS * F_PER + 3, F_DIMS = 8 };

static char f_seg[F_UNITS][40], f_doc[F_DOCS][40], f_terms[F_UNITS][64];
static float f_vec[F_UNITS][F_DIMS];

/* Unit u belongs to document doc_of(u): 5 each in order, and 3 more units of
 * document 7 at the very end (a document in two runs). */
static int doc_of(int u)
{
    return u < F_DOCS * F_PER ? u / F_PER : 7;
}

static rg_index *f_build(void)
{
    rg_index_row rows[F_UNITS];
    for (int d = 0; d < F_DOCS; d++)
        snprintf(f_doc[d], sizeof f_doc[d], "doc-%02d", d);
    for (int u = 0; u < F_UNITS; u++) {
        snprintf(f_seg[u], sizeof f_seg[u], "seg-%03d", u);
        /* "common" everywhere, more often in low units: they win unfiltered */
        int reps = u < 20 ? 5 : 1;
        snprintf(f_terms[u], sizeof f_terms[u], "common\t%d\nw%d\t1\n", reps, u % 7);
        double n = 0;
        for (int i = 0; i < F_DIMS; i++) {
            f_vec[u][i] = (float)(i == 0 ? (u < 20 ? 1.0 : 0.2) : sin(u * 0.7 + i));
            n += (double)f_vec[u][i] * f_vec[u][i];
        }
        for (int i = 0; i < F_DIMS; i++)
            f_vec[u][i] = (float)(f_vec[u][i] / sqrt(n));
        rows[u] = (rg_index_row){f_seg[u],   f_doc[doc_of(u)],  NULL, f_vec[u], F_DIMS,
                                 f_terms[u], strlen(f_terms[u])};
    }
    rg_index *ix = NULL;
    CHECK_EQ_INT(rg_index__build(rows, F_UNITS, 1, &ix), RG_OK);
    return ix;
}

static bool allowed_doc(const char *id, const char *const *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(id, ids[i]) == 0)
            return true;
    return false;
}

/* The filtered search equals the unfiltered one over every unit, kept to the
 * allowed documents and cut to k. */
static void check_filter(rg_index *ix, const char *const *ids, size_t n, size_t want_units)
{
    rg_arena *a = rg_arena_new(1 << 20);
    rg_index_filter *f;
    CHECK_EQ_INT(rg_index_filter_documents(ix, a, ids, n, &f), RG_OK);
    CHECK_EQ_INT(rg_index_filter_units(f), want_units);
    rg_hit all[F_UNITS], got[4];
    size_t na, ng;
    const size_t k = 4;
    float q[F_DIMS];
    memcpy(q, f_vec[0], sizeof q);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0) {
            CHECK_EQ_INT(rg_index_search_text(ix, rg_str_c("common"), F_UNITS, NULL, all, &na),
                         RG_OK);
            CHECK_EQ_INT(rg_index_search_text(ix, rg_str_c("common"), k, f, got, &ng), RG_OK);
        } else {
            CHECK_EQ_INT(rg_index_search_vector(ix, q, F_DIMS, F_UNITS, NULL, all, &na), RG_OK);
            CHECK_EQ_INT(rg_index_search_vector(ix, q, F_DIMS, k, f, got, &ng), RG_OK);
        }
        size_t j = 0;
        for (size_t i = 0; i < na && j < k; i++) {
            if (!allowed_doc(all[i].document_id, ids, n))
                continue;
            CHECK(j < ng && strcmp(got[j].segment_id, all[i].segment_id) == 0 &&
                  got[j].score == all[i].score);
            j++;
        }
        CHECK_EQ_INT(ng, j);
    }
    rg_arena_free(a);
}

TEST(index_filter_documents)
{
    rg_index *ix = f_build();
    if (!ix)
        return;
    const char *one[] = {"doc-30"};
    check_filter(ix, one, 1, F_PER); /* all of its units are below the unfiltered top 4 */
    const char *two_runs[] = {"doc-07"};
    check_filter(ix, two_runs, 1, F_PER + 3);
    const char *several[] = {"doc-39", "doc-02", "doc-39", "nope", "doc-21"};
    check_filter(ix, several, 5, 3 * F_PER);
    const char *none[] = {"nope", "doc-"};
    check_filter(ix, none, 2, 0);
    check_filter(ix, NULL, 0, 0);
    /* a filter of another snapshot is refused */
    rg_index *other = f_build();
    rg_arena *a = rg_arena_new(1 << 16);
    rg_index_filter *f;
    rg_hit h[2];
    size_t n;
    CHECK_EQ_INT(rg_index_filter_documents(other, a, one, 1, &f), RG_OK);
    CHECK_EQ_INT(rg_index_search_text(ix, rg_str_c("common"), 2, f, h, &n), RG_EINVAL);
    CHECK_EQ_INT(rg_index_search_vector(ix, f_vec[0], F_DIMS, 2, f, h, &n), RG_EINVAL);
    rg_arena_free(a);
    rg_index_release(other);
    rg_index_release(ix);
}
