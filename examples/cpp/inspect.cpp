// inspect: what a registry knows about an image, through the C++ wrapper dockreg.hpp.
//
//   c++ -std=c++11 inspect.cpp $(pkg-config --cflags --libs dockreg) -o inspect
//   ./inspect 127.0.0.1:5000/app:1.0 [OPTIONS_JSON]
//
// Prints the image's reference, digest, manifest (for the client's platform), config and the
// tags of its repository, each as the JSON dockreg returns. A failing call throws
// dockreg::Error: its status name, message and last-error JSON go to stderr, and the status
// value is the exit code.
#include <iostream>
#include <string>

#include "dockreg.hpp"

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        std::cerr << "usage: " << argv[0] << " IMAGE [OPTIONS_JSON]\n";
        return 2;
    }
    const std::string image = argv[1];
    try {
        std::cout << "dockreg " << dockreg::version() << "\n";
        std::cout << "reference: " << dockreg::reference_parse(image) << "\n";
        const dockreg::Client client(argc == 3 ? argv[2] : "");
        std::cout << "digest: " << client.get_digest(image) << "\n";
        std::cout << "manifest: " << client.get_manifest(image) << "\n";
        std::cout << "config: " << client.get_image_config(image) << "\n";
        // The tag or digest of the reference is ignored when listing tags.
        std::cout << "tags: " << client.list_tags(image) << "\n";
    } catch (const dockreg::Error &e) {
        std::cerr << "inspect: " << e.what() << "\n";
        std::cerr << "inspect: details: " << e.json() << "\n";
        return static_cast<int>(e.status());
    }
    return 0;
}
