/*
 * This file implements finding and running gnuplot. The executable comes from FA_GNUPLOT
 * (a path, or a name looked up on PATH) or is `gnuplot` on PATH; when it is missing the
 * error says how to install it. Each script runs as its own process with the report folder
 * as gnuplot's working directory (`cd` before the script, so the script's relative file names
 * are the ones a user rerunning it sees); its stderr is captured for the error message.
 */
#include "fa_report_data.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int executable(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

/* Look name up on PATH; 0 and the full path in out on success. */
static int search_path(const char *name, char *out, size_t n)
{
    const char *path = getenv("PATH");
    if (!path)
        return -1;
    while (*path) {
        size_t len = strcspn(path, ":");
        const char *dir = len ? path : ".";
        int dlen = len ? (int)len : 1;
        if (snprintf(out, n, "%.*s/%s", dlen, dir, name) < (int)n && executable(out))
            return 0;
        path += len + (path[len] == ':');
    }
    return -1;
}

fa_status fa_report_gnuplot_find(const char *env, char *path, size_t n, fa_err *err)
{
    const char *name = env && *env ? env : "gnuplot";
    if (strchr(name, '/')) {
        if (executable(name) && snprintf(path, n, "%s", name) < (int)n)
            return FA_OK;
        return FA_ERR(err, FA_NOT_FOUND,
                      "gnuplot not found: FA_GNUPLOT='%s' is not an executable file; install "
                      "gnuplot ('%s', or 'brew install gnuplot') or point FA_GNUPLOT at it",
                      name, FA_REPORT_GNUPLOT_INSTALL);
    }
    if (search_path(name, path, n) == 0)
        return FA_OK;
    return FA_ERR(err, FA_NOT_FOUND,
                  "gnuplot not found: no '%s' on PATH; install it ('%s', or 'brew install "
                  "gnuplot') or set FA_GNUPLOT to its path",
                  name, FA_REPORT_GNUPLOT_INSTALL);
}

/* Append s to buf (n bytes) as a single-quoted gnuplot string. -2 when s holds a control byte:
 * a newline would end gnuplot's `cd` command and run the rest of the folder name as a command,
 * and no replacement names the same folder, so such a folder is refused. */
static int quote(char *buf, size_t n, const char *s)
{
    size_t len = strlen(buf);
    if (len + 1 >= n)
        return -1;
    buf[len++] = '\'';
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return -2;
        if (len + 3 >= n)
            return -1;
        if (*s == '\'')
            buf[len++] = '\'';
        buf[len++] = *s;
    }
    buf[len++] = '\'';
    buf[len] = '\0';
    return 0;
}

/* Keep the last lines of gnuplot's stderr that fit, on one line. */
static void tail_text(const char *log, size_t len, char *out, size_t n)
{
    const size_t keep = n > 600 ? 600 : n - 1;
    const char *s = len > keep ? log + len - keep : log;
    size_t j = 0;
    for (; *s && j + 1 < n; s++)
        out[j++] = *s == '\n' ? ' ' : *s;
    while (j > 0 && out[j - 1] == ' ')
        j--;
    out[j] = '\0';
}

fa_status fa_report_gnuplot_run(const char *gnuplot, const char *dir, const char *script,
                                const char *out_stem, fa_err *err)
{
    char cmd[8192] = "cd ";
    char log[4096];
    size_t log_len = 0;
    int pipefd[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    int have_fa = 0;
    pid_t pid = -1;
    fa_status st = FA_OK;

    int q = quote(cmd, sizeof cmd, dir);
    if (q == -2)
        return FA_ERR(err, FA_INVALID,
                      "output folder '%s' has a control character (a newline, a tab...) in its "
                      "name: gnuplot cannot be pointed at it safely; choose another",
                      dir);
    if (q || strlen(cmd) + 16 >= sizeof cmd)
        return FA_ERR(err, FA_INVALID, "output folder '%.64s...' is too long", dir);
    strcat(cmd, "; out = ");
    if (quote(cmd, sizeof cmd, out_stem))
        return FA_ERR(err, FA_INVALID, "output folder '%.64s...' is too long", dir);
    char *argv[] = {"gnuplot", "-e", cmd, (char *)script, NULL};

    if (pipe(pipefd) != 0)
        return FA_ERR(err, FA_ERROR, "cannot run gnuplot: pipe: %s", strerror(errno));
    if (posix_spawn_file_actions_init(&fa) != 0) {
        st = FA_ERR(err, FA_NOMEM, "cannot run gnuplot: out of memory");
        goto cleanup;
    }
    have_fa = 1;
    if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ||
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) ||
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2) ||
        posix_spawn_file_actions_addclose(&fa, pipefd[0])) {
        st = FA_ERR(err, FA_NOMEM, "cannot run gnuplot: out of memory");
        goto cleanup;
    }
    int rc = posix_spawn(&pid, gnuplot, &fa, NULL, argv, environ);
    if (rc != 0) {
        pid = -1;
        st = FA_ERR(err, FA_ERROR, "cannot run '%s': %s", gnuplot, strerror(rc));
        goto cleanup;
    }
    close(pipefd[1]);
    pipefd[1] = -1;
    /* read everything (keeping the end), then wait: gnuplot never blocks on a full pipe */
    for (;;) {
        char chunk[1024];
        ssize_t got = read(pipefd[0], chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (log_len + (size_t)got >= sizeof log) {
            size_t drop = log_len + (size_t)got - (sizeof log - 1);
            if (drop > log_len)
                drop = log_len;
            memmove(log, log + drop, log_len - drop);
            log_len -= drop;
        }
        size_t take = (size_t)got < sizeof log - 1 ? (size_t)got : sizeof log - 1;
        memcpy(log + log_len, chunk + (size_t)got - take, take);
        log_len += take;
    }
    log[log_len] = '\0';
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            st = FA_ERR(err, FA_ERROR, "cannot wait for gnuplot: %s", strerror(errno));
            goto cleanup;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char tail[640];
        tail_text(log, log_len, tail, sizeof tail);
        if (WIFEXITED(status))
            st = FA_ERR(err, FA_ERROR, "gnuplot failed on '%s/%s' (exit %d): %s", dir, script,
                        WEXITSTATUS(status), tail[0] ? tail : "no message");
        else
            st = FA_ERR(err, FA_ERROR, "gnuplot was killed by signal %d on '%s/%s'",
                        WTERMSIG(status), dir, script);
    }

cleanup:
    if (have_fa)
        posix_spawn_file_actions_destroy(&fa);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    return st;
}
