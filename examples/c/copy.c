/*
 * copy: copies an image (one manifest, or an index with all its children) with its blobs to
 * another repository or registry, through dockreg's C API. Ctrl-C cancels it cleanly.
 *
 *   cc -std=c99 copy.c $(pkg-config --cflags --libs dockreg) -o copy
 *   ./copy 127.0.0.1:5000/app:1.0 mirror.lan:5000/team/app:1.0 [COPY_OPTIONS] [CLIENT_OPTIONS]
 *
 * COPY_OPTIONS is the options JSON of dockreg_client_copy_image, e.g.
 * '{"platform": "linux/arm64"}' or '{"all_tags": true}'; CLIENT_OPTIONS that of
 * dockreg_client_new. Prints the copy's result and what the destination serves under the
 * digest copied (HEAD).
 *
 * Ctrl-C: the SIGINT handler triggers a dockreg_cancel (an atomic flag, safe in a signal
 * handler); every call of the client made with it then ends within about 100 ms with
 * DOCKREG_ERR_CANCELLED, even one waiting on a registry that does not answer. A second
 * Ctrl-C kills the program as usual. Exit code: 0, or the failing status value.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dockreg.h"

/* Set before the handler is installed and freed after it is removed. */
static dockreg_cancel *cancel_switch;

static void on_sigint(int signo) {
    (void)signo;
    /* Only async-signal-safe calls here: the trigger sets an atomic flag, write(2) is safe. */
    static const char note[] = "copy: cancelling\n";
    dockreg_cancel_trigger(cancel_switch);
    ssize_t ignored = write(STDERR_FILENO, note, sizeof note - 1);
    (void)ignored;
}

static int fail(const char *what, dockreg_status status) {
    const char *message = dockreg_last_error_message();
    fprintf(stderr, "copy: %s: %s: %s\n", what, dockreg_status_name(status),
            message ? message : "(no message)");
    return (int)status;
}

/* Copies the string value of "key" from dockreg's compact JSON output into `out` (dockreg
 * writes no spaces, and names and digests hold no escapes; a real program would use a JSON
 * parser). Returns 0 when found. */
static int json_string(const char *json, const char *key, char *out, size_t cap) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *start = strstr(json, pattern);
    if (start == NULL) {
        return -1;
    }
    start += strlen(pattern);
    const char *end = strchr(start, '"');
    if (end == NULL || (size_t)(end - start) >= cap) {
        return -1;
    }
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: %s SRC DST [COPY_OPTIONS_JSON] [CLIENT_OPTIONS_JSON]\n", argv[0]);
        return 2;
    }
    const char *src = argv[1], *dst = argv[2];
    const char *copy_options = argc >= 4 ? argv[3] : NULL;
    const char *client_options = argc >= 5 ? argv[4] : NULL;

    dockreg_client *client = NULL, *cancellable = NULL;
    dockreg_status st = dockreg_client_new(client_options, &client);
    if (st != DOCKREG_OK) {
        return fail("client", st);
    }
    if ((st = dockreg_cancel_new(&cancel_switch)) != DOCKREG_OK) {
        dockreg_client_free(client);
        return fail("cancel", st);
    }
    /* A handle sharing the client's connections whose calls obey the switch (0: no deadline;
     * give milliseconds for one). */
    if ((st = dockreg_client_with_cancel(client, cancel_switch, 0, &cancellable)) != DOCKREG_OK) {
        dockreg_cancel_free(cancel_switch);
        dockreg_client_free(client);
        return fail("cancel", st);
    }

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND; /* the second Ctrl-C gets the default action */
    struct sigaction previous;
    sigaction(SIGINT, &action, &previous);
    fprintf(stderr, "copy: %s -> %s (Ctrl-C cancels)\n", src, dst);

    int rc = 0;
    char *json = NULL;
    st = dockreg_client_copy_image(cancellable, src, dst, copy_options, &json);
    if (st == DOCKREG_ERR_CANCELLED && dockreg_cancel_is_triggered(cancel_switch)) {
        fprintf(stderr, "copy: cancelled: %s\n", dockreg_status_name(st));
        rc = (int)st;
    } else if (st != DOCKREG_OK) {
        rc = fail("copy", st);
    } else {
        printf("copied: %s\n", json);
        /* One image copied (not "all_tags"): check what the destination repository holds
         * under that digest (dst may lack a tag: the source's was used). */
        char digest[80], registry[256], repository[256], by_digest[700];
        int single = json_string(json, "digest", digest, sizeof digest) == 0;
        dockreg_string_free(json);
        if (single && (st = dockreg_split_image(dst, &json)) == DOCKREG_OK) {
            int ok = json_string(json, "registry", registry, sizeof registry) == 0 &&
                     json_string(json, "repository", repository, sizeof repository) == 0;
            dockreg_string_free(json);
            snprintf(by_digest, sizeof by_digest, "%s/%s@%s", registry, repository, digest);
            if (!ok) {
                fprintf(stderr, "copy: unexpected answer of dockreg_split_image\n");
                rc = 1;
            } else if ((st = dockreg_client_head_manifest(cancellable, by_digest, &json)) !=
                       DOCKREG_OK) {
                rc = fail("destination", st);
            } else {
                printf("destination: %s\n", json);
                dockreg_string_free(json);
            }
        } else if (single) {
            rc = fail("destination", st);
        }
    }

    /* The handler must not see a freed switch. */
    sigaction(SIGINT, &previous, NULL);
    dockreg_client_free(cancellable);
    dockreg_client_free(client);
    dockreg_cancel_free(cancel_switch);
    return rc;
}
