/* test_document.c - status names, forward-only moves, Dify's display_status. */
#include "harness.h"

#include "domain/document.h"

TEST(document_status_names_round_trip)
{
    for (int i = 0; i < RG_DOC_STATUS_COUNT; i++) {
        rg_doc_status s;
        CHECK(rg_doc_status_parse(rg_doc_status_name((rg_doc_status)i), &s) == RG_OK);
        CHECK_EQ_INT(s, i);
    }
    rg_doc_status s;
    CHECK(rg_doc_status_parse("paused", &s) == RG_EINVAL);
}

TEST(document_status_moves_forward_only)
{
    CHECK(rg_doc_status_can_move(RG_DOC_WAITING, RG_DOC_PARSING));
    CHECK(rg_doc_status_can_move(RG_DOC_PARSING, RG_DOC_CLEANING));
    CHECK(rg_doc_status_can_move(RG_DOC_INDEXING, RG_DOC_COMPLETED));
    CHECK(!rg_doc_status_can_move(RG_DOC_INDEXING, RG_DOC_PARSING));
    CHECK(!rg_doc_status_can_move(RG_DOC_COMPLETED, RG_DOC_ERROR));
    CHECK(rg_doc_status_can_move(RG_DOC_SPLITTING, RG_DOC_ERROR));
    CHECK(rg_doc_status_can_move(RG_DOC_ERROR, RG_DOC_WAITING));
    CHECK(!rg_doc_status_can_move(RG_DOC_ERROR, RG_DOC_INDEXING));
}

TEST(document_display_status_in_difys_order)
{
    rg_document d = {0};
    d.status = RG_DOC_WAITING;
    d.is_paused = true;
    CHECK_EQ_STR(rg_doc_display_status(&d), "queuing");
    d.status = RG_DOC_INDEXING;
    CHECK_EQ_STR(rg_doc_display_status(&d), "paused");
    d.is_paused = false;
    CHECK_EQ_STR(rg_doc_display_status(&d), "indexing");
    d.status = RG_DOC_COMPLETED;
    d.enabled = true;
    CHECK_EQ_STR(rg_doc_display_status(&d), "available");
    d.enabled = false;
    CHECK_EQ_STR(rg_doc_display_status(&d), "disabled");
    d.archived = true;
    CHECK_EQ_STR(rg_doc_display_status(&d), "archived");
    d.status = RG_DOC_ERROR;
    CHECK_EQ_STR(rg_doc_display_status(&d), "error");
}
