"""Tests of the dockreg module against a real registry: every operation, the error classes,
and callbacks that raise (the upload must be aborted, never committed truncated).

Run by tests/ffi_examples.rs against the installed module, with:
  DT_REGISTRY      host:port of a registry the tests may write to (repositories py/*)
  DT_HEADER        path of include/dockreg.h (every export must be wrapped)
  DT_TMP           a scratch directory
  DOCKREG_LIBRARY  the libdockreg to load
  DT_MODULE_DIR    (optional) where the module under test must have been imported from
"""

import hashlib
import io
import json
import os
import re
import threading
import time
import unittest

import dockreg

REGISTRY = os.environ["DT_REGISTRY"]
TMP = os.environ["DT_TMP"]
REPO = f"{REGISTRY}/py/app"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def pattern(n, seed=1):
    """n bytes that differ between seeds (so that no other test uploaded them)."""
    block = hashlib.sha256(f"{seed}".encode()).digest()
    return (block * (n // len(block) + 1))[:n]


class Raising:
    """A source that yields `data` in chunks and raises after `fail_after` bytes."""

    def __init__(self, data, fail_after, exc=KeyError("source broke")):
        self.data, self.fail_after, self.exc, self.pos = data, fail_after, exc, 0

    def __call__(self, cap):
        if self.pos >= self.fail_after:
            raise self.exc
        n = min(cap, self.fail_after - self.pos, 65536)
        chunk = self.data[self.pos:self.pos + n]
        self.pos += len(chunk)
        return chunk


class Module(unittest.TestCase):
    def test_the_module_under_test_is_the_installed_one(self):
        expected = os.environ.get("DT_MODULE_DIR")
        if expected is None:
            self.skipTest("DT_MODULE_DIR not set (run outside tests/ffi_examples.rs)")
        self.assertEqual(os.path.realpath(os.path.dirname(dockreg.__file__)),
                         os.path.realpath(expected))

    def test_version_and_status_names(self):
        self.assertRegex(dockreg.version(), r"^\d+\.\d+\.\d+")
        major, minor, patch = (int(x) for x in dockreg.version().split("-")[0].split("."))
        self.assertEqual(dockreg.version_number(), major * 10000 + minor * 100 + patch)
        self.assertEqual(dockreg.status_name(40), "DOCKREG_ERR_NOT_FOUND")
        self.assertEqual(dockreg.status_name(12345), "DOCKREG_ERR_UNKNOWN")

    def test_references(self):
        ref = dockreg.Reference.parse("ubuntu:22.04")
        self.assertEqual((ref.registry, ref.repository, ref.tag, ref.digest),
                         ("docker.io", "library/ubuntu", "22.04", None))
        self.assertEqual(str(ref), "docker.io/library/ubuntu:22.04")
        self.assertEqual(dockreg.split_image(f"{REPO}@{sha256(b'x')}"),
                         (REGISTRY, "py/app", sha256(b"x")))
        with self.assertRaises(dockreg.InvalidReferenceError) as cm:
            dockreg.Reference.parse("app:bad tag!")
        self.assertEqual(cm.exception.status, 10)
        self.assertIsInstance(cm.exception, ValueError)
        # The last error describes the last call of this thread, and a success clears it.
        self.assertIn("bad tag", dockreg.last_error_message())
        self.assertEqual(dockreg.last_error_json()["status"], 10)
        dockreg.split_image("a/b")
        self.assertIsNone(dockreg.last_error_message())
        self.assertIsNone(dockreg.last_error_json())

    def test_bad_options(self):
        with self.assertRaises(dockreg.InvalidOptionError) as cm:
            dockreg.Client({"bogus": True})
        self.assertEqual((cm.exception.status, cm.exception.status_name),
                         (4, "DOCKREG_ERR_INVALID_OPTION"))
        self.assertIn("bogus", cm.exception.message)
        with self.assertRaises(dockreg.InvalidOptionError) as cm:
            dockreg.Client("{not json")
        self.assertEqual(cm.exception.status, 3)

    def test_every_export_is_wrapped(self):
        with open(os.environ["DT_HEADER"]) as f:
            header = f.read()
        exports = set(re.findall(r"\b(dockreg_[a-z_]+)\(", header))
        with open(dockreg.__file__) as f:
            source = f.read()
        missing = sorted(e for e in exports if f'"{e}"' not in source)
        self.assertEqual(missing, [], "exports of dockreg.h that dockreg.py does not call")

    def test_load_reports_a_missing_library(self):
        with self.assertRaises(OSError):
            dockreg.load("/nonexistent/libdockreg.so")
        dockreg.version()  # the library loaded before is still in use


class Blobs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = dockreg.Client()

    @classmethod
    def tearDownClass(cls):
        cls.client.close()

    def absent(self, digest, repo=REPO):
        return self.client.head_blob(repo, digest) == {
            "digest": digest, "exists": False, "size": None}

    def test_push_and_get_from_every_kind_of_source(self):
        data = pattern(200000, seed=2)
        seen = []
        out = self.client.push_blob(REPO, data, progress=lambda d, t: seen.append((d, t)))
        self.assertEqual(out, {"digest": sha256(data), "size": len(data)})
        self.assertEqual(seen[0], (0, len(data)))
        self.assertEqual(seen[-1], (len(data), len(data)))
        # A binary file (readinto), a read()-only object, a callable.
        for source in (io.BytesIO(data), io.BufferedReader(io.BytesIO(data)),
                       Raising(data, len(data) + 1)):
            self.assertEqual(self.client.push_blob(REPO, source)["digest"], sha256(data))
        path = os.path.join(TMP, "blob.bin")
        with open(path, "wb") as f:
            f.write(data)
        self.assertEqual(self.client.push_blob_from_file(REPO, path),
                         {"digest": sha256(data), "size": len(data)})
        self.assertEqual(self.client.head_blob(REPO, sha256(data)),
                         {"digest": sha256(data), "exists": True, "size": len(data)})
        self.assertEqual(self.client.get_blob(REPO, sha256(data)), data)
        sink = io.BytesIO()
        self.assertEqual(self.client.get_blob(REPO, sha256(data), sink),
                         {"digest": sha256(data), "size": len(data)})
        self.assertEqual(sink.getvalue(), data)
        target = os.path.join(TMP, "out.bin")
        done = []
        self.client.get_blob_to_file(REPO, sha256(data), target,
                                     progress=lambda d, t: done.append(d))
        with open(target, "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertEqual(done[-1], len(data))

    def test_an_exception_in_the_source_aborts_the_upload(self):
        # Every way the upload can go: one streamed request (size known), PATCH chunks of
        # unknown total, and with the digest given.
        cases = [
            ("size", {"size": 300000}),
            ("chunks", {"chunk_size": 65536}),
            ("unknown size", {}),
            ("digest", None),
        ]
        for seed, (name, options) in enumerate(cases, start=10):
            with self.subTest(name):
                data = pattern(300000, seed=seed)
                source = Raising(data, 150000)
                if options is None:
                    options = {"digest": sha256(data), "size": len(data)}
                with self.assertRaises(KeyError) as cm:
                    self.client.push_blob(REPO, source, **options)
                self.assertIs(cm.exception, source.exc)
                self.assertTrue(any("DOCKREG_ERR_READ_CALLBACK" in n
                                    for n in getattr(cm.exception, "__notes__", [])))
                self.assertEqual(source.pos, 150000)
                # Neither the whole blob nor what was read before the exception is there.
                self.assertTrue(self.absent(sha256(data)), name)
                self.assertTrue(self.absent(sha256(data[:150000])), name)

    def test_an_exception_in_progress_aborts_the_upload(self):
        data = pattern(400000, seed=20)

        def progress(done, total):
            if done > 0:
                raise RuntimeError("progress broke")

        with self.assertRaises(RuntimeError):
            self.client.push_blob(REPO, data, chunk_size=65536, progress=progress)
        self.assertTrue(self.absent(sha256(data)))
        # A progress callback returning False stops the upload with Cancelled.
        with self.assertRaises(dockreg.Cancelled) as cm:
            self.client.push_blob(REPO, data, progress=lambda d, t: d == 0)
        self.assertEqual(cm.exception.status, 61)
        self.assertTrue(self.absent(sha256(data)))

    def test_an_exception_in_the_sink_stops_the_download(self):
        data = pattern(100000, seed=21)
        self.client.push_blob(REPO, data)

        def sink(chunk):
            raise IOError("disk full")

        with self.assertRaises(IOError):
            self.client.get_blob(REPO, sha256(data), sink)
        with self.assertRaises(dockreg.NotFound) as cm:
            self.client.get_blob(REPO, sha256(b"never pushed"))
        self.assertEqual(cm.exception.http_status, 404)

    def test_mount_and_delete(self):
        data = pattern(1000, seed=22)
        digest = self.client.push_blob(REPO, data)["digest"]
        other = f"{REGISTRY}/py/mounted"
        self.assertEqual(self.client.mount_blob(other, digest, "py/app"),
                         {"digest": digest, "mounted": True})
        self.client.delete_blob(other, digest)
        self.assertTrue(self.absent(digest, other))
        with self.assertRaises(dockreg.InvalidDigestError):
            self.client.head_blob(REPO, "sha256:nothex")


class Images(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = c = dockreg.Client()
        layer = pattern(5000, seed=30)
        c.push_blob(REPO, layer)
        config = json.dumps({"architecture": "arm64", "os": "linux",
                             "config": {"Env": ["A=1"]},
                             "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]}}).encode()
        c.push_blob(REPO, config)
        cls.config_digest = sha256(config)
        cls.manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": sha256(config), "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": sha256(layer), "size": len(layer)}],
        }, indent=1).encode()
        cls.digest = sha256(cls.manifest)
        cls.put = c.put_manifest(f"{REPO}:1.0", cls.manifest)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()

    def test_manifests(self):
        c = self.client
        self.assertEqual(self.put, {"image": f"{REPO}:1.0", "digest": self.digest})
        self.assertEqual(c.get_digest(f"{REPO}:1.0"), {"digest": self.digest})
        many = c.get_digests([f"{REPO}:1.0", f"{REPO}:missing", "Not A Reference"])
        self.assertEqual(many[0], {"digest": self.digest})
        self.assertEqual(many[1]["error"]["status_name"], "DOCKREG_ERR_NOT_FOUND")
        self.assertIn("error", many[2])
        self.assertEqual(len(many), 3)
        self.assertEqual(c.head_manifest(f"{REPO}:1.0"),
                         {"digest": self.digest, "mediaType": OCI_MANIFEST,
                          "size": len(self.manifest)})
        raw = c.get_raw_manifest(f"{REPO}:1.0")
        self.assertEqual((raw["digest"], raw["size"]), (self.digest, len(self.manifest)))
        self.assertEqual(raw["manifest"], json.loads(self.manifest))
        m = c.get_manifest(f"{REPO}@{self.digest}")
        self.assertEqual((m["digest"], m["indexDigest"]), (self.digest, None))
        self.assertEqual(c.get_config(REPO, self.config_digest)["config"]["Env"], ["A=1"])
        self.assertEqual(c.get_image_config(f"{REPO}:1.0")["architecture"], "arm64")
        self.assertEqual(c.list_platforms(f"{REPO}:1.0"),
                         {"platforms": [{"architecture": "arm64", "os": "linux"}]})

    def test_exact_bytes(self):
        c = self.client
        exact = c.get_manifest_bytes(f"{REPO}:1.0")
        self.assertEqual((exact.data, exact.digest, exact.media_type),
                         (self.manifest, self.digest, OCI_MANIFEST))
        # Pushed back unchanged, the bytes keep their digest (the manifest is indented: a
        # re-serialised copy would not).
        self.assertEqual(c.put_manifest(f"{REPO}:again", bytes(exact), exact.media_type),
                         {"image": f"{REPO}:again", "digest": self.digest})
        config = c.get_blob_bytes(REPO, self.config_digest)
        self.assertEqual((config.digest, config.media_type), (self.config_digest, None))
        self.assertEqual(sha256(config.data), self.config_digest)
        with self.assertRaises(dockreg.TooLarge):
            c.get_blob_bytes(REPO, self.config_digest, max_size=10)

    def test_tags_and_listings(self):
        c = self.client
        self.assertEqual(c.set_tag(f"{REPO}:1.0", "stable"),
                         {"image": f"{REPO}:stable", "digest": self.digest})
        self.assertLessEqual({"1.0", "stable"}, set(c.list_tags(REPO)["tags"]))
        self.assertIn("py/app", c.list_repositories(REGISTRY)["repositories"])
        instances = c.list_instances(REPO)
        self.assertEqual([i["digest"] for i in instances["instances"]], [self.digest])
        self.assertLessEqual({"1.0", "stable"}, set(instances["instances"][0]["tags"]))
        self.assertEqual(instances["skipped"], [])

    def test_copy_and_delete(self):
        c = self.client
        dst = f"{REGISTRY}/py/copy"
        self.assertEqual(c.copy_image(f"{REPO}:1.0", f"{dst}:c1"), {"digest": self.digest})
        self.assertEqual(c.get_digest(f"{dst}:c1"), {"digest": self.digest})
        every = c.copy_image(REPO, f"{REGISTRY}/py/all", all_tags=True)
        self.assertIn({"tag": "1.0", "digest": self.digest}, every["tags"])
        # distribution 2.x deletes manifests only by digest: a tag delete is refused.
        with self.assertRaises(dockreg.Unsupported):
            c.delete_tag(f"{dst}:c1")
        c.delete_manifest(f"{dst}@{self.digest}")
        with self.assertRaises(dockreg.NotFound) as cm:
            c.get_digest(f"{dst}@{self.digest}")
        self.assertEqual(cm.exception.status_name, "DOCKREG_ERR_NOT_FOUND")

    def test_referrers(self):
        c = self.client
        # A repository of its own: the fallback tag sha256-<hex> would show in REPO's tags.
        repo = f"{REGISTRY}/py/referred"
        c.copy_image(f"{REPO}:1.0", f"{repo}:1.0")
        empty = b"{}"
        c.push_blob(repo, empty)
        note = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.example.note",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                       "digest": sha256(empty), "size": 2},
            "layers": [],
            "subject": {"mediaType": OCI_MANIFEST, "digest": self.digest,
                        "size": len(self.manifest)},
        }).encode()
        self.assertEqual(c.push_referrer(repo, note), {"digest": sha256(note)})
        listed = c.list_referrers(f"{repo}@{self.digest}")["manifests"]
        self.assertEqual([(d["digest"], d["artifactType"]) for d in listed],
                         [(sha256(note), "application/vnd.example.note")])
        self.assertEqual(c.list_referrers(f"{repo}:1.0", "application/other"),
                         {"manifests": []})


class Logging(unittest.TestCase):
    def test_log_lines_reach_the_callback(self):
        lines = []
        lock = threading.Lock()

        def collect(level, target, message):
            with lock:
                lines.append((level, target, message))

        dockreg.set_log_callback(collect, dockreg.LOG_DEBUG)
        try:
            with dockreg.Client() as c:
                c.list_repositories(REGISTRY)
        finally:
            dockreg.set_log_callback(None)
        with lock:
            self.assertTrue(any("/v2/_catalog" in m for _, _, m in lines), lines)
            self.assertTrue(all(t.startswith("dockreg") for _, t, _ in lines), lines)
            self.assertTrue(all(dockreg.LOG_ERROR <= lv <= dockreg.LOG_DEBUG
                                for lv, _, _ in lines), lines)
        # Off: nothing more arrives; a raising callback does not fail the call.
        count = len(lines)
        with dockreg.Client() as c:
            c.list_repositories(REGISTRY)
        self.assertEqual(len(lines), count)

        def broken(level, target, message):
            raise RuntimeError("a broken logger")
        dockreg.set_log_callback(broken, dockreg.LOG_TRACE)
        try:
            with dockreg.Client() as c:
                self.assertIn("repositories", c.list_repositories(REGISTRY))
        finally:
            dockreg.set_log_callback(None)


class Cancellation(unittest.TestCase):
    def test_cancel_from_another_thread_ends_an_upload(self):
        data = pattern(2000000, seed=40)
        with dockreg.Client() as base, dockreg.Cancel() as cancel:
            client = base.with_cancel(cancel)
            started = threading.Event()

            def slow(cap):  # 64 KiB every 50 ms: about 1.5 s for the whole blob
                started.set()
                time.sleep(0.05)
                return slow.source(cap)
            slow.source = Raising(data, len(data) + 1)

            def trigger():
                started.wait()
                time.sleep(0.3)
                cancel.trigger()
            t = threading.Thread(target=trigger)
            t.start()
            t0 = time.monotonic()
            with self.assertRaises(dockreg.Cancelled):
                client.push_blob(REPO, slow, chunk_size=65536)
            took = time.monotonic() - t0
            t.join()
            self.assertTrue(cancel.triggered)
            self.assertLess(took, 1.4, "the cancel did not stop the upload early")
            # The original client is not cancelled; the blob was never committed.
            self.assertFalse(base.head_blob(REPO, sha256(data))["exists"])
            with self.assertRaises(dockreg.Cancelled):
                client.list_tags(REPO)
            client.close()

    def test_cancel_ends_a_call_to_a_registry_that_never_answers(self):
        # A socket that accepts connections (the kernel's backlog) and never answers: the
        # first call of a fresh client also waits there to learn whether it speaks TLS.
        import socket
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(16)
            port = silent.getsockname()[1]
            with dockreg.Client() as base, dockreg.Cancel() as cancel:
                client = base.with_cancel(cancel)
                timer = threading.Timer(0.3, cancel.trigger)
                timer.start()
                t0 = time.monotonic()
                with self.assertRaises(dockreg.Cancelled):
                    client.list_tags(f"127.0.0.1:{port}/a/b")
                took = time.monotonic() - t0
                timer.join()
                client.close()
        self.assertLess(took, 1.3, f"the cancel took {took:.2f} s")

    def test_deadline(self):
        with dockreg.Client() as base:
            client = base.with_cancel(timeout_ms=1)
            time.sleep(0.01)
            with self.assertRaises(dockreg.TimedOut) as cm:
                client.list_tags(REPO)
            self.assertEqual(cm.exception.status, 22)
            client.close()

    def test_per_call_timeout(self):
        with dockreg.Client() as base:
            client = base.with_timeout(60000)
            self.assertIn("repositories", client.list_repositories(REGISTRY))
            client.close()
            with self.assertRaises(dockreg.InvalidInputError):
                base.with_timeout(0)

    def test_closed_client(self):
        client = dockreg.Client()
        client.close()
        with self.assertRaises(ValueError):
            client.list_tags(REPO)


if __name__ == "__main__":
    unittest.main(verbosity=2)
