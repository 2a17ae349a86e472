/*
 * push: uploads a file as the single layer of a new image, with a progress display, through
 * dockreg's C API.
 *
 *   cc -std=c99 push.c $(pkg-config --cflags --libs dockreg) -o push
 *   ./push 127.0.0.1:5000/app:1.0 layer.tar [OPTIONS_JSON]
 *
 * Steps, each printed as the JSON dockreg returns:
 *   1. the file is uploaded as a blob (dockreg_client_push_blob_from_file) while a progress
 *      callback draws how far it got on stderr;
 *   2. an image config naming that layer is uploaded from memory through a read callback
 *      (dockreg_client_push_blob);
 *   3. an OCI image manifest referencing both is put under the image's tag
 *      (dockreg_client_put_manifest).
 * The file should be a tar archive (it becomes the image's root filesystem); the registry does
 * not look inside, so any file works for a try. On failure the status name and message go to
 * stderr and the status value is the exit code.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockreg.h"

/* Prints why the last call failed and returns its status (for the exit code). */
static int fail(const char *what, dockreg_status status) {
    const char *message = dockreg_last_error_message();
    fprintf(stderr, "push: %s: %s: %s\n", what, dockreg_status_name(status),
            message ? message : "(no message)");
    return (int)status;
}

/* The progress callback: one line each time another tenth of the file is done. `ctx` holds
 * the last tenth printed. Returning 0 lets the upload go on. */
static int show_progress(void *ctx, uint64_t done, uint64_t total) {
    int *last_tenth = ctx;
    int tenth = total > 0 ? (int)(done * 10 / total) : 0;
    if (done == 0 || tenth != *last_tenth) {
        *last_tenth = tenth;
        fprintf(stderr, "push: progress %llu/%llu bytes\n", (unsigned long long)done,
                (unsigned long long)total);
    }
    return 0;
}

/* A read callback over a buffer in memory: copies the next bytes, 0 at the end. */
struct memory_source {
    const char *data;
    size_t len;
    size_t pos;
};

static size_t read_memory(void *ctx, uint8_t *buf, size_t cap) {
    struct memory_source *src = ctx;
    size_t n = src->len - src->pos;
    if (n > cap) {
        n = cap;
    }
    memcpy(buf, src->data + src->pos, n);
    src->pos += n;
    return n;
}

/* Copies the string value of "key" from dockreg's compact JSON output into `out`. dockreg
 * writes its JSON without spaces and digests hold no escapes, which is all this needs; a
 * real program would use a JSON parser. Returns 0 when found. */
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

/* The number value of "key" in dockreg's compact JSON output, or -1. */
static long long json_number(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *start = strstr(json, pattern);
    return start ? strtoll(start + strlen(pattern), NULL, 10) : -1;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s IMAGE FILE [OPTIONS_JSON]\n", argv[0]);
        return 2;
    }
    const char *image = argv[1], *path = argv[2];
    const char *options = argc == 4 ? argv[3] : NULL;

    dockreg_client *client = NULL;
    dockreg_status st = dockreg_client_new(options, &client);
    if (st != DOCKREG_OK) {
        return fail("client", st);
    }

    int rc = 0;
    char *json = NULL;
    char layer_digest[80], config_digest[80];
    long long layer_size, config_size;
    char config[512], manifest[1024];

    /* 1. The file, streamed in one request (its size is known), resumed if the connection
     * breaks. The tag of `image` is ignored: blobs belong to the repository. */
    int last_tenth = -1;
    st = dockreg_client_push_blob_from_file(client, image, path, NULL, show_progress,
                                            &last_tenth, &json);
    if (st != DOCKREG_OK) {
        rc = fail("layer", st);
        goto done;
    }
    printf("layer: %s\n", json);
    layer_size = json_number(json, "size");
    rc = json_string(json, "digest", layer_digest, sizeof layer_digest);
    dockreg_string_free(json);
    if (rc != 0 || layer_size < 0) {
        fprintf(stderr, "push: unexpected answer for the layer\n");
        rc = 1;
        goto done;
    }

    /* 2. The image config, from memory through a read callback. An uncompressed tar layer's
     * diff_id is its digest. */
    int config_len = snprintf(config, sizeof config,
                              "{\"architecture\":\"amd64\",\"os\":\"linux\","
                              "\"config\":{\"Cmd\":[\"/bin/sh\"]},"
                              "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                              layer_digest);
    struct memory_source source = {config, (size_t)config_len, 0};
    char push_options[64];
    snprintf(push_options, sizeof push_options, "{\"size\": %d}", config_len);
    st = dockreg_client_push_blob(client, image, read_memory, &source, push_options, NULL, NULL,
                                  &json);
    if (st != DOCKREG_OK) {
        rc = fail("config", st);
        goto done;
    }
    printf("config: %s\n", json);
    config_size = json_number(json, "size");
    rc = json_string(json, "digest", config_digest, sizeof config_digest);
    dockreg_string_free(json);
    if (rc != 0 || config_size < 0) {
        fprintf(stderr, "push: unexpected answer for the config\n");
        rc = 1;
        goto done;
    }

    /* 3. The manifest: its exact bytes are what the registry stores and hashes. */
    int manifest_len = snprintf(
        manifest, sizeof manifest,
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
        "\"digest\":\"%s\",\"size\":%lld},"
        "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
        "\"digest\":\"%s\",\"size\":%lld}]}",
        config_digest, config_size, layer_digest, layer_size);
    st = dockreg_client_put_manifest(client, image, (const uint8_t *)manifest,
                                     (size_t)manifest_len,
                                     "application/vnd.oci.image.manifest.v1+json", &json);
    if (st != DOCKREG_OK) {
        rc = fail("manifest", st);
        goto done;
    }
    printf("manifest: %s\n", json);
    dockreg_string_free(json);

done:
    dockreg_client_free(client);
    return rc;
}
