/*
 * process_rule.c - the process_rule object (Dify 7.1).
 *
 * Request-time checks are Dify's (mode, rules required for custom and
 * hierarchical, pre_processing_rules items with id and boolean enabled,
 * non-empty separator, integer max_tokens) plus the index-time ones that Dify
 * only reports by failing the document later (max_tokens 50..4000, overlap
 * smaller than the chunk): a client learns at once, with Dify's wording.
 * automatic stores Dify's AUTOMATIC_RULES.  Storage is canonical JSON.
 */
#include "ingest/process_rule.h"

#include "core/alloc.h"

#include <stdio.h>
#include <string.h>

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), RG_EINVAL)

static const char automatic_rules[] =
    "{\"mode\":\"automatic\",\"rules\":{\"pre_processing_rules\":[{\"id\":\"remove_extra_spaces\","
    "\"enabled\":true},{\"id\":\"remove_urls_emails\",\"enabled\":false}],\"segmentation\":{"
    "\"delimiter\":\"\\n\",\"max_tokens\":500,\"chunk_overlap\":50}}}";

static rg_rc check_pre(json_t *pre, char *why, size_t whylen)
{
    size_t i;
    json_t *it;
    if (!json_is_array(pre))
        return WHY("Process rule pre_processing_rules is required");
    json_array_foreach(pre, i, it)
    {
        json_t *id = json_object_get(it, "id"), *en = json_object_get(it, "enabled");
        if (!json_is_string(id))
            return WHY("Process rule pre_processing_rules id is required");
        if (!json_is_boolean(en))
            return WHY("Process rule pre_processing_rules enabled is invalid");
        const char *z = json_string_value(id);
        if (strcmp(z, "remove_extra_spaces") && strcmp(z, "remove_urls_emails") &&
            strcmp(z, "remove_stopwords"))
            return WHY("Process rule pre_processing_rules id '%.40s' is invalid", z);
    }
    return RG_OK;
}

static rg_rc check_seg(json_t *seg, const char *name, bool need_size, char *why, size_t whylen)
{
    if (!json_is_object(seg))
        return WHY("Process rule %s is required", name);
    json_t *sep = json_object_get(seg, "separator");
    if (!json_is_string(sep) || json_string_length(sep) == 0)
        return WHY("Process rule %s separator is required", name);
    json_t *mt = json_object_get(seg, "max_tokens"), *ov = json_object_get(seg, "chunk_overlap");
    if (!need_size && !mt)
        return RG_OK;
    if (!json_is_integer(mt))
        return WHY("Process rule %s max_tokens is required", name);
    json_int_t size = json_integer_value(mt), overlap = ov ? json_integer_value(ov) : 0;
    if (ov && !json_is_integer(ov) && !json_is_null(ov))
        return WHY("Process rule %s chunk_overlap must be an integer", name);
    if (size < RG_SPLIT_MIN_CHARS || size > RG_SPLIT_DEFAULT_LIMIT)
        return WHY("Custom segment length should be between %d and %d.", RG_SPLIT_MIN_CHARS,
                   RG_SPLIT_DEFAULT_LIMIT);
    if (overlap < 0 || overlap >= size)
        return WHY("Got a larger chunk overlap (%lld) than chunk size (%lld), should be smaller.",
                   (long long)overlap, (long long)size);
    return RG_OK;
}

static const char *dump(rg_arena *a, json_t *v)
{
    char *t = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    const char *r = rg_arena_strdup(a, t ? t : "{}");
    rg_free(t);
    return r;
}

rg_rc rg_process_rule_check(rg_arena *a, json_t *v, const char **stored, char *why, size_t whylen)
{
    if (!v || json_is_null(v)) {
        *stored = automatic_rules;
        return RG_OK;
    }
    if (!json_is_object(v))
        return WHY("process_rule must be an object");
    json_t *mode = json_object_get(v, "mode");
    const char *m = json_string_value(mode);
    if (!m || (strcmp(m, "automatic") && strcmp(m, "custom") && strcmp(m, "hierarchical")))
        return WHY("Process rule mode is invalid");
    if (strcmp(m, "automatic") == 0) {
        *stored = automatic_rules;
        return RG_OK;
    }
    json_t *rules = json_object_get(v, "rules");
    if (!json_is_object(rules))
        return WHY("Process rule rules is required");
    RG_TRY(check_pre(json_object_get(rules, "pre_processing_rules"), why, whylen));
    bool hier = strcmp(m, "hierarchical") == 0;
    const char *pm = "paragraph";
    json_t *jpm = json_object_get(rules, "parent_mode");
    if (hier && jpm && !json_is_null(jpm)) {
        pm = json_string_value(jpm);
        if (!pm || (strcmp(pm, "paragraph") && strcmp(pm, "full-doc")))
            return WHY("Process rule parent_mode must be paragraph or full-doc");
    }
    bool full_doc = hier && strcmp(pm, "full-doc") == 0;
    if (!(full_doc && !json_object_get(rules, "segmentation")))
        RG_TRY(check_seg(json_object_get(rules, "segmentation"), "segmentation", !full_doc, why,
                         whylen));
    if (hier)
        RG_TRY(check_seg(json_object_get(rules, "subchunk_segmentation"), "subchunk_segmentation",
                         true, why, whylen));
    json_t *canon = json_pack("{s:s, s:O}", "mode", m, "rules", rules);
    if (hier)
        json_object_set_new(json_object_get(canon, "rules"), "parent_mode", json_string(pm));
    *stored = dump(a, canon);
    json_decref(canon);
    return RG_OK;
}

static rg_rc load_split(rg_arena *a, json_t *seg, rg_split_rule *out, char *why, size_t whylen)
{
    const char *sep = json_string_value(json_object_get(seg, "separator"));
    rg_str unesc = RG_STR("\n\n");
    if (sep && rg_split_unescape_separator(a, rg_str_c(sep), &unesc) != RG_OK)
        return WHY("Process rule separator is not valid");
    out->mode = RG_SPLIT_CUSTOM;
    out->separator = unesc;
    json_t *mt = json_object_get(seg, "max_tokens");
    out->max_chars = json_is_integer(mt) ? (size_t)json_integer_value(mt) : RG_SPLIT_DEFAULT_LIMIT;
    out->overlap = (size_t)json_integer_value(json_object_get(seg, "chunk_overlap"));
    return RG_OK;
}

rg_rc rg_process_rule_load(rg_arena *a, const char *stored, rg_process_rule *out, char *why,
                           size_t whylen)
{
    json_error_t err;
    json_t *v = json_loads(stored, 0, &err);
    if (!v)
        return WHY("stored process rule is not JSON: %s", err.text);
    memset(out, 0, sizeof *out);
    rg_rc rc = RG_OK;
    const char *m = json_string_value(json_object_get(v, "mode"));
    json_t *rules = json_object_get(v, "rules");
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(rules, "pre_processing_rules"), i, it)
    {
        const char *id = json_string_value(json_object_get(it, "id"));
        if (!json_is_true(json_object_get(it, "enabled")) || !id || out->n_clean == 2)
            continue;
        if (strcmp(id, "remove_extra_spaces") == 0)
            out->clean[out->n_clean++] = RG_CLEAN_REMOVE_EXTRA_SPACES;
        else if (strcmp(id, "remove_urls_emails") == 0)
            out->clean[out->n_clean++] = RG_CLEAN_REMOVE_URLS_EMAILS;
    }
    if (!m || strcmp(m, "automatic") == 0) {
        out->mode = RG_RULE_AUTOMATIC;
        out->segmentation = rg_split_rule_automatic();
    } else {
        out->mode = strcmp(m, "hierarchical") == 0 ? RG_RULE_HIERARCHICAL : RG_RULE_CUSTOM;
        const char *pm = json_string_value(json_object_get(rules, "parent_mode"));
        out->parent_mode =
            pm && strcmp(pm, "full-doc") == 0 ? RG_SPLIT_FULL_DOC : RG_SPLIT_PARAGRAPH;
        json_t *seg = json_object_get(rules, "segmentation");
        if (seg)
            rc = load_split(a, seg, &out->segmentation, why, whylen);
        if (rc == RG_OK && out->mode == RG_RULE_HIERARCHICAL)
            rc = load_split(a, json_object_get(rules, "subchunk_segmentation"), &out->subchunk, why,
                            whylen);
    }
    json_decref(v);
    return rc;
}
