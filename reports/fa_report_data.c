/*
 * This file implements the data extraction of `fa-tune report`: it reads the measurements,
 * peers, ceilings, runs and winners of one arch through fa_db.h and reduces them to the
 * figures the plots draw (fa_report_data), by the rules stated in fa_report_data.h. It also
 * decides which plots exist: a plot with nothing to draw is not drawn empty, the index page
 * says why it is missing instead.
 */
#include "fa_report_data.h"
#include "fa_family.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The tile heatmap's axes: each variant's family names its two tile axes (sm80: BLOCK_M
 * rows, BLOCK_N columns); 0 for a family without them or one this binary does not know. */
static int tile_m(const fa_variant *v)
{
    return v->family && v->family->tile_axes[0] >= 0 ? v->params[v->family->tile_axes[0]] : 0;
}

static int tile_n(const fa_variant *v)
{
    return v->family && v->family->tile_axes[1] >= 0 ? v->params[v->family->tile_axes[1]] : 0;
}

/* ---- growable arrays --------------------------------------------------------------------- */

/* Make room for one more element in the array *arrp points to (count n, capacity *cap). The
 * pointer is read and written as bytes, so one function serves every element type. */
static int grow(void *arrp, int n, int *cap, size_t size)
{
    if (n < *cap)
        return 0;
    void *items;
    memcpy(&items, arrp, sizeof items);
    int c = *cap ? *cap * 2 : 64;
    void *p = realloc(items, (size_t)c * size);
    if (!p)
        return -1;
    memcpy(arrp, &p, sizeof p);
    *cap = c;
    return 0;
}

#define GROW(arr, n, cap) grow(&(arr), (n), &(cap), sizeof *(arr))

/* Bounds no real measurement comes near: a rate (TFLOP/s, or TB/s for decode) and a time in
 * ms. A number beyond them, negative or not finite was not measured by fa-tune; it is read as
 * missing, so one such row cannot push an axis range to 1e308 or an "inf" into a plot script. */
#define MAX_RATE 1e5
#define MAX_MS 1e9

static double measured(double x, double max)
{
    return isfinite(x) && x >= 0 && x <= max ? x : NAN;
}

/* ---- what the callbacks collect ---------------------------------------------------------- */

typedef struct lrow {
    int problem; /* index into lproblems */
    fa_variant v;
    char variant[FA_VARIANT_NAME_MAX];
    char status[FA_DB_STATUS_MAX];
    char run_uuid[FA_DB_UUID_MAX];
    int64_t id;
    double tflops, median_ms, eager_ms;
    int64_t peak, eager_peak;
    double compile_ms;
    int cache_hit;
    int registers, smem_static, spill_stores, spill_loads; /* -1 unknown */
    double t; /* measured_at, seconds; NAN if unreadable */
    int compile_only;
    int latest; /* latest timed row of its (problem, variant) */
} lrow;

typedef struct lproblem {
    char name[FA_PROBLEM_NAME_MAX];
    fa_problem p;
    int gqa;
    int timed;                            /* has a row from a real device */
    int best;                             /* row index of the best latest-ok measurement, -1 */
    int fam_best[FA_REPORT_MAX_FAMILIES]; /* the same per family (d->families), -1 */
    int eager;                            /* row index the eager figures come from, -1 */
    int ok_variants;
} lproblem;

typedef struct lpeer {
    int peer; /* index into data peers */
    char problem[FA_PROBLEM_NAME_MAX];
    fa_problem p;
    int gqa;
    double tflops;
    int64_t peak;
} lpeer;

/* A decode measurement (the decode panels); rows of one (problem, variant) stay together. */
typedef struct ldrow {
    char problem[FA_PROBLEM_NAME_MAX];
    char variant[FA_VARIANT_NAME_MAX];
    fa_problem p;
    int ok;      /* status "ok" with a positive rate */
    double tbps; /* the tflops column: TB/s of K/V for decode */
} ldrow;

/* One decode row's build figures (the forward rows keep theirs in lrow). */
typedef struct lbuild {
    char run_uuid[FA_DB_UUID_MAX];
    char variant[FA_VARIANT_NAME_MAX];
    double compile_ms;
} lbuild;

typedef struct lrun {
    char uuid[FA_DB_UUID_MAX];
    char strategy[32];
    double started; /* NAN if unreadable */
} lrun;

typedef struct loader {
    fa_report_data *d;
    lrow *rows;
    int n_rows, cap_rows;
    lproblem *problems;
    int n_problems, cap_problems;
    lpeer *peers;
    int n_peers, cap_peers;
    lrun *runs;
    int n_runs, cap_runs;
    int cap_winners;
    unsigned decode_families; /* bit fa_family_index(): families of decode rows (no heatmap) */
    ldrow *drows;             /* timed decode rows, database order */
    int n_drows, cap_drows;
    lbuild *dbuilds; /* decode rows' compiles (compile-only rows too): the compile histogram */
    int n_dbuilds, cap_dbuilds;
    int nomem;
} loader;

const char fa_report_flop_convention[] =
    "TFLOP/s = 4·B·Hq·Nq·Nk·D / time, halved for causal with Nq = Nk (FlashAttention's "
    "benchmark convention; varlen sums over sequences), forward pass, median time";

/* ---- helpers ----------------------------------------------------------------------------- */

/* Copies src into dst[n], cut to fit: labels are cut on purpose. (Not snprintf, whose
 * truncation -O3's -Wformat-truncation reports as a warning.) */
static void copy(char *dst, size_t n, const char *src)
{
    if (!n)
        return;
    size_t len = src ? strnlen(src, n - 1) : 0;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

/* snprintf that truncates on purpose: labels and footers are cut, never overrun. */
static void textf(char *dst, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void textf(char *dst, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, n, fmt, ap);
    va_end(ap);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's days_from_civil). */
static long days_from_civil(long y, long m, long d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int fa_report_parse_time(const char *s, double *out)
{
    int y, mo, d, h, mi, n = 0;
    double sec;
    if (!s || sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
        return -1;
    if (s[n] && strcmp(s + n, "Z") != 0)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec < 0 || sec >= 61)
        return -1;
    *out = (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600.0 + mi * 60.0 + sec;
    return 0;
}

void fa_report_strategy(const char *command_line, char *buf, size_t n)
{
    const char *s = command_line ? command_line : "";
    const char *found = NULL;
    for (const char *p = strstr(s, "--strategy"); p; p = strstr(p + 1, "--strategy")) {
        /* a whole word: at the start or after a blank, followed by '=' or a blank */
        if (p != s && p[-1] != ' ' && p[-1] != '\t')
            continue;
        const char *q = p + strlen("--strategy");
        if (*q != '=' && *q != ' ' && *q != '\t')
            continue;
        q += strspn(q + (*q == '='), " \t") + (*q == '=');
        if (*q)
            found = q; /* the last one wins, as in the CLI */
    }
    if (!found) {
        copy(buf, n, "exhaustive");
        return;
    }
    size_t len = strcspn(found, " \t\"'");
    if (len >= n)
        len = n - 1;
    memcpy(buf, found, len);
    buf[len] = '\0';
}

double fa_report_nice_width(double max, int bins)
{
    if (!(max > 0) || bins < 1)
        return 1.0;
    double raw = max / bins;
    double p = pow(10.0, floor(log10(raw)));
    static const double steps[] = {1.0, 2.0, 2.5, 5.0, 10.0};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (raw <= steps[i] * p * (1 + 1e-9))
            return steps[i] * p;
    return 10.0 * p;
}

/* The peers bench/peers.py measures: a label for the legends and a colour of their own, the
 * same in every plot of every report. */
static const struct {
    const char *name, *label, *color;
} known_peers[] = {
    {"torch_sdpa_flash", "PyTorch SDPA flash (FA2)", "#ff7f0e"},
    {"torch_sdpa_cudnn", "PyTorch SDPA cuDNN", "#1f77b4"},
    {"torch_sdpa_efficient", "PyTorch SDPA mem-efficient", "#2ca02c"},
    {"torch_eager", "PyTorch eager", "#9467bd"},
    {"flash_attn", "flash-attn", "#8c564b"},
    {"cudnn", "cuDNN", "#17becf"},
    {"fa_tune", "fa-tune header in PyTorch's process", "#e377c2"}, /* peers.py --fa-tune-lib */
};

static int known_peer(const char *peer)
{
    for (int i = 0; i < (int)(sizeof known_peers / sizeof known_peers[0]); i++)
        if (!strcmp(peer, known_peers[i].name))
            return i;
    return -1;
}

static int popcount(unsigned x)
{
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

int fa_report_peer_column(const fa_report_data *d, int k)
{
    return 4 + popcount(d->forward_peers & ((1u << k) - 1u));
}

int fa_report_family_column(const fa_report_data *d, int j)
{
    return 4 + popcount(d->forward_peers) + j;
}

const char *fa_report_peer_label(const char *peer)
{
    int i = known_peer(peer);
    return i >= 0 ? known_peers[i].label : peer;
}

const char *fa_report_peer_fixed_color(const char *peer)
{
    int i = known_peer(peer);
    return i >= 0 ? known_peers[i].color : NULL;
}

const char *fa_report_peer_text(const fa_report_data *d, int k, char *buf, size_t n)
{
    const char *v = d->peer_versions[k];
    if (d->peer_version[0] || !v[0])
        copy(buf, n, fa_report_peer_label(d->peers[k]));
    else
        textf(buf, n, "%s %s", fa_report_peer_label(d->peers[k]), v);
    return buf;
}

const char *fa_report_num(double x, char *buf)
{
    if (!isfinite(x)) /* gnuplot reads "inf" as a variable name; NaN is its missing value */
        return strcpy(buf, "NaN");
    snprintf(buf, 32, "%.6g", x);
    return buf;
}

static double mib(int64_t bytes)
{
    return bytes >= 0 ? (double)bytes / (1024.0 * 1024.0) : NAN;
}

static double fmax_nan(double a, double b)
{
    if (isnan(a))
        return b;
    if (isnan(b))
        return a;
    return a > b ? a : b;
}

static int seqlen_x(const fa_problem *p)
{
    return p->seqlen_q > p->seqlen_k ? p->seqlen_q : p->seqlen_k;
}

/* Append word to a ", "-separated list unless it is there already. */
static void add_distinct(char *list, size_t n, const char *word)
{
    if (!*word)
        return;
    size_t wl = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += wl)
        if ((p == list || p[-1] == ' ') && (p[wl] == '\0' || p[wl] == ','))
            return;
    size_t len = strlen(list);
    snprintf(list + len, n - len, "%s%s", len ? ", " : "", word);
}

/* ---- callbacks --------------------------------------------------------------------------- */

static int find_problem(loader *L, const char *name)
{
    /* rows come grouped by problem name: the last one is almost always the one */
    for (int i = L->n_problems - 1; i >= 0; i--)
        if (!strcmp(L->problems[i].name, name))
            return i;
    return -1;
}

static int on_row(const fa_db_row *r, void *user)
{
    loader *L = user;
    /* The panels plot forward TFLOP/s against seqlen; a decode problem's rate is TB/s of K/V
     * read over a cache length (fa_problem.h) and would mix into its key's panel: it goes to
     * the decode panels (K/V bytes per second against the copy bandwidth) instead. */
    if (r->problem.op != FA_OP_FWD) {
        int fi = fa_family_index(r->variant.family);
        if (fi >= 0 && fi < 32)
            L->decode_families |= 1u << fi;
        double compile_ms = measured(r->m.build.compile_ms, MAX_MS);
        if (compile_ms > 0 && r->m.build.cache_hit != 1) {
            if (GROW(L->dbuilds, L->n_dbuilds, L->cap_dbuilds))
                return L->nomem = 1;
            lbuild *b = &L->dbuilds[L->n_dbuilds++];
            copy(b->run_uuid, sizeof b->run_uuid, r->run_uuid);
            copy(b->variant, sizeof b->variant, r->variant_name);
            b->compile_ms = compile_ms;
        }
        if (r->problem.op != FA_OP_DECODE || !strcmp(r->device_name, FA_DB_COMPILE_ONLY))
            return 0;
        if (GROW(L->drows, L->n_drows, L->cap_drows))
            return L->nomem = 1;
        ldrow *x = &L->drows[L->n_drows++];
        memset(x, 0, sizeof *x);
        copy(x->problem, sizeof x->problem, r->problem_name);
        copy(x->variant, sizeof x->variant, r->variant_name);
        x->p = r->problem;
        x->tbps = measured(r->m.tflops, MAX_RATE);
        x->ok = !strcmp(r->status, "ok") && x->tbps > 0;
        if (strcmp(r->measured_at, L->d->data_date) > 0)
            copy(L->d->data_date, sizeof L->d->data_date, r->measured_at);
        return 0;
    }
    int pi = find_problem(L, r->problem_name);
    if (pi < 0) {
        if (GROW(L->problems, L->n_problems, L->cap_problems))
            return L->nomem = 1;
        lproblem *p = &L->problems[L->n_problems];
        memset(p, 0, sizeof *p);
        copy(p->name, sizeof p->name, r->problem_name);
        p->p = r->problem;
        p->gqa = r->gqa > 0 ? r->gqa : 1;
        p->best = p->eager = -1;
        for (int j = 0; j < FA_REPORT_MAX_FAMILIES; j++)
            p->fam_best[j] = -1;
        pi = L->n_problems++;
    }
    if (GROW(L->rows, L->n_rows, L->cap_rows))
        return L->nomem = 1;
    lrow *x = &L->rows[L->n_rows++];
    memset(x, 0, sizeof *x);
    x->problem = pi;
    x->v = r->variant;
    copy(x->variant, sizeof x->variant, r->variant_name);
    copy(x->status, sizeof x->status, r->status);
    copy(x->run_uuid, sizeof x->run_uuid, r->run_uuid);
    x->id = r->id;
    x->tflops = measured(r->m.tflops, MAX_RATE);
    x->median_ms = measured(r->m.median_ms, MAX_MS);
    x->eager_ms = measured(r->m.eager_median_ms, MAX_MS);
    x->peak = r->m.peak_extra_bytes;
    x->eager_peak = r->m.eager_peak_extra_bytes;
    x->compile_ms = measured(r->m.build.compile_ms, MAX_MS);
    x->cache_hit = r->m.build.cache_hit;
    x->registers = r->m.build.registers;
    x->smem_static = r->m.build.smem_static;
    x->spill_stores = r->m.build.spill_stores;
    x->spill_loads = r->m.build.spill_loads;
    if (fa_report_parse_time(r->measured_at, &x->t))
        x->t = NAN;
    x->compile_only = !strcmp(r->device_name, FA_DB_COMPILE_ONLY);
    if (!x->compile_only)
        L->problems[pi].timed = 1;
    if (strcmp(r->measured_at, L->d->data_date) > 0)
        copy(L->d->data_date, sizeof L->d->data_date, r->measured_at);
    return 0;
}

static int peer_index(fa_report_data *d, const char *name)
{
    for (int i = 0; i < d->n_peers; i++)
        if (!strcmp(d->peers[i], name))
            return i;
    if (d->n_peers == FA_REPORT_MAX_PEERS)
        return -1;
    copy(d->peers[d->n_peers], sizeof d->peers[0], name);
    return d->n_peers++;
}

static int on_peer(const fa_db_peer *pe, void *user)
{
    loader *L = user;
    int k = peer_index(L->d, pe->peer);
    if (k < 0 || !(pe->tflops > 0 || pe->peak_extra_bytes >= 0))
        return 0; /* more peers than a plot can tell apart, or nothing measured */
    copy(L->d->peer_versions[k], sizeof L->d->peer_versions[k], pe->version);
    /* by peer, problem, run start: a later run of the same (peer, problem) replaces it */
    if (L->n_peers > 0) {
        lpeer *last = &L->peers[L->n_peers - 1];
        if (last->peer == k && !strcmp(last->problem, pe->problem_name))
            L->n_peers--;
    }
    if (GROW(L->peers, L->n_peers, L->cap_peers))
        return L->nomem = 1;
    lpeer *x = &L->peers[L->n_peers++];
    x->peer = k;
    copy(x->problem, sizeof x->problem, pe->problem_name);
    x->p = pe->problem;
    x->gqa = pe->gqa > 0 ? pe->gqa : 1;
    x->tflops = pe->tflops > 0 ? measured(pe->tflops, MAX_RATE) : NAN;
    x->peak = pe->peak_extra_bytes;
    return 0;
}

static int on_run(const fa_db_run *r, void *user)
{
    loader *L = user;
    fa_report_data *d = L->d;
    if (GROW(L->runs, L->n_runs, L->cap_runs))
        return L->nomem = 1;
    lrun *x = &L->runs[L->n_runs++];
    copy(x->uuid, sizeof x->uuid, r->uuid);
    fa_report_strategy(r->command_line, x->strategy, sizeof x->strategy);
    if (fa_report_parse_time(r->started_at, &x->started))
        x->started = NAN;
    if (strcmp(r->device.name, FA_DB_COMPILE_ONLY) != 0 && r->device.name[0]) {
        add_distinct(d->gpus, sizeof d->gpus, r->device.name);
        if (r->device.driver_version > 0) {
            char v[32];
            snprintf(v, sizeof v, "%d.%d", r->device.driver_version / 1000,
                     r->device.driver_version % 1000 / 10);
            add_distinct(d->drivers, sizeof d->drivers, v);
        }
    }
    add_distinct(d->versions, sizeof d->versions, r->fa_tune_version);
    return 0;
}

/* The winners table is forward: the view's decode rows (keyed like forward ones, which merges
 * seqlen_q buckets and paged with contiguous caches) are left out; on_decode_winner counts
 * the decode keys as the emitted header and `db best` have them. */
static int on_winner(const fa_db_winner *w, void *user)
{
    loader *L = user;
    fa_report_data *d = L->d;
    if (w->variant.op != FA_OP_FWD)
        return 0;
    if (GROW(d->winners, d->n_winners, L->cap_winners))
        return L->nomem = 1;
    d->winners[d->n_winners++] = *w;
    return 0;
}

/* A decode winner (fa_db_decode_winners): drawn from on_row's rows, counted in the index. */
static int on_decode_winner(const fa_db_winner *w, void *user)
{
    (void)w;
    ((loader *)user)->d->n_decode_winners++;
    return 0;
}

/* ---- reduction --------------------------------------------------------------------------- */

/* Mark the latest timed row of every (problem, variant): rows arrive grouped by problem, then
 * variant, then run start and row id, so it is the last timed row of its group. */
static void mark_latest(loader *L)
{
    int prev = -1;
    for (int i = 0; i < L->n_rows; i++) {
        lrow *r = &L->rows[i];
        if (r->compile_only)
            continue;
        if (prev >= 0 && L->rows[prev].problem == r->problem &&
            !strcmp(L->rows[prev].variant, r->variant))
            L->rows[prev].latest = 0;
        r->latest = 1;
        prev = i;
    }
}

static int is_ok(const lrow *r)
{
    return !strcmp(r->status, "ok") && r->tflops > 0 && r->median_ms > 0;
}

/* The slot of family f in d->families; -1 if it has none (no ok measurement, unknown). */
static int family_slot(const fa_report_data *d, const fa_family *f)
{
    for (int j = 0; f && j < d->n_families; j++)
        if (d->families[j] == f)
            return j;
    return -1;
}

/* d->families: the families with a latest-ok measurement, in registry order (so a family keeps
 * its column and colour however the rows arrive). */
static void collect_families(loader *L)
{
    fa_report_data *d = L->d;
    for (int k = 0; fa_family_at(k) && d->n_families < FA_REPORT_MAX_FAMILIES; k++) {
        const fa_family *f = fa_family_at(k);
        for (int i = 0; i < L->n_rows; i++)
            if (L->rows[i].latest && L->rows[i].v.family == f && is_ok(&L->rows[i])) {
                d->families[d->n_families++] = f;
                break;
            }
    }
}

static void pick_best(loader *L)
{
    collect_families(L);
    for (int i = 0; i < L->n_rows; i++) {
        lrow *r = &L->rows[i];
        lproblem *p = &L->problems[r->problem];
        if (!r->latest)
            continue;
        if (is_ok(r)) {
            p->ok_variants++;
            if (p->best < 0 || r->tflops > L->rows[p->best].tflops)
                p->best = i;
            int j = family_slot(L->d, r->v.family);
            if (j >= 0 && (p->fam_best[j] < 0 || r->tflops > L->rows[p->fam_best[j]].tflops))
                p->fam_best[j] = i;
        }
    }
    for (int i = 0; i < L->n_rows; i++) {
        lrow *r = &L->rows[i];
        lproblem *p = &L->problems[r->problem];
        if (r->compile_only || !(r->eager_ms > 0))
            continue;
        if (p->best >= 0 && L->rows[p->best].eager_ms > 0) {
            p->eager = p->best;
            continue;
        }
        /* the latest row that timed eager: by time, then row id */
        if (p->eager < 0)
            p->eager = i;
        else {
            const lrow *e = &L->rows[p->eager];
            if (r->t > e->t || (r->t == e->t && r->id > e->id))
                p->eager = i;
        }
    }
}

typedef struct acc {
    double sum;
    int n;
} acc;

static void acc_add(acc *a, double x)
{
    if (isnan(x))
        return;
    a->sum += x;
    a->n++;
}

static double acc_mean(const acc *a)
{
    return a->n ? a->sum / a->n : NAN;
}

typedef struct pacc {
    int seqlen, problems;
    acc tflops, eager;
    double flash_mib, eager_mib;
    char variant[FA_VARIANT_NAME_MAX];
    char family[32];
    acc fam[FA_REPORT_MAX_FAMILIES];
    acc peer[FA_REPORT_MAX_PEERS];
    double peer_mib[FA_REPORT_MAX_PEERS];
} pacc;

typedef struct key {
    fa_dtype dtype;
    int head_dim, causal, varlen, gqa;
} key;

typedef struct panel_build {
    key k;
    pacc *pts;
    int n, cap;
} panel_build;

typedef struct panels_build {
    panel_build *b;
    int n, cap;
} panels_build;

static key key_of(const fa_problem *p, int gqa)
{
    key k = {p->dtype, p->head_dim, p->causal ? 1 : 0, p->varlen ? 1 : 0, gqa};
    return k;
}

static int key_cmp(const key *a, const key *b)
{
    if (a->dtype != b->dtype)
        return a->dtype < b->dtype ? -1 : 1;
    if (a->head_dim != b->head_dim)
        return a->head_dim < b->head_dim ? -1 : 1;
    if (a->causal != b->causal)
        return a->causal - b->causal;
    if (a->varlen != b->varlen)
        return a->varlen - b->varlen;
    return a->gqa < b->gqa ? -1 : a->gqa > b->gqa;
}

static int build_cmp(const void *a, const void *b)
{
    return key_cmp(&((const panel_build *)a)->k, &((const panel_build *)b)->k);
}

static int point_cmp(const void *a, const void *b)
{
    const pacc *x = a, *y = b;
    return x->seqlen < y->seqlen ? -1 : x->seqlen > y->seqlen;
}

/* The point of key k at x, created if needed; NULL when out of memory. */
static pacc *point_at(panels_build *pb, key k, int x)
{
    panel_build *b = NULL;
    for (int i = 0; i < pb->n && !b; i++)
        if (!key_cmp(&pb->b[i].k, &k))
            b = &pb->b[i];
    if (!b) {
        if (GROW(pb->b, pb->n, pb->cap))
            return NULL;
        b = &pb->b[pb->n++];
        memset(b, 0, sizeof *b);
        b->k = k;
    }
    for (int i = 0; i < b->n; i++)
        if (b->pts[i].seqlen == x)
            return &b->pts[i];
    if (GROW(b->pts, b->n, b->cap))
        return NULL;
    pacc *pt = &b->pts[b->n++];
    memset(pt, 0, sizeof *pt);
    pt->seqlen = x;
    pt->flash_mib = pt->eager_mib = NAN;
    for (int i = 0; i < FA_REPORT_MAX_PEERS; i++)
        pt->peer_mib[i] = NAN;
    strcpy(pt->variant, "-");
    strcpy(pt->family, "-");
    return pt;
}

/* FLOPs of a problem by the convention, in units of 1e9 (so TFLOP/s = gflop / ms). */
static double problem_gflop(const lproblem *p, const lrow *best)
{
    if (!p->p.varlen)
        return fa_problem_flops(&p->p, NULL, NULL) / 1e9;
    /* varlen lengths are drawn by the harness: recover the count from a timed row */
    return best ? best->tflops * best->median_ms : NAN;
}

/* One panel's figures from its accumulated points. */
static void finish_panel(const fa_report_data *d, const panel_build *b, fa_report_panel *p,
                         fa_report_point *pts)
{
    memset(p, 0, sizeof *p);
    p->dtype = b->k.dtype;
    p->head_dim = b->k.head_dim;
    p->causal = b->k.causal;
    p->varlen = b->k.varlen;
    p->gqa = b->k.gqa;
    p->ceiling = NAN;
    for (int j = 0; j < b->n; j++) {
        const pacc *a = &b->pts[j];
        fa_report_point *o = &pts[j];
        o->seqlen = a->seqlen;
        o->problems = a->problems;
        o->tflops = acc_mean(&a->tflops);
        o->eager_tflops = acc_mean(&a->eager);
        o->flash_mib = a->flash_mib;
        o->eager_mib = a->eager_mib;
        copy(o->variant, sizeof o->variant, a->variant);
        copy(o->family, sizeof o->family, a->family);
        for (int j = 0; j < FA_REPORT_MAX_FAMILIES; j++) {
            o->family_tflops[j] = j < d->n_families ? acc_mean(&a->fam[j]) : NAN;
            if (!isnan(o->family_tflops[j]))
                p->families_present |= 1u << j;
        }
        int any = !isnan(o->tflops);
        for (int k = 0; k < FA_REPORT_MAX_PEERS; k++) {
            o->peer_tflops[k] = k < d->n_peers ? acc_mean(&a->peer[k]) : NAN;
            o->peer_mib[k] = k < d->n_peers ? a->peer_mib[k] : NAN;
            if (!isnan(o->peer_tflops[k])) {
                p->peers_present |= 1u << k;
                any = 1;
            }
            if (!isnan(o->peer_mib[k]))
                p->peers_memory |= 1u << k;
        }
        p->has_ratio |= any && o->eager_tflops > 0;
    }
    p->min_mib = NAN;
    for (int j = 0; j < b->n; j++) {
        const fa_report_point *o = &pts[j];
        double t[2 + FA_REPORT_MAX_PEERS], m[2 + FA_REPORT_MAX_PEERS];
        t[0] = o->tflops, t[1] = o->eager_tflops, m[0] = o->flash_mib, m[1] = o->eager_mib;
        for (int k = 0; k < FA_REPORT_MAX_PEERS; k++)
            t[2 + k] = o->peer_tflops[k], m[2 + k] = o->peer_mib[k];
        for (int k = 0; k < 2 + FA_REPORT_MAX_PEERS; k++) {
            if (t[k] > p->max_tflops)
                p->max_tflops = t[k];
            if (m[k] > 0 && !(m[k] >= p->min_mib))
                p->min_mib = m[k];
        }
    }
    p->has_memory = !isnan(p->min_mib);
    p->points = pts;
    p->n_points = b->n;
    snprintf(p->stem, sizeof p->stem, "hd%d_%s_%s%s", p->head_dim, fa_dtype_name(p->dtype),
             p->causal ? "causal" : "noncausal", p->varlen ? "_varlen" : "");
    snprintf(p->label, sizeof p->label, "hd%d %s %s%s", p->head_dim, fa_dtype_name(p->dtype),
             p->causal ? "causal" : "non-causal", p->varlen ? " varlen" : "");
    if (p->gqa > 1) {
        size_t sl = strlen(p->stem), ll = strlen(p->label);
        snprintf(p->stem + sl, sizeof p->stem - sl, "_gqa%d", p->gqa);
        snprintf(p->label + ll, sizeof p->label - ll, " GQA %d", p->gqa);
    }
}

static fa_status build_panels(loader *L, fa_err *err)
{
    fa_report_data *d = L->d;
    panels_build pb = {0};
    fa_status st = FA_OK;

    for (int i = 0; i < L->n_problems; i++) {
        const lproblem *p = &L->problems[i];
        if (!p->timed)
            continue;
        pacc *pt = point_at(&pb, key_of(&p->p, p->gqa), seqlen_x(&p->p));
        if (!pt)
            goto nomem;
        const lrow *best = p->best >= 0 ? &L->rows[p->best] : NULL;
        const lrow *eager = p->eager >= 0 ? &L->rows[p->eager] : NULL;
        pt->problems++;
        if (best) {
            acc_add(&pt->tflops, best->tflops);
            pt->flash_mib = fmax_nan(pt->flash_mib, mib(best->peak));
            if (!strcmp(pt->variant, "-")) {
                copy(pt->variant, sizeof pt->variant, best->variant);
                copy(pt->family, sizeof pt->family,
                     best->v.family ? best->v.family->name : "(unknown)");
            }
        }
        for (int j = 0; j < d->n_families; j++)
            if (p->fam_best[j] >= 0)
                acc_add(&pt->fam[j], L->rows[p->fam_best[j]].tflops);
        if (eager) {
            acc_add(&pt->eager, problem_gflop(p, best) / eager->eager_ms);
            pt->eager_mib = fmax_nan(pt->eager_mib, mib(eager->eager_peak));
        }
    }
    for (int i = 0; i < L->n_peers; i++) {
        const lpeer *pe = &L->peers[i];
        if (pe->p.op != FA_OP_FWD)
            continue; /* a decode peer's TB/s goes to the decode panels */
        pacc *pt = point_at(&pb, key_of(&pe->p, pe->gqa), seqlen_x(&pe->p));
        if (!pt)
            goto nomem;
        acc_add(&pt->peer[pe->peer], pe->tflops);
        pt->peer_mib[pe->peer] = fmax_nan(pt->peer_mib[pe->peer], mib(pe->peak));
    }

    if (pb.n > 0) /* a decode-only database has no forward panel: pb.b is NULL */
        qsort(pb.b, (size_t)pb.n, sizeof *pb.b, build_cmp);
    d->panels = calloc((size_t)pb.n + 1, sizeof *d->panels);
    if (!d->panels)
        goto nomem;
    for (int i = 0; i < pb.n; i++) {
        panel_build *b = &pb.b[i];
        qsort(b->pts, (size_t)b->n, sizeof *b->pts, point_cmp);
        fa_report_point *pts = calloc((size_t)b->n + 1, sizeof *pts);
        if (!pts)
            goto nomem;
        fa_report_panel *p = &d->panels[d->n_panels++];
        finish_panel(d, b, p, pts);
        d->forward_peers |= p->peers_present | p->peers_memory;
    }
    goto cleanup;

nomem:
    st = FA_ERR(err, FA_NOMEM, "cannot build the report panels: out of memory");
cleanup:
    for (int i = 0; i < pb.n; i++)
        free(pb.b[i].pts);
    free(pb.b);
    return st;
}

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

static int tile_cmp(const void *a, const void *b)
{
    const fa_report_tile *x = a, *y = b;
    int fx = fa_family_index(x->family), fy = fa_family_index(y->family);
    if (fx != fy)
        return fx < fy ? -1 : 1;
    if (x->block_m != y->block_m)
        return x->block_m < y->block_m ? -1 : 1;
    return x->block_n < y->block_n ? -1 : x->block_n > y->block_n;
}

/* Add x to a sorted set of ints (caller guarantees room). */
static void set_add(int *set, int *n, int x)
{
    for (int i = 0; i < *n; i++)
        if (set[i] == x)
            return;
    set[(*n)++] = x;
    qsort(set, (size_t)*n, sizeof *set, int_cmp);
}

/* The heatmap's cell c from the chosen problem's latest rows: the best ok variant, else the
 * most common failure (ties: alphabetical). */
static void fill_cell(const lrow *const *mine, int n, fa_report_cell *c)
{
    int best_count = 0;
    c->tflops = NAN;
    strcpy(c->status, "-");
    strcpy(c->variant, "-");
    strcpy(c->rest, "-");
    for (int i = 0; i < n; i++) {
        const lrow *r = mine[i];
        if (tile_m(&r->v) != c->block_m || tile_n(&r->v) != c->block_n)
            continue;
        if (is_ok(r)) {
            if (isnan(c->tflops) || r->tflops > c->tflops) {
                c->tflops = r->tflops;
                strcpy(c->status, "ok");
                copy(c->variant, sizeof c->variant, r->variant);
                fa_variant_params_short(&r->v, c->rest, sizeof c->rest);
            }
            continue;
        }
        if (!isnan(c->tflops))
            continue;
        int count = 0;
        for (int j = 0; j < n; j++)
            count += tile_m(&mine[j]->v) == c->block_m && tile_n(&mine[j]->v) == c->block_n &&
                     !is_ok(mine[j]) && !strcmp(mine[j]->status, r->status);
        if (count > best_count || (count == best_count && strcmp(r->status, c->status) < 0)) {
            best_count = count;
            copy(c->status, sizeof c->status, r->status);
        }
    }
}

/* Rows by variant name, then measured_at, then row id. */
static int row_name_cmp(const void *a, const void *b)
{
    const lrow *x = *(const lrow *const *)a, *y = *(const lrow *const *)b;
    int c = strcmp(x->variant, y->variant);
    if (c)
        return c;
    if (x->t != y->t && !isnan(x->t) && !isnan(y->t))
        return x->t < y->t ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A refusal is the legality model's verdict on a variant, whatever the problem, so tuning
 * stores it once per class, on the class's first problem (fa_tune.h). To the n latest rows of
 * f on problem pi in mine[] (room for every row) this adds, for each variant of f that serves
 * pi and has no row there, its latest refusal from another problem. */
static fa_status add_refusals(loader *L, int pi, const fa_family *f, const lrow **mine, int *n,
                              fa_err *err)
{
    const fa_problem *p = &L->problems[pi].p;
    int ne = 0;
    const lrow **extra = calloc((size_t)L->n_rows + 1, sizeof *extra);
    const char **have = calloc((size_t)*n + 1, sizeof *have);
    if (!extra || !have) {
        free(extra);
        free(have);
        return FA_ERR(err, FA_NOMEM, "cannot build the heatmap: out of memory");
    }
    for (int i = 0; i < *n; i++)
        have[i] = mine[i]->variant;
    qsort(have, (size_t)*n, sizeof *have, name_cmp);
    for (int i = 0; i < L->n_rows; i++) {
        const lrow *r = &L->rows[i];
        if (r->problem != pi && r->latest && r->v.family == f &&
            !strcmp(r->status, "unsupported") && fa_variant_matches(&r->v, p))
            extra[ne++] = r;
    }
    qsort(extra, (size_t)ne, sizeof *extra, row_name_cmp); /* by name, then time: latest last */
    const int had = *n;
    for (int i = 0; i < ne; i++) {
        if (i + 1 < ne && !strcmp(extra[i]->variant, extra[i + 1]->variant))
            continue;
        const char *key = extra[i]->variant;
        if (!bsearch(&key, have, (size_t)had, sizeof *have, name_cmp))
            mine[(*n)++] = extra[i];
    }
    free(extra);
    free(have);
    return FA_OK;
}

/* Family f's heatmap on problem pi into *h, from the latest rows of f's variants there. */
static fa_status build_heatmap(loader *L, int pi, const fa_family *f, fa_report_heatmap *h,
                               fa_err *err)
{
    fa_status st = FA_OK;
    int n = 0;
    h->family = f;
    copy(h->problem, sizeof h->problem, L->problems[pi].name);
    const lrow **mine = calloc((size_t)L->n_rows + 1, sizeof *mine);
    if (!mine)
        return FA_ERR(err, FA_NOMEM, "cannot build the heatmap: out of memory");
    for (int i = 0; i < L->n_rows; i++)
        if (L->rows[i].problem == pi && L->rows[i].latest && L->rows[i].v.family == f)
            mine[n++] = &L->rows[i];
    if ((st = add_refusals(L, pi, f, mine, &n, err)) != FA_OK)
        goto cleanup;
    h->block_ms = calloc((size_t)n + 1, sizeof *h->block_ms);
    h->block_ns = calloc((size_t)n + 1, sizeof *h->block_ns);
    if (!h->block_ms || !h->block_ns) {
        st = FA_ERR(err, FA_NOMEM, "cannot build the heatmap: out of memory");
        goto cleanup;
    }
    for (int i = 0; i < n; i++) {
        set_add(h->block_ms, &h->n_block_ms, tile_m(&mine[i]->v));
        set_add(h->block_ns, &h->n_block_ns, tile_n(&mine[i]->v));
    }
    h->n_cells = h->n_block_ms * h->n_block_ns;
    h->cells = calloc((size_t)h->n_cells + 1, sizeof *h->cells);
    if (!h->cells) {
        st = FA_ERR(err, FA_NOMEM, "cannot build the heatmap: out of memory");
        goto cleanup;
    }
    for (int i = 0; i < h->n_cells; i++) {
        fa_report_cell *c = &h->cells[i];
        c->block_m = h->block_ms[i / h->n_block_ns];
        c->block_n = h->block_ns[i % h->n_block_ns];
        fill_cell(mine, n, c);
    }
cleanup:
    free(mine);
    return st;
}

/* Family f's latest timed rows on problem pi: how many, and how many of them are ok. */
static void family_rows(const loader *L, int pi, const fa_family *f, int *rows, int *ok)
{
    *rows = *ok = 0;
    for (int i = 0; i < L->n_rows; i++) {
        const lrow *r = &L->rows[i];
        if (r->problem == pi && r->latest && r->v.family == f) {
            (*rows)++;
            *ok += is_ok(r);
        }
    }
}

/* One heatmap per family with a timed forward measurement, in registry order, on problem pi
 * (the convergence problem). When pi was not named by --problem and f has no ok measurement
 * of it, f's heatmap is drawn on the problem where f has the most ok variants instead, so a
 * family tuned on other shapes still shows its tiles. A family that serves decode only, with
 * decode measurements left out of this report, gets a note saying why it has no heatmap. */
static fa_status build_heatmaps(loader *L, int pi, int named, fa_err *err)
{
    fa_report_data *d = L->d;
    int count = 0;
    while (fa_family_at(count))
        count++;
    d->heatmaps = calloc((size_t)count + 1, sizeof *d->heatmaps);
    if (!d->heatmaps)
        return FA_ERR(err, FA_NOMEM, "cannot build the heatmaps: out of memory");
    for (int k = 0; k < count; k++) {
        const fa_family *f = fa_family_at(k);
        fa_report_heatmap *h = &d->heatmaps[d->n_heatmaps];
        int rows = 0, ok = 0, timed = 0;
        for (int i = 0; i < L->n_rows && !timed; i++)
            timed = L->rows[i].latest && L->rows[i].v.family == f;
        if (!timed) {
            if (k < 32 && (L->decode_families & (1u << k)) && !fa_family_serves(f, FA_OP_FWD)) {
                h->family = f;
                textf(h->note, sizeof h->note,
                      "%s family (decode): no tile heatmap, decode measurements are rated in "
                      "TB/s of K/V read over a cache length, not forward TFLOP/s: the decode "
                      "plots draw them",
                      f->name);
                d->n_heatmaps++;
            }
            continue;
        }
        int fp = pi;
        if (fp >= 0)
            family_rows(L, fp, f, &rows, &ok);
        if (!named && !ok) {
            int best_ok = 0;
            fp = -1;
            for (int i = 0; i < L->n_problems; i++) {
                family_rows(L, i, f, &rows, &ok);
                if (ok > best_ok) {
                    best_ok = ok;
                    fp = i;
                }
            }
            rows = best_ok;
        }
        if (fp < 0)
            continue; /* no ok measurement of f anywhere, and no problem named */
        if (!rows) {
            h->family = f;
            textf(h->note, sizeof h->note, "%s family: no measurement of problem %s", f->name,
                  L->problems[fp].name);
            d->n_heatmaps++;
            continue;
        }
        fa_status st = build_heatmap(L, fp, f, h, err);
        d->n_heatmaps++; /* released with the rest even when half built */
        if (st != FA_OK)
            return st;
    }
    return FA_OK;
}

static int step_cmp(const void *a, const void *b)
{
    const lrow *x = *(const lrow *const *)a, *y = *(const lrow *const *)b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static fa_status build_convergence(loader *L, int pi, fa_err *err)
{
    fa_report_data *d = L->d;
    fa_status st = FA_OK;
    const lrow **mine = calloc((size_t)L->n_rows + 1, sizeof *mine);
    d->series = calloc((size_t)L->n_runs + 1, sizeof *d->series);
    if (!mine || !d->series) {
        st = FA_ERR(err, FA_NOMEM, "cannot build the convergence plot: out of memory");
        goto cleanup;
    }
    for (int k = 0; k < L->n_runs; k++) {
        const lrun *run = &L->runs[k];
        int n = 0;
        for (int i = 0; i < L->n_rows; i++) {
            const lrow *r = &L->rows[i];
            if (r->problem == pi && !r->compile_only && !isnan(r->t) &&
                !strcmp(r->run_uuid, run->uuid))
                mine[n++] = r;
        }
        if (!n)
            continue;
        qsort(mine, (size_t)n, sizeof *mine, step_cmp);
        double start =
            !isnan(run->started) && run->started <= mine[0]->t ? run->started : mine[0]->t;
        fa_report_series *s = &d->series[d->n_series];
        s->steps = calloc((size_t)n, sizeof *s->steps);
        if (!s->steps) {
            st = FA_ERR(err, FA_NOMEM, "cannot build the convergence plot: out of memory");
            goto cleanup;
        }
        double best = NAN;
        for (int i = 0; i < n; i++) {
            if (!is_ok(mine[i]))
                continue;
            best = fmax_nan(best, mine[i]->tflops);
            fa_report_step *x = &s->steps[s->n_steps++];
            x->elapsed_s = mine[i]->t - start;
            x->tflops = mine[i]->tflops;
            x->best = best;
        }
        if (!s->n_steps) {
            free(s->steps);
            s->steps = NULL;
            continue;
        }
        copy(s->run_uuid, sizeof s->run_uuid, run->uuid);
        copy(s->strategy, sizeof s->strategy, run->strategy);
        snprintf(s->label, sizeof s->label, "%s, run %.8s", s->strategy, run->uuid);
        d->n_series++;
    }
cleanup:
    free(mine);
    return st;
}

typedef struct compile_item {
    const char *run, *variant;
    double ms;
} compile_item;

static int compile_item_cmp(const void *a, const void *b)
{
    const compile_item *x = a, *y = b;
    int c = strcmp(x->run, y->run);
    return c ? c : strcmp(x->variant, y->variant);
}

static int double_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static fa_status build_compile(loader *L, fa_err *err)
{
    fa_report_data *d = L->d;
    size_t cap = (size_t)L->n_rows + (size_t)L->n_dbuilds + 1;
    compile_item *items = calloc(cap, sizeof *items);
    d->compile_ms = calloc(cap, sizeof *d->compile_ms);
    if (!items || !d->compile_ms) {
        free(items);
        return FA_ERR(err, FA_NOMEM, "cannot build the compile-time histogram: out of memory");
    }
    int n = 0;
    for (int i = 0; i < L->n_rows; i++) {
        const lrow *r = &L->rows[i];
        if (r->compile_ms > 0 && r->cache_hit != 1)
            items[n++] = (compile_item){r->run_uuid, r->variant, r->compile_ms};
    }
    for (int i = 0; i < L->n_dbuilds; i++) /* decode variants are built too */
        items[n++] =
            (compile_item){L->dbuilds[i].run_uuid, L->dbuilds[i].variant, L->dbuilds[i].compile_ms};
    /* one compile per (run, variant): rows of other problems repeat the same build figures */
    qsort(items, (size_t)n, sizeof *items, compile_item_cmp);
    for (int i = 0; i < n; i++)
        if (i == 0 || compile_item_cmp(&items[i - 1], &items[i]))
            d->compile_ms[d->n_compile++] = items[i].ms;
    qsort(d->compile_ms, (size_t)d->n_compile, sizeof *d->compile_ms, double_cmp);
    free(items);
    return FA_OK;
}

/* A row that built a cubin: ptxas' register count is stored only then (older databases stored
 * spilling builds as "unsupported", with their figures, so the status is not asked). */
static int built(const lrow *r)
{
    return r->registers > 0;
}

/* Compile-only figures: per variant its latest build, then per (BLOCK_M, BLOCK_N) tile the
 * range of registers and shared memory and how many spill, and the list of spilling ones. */
static fa_status build_resources(loader *L, fa_err *err)
{
    fa_report_data *d = L->d;
    fa_status st = FA_OK;
    int n = 0;
    const lrow **v = calloc((size_t)L->n_rows + 1, sizeof *v);
    d->tiles = calloc((size_t)L->n_rows + 1, sizeof *d->tiles);
    d->spills = calloc((size_t)L->n_rows + 1, sizeof *d->spills);
    if (!v || !d->tiles || !d->spills) {
        st = FA_ERR(err, FA_NOMEM, "cannot build the resources per tile: out of memory");
        goto cleanup;
    }
    for (int i = 0; i < L->n_rows; i++)
        if (built(&L->rows[i]))
            v[n++] = &L->rows[i];
    qsort(v, (size_t)n, sizeof *v, row_name_cmp);
    for (int i = 0; i < n; i++) {
        if (i + 1 < n && !strcmp(v[i]->variant, v[i + 1]->variant))
            continue; /* the latest build of each variant counts */
        const lrow *r = v[i];
        int smem = r->smem_static >= 0 ? r->smem_static + fa_variant_smem_bytes(&r->v) : -1;
        int spills = r->spill_stores > 0 || r->spill_loads > 0;
        d->n_built++;
        fa_report_tile *t = NULL;
        for (int k = 0; k < d->n_tiles && !t; k++)
            if (d->tiles[k].family == r->v.family && d->tiles[k].block_m == tile_m(&r->v) &&
                d->tiles[k].block_n == tile_n(&r->v))
                t = &d->tiles[k];
        if (!t && r->v.family) { /* a family this binary does not know has no tiles */
            t = &d->tiles[d->n_tiles++];
            t->family = r->v.family;
            t->block_m = tile_m(&r->v);
            t->block_n = tile_n(&r->v);
            t->reg_min = t->smem_min = -1;
        }
        if (t) {
            t->variants++;
            t->spilling += spills;
            if (t->reg_min < 0 || r->registers < t->reg_min)
                t->reg_min = r->registers;
            if (r->registers > t->reg_max)
                t->reg_max = r->registers;
            if (smem >= 0 && (t->smem_min < 0 || smem < t->smem_min))
                t->smem_min = smem;
            if (smem > t->smem_max)
                t->smem_max = smem;
        }
        if (spills) {
            fa_report_spill *x = &d->spills[d->n_spills++];
            copy(x->variant, sizeof x->variant, r->variant);
            x->registers = r->registers;
            x->smem_bytes = smem;
            x->spill_stores = r->spill_stores;
            x->spill_loads = r->spill_loads;
        }
    }
    qsort(d->tiles, (size_t)d->n_tiles, sizeof *d->tiles, tile_cmp);
cleanup:
    free(v);
    return st;
}

/* The commands that time a compile-only database: one per head dim it holds. */
static void build_timing_cmds(loader *L)
{
    fa_report_data *d = L->d;
    unsigned seen = 0;
    for (int i = 0; i < L->n_problems; i++) {
        int hd = L->problems[i].p.head_dim, bit = -1;
        for (int k = 0; k < 16 && bit < 0; k++)
            if (hd == 16 * (k + 1))
                bit = k;
        if (bit < 0 || seen & (1u << bit))
            continue;
        seen |= 1u << bit;
    }
    for (int k = 0; k < 16; k++) {
        if (!(seen & (1u << k)))
            continue;
        size_t len = strlen(d->timing_cmds);
        textf(d->timing_cmds + len, sizeof d->timing_cmds - len,
              "fa-tune --arch %s --headdim %d --db %s\n", d->arch, 16 * (k + 1), d->db_path);
    }
}

/* ---- decode ------------------------------------------------------------------------------ */

static int same_mode(const fa_problem *a, const fa_problem *b)
{
    return a->dtype == b->dtype && a->head_dim == b->head_dim && a->heads_q == b->heads_q &&
           a->heads_kv == b->heads_kv && a->seqlen_q == b->seqlen_q &&
           a->page_size == b->page_size && a->cache_lens == b->cache_lens &&
           a->causal == b->causal && a->varlen == b->varlen;
}

static void dpanel_names(fa_report_dpanel *dp)
{
    const fa_problem *m = &dp->mode;
    char paged[32] = "", paged_l[32] = "";
    if (m->page_size > 0) {
        snprintf(paged, sizeof paged, "_paged%d", m->page_size);
        snprintf(paged_l, sizeof paged_l, ", paged %d", m->page_size);
    }
    int uniform = m->cache_lens == FA_CACHE_UNIFORM;
    textf(dp->stem, sizeof dp->stem, "hd%d_%s_h%dkv%d_q%d%s%s%s", m->head_dim,
          fa_dtype_name(m->dtype), m->heads_q, m->heads_kv, m->seqlen_q, paged,
          uniform ? "_uniform" : "", m->causal ? "_causal" : "");
    textf(dp->label, sizeof dp->label, "hd%d %s, heads %d/%d, %d new token%s%s%s%s", m->head_dim,
          fa_dtype_name(m->dtype), m->heads_q, m->heads_kv, m->seqlen_q,
          m->seqlen_q == 1 ? "" : "s", paged_l, uniform ? ", lengths in [N/2, N]" : "",
          m->causal ? ", causal" : "");
}

static int cmp_dpoint(const void *a, const void *b)
{
    const fa_report_dpoint *x = a, *y = b;
    if (x->rows != y->rows)
        return x->rows < y->rows ? -1 : 1;
    return (x->batch > y->batch) - (x->batch < y->batch);
}

static int cmp_dpanel(const void *a, const void *b)
{
    return strcmp(((const fa_report_dpanel *)a)->stem, ((const fa_report_dpanel *)b)->stem);
}

/* The point of decode problem p (its mode's panel, its batch and seqlen_k), added with no
 * figures (NAN, variant "-") if new; *panel gets its panel. NULL when out of memory. */
static fa_report_dpoint *dpoint_at(fa_report_data *d, int *cap, const fa_problem *p,
                                   fa_report_dpanel **panel)
{
    int pi = 0;
    while (pi < d->n_dpanels && !same_mode(&d->dpanels[pi].mode, p))
        pi++;
    if (pi == d->n_dpanels) {
        if (GROW(d->dpanels, d->n_dpanels, *cap))
            return NULL;
        fa_report_dpanel *dp = &d->dpanels[d->n_dpanels++];
        memset(dp, 0, sizeof *dp);
        dp->mode = *p;
        dpanel_names(dp);
    }
    fa_report_dpanel *dp = &d->dpanels[pi];
    *panel = dp;
    for (int i = 0; i < dp->n_points; i++)
        if (dp->points[i].batch == p->batch && dp->points[i].seqlen_k == p->seqlen_k)
            return &dp->points[i];
    fa_report_dpoint *pt = realloc(dp->points, (size_t)(dp->n_points + 1) * sizeof *pt);
    if (!pt)
        return NULL;
    dp->points = pt;
    pt = &dp->points[dp->n_points++];
    memset(pt, 0, sizeof *pt);
    pt->batch = p->batch;
    pt->seqlen_k = p->seqlen_k;
    pt->rows = (long long)p->batch * p->seqlen_k;
    pt->tbps = NAN;
    copy(pt->variant, sizeof pt->variant, "-");
    for (int k = 0; k < FA_REPORT_MAX_PEERS; k++)
        pt->peer_tbps[k] = NAN;
    return pt;
}

/* One point per decode problem: the best over its variants' latest timed rows (rows come
 * grouped by problem, then variant, then run start and row id: the group's last row). */
static fa_status build_dpanels(loader *L, fa_err *err)
{
    fa_report_data *d = L->d;
    int cap = 0;
    for (int i = 0; i < L->n_drows;) {
        const ldrow *r = &L->drows[i];
        double best = NAN;
        const char *variant = "-";
        int j = i;
        while (j < L->n_drows && !strcmp(L->drows[j].problem, r->problem)) {
            int k = j;
            while (k + 1 < L->n_drows && !strcmp(L->drows[k + 1].problem, r->problem) &&
                   !strcmp(L->drows[k + 1].variant, L->drows[j].variant))
                k++;
            const ldrow *last = &L->drows[k];
            if (last->ok && (isnan(best) || last->tbps > best)) {
                best = last->tbps;
                variant = last->variant;
            }
            j = k + 1;
        }
        fa_report_dpanel *dp;
        fa_report_dpoint *pt = dpoint_at(d, &cap, &r->p, &dp);
        if (!pt)
            return FA_ERR(err, FA_NOMEM, "cannot build the decode panels: out of memory");
        if (isnan(best) || (!isnan(pt->tbps) && pt->tbps >= best)) {
            i = j; /* nothing ok, or another problem of the mode on this point did better */
            continue;
        }
        pt->tbps = best;
        copy(pt->variant, sizeof pt->variant, variant);
        if (best > dp->max_tbps)
            dp->max_tbps = best;
        i = j;
    }
    /* the peers' decode rows (latest run per peer and problem, on_peer), on their problem's
     * point, or a point of their own where fa-tune has no row */
    for (int i = 0; i < L->n_peers; i++) {
        const lpeer *pe = &L->peers[i];
        if (pe->p.op != FA_OP_DECODE || !(pe->tflops > 0))
            continue;
        fa_report_dpanel *dp;
        fa_report_dpoint *pt = dpoint_at(d, &cap, &pe->p, &dp);
        if (!pt)
            return FA_ERR(err, FA_NOMEM, "cannot build the decode panels: out of memory");
        pt->peer_tbps[pe->peer] = pe->tflops;
        dp->peers_present |= 1u << pe->peer;
        if (pe->tflops > dp->max_tbps)
            dp->max_tbps = pe->tflops;
    }
    for (int i = 0; i < d->n_dpanels; i++)
        qsort(d->dpanels[i].points, (size_t)d->dpanels[i].n_points, sizeof(fa_report_dpoint),
              cmp_dpoint);
    if (d->n_dpanels > 1)
        qsort(d->dpanels, (size_t)d->n_dpanels, sizeof *d->dpanels, cmp_dpanel);
    return FA_OK;
}

/* A device copy's bandwidth: bench/peers.py --decode names it "copy"; its rate is TB/s. */
static int on_ceiling(const fa_db_ceiling *c, void *user)
{
    fa_report_data *d = user;
    if (fa_db_is_copy_ceiling(c->name) && measured(c->tflops, MAX_RATE) > 0 &&
        (isnan(d->copy_tbps) || c->tflops > d->copy_tbps))
        d->copy_tbps = c->tflops;
    return 0;
}

static int add_plot(fa_report_data *d, int *cap, fa_report_plot_kind kind, int panel,
                    const char *stem, const char *title, int skipped)
{
    if (GROW(d->plots, d->n_plots, *cap))
        return -1;
    fa_report_plot *p = &d->plots[d->n_plots++];
    p->kind = kind;
    p->panel = panel;
    p->heatmap = -1;
    p->family = NULL;
    p->skipped = skipped;
    copy(p->stem, sizeof p->stem, stem);
    copy(p->title, sizeof p->title, title);
    return 0;
}

static fa_status build_plots(fa_report_data *d, fa_err *err)
{
    int cap = 0;
    char stem[FA_REPORT_STEM_MAX + 16], title[FA_REPORT_TEXT_MAX];
    int bad = 0;
    for (int i = 0; i < d->n_panels; i++) {
        const fa_report_panel *p = &d->panels[i];
        int skip = !(p->max_tflops > 0);
        snprintf(stem, sizeof stem, "tflops_%s", p->stem);
        if (skip)
            snprintf(title, sizeof title, "%s: no variant measured ok and no peer timed", p->label);
        else
            snprintf(title, sizeof title, "Forward TFLOP/s vs sequence length: %s, %s", d->arch,
                     p->label);
        bad |= add_plot(d, &cap, FA_PLOT_TFLOPS, i, stem, title, skip);
    }
    for (int i = 0; i < d->n_panels; i++) {
        const fa_report_panel *p = &d->panels[i];
        int skip = !p->has_ratio;
        snprintf(stem, sizeof stem, "speedup_%s", p->stem);
        if (skip)
            snprintf(title, sizeof title, "%s: no eager timing beside a TFLOP/s figure", p->label);
        else
            snprintf(title, sizeof title, "Speed-up over eager attention: %s, %s", d->arch,
                     p->label);
        bad |= add_plot(d, &cap, FA_PLOT_SPEEDUP, i, stem, title, skip);
    }
    for (int i = 0; i < d->n_panels; i++) {
        const fa_report_panel *p = &d->panels[i];
        int skip = !p->has_memory;
        snprintf(stem, sizeof stem, "memory_%s", p->stem);
        if (skip)
            snprintf(title, sizeof title, "%s: no peak-memory figures stored", p->label);
        else
            snprintf(title, sizeof title, "Peak extra device memory vs sequence length: %s, %s",
                     d->arch, p->label);
        bad |= add_plot(d, &cap, FA_PLOT_MEMORY, i, stem, title, skip);
    }
    for (int i = 0; i < d->n_dpanels; i++) {
        const fa_report_dpanel *p = &d->dpanels[i];
        int skip = !(p->max_tbps > 0);
        snprintf(stem, sizeof stem, "decode_%s", p->stem);
        if (skip)
            snprintf(title, sizeof title, "decode %s: no variant measured ok", p->label);
        else
            snprintf(title, sizeof title, "Decode K/V TB/s vs cache rows: %s, %s", d->arch,
                     p->label);
        bad |= add_plot(d, &cap, FA_PLOT_DECODE, i, stem, title, skip);
    }
    for (int i = 0; i < d->n_heatmaps; i++) {
        const fa_report_heatmap *h = &d->heatmaps[i];
        const fa_family *f = h->family;
        snprintf(stem, sizeof stem, "heatmap_%s", f->name);
        if (h->note[0])
            snprintf(title, sizeof title, "%s", h->note);
        else
            snprintf(title, sizeof title, "TFLOP/s by tile size, %s family: %s, %s", f->name,
                     d->arch, h->problem);
        bad |= add_plot(d, &cap, FA_PLOT_HEATMAP, -1, stem, title, h->note[0] != 0);
        if (!bad) {
            d->plots[d->n_plots - 1].heatmap = h->note[0] ? -1 : i;
            d->plots[d->n_plots - 1].family = f;
        }
    }
    if (d->n_series > 0) {
        snprintf(title, sizeof title, "Tuning convergence, best TFLOP/s so far: %s, %s", d->arch,
                 d->problem);
        bad |= add_plot(d, &cap, FA_PLOT_CONVERGENCE, -1, "convergence", title, 0);
    } else if (d->problem[0]) {
        snprintf(title, sizeof title, "%s: no variant measured ok", d->problem);
        bad |= add_plot(d, &cap, FA_PLOT_CONVERGENCE, -1, "convergence", title, 1);
    }
    if (d->n_compile > 0) {
        snprintf(title, sizeof title,
                 "NVRTC compile time per variant: %s (%d compiles, cache hits left out)", d->arch,
                 d->n_compile);
        bad |= add_plot(d, &cap, FA_PLOT_COMPILE, -1, "compile_time", title, 0);
    }
    /* compile-only: one registers grid per family, on its own tile axes, like the heatmaps */
    for (int i = 0; d->compile_only && i < d->n_tiles; i++) {
        const fa_family *f = d->tiles[i].family;
        if (i > 0 && d->tiles[i - 1].family == f)
            continue;
        int variants = 0;
        for (int k = i; k < d->n_tiles && d->tiles[k].family == f; k++)
            variants += d->tiles[k].variants;
        snprintf(stem, sizeof stem, "registers_%s", f->name);
        snprintf(title, sizeof title,
                 "Registers and shared memory by tile size, %s family: %s, %d variants compiled",
                 f->name, d->arch, variants);
        bad |= add_plot(d, &cap, FA_PLOT_REGISTERS, -1, stem, title, 0);
        if (!bad)
            d->plots[d->n_plots - 1].family = f;
    }
    return bad ? FA_ERR(err, FA_NOMEM, "cannot list the report plots: out of memory") : FA_OK;
}

static void build_footer(fa_report_data *d)
{
    char date[FA_DB_TIME_MAX];
    copy(date, sizeof date, d->data_date);
    if (strlen(date) >= 16) {
        date[10] = ' ';
        date[16] = '\0';
    }
    if (d->compile_only) {
        textf(d->footer, sizeof d->footer,
              "%s | compile only, no GPU timings | fa-tune %s | data of %s%s", d->arch,
              d->versions[0] ? d->versions : "?", date[0] ? date : "?", date[0] ? " UTC" : "");
        return;
    }
    textf(d->footer, sizeof d->footer, "%s | %s | CUDA driver %s | fa-tune %s | data of %s%s",
          d->arch, d->gpus[0] ? d->gpus : "unknown GPU", d->drivers[0] ? d->drivers : "?",
          d->versions[0] ? d->versions : "?", date[0] ? date : "?", date[0] ? " UTC" : "");
}

fa_status fa_report_data_load(fa_db *db, const char *arch, const char *problem, fa_report_data *d,
                              fa_err *err)
{
    fa_status st = FA_OK;
    loader L;
    memset(&L, 0, sizeof L);
    memset(d, 0, sizeof *d);
    L.d = d;
    copy(d->arch, sizeof d->arch, arch);
    copy(d->db_path, sizeof d->db_path, fa_db_path(db));
    d->copy_tbps = NAN;

    fa_db_filter f = {0};
    f.arch = arch;
#define LOAD(call)                                                                                 \
    do {                                                                                           \
        if ((st = (call)) != FA_OK)                                                                \
            goto cleanup;                                                                          \
        if (L.nomem) {                                                                             \
            st = FA_ERR(err, FA_NOMEM, "cannot read '%s': out of memory", d->db_path);             \
            goto cleanup;                                                                          \
        }                                                                                          \
    } while (0)
    LOAD(fa_db_measurements(db, &f, on_row, &L, err));
    LOAD(fa_db_peers(db, arch, on_peer, &L, err));
    LOAD(fa_db_runs(db, arch, on_run, &L, err));
    LOAD(fa_db_winners(db, arch, on_winner, &L, err));
    LOAD(fa_db_decode_winners(db, arch, on_decode_winner, &L, err));
#undef LOAD

    for (int k = 0; k < d->n_peers; k++) {
        if (k == 0)
            copy(d->peer_version, sizeof d->peer_version, d->peer_versions[0]);
        else if (strcmp(d->peer_version, d->peer_versions[k]) != 0)
            d->peer_version[0] = '\0';
    }

    /* rows from a real device that were timed (a failed check or a refused shape has no
       time): the count the index's opening sentence gives */
    int timed = 0, dtimed = 0;
    for (int i = 0; i < L.n_rows; i++)
        timed += !L.rows[i].compile_only && L.rows[i].median_ms > 0;
    for (int i = 0; i < L.n_drows; i++)
        dtimed += L.drows[i].tbps > 0;
    d->n_measurements = timed;
    d->n_decode_measurements = dtimed;
    if (!L.n_rows && !L.n_drows && !L.n_peers) {
        st = FA_ERR(err, FA_NOT_FOUND,
                    "no measurements for %s in '%s': run 'fa-tune --arch %s --headdim 128' "
                    "first (on a GPU of that arch to time; without one it compiles only), or "
                    "--db to read another file",
                    arch, d->db_path, arch);
        goto cleanup;
    }
    if (!timed && !L.n_drows && !L.n_peers) {
        /* compile-only: no speed to draw, but the builds say a lot; and how to time them */
        if (problem) {
            st = FA_ERR(err, FA_NOT_FOUND,
                        "no timed measurements of problem '%s' for %s in '%s': it holds only "
                        "compile-only results",
                        problem, arch, d->db_path);
            goto cleanup;
        }
        d->compile_only = 1;
        build_timing_cmds(&L);
        if ((st = build_resources(&L, err)) != FA_OK || (st = build_compile(&L, err)) != FA_OK)
            goto cleanup;
        build_footer(d);
        st = build_plots(d, err);
        goto cleanup;
    }

    mark_latest(&L);
    pick_best(&L);
    if ((st = build_panels(&L, err)) != FA_OK)
        goto cleanup;
    for (int i = 0; i < d->n_panels; i++) {
        double t = 0;
        int found = 0;
        if ((st = fa_db_ceiling_best(db, arch, d->panels[i].dtype, &t, &found, err)) != FA_OK)
            goto cleanup;
        d->panels[i].ceiling = found && t > 0 ? measured(t, MAX_RATE) : NAN;
    }
    if ((st = build_dpanels(&L, err)) != FA_OK)
        goto cleanup;
    if (d->n_dpanels > 0 && (st = fa_db_ceilings(db, arch, on_ceiling, d, err)) != FA_OK)
        goto cleanup;

    /* the heatmap and convergence problem */
    int pi = -1;
    if (problem) {
        pi = find_problem(&L, problem);
        if (pi < 0 || !L.problems[pi].timed) {
            st = FA_ERR(err, FA_NOT_FOUND,
                        "no timed measurements of problem '%s' for %s in '%s' ('fa-tune db "
                        "list' shows the problems stored)",
                        problem, arch, d->db_path);
            goto cleanup;
        }
    } else {
        for (int i = 0; i < L.n_problems; i++)
            if (L.problems[i].timed && L.problems[i].ok_variants > 0 &&
                (pi < 0 || L.problems[i].ok_variants > L.problems[pi].ok_variants))
                pi = i;
    }
    if (pi >= 0) {
        copy(d->problem, sizeof d->problem, L.problems[pi].name);
        if ((st = build_convergence(&L, pi, err)) != FA_OK)
            goto cleanup;
    }
    if ((st = build_heatmaps(&L, pi, problem != NULL, err)) != FA_OK)
        goto cleanup;
    if ((st = build_compile(&L, err)) != FA_OK)
        goto cleanup;
    build_footer(d);
    st = build_plots(d, err);

cleanup:
    free(L.rows);
    free(L.problems);
    free(L.peers);
    free(L.runs);
    free(L.drows);
    free(L.dbuilds);
    if (st != FA_OK)
        fa_report_data_release(d);
    return st;
}

void fa_report_data_release(fa_report_data *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n_panels; i++)
        free(d->panels[i].points);
    free(d->panels);
    for (int i = 0; i < d->n_dpanels; i++)
        free(d->dpanels[i].points);
    free(d->dpanels);
    for (int i = 0; i < d->n_heatmaps; i++) {
        free(d->heatmaps[i].cells);
        free(d->heatmaps[i].block_ms);
        free(d->heatmaps[i].block_ns);
    }
    free(d->heatmaps);
    for (int i = 0; i < d->n_series; i++)
        free(d->series[i].steps);
    free(d->series);
    free(d->compile_ms);
    free(d->tiles);
    free(d->spills);
    free(d->winners);
    free(d->plots);
    memset(d, 0, sizeof *d);
}
