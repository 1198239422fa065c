/*
 * process_rule.h - Dify's process_rule: validated once when a document is
 * created (400 invalid_param with Dify's messages) and interpreted by the
 * pipeline from the same stored JSON, by the same code.
 */
#ifndef RG_INGEST_PROCESS_RULE_H
#define RG_INGEST_PROCESS_RULE_H

#include "core/arena.h"
#include "ingest/clean.h"
#include "ingest/split.h"

#include <jansson.h>

typedef enum { RG_RULE_AUTOMATIC, RG_RULE_CUSTOM, RG_RULE_HIERARCHICAL } rg_rule_mode;

typedef struct rg_process_rule {
    rg_rule_mode mode;
    rg_clean_rule clean[2];
    size_t n_clean;
    rg_split_rule segmentation; /* the chunks, or the parents when hierarchical */
    rg_split_parent_mode parent_mode;
    rg_split_rule subchunk; /* the children when hierarchical */
} rg_process_rule;

/* Validates a request's process_rule (v NULL or JSON null: automatic) and
 * returns its canonical JSON text to store in *stored (arena).  RG_EINVAL with
 * a message in why on a bad rule. */
RG_WUR rg_rc rg_process_rule_check(rg_arena *a, json_t *v, const char **stored, char *why,
                                   size_t whylen);
/* Interprets stored JSON text (from rg_process_rule_check) into *out; the
 * separators are unescaped into the arena. */
RG_WUR rg_rc rg_process_rule_load(rg_arena *a, const char *stored, rg_process_rule *out, char *why,
                                  size_t whylen);

#endif
