/*
 * 8 threads share one dockreg_client and read from a real registry at once; each also makes
 * failing calls and checks that its last error is its own. Run by tests/ffi_c.rs with the
 * registry and expected values in DT_* environment variables.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockreg.h"

#define THREADS 8
#define ROUNDS 12

static const char *image, *digest, *index_image, *index_digest, *repo;
static dockreg_client *client;

struct result {
    int id;
    int failures;
    int calls;
};

static void fail(struct result *r, const char *what, const char *detail) {
    r->failures++;
    fprintf(stderr, "thread %d: FAIL %s: %s\n", r->id, what, detail ? detail : "(null)");
}

/* Calls f(client, arg, &out) and checks the output holds `want`. */
static void read_ok(struct result *r, const char *what,
                    dockreg_status (*f)(const dockreg_client *, const char *, char **),
                    const char *arg, const char *want) {
    char *out = NULL;
    dockreg_status st = f(client, arg, &out);
    r->calls++;
    if (st != DOCKREG_OK) {
        fail(r, what, dockreg_last_error_message());
        return;
    }
    if (dockreg_last_error_message() != NULL) fail(r, what, "last error not cleared");
    if (strstr(out, want) == NULL) fail(r, what, out);
    dockreg_string_free(out);
}

static void *worker(void *arg) {
    struct result *r = arg;
    char missing[512], mine[64];
    snprintf(mine, sizeof mine, "missing-%d", r->id);
    snprintf(missing, sizeof missing, "%s:%s", repo, mine);
    for (int round = 0; round < ROUNDS; round++) {
        read_ok(r, "get_digest", dockreg_client_get_digest, image, digest);
        read_ok(r, "get_manifest", dockreg_client_get_manifest, image, digest);
        read_ok(r, "get_image_config", dockreg_client_get_image_config, image, "\"os\":\"linux\"");
        read_ok(r, "list_tags", dockreg_client_list_tags, image, "\"v1\"");
        read_ok(r, "get_digest(index)", dockreg_client_get_digest, index_image, index_digest);
        read_ok(r, "get_manifest(index)", dockreg_client_get_manifest, index_image, index_digest);

        /* A failure of our own, then other threads' calls happen while we look at it. */
        char *out = NULL;
        dockreg_status st = dockreg_client_get_manifest(client, missing, &out);
        r->calls++;
        if (st != DOCKREG_ERR_NOT_FOUND || out != NULL) {
            fail(r, "not found", dockreg_status_name(st));
        }
        const char *m = dockreg_last_error_message();
        const char *j = dockreg_last_error_json();
        if (m == NULL || strstr(m, mine) == NULL) fail(r, "own message", m);
        if (j == NULL || strstr(j, mine) == NULL || strstr(j, "\"status\":40,") == NULL) {
            fail(r, "own json", j);
        }
        for (int i = 0; i < 3; i++) {
            if (dockreg_last_error_message() != m) fail(r, "message moved", m);
        }
        /* Our own success clears it (other threads' calls never do). */
        st = dockreg_reference_parse(image, &out);
        r->calls++;
        if (st != DOCKREG_OK) fail(r, "parse", dockreg_last_error_message());
        if (dockreg_last_error_message() != NULL) fail(r, "parse", "last error not cleared");
        dockreg_string_free(out);
    }
    return NULL;
}

static const char *need(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        fprintf(stderr, "threads_test: environment variable %s is not set\n", name);
        exit(2);
    }
    return v;
}

int main(void) {
    image = need("DT_IMAGE");
    digest = need("DT_DIGEST");
    index_image = need("DT_INDEX");
    index_digest = need("DT_INDEX_DIGEST");
    repo = need("DT_OWN");
    if (dockreg_client_new(NULL, &client) != DOCKREG_OK) {
        fprintf(stderr, "threads_test: %s\n", dockreg_last_error_message());
        return 1;
    }
    pthread_t threads[THREADS];
    struct result results[THREADS];
    for (int i = 0; i < THREADS; i++) {
        results[i].id = i;
        results[i].failures = 0;
        results[i].calls = 0;
        if (pthread_create(&threads[i], NULL, worker, &results[i]) != 0) {
            fprintf(stderr, "threads_test: pthread_create failed\n");
            return 1;
        }
    }
    int failures = 0, calls = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        failures += results[i].failures;
        calls += results[i].calls;
    }
    dockreg_client_free(client);
    printf("threads_test: %d threads, %d calls, %d failures\n", THREADS, calls, failures);
    return failures == 0 ? 0 : 1;
}
