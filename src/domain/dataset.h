/*
 * dataset.h - the knowledge base ("dataset") entity and its rules.
 *
 * The struct is what the store keeps and what the API renders; strings are
 * NUL-terminated and owned by whoever filled the struct (normally an arena
 * passed to the store).  NULL means JSON null.  The rules here are Dify's
 * (shared/reference/dify-knowledge-api.md 4.1): pure functions, no I/O.
 */
#ifndef RG_DOMAIN_DATASET_H
#define RG_DOMAIN_DATASET_H

#include "core/common.h"
#include "core/ids.h"
#include "core/str.h"

#define RG_DATASET_NAME_MAX        40  /* characters (code points), Dify's limit */
#define RG_DATASET_DESCRIPTION_MAX 400 /* characters */

typedef struct rg_dataset {
    char id[RG_UUID_LEN + 1];
    char tenant_id[RG_UUID_LEN + 1];
    const char *name;
    const char *description;        /* nullable */
    const char *provider;           /* "vendor" | "external" */
    const char *permission;         /* only_me | all_team_members | partial_members */
    const char *data_source_type;   /* nullable until the first document */
    const char *indexing_technique; /* nullable | high_quality | economy */
    const char *created_by;
    const char *author_name; /* filled by the store from the tenant */
    int64_t created_at;
    const char *updated_by; /* nullable */
    int64_t updated_at;
    const char *embedding_model;           /* nullable */
    const char *embedding_model_provider;  /* nullable */
    const char *retrieval_model;           /* JSON text as given, nullable */
    const char *summary_index_setting;     /* JSON text, nullable */
    const char *icon_info;                 /* JSON text, nullable */
    const char *doc_form;                  /* nullable until the first document */
    const char *external_knowledge_id;     /* nullable */
    const char *external_knowledge_api_id; /* nullable */
    const char *external_retrieval_model;  /* JSON text, nullable */
    const char *partial_member_list;       /* JSON array of account ids, nullable */
    bool built_in_field_enabled;
    bool enable_api;
    bool is_multimodal;
    /* maintained counters (read-only for callers of the store) */
    int64_t document_count;
    int64_t word_count;
    int64_t available_document_count;
    /* filled by the store on reads: JSON arrays, "[]" when none */
    const char *tags;     /* the bound tags, [{"id","name","type"}] */
    const char *metadata; /* the custom metadata fields, [{"id","name","type"}] */
} rg_dataset;

/* Checks a dataset name: valid UTF-8, 1..40 characters after trimming.
 * On failure returns RG_EINVAL and points *why at a static sentence. */
RG_WUR rg_rc rg_dataset_check_name(rg_str name, const char **why);
/* Checks a description: valid UTF-8, at most 400 characters. */
RG_WUR rg_rc rg_dataset_check_description(rg_str d, const char **why);
/* True for high_quality and economy. */
bool rg_dataset_technique_valid(rg_str s);
/* True for only_me, all_team_members and partial_members. */
bool rg_dataset_permission_valid(rg_str s);
/* True for vendor and external. */
bool rg_dataset_provider_valid(rg_str s);
/* True for keyword_search, semantic_search, full_text_search and hybrid_search. */
bool rg_dataset_search_method_valid(rg_str s);
/* True for text_model, hierarchical_model and qa_model. */
bool rg_dataset_doc_form_valid(rg_str s);

#endif
