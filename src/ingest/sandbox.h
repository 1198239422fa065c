/*
 * sandbox.h - run a helper program (pdftotext) in a child process with hard
 * limits, so that whatever the input does to it cannot crash, hang or
 * exhaust the server.
 *
 * The child gets: its own process group, stdin from /dev/null, stdout into
 * a pipe read up to a byte cap, stderr into a pipe of which the first bytes
 * are kept (for the reason shown to a person), no other inherited file
 * descriptor, an empty signal mask, default signal dispositions, a minimal
 * environment, and setrlimit caps on CPU time, address space, file size and
 * open files.  A wall-clock deadline kills the whole process group.  There
 * is never a shell: the program is an absolute path passed to execve.
 * Thread-safe; requires that SIGCHLD is not ignored (the child is reaped
 * with waitpid).
 */
#ifndef RG_INGEST_SANDBOX_H
#define RG_INGEST_SANDBOX_H

#include "core/buf.h"
#include "core/common.h"

typedef struct rg_sandbox_limits {
    unsigned cpu_s;    /* RLIMIT_CPU soft limit (SIGXCPU); the hard limit is 1 s more */
    unsigned wall_ms;  /* wall-clock limit, then SIGKILL to the process group */
    size_t memory;     /* RLIMIT_AS in bytes; 0 leaves it unlimited */
    size_t fsize;      /* RLIMIT_FSIZE: bytes the child may write to files (0: none) */
    unsigned nofile;   /* RLIMIT_NOFILE */
    size_t max_stdout; /* bytes of stdout accepted; one more is an error */
} rg_sandbox_limits;

typedef struct rg_sandbox_result {
    bool exited;     /* the child exited by itself: code is its exit status */
    int code;        /* exit status when exited */
    int signal;      /* the signal that ended it when !exited (SIGKILL after a limit) */
    bool timed_out;  /* killed at the wall-clock limit */
    bool truncated;  /* killed because stdout passed max_stdout */
    size_t err_len;  /* bytes kept in err */
    char err[1024];  /* the first bytes of stderr, NUL-terminated */
    int64_t wall_ms; /* how long it ran */
} rg_sandbox_result;

/* Finds the program `name` in the fixed directories /usr/bin, /bin,
 * /usr/local/bin (never $PATH) and writes its absolute path into
 * path[0..pathlen).  When it is missing returns RG_EIO with the reason
 * "<name> is not installed (<install_hint>)" in why. */
RG_WUR rg_rc rg_sandbox_find(const char *name, const char *install_hint, char *path, size_t pathlen,
                             char *why, size_t whylen);

/* Runs the program at the absolute path prog with argv (argv[0] first,
 * NULL-terminated; all borrowed for the call) under lim.  Its stdout is
 * appended to out (caller-owned; at most lim->max_stdout bytes, and out's
 * own maximum applies too), the rest of what happened goes into *res.
 * Returns RG_OK when the child ran and ended by itself, whatever its exit
 * status or signal (the caller judges res); RG_ETIMEOUT when it was killed
 * at the wall-clock limit; RG_ETOOBIG when its stdout passed the cap (it
 * was killed; out holds the first bytes); RG_EIO when it could not be
 * started (why says why, e.g. "cannot run /x: No such file or directory");
 * RG_EINVAL for a relative path.  why is always NUL-terminated. */
RG_WUR rg_rc rg_sandbox_run(const char *prog, const char *const argv[],
                            const rg_sandbox_limits *lim, rg_buf *out, rg_sandbox_result *res,
                            char *why, size_t whylen);

#endif
