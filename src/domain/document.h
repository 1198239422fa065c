/*
 * document.h - documents, their segments and the indexing state machine.
 *
 * A document moves through
 *     waiting -> parsing -> cleaning -> splitting -> indexing -> completed
 * and may end in error from any stage.  Pausing is a flag beside the status
 * (as Dify's is_paused): the status endpoint shows "paused" while it is set.
 * Each stage's timestamp is written when that stage ends (processing_started_at
 * when parsing starts).  completed_segments and total_segments are counters
 * kept in the document row by the store, never COUNTs.
 *
 * Timestamps are Unix seconds; -1 means unset (JSON null).  Strings are
 * NUL-terminated, owned by whoever filled the struct (an arena); NULL is null.
 */
#ifndef RG_DOMAIN_DOCUMENT_H
#define RG_DOMAIN_DOCUMENT_H

#include "core/common.h"
#include "core/ids.h"
#include "core/str.h"

typedef enum rg_doc_status {
    RG_DOC_WAITING = 0,
    RG_DOC_PARSING,
    RG_DOC_CLEANING,
    RG_DOC_SPLITTING,
    RG_DOC_INDEXING,
    RG_DOC_COMPLETED,
    RG_DOC_ERROR,
    RG_DOC_STATUS_COUNT
} rg_doc_status;

/* The wire name of a status ("waiting", ...), static storage. */
const char *rg_doc_status_name(rg_doc_status s);
/* Parses a wire name; RG_EINVAL for an unknown one. */
RG_WUR rg_rc rg_doc_status_parse(const char *name, rg_doc_status *out);
/* True when status b may follow status a (forward only, error from anywhere
 * but completed, waiting again after error or completed for a retry/update). */
bool rg_doc_status_can_move(rg_doc_status a, rg_doc_status b);

/* The uploaded file behind a document (the original bytes, kept for download). */
typedef struct rg_upload {
    char id[RG_UUID_LEN + 1];
    const char *name; /* as the client sent it; never used as a path */
    int64_t size;
    const char *extension; /* lower case, no dot: "pdf", "md", "txt" */
    const char *mime_type;
    const char *created_by;
    int64_t created_at_us; /* microseconds: Dify renders this one as a float */
    unsigned char sha256[32];
} rg_upload;

typedef struct rg_document {
    char id[RG_UUID_LEN + 1];
    char tenant_id[RG_UUID_LEN + 1];
    char dataset_id[RG_UUID_LEN + 1];
    int64_t position;
    char batch[RG_BATCH_LEN + 1];
    const char *name;
    const char *data_source_type; /* "upload_file" */
    const char *created_from;     /* "api" */
    const char *created_by;
    int64_t created_at, updated_at;
    const char *doc_form;           /* text_model | hierarchical_model | qa_model */
    const char *doc_language;       /* nullable */
    const char *indexing_technique; /* copied from the request or the dataset */
    const char *embedding_model, *embedding_model_provider; /* for high_quality */
    const char *process_rule; /* JSON {"mode","rules"} as validated, never NULL */
    char process_rule_id[RG_UUID_LEN + 1];
    rg_doc_status status;
    bool is_paused;
    int64_t processing_started_at, parsing_completed_at, cleaning_completed_at,
        splitting_completed_at, completed_at, paused_at, stopped_at, disabled_at, archived_at;
    const char *error; /* nullable: why it failed, in words a person can act on */
    bool enabled, archived;
    const char *disabled_by, *archived_by; /* nullable */
    int64_t word_count;                    /* -1 until splitting has finished */
    int64_t tokens;                        /* -1 until indexing has finished */
    double indexing_latency;               /* seconds, < 0 when unset */
    int64_t total_segments, completed_segments;
    const char *doc_type;     /* nullable */
    const char *doc_metadata; /* JSON object text, nullable */
    rg_upload upload;         /* the file (for create-by-text: the .txt the text became) */
} rg_document;

/* One chunk of a document. */
typedef struct rg_segment {
    char id[RG_UUID_LEN + 1];
    char document_id[RG_UUID_LEN + 1];
    char dataset_id[RG_UUID_LEN + 1];
    int64_t position; /* 1-based */
    const char *content;
    const char *answer; /* nullable (qa_model) */
    int64_t word_count; /* characters */
    int64_t tokens;
    const char *keywords; /* JSON array text, nullable */
    char index_node_id[RG_UUID_LEN + 1];
    char index_node_hash[65]; /* hex SHA-256 */
    int64_t hit_count;
    bool enabled;
    int64_t disabled_at;
    const char *disabled_by;
    const char *status; /* waiting | indexing | completed | error | re_segment */
    const char *created_by;
    int64_t created_at, updated_at, indexing_at, completed_at, stopped_at;
    const char *updated_by, *error;
} rg_segment;

/* One child chunk of a parent segment (hierarchical documents). */
typedef struct rg_child_chunk {
    char id[RG_UUID_LEN + 1];
    char segment_id[RG_UUID_LEN + 1];
    int64_t position;
    const char *content;
    int64_t word_count;
    const char *type; /* automatic | customized */
    int64_t created_at, updated_at;
} rg_child_chunk;

/* Dify's display_status for list and get (available, indexing, queuing,
 * paused, error, disabled, archived), static storage. */
const char *rg_doc_display_status(const rg_document *d);

#endif
