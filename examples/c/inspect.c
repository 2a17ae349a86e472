/*
 * inspect: what a registry knows about an image, through dockreg's C API.
 *
 *   cc -std=c99 inspect.c $(pkg-config --cflags --libs dockreg) -o inspect
 *   ./inspect 127.0.0.1:5000/app:1.0 [OPTIONS_JSON]
 *
 * Prints the image's digest, its manifest (for the client's platform), its config, and the
 * tags of its repository, each as the JSON document dockreg returns. On failure it prints the
 * status name and message and exits with the status value.
 */
#include <stdio.h>
#include <stdlib.h>

#include "dockreg.h"

/* Prints why the last call failed and returns its status (for the exit code). */
static int fail(const char *what, dockreg_status status) {
    const char *message = dockreg_last_error_message();
    fprintf(stderr, "inspect: %s: %s: %s\n", what, dockreg_status_name(status),
            message ? message : "(no message)");
    return (int)status;
}

/* Prints `label` and then the JSON document, and frees it. */
static void print_and_free(const char *label, char *json) {
    printf("%s: %s\n", label, json);
    dockreg_string_free(json);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s IMAGE [OPTIONS_JSON]\n", argv[0]);
        return 2;
    }
    const char *image = argv[1];
    const char *options = argc == 3 ? argv[2] : NULL;

    printf("dockreg %s\n", dockreg_version());

    char *json = NULL;
    dockreg_status st = dockreg_reference_parse(image, &json);
    if (st != DOCKREG_OK) {
        return fail("parse", st);
    }
    print_and_free("reference", json);

    dockreg_client *client = NULL;
    st = dockreg_client_new(options, &client);
    if (st != DOCKREG_OK) {
        return fail("client", st);
    }

    int rc = 0;
    if ((st = dockreg_client_get_digest(client, image, &json)) != DOCKREG_OK) {
        rc = fail("digest", st);
        goto done;
    }
    print_and_free("digest", json);

    if ((st = dockreg_client_get_manifest(client, image, &json)) != DOCKREG_OK) {
        rc = fail("manifest", st);
        goto done;
    }
    print_and_free("manifest", json);

    if ((st = dockreg_client_get_image_config(client, image, &json)) != DOCKREG_OK) {
        rc = fail("config", st);
        goto done;
    }
    print_and_free("config", json);

    /* The tag or digest of the reference is ignored when listing tags. */
    if ((st = dockreg_client_list_tags(client, image, &json)) != DOCKREG_OK) {
        rc = fail("tags", st);
        goto done;
    }
    print_and_free("tags", json);

done:
    dockreg_client_free(client);
    return rc;
}
