/*
 * metadata_filter.h - Dify's metadata values and filter conditions (reference
 * 8.3): typed value parsing shared by the metadata API, and the per-document
 * filter that /retrieve and the external /retrieval apply inside the search.
 */
#ifndef RG_API_METADATA_FILTER_H
#define RG_API_METADATA_FILTER_H

#include "core/arena.h"
#include "core/common.h"
#include "store/store.h"

#include <jansson.h>

/* The five built-in fields, in Dify's order (name, type). */
extern const char *const rg_meta_builtin[5][2];
/* True when name is one of the built-in fields. */
bool rg_meta_is_builtin(const char *name);

/* A number value: a JSON number, or a string holding a finite decimal number. */
bool rg_meta_parse_number(json_t *v, double *out);
/* A time value as Unix seconds: a JSON number, a string of digits, or an ISO
 * date "YYYY-MM-DD" with an optional time "[T ]HH:MM[:SS]" and "Z" (UTC). */
bool rg_meta_parse_time(json_t *v, double *out);

typedef struct rg_meta_filter rg_meta_filter;

/* What the filter knows of the dataset: its custom fields (the JSON array of
 * rg_dataset.metadata), whether built-in fields are on, and the uploader name
 * the built-in "uploader" field shows. */
typedef struct rg_meta_schema {
    const char *fields; /* JSON [{"id","name","type"}], nullable */
    bool builtin_enabled;
    const char *uploader;
} rg_meta_schema;

/* Compiles a metadata_filtering_conditions / metadata_condition object into
 * *out (arena-owned; NULL when there are no conditions: everything passes).
 * RG_EINVAL with a message in *why (arena) for a bad shape, an unknown
 * operator, an operator that does not fit the field's type, or a value that
 * does not parse as the field's type. */
RG_WUR rg_rc rg_meta_filter_compile(rg_arena *a, json_t *filter, const rg_meta_schema *schema,
                                    rg_meta_filter **out, const char **why);
/* Whether the document satisfies the compiled conditions. */
bool rg_meta_filter_match(const rg_meta_filter *f, const rg_doc_meta *d);

#endif
