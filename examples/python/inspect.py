#!/usr/bin/env python3
"""inspect: dockreg's C API from Python through ctypes (no build step, no dependencies).

    DOCKREG_LIB=target/debug/libdockreg.so python3 examples/python/inspect.py \\
        127.0.0.1:5000/app:1.0 [OPTIONS_JSON]

Prints the image's digest, manifest, config and the tags of its repository. The library is
found through $DOCKREG_LIB, else the system's library path (`make install`).
"""

import ctypes
import ctypes.util
import json
import os
import sys


class DockregError(Exception):
    """A failed call: the status, its name, and the thread's last error as a dict."""

    def __init__(self, function, status, name, details):
        self.status = status
        self.name = name
        self.details = details
        super().__init__(f"{function}: {name}: {details.get('message', '')}")


class Dockreg:
    """The library, with the signatures of the functions used here."""

    def __init__(self, path=None):
        path = path or os.environ.get("DOCKREG_LIB") or ctypes.util.find_library("dockreg")
        if not path:
            raise OSError("libdockreg not found: set DOCKREG_LIB or install it")
        lib = ctypes.CDLL(path)
        # Strings returned through out-params are kept as raw pointers so that they can be
        # handed back to dockreg_string_free (never to Python's or C's free).
        out = ctypes.POINTER(ctypes.c_void_p)
        string = ctypes.c_char_p
        client = ctypes.c_void_p
        status = ctypes.c_int32
        lib.dockreg_version.restype = string
        lib.dockreg_version.argtypes = []
        lib.dockreg_status_name.restype = string
        lib.dockreg_status_name.argtypes = [ctypes.c_int32]
        lib.dockreg_last_error_json.restype = string
        lib.dockreg_last_error_json.argtypes = []
        lib.dockreg_string_free.restype = None
        lib.dockreg_string_free.argtypes = [ctypes.c_void_p]
        lib.dockreg_client_new.restype = status
        lib.dockreg_client_new.argtypes = [string, ctypes.POINTER(client)]
        lib.dockreg_client_free.restype = None
        lib.dockreg_client_free.argtypes = [client]
        lib.dockreg_reference_parse.restype = status
        lib.dockreg_reference_parse.argtypes = [string, out]
        for name in (
            "dockreg_client_get_digest",
            "dockreg_client_get_manifest",
            "dockreg_client_get_image_config",
            "dockreg_client_list_tags",
        ):
            f = getattr(lib, name)
            f.restype = status
            f.argtypes = [client, string, out]
        self.lib = lib

    def version(self):
        return self.lib.dockreg_version().decode()

    def check(self, function, status):
        if status != 0:
            # Read the last error before any other call on this thread clears it.
            details = json.loads(self.lib.dockreg_last_error_json() or b"{}")
            name = self.lib.dockreg_status_name(status).decode()
            raise DockregError(function, status, name, details)

    def json_call(self, function, *args):
        """Calls `function(*args, &out_json)` and returns the decoded JSON."""
        out = ctypes.c_void_p()
        self.check(function, getattr(self.lib, function)(*args, ctypes.byref(out)))
        try:
            return json.loads(ctypes.string_at(out.value).decode())
        finally:
            self.lib.dockreg_string_free(out)


class Client:
    """A registry client; close() it, or use it in a `with` block."""

    def __init__(self, dockreg, options=None):
        self.d = dockreg
        self.handle = ctypes.c_void_p()
        opts = None if options is None else json.dumps(options).encode()
        self.d.check("dockreg_client_new", self.d.lib.dockreg_client_new(opts, ctypes.byref(self.handle)))

    def close(self):
        self.d.lib.dockreg_client_free(self.handle)
        self.handle = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, function, image):
        return self.d.json_call(function, self.handle, image.encode())


def main(argv):
    if len(argv) not in (2, 3):
        print(f"usage: {argv[0]} IMAGE [OPTIONS_JSON]", file=sys.stderr)
        return 2
    image = argv[1]
    options = json.loads(argv[2]) if len(argv) == 3 else None
    d = Dockreg()
    print(f"dockreg {d.version()}")
    try:
        ref = d.json_call("dockreg_reference_parse", image.encode())
        print(f"registry: {ref['registry']}  repository: {ref['repository']}  "
              f"tag: {ref['tag']}  digest: {ref['digest']}")
        with Client(d, options) as client:
            digest = client.call("dockreg_client_get_digest", image)["digest"]
            print(f"digest: {digest}")
            m = client.call("dockreg_client_get_manifest", image)
            layers = m["manifest"].get("layers", [])
            print(f"manifest: {m['digest']} {m['mediaType']} layers: {len(layers)}")
            for layer in layers:
                print(f"  layer: {layer['digest']} {layer['size']} {layer['mediaType']}")
            config = client.call("dockreg_client_get_image_config", image)
            print(f"config: {config.get('os')}/{config.get('architecture')} "
                  f"created: {config.get('created')}")
            tags = client.call("dockreg_client_list_tags", image)
            print(f"tags: {' '.join(tags['tags'])}")
    except DockregError as e:
        print(f"inspect: {e}", file=sys.stderr)
        print(f"inspect: details: {json.dumps(e.details)}", file=sys.stderr)
        return e.status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
