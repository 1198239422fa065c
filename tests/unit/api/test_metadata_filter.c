/* test_metadata_filter.c - typed metadata values, compiling Dify's filter
 * conditions against a dataset's fields, and matching documents. */
#include "harness.h"

#include "api/metadata_filter.h"

static const char FIELDS[] = "[{\"id\":\"1\",\"name\":\"author\",\"type\":\"string\"},"
                             "{\"id\":\"2\",\"name\":\"pages\",\"type\":\"number\"},"
                             "{\"id\":\"3\",\"name\":\"published\",\"type\":\"time\"}]";

/* Compiles the filter text against FIELDS (built-ins on); returns its rc. */
static rg_rc compile(rg_arena *a, const char *text, rg_meta_filter **f)
{
    json_t *j = json_loads(text, 0, NULL);
    CHECK(j != NULL);
    rg_meta_schema schema = {FIELDS, true, "owner"};
    const char *why = NULL;
    rg_rc rc = rg_meta_filter_compile(a, j, &schema, f, &why);
    CHECK(rc == RG_OK || why != NULL);
    json_decref(j);
    return rc;
}

/* Whether the one-condition filter on name/op/value matches the document. */
static bool matches(const char *cond, const rg_doc_meta *d)
{
    rg_arena *a = rg_arena_new(1 << 16);
    char text[512];
    snprintf(text, sizeof text, "{\"logical_operator\":\"and\",\"conditions\":[%s]}", cond);
    rg_meta_filter *f = NULL;
    bool ok = compile(a, text, &f) == RG_OK && rg_meta_filter_match(f, d);
    rg_arena_free(a);
    return ok;
}

TEST(meta_parse_values)
{
    double v = 0;
    json_t *j = json_string("2024-01-15");
    CHECK(rg_meta_parse_time(j, &v) && v == 1705276800.0);
    json_decref(j);
    j = json_string("2024-01-15T01:02:03Z");
    CHECK(rg_meta_parse_time(j, &v) && v == 1705276800.0 + 3723);
    json_decref(j);
    j = json_string("2024-02-30");
    CHECK(!rg_meta_parse_time(j, &v));
    json_decref(j);
    j = json_string("soon");
    CHECK(!rg_meta_parse_time(j, &v));
    json_decref(j);
    j = json_integer(1700000000);
    CHECK(rg_meta_parse_time(j, &v) && v == 1700000000.0);
    json_decref(j);
    j = json_string(" 42.5 ");
    CHECK(rg_meta_parse_number(j, &v) && v == 42.5);
    json_decref(j);
    j = json_string("abc");
    CHECK(!rg_meta_parse_number(j, &v));
    json_decref(j);
    j = json_string("");
    CHECK(!rg_meta_parse_number(j, &v));
    json_decref(j);
    CHECK(rg_meta_is_builtin("upload_date") && !rg_meta_is_builtin("author"));
}

TEST(meta_filter_operators)
{
    rg_doc_meta d = {.id = "d",
                     .name = "report.txt",
                     .data_source_type = "upload_file",
                     .created_at = 1700000000,
                     .updated_at = 1700000100,
                     .doc_metadata = "{\"author\":\"Ada Lovelace\",\"pages\":42,"
                                     "\"published\":1705276800}"};
    CHECK(matches("{\"name\":\"author\",\"comparison_operator\":\"contains\",\"value\":\"Love\"}",
                  &d));
    CHECK(!matches(
        "{\"name\":\"author\",\"comparison_operator\":\"not contains\",\"value\":\"Ada\"}", &d));
    CHECK(matches("{\"name\":\"author\",\"comparison_operator\":\"start with\",\"value\":\"Ada\"}",
                  &d));
    CHECK(matches("{\"name\":\"author\",\"comparison_operator\":\"end with\",\"value\":\"lace\"}",
                  &d));
    CHECK(
        matches("{\"name\":\"author\",\"comparison_operator\":\"is not\",\"value\":\"Bob\"}", &d));
    CHECK(matches("{\"name\":\"author\",\"comparison_operator\":\"in\",\"value\":\"Bob, Ada "
                  "Lovelace\"}",
                  &d));
    CHECK(matches("{\"name\":\"pages\",\"comparison_operator\":\"≥\",\"value\":\"42\"}", &d));
    CHECK(!matches("{\"name\":\"pages\",\"comparison_operator\":\">\",\"value\":42}", &d));
    CHECK(matches("{\"name\":\"pages\",\"comparison_operator\":\"not in\",\"value\":[1,2]}", &d));
    CHECK(matches("{\"name\":\"published\",\"comparison_operator\":\"after\",\"value\":"
                  "\"2024-01-01\"}",
                  &d));
    CHECK(matches("{\"name\":\"published\",\"comparison_operator\":\"before\",\"value\":"
                  "\"2024-01-15T00:00:01\"}",
                  &d));
    CHECK(matches("{\"name\":\"missing\",\"comparison_operator\":\"empty\"}", &d));
    CHECK(
        !matches("{\"name\":\"missing\",\"comparison_operator\":\"is not\",\"value\":\"x\"}", &d));
    /* built-in fields, read from the document */
    CHECK(matches("{\"name\":\"document_name\",\"comparison_operator\":\"is\",\"value\":"
                  "\"report.txt\"}",
                  &d));
    CHECK(
        matches("{\"name\":\"uploader\",\"comparison_operator\":\"is\",\"value\":\"owner\"}", &d));
    CHECK(matches("{\"name\":\"source\",\"comparison_operator\":\"is\",\"value\":\"file_upload\"}",
                  &d));
    CHECK(matches("{\"name\":\"last_update_date\",\"comparison_operator\":\"=\",\"value\":"
                  "1700000100}",
                  &d));
    rg_doc_meta bare = {.id = "e", .name = "x"};
    CHECK(matches("{\"name\":\"author\",\"comparison_operator\":\"empty\"}", &bare));
    CHECK(!matches("{\"name\":\"pages\",\"comparison_operator\":\"<\",\"value\":100}", &bare));
}

TEST(meta_filter_logic_and_errors)
{
    rg_arena *a = rg_arena_new(1 << 16);
    rg_meta_filter *f = (rg_meta_filter *)1;
    CHECK(compile(a, "{\"conditions\":[]}", &f) == RG_OK && f == NULL);
    rg_doc_meta d = {.id = "d", .name = "n", .doc_metadata = "{\"author\":\"Ada\",\"pages\":3}"};
    const char *two = "[{\"name\":\"author\",\"comparison_operator\":\"is\",\"value\":\"Ada\"},"
                      "{\"name\":\"pages\",\"comparison_operator\":\">\",\"value\":5}]";
    char text[512];
    snprintf(text, sizeof text, "{\"logical_operator\":\"and\",\"conditions\":%s}", two);
    CHECK(compile(a, text, &f) == RG_OK && !rg_meta_filter_match(f, &d));
    snprintf(text, sizeof text, "{\"logical_operator\":\"or\",\"conditions\":%s}", two);
    CHECK(compile(a, text, &f) == RG_OK && rg_meta_filter_match(f, &d));
    static const char *const bad[] = {
        "{\"conditions\":[{\"name\":\"author\",\"comparison_operator\":\">\",\"value\":1}]}",
        "{\"conditions\":[{\"name\":\"pages\",\"comparison_operator\":\"contains\",\"value\":\"1\"}"
        "]}",
        "{\"conditions\":[{\"name\":\"pages\",\"comparison_operator\":\"=\",\"value\":\"abc\"}]}",
        "{\"conditions\":[{\"name\":\"published\",\"comparison_operator\":\"after\",\"value\":"
        "\"x\"}]}",
        "{\"conditions\":[{\"name\":\"author\",\"comparison_operator\":\"like\",\"value\":\"x\"}]}",
        "{\"conditions\":[{\"comparison_operator\":\"is\",\"value\":\"x\"}]}",
        "{\"logical_operator\":\"xor\",\"conditions\":[{\"name\":\"author\","
        "\"comparison_operator\":\"empty\"}]}",
        "{\"conditions\":5}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_EQ_INT(compile(a, bad[i], &f), RG_EINVAL);
    rg_arena_free(a);
}
