/*
 * This file tests schema migrations against fixture databases of every older schema version
 * (tests/db/fixtures/v<N>.sql, built here with the sqlite3 shell): the fixture really is
 * what migrations[N-1] makes, a read-only open upgrades a private copy and leaves the file
 * alone, a full disk during migration leaves it alone too, a read-write open upgrades it
 * with every row kept and ends with exactly the schema of a fresh database, and an old file
 * can be merged into a new one.
 *
 * usage: test_db_migrate SQLITE3_SHELL FIXTURE_DIR
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "db_test.h"

/* Internal to db/ (fa_db_internal.h): the SQL of migration i, version i -> i + 1. */
const char *fa_db_migration_sql(int i);

static const char *shell;
static const char *fixtures;

static int run_shell(const char *db, const char *sql_file)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' '%s' < '%s'", shell, db, sql_file);
    return system(cmd);
}

/* The output of `sqlite3 db <dot-command or SQL>` (caller frees). */
static char *shell_out(const char *db, const char *what)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' '%s' \"%s\"", shell, db, what);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    int c;
    while ((c = fgetc(p)) != EOF)
        fputc(c, m);
    fclose(m);
    pclose(p);
    return buf;
}

static void build_fixture(int version, const char *db)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "%s/v%d.sql", fixtures, version);
    unlink(db);
    if (run_shell(db, sql) != 0) {
        fprintf(stderr, "cannot build %s from %s\n", db, sql);
        exit(1);
    }
}

struct winners_ctx {
    fa_db_winner w[4];
    int n;
};

static int keep_winner(const fa_db_winner *w, void *user)
{
    struct winners_ctx *c = user;
    if (c->n < 4)
        c->w[c->n] = *w;
    c->n++;
    return 0;
}

/* The v1 fixture's data, as the current winners definition sees it. */
static void check_v1_winners(fa_db *db)
{
    fa_err err;
    struct winners_ctx c = {0};
    CHECK_OK(fa_db_winners(db, "sm80", keep_winner, &c, &err), &err);
    CHECK(c.n == 2);
    /* bucket 1024: m128n32 was a mismatch in run 1, re-measured ok in run 2 -> wins. */
    CHECK(c.w[0].bucket == 1024 &&
          strcmp(c.w[0].variant_name, "fwd_sm80_hd128_bf16_m128n32w4s3") == 0);
    CHECK(strcmp(c.w[0].runner_up_name, "fwd_sm80_hd128_bf16_m128n64w4s2q") == 0);
    CHECK(c.w[0].margin > 200.0 / 180.0 - 1 - 1e-9 && c.w[0].margin < 200.0 / 180.0 - 1 + 1e-9);
    CHECK(c.w[0].candidates == 3 && c.w[0].registers == 200);
    CHECK(c.w[0].smem_bytes == 81920);
    /* bucket 2048: m128n32 failed to compile -> out; m64n64 beats m128n64. */
    CHECK(c.w[1].bucket == 2048 &&
          strcmp(c.w[1].variant_name, "fwd_sm80_hd128_bf16_m64n64w4s2") == 0);
    CHECK(c.w[1].candidates == 2 && c.w[1].tflops == 195.0);
    CHECK(c.w[1].speedup > 2.9 / 0.70481 - 1e-6 && c.w[1].speedup < 2.9 / 0.70481 + 1e-6);
}

static int keep_run(const fa_db_run *r, void *user)
{
    fa_db_run *out = user;
    if (r->id == 2)
        *out = *r;
    return 0;
}

static void test_v1(void)
{
    char v1[512], ref[512], refsql[512], fresh[512];
    test_path(v1, sizeof v1, "v1.db");
    test_path(ref, sizeof ref, "ref-v1.db");
    test_path(refsql, sizeof refsql, "ref-v1.sql");
    test_path(fresh, sizeof fresh, "fresh.db");
    build_fixture(1, v1);

    /* The fixture's schema is exactly what migrations[0] creates. */
    FILE *f = fopen(refsql, "w");
    fprintf(f, "%s\nPRAGMA user_version = 1;\n", fa_db_migration_sql(0));
    fclose(f);
    CHECK(run_shell(ref, refsql) == 0);
    char *s1 = shell_out(v1, ".schema"), *s2 = shell_out(ref, ".schema");
    CHECK(s1 && s2 && strlen(s1) > 100 && strcmp(s1, s2) == 0);
    free(s1);
    free(s2);

    /* Read-only: works on an upgraded private copy; the file is untouched. */
    uint64_t sum = file_sum(v1);
    fa_err err;
    fa_db *db = NULL;
    CHECK_OK(fa_db_open(v1, FA_DB_READONLY, &db, &err), &err);
    if (db) {
        CHECK(fa_db_schema_version_on_disk(db) == 1);
        CHECK(fa_db_schema_version(db) == FA_DB_SCHEMA_VERSION);
        CHECK(count_measurements(db, NULL) == 7);
        check_v1_winners(db);
        fa_db_close(db);
    }
    CHECK(file_sum(v1) == sum);

    /* A full disk during the migration: refused as a whole, the file untouched. */
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {2048, 2048};
        setrlimit(RLIMIT_FSIZE, &rl);
        fa_status st = fa_db_open(v1, 0, &db, &err);
        if (st != FA_OK)
            fprintf(stderr, "  (expected) %s\n", err.msg);
        _exit(st == FA_IO && strstr(err.msg, "disk full") && strstr(err.msg, "v1.db") ? 0 : 1);
    }
    int ws = 0;
    waitpid(pid, &ws, 0);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    CHECK(file_sum(v1) == sum);
    char *ver = shell_out(v1, "PRAGMA user_version");
    CHECK(ver && strcmp(ver, "1\n") == 0);
    free(ver);

    /* Merging an old file into a new one. */
    fa_db *n = NULL;
    fa_db_merge_stats ms;
    CHECK_OK(fa_db_open(fresh, FA_DB_CREATE, &n, &err), &err);
    CHECK_OK(fa_db_merge(n, v1, &ms, &err), &err);
    CHECK(ms.devices == 1 && ms.runs == 2 && ms.variants == 3 && ms.problems == 2);
    CHECK(ms.measurements == 7 && ms.peers == 0);
    CHECK(file_sum(v1) == sum);
    check_v1_winners(n);
    fa_db_close(n);

    /* Read-write: migrated in place, every row kept, new tables usable. */
    CHECK_OK(fa_db_open(v1, 0, &db, &err), &err);
    if (!db)
        return;
    CHECK(fa_db_schema_version_on_disk(db) == 1);
    CHECK(count_measurements(db, NULL) == 7);
    check_v1_winners(db);
    fa_db_run r;
    memset(&r, 0, sizeof r);
    CHECK_OK(fa_db_runs(db, NULL, keep_run, &r, &err), &err);
    CHECK(strcmp(r.uuid, "6f1c2a3e-0d4b-4c1a-9e2f-000000000002") == 0);
    CHECK(strcmp(r.status, "running") == 0 && r.ended_at[0] == '\0' && r.host[0] == '\0');
    CHECK(r.measurements == 1 && r.device.sm_count == 108);
    fa_problem p = test_problem(FA_DTYPE_BF16, 128, 0, 1024, 16, 16);
    p.batch = 4;
    CHECK_OK(fa_db_record_peer(db, 2, &p, "torch_sdpa_flash", "2.3.0", 0.2, 171.8, -1, &err), &err);
    CHECK_OK(fa_db_record_ceiling(db, 2, "gemm_bf16_8192", FA_DTYPE_BF16, 4.5, 245.0, &err), &err);
    fa_db_close(db);
    ver = shell_out(v1, "PRAGMA user_version");
    CHECK(ver && atoi(ver) == FA_DB_SCHEMA_VERSION);
    free(ver);
    char *peer =
        shell_out(v1, "SELECT p.name FROM peers pe JOIN problems p ON p.id = pe.problem_id");
    CHECK(peer && strcmp(peer, "b4_h16_kv16_q1024_k1024_d128_bf16\n") == 0);
    free(peer);

    /* The upgraded schema is exactly a fresh database's. */
    s1 = shell_out(v1, ".schema");
    s2 = shell_out(fresh, ".schema");
    CHECK(s1 && s2 && strcmp(s1, s2) == 0);
    free(s1);
    free(s2);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_db_migrate SQLITE3_SHELL FIXTURE_DIR\n");
        return 2;
    }
    shell = argv[1];
    fixtures = argv[2];
    test_setup("migrate");
    /* A new version needs a fixture of the one before: v1.sql here, v2_real.sql in
     * test_db_v2_real.sh, v3_real.sql in test_db_v3_real.sh. */
    CHECK(FA_DB_SCHEMA_VERSION == 4);
    test_v1();
    return test_finish("test_db_migrate");
}
