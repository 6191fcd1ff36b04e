/*
 * fuzz_replay.c -- main() of the fuzz harnesses when they are not built for libFuzzer: replays
 * every input named on the command line through LLVMFuzzerTestOneInput, so each harness's
 * corpus (tests/fuzz/inputs/, tests/fuzz/database/) runs as a deterministic CPU test (ASan +
 * UBSan in CI). An argument is a
 * file (one input), a folder (each file in it, one input each) or a .hex file (one input a
 * line in lowercase hex, '#' lines are comments: what fuzzing kept, in one file instead of
 * hundreds). A crash or abort fails the test; exit 1 if an input cannot be read or none is
 * given.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *prog = "fuzz"; /* argv[0], for messages */

static int hex_digit(uint8_t c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The inputs of a .hex file, decoded in place; returns their count. */
static int replay_hex(uint8_t *text, size_t n, const char *path)
{
    int count = 0, lineno = 0;
    for (size_t i = 0; i < n;) {
        size_t end = i;
        while (end < n && text[end] != '\n')
            end++;
        lineno++;
        if (end > i && text[i] != '#') {
            size_t k = 0;
            for (size_t j = i; j < end; j += 2) {
                const int hi = hex_digit(text[j]), lo = j + 1 < end ? hex_digit(text[j + 1]) : -1;
                if (hi < 0 || lo < 0) {
                    fprintf(stderr, "%s: %s:%d: not an even run of hex digits\n", prog, path,
                            lineno);
                    exit(1);
                }
                text[i + k++] = (uint8_t)(hi * 16 + lo); /* decoded in place, behind j */
            }
            LLVMFuzzerTestOneInput(text + i, k);
            count++;
        }
        i = end + 1;
    }
    return count;
}

/* Replays path (a file, a folder or a .hex file); returns the inputs replayed. */
static int replay(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "%s: cannot read '%s'\n", prog, path);
        exit(1);
    }
    if (S_ISDIR(sb.st_mode)) {
        DIR *dir = opendir(path);
        int count = 0;
        for (struct dirent *e; dir && (e = readdir(dir));) {
            if (e->d_name[0] == '.')
                continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            count += replay(sub);
        }
        if (dir)
            closedir(dir);
        return count;
    }
    FILE *f = fopen(path, "rb");
    uint8_t *buf = malloc((size_t)sb.st_size + 1);
    if (!f || !buf || fread(buf, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
        fprintf(stderr, "%s: cannot read '%s'\n", prog, path);
        exit(1);
    }
    fclose(f);
    const size_t len = strlen(path);
    int count = 1;
    if (len > 4 && !strcmp(path + len - 4, ".hex"))
        count = replay_hex(buf, (size_t)sb.st_size, path);
    else
        LLVMFuzzerTestOneInput(buf, (size_t)sb.st_size);
    free(buf);
    return count;
}

int main(int argc, char **argv)
{
    if (argc > 0 && argv[0][0])
        prog = argv[0];
    int count = 0;
    for (int i = 1; i < argc; i++)
        count += replay(argv[i]);
    if (count == 0) {
        fprintf(stderr, "%s: no inputs (usage: %s FILE|DIR|FILE.hex...)\n", prog, prog);
        return 1;
    }
    printf("%s: %d inputs replayed\n", prog, count);
    return 0;
}
