/*
 * bench_resolve: the `resolve` workload of the benchmark (WORKLOADS.md) through
 * dockreg's C API, for examples/bench.rs's `c-resolve` column. scripts/bench.sh compiles it:
 *
 *   cc -O2 -std=c99 -Iinclude examples/c/bench_resolve.c -Ltarget/release -ldockreg \
 *      -Wl,-rpath,$PWD/target/release -o bench_resolve
 *   ./bench_resolve HOST:PORT N TAGS [OPTIONS_JSON]
 *
 * Resolves bench/app:tag-%04d (i mod TAGS) for i = 0..N-1 with dockreg_client_get_digest on
 * one client made before the clock, and prints one line: "ops wall_s distinct rss_peak_kb".
 * Exits 1 on any failure, after printing the last error.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dockreg.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* VmHWM of this process in kB (0 when unknown). */
static long peak_rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s HOST:PORT N TAGS [OPTIONS_JSON]\n", argv[0]);
        return 2;
    }
    const char *registry = argv[1];
    long n = strtol(argv[2], NULL, 10), tags = strtol(argv[3], NULL, 10);
    if (n <= 0 || tags <= 0) return 2;

    dockreg_client *client = NULL;
    if (dockreg_client_new(argc == 5 ? argv[4] : NULL, &client) != DOCKREG_OK) {
        fprintf(stderr, "client: %s\n", dockreg_last_error_message());
        return 1;
    }
    /* The distinct digests seen (the check: 4 for N >= 4). */
    char seen[8][80];
    int distinct = 0;
    char image[512];
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        snprintf(image, sizeof image, "%s/bench/app:tag-%04ld", registry, i % tags);
        char *json = NULL;
        if (dockreg_client_get_digest(client, image, &json) != DOCKREG_OK) {
            fprintf(stderr, "%s: %s\n", image, dockreg_last_error_message());
            return 1;
        }
        /* {"digest":"sha256:<64 hex>"} */
        const char *d = strstr(json, "sha256:");
        if (!d || strlen(d) < 71) {
            fprintf(stderr, "%s: unexpected answer %s\n", image, json);
            return 1;
        }
        int known = 0;
        for (int k = 0; k < distinct; k++) known |= strncmp(seen[k], d, 71) == 0;
        if (!known && distinct < 8) {
            memcpy(seen[distinct], d, 71);
            seen[distinct++][71] = 0;
        }
        dockreg_string_free(json);
    }
    double wall = now_s() - t0;
    printf("%ld %.6f %d %ld\n", n, wall, distinct, peak_rss_kb());
    dockreg_client_free(client);
    return 0;
}
