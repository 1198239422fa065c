/*
 * sandbox.c - fork + execve of a helper program under limits.
 *
 * Design: everything the child needs (argv, environment) is prepared before
 * fork, because between fork and execve in a threaded process only
 * async-signal-safe calls are allowed: the child only calls setpgid,
 * sigprocmask, sigaction, open, fcntl, dup2, close_range (or close),
 * setrlimit, execve, write and _exit.  Its descriptors are first moved
 * above 10 so that dup2 onto 0-3 cannot clobber one of them, then every
 * descriptor from 4 up is closed: nothing the server has open (database,
 * sockets) reaches the helper.  Descriptor 3 is the classic exec-status
 * pipe (close-on-exec): it reads EOF when execve succeeded, or the errno.
 *
 * The parent puts the child in its own process group too (both sides call
 * setpgid, so there is no race with the first kill), then polls stdout and
 * stderr against a monotonic deadline.  Past the stdout cap or the deadline
 * the whole group gets SIGKILL.  After both pipes close, the child is
 * waited for with WNOHANG and short sleeps until the same deadline, since a
 * program may close its output and keep running.  A group is only killed
 * before its leader is reaped, so the pgid cannot have been reused.
 */
#include "ingest/sandbox.h"

#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void set_why(char *why, size_t whylen, const char *fmt, ...) RG_PRINTF(3, 4);

static void set_why(char *why, size_t whylen, const char *fmt, ...)
{
    if (!why || !whylen)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (vsnprintf(why, whylen, fmt, ap) < 0)
        why[0] = '\0';
    va_end(ap);
}

rg_rc rg_sandbox_find(const char *name, const char *install_hint, char *path, size_t pathlen,
                      char *why, size_t whylen)
{
    static const char *const dirs[] = {"/usr/bin", "/bin", "/usr/local/bin"};
    if (why && whylen)
        why[0] = '\0';
    for (size_t i = 0; i < RG_ARRAY_LEN(dirs); i++) {
        int n = snprintf(path, pathlen, "%s/%s", dirs[i], name);
        if (n < 0 || (size_t)n >= pathlen)
            continue;
        if (access(path, X_OK) == 0)
            return RG_OK;
    }
    if (pathlen)
        path[0] = '\0';
    set_why(why, whylen, "%s is not installed (%s)", name, install_hint);
    return RG_EIO;
}

static void lim(int res, rlim_t soft, rlim_t hard)
{
    struct rlimit rl = {soft, hard};
    (void)setrlimit(res, &rl);
}

/* The child, between fork and execve: async-signal-safe calls only. */
static RG_NORETURN void child(const char *prog, char *const argv[], char *const envp[],
                              const rg_sandbox_limits *l, int out_w, int err_w, int exec_w)
{
    int e;
    (void)setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            (void)sigaction(s, &dfl, NULL);

    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int o = fcntl(out_w, F_DUPFD_CLOEXEC, 10);
    int r = fcntl(err_w, F_DUPFD_CLOEXEC, 10);
    int x = fcntl(exec_w, F_DUPFD_CLOEXEC, 10);
    if (nul < 0 || o < 0 || r < 0 || x < 0)
        _exit(127);
    int n2 = fcntl(nul, F_DUPFD_CLOEXEC, 10);
    if (n2 < 0 || dup2(n2, 0) < 0 || dup2(o, 1) < 0 || dup2(r, 2) < 0 || dup3(x, 3, O_CLOEXEC) < 0)
        _exit(127);
    if (close_range(4, ~0U, 0) != 0) { /* kernels before 5.9 */
        struct rlimit rl;
        rlim_t top =
            getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? rl.rlim_cur : 65536;
        for (rlim_t fd = 4; fd < top; fd++)
            (void)close((int)fd);
    }

    lim(RLIMIT_CPU, l->cpu_s, (rlim_t)l->cpu_s + 1);
    if (l->memory)
        lim(RLIMIT_AS, l->memory, l->memory);
    lim(RLIMIT_FSIZE, l->fsize, l->fsize);
    lim(RLIMIT_NOFILE, l->nofile, l->nofile);
    lim(RLIMIT_CORE, 0, 0);

    execve(prog, argv, envp);
    e = errno;
    ssize_t w = write(3, &e, sizeof e);
    (void)w;
    _exit(127);
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void reap(pid_t pid, rg_sandbox_result *res)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    res->exited = WIFEXITED(st);
    res->code = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
    res->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

rg_rc rg_sandbox_run(const char *prog, const char *const argv[], const rg_sandbox_limits *l,
                     rg_buf *out, rg_sandbox_result *res, char *why, size_t whylen)
{
    memset(res, 0, sizeof *res);
    if (why && whylen)
        why[0] = '\0';
    if (!prog || prog[0] != '/') {
        set_why(why, whylen, "the helper program must be an absolute path (%s)",
                prog ? prog : "(null)");
        return RG_EINVAL;
    }
    static char *const envp[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL};
    int out_p[2] = {-1, -1}, err_p[2] = {-1, -1}, exec_p[2] = {-1, -1};
    if (pipe2(out_p, O_CLOEXEC) != 0 || pipe2(err_p, O_CLOEXEC) != 0 ||
        pipe2(exec_p, O_CLOEXEC) != 0) {
        set_why(why, whylen, "cannot run %s: %s", prog, strerror(errno));
        for (int i = 0; i < 2; i++) {
            close_fd(&out_p[i]);
            close_fd(&err_p[i]);
            close_fd(&exec_p[i]);
        }
        return RG_EIO;
    }
    int64_t start = rg_mono_ms();
    pid_t pid = fork();
    if (pid == 0)
        child(prog, (char *const *)argv, envp, l, out_p[1], err_p[1], exec_p[1]);
    int fork_errno = errno;
    close_fd(&out_p[1]);
    close_fd(&err_p[1]);
    close_fd(&exec_p[1]);
    if (pid < 0) {
        close_fd(&out_p[0]);
        close_fd(&err_p[0]);
        close_fd(&exec_p[0]);
        set_why(why, whylen, "cannot run %s: %s", prog, strerror(fork_errno));
        return RG_EIO;
    }
    (void)setpgid(pid, pid);

    /* Did execve work?  EOF: yes (the close-on-exec pipe closed). */
    int exec_errno = 0;
    ssize_t got;
    while ((got = read(exec_p[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
        ;
    close_fd(&exec_p[0]);
    if (got > 0) {
        close_fd(&out_p[0]);
        close_fd(&err_p[0]);
        reap(pid, res);
        set_why(why, whylen, "cannot run %s: %s", prog, strerror(exec_errno));
        return RG_EIO;
    }

    fcntl(out_p[0], F_SETFL, O_NONBLOCK);
    fcntl(err_p[0], F_SETFL, O_NONBLOCK);
    int64_t deadline = start + (int64_t)l->wall_ms;
    size_t taken = 0;
    rg_rc rc = RG_OK;
    char chunk[65536];
    while ((out_p[0] >= 0 || err_p[0] >= 0) && rc == RG_OK) {
        int64_t left = deadline - rg_mono_ms();
        if (left <= 0) {
            rc = RG_ETIMEOUT;
            break;
        }
        struct pollfd pf[2] = {{out_p[0], POLLIN, 0}, {err_p[0], POLLIN, 0}};
        int pr = poll(pf, 2, left > 1000 ? 1000 : (int)left);
        if (pr < 0 && errno != EINTR) {
            rc = RG_EIO;
            set_why(why, whylen, "cannot watch %s: %s", prog, strerror(errno));
            break;
        }
        if (pr <= 0)
            continue;
        if (pf[0].revents) {
            ssize_t n = read(out_p[0], chunk, sizeof chunk);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                close_fd(&out_p[0]);
            else if (n > 0) {
                size_t keep = (size_t)n;
                if (taken + keep > l->max_stdout) {
                    keep = l->max_stdout - taken;
                    rc = RG_ETOOBIG;
                }
                if (keep && rg_buf_append(out, chunk, keep) != RG_OK)
                    rc = RG_ETOOBIG;
                taken += keep;
            }
        }
        if (pf[1].revents) {
            ssize_t n = read(err_p[0], chunk, sizeof chunk);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                close_fd(&err_p[0]);
            else if (n > 0) {
                size_t room = sizeof res->err - 1 - res->err_len;
                size_t keep = (size_t)n < room ? (size_t)n : room;
                memcpy(res->err + res->err_len, chunk, keep);
                res->err_len += keep;
                res->err[res->err_len] = '\0';
            }
        }
    }
    close_fd(&out_p[0]);
    close_fd(&err_p[0]);

    if (rc == RG_OK) { /* output closed: wait for the exit, still under the deadline */
        int delay = 1;
        for (;;) {
            int st = 0;
            pid_t w = waitpid(pid, &st, WNOHANG);
            if (w == pid) {
                res->exited = WIFEXITED(st);
                res->code = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
                res->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
                res->wall_ms = rg_mono_ms() - start;
                return RG_OK;
            }
            if (w < 0 && errno != EINTR) {
                set_why(why, whylen, "cannot wait for %s: %s", prog, strerror(errno));
                res->wall_ms = rg_mono_ms() - start;
                return RG_EIO;
            }
            int64_t left = deadline - rg_mono_ms();
            if (left <= 0) {
                rc = RG_ETIMEOUT;
                break;
            }
            sleep_ms(delay < left ? delay : (int)left);
            if (delay < 50)
                delay *= 2;
        }
    }
    /* Over a limit (or a poll failure): kill the group, then reap. */
    (void)kill(-pid, SIGKILL);
    reap(pid, res);
    res->wall_ms = rg_mono_ms() - start;
    if (rc == RG_ETIMEOUT) {
        res->timed_out = true;
        set_why(why, whylen, "%s did not finish within %.1f s and was stopped", prog,
                (double)l->wall_ms / 1000.0);
    } else if (rc == RG_ETOOBIG) {
        res->truncated = true;
        set_why(why, whylen, "%s wrote more than %zu bytes and was stopped", prog, l->max_stdout);
    }
    return rc;
}
