/*
 * metadata_filter.c - typed metadata values and Dify's filter conditions.
 *
 * A filter is compiled once per request against the dataset's fields: each
 * condition learns its field's type (string, number, time), checks that its
 * operator fits that type and parses its value, so a bad request fails with
 * 400 before any search.  Matching then reads one document's values: the
 * custom ones from its doc_metadata object, the built-in ones (when the
 * dataset enables them) from the document row.  A condition on a field the
 * document has no value for holds only for "empty"; one on a field the
 * dataset does not have sees no value on any document.
 */
#include "api/metadata_filter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const rg_meta_builtin[5][2] = {{"document_name", "string"},
                                           {"uploader", "string"},
                                           {"upload_date", "time"},
                                           {"last_update_date", "time"},
                                           {"source", "string"}};

bool rg_meta_is_builtin(const char *name)
{
    for (size_t i = 0; i < RG_ARRAY_LEN(rg_meta_builtin); i++)
        if (strcmp(name, rg_meta_builtin[i][0]) == 0)
            return true;
    return false;
}

/* --- values ------------------------------------------------------------------ */

/* Parses all of z as a finite number. */
static bool parse_decimal(const char *z, double *out)
{
    while (*z == ' ')
        z++;
    if (!*z)
        return false;
    char *end;
    double v = strtod(z, &end);
    while (*end == ' ')
        end++;
    if (*end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

bool rg_meta_parse_number(json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    return json_is_string(v) && parse_decimal(json_string_value(v), out);
}

/* Reads exactly n digits at *p into *out, advancing *p. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* "YYYY-MM-DD[( |T)HH:MM[:SS]][Z]" as UTC Unix seconds. */
static bool parse_iso(const char *z, double *out)
{
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, s = 0;
    const char *p = z;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return false;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
            return false;
        if (*p == ':' && (p++, !digits(&p, 2, &s)))
            return false;
    }
    if (*p == 'Z')
        p++;
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    time_t t = timegm(&tm);
    if (tm.tm_mday != d) /* 2024-02-31 normalised into March */
        return false;
    *out = (double)t;
    return true;
}

bool rg_meta_parse_time(json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return isfinite(*out);
    }
    if (!json_is_string(v))
        return false;
    const char *z = json_string_value(v);
    return parse_iso(z, out) || parse_decimal(z, out);
}

/* --- compiling ------------------------------------------------------------------ */

typedef enum { T_STRING, T_NUMBER, T_TIME } ftype;

#define FOR_STRING (1u << T_STRING)
#define FOR_NUMBER (1u << T_NUMBER)
#define FOR_TIME   (1u << T_TIME)
#define FOR_ALL    (FOR_STRING | FOR_NUMBER | FOR_TIME)

typedef enum {
    OP_CONTAINS,
    OP_NOT_CONTAINS,
    OP_START,
    OP_END,
    OP_IS,
    OP_IS_NOT,
    OP_EMPTY,
    OP_NOT_EMPTY,
    OP_EQ,
    OP_NE,
    OP_GT,
    OP_LT,
    OP_GE,
    OP_LE,
    OP_IN,
    OP_NOT_IN,
} op_kind;

/* Dify's operators (metadata_entities.py) and the field types each fits;
 * before/after are < and > on times, the ASCII spellings are accepted too. */
static const struct {
    const char *text;
    op_kind op;
    unsigned types;
} ops[] = {
    {"contains", OP_CONTAINS, FOR_STRING},
    {"not contains", OP_NOT_CONTAINS, FOR_STRING},
    {"start with", OP_START, FOR_STRING},
    {"end with", OP_END, FOR_STRING},
    {"is", OP_IS, FOR_ALL},
    {"is not", OP_IS_NOT, FOR_ALL},
    {"empty", OP_EMPTY, FOR_ALL},
    {"not empty", OP_NOT_EMPTY, FOR_ALL},
    {"=", OP_EQ, FOR_NUMBER | FOR_TIME},
    {"≠", OP_NE, FOR_NUMBER | FOR_TIME},
    {"!=", OP_NE, FOR_NUMBER | FOR_TIME},
    {">", OP_GT, FOR_NUMBER | FOR_TIME},
    {"<", OP_LT, FOR_NUMBER | FOR_TIME},
    {"≥", OP_GE, FOR_NUMBER | FOR_TIME},
    {">=", OP_GE, FOR_NUMBER | FOR_TIME},
    {"≤", OP_LE, FOR_NUMBER | FOR_TIME},
    {"<=", OP_LE, FOR_NUMBER | FOR_TIME},
    {"before", OP_LT, FOR_TIME},
    {"after", OP_GT, FOR_TIME},
    {"in", OP_IN, FOR_STRING | FOR_NUMBER},
    {"not in", OP_NOT_IN, FOR_STRING | FOR_NUMBER},
};

static const char *const type_names[] = {"string", "number", "time"};

/* One compiled condition. */
typedef struct cond {
    const char *name;
    int builtin; /* index into rg_meta_builtin, or -1 for a custom field */
    bool known;  /* the dataset has the field */
    ftype type;
    op_kind op;
    const char *s; /* string operand */
    double num;    /* number or time operand */
    const char **list_s;
    double *list_n;
    size_t n_list;
} cond;

struct rg_meta_filter {
    bool any; /* "or" */
    cond *c;
    size_t n;
    const char *uploader;
};

static bool type_of(const char *z, ftype *out)
{
    for (int i = 0; i < (int)RG_ARRAY_LEN(type_names); i++)
        if (z && strcmp(z, type_names[i]) == 0) {
            *out = (ftype)i;
            return true;
        }
    return false;
}

/* Finds the field called name: built-in first (when enabled), then custom. */
static void resolve(cond *c, const rg_meta_schema *schema, json_t *fields)
{
    c->builtin = -1;
    c->known = false;
    c->type = T_STRING;
    for (int i = 0; schema->builtin_enabled && i < (int)RG_ARRAY_LEN(rg_meta_builtin); i++)
        if (strcmp(c->name, rg_meta_builtin[i][0]) == 0) {
            c->builtin = i;
            c->known = type_of(rg_meta_builtin[i][1], &c->type);
            return;
        }
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        if (name && strcmp(name, c->name) == 0) {
            c->known = type_of(json_string_value(json_object_get(f, "type")), &c->type);
            return;
        }
    }
}

/* Parses one operand of the condition's type into *s or *num. */
static bool operand(cond *c, json_t *v, const char **s, double *num)
{
    switch (c->type) {
    case T_STRING:
        if (!json_is_string(v))
            return false;
        *s = json_string_value(v);
        return true;
    case T_NUMBER: return rg_meta_parse_number(v, num);
    case T_TIME: return rg_meta_parse_time(v, num);
    }
    return false;
}

/* Reads the list operand of in / not in: an array, or a comma-separated string. */
static rg_rc list_operand(rg_arena *a, cond *c, json_t *v, const char **why)
{
    json_t *arr = v;
    json_t *owned = NULL;
    if (json_is_string(v)) { /* "a,b,c" */
        owned = json_array();
        const char *z = json_string_value(v);
        while (owned) {
            const char *comma = strchr(z, ',');
            size_t len = comma ? (size_t)(comma - z) : strlen(z);
            rg_str part = rg_str_trim((rg_str){z, len});
            json_array_append_new(owned, json_stringn(part.p, part.n));
            if (!comma)
                break;
            z = comma + 1;
        }
        arr = owned;
    }
    if (!json_is_array(arr)) {
        *why = rg_arena_printf(a, "%s: \"%s\" needs a list of values", c->name,
                               c->op == OP_IN ? "in" : "not in");
        return RG_EINVAL;
    }
    size_t n = json_array_size(arr), i;
    json_t *e;
    c->list_s = rg_arena_calloc(a, n ? n : 1, sizeof *c->list_s);
    c->list_n = rg_arena_calloc(a, n ? n : 1, sizeof *c->list_n);
    rg_rc rc = RG_OK;
    json_array_foreach(arr, i, e)
    {
        const char *s = NULL;
        if (!operand(c, e, &s, &c->list_n[i])) {
            *why = rg_arena_printf(a, "%s: value %zu is not a %s", c->name, i, type_names[c->type]);
            rc = RG_EINVAL;
            break;
        }
        c->list_s[i] = s ? rg_arena_strdup(a, s) : NULL;
    }
    c->n_list = n;
    json_decref(owned);
    return rc;
}

/* Compiles condition j. */
static rg_rc compile_one(rg_arena *a, json_t *jc, size_t j, const rg_meta_schema *schema,
                         json_t *fields, cond *c, const char **why)
{
    json_t *jn = json_object_get(jc, "name");
    if (json_is_array(jn)) /* the external API sends ["name"] */
        jn = json_array_get(jn, 0);
    const char *name = json_string_value(jn);
    const char *optext = json_string_value(json_object_get(jc, "comparison_operator"));
    if (!json_is_object(jc) || !name || !optext) {
        *why = rg_arena_printf(a, "conditions[%zu]: needs a name and a comparison_operator", j);
        return RG_EINVAL;
    }
    c->name = name;
    resolve(c, schema, fields);
    size_t k = 0;
    while (k < RG_ARRAY_LEN(ops) && strcmp(ops[k].text, optext) != 0)
        k++;
    if (k == RG_ARRAY_LEN(ops)) {
        *why =
            rg_arena_printf(a, "conditions[%zu]: unknown comparison_operator \"%.40s\"", j, optext);
        return RG_EINVAL;
    }
    c->op = ops[k].op;
    if (c->known && !(ops[k].types & (1u << c->type))) {
        *why = rg_arena_printf(a, "%s: operator \"%s\" does not apply to a %s field", name, optext,
                               type_names[c->type]);
        return RG_EINVAL;
    }
    if (!c->known) { /* no document has a value: the operand is never compared */
        if (ops[k].types == FOR_TIME)
            c->type = T_TIME;
        else if (!(ops[k].types & FOR_STRING))
            c->type = T_NUMBER;
    }
    if (c->op == OP_EMPTY || c->op == OP_NOT_EMPTY)
        return RG_OK;
    json_t *v = json_object_get(jc, "value");
    if (c->op == OP_IN || c->op == OP_NOT_IN)
        return list_operand(a, c, v, why);
    if (!operand(c, v, &c->s, &c->num)) {
        *why = rg_arena_printf(a, "%s: value is not a %s%s", name, type_names[c->type],
                               c->type == T_TIME ? " (Unix seconds or YYYY-MM-DD[THH:MM:SS])" : "");
        return RG_EINVAL;
    }
    if (c->s)
        c->s = rg_arena_strdup(a, c->s);
    return RG_OK;
}

rg_rc rg_meta_filter_compile(rg_arena *a, json_t *filter, const rg_meta_schema *schema,
                             rg_meta_filter **out, const char **why)
{
    *out = NULL;
    *why = NULL;
    if (!filter || json_is_null(filter))
        return RG_OK;
    json_t *conds = json_object_get(filter, "conditions");
    if (!json_is_object(filter) || (conds && !json_is_null(conds) && !json_is_array(conds))) {
        *why = "metadata filtering conditions: expected {logical_operator, conditions: [...]}";
        return RG_EINVAL;
    }
    if (json_array_size(conds) == 0)
        return RG_OK;
    const char *lop = json_string_value(json_object_get(filter, "logical_operator"));
    if (lop && strcmp(lop, "and") != 0 && strcmp(lop, "or") != 0) {
        *why = "logical_operator: expected \"and\" or \"or\"";
        return RG_EINVAL;
    }
    rg_meta_filter *f = rg_arena_calloc(a, 1, sizeof *f);
    f->any = lop && strcmp(lop, "or") == 0;
    f->uploader = schema->uploader;
    f->n = json_array_size(conds);
    f->c = rg_arena_calloc(a, f->n, sizeof *f->c);
    json_t *fields = schema->fields ? json_loads(schema->fields, 0, NULL) : NULL;
    rg_rc rc = RG_OK;
    for (size_t j = 0; rc == RG_OK && j < f->n; j++)
        rc = compile_one(a, json_array_get(conds, j), j, schema, fields, &f->c[j], why);
    if (rc == RG_OK) { /* the names must outlive the request's JSON: copy them */
        for (size_t j = 0; j < f->n; j++)
            f->c[j].name = rg_arena_strdup(a, f->c[j].name);
    }
    json_decref(fields);
    if (rc == RG_OK)
        *out = f;
    return rc;
}

/* --- matching -------------------------------------------------------------------- */

/* A document's value for condition c: a string or a number, or nothing. */
typedef struct value {
    bool present;
    const char *s;
    double num;
} value;

static value builtin_value(const rg_meta_filter *f, int i, const rg_doc_meta *d)
{
    value v = {.present = true};
    switch (i) {
    case 0: v.s = d->name; break;
    case 1: v.s = f->uploader; break;
    case 2: v.num = (double)d->created_at; break;
    case 3: v.num = (double)d->updated_at; break;
    default:
        v.s = d->data_source_type && strcmp(d->data_source_type, "upload_file") == 0
                  ? "file_upload"
                  : d->data_source_type;
    }
    v.present = i >= 2 || (v.s && *v.s);
    return v;
}

static value custom_value(const cond *c, json_t *meta)
{
    value v = {0};
    json_t *j = json_object_get(meta, c->name);
    if (!j || json_is_null(j))
        return v;
    switch (c->type) {
    case T_STRING:
        if (json_is_string(j)) {
            v.s = json_string_value(j);
            v.present = *v.s != '\0';
        }
        break;
    case T_NUMBER: v.present = rg_meta_parse_number(j, &v.num); break;
    case T_TIME: v.present = rg_meta_parse_time(j, &v.num); break;
    }
    return v;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return m <= n && memcmp(s + n - m, suffix, m) == 0;
}

static bool in_list(const cond *c, const value *v)
{
    for (size_t i = 0; i < c->n_list; i++)
        if (c->type == T_STRING ? strcmp(v->s, c->list_s[i]) == 0 : v->num == c->list_n[i])
            return true;
    return false;
}

static bool holds(const cond *c, const value *v)
{
    if (c->op == OP_EMPTY)
        return !v->present;
    if (c->op == OP_NOT_EMPTY || !v->present)
        return v->present;
    bool str = c->type == T_STRING;
    switch (c->op) {
    case OP_CONTAINS: return strstr(v->s, c->s) != NULL;
    case OP_NOT_CONTAINS: return strstr(v->s, c->s) == NULL;
    case OP_START: return strncmp(v->s, c->s, strlen(c->s)) == 0;
    case OP_END: return ends_with(v->s, c->s);
    case OP_IS:
    case OP_EQ: return str ? strcmp(v->s, c->s) == 0 : v->num == c->num;
    case OP_IS_NOT:
    case OP_NE: return str ? strcmp(v->s, c->s) != 0 : v->num != c->num;
    case OP_GT: return v->num > c->num;
    case OP_LT: return v->num < c->num;
    case OP_GE: return v->num >= c->num;
    case OP_LE: return v->num <= c->num;
    case OP_IN: return in_list(c, v);
    case OP_NOT_IN: return !in_list(c, v);
    default: return false;
    }
}

bool rg_meta_filter_match(const rg_meta_filter *f, const rg_doc_meta *d)
{
    if (!f)
        return true;
    json_t *meta = d->doc_metadata ? json_loads(d->doc_metadata, 0, NULL) : NULL;
    bool result = !f->any;
    for (size_t i = 0; i < f->n; i++) {
        const cond *c = &f->c[i];
        value v = {0};
        if (c->builtin >= 0)
            v = builtin_value(f, c->builtin, d);
        else if (c->known)
            v = custom_value(c, meta);
        bool h = holds(c, &v);
        if (f->any ? h : !h) {
            result = h;
            break;
        }
    }
    json_decref(meta);
    return result;
}
