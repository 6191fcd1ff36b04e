/*
 * This file implements the GPU worker process (see fa_worker.h): fork + exec of the worker
 * entry point (fa_worker_main_hook), a small message protocol over a socketpair, the
 * watchdog, fault classification and restarts.
 *
 * Why exec: NVRTC loads libcuda and calls cuInit, so once the parent has compiled anything
 * it has an initialised CUDA driver, and a plain fork()ed child inherits that state in a form
 * that cannot be used (cuInit in the child fails with CUDA_ERROR_NOT_INITIALIZED: found on an
 * H100, where every restart after the first compile failed). An exec()ed child starts from a
 * fresh process image.
 *
 * Start: the parent forks; between fork and exec the child makes only async-signal-safe calls
 * (the parent may have other threads, whose locks the child's copy of memory holds frozen),
 * then execs "<exe> --fa-tune-worker <fd> <ordinal> <eager budget> <parent pid> <abi>", where
 * fd is its end of the socket (FD_CLOEXEC cleared) and abi a digest of the wire structs'
 * sizes. <exe> is /proc/self/exe -- the very file the parent runs, even if it was rebuilt or
 * deleted since -- or $FA_TUNE_WORKER_EXE. If exec fails the child sends START_FAILED {exec,
 * errno} and exits 127; a worker whose abi differs sends START_FAILED {abi}.
 *
 * Protocol: every message is a header {magic, type, payload length} and a payload of plain
 * structs (parent and child run the same binary, so layouts agree; the abi check refuses a
 * FA_TUNE_WORKER_EXE of another layout) plus raw cubin bytes.
 *   child -> parent  START_FAILED {why, errno}  (instead of HELLO: the worker did not start)
 *   child -> parent  HELLO   {status, message, device info, eager availability}
 *   parent -> child  HELPERS {dtype, head dim, size} + cubin      child -> parent  ACK
 *   parent -> child  JOB     {job fields, size, slot} [+ cubin]   child -> parent  RESULT
 *   parent -> child  RETIME  {n} + n x {job fields, size, slot} [+ cubins]
 *                                                                 child -> parent  RESULT_N
 *   parent -> child  STOP
 * A job's cubin travels only when the child does not hold it yet in the slot the parent named
 * (fa_cubin_store.h); otherwise the child takes it from its store.
 * A socket (not a pipe) so writes to a dead child fail with EPIPE under MSG_NOSIGNAL instead
 * of raising SIGPIPE in the tuner.
 */
#include "fa_worker.h"
#include "fa_family.h"

#include "fa_parse.h"
#include "fa_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fa_cubin_store.h"
#include "fa_runner.h"

#define FA_WIRE_MAGIC 0x4641574Bu /* "FAWK" */

enum {
    MSG_HELLO = 1,
    MSG_HELPERS,
    MSG_ACK,
    MSG_JOB,
    MSG_RESULT,
    MSG_RETIME,
    MSG_RESULT_N,
    MSG_STOP,
    /* A fixed value with a fixed payload (two int32): understood across builds, which is
     * what the abi check needs to report a mismatch. */
    MSG_START_FAILED = 0x100
};

/* MSG_START_FAILED's first field. */
enum { START_EXEC = 1, START_ABI = 2 };

#define FA_WORKER_FLAG "--fa-tune-worker"
/* The child's exit status when exec fails (the shell's "cannot run"). */
#define FA_WORKER_EXIT_EXEC 127
/* fa_worker_main_hook's answer to a malformed worker invocation (a usage error). */
#define FA_WORKER_EXIT_USAGE 2

typedef struct wire_hdr {
    uint32_t magic, type;
    uint64_t len;
} wire_hdr;

typedef struct wire_status {
    int32_t status; /* the harness's own status (not the measurement's) */
    int32_t fatal;  /* 1: the child exits after this message (its context is lost) */
    int32_t culprit;
    int32_t n;
    char msg[1024];
} wire_status;

typedef struct wire_hello {
    wire_status s;
    fa_device_info info;
    char eager_why[512];
} wire_hello;

typedef struct wire_helpers {
    int32_t dtype, head_dim;
    uint64_t size;
} wire_helpers;

typedef struct wire_job {
    fa_problem problem;
    fa_variant variant;
    fa_build_info build;
    fa_timing_opts timing;
    uint32_t what;
    uint32_t has_cubin;
    uint32_t cubin_slot; /* where the child holds the cubin (fa_cubin_store.h) */
    uint32_t cubin_sent; /* 1: the cubin's bytes follow in this message, for that slot */
    uint64_t seed;
    uint64_t cubin_size;
    uint64_t cubin_hash; /* its fa_content_hash: the child's loaded modules are keyed by it */
    int32_t family;      /* the variant's family by registry index: a pointer is not an address in
                            the exec'd worker */
    char symbol[1024];
} wire_job;

typedef struct wire_result {
    wire_status s;
    fa_measurement m;
    fa_harness_detail d;
} wire_result;

struct fa_worker {
    int ordinal;
    fa_worker_opts opts;
    char exe[PATH_MAX];      /* what the child execs: /proc/self/exe or $FA_TUNE_WORKER_EXE */
    char exe_name[PATH_MAX]; /* the same, as messages and the child's argv[0] name it */
    pid_t pid;
    int fd;
    int alive;
    int restarts;
    fa_device_info info;
    char arch[16];
    char eager_why[512];
    struct {
        void *cubin;
        size_t size;
    } helpers[2][8];
    unsigned sent[2]; /* bit i: helpers for head dim index i are loaded in the current child */
    uint64_t seed_state;
    fa_cubin_ledger ledger;    /* the cubins the current child holds (fa_cubin_store.h) */
    long prof_sent, prof_held; /* FA_PROFILE: cubins sent with a job, and held by the child */
    long prof_msgs;            /* FA_PROFILE: jobs and re-timings sent, */
    double prof_wait_s;        /* and the seconds from sending each to reading its answer */
};

/* The parent's ledger says the child holds a cubin it may not: a message placed cubins and
 * was never sent, or the child refused one (its store could not keep a copy). An empty ledger
 * is always safe: every cubin is sent again, and the child's store replaces what a slot held. */
static void forget_cubins(fa_worker *w)
{
    memset(&w->ledger, 0, sizeof w->ledger);
}

static void copy_str(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);
    if (len > n - 1)
        len = n - 1;
    memcpy(dst, src, len);
    dst[len] = 0;
}

/* ---- socket I/O ------------------------------------------------------------------------ */

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* 0 ok, -1 end of stream or error, -2 deadline passed (deadline <= 0: wait for ever). */
static int read_all(int fd, void *buf, size_t n, double deadline)
{
    char *p = buf;
    while (n > 0) {
        if (deadline > 0) {
            double left = deadline - fa_now_s();
            if (left <= 0)
                return -2;
            struct pollfd pfd = {fd, POLLIN, 0};
            int pr = poll(&pfd, 1, left > 1e6 ? 1000000000 : (int)(left * 1000) + 1);
            if (pr < 0 && errno == EINTR)
                continue;
            if (pr < 0)
                return -1;
            if (pr == 0)
                return -2;
        }
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int send_msg(int fd, uint32_t type, const void *a, size_t na, const void *b, size_t nb)
{
    wire_hdr h = {FA_WIRE_MAGIC, type, (uint64_t)(na + nb)};
    if (write_all(fd, &h, sizeof h) || (na && write_all(fd, a, na)) || (nb && write_all(fd, b, nb)))
        return -1;
    return 0;
}

/* Read one message of any type; *payload is malloc'ed (caller frees). */
static int recv_any(int fd, uint32_t *type, void **payload, size_t *len, double deadline)
{
    wire_hdr h;
    *payload = NULL;
    int rc = read_all(fd, &h, sizeof h, deadline);
    if (rc)
        return rc;
    if (h.magic != FA_WIRE_MAGIC || h.len > ((uint64_t)1 << 34))
        return -1;
    void *p = malloc(h.len > 0 ? (size_t)h.len : 1);
    if (!p)
        return -1;
    rc = read_all(fd, p, (size_t)h.len, deadline);
    if (rc) {
        free(p);
        return rc;
    }
    *type = h.type;
    *payload = p;
    *len = (size_t)h.len;
    return 0;
}

/* Read one message of an expected type; *payload is malloc'ed (caller frees). */
static int recv_msg(int fd, uint32_t type, void **payload, size_t *len, double deadline)
{
    uint32_t got = 0;
    int rc = recv_any(fd, &got, payload, len, deadline);
    if (rc == 0 && got != type) {
        free(*payload);
        *payload = NULL;
        return -1;
    }
    return rc;
}

/* A digest of the layouts both ends must agree on: a worker from another build (through
 * FA_TUNE_WORKER_EXE) is refused at the door instead of misreading jobs. */
static uint64_t wire_abi(void)
{
    const uint64_t sizes[] = {
        sizeof(wire_hdr),          sizeof(wire_status),    sizeof(wire_hello),
        sizeof(wire_helpers),      sizeof(wire_job),       sizeof(wire_result),
        sizeof(fa_device_info),    sizeof(fa_problem),     sizeof(fa_variant),
        sizeof(fa_build_info),     sizeof(fa_timing_opts), sizeof(fa_measurement),
        sizeof(fa_harness_detail), FA_RETIME_MAX,          FA_CUBIN_SLOTS};
    uint64_t h = FA_WIRE_MAGIC;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        h = fa_mix64(h ^ (sizes[i] + 0x9E3779B97F4A7C15ull * (i + 1)));
    return h;
}

/* ---- the child ------------------------------------------------------------------------- */

static void wire_from_job(const fa_job *j, uint64_t seed, wire_job *w)
{
    memset(w, 0, sizeof *w);
    w->problem = j->problem;
    w->variant = j->variant;
    w->variant.family = NULL;
    w->family = fa_family_index(j->variant.family);
    w->build = j->build;
    w->timing = j->timing;
    w->what = j->what;
    w->has_cubin = j->cubin != NULL;
    w->seed = seed;
    w->cubin_size = j->cubin ? j->cubin_size : 0;
    w->cubin_hash = j->cubin ? j->cubin_hash : 0;
    if (j->symbol)
        copy_str(w->symbol, sizeof w->symbol, j->symbol);
}

static void job_from_wire(const wire_job *w, const void *cubin, fa_job *j)
{
    memset(j, 0, sizeof *j);
    j->problem = w->problem;
    j->variant = w->variant;
    j->variant.family = fa_family_at(w->family);
    j->build = w->build;
    j->timing = w->timing;
    j->what = w->what;
    j->check_seed = w->seed;
    j->cubin = w->has_cubin ? cubin : NULL;
    j->cubin_size = (size_t)w->cubin_size;
    j->cubin_hash = w->cubin_hash;
    j->symbol = w->symbol;
}

size_t fa_worker_wire_job_bytes(void)
{
    return sizeof(wire_job);
}

void fa_worker_wire_job_roundtrip(const fa_job *in, uint64_t seed, void *buf, fa_job *out)
{
    wire_job w;
    wire_from_job(in, seed, &w);
    memcpy(buf, &w, sizeof w); /* the bytes the pipe carries */
    job_from_wire((const wire_job *)buf, NULL, out);
}

static void status_set(wire_status *s, fa_status st, const fa_err *e)
{
    s->status = st;
    if (st != FA_OK)
        copy_str(s->msg, sizeof s->msg, e->msg[0] ? e->msg : fa_status_str(st));
}

/* FA_PROFILE: where a child's time goes between a message's header and its answer, so the
 * engine's "GPU busy" can be split into the runner's phases, the runner's own bookkeeping
 * around them, and the messages (reading a job's payload, decoding, answering). */
typedef struct child_prof {
    long msgs;
    double handling_s, reading_s, runner_s;
} child_prof;

static void child_prof_print(const child_prof *cp, int ordinal)
{
    if (!fa_profile_on() || cp->msgs == 0)
        return;
    fprintf(stderr,
            "fa-tune profile (worker %d): %ld messages, %.1f s handling them: payloads %.1f s, "
            "runner calls %.1f s, the rest %.1f s\n",
            ordinal, cp->msgs, cp->handling_s, cp->reading_s, cp->runner_s,
            cp->handling_s - cp->reading_s - cp->runner_s);
}

/* A job's cubin: the bytes at *next (when the message carries them: kept in the store for
 * later jobs, *next moves past them) or the ones the store holds in the job's slot. 0: the
 * message is short, or names a slot the store does not hold (the two sides disagree). */
static int child_cubin(fa_cubin_store *st, const wire_job *w, const char **next, const char *end,
                       const void **out)
{
    *out = NULL;
    if (!w->has_cubin)
        return 1;
    if (w->cubin_sent) {
        if (*next > end || (size_t)(end - *next) < w->cubin_size)
            return 0;
        *out = fa_cubin_store_put(st, w->cubin_slot, *next, (size_t)w->cubin_size);
        *next += w->cubin_size;
    } else {
        *out = fa_cubin_store_get(st, w->cubin_slot, (size_t)w->cubin_size);
    }
    return *out != NULL;
}

static void child_job(fa_runner *r, int fd, const void *payload, size_t len, fa_cubin_store *st,
                      child_prof *cp)
{
    wire_result res;
    memset(&res, 0, sizeof res);
    fa_err e;
    fa_err_clear(&e);
    const wire_job *w = payload;
    const char *next = (const char *)payload + sizeof *w, *end = (const char *)payload + len;
    const void *cubin = NULL;
    fa_job job;
    if (len < sizeof *w || !child_cubin(st, w, &next, end, &cubin)) {
        status_set(&res.s,
                   FA_ERR(&e, FA_INVALID, "truncated job message, or its cubin is not held"), &e);
    } else {
        job_from_wire(w, cubin, &job);
        const double t = fa_now_s();
        status_set(&res.s, fa_runner_run(r, &job, &res.m, &res.d, &e), &e);
        cp->runner_s += fa_now_s() - t;
    }
    res.s.fatal = fa_runner_poisoned(r);
    send_msg(fd, MSG_RESULT, &res, sizeof res, NULL, 0);
}

static void child_retime(fa_runner *r, int fd, const void *payload, size_t len, fa_cubin_store *st,
                         child_prof *cp)
{
    wire_status s;
    memset(&s, 0, sizeof s);
    fa_err e;
    fa_err_clear(&e);
    fa_job jobs[FA_RETIME_MAX];
    fa_measurement ms[FA_RETIME_MAX];
    int32_t n = 0;
    if (len >= sizeof n)
        memcpy(&n, payload, sizeof n);
    const char *p = (const char *)payload + sizeof n, *end = (const char *)payload + len;
    int ok = n >= 1 && n <= FA_RETIME_MAX && (size_t)(end - p) >= (size_t)n * sizeof(wire_job);
    const wire_job *wj = (const wire_job *)p;
    const char *next = p + (size_t)(ok ? n : 0) * sizeof *wj;
    for (int i = 0; ok && i < n; i++) {
        const void *cubin = NULL;
        ok = child_cubin(st, &wj[i], &next, end, &cubin);
        if (ok)
            job_from_wire(&wj[i], cubin, &jobs[i]);
    }
    s.culprit = -1;
    if (!ok)
        status_set(&s, FA_ERR(&e, FA_INVALID, "malformed retime message, or a cubin not held"), &e);
    else {
        const double t = fa_now_s();
        status_set(&s, fa_runner_retime(r, jobs, n, ms, &s.culprit, &e), &e);
        cp->runner_s += fa_now_s() - t;
    }
    s.n = ok && s.status == FA_OK ? n : 0;
    s.fatal = fa_runner_poisoned(r);
    send_msg(fd, MSG_RESULT_N, &s, sizeof s, ms, (size_t)s.n * sizeof ms[0]);
}

/* The worker process, after exec (fa_worker_main_hook). */
_Noreturn static void child_main(int fd, int ordinal, int64_t eager_budget_bytes, pid_t parent)
{
    /* Ctrl-C goes to the whole process group: the parent decides what an interrupt means,
     * the child must not die of it and be mistaken for a fault. (Ignored before exec too, so
     * there is no window; set again for a worker started by hand.) */
    signal(SIGINT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(0);

    wire_hello hello;
    memset(&hello, 0, sizeof hello);
    fa_err e;
    fa_err_clear(&e);
    fa_runner_opts ro = {eager_budget_bytes, 0};
    fa_runner *r = NULL;
    status_set(&hello.s, fa_runner_new(ordinal, &ro, &r, &e), &e);
    if (r) {
        hello.info = *fa_runner_device(r);
        const char *why = fa_runner_eager_unavailable(r);
        if (why)
            copy_str(hello.eager_why, sizeof hello.eager_why, why);
    }
    send_msg(fd, MSG_HELLO, &hello, sizeof hello, NULL, 0);
    child_prof cp = {0};
    fa_cubin_store store;
    memset(&store, 0, sizeof store);
    while (r) {
        wire_hdr h;
        if (read_all(fd, &h, sizeof h, 0) || h.magic != FA_WIRE_MAGIC || h.type == MSG_STOP)
            break;
        const double t0 = fa_now_s(); /* the header is in: the parent is waiting from here */
        void *payload = malloc(h.len > 0 ? (size_t)h.len : 1);
        if (!payload || read_all(fd, payload, (size_t)h.len, 0)) {
            free(payload);
            break;
        }
        cp.reading_s += fa_now_s() - t0;
        if (h.type == MSG_HELPERS) {
            wire_status s;
            memset(&s, 0, sizeof s);
            const wire_helpers *wh = payload;
            if (h.len < sizeof *wh || h.len - sizeof *wh < wh->size)
                status_set(&s, FA_ERR(&e, FA_INVALID, "truncated helpers message"), &e);
            else
                status_set(&s,
                           fa_runner_load_helpers(r, (fa_dtype)wh->dtype, wh->head_dim,
                                                  (const char *)payload + sizeof *wh,
                                                  (size_t)wh->size, &e),
                           &e);
            send_msg(fd, MSG_ACK, &s, sizeof s, NULL, 0);
        } else if (h.type == MSG_JOB) {
            child_job(r, fd, payload, (size_t)h.len, &store, &cp);
        } else if (h.type == MSG_RETIME) {
            child_retime(r, fd, payload, (size_t)h.len, &store, &cp);
        }
        free(payload);
        cp.msgs++;
        cp.handling_s += fa_now_s() - t0;
        if (fa_runner_poisoned(r))
            break; /* the context is gone: exit, the parent starts a fresh child */
    }
    child_prof_print(&cp, ordinal);
    fa_cubin_store_clear(&store);
    /* A poisoned context is not torn down: the process exit releases it. */
    if (r && !fa_runner_poisoned(r))
        fa_runner_free(r);
    close(fd);
    /* Never exit(): the driver's and the program's exit handlers must not run over a context
     * a fault poisoned (they can hang), and the program's main() has nothing to add. */
    _exit(0);
}

static int parse_ll(const char *s, long long lo, long long hi, long long *out)
{
    int64_t x;
    if (fa_parse_int64(s, lo, hi, 0, &x) != 0)
        return -1;
    *out = x;
    return 0;
}

int fa_worker_main_hook(int argc, char **argv)
{
    if (argc < 2 || !argv || !argv[1] || strcmp(argv[1], FA_WORKER_FLAG) != 0)
        return -1;
    long long fd = -1, ordinal = 0, budget = 0, parent = 0;
    if (argc != 7 || parse_ll(argv[2], 0, INT_MAX, &fd) ||
        parse_ll(argv[3], 0, INT_MAX, &ordinal) || parse_ll(argv[4], 0, INT64_MAX, &budget) ||
        parse_ll(argv[5], 1, INT_MAX, &parent))
        return FA_WORKER_EXIT_USAGE;
    uint64_t abi;
    if (fa_parse_uint64(argv[6], &abi) != 0)
        return FA_WORKER_EXIT_USAGE;
    /* Only a socket is a parent's end: never talk the protocol into a terminal or a file. */
    struct stat sb;
    if (fstat((int)fd, &sb) != 0 || !S_ISSOCK(sb.st_mode))
        return FA_WORKER_EXIT_USAGE;
    fcntl((int)fd, F_SETFD, FD_CLOEXEC); /* nothing the worker might run inherits it */
    if ((uint64_t)abi != wire_abi()) {
        const int32_t why[2] = {START_ABI, 0};
        send_msg((int)fd, MSG_START_FAILED, why, sizeof why, NULL, 0);
        close((int)fd);
        return FA_WORKER_EXIT_USAGE;
    }
    child_main((int)fd, (int)ordinal, (int64_t)budget, (pid_t)parent);
}

/* ---- the parent ------------------------------------------------------------------------ */

void fa_worker_opts_default(fa_worker_opts *o)
{
    memset(o, 0, sizeof *o);
    o->job_timeout_s = 300;
    o->start_timeout_s = 120;
}

/* Collect the child (killing it first if asked, or if it lingers) and say how it ended.
 * Returns its wait status, or -1 when there was none to collect. */
static int reap(fa_worker *w, int kill_first, char *why, size_t n)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    w->alive = 0;
    if (w->pid <= 0) {
        if (why)
            copy_str(why, n, "worker was not running");
        return -1;
    }
    if (kill_first)
        kill(w->pid, SIGKILL);
    int status = 0;
    pid_t got = 0;
    const double give_up = fa_now_s() + 5;
    while ((got = waitpid(w->pid, &status, WNOHANG)) == 0 && fa_now_s() < give_up) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (got == 0) { /* a child that closed its socket but will not exit */
        kill(w->pid, SIGKILL);
        got = waitpid(w->pid, &status, 0);
    }
    if (why) {
        if (got == w->pid && WIFSIGNALED(status))
            snprintf(why, n, "worker killed by signal %d (%s)", WTERMSIG(status),
                     strsignal(WTERMSIG(status)));
        else if (got == w->pid && WIFEXITED(status))
            snprintf(why, n, "worker exited with status %d", WEXITSTATUS(status));
        else
            snprintf(why, n, "worker vanished");
    }
    const int collected = got == w->pid;
    w->pid = -1;
    return collected ? status : -1;
}

/* The child's side of spawn, between fork and exec: async-signal-safe calls only (see the
 * file comment). Everything it needs was prepared by the parent before fork. */
_Noreturn static void exec_child(int fd, const char *exe, char *const *argv,
                                 const struct sigaction *ignore, const sigset_t *none)
{
    /* Ctrl-C must not kill a worker that is still starting (ignored dispositions survive
     * exec); a mask inherited from the forking thread must not block the worker's signals. */
    sigaction(SIGINT, ignore, NULL);
    sigprocmask(SIG_SETMASK, none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* kept across exec; the worker checks its parent */
    if (fcntl(fd, F_SETFD, 0) == 0)   /* the socket must survive exec */
        execv(exe, argv);
    const int32_t why[2] = {START_EXEC, errno};
    send_msg(fd, MSG_START_FAILED, why, sizeof why, NULL, 0);
    _exit(FA_WORKER_EXIT_EXEC);
}

static fa_status spawn(fa_worker *w, fa_err *err)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return FA_ERR(err, FA_ERROR, "cannot create the worker socket: %s", strerror(errno));
    /* The exec'd worker's arguments, and the signal settings, made before fork: after it
     * the child may not call snprintf or malloc. */
    char flag[] = FA_WORKER_FLAG, a_fd[24], a_ord[24], a_budget[32], a_parent[24], a_abi[24];
    snprintf(a_fd, sizeof a_fd, "%d", sv[1]);
    snprintf(a_ord, sizeof a_ord, "%d", w->ordinal);
    snprintf(a_budget, sizeof a_budget, "%lld",
             (long long)(w->opts.eager_budget_bytes > 0 ? w->opts.eager_budget_bytes : 0));
    snprintf(a_parent, sizeof a_parent, "%ld", (long)getpid());
    snprintf(a_abi, sizeof a_abi, "0x%llx", (unsigned long long)wire_abi());
    char *const argv[] = {w->exe_name, flag, a_fd, a_ord, a_budget, a_parent, a_abi, NULL};
    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigset_t none;
    sigemptyset(&none);

    const pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return FA_ERR(err, FA_ERROR, "cannot fork the GPU worker: %s", strerror(errno));
    }
    if (pid == 0) {
        close(sv[0]);
        exec_child(sv[1], w->exe, argv, &ignore, &none);
    }
    close(sv[1]);
    w->fd = sv[0];
    w->pid = pid;
    w->alive = 1;
    w->sent[0] = w->sent[1] = 0;
    forget_cubins(w); /* a fresh child holds no cubin */

    void *payload = NULL;
    size_t len = 0;
    uint32_t type = 0;
    int rc = recv_any(w->fd, &type, &payload, &len, fa_now_s() + w->opts.start_timeout_s);
    if (rc == 0 && type == MSG_START_FAILED) {
        int32_t why[2] = {0, 0};
        if (len >= sizeof why)
            memcpy(why, payload, sizeof why);
        free(payload);
        reap(w, 1, NULL, 0);
        if (why[0] == START_ABI)
            return FA_ERR(err, FA_ERROR,
                          "cannot start the GPU worker '%s': it is another build of fa-tune "
                          "(its messages do not match this one's); point FA_TUNE_WORKER_EXE at "
                          "this build or unset it",
                          w->exe_name);
        return FA_ERR(err, FA_ERROR, "cannot start the GPU worker '%s': %s", w->exe_name,
                      strerror(why[1]));
    }
    if (rc || type != MSG_HELLO || len < sizeof(wire_hello)) {
        char why[256];
        /* A timeout or a garbled greeting: kill it. An end of stream: it is exiting. */
        const int ws = reap(w, rc != -1, why, sizeof why);
        free(payload);
        if (rc == -2)
            return FA_ERR(err, FA_ERROR, "GPU worker for device %d did not start in %g s",
                          w->ordinal, w->opts.start_timeout_s);
        if (ws != -1 && WIFEXITED(ws) && WEXITSTATUS(ws) == FA_WORKER_EXIT_EXEC)
            return FA_ERR(err, FA_ERROR, "cannot start the GPU worker '%s': exec failed (%s)",
                          w->exe_name, why);
        if (ws != -1 && WIFEXITED(ws))
            /* Not killed, no greeting: the program did not run as a worker. */
            return FA_ERR(err, FA_ERROR,
                          "GPU worker for device %d failed to start: %s without answering "
                          "('%s' must call fa_worker_main_hook first thing in main)",
                          w->ordinal, why, w->exe_name);
        return FA_ERR(err, FA_ERROR, "GPU worker for device %d failed to start: %s", w->ordinal,
                      why);
    }
    wire_hello *h = payload;
    fa_status st = (fa_status)h->s.status;
    if (st != FA_OK) {
        fa_err_set(err, st, __FILE__, __LINE__, "%s", h->s.msg);
        free(payload);
        reap(w, 0, NULL, 0);
        return st;
    }
    w->info = h->info;
    copy_str(w->eager_why, sizeof w->eager_why, h->eager_why);
    fa_device_nvrtc_arch(&w->info, w->arch, sizeof w->arch);
    free(payload);
    return FA_OK;
}

/* The program the children exec: $FA_TUNE_WORKER_EXE, else this process's own executable.
 * /proc/self/exe itself is exec'd, not the name it links to: it is the very file this process
 * runs even if a rebuild replaced or deleted that name meanwhile, so the worker always speaks
 * this build's protocol. The name is kept for messages. */
static fa_status find_exe(fa_worker *w, fa_err *err)
{
    const char *env = getenv("FA_TUNE_WORKER_EXE");
    if (env && *env) {
        if (strlen(env) >= sizeof w->exe)
            return FA_ERR(err, FA_INVALID, "FA_TUNE_WORKER_EXE is longer than %d bytes",
                          (int)sizeof w->exe - 1);
        copy_str(w->exe, sizeof w->exe, env);
        copy_str(w->exe_name, sizeof w->exe_name, env);
        return FA_OK;
    }
    const ssize_t k = readlink("/proc/self/exe", w->exe_name, sizeof w->exe_name - 1);
    if (k < 0)
        return FA_ERR(err, FA_ERROR,
                      "cannot find this program's executable to start the GPU worker (readlink "
                      "'/proc/self/exe': %s); set FA_TUNE_WORKER_EXE to it",
                      strerror(errno));
    w->exe_name[k] = 0;
    copy_str(w->exe, sizeof w->exe, "/proc/self/exe");
    return FA_OK;
}

fa_status fa_worker_start(int ordinal, const fa_worker_opts *opts, fa_worker **out, fa_err *err)
{
    if (!opts || !fa_compile_service_ok(&opts->compiler))
        return FA_ERR(err, FA_INVALID, "a GPU worker needs a compiler for its helper kernels");
    fa_worker *w = calloc(1, sizeof *w);
    if (!w)
        return FA_ERR(err, FA_NOMEM, "out of memory");
    w->ordinal = ordinal;
    w->opts = *opts;
    if (w->opts.job_timeout_s <= 0)
        w->opts.job_timeout_s = 300;
    if (w->opts.start_timeout_s <= 0)
        w->opts.start_timeout_s = 120;
    w->fd = -1;
    w->pid = -1;
    w->seed_state = fa_mix64((uint64_t)getpid() ^ (uint64_t)(fa_now_s() * 1e9));
    fa_status st = find_exe(w, err);
    if (st == FA_OK)
        st = spawn(w, err);
    if (st != FA_OK) {
        free(w);
        return st;
    }
    *out = w;
    return FA_OK;
}

const fa_device_info *fa_worker_device(const fa_worker *w)
{
    return &w->info;
}

const char *fa_worker_nvrtc_arch(const fa_worker *w)
{
    return w->arch;
}

const char *fa_worker_eager_unavailable(const fa_worker *w)
{
    return w->eager_why[0] ? w->eager_why : NULL;
}

int fa_worker_restarts(const fa_worker *w)
{
    return w->restarts;
}

void fa_worker_stop(fa_worker *w)
{
    if (!w)
        return;
    if (w->alive) {
        send_msg(w->fd, MSG_STOP, NULL, 0, NULL, 0);
        reap(w, 0, NULL, 0);
    }
    if (fa_profile_on() && w->prof_msgs > 0)
        fprintf(stderr,
                "fa-tune profile (worker %d, parent side): %ld messages, %.1f s from sending "
                "each to reading its answer; cubins sent %ld times, held by the child %ld times\n",
                w->ordinal, w->prof_msgs, w->prof_wait_s, w->prof_sent, w->prof_held);
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < 8; i++)
            free(w->helpers[t][i].cubin);
    free(w);
}

static fa_status ensure_alive(fa_worker *w, fa_err *err)
{
    if (w->alive)
        return FA_OK;
    fa_status st = spawn(w, err);
    if (st == FA_OK)
        w->restarts++;
    return st;
}

fa_status fa_harness_compile_helpers(const fa_compile_service *cs, fa_dtype t, int head_dim,
                                     const char *nvrtc_arch, fa_compile_output *out, fa_err *err)
{
    char src[512];
    fa_harness_helper_source(t, head_dim, src, sizeof src);
    return cs->compile_source(cs->ctx, src, FA_HELPER_ENTRY, nvrtc_arch, out, err);
}

static int head_dim_index(int head_dim)
{
    for (int i = 0; i < fa_num_head_dims && i < 8; i++)
        if (fa_head_dims[i] == head_dim)
            return i;
    return -1;
}

/* The helper module for (dtype, head dim): compiled once per worker (the compile cache makes
 * it once per machine), sent once per child. */
static fa_status ensure_helpers(fa_worker *w, fa_dtype t, int head_dim, fa_err *err)
{
    const int hi = head_dim_index(head_dim), ti = t == FA_DTYPE_BF16;
    if (hi < 0)
        return FA_ERR(err, FA_INVALID, "head dim %d is not supported (supported: %s)", head_dim,
                      fa_head_dim_list());
    if (!w->helpers[ti][hi].cubin) {
        fa_compile_output out;
        memset(&out, 0, sizeof out);
        fa_status st =
            fa_harness_compile_helpers(&w->opts.compiler, t, head_dim, w->arch, &out, err);
        if (st != FA_OK)
            return st;
        if (out.status != FA_OK) {
            const char *log = out.log ? out.log : "";
            size_t len = strlen(log);
            fa_err_set(err, FA_COMPILE_ERROR, __FILE__, __LINE__,
                       "harness helper kernels (%s, head dim %d, %s) do not compile: %s",
                       fa_dtype_name(t), head_dim, w->arch, len > 1500 ? log + len - 1500 : log);
            fa_compile_output_release(&out);
            return FA_COMPILE_ERROR;
        }
        w->helpers[ti][hi].cubin = out.cubin;
        w->helpers[ti][hi].size = out.cubin_size;
        out.cubin = NULL; /* ownership moves to the worker */
        fa_compile_output_release(&out);
    }
    if (w->sent[ti] & (1u << hi))
        return FA_OK;
    wire_helpers wh = {(int32_t)t, head_dim, (uint64_t)w->helpers[ti][hi].size};
    void *payload = NULL;
    size_t len = 0;
    int rc = send_msg(w->fd, MSG_HELPERS, &wh, sizeof wh, w->helpers[ti][hi].cubin,
                      w->helpers[ti][hi].size);
    if (!rc)
        rc = recv_msg(w->fd, MSG_ACK, &payload, &len, fa_now_s() + w->opts.start_timeout_s);
    if (rc || len < sizeof(wire_status)) {
        char why[256];
        reap(w, 1, why, sizeof why);
        free(payload);
        return FA_ERR(err, FA_ERROR, "GPU worker lost while loading the helper kernels: %s", why);
    }
    wire_status *s = payload;
    fa_status st = (fa_status)s->status;
    if (st != FA_OK)
        fa_err_set(err, st, __FILE__, __LINE__, "%s", s->msg);
    else
        w->sent[ti] |= 1u << hi;
    free(payload);
    return st;
}

static uint64_t next_seed(fa_worker *w)
{
    uint64_t s = fa_mix64(++w->seed_state ^ (uint64_t)(fa_now_s() * 1e9));
    return s ? s : 1;
}

/* The job's cubin goes to a slot of the child's store (fa_cubin_store.h): its bytes travel
 * only when the child does not hold them yet. */
static void place_cubin(fa_worker *w, const fa_job *job, wire_job *wj)
{
    int send = 0;
    if (job->cubin) {
        /* A job from the tuner carries its compile output's hash; others are hashed here. */
        wj->cubin_hash =
            job->cubin_hash ? job->cubin_hash : fa_content_hash(job->cubin, job->cubin_size);
        wj->cubin_slot =
            (uint32_t)fa_cubin_ledger_place(&w->ledger, wj->cubin_hash, job->cubin_size, &send);
        if (send)
            w->prof_sent++;
        else
            w->prof_held++;
    }
    wj->cubin_sent = (uint32_t)send;
}

static int send_job(fa_worker *w, const fa_job *job, wire_job *wj)
{
    place_cubin(w, job, wj);
    return send_msg(w->fd, MSG_JOB, wj, sizeof *wj, wj->cubin_sent ? job->cubin : NULL,
                    wj->cubin_sent ? (size_t)wj->cubin_size : 0);
}

fa_status fa_worker_check_and_time(fa_worker *w, const fa_job *job, fa_measurement *m,
                                   fa_harness_detail *d, fa_err *err)
{
    fa_status st = ensure_alive(w, err);
    if (st == FA_OK)
        st = ensure_helpers(w, job->problem.dtype, job->problem.head_dim, err);
    /* A child lost while loading helpers gets one fresh try. */
    if (st == FA_ERROR && !w->alive) {
        st = ensure_alive(w, err);
        if (st == FA_OK)
            st = ensure_helpers(w, job->problem.dtype, job->problem.head_dim, err);
    }
    if (st != FA_OK)
        return st;
    /* The parent picks the seed, so even a job whose worker dies records what it ran on (but
     * for a check on its problem's kept inputs, which records theirs when it returns). */
    const uint64_t seed = job->check_seed ? job->check_seed : next_seed(w);
    wire_job wj;
    wire_from_job(job, seed, &wj);
    if (!job->check_seed)
        wj.what |= FA_JOB_SEED_PICKED;
    const double timeout = w->opts.job_timeout_s;
    void *payload = NULL;
    size_t len = 0;
    const double t0 = fa_now_s();
    int rc = send_job(w, job, &wj);
    if (rc) {
        /* The child was gone before this job reached it: not this job's fault. Start a fresh
         * one and send the job once more. */
        reap(w, 1, NULL, 0);
        st = ensure_alive(w, err);
        if (st == FA_OK)
            st = ensure_helpers(w, job->problem.dtype, job->problem.head_dim, err);
        if (st != FA_OK)
            return st;
        rc = send_job(w, job, &wj);
    }
    if (!rc)
        rc = recv_msg(w->fd, MSG_RESULT, &payload, &len, fa_now_s() + timeout);
    w->prof_msgs++;
    w->prof_wait_s += fa_now_s() - t0;
    if (rc || len < sizeof(wire_result)) {
        char why[256];
        reap(w, 1, why, sizeof why);
        fa_measurement_init(m);
        m->build = job->build;
        m->check_seed = seed;
        m->status = FA_FAULT;
        if (rc == -2)
            snprintf(m->message, sizeof m->message,
                     "no answer in %g s: the kernel hung or the worker stalled (killed)", timeout);
        else
            snprintf(m->message, sizeof m->message, "%s", why);
        if (d)
            fa_harness_detail_init(d);
        free(payload);
        return FA_OK;
    }
    wire_result *res = payload;
    st = (fa_status)res->s.status;
    if (st != FA_OK)
        forget_cubins(w);
    if (st == FA_OK) {
        *m = res->m;
        if (d)
            *d = res->d;
    } else {
        fa_err_set(err, st, __FILE__, __LINE__, "%s", res->s.msg);
    }
    if (res->s.fatal)
        reap(w, 0, NULL, 0); /* it exits by itself; the next job starts a fresh one */
    free(payload);
    return st;
}

/* One attempt at an interleaved re-timing of jobs[idx[0..n)]. Returns 0 when results came
 * back (culprit set if one faulted), -1 when the child died or hung without answering (why
 * says how), or a harness error in *st. */
static int retime_once(fa_worker *w, const fa_job *jobs, const int *idx, int n,
                       fa_measurement *results, int *culprit, char *why, size_t why_n,
                       fa_status *st, fa_err *err)
{
    *st = FA_OK;
    *culprit = -1;
    wire_job wj[FA_RETIME_MAX];
    size_t total = sizeof(int32_t) + (size_t)n * sizeof wj[0];
    for (int i = 0; i < n; i++) {
        wire_from_job(&jobs[idx[i]], jobs[idx[i]].check_seed, &wj[i]);
        place_cubin(w, &jobs[idx[i]], &wj[i]);
        total += wj[i].cubin_sent ? (size_t)wj[i].cubin_size : 0;
    }
    char *msg = malloc(total);
    if (!msg) {
        forget_cubins(w); /* placed above, never sent */
        *st = FA_ERR(err, FA_NOMEM, "out of memory");
        return 0;
    }
    int32_t nn = n;
    memcpy(msg, &nn, sizeof nn);
    memcpy(msg + sizeof nn, wj, (size_t)n * sizeof wj[0]);
    char *p = msg + sizeof nn + (size_t)n * sizeof wj[0];
    for (int i = 0; i < n; i++)
        if (wj[i].cubin_sent) {
            memcpy(p, jobs[idx[i]].cubin, (size_t)wj[i].cubin_size);
            p += wj[i].cubin_size;
        }
    void *payload = NULL;
    size_t len = 0;
    const double t0 = fa_now_s();
    int rc = send_msg(w->fd, MSG_RETIME, msg, total, NULL, 0);
    free(msg);
    if (!rc)
        rc = recv_msg(w->fd, MSG_RESULT_N, &payload, &len, fa_now_s() + w->opts.job_timeout_s * n);
    w->prof_msgs++;
    w->prof_wait_s += fa_now_s() - t0;
    if (rc || len < sizeof(wire_status)) {
        reap(w, 1, why, why_n);
        if (rc == -2)
            snprintf(why, why_n, "no answer in %g s: a kernel hung or the worker stalled (killed)",
                     w->opts.job_timeout_s * n);
        free(payload);
        return -1;
    }
    wire_status *s = payload;
    if (s->status != FA_OK) {
        forget_cubins(w);
        *st = fa_err_set(err, (fa_status)s->status, __FILE__, __LINE__, "%s", s->msg);
    } else if (s->n != n || len < sizeof *s + (size_t)n * sizeof(fa_measurement)) {
        *st = FA_ERR(err, FA_ERROR, "malformed answer from the GPU worker");
    } else {
        const fa_measurement *ms = (const fa_measurement *)((const char *)payload + sizeof *s);
        for (int i = 0; i < n; i++)
            results[idx[i]] = ms[i];
        *culprit = s->culprit >= 0 && s->culprit < n ? idx[s->culprit] : -1;
    }
    if (s->fatal)
        reap(w, 0, NULL, 0);
    free(payload);
    return 0;
}

fa_status fa_worker_retime_interleaved(fa_worker *w, const fa_job *jobs, int n,
                                       fa_measurement *results, fa_err *err)
{
    if (n < 1 || n > FA_RETIME_MAX)
        return FA_ERR(err, FA_INVALID, "interleaved re-timing takes 1 to %d jobs, not %d",
                      FA_RETIME_MAX, n);
    int idx[FA_RETIME_MAX], m = n;
    for (int i = 0; i < n; i++) {
        idx[i] = i;
        fa_measurement_init(&results[i]);
    }
    /* Each pass either finishes or removes at least one job (the culprit), so n + 1 passes
     * always suffice. */
    for (int pass = 0; pass <= n && m > 0; pass++) {
        fa_status st = ensure_alive(w, err);
        if (st == FA_OK)
            st = ensure_helpers(w, jobs[0].problem.dtype, jobs[0].problem.head_dim, err);
        if (st != FA_OK)
            return st;
        int culprit = -1;
        char why[256] = "";
        if (retime_once(w, jobs, idx, m, results, &culprit, why, sizeof why, &st, err) == 0) {
            if (st != FA_OK)
                return st;
            /* Jobs the fault interrupted go round again in a fresh worker. */
            int k = 0;
            for (int i = 0; i < m; i++)
                if (results[idx[i]].status == FA_INTERRUPTED)
                    idx[k++] = idx[i];
            m = k;
            if (m == 0 || culprit >= 0)
                continue;
            /* A fault in a round of several jobs names none of them. */
            snprintf(why, sizeof why, "%s", results[idx[0]].message);
        }
        /* The child died, or a round failed, without naming a culprit: one job alone is its
         * own culprit; otherwise re-time each alone, which finds it and measures the rest. */
        if (m == 1) {
            fa_measurement_init(&results[idx[0]]);
            results[idx[0]].build = jobs[idx[0]].build;
            results[idx[0]].status = FA_FAULT;
            snprintf(results[idx[0]].message, sizeof results[idx[0]].message, "%s", why);
            return FA_OK;
        }
        for (int i = 0; i < m; i++) {
            st = fa_worker_retime_interleaved(w, &jobs[idx[i]], 1, &results[idx[i]], err);
            if (st != FA_OK)
                return st;
            if (results[idx[i]].status == FA_OK)
                snprintf(results[idx[i]].message, sizeof results[idx[i]].message,
                         "re-timed alone after a worker fault");
        }
        return FA_OK;
    }
    return FA_OK;
}
