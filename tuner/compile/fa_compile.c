/* This file implements the NVRTC compile engine: finding the toolkit headers and the cache
 * directory at run time, compiling one template instance to a cubin, reading ptxas' resource
 * report, and the content-addressed cubin cache around it (see fa_compile.h). */
#include "fa_compile.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fa_cache.h"
#include "fa_nvrtc.h"
#include "fa_sha256.h"
#include "fa_family.h"
#include "fa_templates.h"
#include "fa_toolkit.h"
#include "fa_util.h"

/* Bumped whenever what goes into a key or an entry changes meaning. */
#define FA_CACHE_KEY_TAG "fa-tune compile cache key v1"
/* Entries made by a batch (one NVRTC program for several variants: its cubin holds all their
 * kernels) have keys of their own, so the one-variant path (emit's --embed-cubin, bench)
 * never sees a cubin with other variants' kernels in it. */
#define FA_CACHE_KEY_TAG_BATCH "fa-tune compile cache key v1 batched"
/* Variants per NVRTC program when neither the options nor $FA_COMPILE_BATCH say. */
#define FA_COMPILE_BATCH_DEFAULT 8

struct fa_compiler {
    fa_nvrtc *nv; /* NVRTC, loaded at run time (fa_nvrtc.h) */
    char nvrtc_version[32];
    char cuda_include[PATH_MAX];
    char include_opt[PATH_MAX + 3]; /* "-I<cuda_include>" */
    char cache_dir[PATH_MAX];
    int no_cache;
    int batch; /* variants per NVRTC program in fa_compile_variants (1: one each) */
    int n_headers;
    const char **header_names; /* name order */
    const char **header_data;
    size_t *header_sizes;
    char **owned; /* non-NULL when the headers were read from disk: names then data */
    unsigned char templates_digest[FA_SHA256_BYTES];
    unsigned char toolkit_digest[FA_SHA256_BYTES]; /* the CUDA headers' names, sizes, mtimes */
    char source_hash[FA_SHA256_HEX];
};

/* One checking macro for NVRTC: records the failing call and jumps to the caller's cleanup:
 * label with st set. */
#define FA_NVRTC(call)                                                                             \
    do {                                                                                           \
        nvrtcResult r_ = c->nv->call;                                                              \
        if (r_ != NVRTC_SUCCESS) {                                                                 \
            st = FA_ERR(err, FA_ERROR, "%s failed: %s", #call, c->nv->nvrtcGetErrorString(r_));    \
            goto cleanup;                                                                          \
        }                                                                                          \
    } while (0)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Is dir a toolkit include directory? cuda_fp16.h is what every template needs from it. */
static int has_cuda_headers(const char *dir)
{
    char p[PATH_MAX + 32];
    int n = snprintf(p, sizeof p, "%s/cuda_fp16.h", dir);
    return n > 0 && (size_t)n < sizeof p && is_file(p);
}

/* Accept dir if it holds the headers, storing its canonical path (a symlinked
 * /usr/local/cuda resolves to the versioned toolkit, which then shows up in the key). */
static int try_include(const char *dir, char *out)
{
    char real[PATH_MAX];
    if (!dir || !*dir || !has_cuda_headers(dir))
        return 0;
    if (!realpath(dir, real)) {
        if (strlen(dir) >= sizeof real)
            return 0;
        memcpy(real, dir, strlen(dir) + 1);
    }
    memcpy(out, real, strlen(real) + 1); /* both PATH_MAX */
    return 1;
}

static fa_status find_cuda_include(const fa_compiler_opts *opts, char *out, fa_err *err)
{
    if (opts && opts->cuda_include) {
        if (try_include(opts->cuda_include, out))
            return FA_OK;
        return FA_ERR(err, FA_NOT_FOUND, "no cuda_fp16.h in cuda include directory '%s'",
                      opts->cuda_include);
    }
    /* The toolkit roots in fa_toolkit.h's order: the machine fa-tune runs on first, the
     * build machine's toolkit last. */
    char roots[FA_TOOLKIT_MAX_ROOTS][FA_TOOLKIT_PATH_CAP];
    int n = fa_toolkit_roots(roots, FA_TOOLKIT_MAX_ROOTS);
    for (int i = 0; i < n; i++) {
        char dir[PATH_MAX];
        int k = snprintf(dir, sizeof dir, "%s/include", roots[i]);
        if (k > 0 && (size_t)k < sizeof dir && try_include(dir, out))
            return FA_OK;
    }
    return FA_ERR(err, FA_NOT_FOUND,
                  "cannot find the cuda toolkit headers (cuda_fp16.h): looked in %s; set "
                  "CUDA_HOME",
                  fa_toolkit_search_text());
}

static fa_status choose_cache_dir(const fa_compiler_opts *opts, char *out, fa_err *err)
{
    const char *v;
    int n;
    if (opts && opts->cache_dir && *opts->cache_dir)
        n = snprintf(out, PATH_MAX, "%s", opts->cache_dir);
    else if ((v = getenv("FA_TUNE_CACHE_DIR")) && *v)
        n = snprintf(out, PATH_MAX, "%s", v);
    else if ((v = getenv("XDG_CACHE_HOME")) && *v)
        n = snprintf(out, PATH_MAX, "%s/fa-tune", v);
    else if ((v = getenv("HOME")) && *v)
        n = snprintf(out, PATH_MAX, "%s/.cache/fa-tune", v);
    else
        return FA_ERR(err, FA_NOT_FOUND,
                      "cannot choose a cache directory: HOME is not set; use --cache-dir or "
                      "FA_TUNE_CACHE_DIR");
    if (n < 0 || n >= PATH_MAX)
        return FA_ERR(err, FA_INVALID, "cache directory path too long");
    /* Trailing slashes would show up doubled in every entry's path. */
    for (size_t len = strlen(out); len > 1 && out[len - 1] == '/'; len--)
        out[len - 1] = '\0';
    return fa_cache_mkdirs(out, err);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static fa_status read_text_file(const char *path, char **out, size_t *n, fa_err *err)
{
    fa_status st = FA_OK;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        st = FA_ERR(err, FA_IO, "cannot open '%s': %s", path, strerror(errno));
        goto cleanup;
    }
    size_t cap = 1 << 14, len = 0;
    buf = malloc(cap);
    if (!buf) {
        st = FA_ERR(err, FA_NOMEM, "out of memory reading '%s'", path);
        goto cleanup;
    }
    for (;;) {
        if (len + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                st = FA_ERR(err, FA_NOMEM, "out of memory reading '%s'", path);
                goto cleanup;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + len, 1, cap - 1 - len, f);
        len += r;
        if (r == 0)
            break;
    }
    if (ferror(f)) {
        st = FA_ERR(err, FA_IO, "cannot read '%s'", path);
        goto cleanup;
    }
    buf[len] = '\0';
    *out = buf;
    *n = len;
    buf = NULL;
cleanup:
    if (f)
        fclose(f);
    free(buf);
    return st;
}

/* Appends to *names (growing it) every *.h, *.cuh and *.hpp file of dir/sub ("" for dir
 * itself) as "sub/file"; with depth > 0 also those of its subfolders (family folders such as
 * templates/sm90a), so names are relative to dir, as the embedded set's are. */
static fa_status list_templates(const char *dir, const char *sub, int depth, char ***names, int *n,
                                int *cap, fa_err *err)
{
    fa_status st = FA_OK;
    char path[PATH_MAX], rel[PATH_MAX];
    int len = *sub ? snprintf(path, sizeof path, "%s/%s", dir, sub)
                   : snprintf(path, sizeof path, "%s", dir);
    if (len < 0 || (size_t)len >= sizeof path)
        return FA_ERR(err, FA_INVALID, "template path too long in '%s'", dir);
    DIR *d = opendir(path);
    if (!d)
        return FA_ERR(err, FA_IO, "cannot open templates directory '%s': %s", path,
                      strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        if (nm[0] == '.')
            continue;
        len = *sub ? snprintf(rel, sizeof rel, "%s/%s", sub, nm)
                   : snprintf(rel, sizeof rel, "%s", nm);
        if (len < 0 || (size_t)len >= sizeof rel) {
            st = FA_ERR(err, FA_INVALID, "template path too long in '%s'", dir);
            goto cleanup;
        }
        if (!(has_suffix(nm, ".h") || has_suffix(nm, ".cuh") || has_suffix(nm, ".hpp"))) {
            char full[2 * PATH_MAX];
            struct stat sb;
            snprintf(full, sizeof full, "%s/%s", dir, rel);
            if (depth > 0 && stat(full, &sb) == 0 && S_ISDIR(sb.st_mode) &&
                (st = list_templates(dir, rel, depth - 1, names, n, cap, err)) != FA_OK)
                goto cleanup;
            continue;
        }
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 16;
            char **nn = realloc(*names, (size_t)*cap * sizeof **names);
            if (!nn) {
                st = FA_ERR(err, FA_NOMEM, "out of memory listing '%s'", dir);
                goto cleanup;
            }
            *names = nn;
        }
        if (!((*names)[*n] = strdup(rel))) {
            st = FA_ERR(err, FA_NOMEM, "out of memory listing '%s'", dir);
            goto cleanup;
        }
        (*n)++;
    }
cleanup:
    closedir(d);
    return st;
}

/* Loads every *.h, *.cuh and *.hpp of dir and of its direct subfolders, in name order, as the
 * compiler's headers, named relative to dir ("fa_params.h", "sm90a/fa_fwd_sm90a.cuh"). */
static fa_status load_templates_dir(fa_compiler *c, const char *dir, fa_err *err)
{
    fa_status st = FA_OK;
    char **names = NULL;
    int n = 0, cap = 0;
    if ((st = list_templates(dir, "", 1, &names, &n, &cap, err)) != FA_OK)
        goto cleanup;
    if (n == 0) {
        st = FA_ERR(err, FA_NOT_FOUND, "no templates (*.h, *.cuh, *.hpp) in '%s'", dir);
        goto cleanup;
    }
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    c->owned = calloc((size_t)(2 * n), sizeof *c->owned);
    c->header_names = calloc((size_t)n, sizeof *c->header_names);
    c->header_data = calloc((size_t)n, sizeof *c->header_data);
    c->header_sizes = calloc((size_t)n, sizeof *c->header_sizes);
    if (!c->owned || !c->header_names || !c->header_data || !c->header_sizes) {
        st = FA_ERR(err, FA_NOMEM, "out of memory loading templates");
        goto cleanup;
    }
    c->n_headers = n;
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX];
        int len = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (len < 0 || (size_t)len >= sizeof path) {
            st = FA_ERR(err, FA_INVALID, "template path too long in '%s'", dir);
            goto cleanup;
        }
        c->owned[i] = names[i];
        names[i] = NULL;
        c->header_names[i] = c->owned[i];
        st = read_text_file(path, &c->owned[n + i], &c->header_sizes[i], err);
        if (st != FA_OK)
            goto cleanup;
        c->header_data[i] = c->owned[n + i];
    }
cleanup:
    for (int i = 0; i < n && names; i++)
        free(names[i]);
    free(names);
    return st;
}

static fa_status load_templates_embedded(fa_compiler *c, fa_err *err)
{
    int n = 0;
    while (fa_template_files[n].name)
        n++;
    if (n == 0)
        return FA_ERR(err, FA_NOT_FOUND, "this build embeds no kernel templates");
    c->header_names = calloc((size_t)n, sizeof *c->header_names);
    c->header_data = calloc((size_t)n, sizeof *c->header_data);
    c->header_sizes = calloc((size_t)n, sizeof *c->header_sizes);
    if (!c->header_names || !c->header_data || !c->header_sizes)
        return FA_ERR(err, FA_NOMEM, "out of memory loading templates");
    for (int i = 0; i < n; i++) {
        c->header_names[i] = fa_template_files[i].name;
        c->header_data[i] = fa_template_files[i].data;
        c->header_sizes[i] = fa_template_files[i].size;
    }
    c->n_headers = n;
    return FA_OK;
}

/* The CUDA headers a kernel can include (cuda_fp16.h and what it pulls in live in include/,
 * include/crt and include/nv) as the names, sizes and modification times of their files, for
 * the cache key: results, compile errors included, are cached, so a toolkit repaired or
 * updated in place (same NVRTC major.minor) must not hand back what its old headers gave.
 * Stat only: a few hundred files, once per compiler. */
static void toolkit_digest(const char *include_dir, unsigned char out[FA_SHA256_BYTES])
{
    static const char *const subdirs[] = {"", "/crt", "/nv"};
    fa_sha256 s;
    fa_sha256_init(&s);
    for (size_t k = 0; k < sizeof subdirs / sizeof subdirs[0]; k++) {
        char dir[PATH_MAX + 8];
        snprintf(dir, sizeof dir, "%s%s", include_dir, subdirs[k]);
        struct dirent **names = NULL;
        int n = scandir(dir, &names, NULL, alphasort);
        for (int i = 0; i < n; i++) {
            char full[2 * PATH_MAX];
            struct stat sb;
            snprintf(full, sizeof full, "%s/%s", dir, names[i]->d_name);
            if (stat(full, &sb) == 0 && S_ISREG(sb.st_mode)) {
                const int64_t meta[3] = {(int64_t)sb.st_size, (int64_t)sb.st_mtim.tv_sec,
                                         (int64_t)sb.st_mtim.tv_nsec};
                fa_sha256_str(&s, full);
                fa_sha256_field(&s, meta, sizeof meta);
            }
            free(names[i]);
        }
        free(names);
    }
    fa_sha256_final(&s, out);
}

fa_status fa_compiler_new(const fa_compiler_opts *opts, fa_compiler **out, fa_err *err)
{
    fa_status st = FA_OK;
    fa_compiler *c = calloc(1, sizeof *c);
    if (!c)
        return FA_ERR(err, FA_NOMEM, "out of memory creating the compiler");

    if ((st = fa_nvrtc_load(&c->nv, err)) != FA_OK)
        goto cleanup;
    snprintf(c->nvrtc_version, sizeof c->nvrtc_version, "%d.%d", c->nv->major, c->nv->minor);

    if ((st = find_cuda_include(opts, c->cuda_include, err)) != FA_OK)
        goto cleanup;
    snprintf(c->include_opt, sizeof c->include_opt, "-I%s", c->cuda_include);
    toolkit_digest(c->cuda_include, c->toolkit_digest);

    c->no_cache = opts && opts->no_cache;
    if (!c->no_cache) {
        if ((st = choose_cache_dir(opts, c->cache_dir, err)) != FA_OK)
            goto cleanup;
        /* A day is far longer than any compile, so no live writer loses its temp file. */
        fa_cache_remove_stale_temps(c->cache_dir, 24 * 3600);
    }

    if (opts && (opts->batch < 0 || opts->batch > FA_COMPILE_BATCH_MAX)) {
        st = FA_ERR(err, FA_INVALID, "bad compile batch %d: expected 1 to %d", opts->batch,
                    FA_COMPILE_BATCH_MAX);
        goto cleanup;
    }
    c->batch = opts && opts->batch > 0 ? opts->batch : 0;
    if (!c->batch) {
        const char *b = getenv("FA_COMPILE_BATCH");
        char *end = NULL;
        long v = b && *b ? strtol(b, &end, 10) : 0;
        if (b && *b && (*end || v < 1 || v > FA_COMPILE_BATCH_MAX)) {
            st = FA_ERR(err, FA_INVALID, "bad FA_COMPILE_BATCH '%s': expected 1 to %d", b,
                        FA_COMPILE_BATCH_MAX);
            goto cleanup;
        }
        c->batch = v > 0 ? (int)v : FA_COMPILE_BATCH_DEFAULT;
    }

    const char *tdir =
        opts && opts->templates_dir ? opts->templates_dir : getenv("FA_TUNE_TEMPLATES");
    if (tdir && *tdir)
        st = load_templates_dir(c, tdir, err);
    else
        st = load_templates_embedded(c, err);
    if (st != FA_OK)
        goto cleanup;

    fa_sha256 s;
    fa_sha256_init(&s);
    for (int i = 0; i < c->n_headers; i++) {
        fa_sha256_str(&s, c->header_names[i]);
        fa_sha256_field(&s, c->header_data[i], c->header_sizes[i]);
    }
    fa_sha256_final(&s, c->templates_digest);
    fa_sha256_hex(c->templates_digest, FA_SHA256_BYTES, c->source_hash);

    *out = c;
    c = NULL;
cleanup:
    fa_compiler_free(c);
    return st;
}

void fa_compiler_free(fa_compiler *c)
{
    if (!c)
        return;
    if (c->owned)
        for (int i = 0; i < 2 * c->n_headers; i++)
            free(c->owned[i]);
    free(c->owned);
    free(c->header_names);
    free(c->header_data);
    free(c->header_sizes);
    fa_nvrtc_free(c->nv);
    free(c);
}

const char *fa_compiler_nvrtc_version(const fa_compiler *c)
{
    return c->nvrtc_version;
}

const char *fa_compiler_cuda_include(const fa_compiler *c)
{
    return c->cuda_include;
}

const char *fa_compiler_cache_dir(const fa_compiler *c)
{
    return c->cache_dir;
}

int fa_compiler_batch(const fa_compiler *c)
{
    return c->batch;
}

const char *fa_compiler_source_hash(const fa_compiler *c)
{
    return c->source_hash;
}

int fa_compiler_has_template(const fa_compiler *c, const char *name)
{
    for (int i = 0; name && i < c->n_headers; i++)
        if (strcmp(c->header_names[i], name) == 0)
            return 1;
    return 0;
}

/* ---- ptxas -v report ------------------------------------------------------------------ */

/* The number (or "a+b" sum, as older ptxas prints smem) that ends just before pos. */
static int number_before(const char *line, const char *pos)
{
    const char *p = pos;
    while (p > line && p[-1] == ' ')
        p--;
    const char *end = p;
    while (p > line && ((p[-1] >= '0' && p[-1] <= '9') || p[-1] == '+'))
        p--;
    if (p == end)
        return -1;
    long total = 0, cur = 0;
    for (; p < end; p++) {
        if (*p == '+') {
            total += cur;
            cur = 0;
        } else if (cur < 100000000) {
            cur = cur * 10 + (*p - '0');
        }
    }
    total += cur;
    return total > 2000000000L ? -1 : (int)total;
}

static void keep_max(int *field, int x)
{
    if (x >= 0 && x > *field)
        *field = x;
}

/* Finds key in [line, end) and returns the number just before it, or -1. */
static int field_in(const char *line, const char *end, const char *key)
{
    size_t k = strlen(key);
    for (const char *p = line; p + k <= end; p++)
        if (memcmp(p, key, k) == 0)
            return number_before(line, p);
    return -1;
}

void fa_compile_parse_resources(const char *log, fa_build_info *info)
{
    info->registers = info->smem_static = info->stack_bytes = -1;
    info->spill_stores = info->spill_loads = -1;
    for (const char *line = log; line && *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        /* "ptxas info    : Used 24 registers, used 0 barriers, 256 bytes smem, ..." */
        const char *used = NULL;
        for (const char *p = line; p + 5 <= end; p++)
            if (memcmp(p, "Used ", 5) == 0) {
                used = p + 5;
                break;
            }
        if (used && field_in(line, end, " registers") >= 0) {
            int regs = 0, any = 0;
            for (const char *p = used; p < end && *p >= '0' && *p <= '9'; p++, any = 1)
                regs = regs * 10 + (*p - '0');
            if (any)
                keep_max(&info->registers, regs);
            int smem = field_in(line, end, " bytes smem");
            keep_max(&info->smem_static, smem >= 0 ? smem : 0);
        }
        /* "ptxas         .     288 bytes stack frame, 32 bytes spill stores, 32 bytes ..." */
        keep_max(&info->stack_bytes, field_in(line, end, " bytes stack frame"));
        keep_max(&info->spill_stores, field_in(line, end, " bytes spill stores"));
        keep_max(&info->spill_loads, field_in(line, end, " bytes spill loads"));
        line = *end ? end + 1 : end;
    }
}

/* ---- compiling ------------------------------------------------------------------------ */

static void build_info_init(fa_build_info *b)
{
    b->registers = b->smem_static = b->stack_bytes = b->spill_stores = b->spill_loads = -1;
    b->compile_ms = 0;
    b->cache_hit = 0;
}

/* The kernel's name from a name expression ("fa_fwd_sm80<...>" -> "fa_fwd_sm80"), as a
 * readable cache-file label. */
static void label_from_expr(const char *expr, char *buf, size_t n)
{
    size_t j = 0;
    for (const char *p = expr; *p && *p != '<' && j + 1 < n && j < 64; p++) {
        char ch = *p;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '_')
            buf[j++] = ch;
    }
    if (j == 0)
        j = (size_t)snprintf(buf, n, "kernel");
    buf[j] = '\0';
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The NVRTC run itself. On FA_OK, *res holds either a cubin or (compile_error = 1) the log of
 * the rejection; the caller owns res->cubin and res->log. */
static fa_status run_nvrtc(const fa_compiler *c, const char *source, const char *name_expr,
                           const char **opts, int nopts, fa_cache_entry *res, fa_err *err)
{
    fa_status st = FA_OK;
    nvrtcProgram prog = NULL;
    char *log = NULL;
    void *cubin = NULL;
    double t0 = now_ms();

    FA_NVRTC(nvrtcCreateProgram(&prog, source, "fa_tune_tu.cu", c->n_headers, c->header_data,
                                c->header_names));
    /* name_expr may hold several expressions, one a line (a family's kernels): each is
     * instantiated in the one cubin and its lowered name kept on the same line. */
    char one[1024];
    for (const char *e = name_expr; *e;) {
        size_t len = strcspn(e, "\n");
        if (len == 0 || len >= sizeof one) {
            st = FA_ERR(err, FA_INVALID, "bad name expression '%.*s'", (int)len, e);
            goto cleanup;
        }
        memcpy(one, e, len);
        one[len] = 0;
        FA_NVRTC(nvrtcAddNameExpression(prog, one));
        e += len + (e[len] == '\n');
    }
    nvrtcResult rc = c->nv->nvrtcCompileProgram(prog, nopts, opts);
    size_t log_size = 0;
    FA_NVRTC(nvrtcGetProgramLogSize(prog, &log_size));
    log = malloc(log_size + 1);
    if (!log) {
        st = FA_ERR(err, FA_NOMEM, "out of memory for a %zu-byte nvrtc log", log_size);
        goto cleanup;
    }
    log[0] = '\0';
    if (log_size)
        FA_NVRTC(nvrtcGetProgramLog(prog, log));
    log[log_size] = '\0';

    memset(res, 0, sizeof *res);
    if (rc == NVRTC_ERROR_COMPILATION) {
        res->compile_error = 1;
    } else if (rc == NVRTC_ERROR_INVALID_OPTION) {
        /* Options are the engine's or the caller's doing, never the variant's. */
        st = FA_ERR(err, FA_INVALID, "nvrtc rejected the options: %s", log);
        goto cleanup;
    } else if (rc != NVRTC_SUCCESS) {
        st = FA_ERR(err, FA_ERROR, "nvrtcCompileProgram failed: %s: %s",
                    c->nv->nvrtcGetErrorString(rc), log);
        goto cleanup;
    } else {
        size_t used = 0;
        for (const char *e = name_expr; *e;) {
            size_t len = strcspn(e, "\n");
            const char *lowered = NULL;
            memcpy(one, e, len);
            one[len] = 0;
            FA_NVRTC(nvrtcGetLoweredName(prog, one, &lowered));
            size_t ln = strlen(lowered);
            if (used + ln + 1 >= sizeof res->lowered_name) {
                st = FA_ERR(err, FA_ERROR, "lowered names of '%s' are longer than %zu bytes",
                            name_expr, sizeof res->lowered_name - 1);
                goto cleanup;
            }
            if (used)
                res->lowered_name[used++] = '\n';
            memcpy(res->lowered_name + used, lowered, ln + 1);
            used += ln;
            e += len + (e[len] == '\n');
        }
        size_t size = 0;
        FA_NVRTC(nvrtcGetCUBINSize(prog, &size));
        if (size == 0) {
            st = FA_ERR(err, FA_INVALID, "nvrtc made no cubin for '%s': not a real sm_XX arch?",
                        name_expr);
            goto cleanup;
        }
        cubin = malloc(size);
        if (!cubin) {
            st = FA_ERR(err, FA_NOMEM, "out of memory for a %zu-byte cubin", size);
            goto cleanup;
        }
        FA_NVRTC(nvrtcGetCUBIN(prog, cubin));
        res->cubin = cubin;
        res->cubin_size = size;
        cubin = NULL;
    }
    res->log = log;
    log = NULL;
    res->nvrtc_ms = now_ms() - t0;
cleanup:
    if (prog)
        c->nv->nvrtcDestroyProgram(&prog);
    free(log);
    free(cubin);
    return st;
}

/* The option list every compile passes (see fa_compile.h), then extra_opts; *out is the
 * caller's to free. arch_opt is the caller's buffer of 64 bytes. */
static fa_status make_opts(const fa_compiler *c, const char *nvrtc_arch,
                           const char *const *extra_opts, int n_extra, char *arch_opt,
                           const char ***out, int *nopts, fa_err *err)
{
    if (!nvrtc_arch || strncmp(nvrtc_arch, "sm_", 3) != 0 || strlen(nvrtc_arch) > 16)
        return FA_ERR(err, FA_INVALID, "bad nvrtc arch '%s': expected a real arch like sm_80",
                      nvrtc_arch ? nvrtc_arch : "");
    if (n_extra < 0 || (n_extra > 0 && !extra_opts))
        return FA_ERR(err, FA_INVALID, "bad extra option list (%d options)", n_extra);
    snprintf(arch_opt, 64, "--gpu-architecture=%s", nvrtc_arch);
    const char **opts = malloc((size_t)(5 + n_extra) * sizeof *opts);
    if (!opts)
        return FA_ERR(err, FA_NOMEM, "out of memory for compile options");
    int n = 0;
    opts[n++] = "--std=c++17";
    opts[n++] = arch_opt;
    opts[n++] = c->include_opt;
    opts[n++] = "-Xptxas=-v"; /* the resource report, read by fa_compile_parse_resources */
    /* Includes resolve only among the loaded templates and the toolkit: not from the working
     * directory, which NVRTC searches by default and which is in no cache key. */
    opts[n++] = "--no-source-include";
    for (int i = 0; i < n_extra; i++)
        opts[n++] = extra_opts[i];
    *out = opts;
    *nopts = n;
    return FA_OK;
}

static void make_key(const fa_compiler *c, const char *tag, const char *source,
                     const char *name_expr, const char *nvrtc_arch, const char **opts, int nopts,
                     unsigned char key[FA_SHA256_BYTES])
{
    fa_sha256 s;
    fa_sha256_init(&s);
    fa_sha256_str(&s, tag);
    fa_sha256_str(&s, c->nvrtc_version);
    fa_sha256_field(&s, c->templates_digest, sizeof c->templates_digest);
    fa_sha256_field(&s, c->toolkit_digest, sizeof c->toolkit_digest);
    fa_sha256_str(&s, source);
    fa_sha256_str(&s, name_expr);
    fa_sha256_str(&s, nvrtc_arch);
    for (int i = 0; i < nopts; i++)
        fa_sha256_str(&s, opts[i]);
    fa_sha256_final(&s, key);
}

/* Moves a cache entry into an output (resources parsed from its log); ent is emptied. */
static void output_from_entry(fa_cache_entry *ent, int hit, double t0, fa_compile_output *out)
{
    fa_compile_output res = {0};
    build_info_init(&res.build);
    res.build.cache_hit = hit;
    res.status = ent->compile_error ? FA_COMPILE_ERROR : FA_OK;
    fa_compile_parse_resources(ent->log, &res.build);
    memcpy(res.lowered_name, ent->lowered_name, sizeof res.lowered_name);
    res.cubin = ent->cubin;
    res.cubin_size = ent->cubin_size;
    res.cubin_hash = ent->cubin ? fa_content_hash(ent->cubin, ent->cubin_size) : 0;
    res.log = ent->log;
    res.nvrtc_ms = ent->nvrtc_ms;
    ent->cubin = NULL;
    ent->log = NULL;
    res.build.compile_ms = now_ms() - t0;
    *out = res;
}

static fa_status compile_impl(fa_compiler *c, const char *source, const char *name_expr,
                              const char *nvrtc_arch, const char *const *extra_opts, int n_extra,
                              const char *label, fa_compile_output *out, fa_err *err)
{
    fa_status st = FA_OK;
    double t0 = now_ms();
    const char **opts = NULL;
    int nopts = 0;
    fa_cache_entry ent = {0};
    char arch_opt[64], path[PATH_MAX + 256];
    unsigned char key[FA_SHA256_BYTES];

    if (!source || !name_expr || !*name_expr)
        return FA_ERR(err, FA_INVALID, "compile needs a source and a name expression");
    if ((st = make_opts(c, nvrtc_arch, extra_opts, n_extra, arch_opt, &opts, &nopts, err)) != FA_OK)
        return st;
    make_key(c, FA_CACHE_KEY_TAG, source, name_expr, nvrtc_arch, opts, nopts, key);

    fa_cache_lookup found = FA_CACHE_MISS;
    if (!c->no_cache) {
        if ((st = fa_cache_path(c->cache_dir, label, key, path, sizeof path, err)) != FA_OK)
            goto cleanup;
        if ((st = fa_cache_read(path, key, &ent, &found, err)) != FA_OK)
            goto cleanup;
    }
    if (found != FA_CACHE_HIT) {
        if ((st = run_nvrtc(c, source, name_expr, opts, nopts, &ent, err)) != FA_OK)
            goto cleanup;
        if (!c->no_cache && (st = fa_cache_write(path, key, &ent, err)) != FA_OK)
            goto cleanup;
    }
    output_from_entry(&ent, found == FA_CACHE_HIT, t0, out);
    out->cache_rebuilt = found == FA_CACHE_CORRUPT;
cleanup:
    free(opts);
    free(ent.cubin);
    free(ent.log);
    return st;
}

fa_status fa_compile_source(fa_compiler *c, const char *source, const char *name_expr,
                            const char *nvrtc_arch, const char *const *extra_opts, int n_extra,
                            fa_compile_output *out, fa_err *err)
{
    char label[80];
    label_from_expr(name_expr ? name_expr : "", label, sizeof label);
    return compile_impl(c, source, name_expr, nvrtc_arch, extra_opts, n_extra, label, out, err);
}

/* What compiling one variant needs, worked out once (legality first). */
typedef struct variant_job {
    char name[FA_VARIANT_NAME_MAX];
    /* Its cache entries' label: the kernels' name (fa_variant_kernel_label), so variants that
       share kernels (decode's splits) share entries; the key alone decides a hit. */
    char label[FA_VARIANT_NAME_MAX];
    char expr[FA_MAX_KERNELS * 256]; /* the family's kernels, one name expression a line */
    char source[256];
    const char *target; /* NVRTC arch */
    int legal;          /* 0: *out already holds the FA_UNSUPPORTED result */
} variant_job;

static fa_status prepare_variant(fa_compiler *c, const fa_variant *v, const fa_arch *arch,
                                 variant_job *j, fa_compile_output *out, fa_err *err)
{
    if (!v || !arch || !v->family)
        return FA_ERR(err, FA_INVALID, "compile needs a variant and an arch");
    j->legal = 0;
    j->target = fa_family_nvrtc_arch(v->family, arch);
    fa_variant_name(v, j->name, sizeof j->name);
    fa_variant_kernel_label(v, j->label, sizeof j->label);

    fa_err why;
    fa_err_clear(&why);
    if (!j->target)
        FA_ERR(&why, FA_UNSUPPORTED, "%s: kernel family %s does not run on %s", j->name,
               v->family->name, arch->name);
    if (!j->target || fa_variant_check(v, arch, &why) != FA_OK) {
        /* Illegal on this arch: a result with the model's reason, NVRTC never runs. */
        fa_compile_output res = {0};
        build_info_init(&res.build);
        res.status = FA_UNSUPPORTED;
        /* The model prefixes its reason with the variant's name, which callers already have. */
        size_t n = strlen(j->name);
        const char *reason = why.msg;
        if (strncmp(reason, j->name, n) == 0 && reason[n] == ':' && reason[n + 1] == ' ')
            reason += n + 2;
        res.log = dup_or_null(reason);
        if (!res.log)
            return FA_ERR(err, FA_NOMEM, "out of memory");
        *out = res;
        return FA_OK;
    }
    const char *tpl = fa_variant_template(v);
    if (!fa_compiler_has_template(c, tpl))
        return FA_ERR(err, FA_NOT_FOUND,
                      "template '%s' for %s is not among this build's templates "
                      "(set FA_TUNE_TEMPLATES to a directory that has it)",
                      tpl, j->name);
    /* fa_compile_output.lowered_name holds the kernels' symbols the same way. */
    size_t used = 0;
    for (int k = 0; k < v->family->nkernels && used + 1 < sizeof j->expr; k++) {
        if (k)
            j->expr[used++] = '\n';
        fa_variant_kernel_expr(v, k, j->expr + used, sizeof j->expr - used);
        used += strlen(j->expr + used);
    }
    snprintf(j->source, sizeof j->source, "#include \"%s\"\n", tpl);
    j->legal = 1;
    return FA_OK;
}

fa_status fa_compile_variant(fa_compiler *c, const fa_variant *v, const fa_arch *arch,
                             fa_compile_output *out, fa_err *err)
{
    variant_job j;
    fa_status st = prepare_variant(c, v, arch, &j, out, err);
    if (st != FA_OK || !j.legal)
        return st;
    return compile_impl(c, j.source, j.expr, j.target, NULL, 0, j.label, out, err);
}

/* ---- batches: one NVRTC program for several variants ----------------------------------- */

/* Is the entry function named on this ptxas line ("Compiling entry function '_Z...' for")
 * one of the lowered names (one a line)? -1: the line names no entry function. */
static int entry_is_ours(const char *line, const char *end, const char *lowered)
{
    static const char mark[] = "Compiling entry function '";
    size_t m = sizeof mark - 1;
    const char *p = line;
    for (; p + m <= end; p++)
        if (memcmp(p, mark, m) == 0)
            break;
    if (p + m > end)
        return -1;
    p += m;
    const char *q = memchr(p, '\'', (size_t)(end - p));
    if (!q)
        return -1;
    size_t len = (size_t)(q - p);
    for (const char *e = lowered; *e;) {
        size_t n = strcspn(e, "\n");
        if (n == len && memcmp(e, p, len) == 0)
            return 1;
        e += n + (e[n] == '\n');
    }
    return 0;
}

char *fa_compile_log_for_kernels(const char *log, const char *lowered)
{
    /* The program's lines before the first entry function (front-end messages, the module's
     * gmem) are every variant's; from each "Compiling entry function" line on, the lines
     * belong to that function until the next one. */
    size_t n = log ? strlen(log) : 0;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t used = 0;
    int keep = 1;
    for (const char *line = log; line && *line;) {
        const char *end = strchr(line, '\n');
        end = end ? end + 1 : line + strlen(line);
        int ours = entry_is_ours(line, end, lowered);
        if (ours >= 0)
            keep = ours;
        if (keep) {
            memcpy(out + used, line, (size_t)(end - line));
            used += (size_t)(end - line);
        }
        line = end;
    }
    out[used] = '\0';
    return out;
}

/* Compiles the variants js[idx[0..m)] (cache misses sharing one source and target) in one
 * program and writes each one's result and batch cache entry. A compile error anywhere in
 * the program sends every variant through its own program instead, so the error is the bad
 * variant's alone. */
static fa_status compile_group(fa_compiler *c, variant_job *js, const int *idx, int m,
                               fa_compile_output *outs, fa_err *err)
{
    fa_status st = FA_OK;
    double t0 = now_ms();
    const char **opts = NULL;
    int nopts = 0;
    char arch_opt[64], path[PATH_MAX + 256];
    char *exprs = NULL;
    fa_cache_entry ent = {0}, one = {0};
    const variant_job *j0 = &js[idx[0]];

    if (m == 1)
        return compile_impl(c, j0->source, j0->expr, j0->target, NULL, 0, j0->label, &outs[idx[0]],
                            err);
    if ((st = make_opts(c, j0->target, NULL, 0, arch_opt, &opts, &nopts, err)) != FA_OK)
        return st;
    size_t cap = 1;
    for (int i = 0; i < m; i++)
        cap += strlen(js[idx[i]].expr) + 1;
    if (!(exprs = malloc(cap))) {
        st = FA_ERR(err, FA_NOMEM, "out of memory for a batch of %d variants", m);
        goto cleanup;
    }
    exprs[0] = '\0';
    for (int i = 0; i < m; i++) {
        if (i)
            strcat(exprs, "\n");
        strcat(exprs, js[idx[i]].expr);
    }
    if ((st = run_nvrtc(c, j0->source, exprs, opts, nopts, &ent, err)) != FA_OK)
        goto cleanup;
    if (ent.compile_error) {
        for (int i = 0; i < m && st == FA_OK; i++) {
            variant_job *j = &js[idx[i]];
            st = compile_impl(c, j->source, j->expr, j->target, NULL, 0, j->label, &outs[idx[i]],
                              err);
        }
        goto cleanup;
    }
    /* ent.lowered_name holds every kernel's symbol in expression order: each variant takes
     * as many lines as it has expressions. */
    const char *ln = ent.lowered_name;
    for (int i = 0; i < m; i++) {
        variant_job *j = &js[idx[i]];
        size_t used = 0;
        memset(&one, 0, sizeof one);
        for (const char *e = j->expr; *e;) {
            size_t n = strcspn(e, "\n"), k = strcspn(ln, "\n");
            if (used + k + 2 >= sizeof one.lowered_name || !*ln) {
                st = FA_ERR(err, FA_ERROR, "lowered names of the batch do not match %s", j->name);
                goto cleanup;
            }
            if (used)
                one.lowered_name[used++] = '\n';
            memcpy(one.lowered_name + used, ln, k);
            used += k;
            one.lowered_name[used] = '\0';
            ln += k + (ln[k] == '\n');
            e += n + (e[n] == '\n');
        }
        one.cubin = malloc(ent.cubin_size);
        one.log = fa_compile_log_for_kernels(ent.log, one.lowered_name);
        if (!one.cubin || !one.log) {
            st = FA_ERR(err, FA_NOMEM, "out of memory splitting a batch");
            goto cleanup;
        }
        memcpy(one.cubin, ent.cubin, ent.cubin_size);
        one.cubin_size = ent.cubin_size;
        one.nvrtc_ms = ent.nvrtc_ms / m;
        if (!c->no_cache) {
            unsigned char key[FA_SHA256_BYTES];
            make_key(c, FA_CACHE_KEY_TAG_BATCH, j->source, j->expr, j->target, opts, nopts, key);
            if ((st = fa_cache_path(c->cache_dir, j->label, key, path, sizeof path, err)) !=
                    FA_OK ||
                (st = fa_cache_write(path, key, &one, err)) != FA_OK)
                goto cleanup;
        }
        output_from_entry(&one, 0, t0, &outs[idx[i]]);
        outs[idx[i]].build.compile_ms = (now_ms() - t0) / m;
    }
cleanup:
    free(opts);
    free(exprs);
    free(ent.cubin);
    free(ent.log);
    free(one.cubin);
    free(one.log);
    return st;
}

/* Looks variant j up under its one-variant key, then under its batch key: *hit is 1 when
 * found (out filled), 0 when not, -1 when an entry is corrupt. */
static fa_status lookup_variant(fa_compiler *c, const variant_job *j, fa_compile_output *out,
                                int *hit, fa_err *err)
{
    fa_status st = FA_OK;
    double t0 = now_ms();
    const char **opts = NULL;
    int nopts = 0;
    char arch_opt[64], path[PATH_MAX + 256];
    fa_cache_entry ent = {0};
    static const char *const tags[2] = {FA_CACHE_KEY_TAG, FA_CACHE_KEY_TAG_BATCH};
    *hit = 0;
    if (c->no_cache)
        return FA_OK;
    if ((st = make_opts(c, j->target, NULL, 0, arch_opt, &opts, &nopts, err)) != FA_OK)
        return st;
    /* With batches off (batch 1) the one-variant entries only, as before batches existed. */
    for (int t = 0; t < (c->batch > 1 ? 2 : 1) && !*hit; t++) {
        unsigned char key[FA_SHA256_BYTES];
        fa_cache_lookup found = FA_CACHE_MISS;
        make_key(c, tags[t], j->source, j->expr, j->target, opts, nopts, key);
        if ((st = fa_cache_path(c->cache_dir, j->label, key, path, sizeof path, err)) != FA_OK ||
            (st = fa_cache_read(path, key, &ent, &found, err)) != FA_OK)
            goto cleanup;
        if (found == FA_CACHE_HIT) {
            output_from_entry(&ent, 1, t0, out);
            *hit = 1;
        } else if (found == FA_CACHE_CORRUPT) {
            *hit = -1; /* rebuilt on its own, as the one-variant path does */
            break;
        }
    }
cleanup:
    free(opts);
    return st;
}

fa_status fa_compile_variants(fa_compiler *c, const fa_variant *vs, int n, const fa_arch *arch,
                              fa_compile_output *outs, fa_err *err)
{
    fa_status st = FA_OK;
    variant_job *js = NULL;
    int *miss = NULL, *group = NULL;
    int nmiss = 0;
    if (n <= 0 || !vs || !outs)
        return FA_ERR(err, FA_INVALID, "a compile batch needs variants and outputs");
    memset(outs, 0, (size_t)n * sizeof *outs);
    js = calloc((size_t)n, sizeof *js);
    miss = calloc((size_t)n, sizeof *miss);
    group = calloc((size_t)n, sizeof *group);
    if (!js || !miss || !group) {
        st = FA_ERR(err, FA_NOMEM, "out of memory for a batch of %d variants", n);
        goto cleanup;
    }
    for (int i = 0; i < n; i++) {
        int hit = 0;
        if ((st = prepare_variant(c, &vs[i], arch, &js[i], &outs[i], err)) != FA_OK)
            goto cleanup;
        if (!js[i].legal)
            continue;
        if ((st = lookup_variant(c, &js[i], &outs[i], &hit, err)) != FA_OK)
            goto cleanup;
        if (hit == 0)
            miss[nmiss++] = i;
        else if (hit < 0 && (st = compile_impl(c, js[i].source, js[i].expr, js[i].target, NULL, 0,
                                               js[i].name, &outs[i], err)) != FA_OK)
            goto cleanup;
    }
    /* The misses, in groups that share a template and a target, at most c->batch each, and
     * no more than the batch entry's lowered names hold: a symbol is at most about twice its
     * name expression, so a family of several kernels (split + combine) batches fewer. */
    while (nmiss > 0) {
        const variant_job *j0 = &js[miss[0]];
        int m = 0, rest = 0;
        size_t names = 0;
        for (int k = 0; k < nmiss; k++) {
            const variant_job *j = &js[miss[k]];
            size_t need = 2 * strlen(j->expr) + 2;
            if (m < c->batch &&
                (m == 0 || names + need < sizeof((fa_cache_entry *)0)->lowered_name) &&
                strcmp(j->target, j0->target) == 0 && strcmp(j->source, j0->source) == 0) {
                group[m++] = miss[k];
                names += need;
            } else {
                miss[rest++] = miss[k];
            }
        }
        nmiss = rest;
        if ((st = compile_group(c, js, group, m, outs, err)) != FA_OK)
            goto cleanup;
    }
cleanup:
    if (st != FA_OK)
        for (int i = 0; i < n; i++)
            fa_compile_output_release(&outs[i]);
    free(js);
    free(miss);
    free(group);
    return st;
}

static fa_status service_source(void *ctx, const char *source, const char *name_expr,
                                const char *nvrtc_arch, fa_compile_output *out, fa_err *err)
{
    return fa_compile_source(ctx, source, name_expr, nvrtc_arch, NULL, 0, out, err);
}

static fa_status service_variant(void *ctx, const fa_variant *v, const fa_arch *arch,
                                 fa_compile_output *out, fa_err *err)
{
    return fa_compile_variant(ctx, v, arch, out, err);
}

void fa_compiler_service(fa_compiler *c, fa_compile_service *out)
{
    memset(out, 0, sizeof *out);
    out->ctx = c;
    out->compile_source = service_source;
    out->compile_variant = service_variant;
    out->nvrtc_version = fa_compiler_nvrtc_version(c);
    out->source_hash = fa_compiler_source_hash(c);
}
