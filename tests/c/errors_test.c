/*
 * The last error never lies (callbacks calling dockreg re-entrantly), no secret in any error
 * text, UNSUPPORTED keeps the registry's HTTP status, a failing read callback commits
 * nothing, the null rule of the timeouts, and the version macros. Run by tests/ffi_abi.rs.
 */
#include "check.h"

static dockreg_client *client;
static const char *repo;

/* A deterministic byte pattern, the same as tests/ffi_abi.rs computes the digest of. */
static uint8_t pattern_byte(uint64_t i) { return (uint8_t)((i * 7 + i / 251) & 0xff); }

/* ---- re-entrant calls from callbacks ---- */

struct source {
    uint64_t size;     /* bytes to give */
    uint64_t fail_at;  /* give SIZE_MAX once this many were given (UINT64_MAX: never) */
    uint64_t given;
    int inner_calls;   /* dockreg calls made from the callback */
    int inner_failed;  /* ... that failed, with a last error set inside the callback */
    int inner_ok;
};

static size_t read_pattern(void *ctx, uint8_t *buf, size_t cap) {
    struct source *s = (struct source *)ctx;
    size_t n = 0;
    if (s->given >= s->fail_at) return SIZE_MAX;
    while (n < cap && s->given < s->size && s->given < s->fail_at) {
        buf[n++] = pattern_byte(s->given++);
    }
    return n;
}

/* Progress callback: calls dockreg with a bad digest (fails) and a good one (succeeds). */
static int progress_reenter(void *ctx, uint64_t done, uint64_t total) {
    struct source *s = (struct source *)ctx;
    char *json = NULL;
    dockreg_status st;
    (void)total;
    if (done != 0) return 0;
    s->inner_calls++;
    st = dockreg_client_head_blob(client, repo, "sha256:not-a-digest", &json);
    if (st != DOCKREG_OK && dockreg_last_error_message() != NULL) s->inner_failed++;
    s->inner_calls++;
    st = dockreg_client_head_blob(client, repo, need("DT_LAYER"), &json);
    if (st == DOCKREG_OK) {
        if (strstr(json, "\"exists\":true")) s->inner_ok++;
        dockreg_string_free(json);
    }
    /* Leave the failure of the first inner call as this thread's last error. */
    s->inner_calls++;
    st = dockreg_client_head_blob(client, repo, "sha256:not-a-digest", &json);
    if (st != DOCKREG_OK) s->inner_failed++;
    return 0;
}

/* Write callback that makes a failing inner call, then refuses the bytes. */
static size_t write_reenter_and_refuse(void *ctx, const uint8_t *buf, size_t len) {
    struct source *s = (struct source *)ctx;
    char *json = NULL;
    (void)buf;
    (void)len;
    s->inner_calls++;
    if (dockreg_client_head_blob(client, repo, "sha256:not-a-digest", &json) != DOCKREG_OK) {
        s->inner_failed++;
    }
    return 0;
}

static void last_error_never_lies(void) {
    struct source s = {4096, UINT64_MAX, 0, 0, 0, 0};
    char *json = NULL;
    const char *err;
    dockreg_status st;

    /* Inner calls fail (and one succeeds) inside the progress callback; the outer succeeds. */
    st = dockreg_client_push_blob(client, repo, read_pattern, &s, "{\"size\": 4096}",
                                  progress_reenter, &s, &json);
    CHECK_STATUS(st, DOCKREG_OK);
    CHECK(s.inner_calls == 3 && s.inner_failed == 2 && s.inner_ok == 1,
          "inner calls %d, failed %d, ok %d", s.inner_calls, s.inner_failed, s.inner_ok);
    CHECK(dockreg_last_error_message() == NULL && dockreg_last_error_json() == NULL,
          "the outer call succeeded but the last error says: %s",
          safe(dockreg_last_error_message()));
    if (st == DOCKREG_OK) dockreg_string_free(json);

    /* The inner call fails, then the outer fails: the last error is the outer one's. */
    memset(&s, 0, sizeof s);
    s.fail_at = UINT64_MAX;
    st = dockreg_client_get_blob(client, repo, need("DT_LAYER"), write_reenter_and_refuse, &s,
                                 NULL, NULL, &json);
    CHECK_STATUS(st, DOCKREG_ERR_CALLBACK);
    CHECK(s.inner_calls >= 1 && s.inner_failed == s.inner_calls, "inner %d/%d", s.inner_failed,
          s.inner_calls);
    err = dockreg_last_error_json();
    CHECK(err && strstr(err, "\"function\":\"dockreg_client_get_blob\"") &&
              strstr(err, "\"status\":62"),
          "last error is not the outer call's: %s", safe(err));
    printf("re-entrant: inner failures inside callbacks leave no last error after a success\n");
}

/* ---- no secret in error text ---- */

static void no_secret(const char *options, dockreg_status want, const char *must_name) {
    dockreg_client *c = NULL;
    dockreg_status st = dockreg_client_new(options, &c);
    const char *msg = dockreg_last_error_message();
    const char *json = dockreg_last_error_json();
    CHECK(st == want, "%s: status %s, want %s (%s)", options, dockreg_status_name(st),
          dockreg_status_name(want), safe(msg));
    CHECK(c == NULL, "%s: out written on failure", options);
    CHECK(msg && json, "%s: no last error", options);
    if (msg && json) {
        CHECK(!strstr(msg, "hunter2") && !strstr(json, "hunter2"),
              "the secret is in the error: %s", msg);
        CHECK(strstr(msg, must_name) != NULL, "%s: the message does not name %s: %s", options,
              must_name, msg);
        printf("  %s\n", msg);
    }
    if (st == DOCKREG_OK) dockreg_client_free(c);
}

static void no_secret_in_errors(void) {
    const dockreg_status OPT = DOCKREG_ERR_INVALID_OPTION;
    printf("option errors (the secret is hunter2):\n");
    no_secret("{\"credentials\": {\"reg:5000\": \"alice:hunter2\"}}", OPT, "credentials.reg:5000");
    no_secret("{\"credentials\": \"alice:hunter2\"}", OPT, "credentials");
    no_secret("{\"credentials\": [\"alice:hunter2\"]}", OPT, "credentials");
    no_secret("{\"credentials\": {\"reg\": {\"username\": \"alice\", \"password\": [\"hunter2\"]}}}",
              OPT, "credentials.reg.password");
    no_secret("{\"credentials\": {\"reg\": {\"username\": \"alice\", \"password\": {\"v\": \"hunter2\"}}}}",
              OPT, "credentials.reg.password");
    no_secret("{\"credentials\": {\"reg\": {\"username\": [\"alice\", \"hunter2\"]}}}", OPT,
              "credentials.reg.username");
    no_secret("{\"credentials\": {\"reg\": {\"identity_token\": [\"hunter2\"]}}}", OPT,
              "credentials.reg.identity_token");
    no_secret("{\"credentials\": {\"reg\": {\"bearer_token\": {\"t\": \"hunter2\"}}}}", OPT,
              "credentials.reg.bearer_token");
    no_secret("{\"credentials\": {\"reg\": {\"username\": \"alice\", \"password\": \"hunter2\", "
              "\"bearer_token\": \"hunter2\"}}}",
              OPT, "credentials.reg");
    no_secret("{\"credentials\": {\"reg\": {\"user\": \"alice\", \"pass\": \"hunter2\"}}}", OPT,
              "credentials.reg");
    no_secret("{\"proxy\": [\"http://alice:hunter2@proxy.example:3128\"]}", OPT, "proxy");
    no_secret("{\"proxy\": {\"url\": \"http://alice:hunter2@proxy.example:3128\"}}", OPT, "proxy");
    no_secret("{\"proxy\": \"socks5://alice:hunter2@proxy.example:1080\"}", OPT, "proxy");
    no_secret("{\"docker_config\": {\"auths\": {\"reg\": {\"auth\": \"hunter2\"}}}}", OPT,
              "docker_config");
    no_secret("{\"google_credentials\": {\"private_key\": \"hunter2\"}}", OPT,
              "google_credentials");
    no_secret("\"alice:hunter2\"", OPT, "options_json");
    no_secret("[\"alice\", \"hunter2\"]", OPT, "options_json");
    no_secret("{\"credentials\": {\"reg\": {\"password\": \"hunter2\"", DOCKREG_ERR_INVALID_JSON,
              "options_json");
    no_secret("{\"credentials\": {\"reg\": {\"password\": hunter2}}}", DOCKREG_ERR_INVALID_JSON,
              "options_json");
}

/* ---- UNSUPPORTED keeps the registry's answer ---- */

static void unsupported_keeps_http_status(void) {
    dockreg_status st = dockreg_client_delete_tag(client, need("DT_TAG_TO_DELETE"));
    const char *json = dockreg_last_error_json();
    CHECK_STATUS(st, DOCKREG_ERR_UNSUPPORTED);
    CHECK(json && strstr(json, "\"http_status\":400") && strstr(json, "DIGEST_INVALID") &&
              strstr(json, "\"method\":\"DELETE\""),
          "the registry's answer is lost: %s", safe(json));
    printf("delete_tag: %s\n", safe(json));
}

/* ---- a failing read callback commits nothing ---- */

static void failing_read_commits_nothing(const char *options) {
    struct source s = {2 * 1024 * 1024, 1024 * 1024, 0, 0, 0, 0};
    char *json = NULL;
    char *head = NULL;
    dockreg_status st =
        dockreg_client_push_blob(client, repo, read_pattern, &s, options, NULL, NULL, &json);
    CHECK_STATUS(st, DOCKREG_ERR_READ_CALLBACK);
    CHECK(json == NULL, "out written on failure");
    CHECK(s.given == 1024 * 1024, "gave %llu bytes", (unsigned long long)s.given);
    /* Neither what was read (the prefix) nor anything else got committed under its digest. */
    st = dockreg_client_head_blob(client, repo, need("DT_PREFIX_DIGEST"), &head);
    CHECK_STATUS(st, DOCKREG_OK);
    if (st == DOCKREG_OK) {
        CHECK(strstr(head, "\"exists\":false") != NULL, "a truncated blob was committed (%s): %s",
              options, head);
        dockreg_string_free(head);
    }
    printf("read callback failing after 1 MiB (%s): READ_CALLBACK, nothing committed\n", options);
}

/* ---- null in the timeouts, and versions ---- */

static void timeouts_and_versions(void) {
    dockreg_client *c = NULL;
    const char *refused[] = {"connect_timeout_ms", "stall_timeout_ms", "read_timeout_ms"};
    size_t i;
    char options[128];
    char number[32];
    for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        snprintf(options, sizeof options, "{\"%s\": null}", refused[i]);
        CHECK_STATUS(dockreg_client_new(options, &c), DOCKREG_ERR_INVALID_OPTION);
        CHECK(strstr(safe(dockreg_last_error_message()), refused[i]) &&
                  strstr(safe(dockreg_last_error_message()), "null (no limit) is not allowed"),
              "%s", safe(dockreg_last_error_message()));
    }
    CHECK_STATUS(dockreg_client_new("{\"request_timeout_ms\": null, \"connect_timeout_ms\": 500}",
                                    &c),
                 DOCKREG_OK);
    dockreg_client_free(c);

    CHECK(strcmp(DOCKREG_VERSION, dockreg_version()) == 0, "header %s, library %s",
          DOCKREG_VERSION, dockreg_version());
    CHECK(strcmp(DOCKREG_VERSION, need("DT_VERSION")) == 0, "header %s, Cargo.toml %s",
          DOCKREG_VERSION, need("DT_VERSION"));
    CHECK(DOCKREG_VERSION_NUMBER == DOCKREG_VERSION_MAJOR * 10000 + DOCKREG_VERSION_MINOR * 100 +
                                        DOCKREG_VERSION_PATCH,
          "number %d", DOCKREG_VERSION_NUMBER);
    CHECK(dockreg_version_number() == DOCKREG_VERSION_NUMBER, "library %u, header %d",
          (unsigned)dockreg_version_number(), DOCKREG_VERSION_NUMBER);
    snprintf(number, sizeof number, "%d.%d.%d", DOCKREG_VERSION_MAJOR, DOCKREG_VERSION_MINOR,
             DOCKREG_VERSION_PATCH);
    CHECK(strcmp(number, DOCKREG_VERSION) == 0, "%s vs %s", number, DOCKREG_VERSION);
    printf("version %s (%u)\n", dockreg_version(), (unsigned)dockreg_version_number());
}

int main(void) {
    client = new_client(NULL);
    repo = need("DT_REPO");
    last_error_never_lies();
    no_secret_in_errors();
    unsupported_keeps_http_status();
    failing_read_commits_nothing("{}");
    failing_read_commits_nothing("{\"size\": 2097152}");
    failing_read_commits_nothing("{\"chunk_size\": 262144}");
    timeouts_and_versions();
    dockreg_client_free(client);
    return finish("errors_test");
}
