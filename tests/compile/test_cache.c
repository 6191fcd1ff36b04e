/* This file implements the cache tests: a second compile of the same instance is a hit at
 * least 20x faster and returns the same bytes; anything that changes the binary (options,
 * arch, template contents) misses; and a corrupted entry (truncated, a flipped byte in the
 * header, the cubin or the log, garbage, empty) is detected, rebuilt and overwritten. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <utime.h>

#include "fa_compile.h"
#include "test_kernel.h"
#include "test_util.h"

/* The single entry file in dir (the tests keep one there at a time); 0 if none or several. */
static int entry_path(const char *dir, char *buf, size_t n)
{
    int found = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len > 4 && strcmp(de->d_name + len - 4, ".fac") == 0) {
            snprintf(buf, n, "%s/%s", dir, de->d_name);
            found++;
        }
    }
    if (d)
        closedir(d);
    return found == 1;
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static void flip_byte(const char *path, long off)
{
    int fd = open(path, O_RDWR);
    unsigned char b = 0;
    CHECK(fd >= 0 && pread(fd, &b, 1, off) == 1);
    b ^= 0x5a;
    CHECK(fd >= 0 && pwrite(fd, &b, 1, off) == 1);
    if (fd >= 0)
        close(fd);
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    int ch, ok = in && out;
    while (ok && (ch = fgetc(in)) != EOF)
        fputc(ch, out);
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = 0;
    return ok;
}

/* No temp file is left behind by the atomic writes. */
static int count_temp_files(const char *dir)
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

typedef struct compiled {
    fa_status status;
    int hit, rebuilt;
    double ms;
    void *cubin;
    size_t size;
} compiled;

static compiled compile(fa_compiler *c, const char *arch, const char *const *extra, int nextra)
{
    compiled r = {0};
    fa_compile_output out = {0};
    fa_err err;
    fa_err_clear(&err);
    double t0 = fa_test_now_ms();
    r.status = fa_compile_source(c, fa_test_kernel_src, FA_TEST_KERNEL_EXPR, arch, extra, nextra,
                                 &out, &err);
    r.ms = fa_test_now_ms() - t0;
    if (r.status != FA_OK) {
        fprintf(stderr, "compile failed: %s\n", err.msg);
        return r;
    }
    CHECK(out.status == FA_OK);
    r.hit = out.build.cache_hit;
    r.rebuilt = out.cache_rebuilt;
    r.cubin = out.cubin;
    r.size = out.cubin_size;
    out.cubin = NULL;
    fa_compile_output_release(&out);
    return r;
}

/* Corrupt the one entry with `damage`, then expect a detected, rebuilt, then clean entry. */
static void corrupt_and_rebuild(fa_compiler *c, const char *dir, const char *what,
                                const compiled *ref, void (*damage)(const char *path))
{
    char path[1024];
    CHECK(entry_path(dir, path, sizeof path));
    damage(path);
    compiled r = compile(c, "sm_80", NULL, 0);
    if (r.hit || !r.rebuilt)
        fprintf(stderr, "%s: hit %d rebuilt %d\n", what, r.hit, r.rebuilt);
    CHECK(r.status == FA_OK && r.hit == 0 && r.rebuilt == 1);
    CHECK(r.size == ref->size && r.cubin && memcmp(r.cubin, ref->cubin, r.size) == 0);
    free(r.cubin);
    CHECK(entry_path(dir, path, sizeof path)); /* overwritten in place: still one entry */
    r = compile(c, "sm_80", NULL, 0);          /* the rebuilt entry is whole again */
    CHECK(r.status == FA_OK && r.hit == 1 && r.rebuilt == 0);
    free(r.cubin);
    fprintf(stderr, "%s: detected and rebuilt\n", what);
}

static void truncate_half(const char *p)
{
    CHECK(truncate(p, file_size(p) / 2) == 0);
}
static void truncate_header(const char *p)
{
    CHECK(truncate(p, 50) == 0);
}
static void make_empty(const char *p)
{
    CHECK(truncate(p, 0) == 0);
}
static void flip_magic(const char *p)
{
    flip_byte(p, 0);
}
static void flip_size_field(const char *p)
{
    flip_byte(p, 57); /* cubin size: the file size no longer adds up */
}
static void flip_cubin(const char *p)
{
    flip_byte(p, 112 + 80); /* inside the lowered name or cubin */
}
static void flip_last(const char *p)
{
    flip_byte(p, file_size(p) - 1); /* the log's last byte */
}
static void flip_middle(const char *p)
{
    flip_byte(p, file_size(p) / 2);
}
static void make_fifo(const char *p)
{
    CHECK(unlink(p) == 0 && mkfifo(p, 0600) == 0); /* its open would block without O_NONBLOCK */
}
static void make_huge(const char *p)
{
    CHECK(truncate(p, (off_t)64 << 30) == 0); /* sparse 64 GiB: never allocated whole */
}
static void garbage(const char *p)
{
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    for (int i = 0; f && i < 5000; i++)
        fputc((i * 7919) & 0xff, f);
    if (f)
        fclose(f);
}

int main(void)
{
    char tmp[512], tdir[600], cache[600];
    fa_err err;
    fa_err_clear(&err);
    unsetenv("FA_TUNE_TEMPLATES");
    fa_test_tmpdir(tmp, sizeof tmp, "cache");
    snprintf(cache, sizeof cache, "%s/cache", tmp);

    fa_compiler *c = NULL;
    fa_compiler_opts opts = {0};
    opts.cache_dir = cache;
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    if (!c)
        return fa_test_done("test_cache");

    /* Cold, then warm: a hit, >= 20x faster, identical bytes. */
    compiled cold = compile(c, "sm_80", NULL, 0);
    compiled warm = compile(c, "sm_80", NULL, 0);
    fprintf(stderr, "cold %.2f ms, warm %.3f ms (%.0fx)\n", cold.ms, warm.ms,
            warm.ms > 0 ? cold.ms / warm.ms : 0);
    CHECK(cold.status == FA_OK && cold.hit == 0);
    CHECK(warm.status == FA_OK && warm.hit == 1);
    CHECK(warm.ms * 20 <= cold.ms);
    CHECK(warm.size == cold.size && warm.cubin && memcmp(warm.cubin, cold.cubin, cold.size) == 0);
    free(warm.cubin);

    corrupt_and_rebuild(c, cache, "truncated to half", &cold, truncate_half);
    corrupt_and_rebuild(c, cache, "truncated inside the header", &cold, truncate_header);
    corrupt_and_rebuild(c, cache, "emptied", &cold, make_empty);
    corrupt_and_rebuild(c, cache, "magic flipped", &cold, flip_magic);
    corrupt_and_rebuild(c, cache, "size field flipped", &cold, flip_size_field);
    corrupt_and_rebuild(c, cache, "payload byte flipped", &cold, flip_cubin);
    corrupt_and_rebuild(c, cache, "middle byte flipped", &cold, flip_middle);
    corrupt_and_rebuild(c, cache, "last log byte flipped", &cold, flip_last);
    corrupt_and_rebuild(c, cache, "overwritten with garbage", &cold, garbage);
    corrupt_and_rebuild(c, cache, "replaced by a FIFO", &cold, make_fifo);
    corrupt_and_rebuild(c, cache, "grown to 64 GiB (sparse)", &cold, make_huge);

    /* Everything that changes the binary changes the key. */
    const char *opt[] = {"-DFA_TEST_EXTRA=1"};
    compiled other = compile(c, "sm_80", opt, 1);
    CHECK(other.status == FA_OK && other.hit == 0);
    free(other.cubin);
    other = compile(c, "sm_86", NULL, 0);
    CHECK(other.status == FA_OK && other.hit == 0);
    free(other.cubin);
    fa_compiler_free(c);
    c = NULL;

    /* The same templates read from disk hash the same, so they hit; change one byte of one
     * template the kernel does not even use and it misses (every header is in the key). */
    snprintf(tdir, sizeof tdir, "%s/templates", tmp);
    CHECK(mkdir(tdir, 0777) == 0);
    char params[700];
    snprintf(params, sizeof params, "%s/fa_params.h", tdir);
    CHECK(copy_file(FA_TEMPLATES_SRC_DIR "/fa_params.h", params));
    opts.templates_dir = tdir;
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    if (c) {
        compiled r = compile(c, "sm_80", NULL, 0);
        /* Only fa_params.h is in this set, so the template hash differs from the embedded
         * set's: a miss, then a hit. */
        CHECK(r.status == FA_OK && r.hit == 0);
        free(r.cubin);
        r = compile(c, "sm_80", NULL, 0);
        CHECK(r.status == FA_OK && r.hit == 1);
        free(r.cubin);
        fa_compiler_free(c);
        c = NULL;
    }
    FILE *f = fopen(params, "a");
    CHECK(f != NULL);
    if (f) {
        fputs("/* one more line */\n", f);
        fclose(f);
    }
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    if (c) {
        compiled r = compile(c, "sm_80", NULL, 0);
        CHECK(r.status == FA_OK && r.hit == 0);
        free(r.cubin);
        fa_compiler_free(c);
    }

    CHECK(count_temp_files(cache) == 0);

    /* A writer that crashed between mkstemp and rename leaves a temp file: a new compiler
     * removes it once it is a day old, and leaves young ones (a live writer's) alone. */
    char stale[700], young[700];
    snprintf(stale, sizeof stale, "%s/x-00.fac.tmp-AAAAAA", cache);
    snprintf(young, sizeof young, "%s/x-00.fac.tmp-BBBBBB", cache);
    CHECK(copy_file(FA_TEMPLATES_SRC_DIR "/fa_params.h", stale));
    CHECK(copy_file(FA_TEMPLATES_SRC_DIR "/fa_params.h", young));
    struct utimbuf old = {time(NULL) - 2 * 24 * 3600, time(NULL) - 2 * 24 * 3600};
    CHECK(utime(stale, &old) == 0);
    opts.templates_dir = NULL;
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    fa_compiler_free(c);
    CHECK(access(stale, F_OK) != 0 && access(young, F_OK) == 0);

    free(cold.cubin);
    fa_test_rmtree(tmp);
    return fa_test_done("test_cache");
}
