/*
 * Every export of dockreg.h against a real registry, success and error paths, meant to run
 * under valgrind (--leak-check=full --error-exitcode=1). Run by tests/ffi_c.rs, which passes
 * the registry and the expected values in DT_* environment variables.
 *
 * For every call it checks the status, that out-params are written only on success, that the
 * last error is set (message and JSON naming the status) on failure and cleared on success.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

/* A value no call may write: out-params start here and must stay here on failure. */
static char sentinel_storage;
#define SENTINEL ((char *)&sentinel_storage)

/*
 * Checks the outcome of a call that wrote (or not) `out`: the status, the out-param, and the
 * last error. Frees `out` on success. Returns the out string copied into `copy` when asked.
 */
static void outcome(int line, const char *what, dockreg_status got, dockreg_status want,
                    char *out, const char *must_contain, char *copy, size_t copy_len) {
    checks++;
    const char *msg = dockreg_last_error_message();
    const char *json = dockreg_last_error_json();
    if (got != want) {
        failures++;
        fprintf(stderr, "FAIL line %d: %s: status %s (%d), want %s (%d): %s\n", line, what,
                dockreg_status_name(got), (int)got, dockreg_status_name(want), (int)want,
                safe(msg));
        if (got == DOCKREG_OK && out != SENTINEL) dockreg_string_free(out);
        return;
    }
    if (want == DOCKREG_OK) {
        CHECK(out != SENTINEL && out != NULL, "line %d %s: out-param not written", line, what);
        CHECK(msg == NULL && json == NULL, "line %d %s: last error not cleared: %s", line, what,
              safe(msg));
        if (out != SENTINEL && out != NULL) {
            if (must_contain) {
                CHECK(strstr(out, must_contain) != NULL, "line %d %s: %s lacks %s", line, what,
                      out, must_contain);
            }
            if (copy) {
                snprintf(copy, copy_len, "%s", out);
            }
            dockreg_string_free(out);
        }
    } else {
        char status_field[32];
        snprintf(status_field, sizeof status_field, "\"status\":%d,", (int)want);
        CHECK(out == SENTINEL, "line %d %s: out-param written on failure", line, what);
        CHECK(msg != NULL && *msg != '\0', "line %d %s: no last error message", line, what);
        CHECK(json != NULL && strstr(json, status_field) != NULL,
              "line %d %s: last error JSON %s lacks %s", line, what, safe(json), status_field);
        CHECK(json != NULL && strstr(json, dockreg_status_name(want)) != NULL,
              "line %d %s: last error JSON lacks the status name", line, what);
        if (must_contain) {
            CHECK(msg != NULL && strstr(msg, must_contain) != NULL,
                  "line %d %s: message \"%s\" lacks \"%s\"", line, what, safe(msg), must_contain);
        }
    }
}

#define EXPECT(want, must_contain, call)                                              \
    do {                                                                              \
        char *out = SENTINEL;                                                         \
        dockreg_status st_ = (call);                                                  \
        outcome(__LINE__, #call, st_, (want), out, (must_contain), NULL, 0);          \
    } while (0)

/* Same, keeping the JSON output in `buf`. */
#define EXPECT_COPY(want, must_contain, buf, call)                                     \
    do {                                                                              \
        char *out = SENTINEL;                                                         \
        (buf)[0] = '\0';                                                              \
        dockreg_status st_ = (call);                                                  \
        outcome(__LINE__, #call, st_, (want), out, (must_contain), (buf), sizeof(buf)); \
    } while (0)

/* The string value of "key" in compact JSON, copied into `dst`; "" when absent. */
static void json_string(const char *json, const char *key, char *dst, size_t len) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = strstr(json, pattern);
    dst[0] = '\0';
    if (p == NULL) return;
    p += strlen(pattern);
    const char *end = strchr(p, '"');
    if (end == NULL) return;
    size_t n = (size_t)(end - p);
    if (n >= len) n = len - 1;
    memcpy(dst, p, n);
    dst[n] = '\0';
}

/* A call without an out-param: the status and the last error (set on failure, else cleared). */
static void outcome_status(int line, const char *what, dockreg_status got, dockreg_status want,
                           const char *must_contain) {
    checks++;
    const char *msg = dockreg_last_error_message();
    const char *json = dockreg_last_error_json();
    if (got != want) {
        failures++;
        fprintf(stderr, "FAIL line %d: %s: status %s (%d), want %s (%d): %s\n", line, what,
                dockreg_status_name(got), (int)got, dockreg_status_name(want), (int)want,
                safe(msg));
        return;
    }
    if (want == DOCKREG_OK) {
        CHECK(msg == NULL && json == NULL, "line %d %s: last error not cleared: %s", line, what,
              safe(msg));
    } else {
        char status_field[32];
        snprintf(status_field, sizeof status_field, "\"status\":%d,", (int)want);
        CHECK(msg != NULL && *msg != '\0', "line %d %s: no last error message", line, what);
        CHECK(json != NULL && strstr(json, status_field) != NULL,
              "line %d %s: last error JSON %s lacks %s", line, what, safe(json), status_field);
        if (must_contain) {
            CHECK(msg != NULL && strstr(msg, must_contain) != NULL,
                  "line %d %s: message \"%s\" lacks \"%s\"", line, what, safe(msg), must_contain);
        }
    }
}

#define EXPECT_STATUS(want, must_contain, call) \
    outcome_status(__LINE__, #call, (call), (want), (must_contain))

/* The number value of "key" in compact JSON; -1 when absent. */
static long long json_number(const char *json, const char *key) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(json, pattern);
    if (p == NULL) return -1;
    p += strlen(pattern);
    if (*p < '0' || *p > '9') return -1;
    return strtoll(p, NULL, 10);
}

/* ---- callbacks ---- */

struct sink {
    unsigned char *data;
    size_t len, cap;
    size_t consume_limit; /* return fewer bytes once past this (to test failure) */
};

static size_t sink_write(void *ctx, const uint8_t *buf, size_t len) {
    struct sink *s = ctx;
    if (s->len + len > s->consume_limit) return 0;
    if (s->len + len > s->cap) {
        size_t cap = (s->len + len) * 2;
        unsigned char *d = realloc(s->data, cap);
        if (d == NULL) return 0;
        s->data = d;
        s->cap = cap;
    }
    memcpy(s->data + s->len, buf, len);
    s->len += len;
    return len;
}

struct progress {
    int calls;
    uint64_t last_done, last_total;
    int cancel_at_call; /* 0: never */
    int went_backwards;
};

static int on_progress(void *ctx, uint64_t done, uint64_t total) {
    struct progress *p = ctx;
    p->calls++;
    if (done < p->last_done) p->went_backwards = 1;
    p->last_done = done;
    p->last_total = total;
    return p->cancel_at_call != 0 && p->calls >= p->cancel_at_call;
}

/* A blob source in memory: gives at most `max_chunk` bytes a call; fails once past `fail_at`. */
struct source {
    const unsigned char *data;
    size_t len, pos;
    size_t fail_at;   /* return SIZE_MAX once pos >= fail_at ((size_t)-1: never) */
    size_t max_chunk; /* 0: as much as fits */
    int overrun;      /* return cap + 1 (a broken callback) */
    int calls;
};

static size_t source_read(void *ctx, uint8_t *buf, size_t cap) {
    struct source *s = ctx;
    s->calls++;
    if (s->overrun) return cap + 1;
    if (s->pos >= s->fail_at) return SIZE_MAX;
    size_t n = s->len - s->pos;
    if (n > cap) n = cap;
    if (s->max_chunk != 0 && n > s->max_chunk) n = s->max_chunk;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    return n;
}

static struct source source_of(const unsigned char *data, size_t len) {
    struct source s = {data, len, 0, (size_t)-1, 0, 0, 0};
    return s;
}

/* Number of directory entries in `dir` whose name contains `part`. */
static int count_entries(const char *dir, const char *part) {
    DIR *d = opendir(dir);
    int n = 0;
    if (d == NULL) return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, part) != NULL) n++;
    }
    closedir(d);
    return n;
}

static long file_size(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    return (long)st.st_size;
}

int main(void) {
    const char *registry = need("DT_REGISTRY");
    const char *down = need("DT_DOWN");
    const char *tmp = need("DT_TMP");
    const char *image = need("DT_IMAGE");
    const char *digest = need("DT_DIGEST");
    const char *config_digest = need("DT_CONFIG");
    const char *layer = need("DT_LAYER");
    long layer_size = atol(need("DT_LAYER_SIZE"));
    const char *index = need("DT_INDEX");
    const char *index_digest = need("DT_INDEX_DIGEST");
    const char *arm_digest = need("DT_ARM_DIGEST");
    const char *own = need("DT_OWN"); /* a repository of ours holding `image` as :v1 */
    const char *version = need("DT_VERSION");

    char buf[1 << 16];
    char own_image[512], missing_tag[512], missing_repo[512], down_image[512], bad_layer[128];
    snprintf(own_image, sizeof own_image, "%s:v1", own);
    snprintf(missing_tag, sizeof missing_tag, "%s:no-such-tag", own);
    snprintf(missing_repo, sizeof missing_repo, "%s/no/such/repo:v1", registry);
    snprintf(down_image, sizeof down_image, "%s/app:v1", down);
    /* A digest no blob has. */
    snprintf(bad_layer, sizeof bad_layer,
             "sha256:0000000000000000000000000000000000000000000000000000000000000000");

    /* ---- functions without a client ---- */
    CHECK(strcmp(dockreg_version(), version) == 0, "version %s", dockreg_version());
    CHECK(strcmp(dockreg_status_name(DOCKREG_OK), "DOCKREG_OK") == 0, "name of 0");
    CHECK(strcmp(dockreg_status_name(40), "DOCKREG_ERR_NOT_FOUND") == 0, "name of 40");
    CHECK(strcmp(dockreg_status_name(99), "DOCKREG_ERR_PANIC") == 0, "name of 99");
    CHECK(strcmp(dockreg_status_name(12345), "DOCKREG_ERR_UNKNOWN") == 0, "unknown");
    CHECK(strcmp(dockreg_status_name(-1), "DOCKREG_ERR_UNKNOWN") == 0, "negative");
    CHECK(dockreg_last_error_message() == NULL, "no error before any call");
    CHECK(dockreg_last_error_json() == NULL, "no error JSON before any call");
    dockreg_string_free(NULL);
    dockreg_client_free(NULL);

    EXPECT(DOCKREG_OK, "\"repository\":\"library/ubuntu\"", dockreg_reference_parse("ubuntu", &out));
    EXPECT(DOCKREG_OK, "\"tag\":\"v1\"", dockreg_reference_parse(image, &out));
    EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "image", dockreg_reference_parse(NULL, &out));
    EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "out_json", dockreg_reference_parse("ubuntu", NULL));
    EXPECT(DOCKREG_ERR_INVALID_UTF8, "image", dockreg_reference_parse("ub\xff" "untu", &out));
    EXPECT(DOCKREG_ERR_INVALID_REFERENCE, "invalid image reference",
           dockreg_reference_parse("bad//ref::", &out));
    EXPECT(DOCKREG_ERR_INVALID_REFERENCE, NULL, dockreg_reference_parse("", &out));

    EXPECT(DOCKREG_OK, "\"reference\":\"v1\"", dockreg_split_image(image, &out));
    EXPECT(DOCKREG_OK, "\"reference\":\"\"", dockreg_split_image("ubuntu", &out));
    EXPECT(DOCKREG_ERR_NULL_ARGUMENT, NULL, dockreg_split_image(NULL, &out));
    EXPECT(DOCKREG_ERR_NULL_ARGUMENT, NULL, dockreg_split_image("ubuntu", NULL));
    EXPECT(DOCKREG_ERR_INVALID_UTF8, NULL, dockreg_split_image("\xc3(", &out));
    EXPECT(DOCKREG_ERR_INVALID_REFERENCE, NULL, dockreg_split_image("UPPER/Case", &out));

    /* The last error survives calls that do not return a status, and each failing call
     * replaces it. */
    {
        char *out = SENTINEL;
        CHECK(dockreg_reference_parse(NULL, &out) == DOCKREG_ERR_NULL_ARGUMENT, "null");
        const char *m1 = dockreg_last_error_message();
        dockreg_string_free(NULL);
        (void)dockreg_status_name(1);
        (void)dockreg_version();
        CHECK(dockreg_last_error_message() == m1, "the last error moved");
        CHECK(strstr(safe(m1), "dockreg_reference_parse") != NULL, "message %s", safe(m1));
        CHECK(dockreg_split_image("a::b", &out) == DOCKREG_ERR_INVALID_REFERENCE, "bad");
        CHECK(strstr(safe(dockreg_last_error_json()), "dockreg_split_image") != NULL,
              "json %s", safe(dockreg_last_error_json()));
    }

    /* ---- dockreg_client_new ---- */
    dockreg_client *client = (dockreg_client *)SENTINEL;
    CHECK(dockreg_client_new(NULL, NULL) == DOCKREG_ERR_NULL_ARGUMENT, "NULL out");
    CHECK(strstr(safe(dockreg_last_error_message()), "out") != NULL, "names out");
    struct {
        const char *options;
        dockreg_status want;
        const char *must_contain;
    } bad_options[] = {
        {"{", DOCKREG_ERR_INVALID_JSON, "options_json"},
        {"not json", DOCKREG_ERR_INVALID_JSON, NULL},
        {"{} {}", DOCKREG_ERR_INVALID_JSON, NULL},
        {"{\"bogus_key\": 1}", DOCKREG_ERR_INVALID_OPTION, "bogus_key"},
        {"{\"credentials\": {\"r.io\": {\"username\": \"u\", \"pasword\": \"p\"}}}",
         DOCKREG_ERR_INVALID_OPTION, "pasword"},
        {"[]", DOCKREG_ERR_INVALID_OPTION, NULL},
        {"{\"page_size\": \"ten\"}", DOCKREG_ERR_INVALID_OPTION, NULL},
        {"{\"page_size\": 0}", DOCKREG_ERR_INVALID_OPTION, "page_size"},
        {"{\"page_size\": 1001}", DOCKREG_ERR_INVALID_OPTION, "page_size"},
        {"{\"platform\": \"linux\"}", DOCKREG_ERR_INVALID_OPTION, "platform"},
        {"{\"insecure_registries\": [\"bad host\"]}", DOCKREG_ERR_INVALID_OPTION,
         "insecure_registries"},
        {"{\"credentials\": {\"r.io\": {\"username\": \"u\"}}}", DOCKREG_ERR_INVALID_OPTION,
         "credentials.r.io"},
        {"{\"credentials\": {\"r.io\": {\"bearer_token\": \"t\", \"identity_token\": \"i\"}}}",
         DOCKREG_ERR_INVALID_OPTION, "exactly one"},
        {"{\"connect_timeout_ms\": 0}", DOCKREG_ERR_INVALID_OPTION, "connect_timeout_ms"},
        {"{\"connect_timeout_ms\": -5}", DOCKREG_ERR_INVALID_OPTION, NULL},
        {"{\"user_agent\": \"\"}", DOCKREG_ERR_INVALID_OPTION, "user_agent"},
        {"{\"docker_config\": 5}", DOCKREG_ERR_INVALID_OPTION, NULL},
        {"{\"ca_certificates_pem_path\": \"/nonexistent/dockreg/ca.pem\"}", DOCKREG_ERR_FILE_IO,
         "/nonexistent/dockreg/ca.pem"},
        {"{\"ca_certificates_pem_path\": \"/dev/null\"}", DOCKREG_ERR_INVALID_OPTION,
         "ca_certificates_pem_path"},
        {"{\"user_agent\": \"caf\xe9\"}", DOCKREG_ERR_INVALID_UTF8, "options_json"},
    };
    for (size_t i = 0; i < sizeof bad_options / sizeof bad_options[0]; i++) {
        dockreg_status st = dockreg_client_new(bad_options[i].options, &client);
        const char *m = dockreg_last_error_message();
        CHECK(st == bad_options[i].want, "options %s: %s, want %s: %s", bad_options[i].options,
              dockreg_status_name(st), dockreg_status_name(bad_options[i].want), safe(m));
        CHECK(client == (dockreg_client *)SENTINEL, "options %s: out written",
              bad_options[i].options);
        if (bad_options[i].must_contain) {
            CHECK(strstr(safe(m), bad_options[i].must_contain) != NULL, "options %s: %s",
                  bad_options[i].options, safe(m));
        }
    }
    const char *good_options[] = {
        "{}",
        " { } ",
        "{\"insecure_registries\": [], \"credentials\": {}, \"docker_config\": null,"
        " \"connect_timeout_ms\": 5000, \"stall_timeout_ms\": 20000, \"request_timeout_ms\": 60000,"
        " \"retry\": {\"max_attempts\": 2, \"initial_backoff_ms\": 10}, \"max_page_bytes\": 65536,"
        " \"max_listing_entries\": 500, \"max_index_depth\": 2,"
        " \"platform\": \"linux/arm64/v8\", \"user_agent\": \"abi-test/1\", \"page_size\": 50,"
        " \"max_manifest_size\": 1048576}",
        "{\"credentials\": {\"r.example\": {\"username\": \"u\", \"password\": \"p\"},"
        " \"s.example:5000\": {\"identity_token\": \"i\"}, \"t.example\": {\"bearer_token\": \"b\"}},"
        " \"insecure_registries\": [\"r.example\", \"10.0.0.1:5000\"],"
        " \"docker_config\": \"default\", \"read_timeout_ms\": 1000}",
        "{\"docker_config\": \"/nonexistent/config.json\"}",
    };
    for (size_t i = 0; i < sizeof good_options / sizeof good_options[0]; i++) {
        dockreg_client *c = NULL;
        dockreg_status st = dockreg_client_new(good_options[i], &c);
        CHECK(st == DOCKREG_OK && c != NULL, "options %s: %s: %s", good_options[i],
              dockreg_status_name(st), safe(dockreg_last_error_message()));
        CHECK(dockreg_last_error_message() == NULL, "error not cleared");
        dockreg_client_free(c);
    }

    CHECK(dockreg_client_new(NULL, &client) == DOCKREG_OK, "default client: %s",
          safe(dockreg_last_error_message()));
    dockreg_client *arm = NULL, *s390 = NULL, *down_client = NULL;
    CHECK(dockreg_client_new("{\"platform\": \"linux/arm64\"}", &arm) == DOCKREG_OK, "arm");
    CHECK(dockreg_client_new("{\"platform\": \"linux/s390x\"}", &s390) == DOCKREG_OK, "s390x");
    CHECK(dockreg_client_new("{\"connect_timeout_ms\": 2000}", &down_client) == DOCKREG_OK, "c");
    if (failures) {
        fprintf(stderr, "abi_test: cannot go on without clients\n");
        return 1;
    }

    /* ---- the operations that take (client, string, out_json) ---- */
    typedef dockreg_status (*op_fn)(const dockreg_client *, const char *, char **);
    struct {
        const char *name;
        op_fn f;
        const char *arg;         /* a good argument */
        const char *must_contain; /* in the successful output */
    } ops[] = {
        {"get_manifest", dockreg_client_get_manifest, image, digest},
        {"get_raw_manifest", dockreg_client_get_raw_manifest, image, "\"manifest\":{"},
        {"head_manifest", dockreg_client_head_manifest, image, digest},
        {"get_digest", dockreg_client_get_digest, image, digest},
        {"get_image_config", dockreg_client_get_image_config, image, "\"architecture\":\"amd64\""},
        {"list_tags", dockreg_client_list_tags, image, "\"v1\""},
        {"list_instances", dockreg_client_list_instances, own, digest},
        {"list_repositories", dockreg_client_list_repositories, registry, "fixtures/oci"},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        const char *n = ops[i].name;
        char *out = SENTINEL;
        dockreg_status st;
        /* success */
        st = ops[i].f(client, ops[i].arg, &out);
        outcome(__LINE__, n, st, DOCKREG_OK, out, ops[i].must_contain, NULL, 0);
        /* NULL client, argument, out-param */
        out = SENTINEL;
        st = ops[i].f(NULL, ops[i].arg, &out);
        outcome(__LINE__, n, st, DOCKREG_ERR_NULL_ARGUMENT, out, "client", NULL, 0);
        out = SENTINEL;
        st = ops[i].f(client, NULL, &out);
        outcome(__LINE__, n, st, DOCKREG_ERR_NULL_ARGUMENT, out, NULL, NULL, 0);
        st = ops[i].f(client, ops[i].arg, NULL);
        outcome(__LINE__, n, st, DOCKREG_ERR_NULL_ARGUMENT, SENTINEL, "out_json", NULL, 0);
        /* invalid UTF-8, invalid reference */
        out = SENTINEL;
        st = ops[i].f(client, "127.0.0.1:1/\xff\xfe", &out);
        outcome(__LINE__, n, st, DOCKREG_ERR_INVALID_UTF8, out, NULL, NULL, 0);
        out = SENTINEL;
        st = ops[i].f(client, "bad host:x/y", &out);
        outcome(__LINE__, n, st, DOCKREG_ERR_INVALID_REFERENCE, out, NULL, NULL, 0);
        /* registry down */
        out = SENTINEL;
        st = ops[i].f(down_client, strcmp(n, "list_repositories") == 0 ? down : down_image, &out);
        outcome(__LINE__, n, st, DOCKREG_ERR_CONNECT, out, down, NULL, 0);
        /* not found (the catalog of a registry always exists) */
        if (strcmp(n, "list_repositories") != 0) {
            out = SENTINEL;
            st = ops[i].f(client, missing_repo, &out);
            outcome(__LINE__, n, st, DOCKREG_ERR_NOT_FOUND, out, NULL, NULL, 0);
            CHECK(strstr(safe(dockreg_last_error_json()), "\"http_status\":404") != NULL,
                  "%s: %s", n, safe(dockreg_last_error_json()));
        }
    }

    /* ---- outputs in detail ---- */
    char field[256];
    EXPECT_COPY(DOCKREG_OK, NULL, buf, dockreg_client_get_manifest(client, image, &out));
    json_string(buf, "digest", field, sizeof field);
    CHECK(strcmp(field, digest) == 0, "manifest digest %s", field);
    CHECK(strstr(buf, "\"indexDigest\":null") != NULL, "%s", buf);
    CHECK(strstr(buf, "\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"") != NULL,
          "%s", buf);
    CHECK(strstr(buf, config_digest) != NULL, "manifest lacks its config digest: %s", buf);

    /* From an index: the platform's image, with the index digest. */
    EXPECT_COPY(DOCKREG_OK, NULL, buf, dockreg_client_get_manifest(arm, index, &out));
    json_string(buf, "digest", field, sizeof field);
    CHECK(strcmp(field, arm_digest) == 0, "arm digest %s", field);
    json_string(buf, "indexDigest", field, sizeof field);
    CHECK(strcmp(field, index_digest) == 0, "index digest %s", field);
    EXPECT(DOCKREG_ERR_PLATFORM_NOT_FOUND, "linux/s390x",
           dockreg_client_get_manifest(s390, index, &out));
    EXPECT(DOCKREG_ERR_PLATFORM_NOT_FOUND, NULL,
           dockreg_client_get_image_config(s390, index, &out));
    EXPECT(DOCKREG_OK, "\"mediaType\":\"application/vnd.oci.image.index.v1+json\"",
           dockreg_client_get_raw_manifest(s390, index, &out));
    EXPECT(DOCKREG_OK, index_digest, dockreg_client_get_digest(s390, index, &out));
    EXPECT(DOCKREG_OK, "\"architecture\":\"arm64\"",
           dockreg_client_get_image_config(arm, index, &out));

    /* Not found inside an existing repository carries the registry's error code. */
    EXPECT(DOCKREG_ERR_NOT_FOUND, NULL, dockreg_client_get_manifest(client, missing_tag, &out));
    CHECK(strstr(safe(dockreg_last_error_json()), "\"code\":\"MANIFEST_UNKNOWN\"") != NULL,
          "%s", safe(dockreg_last_error_json()));
    CHECK(strstr(safe(dockreg_last_error_json()), "\"method\":\"GET\"") != NULL, "%s",
          safe(dockreg_last_error_json()));
    CHECK(strstr(safe(dockreg_last_error_json()), "/manifests/no-such-tag") != NULL, "%s",
          safe(dockreg_last_error_json()));
    /* A digest no manifest has. */
    {
        char wrong[512];
        snprintf(wrong, sizeof wrong, "%s@%s", own, bad_layer);
        EXPECT(DOCKREG_ERR_NOT_FOUND, NULL, dockreg_client_get_manifest(client, wrong, &out));
        CHECK(strstr(safe(dockreg_last_error_json()), "\"code\":\"MANIFEST_UNKNOWN\"") != NULL,
              "%s", safe(dockreg_last_error_json()));
    }

    /* ---- get_config ---- */
    EXPECT(DOCKREG_OK, "\"os\":\"linux\"",
           dockreg_client_get_config(client, image, config_digest, &out));
    EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "client",
           dockreg_client_get_config(NULL, image, config_digest, &out));
    EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "repository",
           dockreg_client_get_config(client, NULL, config_digest, &out));
    EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "config_digest",
           dockreg_client_get_config(client, image, NULL, &out));
    EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "out_json",
           dockreg_client_get_config(client, image, config_digest, NULL));
    EXPECT(DOCKREG_ERR_INVALID_UTF8, NULL,
           dockreg_client_get_config(client, image, "sha256:\xff", &out));
    EXPECT(DOCKREG_ERR_INVALID_DIGEST, "invalid digest",
           dockreg_client_get_config(client, image, "sha256:xyz", &out));
    EXPECT(DOCKREG_ERR_INVALID_REFERENCE, NULL,
           dockreg_client_get_config(client, "::", config_digest, &out));
    EXPECT(DOCKREG_ERR_NOT_FOUND, NULL,
           dockreg_client_get_config(client, image, bad_layer, &out));
    EXPECT(DOCKREG_ERR_CONNECT, NULL,
           dockreg_client_get_config(down_client, down_image, config_digest, &out));

    /* ---- list_repositories: a bad registry name ---- */
    EXPECT(DOCKREG_ERR_INVALID_REFERENCE, NULL,
           dockreg_client_list_repositories(client, "bad host", &out));

    /* ---- list_instances: times are RFC 3339 ---- */
    EXPECT_COPY(DOCKREG_OK, "\"tags\":[", buf, dockreg_client_list_instances(client, own, &out));
    CHECK(strstr(buf, "\"created\":\"20") != NULL && strstr(buf, "Z\"") != NULL,
          "no RFC 3339 time: %s", buf);

    /* ---- set_tag, put_manifest (in our own repository) ---- */
    {
        char tagged[512];
        snprintf(tagged, sizeof tagged, "%s:abi-tagged", own);
        EXPECT_COPY(DOCKREG_OK, "\"image\":", buf,
                    dockreg_client_set_tag(client, own_image, "abi-tagged", &out));
        json_string(buf, "digest", field, sizeof field);
        CHECK(strcmp(field, digest) == 0, "set_tag digest %s", field);
        json_string(buf, "image", field, sizeof field);
        CHECK(strcmp(field, tagged) == 0, "set_tag image %s", field);
        EXPECT(DOCKREG_OK, digest, dockreg_client_get_digest(client, tagged, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "new_tag",
               dockreg_client_set_tag(client, own_image, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "image", dockreg_client_set_tag(client, NULL, "x", &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "client", dockreg_client_set_tag(NULL, own_image, "x", &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "out_json",
               dockreg_client_set_tag(client, own_image, "x", NULL));
        EXPECT(DOCKREG_ERR_INVALID_UTF8, NULL,
               dockreg_client_set_tag(client, own_image, "t\xff", &out));
        EXPECT(DOCKREG_ERR_INVALID_REFERENCE, NULL,
               dockreg_client_set_tag(client, own_image, "bad tag", &out));
        EXPECT(DOCKREG_ERR_NOT_FOUND, NULL,
               dockreg_client_set_tag(client, missing_tag, "x", &out));
        EXPECT(DOCKREG_ERR_CONNECT, NULL,
               dockreg_client_set_tag(down_client, down_image, "x", &out));

        /* The raw manifest is embedded byte for byte: push it back under another tag. */
        char raw[1 << 15];
        EXPECT_COPY(DOCKREG_OK, NULL, raw, dockreg_client_get_raw_manifest(client, own_image, &out));
        char media_type[256];
        json_string(raw, "mediaType", media_type, sizeof media_type);
        char *doc = strstr(raw, "\"manifest\":");
        CHECK(doc != NULL, "no manifest in %s", raw);
        if (doc != NULL) {
            doc += strlen("\"manifest\":");
            size_t len = strlen(doc) - 1; /* without the closing brace of the wrapper */
            char pushed[512];
            snprintf(pushed, sizeof pushed, "%s:abi-pushed", own);
            EXPECT(DOCKREG_OK, digest,
                   dockreg_client_put_manifest(client, pushed, (const uint8_t *)doc, len,
                                               media_type, &out));
            EXPECT(DOCKREG_OK, digest, dockreg_client_get_digest(client, pushed, &out));
            EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "manifest",
                   dockreg_client_put_manifest(client, pushed, NULL, 0, media_type, &out));
            EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "media_type",
                   dockreg_client_put_manifest(client, pushed, (const uint8_t *)doc, len, NULL,
                                               &out));
            EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "out_json",
                   dockreg_client_put_manifest(client, pushed, (const uint8_t *)doc, len,
                                               media_type, NULL));
            EXPECT(DOCKREG_ERR_INVALID_ARGUMENT, NULL,
                   dockreg_client_put_manifest(client, pushed, (const uint8_t *)doc, len, "",
                                               &out));
            /* The bytes must match a digest given in the reference. */
            char by_digest[512];
            snprintf(by_digest, sizeof by_digest, "%s@%s", own, layer);
            EXPECT(DOCKREG_ERR_DIGEST_MISMATCH, NULL,
                   dockreg_client_put_manifest(client, by_digest, (const uint8_t *)doc, len,
                                               media_type, &out));
            EXPECT(DOCKREG_ERR_CONNECT, NULL,
                   dockreg_client_put_manifest(down_client, down_image, (const uint8_t *)doc, len,
                                               media_type, &out));
        }
    }

    /* ---- head_blob ---- */
    {
        char size_field[64];
        snprintf(size_field, sizeof size_field, "\"size\":%ld", layer_size);
        EXPECT(DOCKREG_OK, size_field, dockreg_client_head_blob(client, image, layer, &out));
        EXPECT(DOCKREG_OK, "\"exists\":false,\"size\":null",
               dockreg_client_head_blob(client, image, bad_layer, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "client", dockreg_client_head_blob(NULL, image, layer, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "repository", dockreg_client_head_blob(client, NULL, layer, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "digest", dockreg_client_head_blob(client, image, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "out_json", dockreg_client_head_blob(client, image, layer, NULL));
        EXPECT(DOCKREG_ERR_INVALID_DIGEST, NULL, dockreg_client_head_blob(client, image, "sha256:ab", &out));
        EXPECT(DOCKREG_ERR_INVALID_UTF8, NULL, dockreg_client_head_blob(client, "\xff", layer, &out));
        EXPECT(DOCKREG_ERR_INVALID_REFERENCE, NULL, dockreg_client_head_blob(client, "A B", layer, &out));
        EXPECT(DOCKREG_ERR_CONNECT, NULL, dockreg_client_head_blob(down_client, down_image, layer, &out));
    }

    /* ---- get_blob through callbacks ---- */
    {
        struct sink s = {NULL, 0, 0, (size_t)-1};
        struct progress p = {0, 0, 0, 0, 0};
        char size_field[64];
        snprintf(size_field, sizeof size_field, "\"size\":%ld", layer_size);
        EXPECT(DOCKREG_OK, size_field,
               dockreg_client_get_blob(client, image, layer, sink_write, &s, on_progress, &p, &out));
        CHECK((long)s.len == layer_size, "got %zu bytes, want %ld", s.len, layer_size);
        CHECK(p.calls >= 2 && p.last_done == (uint64_t)layer_size &&
                  p.last_total == (uint64_t)layer_size && !p.went_backwards,
              "progress: %d calls, last %llu of %llu", p.calls, (unsigned long long)p.last_done,
              (unsigned long long)p.last_total);
        /* Without progress. */
        s.len = 0;
        EXPECT(DOCKREG_OK, size_field,
               dockreg_client_get_blob(client, image, layer, sink_write, &s, NULL, NULL, &out));
        CHECK((long)s.len == layer_size, "got %zu bytes", s.len);
        /* Cancelled before the first byte, and after the first chunk. */
        struct progress cancel = {0, 0, 0, 1, 0};
        s.len = 0;
        EXPECT(DOCKREG_ERR_CANCELLED, NULL,
               dockreg_client_get_blob(client, image, layer, sink_write, &s, on_progress, &cancel,
                                       &out));
        CHECK(s.len == 0, "bytes written after a cancel before the start: %zu", s.len);
        struct progress cancel2 = {0, 0, 0, 2, 0};
        EXPECT(DOCKREG_ERR_CANCELLED, NULL,
               dockreg_client_get_blob(client, image, layer, sink_write, &s, on_progress, &cancel2,
                                       &out));
        /* A callback that consumes less than it is given. */
        struct sink short_sink = {NULL, 0, 0, 0};
        EXPECT(DOCKREG_ERR_CALLBACK, "write callback",
               dockreg_client_get_blob(client, image, layer, sink_write, &short_sink, NULL, NULL,
                                       &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "write_cb",
               dockreg_client_get_blob(client, image, layer, NULL, &s, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "client",
               dockreg_client_get_blob(NULL, image, layer, sink_write, &s, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "repository",
               dockreg_client_get_blob(client, NULL, layer, sink_write, &s, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "digest",
               dockreg_client_get_blob(client, image, NULL, sink_write, &s, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "out_json",
               dockreg_client_get_blob(client, image, layer, sink_write, &s, NULL, NULL, NULL));
        EXPECT(DOCKREG_ERR_INVALID_DIGEST, NULL,
               dockreg_client_get_blob(client, image, "sha256:", sink_write, &s, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_INVALID_UTF8, NULL,
               dockreg_client_get_blob(client, image, "\xff", sink_write, &s, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_INVALID_REFERENCE, NULL,
               dockreg_client_get_blob(client, "x::y", layer, sink_write, &s, NULL, NULL, &out));
        s.len = 0;
        EXPECT(DOCKREG_ERR_NOT_FOUND, NULL,
               dockreg_client_get_blob(client, image, bad_layer, sink_write, &s, on_progress, &p,
                                       &out));
        EXPECT(DOCKREG_ERR_CONNECT, NULL,
               dockreg_client_get_blob(down_client, down_image, layer, sink_write, &s, NULL, NULL,
                                       &out));
        free(s.data);
        free(short_sink.data);
    }

    /* ---- get_blob_to_file ---- */
    {
        char dir[512], path[600], missing_dir[600];
        snprintf(dir, sizeof dir, "%s/blobs", tmp);
        CHECK(mkdir(dir, 0700) == 0, "mkdir %s", dir);
        snprintf(path, sizeof path, "%s/layer.bin", dir);
        snprintf(missing_dir, sizeof missing_dir, "%s/no/such/dir/layer.bin", tmp);
        struct progress p = {0, 0, 0, 0, 0};
        EXPECT(DOCKREG_OK, layer,
               dockreg_client_get_blob_to_file(client, image, layer, path, on_progress, &p, &out));
        CHECK(file_size(path) == layer_size, "file has %ld bytes", file_size(path));
        CHECK(p.last_done == (uint64_t)layer_size, "progress %llu",
              (unsigned long long)p.last_done);
        /* Failures leave an existing file untouched and no temporary file behind. */
        struct progress cancel = {0, 0, 0, 2, 0};
        EXPECT(DOCKREG_ERR_CANCELLED, NULL,
               dockreg_client_get_blob_to_file(client, image, layer, path, on_progress, &cancel,
                                               &out));
        EXPECT(DOCKREG_ERR_NOT_FOUND, NULL,
               dockreg_client_get_blob_to_file(client, image, bad_layer, path, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_CONNECT, NULL,
               dockreg_client_get_blob_to_file(down_client, down_image, layer, path, NULL, NULL,
                                               &out));
        CHECK(file_size(path) == layer_size, "file changed by a failure: %ld", file_size(path));
        char fresh[600];
        snprintf(fresh, sizeof fresh, "%s/fresh.bin", dir);
        EXPECT(DOCKREG_ERR_CANCELLED, NULL,
               dockreg_client_get_blob_to_file(client, image, layer, fresh, on_progress, &cancel,
                                               &out));
        CHECK(file_size(fresh) == -1, "a cancelled download left %s", fresh);
        CHECK(count_entries(dir, "dockreg") == 0, "temporary files left in %s", dir);
        CHECK(count_entries(dir, "") == 3, "%s holds %d entries, want . .. layer.bin", dir,
              count_entries(dir, ""));
        EXPECT(DOCKREG_ERR_FILE_IO, "no/such/dir",
               dockreg_client_get_blob_to_file(client, image, layer, missing_dir, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_FILE_IO, NULL,
               dockreg_client_get_blob_to_file(client, image, layer, dir, NULL, NULL, &out));
        CHECK(count_entries(dir, "dockreg") == 0, "temporary files left in %s", dir);
        EXPECT(DOCKREG_ERR_INVALID_ARGUMENT, NULL,
               dockreg_client_get_blob_to_file(client, image, layer, "", NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "path",
               dockreg_client_get_blob_to_file(client, image, layer, NULL, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "client",
               dockreg_client_get_blob_to_file(NULL, image, layer, path, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "repository",
               dockreg_client_get_blob_to_file(client, NULL, layer, path, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "digest",
               dockreg_client_get_blob_to_file(client, image, NULL, path, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "out_json",
               dockreg_client_get_blob_to_file(client, image, layer, path, NULL, NULL, NULL));
        EXPECT(DOCKREG_ERR_INVALID_DIGEST, NULL,
               dockreg_client_get_blob_to_file(client, image, "nope", path, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_INVALID_UTF8, NULL,
               dockreg_client_get_blob_to_file(client, "\xff", layer, path, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_INVALID_REFERENCE, NULL,
               dockreg_client_get_blob_to_file(client, "a b", layer, path, NULL, NULL, &out));
        /* A path need not be UTF-8. */
        char latin1[600];
        snprintf(latin1, sizeof latin1, "%s/caf\xe9.bin", dir);
        EXPECT(DOCKREG_OK, layer,
               dockreg_client_get_blob_to_file(client, image, layer, latin1, NULL, NULL, &out));
        CHECK(file_size(latin1) == layer_size, "latin-1 path: %ld", file_size(latin1));
        unlink(latin1);
        unlink(path);
        rmdir(dir);
    }

    /* ---- uploads through a read callback ---- */
    enum { BLOB_LEN = 300000 };
    unsigned char *blob = malloc(BLOB_LEN);
    unsigned char *blob2 = malloc(BLOB_LEN);
    CHECK(blob != NULL && blob2 != NULL, "malloc");
    if (blob == NULL || blob2 == NULL) return 1;
    for (size_t i = 0; i < BLOB_LEN; i++) {
        blob[i] = (unsigned char)((i * 7 + i / 251) & 0xff);
        blob2[i] = (unsigned char)((i * 13 + 5) & 0xff);
    }
    char up_repo[512], blob_digest[128] = "", empty_digest[128] = "";
    snprintf(up_repo, sizeof up_repo, "%s/ffi/abi-up", registry);
    {
        struct source src = source_of(blob, BLOB_LEN);
        src.max_chunk = 10000;
        /* Size unknown: chunks held in memory. */
        EXPECT_COPY(DOCKREG_OK, "\"size\":300000", buf,
                    dockreg_client_push_blob(client, up_repo, source_read, &src, NULL, NULL, NULL,
                                             &out));
        json_string(buf, "digest", blob_digest, sizeof blob_digest);
        CHECK(strncmp(blob_digest, "sha256:", 7) == 0 && strlen(blob_digest) == 71,
              "push digest %s", buf);
        char size_field[64];
        snprintf(size_field, sizeof size_field, "\"exists\":true,\"size\":%d", BLOB_LEN);
        EXPECT(DOCKREG_OK, size_field,
               dockreg_client_head_blob(client, up_repo, blob_digest, &out));

        /* Size known, chunked, with progress. */
        struct progress p = {0, 0, 0, 0, 0};
        src = source_of(blob, BLOB_LEN);
        EXPECT_COPY(DOCKREG_OK, blob_digest, buf,
                    dockreg_client_push_blob(client, up_repo, source_read, &src,
                                             "{\"size\": 300000, \"chunk_size\": 65536}",
                                             on_progress, &p, &out));
        CHECK(json_number(buf, "size") == BLOB_LEN, "size in %s", buf);
        CHECK(p.calls >= 3 && p.last_done == BLOB_LEN && p.last_total == BLOB_LEN,
              "upload progress: %d calls, last %llu of %llu", p.calls,
              (unsigned long long)p.last_done, (unsigned long long)p.last_total);

        /* Digest and size known: monolithic; then skipped as present (no read at all). */
        char opts[512];
        snprintf(opts, sizeof opts, "{\"digest\": \"%s\", \"size\": %d, \"skip_existing\": false}",
                 blob_digest, BLOB_LEN);
        src = source_of(blob, BLOB_LEN);
        EXPECT(DOCKREG_OK, blob_digest,
               dockreg_client_push_blob(client, up_repo, source_read, &src, opts, NULL, NULL,
                                        &out));
        snprintf(opts, sizeof opts, "{\"digest\": \"%s\"}", blob_digest);
        src = source_of(blob, BLOB_LEN);
        struct progress skipped = {0, 0, 0, 0, 0};
        EXPECT(DOCKREG_OK, "\"size\":300000",
               dockreg_client_push_blob(client, up_repo, source_read, &src, opts, on_progress,
                                        &skipped, &out));
        CHECK(src.calls == 0, "a present blob was read %d times", src.calls);
        CHECK(skipped.last_done == BLOB_LEN, "skipped progress %llu",
              (unsigned long long)skipped.last_done);

        /* The empty-object blob, for the referrer below (and a 2-byte upload). */
        struct source two = source_of((const unsigned char *)"{}", 2);
        EXPECT_COPY(DOCKREG_OK, "\"size\":2", buf,
                    dockreg_client_push_blob(client, up_repo, source_read, &two, "{\"size\": 2}",
                                             NULL, NULL, &out));
        json_string(buf, "digest", empty_digest, sizeof empty_digest);
        CHECK(strcmp(empty_digest, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a") == 0,
              "digest of {}: %s", empty_digest);
        /* A 0-byte blob. */
        struct source none = source_of(blob, 0);
        EXPECT(DOCKREG_OK, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
               dockreg_client_push_blob(client, up_repo, source_read, &none, NULL, NULL, NULL,
                                        &out));

        /* A read callback that fails (SIZE_MAX), with and without a size, or overruns. */
        src = source_of(blob2, BLOB_LEN);
        src.fail_at = 100000;
        EXPECT(DOCKREG_ERR_READ_CALLBACK, "read callback",
               dockreg_client_push_blob(client, up_repo, source_read, &src, NULL, NULL, NULL,
                                        &out));
        src = source_of(blob2, BLOB_LEN);
        src.fail_at = 100000;
        EXPECT(DOCKREG_ERR_READ_CALLBACK, "SIZE_MAX",
               dockreg_client_push_blob(client, up_repo, source_read, &src, "{\"size\": 300000}",
                                        NULL, NULL, &out));
        src = source_of(blob2, BLOB_LEN);
        src.fail_at = 0;
        EXPECT(DOCKREG_ERR_READ_CALLBACK, NULL,
               dockreg_client_push_blob(client, up_repo, source_read, &src,
                                        "{\"chunk_size\": 1000}", NULL, NULL, &out));
        src = source_of(blob2, BLOB_LEN);
        src.overrun = 1;
        EXPECT(DOCKREG_ERR_READ_CALLBACK, "buffer",
               dockreg_client_push_blob(client, up_repo, source_read, &src, NULL, NULL, NULL,
                                        &out));
        /* Cancelled by progress: before the start, and in the middle. */
        struct progress cancel = {0, 0, 0, 1, 0};
        src = source_of(blob2, BLOB_LEN);
        EXPECT(DOCKREG_ERR_CANCELLED, NULL,
               dockreg_client_push_blob(client, up_repo, source_read, &src, NULL, on_progress,
                                        &cancel, &out));
        CHECK(src.calls == 0, "read %d times after a cancel before the start", src.calls);
        struct progress cancel3 = {0, 0, 0, 3, 0};
        src = source_of(blob2, BLOB_LEN);
        src.max_chunk = 10000;
        EXPECT(DOCKREG_ERR_CANCELLED, NULL,
               dockreg_client_push_blob(client, up_repo, source_read, &src, "{\"size\": 300000}",
                                        on_progress, &cancel3, &out));
        /* The source ends before the size given. */
        src = source_of(blob2, 1000);
        EXPECT(DOCKREG_ERR_INVALID_ARGUMENT, "ended",
               dockreg_client_push_blob(client, up_repo, source_read, &src, "{\"size\": 5000}",
                                        NULL, NULL, &out));

        /* Options: strict JSON, unknown keys named. */
        struct {
            const char *options;
            dockreg_status want;
            const char *must_contain;
        } bad[] = {
            {"{", DOCKREG_ERR_INVALID_JSON, "options_json"},
            {"[]", DOCKREG_ERR_INVALID_OPTION, "object"},
            {"{\"bogus\": 1}", DOCKREG_ERR_INVALID_OPTION, "bogus"},
            {"{\"chunksize\": 1}", DOCKREG_ERR_INVALID_OPTION, "chunksize"},
            {"{\"chunk_size\": 0}", DOCKREG_ERR_INVALID_OPTION, "chunk_size"},
            {"{\"size\": -1}", DOCKREG_ERR_INVALID_OPTION, NULL},
            {"{\"skip_existing\": \"yes\"}", DOCKREG_ERR_INVALID_OPTION, NULL},
            {"{\"digest\": \"sha256:xyz\"}", DOCKREG_ERR_INVALID_OPTION, "digest"},
            {"{\"mount_from\": \"ffi/oci\"}", DOCKREG_ERR_INVALID_OPTION, "mount_from"},
            {"{\"digest\": \"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
             " \"mount_from\": \"Bad Repo\"}", DOCKREG_ERR_INVALID_OPTION, "mount_from"},
            {"{\"mount_from\": \"caf\xe9\"}", DOCKREG_ERR_INVALID_UTF8, "options_json"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            src = source_of(blob2, BLOB_LEN);
            char *out = SENTINEL;
            dockreg_status st = dockreg_client_push_blob(client, up_repo, source_read, &src,
                                                         bad[i].options, NULL, NULL, &out);
            outcome(__LINE__, bad[i].options, st, bad[i].want, out, bad[i].must_contain, NULL, 0);
            CHECK(src.calls == 0, "options %s: the source was read", bad[i].options);
            out = SENTINEL;
            st = dockreg_client_push_blob_from_file(client, up_repo, "/nonexistent", bad[i].options,
                                                    NULL, NULL, &out);
            outcome(__LINE__, bad[i].options, st, bad[i].want, out, bad[i].must_contain, NULL, 0);
        }
        /* NULL arguments, bad references, a registry that is down. */
        src = source_of(blob2, BLOB_LEN);
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "client",
               dockreg_client_push_blob(NULL, up_repo, source_read, &src, NULL, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "repository",
               dockreg_client_push_blob(client, NULL, source_read, &src, NULL, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "read_cb",
               dockreg_client_push_blob(client, up_repo, NULL, &src, NULL, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "out_json",
               dockreg_client_push_blob(client, up_repo, source_read, &src, NULL, NULL, NULL,
                                        NULL));
        EXPECT(DOCKREG_ERR_INVALID_UTF8, "repository",
               dockreg_client_push_blob(client, "r\xff", source_read, &src, NULL, NULL, NULL,
                                        &out));
        EXPECT(DOCKREG_ERR_INVALID_REFERENCE, NULL,
               dockreg_client_push_blob(client, "A B", source_read, &src, NULL, NULL, NULL, &out));
        CHECK(src.calls == 0, "the source was read on misuse");
        EXPECT(DOCKREG_ERR_CONNECT, down,
               dockreg_client_push_blob(down_client, down_image, source_read, &src, NULL, NULL,
                                        NULL, &out));
    }

    /* ---- uploads from a file ---- */
    {
        char path[600];
        snprintf(path, sizeof path, "%s/upload.bin", tmp);
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL && fwrite(blob, 1, BLOB_LEN, f) == BLOB_LEN && fclose(f) == 0,
              "write %s", path);
        struct progress p = {0, 0, 0, 0, 0};
        EXPECT_COPY(DOCKREG_OK, blob_digest, buf,
                    dockreg_client_push_blob_from_file(client, up_repo, path, NULL, on_progress,
                                                       &p, &out));
        CHECK(json_number(buf, "size") == BLOB_LEN, "%s", buf);
        CHECK(p.last_done == BLOB_LEN && p.last_total == BLOB_LEN && !p.went_backwards,
              "file progress %llu of %llu", (unsigned long long)p.last_done,
              (unsigned long long)p.last_total);
        EXPECT(DOCKREG_OK, blob_digest,
               dockreg_client_push_blob_from_file(client, up_repo, path,
                                                  "{\"chunk_size\": 100000, \"size\": 300000}",
                                                  NULL, NULL, &out));
        struct progress cancel = {0, 0, 0, 2, 0};
        EXPECT(DOCKREG_ERR_CANCELLED, NULL,
               dockreg_client_push_blob_from_file(client, up_repo, path, "{\"chunk_size\": 50000}",
                                                  on_progress, &cancel, &out));
        EXPECT(DOCKREG_ERR_INVALID_OPTION, "300000 bytes",
               dockreg_client_push_blob_from_file(client, up_repo, path, "{\"size\": 5}", NULL,
                                                  NULL, &out));
        EXPECT(DOCKREG_ERR_FILE_IO, "no/such/file",
               dockreg_client_push_blob_from_file(client, up_repo, "/no/such/file", NULL, NULL,
                                                  NULL, &out));
        EXPECT(DOCKREG_ERR_INVALID_ARGUMENT, NULL,
               dockreg_client_push_blob_from_file(client, up_repo, "", NULL, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "path",
               dockreg_client_push_blob_from_file(client, up_repo, NULL, NULL, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "client",
               dockreg_client_push_blob_from_file(NULL, up_repo, path, NULL, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "repository",
               dockreg_client_push_blob_from_file(client, NULL, path, NULL, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "out_json",
               dockreg_client_push_blob_from_file(client, up_repo, path, NULL, NULL, NULL, NULL));
        EXPECT(DOCKREG_ERR_INVALID_REFERENCE, NULL,
               dockreg_client_push_blob_from_file(client, "a b", path, NULL, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_CONNECT, NULL,
               dockreg_client_push_blob_from_file(down_client, down_image, path, NULL, NULL, NULL,
                                                  &out));
        unlink(path);
    }

    /* ---- mount_blob, and an upload that mounts ---- */
    {
        char mount_repo[512], mount_repo2[512], own_path[512];
        snprintf(mount_repo, sizeof mount_repo, "%s/ffi/abi-mount", registry);
        snprintf(mount_repo2, sizeof mount_repo2, "%s/ffi/abi-mount2", registry);
        /* `own` is "<registry>/ffi/oci": the path on the registry. */
        snprintf(own_path, sizeof own_path, "%s", own + strlen(registry) + 1);
        EXPECT(DOCKREG_OK, "\"mounted\":true",
               dockreg_client_mount_blob(client, mount_repo, layer, own_path, &out));
        EXPECT(DOCKREG_OK, "\"exists\":true",
               dockreg_client_head_blob(client, mount_repo, layer, &out));
        EXPECT(DOCKREG_OK, "\"mounted\":false",
               dockreg_client_mount_blob(client, mount_repo, bad_layer, own_path, &out));
        char opts[1024];
        snprintf(opts, sizeof opts, "{\"digest\": \"%s\", \"mount_from\": \"%s\"}", layer,
                 own_path);
        struct source src = source_of(blob, BLOB_LEN);
        EXPECT(DOCKREG_OK, layer,
               dockreg_client_push_blob(client, mount_repo2, source_read, &src, opts, NULL, NULL,
                                        &out));
        CHECK(src.calls == 0, "a mounted blob was read %d times", src.calls);
        EXPECT(DOCKREG_ERR_INVALID_REFERENCE, NULL,
               dockreg_client_mount_blob(client, mount_repo, layer, "Bad Repo", &out));
        EXPECT(DOCKREG_ERR_INVALID_DIGEST, NULL,
               dockreg_client_mount_blob(client, mount_repo, "sha256:1", own_path, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "from",
               dockreg_client_mount_blob(client, mount_repo, layer, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "digest",
               dockreg_client_mount_blob(client, mount_repo, NULL, own_path, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "repository",
               dockreg_client_mount_blob(client, NULL, layer, own_path, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "client",
               dockreg_client_mount_blob(NULL, mount_repo, layer, own_path, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "out_json",
               dockreg_client_mount_blob(client, mount_repo, layer, own_path, NULL));
        EXPECT(DOCKREG_ERR_INVALID_UTF8, "from",
               dockreg_client_mount_blob(client, mount_repo, layer, "\xff", &out));
        EXPECT(DOCKREG_ERR_CONNECT, NULL,
               dockreg_client_mount_blob(down_client, down_image, layer, own_path, &out));
    }

    /* ---- delete_blob ---- */
    EXPECT_STATUS(DOCKREG_OK, NULL, dockreg_client_delete_blob(client, up_repo, blob_digest));
    EXPECT(DOCKREG_OK, "\"exists\":false",
           dockreg_client_head_blob(client, up_repo, blob_digest, &out));
    EXPECT_STATUS(DOCKREG_ERR_NOT_FOUND, NULL,
                  dockreg_client_delete_blob(client, up_repo, bad_layer));
    EXPECT_STATUS(DOCKREG_ERR_NULL_ARGUMENT, "client",
                  dockreg_client_delete_blob(NULL, up_repo, blob_digest));
    EXPECT_STATUS(DOCKREG_ERR_NULL_ARGUMENT, "repository",
                  dockreg_client_delete_blob(client, NULL, blob_digest));
    EXPECT_STATUS(DOCKREG_ERR_NULL_ARGUMENT, "digest",
                  dockreg_client_delete_blob(client, up_repo, NULL));
    EXPECT_STATUS(DOCKREG_ERR_INVALID_DIGEST, NULL,
                  dockreg_client_delete_blob(client, up_repo, "sha256:xyz"));
    EXPECT_STATUS(DOCKREG_ERR_INVALID_REFERENCE, NULL,
                  dockreg_client_delete_blob(client, "x y", blob_digest));
    EXPECT_STATUS(DOCKREG_ERR_INVALID_UTF8, NULL,
                  dockreg_client_delete_blob(client, "\xff", blob_digest));
    EXPECT_STATUS(DOCKREG_ERR_CONNECT, NULL,
                  dockreg_client_delete_blob(down_client, down_image, blob_digest));

    /* ---- copy_image ---- */
    char copy_repo[512], copy_v1[600], copy_arm[600], copy_index[600];
    snprintf(copy_repo, sizeof copy_repo, "%s/ffi/abi-copy", registry);
    snprintf(copy_v1, sizeof copy_v1, "%s:v1", copy_repo);
    snprintf(copy_arm, sizeof copy_arm, "%s:arm", copy_repo);
    snprintf(copy_index, sizeof copy_index, "%s:index", copy_repo);
    {
        char want[256];
        snprintf(want, sizeof want, "{\"digest\":\"%s\"}", digest);
        EXPECT_COPY(DOCKREG_OK, NULL, buf,
                    dockreg_client_copy_image(client, own_image, copy_v1, NULL, &out));
        CHECK(strcmp(buf, want) == 0, "copy output %s", buf);
        EXPECT(DOCKREG_OK, digest, dockreg_client_get_digest(client, copy_v1, &out));
        EXPECT(DOCKREG_OK, arm_digest,
               dockreg_client_copy_image(client, index, copy_arm, "{\"platform\": \"linux/arm64\"}",
                                         &out));
        EXPECT(DOCKREG_OK, index_digest,
               dockreg_client_copy_image(client, index, copy_index,
                                         "{\"platform\": null, \"all_tags\": false}", &out));
        EXPECT(DOCKREG_OK, index_digest, dockreg_client_get_digest(client, copy_index, &out));
        char all_tags_repo[512];
        snprintf(all_tags_repo, sizeof all_tags_repo, "%s/ffi/abi-alltags", registry);
        snprintf(want, sizeof want, "{\"digest\":\"%s\",\"tag\":\"v1\"}", digest);
        EXPECT(DOCKREG_OK, want,
               dockreg_client_copy_image(client, own, all_tags_repo, "{\"all_tags\": true}", &out));
        EXPECT(DOCKREG_ERR_PLATFORM_NOT_FOUND, "linux/s390x",
               dockreg_client_copy_image(client, index, copy_arm, "{\"platform\": \"linux/s390x\"}",
                                         &out));
        EXPECT(DOCKREG_ERR_INVALID_JSON, "options_json",
               dockreg_client_copy_image(client, own_image, copy_v1, "{", &out));
        EXPECT(DOCKREG_ERR_INVALID_OPTION, "platfrom",
               dockreg_client_copy_image(client, own_image, copy_v1, "{\"platfrom\": null}", &out));
        EXPECT(DOCKREG_ERR_INVALID_OPTION, "platform",
               dockreg_client_copy_image(client, own_image, copy_v1, "{\"platform\": \"linux\"}",
                                         &out));
        EXPECT(DOCKREG_ERR_INVALID_OPTION, "all_tags",
               dockreg_client_copy_image(client, own_image, copy_v1,
                                         "{\"platform\": \"linux/arm64\", \"all_tags\": true}",
                                         &out));
        EXPECT(DOCKREG_ERR_INVALID_OPTION, NULL,
               dockreg_client_copy_image(client, own_image, copy_v1, "{\"all_tags\": 1}", &out));
        EXPECT(DOCKREG_ERR_NOT_FOUND, NULL,
               dockreg_client_copy_image(client, missing_tag, copy_v1, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "src",
               dockreg_client_copy_image(client, NULL, copy_v1, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "dst",
               dockreg_client_copy_image(client, own_image, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "client",
               dockreg_client_copy_image(NULL, own_image, copy_v1, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "out_json",
               dockreg_client_copy_image(client, own_image, copy_v1, NULL, NULL));
        EXPECT(DOCKREG_ERR_INVALID_REFERENCE, NULL,
               dockreg_client_copy_image(client, own_image, "a b", NULL, &out));
        EXPECT(DOCKREG_ERR_INVALID_UTF8, "src",
               dockreg_client_copy_image(client, "\xff", copy_v1, NULL, &out));
        EXPECT(DOCKREG_ERR_CONNECT, NULL,
               dockreg_client_copy_image(down_client, down_image, copy_v1, NULL, &out));
    }

    /* ---- list_platforms ---- */
    EXPECT_COPY(DOCKREG_OK, "{\"platforms\":[", buf,
                dockreg_client_list_platforms(client, index, &out));
    CHECK(strstr(buf, "\"architecture\":\"amd64\"") != NULL &&
              strstr(buf, "\"architecture\":\"arm64\"") != NULL,
          "index platforms %s", buf);
    EXPECT(DOCKREG_OK, "{\"platforms\":[{\"architecture\":\"amd64\",\"os\":\"linux\"",
           dockreg_client_list_platforms(client, image, &out));
    EXPECT(DOCKREG_ERR_NOT_FOUND, NULL, dockreg_client_list_platforms(client, missing_tag, &out));
    EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "image", dockreg_client_list_platforms(client, NULL, &out));
    EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "client", dockreg_client_list_platforms(NULL, image, &out));
    EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "out_json", dockreg_client_list_platforms(client, image, NULL));
    EXPECT(DOCKREG_ERR_INVALID_REFERENCE, NULL, dockreg_client_list_platforms(client, "::", &out));
    EXPECT(DOCKREG_ERR_CONNECT, NULL, dockreg_client_list_platforms(down_client, down_image, &out));

    /* ---- referrers: push an artifact whose subject is copy_v1, then list it ---- */
    {
        char head[1024];
        EXPECT_COPY(DOCKREG_OK, NULL, head, dockreg_client_head_manifest(client, copy_v1, &out));
        long long subject_size = json_number(head, "size");
        CHECK(subject_size > 0, "subject size in %s", head);
        EXPECT(DOCKREG_OK, "\"manifests\":[]",
               dockreg_client_list_referrers(client, copy_v1, NULL, &out));
        struct source two = source_of((const unsigned char *)"{}", 2);
        EXPECT(DOCKREG_OK, empty_digest,
               dockreg_client_push_blob(client, copy_repo, source_read, &two, "{\"size\": 2}",
                                        NULL, NULL, &out));
        char artifact[2048];
        int alen = snprintf(
            artifact, sizeof artifact,
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
            "\"artifactType\":\"application/vnd.dockreg.abi-test\","
            "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"%s\","
            "\"size\":2},"
            "\"layers\":[{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"%s\","
            "\"size\":2}],"
            "\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
            "\"digest\":\"%s\",\"size\":%lld}}",
            empty_digest, empty_digest, digest, subject_size);
        const char *oci_manifest = "application/vnd.oci.image.manifest.v1+json";
        char referrer[128];
        EXPECT_COPY(DOCKREG_OK, "\"digest\":\"sha256:", buf,
                    dockreg_client_push_referrer(client, copy_repo, (const uint8_t *)artifact,
                                                 (size_t)alen, oci_manifest, &out));
        json_string(buf, "digest", referrer, sizeof referrer);
        EXPECT_COPY(DOCKREG_OK, referrer, buf,
                    dockreg_client_list_referrers(client, copy_v1, NULL, &out));
        CHECK(strstr(buf, "\"artifactType\":\"application/vnd.dockreg.abi-test\"") != NULL,
              "%s", buf);
        EXPECT(DOCKREG_OK, referrer,
               dockreg_client_list_referrers(client, copy_v1, "application/vnd.dockreg.abi-test",
                                             &out));
        EXPECT(DOCKREG_OK, "{\"manifests\":[]}",
               dockreg_client_list_referrers(client, copy_v1, "application/other", &out));
        EXPECT(DOCKREG_ERR_INVALID_ARGUMENT, "artifact_type",
               dockreg_client_list_referrers(client, copy_v1, "", &out));
        EXPECT(DOCKREG_ERR_INVALID_UTF8, "artifact_type",
               dockreg_client_list_referrers(client, copy_v1, "\xff", &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "image",
               dockreg_client_list_referrers(client, NULL, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "client",
               dockreg_client_list_referrers(NULL, copy_v1, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "out_json",
               dockreg_client_list_referrers(client, copy_v1, NULL, NULL));
        EXPECT(DOCKREG_ERR_INVALID_REFERENCE, NULL,
               dockreg_client_list_referrers(client, "a b", NULL, &out));
        EXPECT(DOCKREG_ERR_NOT_FOUND, NULL,
               dockreg_client_list_referrers(client, missing_tag, NULL, &out));
        EXPECT(DOCKREG_ERR_CONNECT, NULL,
               dockreg_client_list_referrers(down_client, down_image, NULL, &out));

        const char *no_subject = "{\"schemaVersion\":2,\"mediaType\":"
                                 "\"application/vnd.oci.image.manifest.v1+json\","
                                 "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\","
                                 "\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\","
                                 "\"size\":2},\"layers\":[]}";
        EXPECT(DOCKREG_ERR_INVALID_ARGUMENT, "subject",
               dockreg_client_push_referrer(client, copy_repo, (const uint8_t *)no_subject,
                                            strlen(no_subject), oci_manifest, &out));
        EXPECT(DOCKREG_ERR_INVALID_ARGUMENT, NULL,
               dockreg_client_push_referrer(client, copy_repo, (const uint8_t *)"nope", 4,
                                            oci_manifest, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "manifest",
               dockreg_client_push_referrer(client, copy_repo, NULL, 0, oci_manifest, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "media_type",
               dockreg_client_push_referrer(client, copy_repo, (const uint8_t *)artifact,
                                            (size_t)alen, NULL, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "repository",
               dockreg_client_push_referrer(client, NULL, (const uint8_t *)artifact, (size_t)alen,
                                            oci_manifest, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "client",
               dockreg_client_push_referrer(NULL, copy_repo, (const uint8_t *)artifact,
                                            (size_t)alen, oci_manifest, &out));
        EXPECT(DOCKREG_ERR_NULL_ARGUMENT, "out_json",
               dockreg_client_push_referrer(client, copy_repo, (const uint8_t *)artifact,
                                            (size_t)alen, oci_manifest, NULL));
        EXPECT(DOCKREG_ERR_INVALID_REFERENCE, NULL,
               dockreg_client_push_referrer(client, "a b", (const uint8_t *)artifact, (size_t)alen,
                                            oci_manifest, &out));
        EXPECT(DOCKREG_ERR_CONNECT, NULL,
               dockreg_client_push_referrer(down_client, down_image, (const uint8_t *)artifact,
                                            (size_t)alen, oci_manifest, &out));
    }

    /* ---- delete_tag (refused by distribution 2.x), delete_manifest ---- */
    {
        char copy_by_digest[1024], arm_by_digest[1024];
        snprintf(copy_by_digest, sizeof copy_by_digest, "%s@%s", copy_repo, digest);
        snprintf(arm_by_digest, sizeof arm_by_digest, "%s@%s", copy_repo, arm_digest);
        EXPECT_STATUS(DOCKREG_ERR_UNSUPPORTED, "deleting the tag",
                      dockreg_client_delete_tag(client, copy_v1));
        EXPECT(DOCKREG_OK, digest, dockreg_client_get_digest(client, copy_v1, &out));
        EXPECT_STATUS(DOCKREG_ERR_INVALID_ARGUMENT, NULL,
                      dockreg_client_delete_tag(client, copy_repo));
        EXPECT_STATUS(DOCKREG_ERR_INVALID_ARGUMENT, NULL,
                      dockreg_client_delete_tag(client, copy_by_digest));
        EXPECT_STATUS(DOCKREG_ERR_NULL_ARGUMENT, "image", dockreg_client_delete_tag(client, NULL));
        EXPECT_STATUS(DOCKREG_ERR_NULL_ARGUMENT, "client", dockreg_client_delete_tag(NULL, copy_v1));
        EXPECT_STATUS(DOCKREG_ERR_INVALID_REFERENCE, NULL,
                      dockreg_client_delete_tag(client, "a b:c"));
        EXPECT_STATUS(DOCKREG_ERR_INVALID_UTF8, NULL, dockreg_client_delete_tag(client, "\xff"));
        EXPECT_STATUS(DOCKREG_ERR_CONNECT, NULL, dockreg_client_delete_tag(down_client, down_image));

        EXPECT_STATUS(DOCKREG_OK, NULL, dockreg_client_delete_manifest(client, arm_by_digest));
        EXPECT(DOCKREG_ERR_NOT_FOUND, NULL, dockreg_client_get_digest(client, copy_arm, &out));
        EXPECT_STATUS(DOCKREG_ERR_NOT_FOUND, NULL,
                      dockreg_client_delete_manifest(client, arm_by_digest));
        EXPECT_STATUS(DOCKREG_ERR_INVALID_ARGUMENT, "digest",
                      dockreg_client_delete_manifest(client, copy_v1));
        EXPECT_STATUS(DOCKREG_ERR_NULL_ARGUMENT, "image",
                      dockreg_client_delete_manifest(client, NULL));
        EXPECT_STATUS(DOCKREG_ERR_NULL_ARGUMENT, "client",
                      dockreg_client_delete_manifest(NULL, arm_by_digest));
        EXPECT_STATUS(DOCKREG_ERR_INVALID_REFERENCE, NULL,
                      dockreg_client_delete_manifest(client, "::"));
        EXPECT_STATUS(DOCKREG_ERR_INVALID_UTF8, NULL, dockreg_client_delete_manifest(client, "\xff"));
        char down_by_digest[512];
        snprintf(down_by_digest, sizeof down_by_digest, "%s/app@%s", down, digest);
        EXPECT_STATUS(DOCKREG_ERR_CONNECT, NULL,
                      dockreg_client_delete_manifest(down_client, down_by_digest));
    }
    free(blob);
    free(blob2);

    dockreg_client_free(client);
    dockreg_client_free(arm);
    dockreg_client_free(s390);
    dockreg_client_free(down_client);

    return finish("abi_test");
}
