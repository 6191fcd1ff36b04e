/* This file implements the compile cache's entry files: their layout, validation on read,
 * and atomic writes (see fa_cache.h for the format and why it is safe under concurrency). */
#include "fa_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char magic[8] = {'F', 'A', 'T', 'C', 'U', 'B', 'I', 'N'};

static void put_u32(unsigned char *p, uint32_t x)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(x >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t x)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(x >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t x = 0;
    for (int i = 3; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

/* Checksum over the header's first 80 bytes and the three payload parts. */
static void checksum(const unsigned char *head, const void *name, size_t nname, const void *cubin,
                     size_t ncubin, const void *log, size_t nlog, unsigned char out[32])
{
    fa_sha256 s;
    fa_sha256_init(&s);
    fa_sha256_update(&s, head, 80);
    fa_sha256_update(&s, name, nname);
    fa_sha256_update(&s, cubin, ncubin);
    fa_sha256_update(&s, log, nlog);
    fa_sha256_final(&s, out);
}

fa_status fa_cache_path(const char *dir, const char *label,
                        const unsigned char key[FA_SHA256_BYTES], char *buf, size_t n, fa_err *err)
{
    char hex[FA_SHA256_HEX];
    fa_sha256_hex(key, FA_SHA256_BYTES, hex);
    int len = snprintf(buf, n, "%s/%s-%s.fac", dir, label, hex);
    if (len < 0 || (size_t)len >= n)
        return FA_ERR(err, FA_INVALID, "cache path too long for directory '%s'", dir);
    return FA_OK;
}

/* The largest entry read: a batch's cubin is a few MB, so a bigger file is not an entry
 * fa-tune wrote (read as corrupt and rebuilt, never allocated whole). */
#define FA_CACHE_MAX_ENTRY_BYTES ((off_t)256 << 20)

/* Reads the whole file at fd (sb: its fstat) into a new buffer. */
static fa_status read_all(int fd, const struct stat *sb, const char *path, unsigned char **out,
                          size_t *n, fa_err *err)
{
    fa_status st = FA_OK;
    unsigned char *buf = NULL;
    size_t size = (size_t)sb->st_size;
    buf = malloc(size ? size : 1);
    if (!buf) {
        st = FA_ERR(err, FA_NOMEM, "out of memory reading '%s' (%zu bytes)", path, size);
        goto cleanup;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            st = FA_ERR(err, FA_IO, "cannot read '%s': %s", path, strerror(errno));
            goto cleanup;
        }
        if (r == 0)
            break; /* shrank under us: the size check below calls it corrupt */
        got += (size_t)r;
    }
    *out = buf;
    *n = got;
    buf = NULL;
cleanup:
    free(buf);
    return st;
}

fa_status fa_cache_read(const char *path, const unsigned char key[FA_SHA256_BYTES],
                        fa_cache_entry *e, fa_cache_lookup *found, fa_err *err)
{
    fa_status st = FA_OK;
    unsigned char *buf = NULL;
    size_t size = 0;
    void *cubin = NULL;
    char *log = NULL;
    struct stat sb;
    /* O_NONBLOCK: a FIFO put at an entry's path must not block the open forever. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) {
            *found = FA_CACHE_MISS;
            goto cleanup;
        }
        st = FA_ERR(err, FA_IO, "cannot open cache entry '%s': %s", path, strerror(errno));
        goto cleanup;
    }
    if (fstat(fd, &sb) != 0) {
        st = FA_ERR(err, FA_IO, "cannot stat '%s': %s", path, strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size > FA_CACHE_MAX_ENTRY_BYTES) {
        *found = FA_CACHE_CORRUPT; /* not a file fa-tune wrote: rebuilt */
        goto cleanup;
    }
    st = read_all(fd, &sb, path, &buf, &size, err);
    if (st != FA_OK)
        goto cleanup;

    *found = FA_CACHE_CORRUPT;
    if (size < FA_CACHE_HEADER_BYTES || memcmp(buf, magic, 8) != 0 ||
        get_u32(buf + 8) != FA_CACHE_FORMAT || get_u32(buf + 12) > 1 ||
        memcmp(buf + 16, key, FA_SHA256_BYTES) != 0)
        goto cleanup;
    uint64_t nname = get_u64(buf + 48), ncubin = get_u64(buf + 56), nlog = get_u64(buf + 64);
    /* Each size is bounded by the file size first, so the sum below cannot overflow. */
    if (nname >= sizeof e->lowered_name || ncubin > size || nlog > size ||
        FA_CACHE_HEADER_BYTES + nname + ncubin + nlog != size)
        goto cleanup;
    const unsigned char *pname = buf + FA_CACHE_HEADER_BYTES;
    const unsigned char *pcubin = pname + nname, *plog = pcubin + ncubin;
    unsigned char sum[32];
    checksum(buf, pname, nname, pcubin, ncubin, plog, nlog, sum);
    if (memcmp(sum, buf + 80, 32) != 0)
        goto cleanup;
    int compile_error = (int)get_u32(buf + 12);
    if (!compile_error && ncubin == 0)
        goto cleanup;

    if (ncubin) {
        cubin = malloc(ncubin);
        if (!cubin) {
            st = FA_ERR(err, FA_NOMEM, "out of memory reading '%s'", path);
            goto cleanup;
        }
        memcpy(cubin, pcubin, ncubin);
    }
    log = malloc(nlog + 1);
    if (!log) {
        st = FA_ERR(err, FA_NOMEM, "out of memory reading '%s'", path);
        goto cleanup;
    }
    memcpy(log, plog, nlog);
    log[nlog] = '\0';

    e->compile_error = compile_error;
    memcpy(e->lowered_name, pname, nname);
    e->lowered_name[nname] = '\0';
    e->cubin = cubin;
    e->cubin_size = ncubin;
    e->log = log;
    e->nvrtc_ms = (double)get_u64(buf + 72) / 1000.0;
    cubin = NULL;
    log = NULL;
    *found = FA_CACHE_HIT;
cleanup:
    if (fd >= 0)
        close(fd);
    free(buf);
    free(cubin);
    free(log);
    return st;
}

static fa_status write_full(int fd, const void *data, size_t n, const char *path, fa_err *err)
{
    const unsigned char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return FA_ERR(err, FA_IO, "cannot write '%s': %s", path, strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return FA_OK;
}

fa_status fa_cache_write(const char *path, const unsigned char key[FA_SHA256_BYTES],
                         const fa_cache_entry *e, fa_err *err)
{
    fa_status st = FA_OK;
    char tmp[4096];
    int fd = -1;
    int have_tmp = 0;
    /* The temp file sits beside the entry so rename() stays within one file system. */
    int len = snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
    if (len < 0 || (size_t)len >= sizeof tmp) {
        st = FA_ERR(err, FA_INVALID, "cache path too long: '%s'", path);
        goto cleanup;
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        st = FA_ERR(err, FA_IO, "cannot create a temp file for '%s': %s", path, strerror(errno));
        goto cleanup;
    }
    have_tmp = 1;
    /* mkstemp makes the file 0600; a cache directory may be shared by a group. */
    (void)fchmod(fd, 0644);

    size_t nname = strlen(e->lowered_name);
    size_t nlog = e->log ? strlen(e->log) : 0;
    size_t ncubin = e->compile_error ? 0 : e->cubin_size;
    double us = e->nvrtc_ms > 0 ? e->nvrtc_ms * 1000.0 : 0.0;
    unsigned char head[FA_CACHE_HEADER_BYTES] = {0};
    memcpy(head, magic, 8);
    put_u32(head + 8, FA_CACHE_FORMAT);
    put_u32(head + 12, e->compile_error ? 1u : 0u);
    memcpy(head + 16, key, FA_SHA256_BYTES);
    put_u64(head + 48, nname);
    put_u64(head + 56, ncubin);
    put_u64(head + 64, nlog);
    put_u64(head + 72, (uint64_t)us);
    checksum(head, e->lowered_name, nname, e->cubin, ncubin, e->log, nlog, head + 80);

    if ((st = write_full(fd, head, sizeof head, tmp, err)) != FA_OK ||
        (st = write_full(fd, e->lowered_name, nname, tmp, err)) != FA_OK ||
        (st = write_full(fd, e->cubin, ncubin, tmp, err)) != FA_OK ||
        (st = write_full(fd, e->log, nlog, tmp, err)) != FA_OK)
        goto cleanup;
    /* fsync before rename: after a crash the final name holds a whole entry or nothing. */
    if (fsync(fd) != 0) {
        st = FA_ERR(err, FA_IO, "cannot fsync '%s': %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (close(fd) != 0) {
        fd = -1;
        st = FA_ERR(err, FA_IO, "cannot close '%s': %s", tmp, strerror(errno));
        goto cleanup;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        st = FA_ERR(err, FA_IO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        goto cleanup;
    }
    have_tmp = 0;
cleanup:
    if (fd >= 0)
        close(fd);
    if (have_tmp)
        unlink(tmp);
    return st;
}

void fa_cache_remove_stale_temps(const char *dir, int max_age_s)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char path[4096];
        struct stat sb;
        if (!strstr(de->d_name, ".fac.tmp-"))
            continue;
        int n = snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (n > 0 && (size_t)n < sizeof path && lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
            now - sb.st_mtime > max_age_s)
            unlink(path);
    }
    closedir(d);
}

fa_status fa_cache_mkdirs(const char *path, fa_err *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return FA_ERR(err, FA_INVALID, "bad cache directory '%s'", path);
    memcpy(buf, path, n + 1);
    /* Create each prefix in turn; EEXIST is fine, the final stat decides. */
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            fa_status st =
                FA_ERR(err, FA_IO, "cannot create cache directory '%s': %s", buf, strerror(errno));
            return st;
        }
        buf[i] = c;
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return FA_ERR(err, FA_IO, "cache directory '%s' is not a directory", path);
    if (access(path, W_OK | X_OK) != 0)
        return FA_ERR(err, FA_IO, "cache directory '%s' is not writable: %s", path,
                      strerror(errno));
    return FA_OK;
}
