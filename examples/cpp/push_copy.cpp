// push_copy: pushes a file as the single layer of a new image, then copies that image
// elsewhere, through the C++ wrapper dockreg.hpp. Ctrl-C cancels whatever is running.
//
//   c++ -std=c++11 push_copy.cpp $(pkg-config --cflags --libs dockreg) -o push_copy
//   ./push_copy 127.0.0.1:5000/app:1.0 layer.tar mirror.lan:5000/app:1.0 [OPTIONS_JSON]
//
// Prints each step's JSON. A failure prints the status name, message and last-error JSON to
// stderr and exits with the status value (61, DOCKREG_ERR_CANCELLED, after Ctrl-C).
#include <csignal>
#include <cstdint>
#include <iostream>
#include <string>

#include "dockreg.hpp"

namespace {

// The switch the SIGINT handler triggers; set before the handler is installed.
const dockreg_cancel *volatile cancel_switch = nullptr;

extern "C" void on_sigint(int) {
    dockreg_cancel_trigger(cancel_switch);  // sets an atomic flag: async-signal-safe
}

// The string value of "key" in dockreg's compact JSON (no spaces; digests hold no escapes).
// A real program would use a JSON library.
std::string field(const std::string &json, const std::string &key) {
    const std::string pattern = "\"" + key + "\":";
    std::string::size_type at = json.find(pattern);
    if (at == std::string::npos) {
        throw std::runtime_error("no \"" + key + "\" in " + json);
    }
    at += pattern.size();
    if (json[at] == '"') {
        return json.substr(at + 1, json.find('"', at + 1) - at - 1);
    }
    return json.substr(at, json.find_first_of(",}", at) - at);
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5) {
        std::cerr << "usage: " << argv[0] << " IMAGE FILE DST [OPTIONS_JSON]\n";
        return 2;
    }
    const std::string image = argv[1], path = argv[2], dst = argv[3];
    try {
        const dockreg::Client base(argc == 5 ? argv[4] : "");
        const dockreg::Cancel cancel;
        const dockreg::Client client = base.with_cancel(cancel);
        cancel_switch = cancel.get();
        std::signal(SIGINT, on_sigint);

        // 1. The file with a progress display: a lambda, called on this thread.
        int last_tenth = -1;
        dockreg::Progress progress = [&last_tenth](std::uint64_t done, std::uint64_t total) {
            int tenth = total > 0 ? static_cast<int>(done * 10 / total) : 0;
            if (done == 0 || tenth != last_tenth) {
                last_tenth = tenth;
                std::cerr << "push_copy: progress " << done << "/" << total << " bytes\n";
            }
            return true;  // false would stop the upload with DOCKREG_ERR_CANCELLED
        };
        const std::string layer = client.push_blob_from_file(image, path, "", progress);
        std::cout << "layer: " << layer << "\n";

        // 2. The image config, from memory (an uncompressed tar layer's diff_id is its digest).
        const std::string config_doc =
            "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
            "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + field(layer, "digest") + "\"]}}";
        const std::string config = client.push_blob_bytes(image, config_doc);
        std::cout << "config: " << config << "\n";

        // 3. The manifest, exact bytes.
        const std::string manifest =
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
            "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
            "\"digest\":\"" + field(config, "digest") + "\",\"size\":" + field(config, "size") +
            "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
            "\"digest\":\"" + field(layer, "digest") + "\",\"size\":" + field(layer, "size") +
            "}]}";
        std::cout << "manifest: "
                  << client.put_manifest(image, manifest,
                                         "application/vnd.oci.image.manifest.v1+json")
                  << "\n";

        // 4. The copy, blobs mounted within a registry and streamed between registries.
        const std::string copied = client.copy_image(image, dst);
        std::cout << "copied: " << copied << "\n";
        std::cout << "destination: " << client.get_digest(dst) << "\n";
    } catch (const dockreg::Error &e) {
        std::cerr << "push_copy: " << e.what() << "\n";
        std::cerr << "push_copy: details: " << e.json() << "\n";
        return static_cast<int>(e.status());
    } catch (const std::exception &e) {
        std::cerr << "push_copy: " << e.what() << "\n";
        return 1;
    }
    std::signal(SIGINT, SIG_DFL);
    return 0;
}
