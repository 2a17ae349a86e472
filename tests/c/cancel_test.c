/*
 * Cancellation from C: every long call blocked on a registry that never answers (a server
 * that takes the connection and stays silent, before or after the TLS probe), or on a blob
 * body that stops midway, ends with
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
static char silent[64];  /* accepts connections and never answers, not even the TLS probe */
static char mute[64];    /* says it is plain HTTP, then never answers a request */
static char midway[64];  /* says it is plain HTTP, then sends half a blob and stops */
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

/*
 * Two servers on one thread. Each tells the TLS probe (a ClientHello, first byte 0x16) that
 * it speaks plain HTTP, then: "mute" never answers a request; "midway" sends the start of a
 * 1 MB body and stalls. Connections are held open until the end.
 */
static int mute_fd, midway_fd;
static volatile int servers_stop;
static int held[256];
static int n_held;

static void serve_one(int listener, int midway_mode) {
    char buf[4096];
    static const char not_tls[] = "HTTP/1.0 400 Bad Request\r\n\r\n";
    static const char head[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        "Content-Length: 1000000\r\n\r\n";
    char body[1000];
    ssize_t n;
    int c = accept(listener, NULL, NULL);
    if (c < 0) return;
    n = read(c, buf, sizeof buf);
    if (n > 0 && (unsigned char)buf[0] == 0x16) {
        (void)!write(c, not_tls, sizeof not_tls - 1);
        close(c);
        return;
    }
    if (midway_mode) {
        memset(body, 'x', sizeof body);
        (void)!write(c, head, sizeof head - 1);
        (void)!write(c, body, sizeof body);
    }
    if (n_held < 256) held[n_held++] = c; else close(c);
}

static void *servers(void *arg) {
    (void)arg;
    while (!servers_stop) {
        struct pollfd p[2];
        p[0].fd = mute_fd;
        p[0].events = POLLIN;
        p[1].fd = midway_fd;
        p[1].events = POLLIN;
        if (poll(p, 2, 50) > 0) {
            if (p[0].revents & POLLIN) serve_one(mute_fd, 0);
            if (p[1].revents & POLLIN) serve_one(midway_fd, 1);
        }
    }
    return NULL;
}

static void sleep_ms(long ms) {
    struct timespec t;
    t.tv_sec = ms / 1000;
    t.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&t, NULL);
}

struct trigger {
    dockreg_cancel *cancel;
    double at;
};

static void *trigger_later(void *arg) {
    struct trigger *t = (struct trigger *)arg;
    sleep_ms(300);
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
    snprintf(a, sizeof a, "%s/a/b", mute);
    snprintf(b, sizeof b, "%s/a/b:v1", mute);
    switch (op) {
    case 0: st = dockreg_client_list_tags(c, a, &json); break;
    case 1: st = dockreg_client_list_repositories(c, mute, &json); break;
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
        snprintf(path, sizeof path, "%s/a/b:v1", mute);
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
    case 14: {  /* still in the TLS probe */
        snprintf(a, sizeof a, "%s/a/b", silent);
        st = dockreg_client_list_tags(c, a, &json);
        break;
    }
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
    sleep_ms(50);
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
        "get_blob_to_file (body stops)", "delete_blob", "list_tags (in the TLS probe)",
    };
    int silent_fd, i;
    pthread_t server;
    limit_ms = getenv("DT_SLOW") ? 2500.0 : 1000.0;
    registry = need("DT_REGISTRY");
    silent_fd = listen_local(silent, sizeof silent);
    mute_fd = listen_local(mute, sizeof mute);
    midway_fd = listen_local(midway, sizeof midway);
    pthread_create(&server, NULL, servers, NULL);
    /* Retries would only wait longer; the point is the cancel. */
    client = new_client("{\"docker_config\": null, \"retry\": {\"max_attempts\": 1}}");
    printf("cancelled 300 ms into each call (limit %.0f ms after the cancel):\n", limit_ms);
    for (i = 0; i < (int)(sizeof names / sizeof names[0]); i++) {
        cancelled(names[i], i);
    }
    printf("  worst: %.0f ms\n", worst_ms);
    per_call_timeout();
    dockreg_client_free(client);
    servers_stop = 1;
    pthread_join(server, NULL);
    for (i = 0; i < n_held; i++) close(held[i]);
    close(mute_fd);
    close(midway_fd);
    close(silent_fd);
    return finish("cancel_test");
}
