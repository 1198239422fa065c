/*
 * test_clean.c - the cleaner: Dify's own test cases
 * (tests/unit_tests/core/rag/cleaner/test_clean_processor.py), each rule on
 * its own and in both orders, the deliberate differences, the buffer limits,
 * and UTF-8 validity of the output over generated text.
 */
#include "harness.h"

#include "core/buf.h"
#include "ingest/clean.h"

static const rg_clean_rule SPACES[] = {RG_CLEAN_REMOVE_EXTRA_SPACES};
static const rg_clean_rule URLS[] = {RG_CLEAN_REMOVE_URLS_EMAILS};
static const rg_clean_rule BOTH[] = {RG_CLEAN_REMOVE_EXTRA_SPACES, RG_CLEAN_REMOVE_URLS_EMAILS};
static const rg_clean_rule BOTH_REV[] = {RG_CLEAN_REMOVE_URLS_EMAILS, RG_CLEAN_REMOVE_EXTRA_SPACES};

/* Cleans the n bytes at in with the rules and compares with want. */
static void expect_n(const char *in, size_t n, const rg_clean_rule *rules, size_t n_rules,
                     const char *want)
{
    rg_buf out;
    rg_buf_init(&out, 1 << 20);
    CHECK_EQ_INT(rg_clean_text((rg_str){in, n}, rules, n_rules, &out), RG_OK);
    CHECK_EQ_STR(rg_buf_str(&out).p, want);
    CHECK_EQ_INT(out.len, strlen(want));
    rg_buf_free(&out);
}

static void expect(const char *in, const rg_clean_rule *rules, size_t n_rules, const char *want)
{
    expect_n(in, strlen(in), rules, n_rules, want);
}

#define NONE NULL, 0
#define R(x) x, RG_ARRAY_LEN(x)

TEST(clean_default_invalid_symbols)
{
    expect("text<|with<|invalid", NONE, "text<with<invalid");
    expect("text|>with|>invalid", NONE, "text>with>invalid");
    static const char ctl[] = "normal\0text\037with\007control\177chars";
    expect_n(ctl, sizeof ctl - 1, NONE, "normaltextwithcontrolchars");
    expect("normal\xef\xbf\xbepadding", NONE, "normalpadding"); /* U+FFFE */
    expect("Hello<|World", NONE, "Hello<World");
    static const char only[] = "<|<|\0\x01\x02\xef\xbf\xbe|>|>";
    expect_n(only, sizeof only - 1, NONE, "<<>>");
    expect("", NONE, "");
    expect("", R(BOTH), "");
    /* the replacements come before the deletions */
    expect("<\x01|", NONE, "<|");
    expect("<||>", NONE, "<>");
    expect("|<|>", NONE, "|<>");
    expect("||>", NONE, "|>");
    /* tab, newline and carriage return are not invalid */
    expect("a\tb\nc\rd\013\014e", NONE, "a\tb\nc\rde");
}

TEST(clean_keeps_latin1_letters)
{
    /* deliberate difference 1: Dify 1.14 deletes ï ¿ ¾ */
    expect("naïve", NONE, "naïve");
    expect("¿Cómo estás?", NONE, "¿Cómo estás?");
    expect("¾ cup sugar", NONE, "¾ cup sugar");
    expect("ï¿¾", NONE, "ï¿¾");
    expect("keep\357\277\276drop", NONE, "keepdrop");
    expect("\xef\xbf\xbf", NONE, "\xef\xbf\xbf"); /* U+FFFF is not U+FFFE */
}

TEST(clean_remove_extra_spaces)
{
    expect("Line1\n\n\n\n\nLine2", R(SPACES), "Line1\n\nLine2");
    expect("word1\u2000\u2001\t\t  \u3000word2", R(SPACES), "word1 word2");
    expect("Line1\n\n\n\n  \t  Line2", R(SPACES), "Line1\n\n Line2");
    expect("Line1\n\n\n\n\nLine2  with  spaces", NONE, "Line1\n\n\n\n\nLine2  with  spaces");
    /* one or two newlines and single spaces stay as they are */
    expect("a\nb\n\nc", R(SPACES), "a\nb\n\nc");
    expect("a\tb\u3000c\u00a0d", R(SPACES), "a\tb\u3000c\u00a0d");
    /* every member of Dify's class, in pairs */
    expect("a\t\rb\u1680\u180ec\u2005\u200ad\u202f\u205fe", R(SPACES), "a b c d e");
    /* not in the class: U+200B, U+2028, U+0085 */
    expect("a\u200b\u200bb\u2028\u2028c", R(SPACES), "a\u200b\u200bb\u2028\u2028c");
    /* "\r\n" is not collapsed (CR LF is the extractor's business) */
    expect("a\r\n\r\n\r\nb", R(SPACES), "a\r\n\r\n\r\nb");
    expect("\n\n\n", R(SPACES), "\n\n");
    expect("   ", R(SPACES), " ");
}

TEST(clean_remove_urls_emails)
{
    expect("Contact us at test@example.com for more info", R(URLS), "Contact us at  for more info");
    expect("Visit https://example.com or http://test.org", R(URLS), "Visit  or ");
    expect("Email me@test.com and visit https://site.com", R(URLS), "Email  and visit ");
    expect("Email test@example.com visit https://example.com", NONE,
           "Email test@example.com visit https://example.com");
    /* e-mail edge cases of the pattern */
    expect("a.b+c_d-e@host-x.co.uk!", R(URLS), "!");
    expect("a@b.c_x@y.z", R(URLS), "");
    expect("user@localhost and @x.y and a@.b", R(URLS), "user@localhost and @x.y and a@.b");
    /* URL edge cases */
    expect("https://", R(URLS), "https://");
    expect("xhttp://y z", R(URLS), "x z");
    expect("see http://a.b/c\u3000next", R(URLS), "see \u3000next"); /* \S stops at U+3000 */
    expect("url http://a.b/é中", R(URLS), "url ");
    expect("HTTP://A.B", R(URLS), "HTTP://A.B"); /* the pattern is case-sensitive */
}

TEST(clean_preserves_markdown_links_and_images)
{
    expect("Check [Google](https://google.com) for info", R(URLS),
           "Check [Google](https://google.com) for info");
    expect("Image: ![alt](https://example.com/image.png)", R(URLS),
           "Image: ![alt](https://example.com/image.png)");
    expect("[Link](https://link.com) and ![Image](https://image.com/img.jpg)", R(URLS),
           "[Link](https://link.com) and ![Image](https://image.com/img.jpg)");
    expect("Check [Link](https://keep.com) but remove https://remove.com", R(URLS),
           "Check [Link](https://keep.com) but remove ");
    expect("Email: test@test.com, link: [Click](https://site.com)", R(URLS),
           "Email: , link: [Click](https://site.com)");
    expect("[One](https://one.com) [Two](http://two.org) [Three](https://three.net)", R(URLS),
           "[One](https://one.com) [Two](http://two.org) [Three](https://three.net)");
    expect("[https://text-url.com](https://actual-url.com)", R(URLS),
           "[https://text-url.com](https://actual-url.com)");
    expect("https://text-url.com https://actual-url.com", R(URLS), " ");
    /* Dify's known limitation: [^\]]* stops at the first ']' */
    expect("[Text with [brackets] and (parens)](https://example.com)", R(URLS),
           "[Text with [brackets] and (parens)](");
    expect("[Text with (parens) and symbols](https://example.com)", R(URLS),
           "[Text with (parens) and symbols](https://example.com)");
    expect("Email test@example.com and remove https://remove.com but keep "
           "![diagram](https://example.com/image.png)",
           R(URLS), "Email  and remove  but keep ![diagram](https://example.com/image.png)");
    /* the link's URL may hold spaces and newlines ([^)]+), its text newlines */
    expect("[a\nb](http://x y\nz) http://gone", R(URLS), "[a\nb](http://x y\nz) ");
    /* not links: relative URL, empty URL (then "http://)" is a bare URL), no ')' */
    expect("[a](/rel) [b](http://) [c](https://x", R(URLS), "[a](/rel) [b]( [c](");
    /* an e-mail inside a link is removed first, as in Dify */
    expect("[mail](http://me@host.com/x)", R(URLS), "[mail](http:///x)");
}

TEST(clean_images_by_the_image_pattern)
{
    /* alt text holding ']' is not a link but is an image; Dify rewrites it as
     * ![image](url), we keep it (difference 3) */
    expect("![a]b](http://x.png) http://y", R(URLS), "![a]b](http://x.png) ");
    /* the image alt may not cross a newline */
    expect("![a\n]b](http://x.png)", R(URLS), "![a\n]b](");
}

TEST(clean_no_placeholders)
{
    /* difference 2: a bare URL stops where a link starts (Dify loses the link) */
    expect("see http://a[x](http://b) ok", R(URLS), "see [x](http://b) ok");
    expect("http://a![i](http://b.png)", R(URLS), "![i](http://b.png)");
    expect("http://[t](http://a.b)", R(URLS), "http://[t](http://a.b)");
    /* text that looks like Dify's placeholders is left alone */
    expect("__MARKDOWN_PLACEHOLDER_0__ [x](http://b)", R(URLS),
           "__MARKDOWN_PLACEHOLDER_0__ [x](http://b)");
}

TEST(clean_rules_apply_in_order)
{
    expect("Hello\n\n\n\n  World  test@example.com  \n\n\nhttps://example.com", R(BOTH),
           "Hello\n\n World  \n\n");
    expect("[Link](https://example.com)\n\n\n\n  Text  https://remove.com", R(BOTH),
           "[Link](https://example.com)\n\n Text ");
    /* the other order collapses the spaces that removing left behind */
    expect("Hello\n\n\n\n  World  test@example.com  \n\n\nhttps://example.com", R(BOTH_REV),
           "Hello\n\n World \n\n");
    /* a rule listed twice runs twice */
    const rg_clean_rule twice[] = {RG_CLEAN_REMOVE_URLS_EMAILS, RG_CLEAN_REMOVE_URLS_EMAILS};
    expect("a@b.chttp://x.com y", R(twice), "://x.com y");
}

TEST(clean_errors_and_buffer)
{
    rg_buf out;
    rg_buf_init(&out, 8);
    const rg_clean_rule bad[] = {(rg_clean_rule)99};
    CHECK_EQ_INT(rg_clean_text(RG_STR("abc"), bad, 1, &out), RG_EINVAL);
    CHECK_EQ_INT(out.len, 0);
    /* appends after what the buffer holds */
    CHECK_EQ_INT(rg_buf_puts(&out, "x:"), RG_OK);
    CHECK_EQ_INT(rg_clean_text(RG_STR("a\001b"), NULL, 0, &out), RG_OK);
    CHECK_EQ_STR(out.p, "x:ab");
    /* over the maximum: RG_ETOOBIG, with and without rules */
    CHECK_EQ_INT(rg_clean_text(RG_STR("0123456789"), NULL, 0, &out), RG_ETOOBIG);
    CHECK(rg_buf_failed(&out));
    rg_buf_reset(&out);
    CHECK_EQ_INT(rg_clean_text(RG_STR("0123456789"), R(BOTH), &out), RG_ETOOBIG);
    rg_buf_reset(&out);
    CHECK_EQ_INT(rg_clean_text(RG_STR("01234567"), R(BOTH), &out), RG_OK);
    rg_buf_free(&out);
}

TEST(clean_space_len)
{
    static const char *const spaces[] = {
        "\t",     "\n",     "\v",     "\f",     "\r",     "\x1c",   "\x1f",   " ",      "\xc2\x85",
        "\u00a0", "\u1680", "\u2000", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"};
    for (size_t i = 0; i < RG_ARRAY_LEN(spaces); i++)
        CHECK_EQ_INT(rg_clean_space_len(spaces[i], strlen(spaces[i])), strlen(spaces[i]));
    static const char *const others[] = {"a",  "\x01", "\u180e", "\u200b", "\u3001", "é",
                                         "中", "😀",    "\u2027", "\u2030", "\u00a1"};
    for (size_t i = 0; i < RG_ARRAY_LEN(others); i++)
        CHECK_EQ_INT(rg_clean_space_len(others[i], strlen(others[i])), 0);
    CHECK_EQ_INT(rg_clean_space_len("\u3000", 2), 0); /* truncated: never reads past n */
    CHECK_EQ_INT(rg_clean_space_len("", 0), 0);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

TEST(clean_output_is_valid_utf8)
{
    static const char *const atoms[] = {
        "a",  " ", "  ", "\n",     "\n\n\n", "\t",     "\r",     "\x01",    "\x7f", "<|",
        "|>", "ï", "中", "\u3000", "\u00a0", "\ufffe", "😀",      "http://", "[",    "](",
        ")",  "!", "@",  "x.y",    "é",      "\u2028", "\u180e", "\u2003"};
    const rg_clean_rule *sets[] = {NULL, SPACES, URLS, BOTH, BOTH_REV};
    const size_t counts[] = {0, 1, 1, 2, 2};
    uint64_t s = 12345;
    for (int round = 0; round < 500; round++) {
        rg_buf in, out;
        rg_buf_init(&in, 1 << 16);
        rg_buf_init(&out, 1 << 16);
        size_t len = (size_t)(rng_next(&s) % 400);
        while (in.len < len)
            (void)rg_buf_puts(&in, atoms[rng_next(&s) % RG_ARRAY_LEN(atoms)]);
        size_t k = (size_t)(rng_next(&s) % 5);
        CHECK_EQ_INT(rg_clean_text(rg_buf_str(&in), sets[k], counts[k], &out), RG_OK);
        rg_str o = rg_buf_str(&out);
        CHECK(rg_utf8_valid(o.p, o.n));
        CHECK(o.n <= in.len);
        for (size_t i = 0; i < o.n; i++) { /* no invalid control character survives */
            unsigned char c = (unsigned char)o.p[i];
            CHECK(c >= 0x20 || c == '\t' || c == '\n' || c == '\r');
            CHECK(c != 0x7f);
        }
        CHECK(!memmem(o.p, o.n, "\xef\xbf\xbe", 3));
        if (k == 1 || k == 4) /* remove_extra_spaces ran last */
            CHECK(!memmem(o.p, o.n, "\n\n\n", 3));
        rg_buf_free(&in);
        rg_buf_free(&out);
    }
}
