/*
 * Exact bytes: manifests (Docker v2, OCI manifest, OCI index, and one ending in a newline)
 * fetched as dockreg_bytes and pushed back under a new tag keep their digest; the JSON forms
 * embed the same bytes verbatim; a config comes back with the fields dockreg does not model.
 * Run by tests/ffi_abi.rs (valgrind, ASan/UBSan) against the real registry.
 */
#include "check.h"

static dockreg_client *client;

/* The first `len` bytes of `needle` occur in `hay`. */
static int contains_bytes(const char *hay, const uint8_t *needle, size_t len) {
    size_t n = strlen(hay);
    size_t i;
    if (len > n) return 0;
    for (i = 0; i + len <= n; i++) {
        if (memcmp(hay + i, needle, len) == 0) return 1;
    }
    return 0;
}

/* `image` (registry/repo:tag) -> bytes -> put under repo:`new_tag` -> the same digest. */
static void round_trip(const char *label, const char *image, const char *want_digest,
                       const char *want_media_type, const char *new_tag) {
    dockreg_bytes *bytes = NULL;
    char target[512];
    char *json = NULL;
    const char *colon;
    dockreg_status st = dockreg_client_get_manifest_bytes(client, image, &bytes);
    CHECK_STATUS(st, DOCKREG_OK);
    if (st != DOCKREG_OK) return;
    CHECK(dockreg_last_error_message() == NULL, "%s: last error set after success", label);
    CHECK(strcmp(dockreg_bytes_digest(bytes), want_digest) == 0, "%s: digest %s, want %s",
          label, dockreg_bytes_digest(bytes), want_digest);
    CHECK(strcmp(safe(dockreg_bytes_media_type(bytes)), want_media_type) == 0,
          "%s: media type %s, want %s", label, safe(dockreg_bytes_media_type(bytes)),
          want_media_type);
    CHECK(dockreg_bytes_len(bytes) > 0 && dockreg_bytes_data(bytes) != NULL, "%s: empty", label);

    /* The repository part of the image, with another tag. */
    colon = strrchr(image, ':');
    snprintf(target, sizeof target, "%.*s:%s", (int)(colon - image), image, new_tag);
    st = dockreg_client_put_manifest(client, target, dockreg_bytes_data(bytes),
                                     dockreg_bytes_len(bytes), dockreg_bytes_media_type(bytes),
                                     &json);
    CHECK_STATUS(st, DOCKREG_OK);
    if (st == DOCKREG_OK) {
        CHECK(strstr(json, want_digest) != NULL, "%s: pushed back as %s, want %s", label, json,
              want_digest);
        dockreg_string_free(json);
        json = NULL;
    }
    /* And fetched again by the new tag: the same bytes. */
    {
        dockreg_bytes *again = NULL;
        st = dockreg_client_get_manifest_bytes(client, target, &again);
        CHECK_STATUS(st, DOCKREG_OK);
        if (st == DOCKREG_OK) {
            CHECK(dockreg_bytes_len(again) == dockreg_bytes_len(bytes) &&
                      memcmp(dockreg_bytes_data(again), dockreg_bytes_data(bytes),
                             dockreg_bytes_len(bytes)) == 0,
                  "%s: other bytes under the new tag", label);
            dockreg_bytes_free(again);
        }
    }

    /* The JSON form holds the very same bytes, and their size. */
    st = dockreg_client_get_raw_manifest(client, image, &json);
    CHECK_STATUS(st, DOCKREG_OK);
    if (st == DOCKREG_OK) {
        char size[64];
        snprintf(size, sizeof size, "\"size\":%zu", dockreg_bytes_len(bytes));
        CHECK(strstr(json, size) != NULL, "%s: %s lacks %s", label, json, size);
        CHECK(contains_bytes(json, dockreg_bytes_data(bytes), dockreg_bytes_len(bytes)),
              "%s: get_raw_manifest does not embed the bytes verbatim", label);
        dockreg_string_free(json);
    }
    printf("%s: %zu bytes, %s, pushed back as the same digest\n", label,
           dockreg_bytes_len(bytes), dockreg_bytes_digest(bytes));
    dockreg_bytes_free(bytes);
}

static void newline_manifest(void) {
    const char *image = need("DT_NL_IMAGE");
    size_t want = (size_t)strtoull(need("DT_NL_SIZE"), NULL, 10);
    dockreg_bytes *bytes = NULL;
    char *json = NULL;
    dockreg_status st = dockreg_client_get_manifest_bytes(client, image, &bytes);
    CHECK_STATUS(st, DOCKREG_OK);
    if (st != DOCKREG_OK) return;
    CHECK(dockreg_bytes_len(bytes) == want, "length %zu, want %zu", dockreg_bytes_len(bytes),
          want);
    CHECK(dockreg_bytes_data(bytes)[dockreg_bytes_len(bytes) - 1] == '\n',
          "the trailing newline is gone");
    /* get_manifest (platform-resolved form) too: size and bytes verbatim. */
    st = dockreg_client_get_manifest(client, image, &json);
    CHECK_STATUS(st, DOCKREG_OK);
    if (st == DOCKREG_OK) {
        char size[64];
        snprintf(size, sizeof size, "\"size\":%zu", want);
        CHECK(strstr(json, size) != NULL, "%s lacks %s", json, size);
        CHECK(contains_bytes(json, dockreg_bytes_data(bytes), dockreg_bytes_len(bytes)),
              "get_manifest does not embed the %zu bytes verbatim", want);
        dockreg_string_free(json);
    }
    dockreg_bytes_free(bytes);
}

static void config_bytes(void) {
    const char *repo = need("DT_CFG_REPO");
    const char *digest = need("DT_CFG_DIGEST");
    size_t want = (size_t)strtoull(need("DT_CFG_SIZE"), NULL, 10);
    dockreg_bytes *bytes = NULL;
    dockreg_bytes *untouched = (dockreg_bytes *)&want;
    char *json = NULL;
    dockreg_status st = dockreg_client_get_blob_bytes(client, repo, digest, 0, &bytes);
    CHECK_STATUS(st, DOCKREG_OK);
    if (st != DOCKREG_OK) return;
    CHECK(dockreg_bytes_len(bytes) == want, "config length %zu, want %zu",
          dockreg_bytes_len(bytes), want);
    CHECK(strcmp(dockreg_bytes_digest(bytes), digest) == 0, "digest %s",
          dockreg_bytes_digest(bytes));
    CHECK(dockreg_bytes_media_type(bytes) == NULL, "a blob has no media type");

    /* get_config: the stored document itself, fields dockreg does not model included. */
    st = dockreg_client_get_config(client, repo, digest, &json);
    CHECK_STATUS(st, DOCKREG_OK);
    if (st == DOCKREG_OK) {
        CHECK(strlen(json) == want && memcmp(json, dockreg_bytes_data(bytes), want) == 0,
              "get_config is not the stored document: %s", json);
        CHECK(strstr(json, "\"Healthcheck\"") && strstr(json, "\"Shell\"") &&
                  strstr(json, "\"x-unmodelled\""),
              "fields dropped: %s", json);
        dockreg_string_free(json);
    }
    st = dockreg_client_get_image_config(client, need("DT_NL_IMAGE"), &json);
    CHECK_STATUS(st, DOCKREG_OK);
    if (st == DOCKREG_OK) {
        CHECK(strlen(json) == want && strstr(json, "\"Healthcheck\""), "%s", json);
        dockreg_string_free(json);
    }

    /* The cap: a config larger than max_size, a max_size over 64 MiB, NULL out. */
    st = dockreg_client_get_blob_bytes(client, repo, digest, 10, &untouched);
    CHECK_STATUS(st, DOCKREG_ERR_TOO_LARGE);
    CHECK(untouched == (dockreg_bytes *)&want, "out written on failure");
    st = dockreg_client_get_blob_bytes(client, repo, digest, (uint64_t)65 * 1024 * 1024,
                                       &untouched);
    CHECK_STATUS(st, DOCKREG_ERR_INVALID_ARGUMENT);
    st = dockreg_client_get_blob_bytes(client, repo, digest, 0, NULL);
    CHECK_STATUS(st, DOCKREG_ERR_NULL_ARGUMENT);
    st = dockreg_client_get_manifest_bytes(client, need("DT_NL_IMAGE"), NULL);
    CHECK_STATUS(st, DOCKREG_ERR_NULL_ARGUMENT);
    CHECK(untouched == (dockreg_bytes *)&want, "out written on failure");
    dockreg_bytes_free(bytes);
}

static void null_accessors(void) {
    CHECK(dockreg_bytes_data(NULL) == NULL, "data(NULL)");
    CHECK(dockreg_bytes_len(NULL) == 0, "len(NULL)");
    CHECK(dockreg_bytes_digest(NULL) == NULL, "digest(NULL)");
    CHECK(dockreg_bytes_media_type(NULL) == NULL, "media_type(NULL)");
    dockreg_bytes_free(NULL);
}

int main(void) {
    client = new_client(NULL);
    round_trip("docker v2", need("DT_DOCKER"), need("DT_DOCKER_DIGEST"),
               "application/vnd.docker.distribution.manifest.v2+json", "rt-docker");
    round_trip("oci manifest", need("DT_OCI"), need("DT_OCI_DIGEST"),
               "application/vnd.oci.image.manifest.v1+json", "rt-oci");
    round_trip("oci index", need("DT_INDEX"), need("DT_INDEX_DIGEST"),
               "application/vnd.oci.image.index.v1+json", "rt-index");
    round_trip("trailing newline", need("DT_NL_IMAGE"), need("DT_NL_DIGEST"),
               "application/vnd.oci.image.manifest.v1+json", "rt-newline");
    newline_manifest();
    config_bytes();
    null_accessors();
    dockreg_client_free(client);
    return finish("exact_test");
}
