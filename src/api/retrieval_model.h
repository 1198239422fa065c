/*
 * retrieval_model.h - Dify's RetrievalModel object: validation of what a
 * client sends and rendering of retrieval_model_dict (stored JSON merged over
 * Dify's read-side defaults, keys in the contract's order).
 */
#ifndef RG_API_RETRIEVAL_MODEL_H
#define RG_API_RETRIEVAL_MODEL_H

#include "api/api.h"

#define RG_TOP_K_MAX 100

/* Checks v as a RetrievalModel; on success *json_out is its compact JSON text
 * (arena-owned) ready to store.  RG_EINVAL with a message naming the field. */
RG_WUR rg_rc rg_retrieval_model_check(rg_req *req, rg_resp *resp, json_t *v, const char **json_out);
/* Writes retrieval_model_dict for the stored JSON text (NULL: defaults).
 * force_keyword: the dataset is not high_quality, so search_method reads
 * keyword_search as Dify shows it. */
void rg_retrieval_model_render(rg_jsonw *w, const char *stored, bool force_keyword);

#endif
