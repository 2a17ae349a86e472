// inspect: dockreg's C API from C++, behind a small RAII wrapper.
//
//   c++ -std=c++17 inspect.cpp $(pkg-config --cflags --libs dockreg) -o inspect
//   ./inspect 127.0.0.1:5000/app:1.0 [OPTIONS_JSON]
//
// Handles and strings live in std::unique_ptr with dockreg's free functions, so nothing leaks
// when an exception flies; a failing status becomes a dockreg::Error carrying the status, the
// message and the JSON description of the last error.
#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "dockreg.h"

namespace dockreg {

// A failed call: the status and the thread's last error, copied before the next call.
class Error : public std::runtime_error {
public:
    Error(dockreg_status status, const std::string &what)
        : std::runtime_error(what + ": " + dockreg_status_name(status) + ": " + message_or_empty()),
          status_(status), json_(json_or_empty()) {}

    dockreg_status status() const noexcept { return status_; }
    const std::string &json() const noexcept { return json_; }

private:
    static std::string message_or_empty() {
        const char *m = dockreg_last_error_message();
        return m ? m : "";
    }
    static std::string json_or_empty() {
        const char *j = dockreg_last_error_json();
        return j ? j : "";
    }
    dockreg_status status_;
    std::string json_;
};

inline void check(dockreg_status status, const char *what) {
    if (status != DOCKREG_OK) {
        throw Error(status, what);
    }
}

// A string dockreg returned, freed with dockreg_string_free.
using String = std::unique_ptr<char, decltype(&dockreg_string_free)>;

// Calls a dockreg function whose last argument is `char **out_json` and returns the JSON.
template <typename F, typename... Args>
std::string json_call(const char *what, F f, Args... args) {
    char *raw = nullptr;
    check(f(args..., &raw), what);
    String owned(raw, &dockreg_string_free);
    return std::string(owned.get());
}

class Client {
public:
    // options_json: nullptr or "{}" for the defaults.
    explicit Client(const char *options_json = nullptr) : handle_(nullptr, &dockreg_client_free) {
        dockreg_client *raw = nullptr;
        check(dockreg_client_new(options_json, &raw), "dockreg_client_new");
        handle_.reset(raw);
    }

    // One client serves any number of threads; share it by reference.
    std::string digest(const std::string &image) const {
        return json_call("get_digest", dockreg_client_get_digest, handle_.get(), image.c_str());
    }
    std::string manifest(const std::string &image) const {
        return json_call("get_manifest", dockreg_client_get_manifest, handle_.get(), image.c_str());
    }
    std::string config(const std::string &image) const {
        return json_call("get_image_config", dockreg_client_get_image_config, handle_.get(),
                         image.c_str());
    }
    std::string tags(const std::string &repository) const {
        return json_call("list_tags", dockreg_client_list_tags, handle_.get(), repository.c_str());
    }

private:
    std::unique_ptr<dockreg_client, decltype(&dockreg_client_free)> handle_;
};

inline std::string parse(const std::string &image) {
    return json_call("reference_parse", dockreg_reference_parse, image.c_str());
}

}  // namespace dockreg

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        std::cerr << "usage: " << argv[0] << " IMAGE [OPTIONS_JSON]\n";
        return 2;
    }
    const std::string image = argv[1];
    try {
        std::cout << "dockreg " << dockreg_version() << "\n";
        std::cout << "reference: " << dockreg::parse(image) << "\n";
        const dockreg::Client client(argc == 3 ? argv[2] : nullptr);
        std::cout << "digest: " << client.digest(image) << "\n";
        std::cout << "manifest: " << client.manifest(image) << "\n";
        std::cout << "config: " << client.config(image) << "\n";
        std::cout << "tags: " << client.tags(image) << "\n";
    } catch (const dockreg::Error &e) {
        std::cerr << "inspect: " << e.what() << "\n";
        std::cerr << "inspect: details: " << e.json() << "\n";
        return static_cast<int>(e.status());
    }
    return 0;
}
