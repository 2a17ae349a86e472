// dockreg.hpp: a header-only C++11 wrapper over dockreg's C API (include/dockreg.h).
//
//   #include "dockreg.hpp"
//   dockreg::Client client;                              // default options
//   std::string json = client.get_digest("127.0.0.1:5000/app:1.0");
//
// - Handles (Client, Cancel) and returned strings (String) own what dockreg gave and free it
//   with the matching dockreg_*_free; they are movable, not copyable.
// - A failing status throws dockreg::Error, carrying the status, its name, the message and
//   the JSON of the thread's last error (copied at once, before any other call).
// - Results are the JSON documents of the C API, returned as std::string; parse them with
//   the JSON library of your choice (docs/c-api.md lists every field).
// - Callbacks are std::function. An exception thrown inside one never crosses the C code: it
//   is caught at the boundary, the transfer is stopped (an upload is then never committed),
//   and the same exception is rethrown from the wrapper's method once dockreg returned.
// - Threads: one Client may be used by many threads at once (const methods); Error and the
//   last error are per thread.
//
// Needs C++11 (-std=c++11 or later) and linking with -ldockreg.
#ifndef DOCKREG_HPP
#define DOCKREG_HPP

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>

#include "dockreg.h"

namespace dockreg {

// The library's version, e.g. "0.2.0" (the header's is DOCKREG_VERSION).
inline std::string version() { return dockreg_version(); }

// The library's version as MAJOR * 10000 + MINOR * 100 + PATCH (the header's is
// DOCKREG_VERSION_NUMBER).
inline std::uint32_t version_number() { return dockreg_version_number(); }

// The name of a status value, e.g. "DOCKREG_ERR_NOT_FOUND".
inline std::string status_name(int status) { return dockreg_status_name(status); }

// The message of this thread's last error, or "" when the last call succeeded.
inline std::string last_error_message() {
    const char *m = dockreg_last_error_message();
    return m ? m : "";
}

// The JSON of this thread's last error, or "" when the last call succeeded.
inline std::string last_error_json() {
    const char *j = dockreg_last_error_json();
    return j ? j : "";
}

// A failed call: the status and the thread's last error, copied when it was thrown.
class Error : public std::runtime_error {
public:
    Error(dockreg_status status, const std::string &function)
        : std::runtime_error(function + ": " + dockreg::status_name(status) + ": " +
                             last_error_message()),
          status_(status), function_(function), message_(last_error_message()),
          json_(last_error_json()) {}

    // The dockreg_status value (e.g. DOCKREG_ERR_NOT_FOUND).
    dockreg_status status() const noexcept { return status_; }
    // Its name, e.g. "DOCKREG_ERR_NOT_FOUND".
    std::string status_name() const { return dockreg::status_name(status_); }
    // The C function that failed, e.g. "dockreg_client_get_manifest".
    const std::string &function() const noexcept { return function_; }
    // dockreg_last_error_message() at the time of the failure.
    const std::string &message() const noexcept { return message_; }
    // dockreg_last_error_json() at the time of the failure: http_status, url, errors, ...
    const std::string &json() const noexcept { return json_; }

private:
    dockreg_status status_;
    std::string function_;
    std::string message_;
    std::string json_;
};

// Throws Error when `status` is not DOCKREG_OK.
inline void check(dockreg_status status, const char *function) {
    if (status != DOCKREG_OK) {
        throw Error(status, function);
    }
}

// A string returned by dockreg, freed with dockreg_string_free.
class String {
public:
    String() noexcept : p_(nullptr) {}
    explicit String(char *owned) noexcept : p_(owned) {}
    String(String &&other) noexcept : p_(other.release()) {}
    String &operator=(String &&other) noexcept {
        reset(other.release());
        return *this;
    }
    String(const String &) = delete;
    String &operator=(const String &) = delete;
    ~String() { dockreg_string_free(p_); }

    const char *c_str() const noexcept { return p_ ? p_ : ""; }
    std::string str() const { return c_str(); }
    bool empty() const noexcept { return p_ == nullptr || *p_ == '\0'; }
    // Gives up ownership: free the result with dockreg_string_free.
    char *release() noexcept {
        char *p = p_;
        p_ = nullptr;
        return p;
    }
    void reset(char *owned = nullptr) noexcept {
        dockreg_string_free(p_);
        p_ = owned;
    }
    // For a `char **out_json` parameter: frees what was held, and receives the new string.
    char **out() noexcept {
        reset();
        return &p_;
    }

private:
    char *p_;
};

// Exact bytes returned by dockreg (a manifest, a small blob) with their digest and media type,
// freed with dockreg_bytes_free. Read-only; may be read from any thread.
class Bytes {
public:
    explicit Bytes(dockreg_bytes *owned = nullptr) noexcept : p_(owned) {}
    Bytes(Bytes &&other) noexcept : p_(other.p_) { other.p_ = nullptr; }
    Bytes &operator=(Bytes &&other) noexcept {
        if (this != &other) {
            dockreg_bytes_free(p_);
            p_ = other.p_;
            other.p_ = nullptr;
        }
        return *this;
    }
    Bytes(const Bytes &) = delete;
    Bytes &operator=(const Bytes &) = delete;
    ~Bytes() { dockreg_bytes_free(p_); }

    const std::uint8_t *data() const noexcept { return dockreg_bytes_data(p_); }
    std::size_t size() const noexcept { return dockreg_bytes_len(p_); }
    // "sha256:...", the digest of exactly these bytes.
    std::string digest() const {
        const char *d = dockreg_bytes_digest(p_);
        return d ? d : "";
    }
    // The manifest's media type; "" for a blob.
    std::string media_type() const {
        const char *m = dockreg_bytes_media_type(p_);
        return m ? m : "";
    }
    // A copy of the bytes.
    std::string str() const {
        return size() ? std::string(reinterpret_cast<const char *>(data()), size()) : std::string();
    }
    const dockreg_bytes *get() const noexcept { return p_; }
    // For a `dockreg_bytes **out` parameter.
    dockreg_bytes **out() noexcept {
        dockreg_bytes_free(p_);
        p_ = nullptr;
        return &p_;
    }

private:
    dockreg_bytes *p_;
};

// Told how far a transfer got (`total` 0 while unknown); return false to stop it
// (DOCKREG_ERR_CANCELLED).
typedef std::function<bool(std::uint64_t done, std::uint64_t total)> Progress;
// Fills `buf` with up to `cap` next bytes and returns how many; 0 at the end. Throw to fail
// the upload (nothing is committed; the exception is rethrown).
typedef std::function<std::size_t(std::uint8_t *buf, std::size_t cap)> Reader;
// Receives the next `len` bytes of a blob. Throw to stop the download (the exception is
// rethrown).
typedef std::function<void(const std::uint8_t *data, std::size_t len)> Writer;

// Receives one log line of dockreg (never credentials). Called from any thread, possibly
// several at once: it must be thread-safe. An exception it throws is dropped.
typedef std::function<void(dockreg_log_level level, const std::string &target,
                           const std::string &message)>
    LogCallback;

namespace detail {

// What the C callbacks of one call see through their `ctx`, and the first exception thrown.
struct Callbacks {
    const Progress *progress;
    const Reader *reader;
    const Writer *writer;
    std::exception_ptr error;

    Callbacks() : progress(nullptr), reader(nullptr), writer(nullptr) {}

    // After the C call: the callback's exception first (it is why the call failed), then
    // the status.
    void finish(dockreg_status status, const char *function) const {
        if (error) {
            std::rethrow_exception(error);
        }
        check(status, function);
    }
};

// The C entry points of the callbacks: nothing is thrown through them.
extern "C" {
inline int dockreg_hpp_progress(void *ctx, std::uint64_t done, std::uint64_t total) {
    Callbacks *cb = static_cast<Callbacks *>(ctx);
    try {
        return (*cb->progress)(done, total) ? 0 : 1;
    } catch (...) {
        cb->error = std::current_exception();
        return 1;
    }
}

inline std::size_t dockreg_hpp_read(void *ctx, std::uint8_t *buf, std::size_t cap) {
    Callbacks *cb = static_cast<Callbacks *>(ctx);
    try {
        std::size_t n = (*cb->reader)(buf, cap);
        return n <= cap ? n : SIZE_MAX;
    } catch (...) {
        cb->error = std::current_exception();
        return SIZE_MAX;
    }
}

inline std::size_t dockreg_hpp_write(void *ctx, const std::uint8_t *buf, std::size_t len) {
    Callbacks *cb = static_cast<Callbacks *>(ctx);
    try {
        (*cb->writer)(buf, len);
        return len;
    } catch (...) {
        cb->error = std::current_exception();
        return 0;
    }
}
inline void dockreg_hpp_log(void *userdata, dockreg_log_level level, const char *target,
                            const char *message) {
    try {
        (*static_cast<const LogCallback *>(userdata))(level, target, message);
    } catch (...) {
        // A log line is not worth failing the operation that logged it.
    }
}
}  // extern "C"

// The callback dockreg_set_log_callback holds, owned here for the whole process.
struct LogState {
    std::mutex lock;
    LogCallback *current = nullptr;
};
inline LogState &log_state() {
    static LogState state;  // one per program: inline functions share their statics
    return state;
}

// NULL for an empty string (an optional argument left out).
inline const char *or_null(const std::string &s) { return s.empty() ? nullptr : s.c_str(); }

}  // namespace detail

// Parses and normalises an image reference without network access:
// {"registry", "repository", "tag", "digest"} (dockreg_reference_parse).
inline std::string reference_parse(const std::string &image) {
    String out;
    check(dockreg_reference_parse(image.c_str(), out.out()), "dockreg_reference_parse");
    return out.str();
}

// Splits an image reference: {"registry", "repository", "reference"} (dockreg_split_image).
inline std::string split_image(const std::string &image) {
    String out;
    check(dockreg_split_image(image.c_str(), out.out()), "dockreg_split_image");
    return out.str();
}

// Sends dockreg's log lines up to `level` (DOCKREG_LOG_ERROR .. DOCKREG_LOG_TRACE) to
// `callback`, for the whole process, replacing the previous one; an empty callback or
// DOCKREG_LOG_OFF turns logging off. Call it early, and never from inside the callback.
inline void set_log_callback(const LogCallback &callback, dockreg_log_level level) {
    detail::LogState &state = detail::log_state();
    std::lock_guard<std::mutex> guard(state.lock);
    LogCallback *next = callback && level != DOCKREG_LOG_OFF ? new LogCallback(callback) : nullptr;
    dockreg_status st = next ? dockreg_set_log_callback(detail::dockreg_hpp_log, next, level)
                             : dockreg_set_log_callback(nullptr, nullptr, DOCKREG_LOG_OFF);
    if (st != DOCKREG_OK) {
        delete next;
        throw Error(st, "dockreg_set_log_callback");
    }
    // dockreg no longer calls the previous callback once the call above returned.
    delete state.current;
    state.current = next;
}

// A cancel switch: trigger() from any thread ends every call of the clients made with it
// (Client::with_cancel) with DOCKREG_ERR_CANCELLED. From a signal handler, call
// dockreg_cancel_trigger(cancel.get()) through a global pointer.
class Cancel {
public:
    Cancel() : p_(nullptr) { check(dockreg_cancel_new(&p_), "dockreg_cancel_new"); }
    Cancel(Cancel &&other) noexcept : p_(other.p_) { other.p_ = nullptr; }
    Cancel &operator=(Cancel &&other) noexcept {
        if (this != &other) {
            dockreg_cancel_free(p_);
            p_ = other.p_;
            other.p_ = nullptr;
        }
        return *this;
    }
    Cancel(const Cancel &) = delete;
    Cancel &operator=(const Cancel &) = delete;
    ~Cancel() { dockreg_cancel_free(p_); }

    // Cannot be undone; async-signal-safe (dockreg_cancel_trigger).
    void trigger() const noexcept { dockreg_cancel_trigger(p_); }
    bool triggered() const noexcept { return dockreg_cancel_is_triggered(p_) != 0; }
    const dockreg_cancel *get() const noexcept { return p_; }

private:
    dockreg_cancel *p_;
};

// A registry client (dockreg_client). Every method may be called from many threads at once.
// Image and repository arguments are reference strings such as "registry:5000/app:1.0".
// Results are the JSON documents of the C API.
class Client {
public:
    // options_json: "" for the defaults, or the options object of dockreg_client_new.
    explicit Client(const std::string &options_json = std::string()) : p_(nullptr) {
        check(dockreg_client_new(detail::or_null(options_json), &p_), "dockreg_client_new");
    }
    Client(Client &&other) noexcept : p_(other.p_) { other.p_ = nullptr; }
    Client &operator=(Client &&other) noexcept {
        if (this != &other) {
            dockreg_client_free(p_);
            p_ = other.p_;
            other.p_ = nullptr;
        }
        return *this;
    }
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;
    ~Client() { dockreg_client_free(p_); }

    const dockreg_client *get() const noexcept { return p_; }

    // A client sharing this one's connections whose calls obey `cancel` (may be null) and end
    // with DOCKREG_ERR_TIMEOUT `timeout_ms` from now (0: no deadline).
    Client with_cancel(const Cancel *cancel, std::uint64_t timeout_ms = 0) const {
        dockreg_client *raw = nullptr;
        check(dockreg_client_with_cancel(p_, cancel ? cancel->get() : nullptr, timeout_ms, &raw),
              "dockreg_client_with_cancel");
        return Client(raw);
    }
    Client with_cancel(const Cancel &cancel, std::uint64_t timeout_ms = 0) const {
        return with_cancel(&cancel, timeout_ms);
    }
    // A client sharing this one's connections whose every call ends with DOCKREG_ERR_TIMEOUT
    // `timeout_ms` (at least 1) after it started.
    Client with_timeout(std::uint64_t timeout_ms) const {
        dockreg_client *raw = nullptr;
        check(dockreg_client_with_timeout(p_, timeout_ms, &raw), "dockreg_client_with_timeout");
        return Client(raw);
    }

    // Manifests and configs.
    std::string get_manifest(const std::string &image) const {
        return json("dockreg_client_get_manifest", dockreg_client_get_manifest, image);
    }
    std::string get_raw_manifest(const std::string &image) const {
        return json("dockreg_client_get_raw_manifest", dockreg_client_get_raw_manifest, image);
    }
    // The manifest's exact bytes (an index stays an index), digest and media type: what
    // put_manifest takes back unchanged.
    Bytes get_manifest_bytes(const std::string &image) const {
        Bytes out;
        check(dockreg_client_get_manifest_bytes(p_, image.c_str(), out.out()),
              "dockreg_client_get_manifest_bytes");
        return out;
    }
    std::string head_manifest(const std::string &image) const {
        return json("dockreg_client_head_manifest", dockreg_client_head_manifest, image);
    }
    std::string get_digest(const std::string &image) const {
        return json("dockreg_client_get_digest", dockreg_client_get_digest, image);
    }
    // Many digests at once: `images_json` is a JSON array of references; the result is an
    // array with one {"digest"} or {"error"} object per reference, in the same order.
    std::string get_digests(const std::string &images_json) const {
        String out;
        check(dockreg_client_get_digests(p_, images_json.c_str(), out.out()),
              "dockreg_client_get_digests");
        return out.str();
    }
    std::string get_config(const std::string &repository, const std::string &config_digest) const {
        String out;
        check(dockreg_client_get_config(p_, repository.c_str(), config_digest.c_str(), out.out()),
              "dockreg_client_get_config");
        return out.str();
    }
    std::string get_image_config(const std::string &image) const {
        return json("dockreg_client_get_image_config", dockreg_client_get_image_config, image);
    }
    // manifest: the exact bytes (their digest is the manifest's digest).
    std::string put_manifest(const std::string &image, const std::string &manifest,
                             const std::string &media_type) const {
        String out;
        check(dockreg_client_put_manifest(p_, image.c_str(), bytes(manifest), manifest.size(),
                                          media_type.c_str(), out.out()),
              "dockreg_client_put_manifest");
        return out.str();
    }
    std::string set_tag(const std::string &image, const std::string &new_tag) const {
        String out;
        check(dockreg_client_set_tag(p_, image.c_str(), new_tag.c_str(), out.out()),
              "dockreg_client_set_tag");
        return out.str();
    }
    void delete_manifest(const std::string &image) const {
        check(dockreg_client_delete_manifest(p_, image.c_str()), "dockreg_client_delete_manifest");
    }
    void delete_tag(const std::string &image) const {
        check(dockreg_client_delete_tag(p_, image.c_str()), "dockreg_client_delete_tag");
    }

    // Listings.
    std::string list_tags(const std::string &repository) const {
        return json("dockreg_client_list_tags", dockreg_client_list_tags, repository);
    }
    std::string list_repositories(const std::string &registry) const {
        return json("dockreg_client_list_repositories", dockreg_client_list_repositories,
                    registry);
    }
    std::string list_instances(const std::string &repository) const {
        return json("dockreg_client_list_instances", dockreg_client_list_instances, repository);
    }
    std::string list_platforms(const std::string &image) const {
        return json("dockreg_client_list_platforms", dockreg_client_list_platforms, image);
    }

    // Whole images and referrers. options_json: "" or the options of
    // dockreg_client_copy_image.
    std::string copy_image(const std::string &src, const std::string &dst,
                           const std::string &options_json = std::string()) const {
        String out;
        check(dockreg_client_copy_image(p_, src.c_str(), dst.c_str(),
                                        detail::or_null(options_json), out.out()),
              "dockreg_client_copy_image");
        return out.str();
    }
    // artifact_type: "" for every referrer.
    std::string list_referrers(const std::string &image,
                               const std::string &artifact_type = std::string()) const {
        String out;
        check(dockreg_client_list_referrers(p_, image.c_str(), detail::or_null(artifact_type),
                                            out.out()),
              "dockreg_client_list_referrers");
        return out.str();
    }
    std::string push_referrer(const std::string &repository, const std::string &manifest,
                              const std::string &media_type) const {
        String out;
        check(dockreg_client_push_referrer(p_, repository.c_str(), bytes(manifest),
                                           manifest.size(), media_type.c_str(), out.out()),
              "dockreg_client_push_referrer");
        return out.str();
    }

    // Blobs.
    std::string head_blob(const std::string &repository, const std::string &digest) const {
        String out;
        check(dockreg_client_head_blob(p_, repository.c_str(), digest.c_str(), out.out()),
              "dockreg_client_head_blob");
        return out.str();
    }
    // Streams the blob into `writer`, verified against `digest` as it arrives: after a
    // failure, discard what was written.
    std::string get_blob(const std::string &repository, const std::string &digest,
                         const Writer &writer, const Progress &progress = Progress()) const {
        detail::Callbacks cb;
        cb.writer = &writer;
        cb.progress = progress ? &progress : nullptr;
        String out;
        dockreg_status st = dockreg_client_get_blob(
            p_, repository.c_str(), digest.c_str(), detail::dockreg_hpp_write, &cb,
            progress ? detail::dockreg_hpp_progress : nullptr, &cb, out.out());
        cb.finish(st, "dockreg_client_get_blob");
        return out.str();
    }
    // A small blob (a config, a signature) in memory, verified; max_size 0 for 16 MiB.
    Bytes get_blob_bytes(const std::string &repository, const std::string &digest,
                         std::uint64_t max_size = 0) const {
        Bytes out;
        check(dockreg_client_get_blob_bytes(p_, repository.c_str(), digest.c_str(), max_size,
                                            out.out()),
              "dockreg_client_get_blob_bytes");
        return out;
    }
    std::string get_blob_to_file(const std::string &repository, const std::string &digest,
                                 const std::string &path,
                                 const Progress &progress = Progress()) const {
        detail::Callbacks cb;
        cb.progress = progress ? &progress : nullptr;
        String out;
        dockreg_status st = dockreg_client_get_blob_to_file(
            p_, repository.c_str(), digest.c_str(), path.c_str(),
            progress ? detail::dockreg_hpp_progress : nullptr, &cb, out.out());
        cb.finish(st, "dockreg_client_get_blob_to_file");
        return out.str();
    }
    // options_json: "" or the upload options of dockreg_client_push_blob ("size", "digest",
    // "chunk_size", "mount_from", "skip_existing", "resume_attempts").
    std::string push_blob(const std::string &repository, const Reader &reader,
                          const std::string &options_json = std::string(),
                          const Progress &progress = Progress()) const {
        detail::Callbacks cb;
        cb.reader = &reader;
        cb.progress = progress ? &progress : nullptr;
        String out;
        dockreg_status st = dockreg_client_push_blob(
            p_, repository.c_str(), detail::dockreg_hpp_read, &cb, detail::or_null(options_json),
            progress ? detail::dockreg_hpp_progress : nullptr, &cb, out.out());
        cb.finish(st, "dockreg_client_push_blob");
        return out.str();
    }
    // Bytes in memory as a blob (their size is given, so one request carries them).
    std::string push_blob_bytes(const std::string &repository, const std::string &data) const {
        std::size_t pos = 0;
        Reader reader = [&data, &pos](std::uint8_t *buf, std::size_t cap) {
            std::size_t n = data.size() - pos < cap ? data.size() - pos : cap;
            data.copy(reinterpret_cast<char *>(buf), n, pos);
            pos += n;
            return n;
        };
        return push_blob(repository, reader, "{\"size\":" + std::to_string(data.size()) + "}");
    }
    std::string push_blob_from_file(const std::string &repository, const std::string &path,
                                    const std::string &options_json = std::string(),
                                    const Progress &progress = Progress()) const {
        detail::Callbacks cb;
        cb.progress = progress ? &progress : nullptr;
        String out;
        dockreg_status st = dockreg_client_push_blob_from_file(
            p_, repository.c_str(), path.c_str(), detail::or_null(options_json),
            progress ? detail::dockreg_hpp_progress : nullptr, &cb, out.out());
        cb.finish(st, "dockreg_client_push_blob_from_file");
        return out.str();
    }
    // from: a repository path of the same registry, without the host ("team/base").
    std::string mount_blob(const std::string &repository, const std::string &digest,
                           const std::string &from) const {
        String out;
        check(dockreg_client_mount_blob(p_, repository.c_str(), digest.c_str(), from.c_str(),
                                        out.out()),
              "dockreg_client_mount_blob");
        return out.str();
    }
    void delete_blob(const std::string &repository, const std::string &digest) const {
        check(dockreg_client_delete_blob(p_, repository.c_str(), digest.c_str()),
              "dockreg_client_delete_blob");
    }

private:
    explicit Client(dockreg_client *raw) noexcept : p_(raw) {}

    static const std::uint8_t *bytes(const std::string &s) {
        return reinterpret_cast<const std::uint8_t *>(s.data());
    }

    // For the calls shaped f(client, arg, &out_json).
    std::string json(const char *function,
                     dockreg_status (*f)(const dockreg_client *, const char *, char **),
                     const std::string &arg) const {
        String out;
        check(f(p_, arg.c_str(), out.out()), function);
        return out.str();
    }

    dockreg_client *p_;
};

}  // namespace dockreg

#endif  // DOCKREG_HPP
