/*
 * Cancellation from C: every long call blocked on a registry that never answers (a listening
 * socket nobody accepts on), or on a blob body that stops midway, ends with
 * DOCKREG_ERR_CANCELLED soon after dockreg_cancel_trigger from another thread; a handle from
 * dockreg_client_with_timeout gives each call its own deadline. Run by tests/ffi_abi.rs.
 */
#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

static dockreg_client *client;
static double limit_ms;  /* trigger -> return */
static double worst_ms;
static char silent[64];  /* host:port that accepts connections and never answers */
static char midway[64];  /* host:port that sends half a blob and stops */
static const char *registry;

static int listen_local(char *addr, size_t addr_len) {
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        perror("listen");
        exit(2);
    }
    snprintf(addr, addr_len, "127.0.0.1:%d", ntohs(sa.sin_port));
    return fd;
}

/* The half-blob server: answers every connection with the start of a 1 MB body, then stalls. */
static int midway_fd;
static volatile int midway_stop;
static int held[64];
static int n_held;

static void *midway_server(void *arg) {
    (void)arg;
    while (!midway_stop) {
        struct pollfd p;
        p.fd = midway_fd;
        p.events = POLLIN;
        if (poll(&p, 1, 50) == 1) {
            char buf[4096];
            static const char head[] =
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                "Content-Length: 1000000\r\n\r\n";
            char body[1000];
            int c = accept(midway_fd, NULL, NULL);
            if (c < 0) continue;
            memset(body, 'x', sizeof body);
            (void)!read(c, buf, sizeof buf);
            (void)!write(c, head, sizeof head - 1);
            (void)!write(c, body, sizeof body);
            if (n_held < 64) held[n_held++] = c; else close(c);
        }
    }
    return NULL;
}

struct trigger {
    dockreg_cancel *cancel;
    double at;
};

static void *trigger_later(void *arg) {
    struct trigger *t = (struct trigger *)arg;
    usleep(300 * 1000);
    t->at = now_ms();
    dockreg_cancel_trigger(t->cancel);
    return NULL;
}

static size_t sink(void *ctx, const uint8_t *buf, size_t len) {
    (void)ctx;
    (void)buf;
    return len;
}

static size_t endless(void *ctx, uint8_t *buf, size_t cap) {
    (void)ctx;
    memset(buf, 'y', cap);
    return cap;
}

#define ZERO_DIGEST "sha256:0000000000000000000000000000000000000000000000000000000000000000"

/* Runs operation `op` on a cancellable client, cancels it after 300 ms from another thread. */
static void cancelled(const char *what, int op) {
    dockreg_cancel *cancel = NULL;
    dockreg_client *c = NULL;
    struct trigger t;
    pthread_t th;
    char *json = NULL;
    char a[256], b[256];
    char path[256];
    dockreg_bytes *bytes = NULL;
    dockreg_status st = DOCKREG_OK;
    double took;
    CHECK_STATUS(dockreg_cancel_new(&cancel), DOCKREG_OK);
    CHECK_STATUS(dockreg_client_with_cancel(client, cancel, 0, &c), DOCKREG_OK);
    t.cancel = cancel;
    t.at = 0;
    pthread_create(&th, NULL, trigger_later, &t);
    snprintf(a, sizeof a, "%s/a/b", silent);
    snprintf(b, sizeof b, "%s/a/b:v1", silent);
    switch (op) {
    case 0: st = dockreg_client_list_tags(c, a, &json); break;
    case 1: st = dockreg_client_list_repositories(c, silent, &json); break;
    case 2: st = dockreg_client_get_manifest(c, b, &json); break;
    case 3: st = dockreg_client_get_manifest_bytes(c, b, &bytes); break;
    case 4: st = dockreg_client_get_config(c, a, ZERO_DIGEST, &json); break;
    case 5: st = dockreg_client_list_instances(c, a, &json); break;
    case 6: st = dockreg_client_head_blob(c, a, ZERO_DIGEST, &json); break;
    case 7: st = dockreg_client_get_blob(c, a, ZERO_DIGEST, sink, NULL, NULL, NULL, &json); break;
    case 8:
        st = dockreg_client_push_blob(c, a, endless, NULL, "{}", NULL, NULL, &json);
        break;
    case 9: {
        snprintf(path, sizeof path, "%s/cancel/copy:v1", registry);
        st = dockreg_client_copy_image(c, b, path, NULL, &json);
        break;
    }
    case 10: {  /* the source answers, the destination never does */
        snprintf(path, sizeof path, "%s/a/b:v1", silent);
        st = dockreg_client_copy_image(c, need("DT_IMAGE"), path, NULL, &json);
        break;
    }
    case 11: {  /* a blob body that stops midway */
        snprintf(a, sizeof a, "%s/a/b", midway);
        st = dockreg_client_get_blob(c, a, ZERO_DIGEST, sink, NULL, NULL, NULL, &json);
        break;
    }
    case 12: {
        snprintf(a, sizeof a, "%s/a/b", midway);
        snprintf(path, sizeof path, "%s/cancelled.blob", need("DT_TMP"));
        st = dockreg_client_get_blob_to_file(c, a, ZERO_DIGEST, path, NULL, NULL, &json);
        CHECK(access(path, F_OK) != 0, "%s: a file was left behind", what);
        break;
    }
    case 13: st = dockreg_client_delete_blob(c, a, ZERO_DIGEST); break;
    default: break;
    }
    took = now_ms() - t.at;
    pthread_join(th, NULL);
    CHECK(st == DOCKREG_ERR_CANCELLED, "%s: %s, want DOCKREG_ERR_CANCELLED: %s", what,
          dockreg_status_name(st), safe(dockreg_last_error_message()));
    CHECK(took < limit_ms, "%s: ended %.0f ms after the cancel (limit %.0f)", what, took,
          limit_ms);
    CHECK(json == NULL && bytes == NULL, "%s: out written", what);
    if (took > worst_ms) worst_ms = took;
    printf("  %-32s %s %.0f ms after the cancel\n", what, dockreg_status_name(st), took);
    dockreg_client_free(c);
    dockreg_cancel_free(cancel);
}

static void per_call_timeout(void) {
    dockreg_client *per_call = NULL;
    dockreg_client *fixed = NULL;
    char a[256];
    char *json = NULL;
    double started, took1, took2;
    dockreg_status st;
    snprintf(a, sizeof a, "%s/a/b", silent);
    CHECK_STATUS(dockreg_client_with_timeout(client, 400, &per_call), DOCKREG_OK);
    started = now_ms();
    st = dockreg_client_list_tags(per_call, a, &json);
    took1 = now_ms() - started;
    CHECK_STATUS(st, DOCKREG_ERR_TIMEOUT);
    started = now_ms();
    st = dockreg_client_list_tags(per_call, a, &json);
    took2 = now_ms() - started;
    CHECK_STATUS(st, DOCKREG_ERR_TIMEOUT);
    /* Each call had its own 400 ms. */
    CHECK(took1 >= 350 && took1 < 400 + limit_ms, "first call %.0f ms", took1);
    CHECK(took2 >= 350 && took2 < 400 + limit_ms, "second call %.0f ms", took2);
    printf("  per-call timeout 400 ms: calls ended after %.0f and %.0f ms\n", took1, took2);

    /* dockreg_client_with_cancel's timeout is one deadline: a later call fails at once. */
    CHECK_STATUS(dockreg_client_with_cancel(per_call, NULL, 300, &fixed), DOCKREG_OK);
    st = dockreg_client_list_tags(fixed, a, &json);
    CHECK_STATUS(st, DOCKREG_ERR_TIMEOUT);
    usleep(50 * 1000);
    started = now_ms();
    st = dockreg_client_list_tags(fixed, a, &json);
    took1 = now_ms() - started;
    CHECK_STATUS(st, DOCKREG_ERR_TIMEOUT);
    CHECK(took1 < 100 + limit_ms / 4, "after the fixed deadline: %.0f ms", took1);
    CHECK_STATUS(dockreg_client_with_timeout(client, 0, &fixed), DOCKREG_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(dockreg_client_with_timeout(NULL, 10, &fixed), DOCKREG_ERR_NULL_ARGUMENT);
    CHECK_STATUS(dockreg_client_with_timeout(client, 10, NULL), DOCKREG_ERR_NULL_ARGUMENT);
    dockreg_client_free(fixed == NULL ? NULL : fixed);
    dockreg_client_free(per_call);
}

int main(void) {
    static const char *names[] = {
        "list_tags",           "list_repositories",      "get_manifest",
        "get_manifest_bytes",  "get_config",             "list_instances",
        "head_blob",           "get_blob",               "push_blob",
        "copy_image (source)", "copy_image (destination)", "get_blob (body stops)",
        "get_blob_to_file (body stops)", "delete_blob",
    };
    int silent_fd, i;
    pthread_t server;
    limit_ms = getenv("DT_SLOW") ? 2500.0 : 1000.0;
    registry = need("DT_REGISTRY");
    silent_fd = listen_local(silent, sizeof silent);
    midway_fd = listen_local(midway, sizeof midway);
    pthread_create(&server, NULL, midway_server, NULL);
    /* Retries would only wait longer; the point is the cancel. */
    client = new_client("{\"docker_config\": null, \"retry\": {\"max_attempts\": 1}}");
    printf("cancelled 300 ms into each call (limit %.0f ms after the cancel):\n", limit_ms);
    for (i = 0; i < (int)(sizeof names / sizeof names[0]); i++) {
        cancelled(names[i], i);
    }
    printf("  worst: %.0f ms\n", worst_ms);
    per_call_timeout();
    dockreg_client_free(client);
    midway_stop = 1;
    pthread_join(server, NULL);
    for (i = 0; i < n_held; i++) close(held[i]);
    close(midway_fd);
    close(silent_fd);
    return finish("cancel_test");
}
