#!/usr/bin/env python3
"""push_copy: pushes a file as the single layer of a new image, then copies that image
elsewhere, through the dockreg Python module. Ctrl-C cancels whatever is running.

    python3 examples/python/push_copy.py 127.0.0.1:5000/app:1.0 layer.tar \\
        mirror.lan:5000/app:1.0 [OPTIONS_JSON]

Prints each step's result as JSON. On failure it prints the status name and message and
exits with the status (61, DOCKREG_ERR_CANCELLED, after Ctrl-C).
"""

import json
import os
import signal
import sys
import threading

_CHECKOUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir,
                         "python")
if os.path.exists(os.path.join(_CHECKOUT, "dockreg.py")):
    sys.path.insert(0, _CHECKOUT)

import dockreg  # noqa: E402

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def cancellable(cancel, work):
    """Runs `work()` on a thread and returns its result. Python delivers Ctrl-C to the main
    thread only between bytecodes, never inside a C call, so the main thread waits here and
    triggers `cancel` on KeyboardInterrupt; the call then ends with Cancelled."""
    result = {}
    done = threading.Event()

    def run():
        try:
            result["value"] = work()
        except BaseException as e:  # handed to the main thread
            result["error"] = e
        finally:
            done.set()

    # An Event, not Thread.join: a join interrupted by Ctrl-C can leave the thread looking
    # finished while it still runs.
    threading.Thread(target=run, daemon=True).start()
    while not done.is_set():
        try:
            done.wait(0.1)
        except KeyboardInterrupt:
            print("push_copy: cancelling", file=sys.stderr)
            cancel.trigger()
    if "error" in result:
        raise result["error"]
    return result["value"]


def main(argv):
    if len(argv) not in (4, 5):
        print(f"usage: {argv[0]} IMAGE FILE DST [OPTIONS_JSON]", file=sys.stderr)
        return 2
    image, path, dst = argv[1:4]
    # Ctrl-C raises KeyboardInterrupt even when started with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    options = json.loads(argv[4]) if len(argv) == 5 else None
    try:
        with dockreg.Client(options) as base, dockreg.Cancel() as cancel:
            client = base.with_cancel(cancel)
            tenths = set()

            def progress(done, total):
                tenth = done * 10 // total if total else 0
                if tenth not in tenths:
                    tenths.add(tenth)
                    print(f"push_copy: progress {done}/{total} bytes", file=sys.stderr)
                # Returning False would stop the upload (Cancelled); raising would too.

            layer = cancellable(cancel, lambda: client.push_blob_from_file(
                image, path, progress=progress))
            print(f"layer: {json.dumps(layer)}")

            config_doc = json.dumps({
                "architecture": "amd64", "os": "linux", "config": {},
                "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]},
            }).encode()
            config = client.push_blob(image, config_doc)
            print(f"config: {json.dumps(config)}")

            manifest = json.dumps({
                "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": config["digest"], "size": config["size"]},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                            "digest": layer["digest"], "size": layer["size"]}],
            }).encode()
            print(f"manifest: {json.dumps(client.put_manifest(image, manifest))}")

            copied = cancellable(cancel, lambda: client.copy_image(image, dst))
            print(f"copied: {json.dumps(copied)}")
            print(f"destination: {json.dumps(client.get_digest(dst))}")
            client.close()
    except dockreg.DockregError as e:
        print(f"push_copy: {e.status_name}: {e.message}", file=sys.stderr)
        return e.status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
