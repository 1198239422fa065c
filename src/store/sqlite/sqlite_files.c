/*
 * sqlite_files.c - the files beside the database: <data_dir>/uploads holds
 * the original bytes of every document, one file per upload named by its
 * UUID; <data_dir>/spool is where callers write a file before the store
 * adopts it (same file system, so adoption is a rename).
 *
 * Adoption is durable: the file is fsynced, renamed into place (never over an
 * existing upload) and the uploads directory fsynced.  Upload files are
 * removed only after the commit that dropped their row, and a missing file is
 * not an error then.  At open, spool files untouched for SPOOL_STALE_S are
 * removed: they belong to requests of a process that is gone (a younger one
 * may belong to a live process sharing the directory, e.g. `ragd check`
 * beside a server).
 */
#include "store/sqlite/sqlite_int.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SPOOL_STALE_S 3600

/* fsyncs a directory, so that entries created in or removed from it are durable. */
static rg_rc sync_dir(const char *d)
{
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        rg_error("store: cannot sync directory %s: %s", d, strerror(errno));
        if (fd >= 0)
            close(fd);
        return RG_EIO;
    }
    close(fd);
    return RG_OK;
}

/* fsyncs the directory that holds path (best effort: a warning on failure). */
static void sync_parent(const char *path)
{
    char *dir = rg_xstrdup(path);
    char *slash = strrchr(dir, '/');
    const char *d = ".";
    if (slash == dir)
        d = "/";
    else if (slash) {
        *slash = '\0';
        d = dir;
    }
    if (sync_dir(d) != RG_OK)
        rg_warn("store: the new directory %s may not survive a crash", path);
    rg_free(dir);
}

rg_rc rg_sqlite_make_dirs(const char *dir)
{
    char *p = rg_xstrdup(dir);
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    rg_rc rc = RG_OK;
    for (char *q = p + 1;; q++) {
        if (*q != '/' && *q != '\0')
            continue;
        char saved = *q;
        *q = '\0';
        if (mkdir(p, 0700) == 0)
            sync_parent(p);
        else if (errno != EEXIST) {
            rg_error("store: cannot create directory %s: %s", p, strerror(errno));
            rc = RG_EIO;
        }
        *q = saved;
        if (saved == '\0' || rc != RG_OK)
            break;
    }
    struct stat sb;
    if (rc == RG_OK && (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
        rg_error("store: %s is not a directory", p);
        rc = RG_EIO;
    }
    rg_free(p);
    return rc;
}

static char *join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + 1 + strlen(name) + 1;
    char *p = rg_xmalloc(len);
    snprintf(p, len, "%s/%s", dir, name);
    return p;
}

/* Removes the regular files of the spool not modified for SPOOL_STALE_S. */
static void spool_sweep(const char *spool)
{
    DIR *d = opendir(spool);
    if (!d) {
        rg_warn("store: cannot read %s: %s", spool, strerror(errno));
        return;
    }
    time_t cutoff = time(NULL) - SPOOL_STALE_S;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat sb;
        if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR(sb.st_mode) ||
            sb.st_mtime >= cutoff)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            removed++;
        else if (errno != ENOENT)
            rg_warn("store: cannot remove %s/%s: %s", spool, e->d_name, strerror(errno));
    }
    closedir(d);
    if (removed)
        rg_info("store: removed %d stale spool file(s) from %s", removed, spool);
}

rg_rc rg_sqlite_files_open(rg_sqlite_store *s, const char *data_dir)
{
    s->uploads_dir = join(data_dir, "uploads");
    s->spool_dir = join(data_dir, "spool");
    RG_TRY(rg_sqlite_make_dirs(s->uploads_dir));
    RG_TRY(rg_sqlite_make_dirs(s->spool_dir));
    spool_sweep(s->spool_dir);
    return RG_OK;
}

/* Writes <uploads>/<id> into out; RG_EINVAL unless id is a UUID and it fits. */
static rg_rc upload_file(const rg_sqlite_store *s, const char *upload_id, char *out, size_t outlen)
{
    if (!rg_str_is_uuid(rg_str_c(upload_id)))
        return RG_EINVAL;
    int n = snprintf(out, outlen, "%s/%s", s->uploads_dir, upload_id);
    if (n < 0 || (size_t)n >= outlen) {
        if (outlen)
            out[0] = '\0';
        return RG_EINVAL;
    }
    return RG_OK;
}

/* fsyncs a file's data and metadata. */
static rg_rc sync_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        rg_error("store: cannot open %s: %s", path, strerror(errno));
        return errno == ENOENT ? RG_ENOTFOUND : RG_EIO;
    }
    struct stat sb;
    rg_rc rc = RG_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        rg_error("store: %s is not a regular file", path);
        rc = RG_EINVAL;
    } else if (fsync(fd) != 0) {
        rg_error("store: cannot sync %s: %s", path, strerror(errno));
        rc = RG_EIO;
    }
    close(fd);
    return rc;
}

/* rename that refuses to replace an existing target (RG_ECONFLICT). */
static rg_rc rename_new(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return RG_OK;
    int e = errno;
    if (e == EINVAL || e == ENOSYS) { /* a file system without RENAME_NOREPLACE */
        if (access(to, F_OK) == 0)
            e = EEXIST;
        else if (rename(from, to) == 0)
            return RG_OK;
        else
            e = errno;
    }
    rg_error("store: cannot move %s to %s: %s", from, to, strerror(e));
    if (e == EEXIST)
        return RG_ECONFLICT;
    return e == EXDEV || e == ENOENT ? RG_EINVAL : RG_EIO;
}

rg_rc rg_sqlite_upload_adopt(rg_store *base, const char *upload_id, const char *spool_path)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    char dest[4096];
    RG_TRY(upload_file(s, upload_id, dest, sizeof dest));
    RG_TRY(sync_file(spool_path));
    RG_TRY(rename_new(spool_path, dest));
    return sync_dir(s->uploads_dir);
}

rg_rc rg_sqlite_upload_path(rg_store *base, const char *upload_id, char *out, size_t outlen)
{
    return upload_file(rg_sqlite_of(base), upload_id, out, outlen);
}

const char *rg_sqlite_spool_dir(const rg_store *base)
{
    return ((const rg_sqlite_store *)base)->spool_dir;
}

void rg_sqlite_upload_unlink(rg_sqlite_store *s, const char *upload_id)
{
    char path[4096];
    if (upload_file(s, upload_id, path, sizeof path) != RG_OK)
        return;
    if (unlink(path) != 0 && errno != ENOENT)
        rg_warn("store: cannot remove %s: %s", path, strerror(errno));
}
