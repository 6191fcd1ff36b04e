/* This file implements the test of one cache directory shared by several processes (several
 * fa-tune runs, or nodes of a cluster on shared storage): four writer processes write the
 * same entry over and over, each with its own contents, while the parent reads it. Every
 * read must find a whole entry (a hit whose log is one writer's) or none yet, never a torn
 * or half-written one (corrupt), and no temp file may be left behind. */
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fa_cache.h"
#include "test_util.h"

enum { WRITERS = 4, WRITES = 40 };

static void fill(fa_cache_entry *e, int writer, unsigned char *cubin, size_t n, char *log,
                 size_t nlog)
{
    memset(e, 0, sizeof *e);
    snprintf(e->lowered_name, sizeof e->lowered_name, "_Z6kernelv");
    /* Each writer's cubin and log differ, so a mix of two writers fails the checksum. */
    memset(cubin, 'a' + writer, n);
    memset(log, 'A' + writer, nlog - 1);
    log[nlog - 1] = '\0';
    e->cubin = cubin;
    e->cubin_size = n;
    e->log = log;
    e->nvrtc_ms = 1.0;
}

static int count_temps(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        n += strstr(de->d_name, ".tmp-") != NULL;
    if (d)
        closedir(d);
    return n;
}

int main(void)
{
    char tmp[512], path[1024];
    fa_err err;
    fa_err_clear(&err);
    fa_test_tmpdir(tmp, sizeof tmp, "cache-shared");
    unsigned char key[FA_SHA256_BYTES];
    memset(key, 0x5a, sizeof key);
    CHECK_OK(fa_cache_path(tmp, "fwd_shared", key, path, sizeof path, &err), &err);

    static unsigned char cubin[256 << 10];
    static char log[64 << 10];
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        if (pids[w] == 0) {
            fa_cache_entry e;
            fill(&e, w, cubin, sizeof cubin, log, sizeof log);
            for (int i = 0; i < WRITES; i++)
                if (fa_cache_write(path, key, &e, &err) != FA_OK)
                    _exit(1);
            _exit(0);
        }
        CHECK(pids[w] > 0);
    }
    int hits = 0, misses = 0, corrupt = 0, running = WRITERS;
    while (running > 0) {
        fa_cache_entry e = {0};
        fa_cache_lookup found = FA_CACHE_MISS;
        CHECK_OK(fa_cache_read(path, key, &e, &found, &err), &err);
        if (found == FA_CACHE_HIT) {
            hits++;
            /* One writer's entry, whole. */
            CHECK(e.cubin_size == sizeof cubin && strlen(e.log) == sizeof log - 1);
            CHECK(((unsigned char *)e.cubin)[0] - 'a' == e.log[0] - 'A');
            CHECK(((unsigned char *)e.cubin)[sizeof cubin - 1] == ((unsigned char *)e.cubin)[0]);
            free(e.cubin);
            free(e.log);
        } else if (found == FA_CACHE_MISS) {
            misses++;
        } else {
            corrupt++;
        }
        running = 0;
        for (int w = 0; w < WRITERS; w++) {
            int status;
            if (pids[w] > 0 && waitpid(pids[w], &status, WNOHANG) == pids[w]) {
                CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                pids[w] = -1;
            }
            running += pids[w] > 0;
        }
    }
    CHECK(corrupt == 0);
    CHECK(hits > 0);
    CHECK(count_temps(tmp) == 0);
    fprintf(stderr, "test_cache_shared: %d hits, %d misses, %d corrupt reads\n", hits, misses,
            corrupt);
    fa_test_rmtree(tmp);
    return fa_test_done("test_cache_shared");
}
