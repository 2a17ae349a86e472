/*
 * What the C tests (tests/ffi_abi.rs, and abi_test.c of tests/ffi_c.rs) share: CHECK, the DT_* environment, the last error, a
 * clock (static inline: a program need not use them all). Each test program prints
 * "<name>: N checks, F failures" and exits 1 on a failure.
 */
#ifndef DOCKREG_TEST_CHECK_H
#define DOCKREG_TEST_CHECK_H

#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dockreg.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        checks++;                                                           \
        if (!(cond)) {                                                      \
            failures++;                                                     \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fprintf(stderr, "\n");                                          \
        }                                                                   \
    } while (0)

/* A status check that shows the last error when it fails. */
#define CHECK_STATUS(got, want)                                                          \
    CHECK((got) == (want), "status %s, want %s: %s", dockreg_status_name(got),          \
          dockreg_status_name(want), safe(dockreg_last_error_message()))

static inline const char *need(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        fprintf(stderr, "environment variable %s is not set\n", name);
        exit(2);
    }
    return v;
}

static inline const char *safe(const char *s) { return s ? s : "(null)"; }

/* Milliseconds on a monotonic clock. */
static inline double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

/* A client with the given options (NULL: no credential files), or exit. */
static inline dockreg_client *new_client(const char *options) {
    dockreg_client *c = NULL;
    dockreg_status st = dockreg_client_new(options ? options : "{\"docker_config\": null}", &c);
    if (st != DOCKREG_OK) {
        fprintf(stderr, "dockreg_client_new: %s\n", safe(dockreg_last_error_message()));
        exit(2);
    }
    return c;
}

static inline int finish(const char *name) {
    printf("%s: %d checks, %d failures\n", name, checks, failures);
    return failures == 0 ? 0 : 1;
}

#endif
