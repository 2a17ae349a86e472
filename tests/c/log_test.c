/*
 * The log callback: dockreg's debug and trace lines (requests, token fetches) reach the host, with their
 * level and target, and no line holds a credential (Basic password, bearer token, JWT, the
 * base64 of user:password). Run by tests/ffi_abi.rs against registries with Basic and token
 * auth.
 */
#include "check.h"

#include <pthread.h>

#define MAX_LINES 4096

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *lines[MAX_LINES];
static int levels[MAX_LINES];
static int n_lines;
static int bad_target;
static int nested_status = -1;
/* The client of the call in progress, for the callback to try (and be refused). */
static dockreg_client *current_client;
static int nested_client_status = -1;
static int nested_parse_status = -1;

static void on_log(void *userdata, dockreg_log_level level, const char *target,
                   const char *message) {
    size_t len = strlen(target) + strlen(message) + 4;
    char *line = (char *)malloc(len);
    (void)userdata;
    snprintf(line, len, "%s: %s", target, message);
    /* Replacing the callback from inside it is refused (once is enough to know). */
    if (nested_status == -1) {
        nested_status = (int)dockreg_set_log_callback(on_log, NULL, DOCKREG_LOG_DEBUG);
    }
    /* A client function from the callback is refused at once (the line may come under a lock
       it would need: waiting would hang); a function without a client works. */
    if (nested_client_status == -1 && current_client != NULL) {
        char *json = NULL;
        nested_client_status =
            (int)dockreg_client_get_digest(current_client, "127.0.0.1:1/x:y", &json);
        if (nested_client_status == DOCKREG_OK) dockreg_string_free(json);
        json = NULL;
        nested_parse_status = (int)dockreg_reference_parse("127.0.0.1:1/x:y", &json);
        if (nested_parse_status == DOCKREG_OK) dockreg_string_free(json);
    }
    pthread_mutex_lock(&lock);
    if (strncmp(target, "dockreg", 7) != 0) bad_target++;
    if (n_lines < MAX_LINES) {
        levels[n_lines] = (int)level;
        lines[n_lines++] = line;
    } else {
        free(line);
    }
    pthread_mutex_unlock(&lock);
}

static void forget_lines(void) {
    int i;
    for (i = 0; i < n_lines; i++) free(lines[i]);
    n_lines = 0;
}

static int any_line(const char *a, const char *b) {
    int i;
    for (i = 0; i < n_lines; i++) {
        if (strstr(lines[i], a) && (b == NULL || strstr(lines[i], b))) return 1;
    }
    return 0;
}

/* No line contains any of the '|'-separated secrets. */
static void no_secret_in_lines(const char *what, const char *secrets) {
    char buf[4096];
    char *save = NULL;
    char *s;
    snprintf(buf, sizeof buf, "%s", secrets);
    for (s = strtok_r(buf, "|", &save); s; s = strtok_r(NULL, "|", &save)) {
        int i;
        for (i = 0; i < n_lines; i++) {
            CHECK(strstr(lines[i], s) == NULL, "%s: a log line holds a credential: %s", what,
                  lines[i]);
        }
    }
}

static void fetch(const char *what, const char *options, const char *image) {
    dockreg_client *c = new_client(options);
    char *json = NULL;
    dockreg_status st;
    current_client = c;
    st = dockreg_client_get_manifest(c, image, &json);
    current_client = NULL;
    CHECK(st == DOCKREG_OK, "%s: %s: %s", what, dockreg_status_name(st),
          safe(dockreg_last_error_message()));
    if (st == DOCKREG_OK) dockreg_string_free(json);
    dockreg_client_free(c);
}

int main(void) {
    const char *secrets = need("DT_SECRETS");
    int i, debug_lines = 0;

    CHECK_STATUS(dockreg_set_log_callback(on_log, NULL, 9), DOCKREG_ERR_INVALID_ARGUMENT);
    /* TRACE: the most detailed lines must be free of credentials too. */
    CHECK_STATUS(dockreg_set_log_callback(on_log, NULL, DOCKREG_LOG_TRACE), DOCKREG_OK);

    fetch("basic auth", need("DT_BASIC_OPTIONS"), need("DT_BASIC_IMAGE"));
    fetch("token auth", need("DT_TOKEN_OPTIONS"), need("DT_TOKEN_IMAGE"));
    fetch("bearer token", need("DT_BEARER_OPTIONS"), need("DT_TOKEN_IMAGE"));

    pthread_mutex_lock(&lock);
    for (i = 0; i < n_lines; i++) {
        if (levels[i] == DOCKREG_LOG_DEBUG) debug_lines++;
    }
    printf("%d lines at TRACE, %d of them at DEBUG; the first ones:\n", n_lines, debug_lines);
    for (i = 0; i < n_lines && i < 12; i++) printf("  [%d] %s\n", levels[i], lines[i]);
    CHECK(debug_lines > 0, "no DEBUG line arrived");
    CHECK(any_line("GET", "/v2/"), "no request line (GET .../v2/...)");
    CHECK(bad_target == 0, "%d lines from other crates", bad_target);
    CHECK(nested_status == DOCKREG_ERR_INVALID_ARGUMENT, "set from the callback: %s",
          dockreg_status_name((dockreg_status)nested_status));
    CHECK(nested_client_status == DOCKREG_ERR_INVALID_ARGUMENT, "a client call from the callback: %s",
          dockreg_status_name((dockreg_status)nested_client_status));
    CHECK(nested_parse_status == DOCKREG_OK, "a parse from the callback: %s",
          dockreg_status_name((dockreg_status)nested_parse_status));
    no_secret_in_lines("all", secrets);
    forget_lines();
    pthread_mutex_unlock(&lock);

    /* A less detailed level: no debug lines. Then off: nothing at all. */
    CHECK_STATUS(dockreg_set_log_callback(on_log, NULL, DOCKREG_LOG_WARN), DOCKREG_OK);
    fetch("basic auth at WARN", need("DT_BASIC_OPTIONS"), need("DT_BASIC_IMAGE"));
    pthread_mutex_lock(&lock);
    for (i = 0; i < n_lines; i++) {
        CHECK(levels[i] <= DOCKREG_LOG_WARN, "a line above WARN: %s", lines[i]);
    }
    forget_lines();
    pthread_mutex_unlock(&lock);
    CHECK_STATUS(dockreg_set_log_callback(NULL, NULL, DOCKREG_LOG_DEBUG), DOCKREG_OK);
    fetch("basic auth, logging off", need("DT_BASIC_OPTIONS"), need("DT_BASIC_IMAGE"));
    CHECK(n_lines == 0, "%d lines after logging was turned off", n_lines);
    forget_lines();
    return finish("log_test");
}
