/*
 * test_sandbox.c - the helper-process sandbox with ordinary programs:
 * output capture, exit status and stderr, stdin from /dev/null, the
 * wall-clock kill (/bin/sleep), the stdout cap (/usr/bin/yes), and the
 * reasons for a program that is missing.  Test names start with
 * "extract_" so that `unit extract` runs them with the extractors.
 */
#include "harness.h"

#include "core/buf.h"
#include "core/clock.h"
#include "ingest/sandbox.h"

#include <signal.h>
#include <string.h>

static const rg_sandbox_limits lim = {.cpu_s = 10,
                                      .wall_ms = 5000,
                                      .memory = (size_t)1 << 30,
                                      .fsize = 0,
                                      .nofile = 64,
                                      .max_stdout = 1 << 20};

TEST(extract_sandbox_output_and_status)
{
    rg_buf out;
    rg_buf_init(&out, 1 << 20);
    rg_sandbox_result res;
    char why[256];
    const char *echo[] = {"echo", "hello", "world", NULL};
    CHECK_EQ_INT(rg_sandbox_run("/bin/echo", echo, &lim, &out, &res, why, sizeof why), RG_OK);
    CHECK(res.exited && res.code == 0);
    CHECK_EQ_STR(out.p, "hello world\n");
    CHECK_EQ_STR(why, "");

    rg_buf_reset(&out);
    const char *cat[] = {"cat", "/nonexistent/ragd-file", NULL};
    CHECK_EQ_INT(rg_sandbox_run("/bin/cat", cat, &lim, &out, &res, why, sizeof why), RG_OK);
    CHECK(res.exited && res.code == 1);
    CHECK(strstr(res.err, "No such file or directory") != NULL);
    CHECK_EQ_INT(res.err_len, strlen(res.err));
    CHECK_EQ_INT(out.len, 0);

    /* stdin is /dev/null: cat without arguments ends at once */
    const char *cat0[] = {"cat", NULL};
    CHECK_EQ_INT(rg_sandbox_run("/bin/cat", cat0, &lim, &out, &res, why, sizeof why), RG_OK);
    CHECK(res.exited && res.code == 0);
    CHECK(res.wall_ms < 3000);
    rg_buf_free(&out);
}

TEST(extract_sandbox_wall_clock_kill)
{
    rg_buf out;
    rg_buf_init(&out, 1024);
    rg_sandbox_result res;
    char why[256];
    rg_sandbox_limits l = lim;
    l.wall_ms = 300;
    const char *sleep_argv[] = {"sleep", "30", NULL};
    int64_t t0 = rg_mono_ms();
    CHECK_EQ_INT(rg_sandbox_run("/bin/sleep", sleep_argv, &l, &out, &res, why, sizeof why),
                 RG_ETIMEOUT);
    int64_t took = rg_mono_ms() - t0;
    CHECK(took >= 250 && took < 5000);
    CHECK(res.timed_out && !res.exited && res.signal == SIGKILL);
    CHECK_EQ_STR(why, "/bin/sleep did not finish within 0.3 s and was stopped");
    rg_buf_free(&out);
}

TEST(extract_sandbox_stdout_cap)
{
    rg_buf out;
    rg_buf_init(&out, 1 << 20);
    rg_sandbox_result res;
    char why[256];
    rg_sandbox_limits l = lim;
    l.max_stdout = 1000;
    const char *yes[] = {"yes", "ragd", NULL};
    CHECK_EQ_INT(rg_sandbox_run("/usr/bin/yes", yes, &l, &out, &res, why, sizeof why), RG_ETOOBIG);
    CHECK_EQ_INT(out.len, 1000);
    CHECK(strncmp(out.p, "ragd\nragd\n", 10) == 0);
    CHECK(res.truncated &&
          (res.signal == SIGKILL || res.signal == SIGPIPE)); /* whichever lands first */
    CHECK_EQ_STR(why, "/usr/bin/yes wrote more than 1000 bytes and was stopped");
    rg_buf_free(&out);
}

TEST(extract_sandbox_missing_program)
{
    char path[256], why[256];
    CHECK_EQ_INT(rg_sandbox_find("ragd-no-such-tool", "apt-get install ragd-tools", path,
                                 sizeof path, why, sizeof why),
                 RG_EIO);
    CHECK_EQ_STR(why, "ragd-no-such-tool is not installed (apt-get install ragd-tools)");
    CHECK_EQ_STR(path, "");
    CHECK_EQ_INT(rg_sandbox_find("sleep", "coreutils", path, sizeof path, why, sizeof why), RG_OK);
    CHECK(strcmp(path, "/usr/bin/sleep") == 0 || strcmp(path, "/bin/sleep") == 0);

    rg_buf out;
    rg_buf_init(&out, 1024);
    rg_sandbox_result res;
    const char *argv[] = {"nope", NULL};
    CHECK_EQ_INT(rg_sandbox_run("/nonexistent/nope", argv, &lim, &out, &res, why, sizeof why),
                 RG_EIO);
    CHECK_EQ_STR(why, "cannot run /nonexistent/nope: No such file or directory");
    CHECK_EQ_INT(rg_sandbox_run("relative/nope", argv, &lim, &out, &res, why, sizeof why),
                 RG_EINVAL);
    rg_buf_free(&out);
}
