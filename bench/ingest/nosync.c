/*
 * nosync.c - LD_PRELOAD shim that turns fsync and fdatasync into no-ops, for
 * bench/ingest/run NOSYNC=1 only: it shows how much of the ingestion time is
 * waiting for the disk.  A store run under it is NOT durable; never use it
 * for anything but that measurement.
 */
int fsync(int fd);
int fdatasync(int fd);

int fsync(int fd)
{
    (void)fd;
    return 0;
}

int fdatasync(int fd)
{
    (void)fd;
    return 0;
}
