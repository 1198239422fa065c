/*
 * dataset.c - validation rules for datasets, as Dify applies them.
 *
 * Lengths are counted in Unicode code points, as Python's len() counts them,
 * so a 40-character Chinese name is accepted exactly as Dify accepts it.
 */
#include "domain/dataset.h"

static bool in_set(rg_str s, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rg_str_eqz(s, set[i]))
            return true;
    return false;
}

rg_rc rg_dataset_check_name(rg_str name, const char **why)
{
    if (!rg_utf8_valid(name.p, name.n)) {
        *why = "name must be valid UTF-8";
        return RG_EINVAL;
    }
    size_t chars = rg_utf8_len(name.p, name.n);
    if (rg_str_trim(name).n == 0) {
        *why = "name is required and must not be blank (1 to 40 characters)";
        return RG_EINVAL;
    }
    if (chars > RG_DATASET_NAME_MAX) {
        *why = "name must be at most 40 characters";
        return RG_EINVAL;
    }
    return RG_OK;
}

rg_rc rg_dataset_check_description(rg_str d, const char **why)
{
    if (!rg_utf8_valid(d.p, d.n)) {
        *why = "description must be valid UTF-8";
        return RG_EINVAL;
    }
    if (rg_utf8_len(d.p, d.n) > RG_DATASET_DESCRIPTION_MAX) {
        *why = "description must be at most 400 characters";
        return RG_EINVAL;
    }
    return RG_OK;
}

bool rg_dataset_technique_valid(rg_str s)
{
    static const char *const set[] = {"high_quality", "economy"};
    return in_set(s, set, RG_ARRAY_LEN(set));
}

bool rg_dataset_permission_valid(rg_str s)
{
    static const char *const set[] = {"only_me", "all_team_members", "partial_members"};
    return in_set(s, set, RG_ARRAY_LEN(set));
}

bool rg_dataset_provider_valid(rg_str s)
{
    static const char *const set[] = {"vendor", "external"};
    return in_set(s, set, RG_ARRAY_LEN(set));
}

bool rg_dataset_search_method_valid(rg_str s)
{
    static const char *const set[] = {"keyword_search", "semantic_search", "full_text_search",
                                      "hybrid_search"};
    return in_set(s, set, RG_ARRAY_LEN(set));
}

bool rg_dataset_doc_form_valid(rg_str s)
{
    static const char *const set[] = {"text_model", "hierarchical_model", "qa_model"};
    return in_set(s, set, RG_ARRAY_LEN(set));
}
