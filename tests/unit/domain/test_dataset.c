/* test_dataset.c - Dify's name and description rules, counted in characters. */
#include "harness.h"

#include "domain/dataset.h"

#include <string.h>

TEST(dataset_name_rules)
{
    const char *why = NULL;
    char cjk[41 * 3 + 1] = "";
    for (int i = 0; i < 40; i++)
        strcat(cjk, "\xe5\x85\x89");
    CHECK(rg_dataset_check_name(RG_STR("a"), &why) == RG_OK);
    CHECK(rg_dataset_check_name(rg_str_c(cjk), &why) == RG_OK); /* 40 characters, 120 bytes */
    strcat(cjk, "\xe5\x85\x89");
    CHECK(rg_dataset_check_name(rg_str_c(cjk), &why) == RG_EINVAL);
    CHECK(rg_dataset_check_name(RG_STR(""), &why) == RG_EINVAL);
    CHECK(rg_dataset_check_name(RG_STR("   "), &why) == RG_EINVAL && why != NULL);
    CHECK(rg_dataset_check_name(RG_STR("\xff"), &why) == RG_EINVAL);
}

TEST(dataset_description_and_enums)
{
    const char *why;
    char d[402];
    memset(d, 'x', 401);
    d[401] = 0;
    CHECK(rg_dataset_check_description((rg_str){d, 400}, &why) == RG_OK);
    CHECK(rg_dataset_check_description((rg_str){d, 401}, &why) == RG_EINVAL);
    CHECK(rg_dataset_technique_valid(RG_STR("economy")));
    CHECK(!rg_dataset_technique_valid(RG_STR("Economy")));
    CHECK(rg_dataset_permission_valid(RG_STR("partial_members")));
    CHECK(!rg_dataset_permission_valid(RG_STR("everyone")));
    CHECK(rg_dataset_provider_valid(RG_STR("external")));
    CHECK(rg_dataset_search_method_valid(RG_STR("hybrid_search")));
    CHECK(rg_dataset_doc_form_valid(RG_STR("hierarchical_model")));
    CHECK(!rg_dataset_doc_form_valid(RG_STR("")));
}
