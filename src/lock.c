/* SPDX-License-Identifier: MIT */
/* lock.c: cross-process file locks, compatible with huggingface_hub's. */
#include "lock.h"

#include "path.h"
#include "safefs.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int hub__lock_try(hub__lock *lock, const char *root, const char *path)
{
    if (lock->fd >= 0)
        return HUB_OK;
    /* No O_TRUNC (a lock needs none) and no link followed: a lock file
     * planted as a symlink to someone's file must not empty or chmod it. */
    int fd = hub__sfs_open(root, path, O_RDWR | O_CREAT, 0664);
    if (fd == HUB_EIO && errno == EACCES) {
        /* another user's lock in a shared cache: flock needs no write
         * access */
        hub__error_clear();
        fd = hub__sfs_open(root, path, O_RDONLY, 0);
    }
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return hub__error_set(
            HUB_EIO, "lock file '%s' is not a regular file; remove it", path);
    }
    /* 0664 whatever the umask, so other users of a shared cache can wait
     * on it too; only on a file we own */
    if (st.st_uid == geteuid() && (st.st_mode & 07777) != 0664)
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
