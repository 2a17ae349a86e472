// wrapper_check: calls every method of dockreg.hpp against a registry and checks what comes
// back, including the error paths (statuses, exceptions thrown from callbacks, cancellation).
// Run by tests/ffi_examples.rs (under valgrind); also a reference of how each method is used.
//
//   c++ -std=c++11 wrapper_check.cpp $(pkg-config --cflags --libs dockreg) -o wrapper_check
//   ./wrapper_check 127.0.0.1:5000 /tmp/scratch-dir
//
// Writes only into the repositories check/* of that registry. Prints one line per check and
// ends with "N checks, M failures"; the exit code is 1 when a check failed.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "dockreg.hpp"

namespace {

int checks = 0, failures = 0;

void expect(bool ok, const std::string &what, const std::string &detail = "") {
    ++checks;
    if (!ok) {
        ++failures;
    }
    std::cout << (ok ? "ok   " : "FAIL ") << what;
    if (!ok && !detail.empty()) {
        std::cout << ": " << detail;
    }
    std::cout << "\n";
}

bool has(const std::string &text, const std::string &part) {
    return text.find(part) != std::string::npos;
}

// The string or number value of "key" in dockreg's compact JSON.
std::string field(const std::string &json, const std::string &key) {
    const std::string pattern = "\"" + key + "\":";
    std::string::size_type at = json.find(pattern);
    if (at == std::string::npos) {
        return "";
    }
    at += pattern.size();
    if (json[at] == '"') {
        return json.substr(at + 1, json.find('"', at + 1) - at - 1);
    }
    return json.substr(at, json.find_first_of(",}", at) - at);
}

// Runs `f` and returns the status of the dockreg::Error it throws (DOCKREG_OK if none).
template <typename F> int status_of(F f, std::string *json = nullptr) {
    try {
        f();
    } catch (const dockreg::Error &e) {
        if (json) {
            *json = e.json();
        }
        return static_cast<int>(e.status());
    }
    return 0;
}

struct Boom : std::runtime_error {
    Boom() : std::runtime_error("boom from a callback") {}
};

}  // namespace

int main(int argc, char **argv) {
    if (argc != 3) {
        std::cerr << "usage: " << argv[0] << " REGISTRY SCRATCH_DIR\n";
        return 2;
    }
    const std::string registry = argv[1], scratch = argv[2];
    const std::string repo = registry + "/check/app", other = registry + "/check/other";
    const std::string oci_manifest = "application/vnd.oci.image.manifest.v1+json";
    try {
        // Functions without a client.
        expect(!dockreg::version().empty(), "version " + dockreg::version());
        expect(dockreg::version_number() / 10000 == DOCKREG_VERSION_MAJOR &&
                   dockreg::version_number() >= DOCKREG_VERSION_NUMBER &&
                   dockreg::version() == DOCKREG_VERSION,
               "version_number " + std::to_string(dockreg::version_number()));

        // Log lines from any thread, gathered under a lock.
        std::mutex log_lock;
        std::vector<std::string> log_lines;
        dockreg::set_log_callback(
            [&](dockreg_log_level level, const std::string &target, const std::string &msg) {
                std::lock_guard<std::mutex> guard(log_lock);
                log_lines.push_back(std::to_string(static_cast<int>(level)) + " " + target +
                                    " " + msg);
            },
            DOCKREG_LOG_DEBUG);
        expect(dockreg::status_name(DOCKREG_ERR_NOT_FOUND) == "DOCKREG_ERR_NOT_FOUND",
               "status_name");
        expect(has(dockreg::reference_parse("ubuntu"), "\"repository\":\"library/ubuntu\""),
               "reference_parse");
        expect(has(dockreg::split_image(repo + ":1"), "\"reference\":\"1\""), "split_image");
        int st = status_of([] { dockreg::reference_parse("app:bad tag!"); });
        expect(st == DOCKREG_ERR_INVALID_REFERENCE, "reference_parse error status");

        // Options errors carry the status, its name and the JSON.
        std::string json;
        st = status_of([] { dockreg::Client bad("{\"bogus\": 1}"); }, &json);
        expect(st == DOCKREG_ERR_INVALID_OPTION && has(json, "\"status\":4") &&
                   has(json, "bogus"),
               "bad option -> Error(4)", json);
        expect(dockreg::last_error_message().find("bogus") != std::string::npos,
               "last_error_message after a failure");

        const dockreg::Client client;

        // Blobs from memory, a file, and a reader with progress.
        const std::string layer_data(300000, 'x');
        std::string layer = client.push_blob_bytes(repo, layer_data);
        const std::string layer_digest = field(layer, "digest");
        expect(field(layer, "size") == "300000", "push_blob_bytes", layer);
        expect(dockreg::last_error_json().empty(), "last_error_json empty after success");

        const std::string file = scratch + "/blob.bin";
        std::ofstream(file.c_str(), std::ios::binary) << "file contents\n";
        std::uint64_t seen_total = 0;
        dockreg::Progress record = [&seen_total](std::uint64_t, std::uint64_t total) {
            seen_total = total;
            return true;
        };
        std::string from_file = client.push_blob_from_file(repo, file, "", record);
        expect(field(from_file, "size") == "14" && seen_total == 14, "push_blob_from_file",
               from_file);

        // A reader that throws: the same exception comes back and nothing is committed.
        std::string half(100000, 'y');
        std::string whole = half + half;
        const std::string whole_digest = field(client.push_blob_bytes(other, whole), "digest");
        const std::string half_digest = field(client.push_blob_bytes(other, half), "digest");
        std::size_t given = 0;
        dockreg::Reader throwing = [&](std::uint8_t *buf, std::size_t cap) -> std::size_t {
            if (given >= half.size()) {
                throw Boom();
            }
            std::size_t n = std::min(cap, half.size() - given);
            half.copy(reinterpret_cast<char *>(buf), n, given);
            given += n;
            return n;
        };
        bool rethrown = false;
        try {
            client.push_blob(repo, throwing, "{\"chunk_size\": 65536}");
        } catch (const Boom &) {
            rethrown = true;
        }
        expect(rethrown, "push_blob: the reader's exception is rethrown");
        expect(has(client.head_blob(repo, whole_digest), "\"exists\":false") &&
                   has(client.head_blob(repo, half_digest), "\"exists\":false"),
               "push_blob: nothing committed after the exception");

        // A progress callback that says stop.
        std::size_t pos = 0;
        dockreg::Reader reader = [&](std::uint8_t *buf, std::size_t cap) {
            std::size_t n = std::min(cap, whole.size() - pos);
            whole.copy(reinterpret_cast<char *>(buf), n, pos);
            pos += n;
            return n;
        };
        dockreg::Progress stop = [](std::uint64_t done, std::uint64_t) { return done == 0; };
        st = status_of([&] { client.push_blob(repo, reader, "{\"size\": 200000}", stop); });
        expect(st == DOCKREG_ERR_CANCELLED, "progress returning false -> CANCELLED");

        // Downloads: a writer, a writer that throws, to a file, into memory.
        std::string got;
        std::string blob = client.get_blob(repo, layer_digest,
                                           [&got](const std::uint8_t *p, std::size_t n) {
                                               got.append(reinterpret_cast<const char *>(p), n);
                                           });
        expect(got == layer_data && field(blob, "digest") == layer_digest, "get_blob");
        rethrown = false;
        try {
            client.get_blob(repo, layer_digest, [](const std::uint8_t *, std::size_t) {
                throw Boom();
            });
        } catch (const Boom &) {
            rethrown = true;
        }
        expect(rethrown, "get_blob: the writer's exception is rethrown");
        std::string to_file = client.get_blob_to_file(repo, layer_digest, scratch + "/out.bin");
        std::ifstream in((scratch + "/out.bin").c_str(), std::ios::binary);
        std::stringstream read_back;
        read_back << in.rdbuf();
        expect(read_back.str() == layer_data, "get_blob_to_file", to_file);
        dockreg::Bytes small = client.get_blob_bytes(repo, layer_digest);
        expect(small.str() == layer_data && small.digest() == layer_digest &&
                   small.media_type().empty(),
               "get_blob_bytes");
        st = status_of([&] { client.get_blob_bytes(repo, layer_digest, 1000); });
        expect(st == DOCKREG_ERR_TOO_LARGE, "get_blob_bytes over max_size -> TOO_LARGE");
        expect(has(client.head_blob(repo, layer_digest), "\"exists\":true"), "head_blob");

        // An image: config, manifest, tags.
        const std::string config_doc =
            "{\"architecture\":\"arm64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\"]},"
            "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + layer_digest + "\"]}}";
        const std::string config = client.push_blob_bytes(repo, config_doc);
        const std::string manifest =
            "{\"schemaVersion\":2,\"mediaType\":\"" + oci_manifest + "\",\"config\":{"
            "\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" +
            field(config, "digest") + "\",\"size\":" + field(config, "size") + "},\"layers\":[{"
            "\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" +
            layer_digest + "\",\"size\":300000}]}";
        std::string put = client.put_manifest(repo + ":1.0", manifest, oci_manifest);
        const std::string digest = field(put, "digest");
        expect(digest.compare(0, 7, "sha256:") == 0, "put_manifest", put);
        expect(field(client.get_digest(repo + ":1.0"), "digest") == digest, "get_digest");
        {
            // In order: the image's digest, then a missing tag's error in its place.
            std::string many =
                client.get_digests("[\"" + repo + ":1.0\", \"" + repo + ":missing\"]");
            std::string::size_type error_at = many.find("\"error\"");
            expect(field(many, "digest") == digest && error_at != std::string::npos &&
                       many.find(digest) < error_at && has(many, "DOCKREG_ERR_NOT_FOUND"),
                   "get_digests", many);
        }
        expect(field(client.head_manifest(repo + ":1.0"), "size") ==
                   std::to_string(manifest.size()),
               "head_manifest");
        expect(has(client.get_raw_manifest(repo + ":1.0"), field(config, "digest")),
               "get_raw_manifest");
        // Exact bytes: the same bytes come back, and pushing them back keeps the digest.
        dockreg::Bytes exact = client.get_manifest_bytes(repo + ":1.0");
        expect(exact.str() == manifest && exact.digest() == digest &&
                   exact.media_type() == oci_manifest,
               "get_manifest_bytes");
        expect(field(client.put_manifest(repo + ":again", exact.str(), exact.media_type()),
                     "digest") == digest,
               "get_manifest_bytes -> put_manifest keeps the digest");
        expect(has(client.get_manifest(repo + ":1.0"), "\"indexDigest\":null"), "get_manifest");
        expect(has(client.get_config(repo, field(config, "digest")), "A=1"), "get_config");
        expect(has(client.get_image_config(repo + ":1.0"), "\"architecture\":\"arm64\""),
               "get_image_config");
        expect(has(client.set_tag(repo + ":1.0", "stable"), digest), "set_tag");
        expect(has(client.list_tags(repo), "\"stable\""), "list_tags");
        expect(has(client.list_repositories(registry), "\"check/app\""), "list_repositories");
        expect(has(client.list_instances(repo), digest), "list_instances");
        expect(has(client.list_platforms(repo + ":1.0"), "\"architecture\":\"arm64\""),
               "list_platforms");

        // Referrers: an artifact whose subject is the image.
        const std::string empty = client.push_blob_bytes(repo, "{}");
        const std::string artifact =
            "{\"schemaVersion\":2,\"mediaType\":\"" + oci_manifest +
            "\",\"artifactType\":\"application/vnd.example.note\",\"config\":{"
            "\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" +
            field(empty, "digest") + "\",\"size\":2},\"layers\":[],\"subject\":{"
            "\"mediaType\":\"" + oci_manifest + "\",\"digest\":\"" + digest + "\",\"size\":" +
            std::to_string(manifest.size()) + "}}";
        std::string referrer = client.push_referrer(repo, artifact, oci_manifest);
        expect(has(client.list_referrers(repo + "@" + digest), field(referrer, "digest")),
               "push_referrer + list_referrers");
        expect(has(client.list_referrers(repo + "@" + digest, "application/other"), "[]"),
               "list_referrers by artifact type");

        // Copy, mount, deletes.
        expect(field(client.copy_image(repo + ":1.0", other + ":copy"), "digest") == digest,
               "copy_image");
        expect(has(client.copy_image(repo, registry + "/check/all", "{\"all_tags\": true}"),
                   "\"stable\""),
               "copy_image all_tags");
        const std::string mounted = client.mount_blob(registry + "/check/mounted", layer_digest,
                                                      "check/app");
        expect(has(mounted, "\"mounted\":true"), "mount_blob", mounted);
        client.delete_blob(registry + "/check/mounted", layer_digest);
        expect(has(client.head_blob(registry + "/check/mounted", layer_digest),
                   "\"exists\":false"),
               "delete_blob");
        st = status_of([&] { client.delete_tag(other + ":copy"); }, &json);
        // distribution 2.x deletes manifests only by digest: the tag is refused, not the manifest.
        expect(st == DOCKREG_ERR_UNSUPPORTED, "delete_tag -> UNSUPPORTED here", json);
        client.delete_manifest(other + "@" + digest);
        st = status_of([&] { client.get_digest(other + "@" + digest); }, &json);
        expect(st == DOCKREG_ERR_NOT_FOUND && has(json, "\"http_status\":404"),
               "delete_manifest, then NOT_FOUND with the registry's answer", json);

        // Cancellation and deadlines.
        dockreg::Cancel cancel;
        dockreg::Client cancellable = client.with_cancel(cancel);
        expect(!cancel.triggered() && has(cancellable.list_tags(repo), "1.0"),
               "with_cancel before the trigger");
        cancel.trigger();
        st = status_of([&] { cancellable.list_tags(repo); });
        expect(cancel.triggered() && st == DOCKREG_ERR_CANCELLED, "with_cancel after trigger");
        expect(has(client.list_tags(repo), "1.0"), "the original client is not cancelled");
        const dockreg::Client deadline = client.with_cancel(nullptr, 1);
        std::string busy(2000000, 'z');  // longer than 1 ms to upload
        st = status_of([&] { deadline.push_blob_bytes(repo, busy); });
        expect(st == DOCKREG_ERR_TIMEOUT, "with_cancel deadline -> TIMEOUT",
               std::to_string(st));

        // Log lines came (requests at debug level), then logging is turned off.
        dockreg::set_log_callback(dockreg::LogCallback(), DOCKREG_LOG_OFF);
        {
            std::lock_guard<std::mutex> guard(log_lock);
            bool request_seen = false;
            for (const std::string &l : log_lines) {
                request_seen = request_seen || has(l, "/v2/check/app");
            }
            expect(request_seen, "set_log_callback: request lines at DEBUG",
                   std::to_string(log_lines.size()) + " lines");
        }
        const dockreg::Client per_call = client.with_timeout(60000);
        expect(has(per_call.list_tags(repo), "1.0"), "with_timeout");
        st = status_of([&] { client.with_timeout(0); });
        expect(st == DOCKREG_ERR_INVALID_ARGUMENT, "with_timeout(0) -> INVALID_ARGUMENT");

        // Moves and String.
        dockreg::Client moved(std::move(cancellable));
        expect(moved.get() != nullptr && cancellable.get() == nullptr, "Client move");
        dockreg::String s;
        expect(dockreg_split_image("a/b:c", s.out()) == DOCKREG_OK && has(s.str(), "a/b"),
               "String owns an out_json");
    } catch (const dockreg::Error &e) {
        expect(false, "unexpected dockreg::Error", std::string(e.what()) + " " + e.json());
    } catch (const std::exception &e) {
        expect(false, "unexpected exception", e.what());
    }
    std::cout << checks << " checks, " << failures << " failures\n";
    return failures == 0 ? 0 : 1;
}
