#!/usr/bin/env python3
"""inspect: what a registry knows about an image, through the dockreg Python module.

    pip install ./python        # once, from the repository root (or run from a checkout)
    python3 examples/python/inspect.py 127.0.0.1:5000/app:1.0 [OPTIONS_JSON]

Prints the image's reference, digest, manifest layers, config and the tags of its repository.
On failure it prints the status name, message and last-error JSON and exits with the status.
The library is found as the module says ($DOCKREG_LIBRARY, find_library, target/).
"""

import json
import os
import sys

# From a checkout, the repository's module (python/dockreg.py) wins over an installed one.
_CHECKOUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir,
                         "python")
if os.path.exists(os.path.join(_CHECKOUT, "dockreg.py")):
    sys.path.insert(0, _CHECKOUT)

import dockreg  # noqa: E402


def main(argv):
    if len(argv) not in (2, 3):
        print(f"usage: {argv[0]} IMAGE [OPTIONS_JSON]", file=sys.stderr)
        return 2
    image = argv[1]
    options = json.loads(argv[2]) if len(argv) == 3 else None
    print(f"dockreg {dockreg.version()}")
    try:
        ref = dockreg.Reference.parse(image)
        print(f"registry: {ref.registry}  repository: {ref.repository}  "
              f"tag: {ref.tag}  digest: {ref.digest}")
        with dockreg.Client(options) as client:
            print(f"digest: {client.get_digest(image)['digest']}")
            m = client.get_manifest(image)
            layers = m["manifest"].get("layers", [])
            print(f"manifest: {m['digest']} {m['mediaType']} layers: {len(layers)}")
            for layer in layers:
                print(f"  layer: {layer['digest']} {layer['size']} {layer['mediaType']}")
            config = client.get_image_config(image)
            print(f"config: {config.get('os')}/{config.get('architecture')} "
                  f"created: {config.get('created')}")
            tags = client.list_tags(image)  # the tag or digest of `image` is ignored
            print(f"tags: {' '.join(tags['tags'])}")
    except dockreg.DockregError as e:
        print(f"inspect: {e.status_name}: {e.message}", file=sys.stderr)
        print(f"inspect: details: {json.dumps(e.details)}", file=sys.stderr)
        return e.status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
