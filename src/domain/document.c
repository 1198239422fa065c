/*
 * document.c - the indexing state machine's names and rules (Dify 6.1-6.3).
 *
 * Statuses only move forward; error can come from any stage but completed;
 * waiting can follow error or completed (retry, update).  display_status is
 * derived exactly in Dify's order of conditions.
 */
#include "domain/document.h"

#include <string.h>

static const char *const status_names[RG_DOC_STATUS_COUNT] = {
    [RG_DOC_WAITING] = "waiting",   [RG_DOC_PARSING] = "parsing",
    [RG_DOC_CLEANING] = "cleaning", [RG_DOC_SPLITTING] = "splitting",
    [RG_DOC_INDEXING] = "indexing", [RG_DOC_COMPLETED] = "completed",
    [RG_DOC_ERROR] = "error",
};

const char *rg_doc_status_name(rg_doc_status s)
{
    return (unsigned)s < RG_DOC_STATUS_COUNT ? status_names[s] : "error";
}

rg_rc rg_doc_status_parse(const char *name, rg_doc_status *out)
{
    for (int i = 0; i < RG_DOC_STATUS_COUNT; i++)
        if (strcmp(name, status_names[i]) == 0) {
            *out = (rg_doc_status)i;
            return RG_OK;
        }
    return RG_EINVAL;
}

bool rg_doc_status_can_move(rg_doc_status a, rg_doc_status b)
{
    if (b == RG_DOC_WAITING)
        return a == RG_DOC_ERROR || a == RG_DOC_COMPLETED || a == RG_DOC_WAITING;
    if (b == RG_DOC_ERROR)
        return a != RG_DOC_COMPLETED && a != RG_DOC_ERROR;
    if (a == RG_DOC_ERROR || a == RG_DOC_COMPLETED)
        return false;
    return b > a;
}

const char *rg_doc_display_status(const rg_document *d)
{
    switch (d->status) {
    case RG_DOC_WAITING: return "queuing";
    case RG_DOC_PARSING:
    case RG_DOC_CLEANING:
    case RG_DOC_SPLITTING:
    case RG_DOC_INDEXING: return d->is_paused ? "paused" : "indexing";
    case RG_DOC_ERROR: return "error";
    case RG_DOC_COMPLETED:
        if (d->archived)
            return "archived";
        return d->enabled ? "available" : "disabled";
    default: return "error";
    }
}
