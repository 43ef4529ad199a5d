/* SPDX-License-Identifier: MIT */
/* lock.c: cross-process file locks, compatible with huggingface_hub's. */
#include "lock.h"

#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int hub__lock_try(hub__lock *lock, const char *path)
{
    if (lock->fd >= 0)
        return HUB_OK;
    int error = hub__mkdirs_parent(path);
    if (error < 0)
        return error;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0664);
    if (fd < 0)
        return hub__path_error(errno, "cannot open lock file", path);
    /* 0664 whatever the umask, so other users of a shared cache can wait
     * on it too; not ours to change: fine */
    (void)fchmod(fd, 0664);
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        lock->fd = fd;
        lock->unsupported = false;
        return HUB_OK;
    }
    int err = errno;
    if (err == EWOULDBLOCK || err == EINTR) {
        close(fd);
        return HUB__LOCK_BUSY;
    }
    if (err == ENOLCK || err == EOPNOTSUPP || err == ENOSYS) {
        lock->fd = fd;
        lock->unsupported = true;
        return HUB_OK;
    }
    close(fd);
    return hub__path_error(err, "cannot lock", path);
}

void hub__lock_release(hub__lock *lock)
{
    if (lock->fd < 0)
        return;
    if (!lock->unsupported)
        flock(lock->fd, LOCK_UN);
    close(lock->fd);
    lock->fd = -1;
}
