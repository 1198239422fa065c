/* test_jsonw.c - the JSON writer's output parses back (jansson) and escapes. */
#include "harness.h"

#include "core/jsonw.h"

#include <jansson.h>

TEST(jsonw_writes_nested_documents)
{
    rg_buf b;
    rg_buf_init(&b, 4096);
    rg_jsonw w;
    rg_jsonw_init(&w, &b);
    rg_jsonw_obj(&w);
    rg_jsonw_kstr(&w, "s", "a\"b\\c\n\x01");
    rg_jsonw_kint(&w, "i", -42);
    rg_jsonw_kdouble(&w, "d", 0.25);
    rg_jsonw_kdouble(&w, "whole", 3.0);
    rg_jsonw_kbool(&w, "t", true);
    rg_jsonw_knull(&w, "n");
    rg_jsonw_kstr(&w, "z", NULL);
    rg_jsonw_kint_or_null(&w, "u", -1);
    rg_jsonw_key(&w, "a");
    rg_jsonw_arr(&w);
    rg_jsonw_int(&w, 1);
    rg_jsonw_obj(&w);
    rg_jsonw_obj_end(&w);
    rg_jsonw_arr(&w);
    rg_jsonw_arr_end(&w);
    rg_jsonw_arr_end(&w);
    rg_jsonw_obj_end(&w);
    CHECK(!rg_buf_failed(&b));
    json_error_t err;
    json_t *j = json_loadb(b.p, b.len, JSON_REJECT_DUPLICATES, &err);
    CHECK(j != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "s")), "a\"b\\c\n\x01");
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "i")), -42);
    CHECK(json_real_value(json_object_get(j, "d")) == 0.25);
    CHECK(json_is_real(json_object_get(j, "whole")));
    CHECK(json_is_null(json_object_get(j, "z")));
    CHECK(json_is_null(json_object_get(j, "u")));
    CHECK_EQ_INT(json_array_size(json_object_get(j, "a")), 3);
    json_decref(j);
    rg_buf_free(&b);
}

TEST(jsonw_nonfinite_is_null_and_limits_stick)
{
    rg_buf b;
    rg_buf_init(&b, 16);
    rg_jsonw w;
    rg_jsonw_init(&w, &b);
    rg_jsonw_arr(&w);
    rg_jsonw_double(&w, 1.0 / 0.0);
    rg_jsonw_arr_end(&w);
    CHECK_EQ_STR(b.p, "[null]");
    rg_jsonw_init(&w, &b);
    for (int i = 0; i < 10; i++)
        rg_jsonw_strz(&w, "0123456789");
    CHECK(rg_buf_failed(&b));
    rg_buf_free(&b);
}

TEST(jsonw_depth_limit_marks_failure)
{
    rg_buf b;
    rg_buf_init(&b, 4096);
    rg_jsonw w;
    rg_jsonw_init(&w, &b);
    for (int i = 0; i < RG_JSONW_MAX_DEPTH + 2; i++)
        rg_jsonw_arr(&w);
    CHECK(rg_buf_failed(&b));
    rg_buf_free(&b);
}

TEST(jsonw_integers_at_the_edges)
{
    rg_buf b;
    rg_buf_init(&b, 256);
    rg_jsonw w;
    rg_jsonw_init(&w, &b);
    rg_jsonw_arr(&w);
    rg_jsonw_int(&w, 0);
    rg_jsonw_int(&w, -7);
    rg_jsonw_int(&w, INT64_MAX);
    rg_jsonw_int(&w, INT64_MIN);
    rg_jsonw_arr_end(&w);
    CHECK_EQ_STR(b.p, "[0,-7,9223372036854775807,-9223372036854775808]");
    rg_buf_free(&b);
}
