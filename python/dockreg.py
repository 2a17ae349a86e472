"""dockreg: a client for Docker/OCI container registries, through libdockreg's C API (ctypes).

    import dockreg

    with dockreg.Client({"insecure_registries": ["registry.lan:5000"]}) as client:
        print(client.get_digest("registry.lan:5000/app:1.0")["digest"])
        client.push_blob("registry.lan:5000/app", b"hello", progress=print)

Every method returns the JSON document of the C function it calls, decoded (docs/c-api.md
lists every field). A failing call raises a DockregError subclass chosen by the status
(NotFound, Unauthorized, Cancelled, ...) carrying the status, its name and the last-error JSON.

The library is found through $DOCKREG_LIBRARY (a path), then ctypes.util.find_library
("dockreg"), then a cargo build directory ($CARGO_TARGET_DIR, or target/ next to this file's
directory in the repository). Call load(path) to choose it yourself.

Callbacks (progress, readers, writers) run on the calling thread. A Python exception raised in
one never reaches the C code: it is caught, the transfer is stopped (an upload is then never
committed, not even partly) and the same exception is raised from the method once dockreg
returned.
"""

import ctypes
import ctypes.util
import json
import os
import sys
import threading

__version__ = "0.2.0"

__all__ = [
    "load", "version", "version_number", "status_name", "last_error_message",
    "last_error_json", "set_log_callback", "LOG_OFF", "LOG_ERROR", "LOG_WARN", "LOG_INFO",
    "LOG_DEBUG", "LOG_TRACE", "Reference", "split_image", "Client", "Cancel", "ExactBytes",
    "DockregError", "UsageError", "InvalidOptionError", "InvalidInputError",
    "InvalidReferenceError", "InvalidDigestError", "TransportError", "ConnectError", "TLSError",
    "TimedOut", "AuthError", "Unauthorized", "Denied", "RegistryError", "NotFound",
    "TooManyRequests", "PlatformNotFound", "Unsupported", "ContentError", "DigestMismatch",
    "TooLarge", "FileError", "Cancelled", "CallbackError", "InternalError",
]


# ---- Errors ---------------------------------------------------------------------------------

class DockregError(Exception):
    """A failed call. `status` is the dockreg_status value, `status_name` its name, `details`
    the last-error JSON as a dict (`message`, `http_status`, `method`, `url`, `errors`, ...)."""

    def __init__(self, status, status_name, details):
        self.status = status
        self.status_name = status_name
        self.details = details
        self.function = details.get("function")
        self.message = details.get("message", "")
        super().__init__(f"{status_name}: {self.message}")

    @property
    def http_status(self):
        """The registry's HTTP status, or None when there was no HTTP answer."""
        return self.details.get("http_status")

    @property
    def errors(self):
        """The registry's error entries ({"code", "message", "detail"}), codes as sent."""
        return self.details.get("errors") or []


class UsageError(DockregError):
    """1-9: the API was misused (NULL, bad UTF-8, bad JSON, bad option)."""


class InvalidOptionError(UsageError):
    """3-4: an options JSON that is not JSON, or holds an unknown, mistyped or bad value."""


class InvalidInputError(DockregError, ValueError):
    """10-19: a bad reference, digest or other argument."""


class InvalidReferenceError(InvalidInputError):
    """10: not an image reference or registry name."""


class InvalidDigestError(InvalidInputError):
    """11: not an `algorithm:hex` digest."""


class TransportError(DockregError):
    """20-29: no HTTP answer (connect, TLS, timeout, redirect, broken connection)."""


class ConnectError(TransportError):
    """20: could not connect."""


class TLSError(TransportError):
    """21: TLS handshake or certificate failure."""


class TimedOut(TransportError):
    """22: a timeout or deadline expired."""


class AuthError(DockregError):
    """30-39: authentication and authorization."""


class Unauthorized(AuthError):
    """30: the registry answered 401."""


class Denied(AuthError):
    """31: the registry answered 403."""


class RegistryError(DockregError):
    """40-49: the registry's answer."""


class NotFound(RegistryError, LookupError):
    """40: no such repository, manifest, tag or blob."""


class TooManyRequests(RegistryError):
    """41: the registry answered 429 (`details` may hold `retry_after_seconds`)."""


class PlatformNotFound(RegistryError, LookupError):
    """42: an index has no image for the client's platform."""


class Unsupported(RegistryError):
    """45: the registry does not support the operation."""


class ContentError(DockregError):
    """50-59: content checks."""


class DigestMismatch(ContentError):
    """50: content did not hash to its digest."""


class TooLarge(ContentError):
    """51: a response was larger than its limit."""


class FileError(DockregError):
    """60: a local file could not be read or written."""


class Cancelled(DockregError):
    """61: cancelled (a Cancel handle, or a progress callback that asked to stop)."""


class CallbackError(DockregError):
    """62, 70: a write or read callback failed."""


class InternalError(DockregError):
    """99: a bug in dockreg (a Rust panic caught at the boundary)."""


_BY_STATUS = {
    3: InvalidOptionError, 4: InvalidOptionError,
    10: InvalidReferenceError, 11: InvalidDigestError,
    20: ConnectError, 21: TLSError, 22: TimedOut,
    30: Unauthorized, 31: Denied,
    40: NotFound, 41: TooManyRequests, 42: PlatformNotFound, 45: Unsupported,
    50: DigestMismatch, 51: TooLarge,
    60: FileError, 61: Cancelled, 62: CallbackError, 70: CallbackError, 99: InternalError,
}
# Statuses this module does not know yet fall back to the class of their group.
_BY_GROUP = [
    (1, 9, UsageError), (10, 19, InvalidInputError), (20, 29, TransportError),
    (30, 39, AuthError), (40, 49, RegistryError), (50, 59, ContentError),
    (70, 89, CallbackError),
]


def _error_class(status):
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    for low, high, cls in _BY_GROUP:
        if low <= status <= high:
            return cls
    return DockregError


# ---- The library ----------------------------------------------------------------------------

_STATUS = ctypes.c_int32
_HANDLE = ctypes.c_void_p
_STR = ctypes.c_char_p
# Strings returned through out-params stay raw pointers, to be given back to
# dockreg_string_free (never to Python's or C's free).
_OUT = ctypes.POINTER(ctypes.c_void_p)
_SIZE_MAX = ctypes.c_size_t(-1).value

_LOG = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int32, ctypes.c_char_p, ctypes.c_char_p)
_PROGRESS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64)
_READ = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
_WRITE = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)

# name: (restype, argtypes) of every function used.
_SIGNATURES = {
    "dockreg_version": (_STR, []),
    "dockreg_status_name": (_STR, [ctypes.c_int32]),
    "dockreg_last_error_message": (_STR, []),
    "dockreg_last_error_json": (_STR, []),
    "dockreg_string_free": (None, [ctypes.c_void_p]),
    "dockreg_version_number": (ctypes.c_uint32, []),
    "dockreg_set_log_callback": (_STATUS, [_LOG, ctypes.c_void_p, ctypes.c_int32]),
    "dockreg_bytes_data": (ctypes.c_void_p, [_HANDLE]),
    "dockreg_bytes_len": (ctypes.c_size_t, [_HANDLE]),
    "dockreg_bytes_digest": (_STR, [_HANDLE]),
    "dockreg_bytes_media_type": (_STR, [_HANDLE]),
    "dockreg_bytes_free": (None, [_HANDLE]),
    "dockreg_client_get_manifest_bytes": (_STATUS, [_HANDLE, _STR, ctypes.POINTER(_HANDLE)]),
    "dockreg_client_get_blob_bytes": (_STATUS, [_HANDLE, _STR, _STR, ctypes.c_uint64,
                                                ctypes.POINTER(_HANDLE)]),
    "dockreg_client_with_timeout": (_STATUS, [_HANDLE, ctypes.c_uint64,
                                              ctypes.POINTER(_HANDLE)]),
    "dockreg_reference_parse": (_STATUS, [_STR, _OUT]),
    "dockreg_split_image": (_STATUS, [_STR, _OUT]),
    "dockreg_client_new": (_STATUS, [_STR, ctypes.POINTER(_HANDLE)]),
    "dockreg_client_free": (None, [_HANDLE]),
    "dockreg_cancel_new": (_STATUS, [ctypes.POINTER(_HANDLE)]),
    "dockreg_cancel_trigger": (None, [_HANDLE]),
    "dockreg_cancel_is_triggered": (ctypes.c_int32, [_HANDLE]),
    "dockreg_cancel_free": (None, [_HANDLE]),
    "dockreg_client_with_cancel": (_STATUS, [_HANDLE, _HANDLE, ctypes.c_uint64,
                                             ctypes.POINTER(_HANDLE)]),
    "dockreg_client_get_config": (_STATUS, [_HANDLE, _STR, _STR, _OUT]),
    "dockreg_client_set_tag": (_STATUS, [_HANDLE, _STR, _STR, _OUT]),
    "dockreg_client_put_manifest": (_STATUS, [_HANDLE, _STR, ctypes.c_char_p, ctypes.c_size_t,
                                              _STR, _OUT]),
    "dockreg_client_push_referrer": (_STATUS, [_HANDLE, _STR, ctypes.c_char_p,
                                               ctypes.c_size_t, _STR, _OUT]),
    "dockreg_client_delete_manifest": (_STATUS, [_HANDLE, _STR]),
    "dockreg_client_delete_tag": (_STATUS, [_HANDLE, _STR]),
    "dockreg_client_copy_image": (_STATUS, [_HANDLE, _STR, _STR, _STR, _OUT]),
    "dockreg_client_list_referrers": (_STATUS, [_HANDLE, _STR, _STR, _OUT]),
    "dockreg_client_head_blob": (_STATUS, [_HANDLE, _STR, _STR, _OUT]),
    "dockreg_client_get_blob": (_STATUS, [_HANDLE, _STR, _STR, _WRITE, ctypes.c_void_p,
                                          _PROGRESS, ctypes.c_void_p, _OUT]),
    "dockreg_client_get_blob_to_file": (_STATUS, [_HANDLE, _STR, _STR, _STR, _PROGRESS,
                                                  ctypes.c_void_p, _OUT]),
    "dockreg_client_push_blob": (_STATUS, [_HANDLE, _STR, _READ, ctypes.c_void_p, _STR,
                                           _PROGRESS, ctypes.c_void_p, _OUT]),
    "dockreg_client_push_blob_from_file": (_STATUS, [_HANDLE, _STR, _STR, _STR, _PROGRESS,
                                                     ctypes.c_void_p, _OUT]),
    "dockreg_client_mount_blob": (_STATUS, [_HANDLE, _STR, _STR, _STR, _OUT]),
    "dockreg_client_delete_blob": (_STATUS, [_HANDLE, _STR, _STR]),
}
# The calls shaped f(client, one string, &out_json).
_ONE_ARG = [
    "dockreg_client_get_manifest", "dockreg_client_get_raw_manifest",
    "dockreg_client_head_manifest", "dockreg_client_get_digest",
    "dockreg_client_get_image_config", "dockreg_client_list_tags",
    "dockreg_client_list_repositories", "dockreg_client_list_instances",
    "dockreg_client_list_platforms", "dockreg_client_get_digests",
]
for _name in _ONE_ARG:
    _SIGNATURES[_name] = (_STATUS, [_HANDLE, _STR, _OUT])

_lib = None
_lib_lock = threading.Lock()


def _library_names():
    if sys.platform == "darwin":
        return ["libdockreg.dylib"]
    if sys.platform == "win32":
        return ["dockreg.dll"]
    return ["libdockreg.so"]


def _candidates():
    """Where the library is looked for, in order."""
    for var in ("DOCKREG_LIBRARY", "DOCKREG_LIB"):  # DOCKREG_LIB: the name of 0.1's example
        if os.environ.get(var):
            yield os.environ[var]
            return
    found = ctypes.util.find_library("dockreg")
    if found:
        yield found
    here = os.path.dirname(os.path.abspath(__file__))
    targets = [os.environ.get("CARGO_TARGET_DIR"), os.path.join(here, os.pardir, "target")]
    for target in filter(None, targets):
        for profile in ("release", "debug"):
            for name in _library_names():
                path = os.path.join(target, profile, name)
                if os.path.exists(path):
                    yield path


def load(path=None):
    """Loads libdockreg (from `path`, else as the module's docstring says) and returns the
    ctypes library. Called by every function on first use; call it first to choose the file."""
    global _lib
    with _lib_lock:
        if _lib is not None and path is None:
            return _lib
        tried = [path] if path else list(_candidates())
        errors = []
        for candidate in tried:
            try:
                lib = ctypes.CDLL(candidate)
            except OSError as e:
                errors.append(f"{candidate}: {e}")
                continue
            for name, (restype, argtypes) in _SIGNATURES.items():
                f = getattr(lib, name)
                f.restype = restype
                f.argtypes = argtypes
            _lib = lib
            return lib
        raise OSError("libdockreg not found: set DOCKREG_LIBRARY to its path, install it "
                      "(make install), or build it (cargo build --release)"
                      + ("; tried " + "; ".join(errors) if errors else ""))


def _c():
    return _lib if _lib is not None else load()


def _text(s):
    return None if s is None else s.encode()


def _options(options):
    """None -> NULL; a dict -> its JSON; a str is taken as JSON text."""
    if options is None:
        return None
    return (options if isinstance(options, str) else json.dumps(options)).encode()


def version():
    """The library's version, e.g. "0.2.0"."""
    return _c().dockreg_version().decode()


def version_number():
    """The library's version as MAJOR * 10000 + MINOR * 100 + PATCH, e.g. 200 for 0.2.0."""
    return _c().dockreg_version_number()


def status_name(status):
    """The name of a status value, e.g. "DOCKREG_ERR_NOT_FOUND"."""
    return _c().dockreg_status_name(status).decode()


def last_error_message():
    """The message of this thread's last failed call, or None after a success."""
    m = _c().dockreg_last_error_message()
    return None if m is None else m.decode()


def last_error_json():
    """This thread's last error as a dict, or None after a success."""
    j = _c().dockreg_last_error_json()
    return None if j is None else json.loads(j)


def _check(status):
    if status != 0:
        # Read the last error before any other call on this thread replaces it.
        details = last_error_json() or {}
        raise _error_class(status)(status, status_name(status), details)


def _take_json(out):
    """Decodes and frees a string dockreg returned through an out-param."""
    try:
        return json.loads(ctypes.string_at(out.value))
    finally:
        _c().dockreg_string_free(out)


def _json_call(function, *args):
    out = ctypes.c_void_p()
    _check(getattr(_c(), function)(*args, ctypes.byref(out)))
    return _take_json(out)


# ---- Logging --------------------------------------------------------------------------------

LOG_OFF, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE = range(6)
_log_keep = None  # the CFUNCTYPE dockreg holds; must live as long as it is set
_log_lock = threading.Lock()


def set_log_callback(callback, level=LOG_DEBUG):
    """Sends dockreg's log lines up to `level` to `callback(level, target, message)` for the
    whole process (LOG_DEBUG: requests, retries, token fetches; never credentials), replacing
    the previous one; None turns logging off. The callback runs on dockreg's threads, possibly
    several at once; an exception it raises is dropped (a log line must not fail the call)."""
    global _log_keep
    with _log_lock:
        if callback is None or level == LOG_OFF:
            _check(_c().dockreg_set_log_callback(_LOG(), None, LOG_OFF))
            _log_keep = None
            return

        def deliver(_userdata, lvl, target, message):
            try:
                callback(lvl, target.decode(errors="replace"), message.decode(errors="replace"))
            except BaseException:  # noqa: B036 - nothing may cross into C
                pass

        keep = _LOG(deliver)
        _check(_c().dockreg_set_log_callback(keep, None, level))
        # dockreg no longer calls the previous callback once the call above returned.
        _log_keep = keep


# ---- References -----------------------------------------------------------------------------

class Reference:
    """A parsed image reference, normalised as `docker pull` reads it, without network access:
    Reference.parse("ubuntu:22.04") has registry "docker.io", repository "library/ubuntu",
    tag "22.04" and digest None."""

    __slots__ = ("registry", "repository", "tag", "digest")

    def __init__(self, registry, repository, tag=None, digest=None):
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest

    @classmethod
    def parse(cls, image):
        """Raises InvalidReferenceError for what is not a reference."""
        d = _json_call("dockreg_reference_parse", _text(image))
        return cls(d["registry"], d["repository"], d["tag"], d["digest"])

    def __str__(self):
        s = f"{self.registry}/{self.repository}"
        if self.tag:
            s += f":{self.tag}"
        if self.digest:
            s += f"@{self.digest}"
        return s

    def __repr__(self):
        return f"Reference({str(self)!r})"

    def __eq__(self, other):
        return isinstance(other, Reference) and str(self) == str(other)

    def __hash__(self):
        return hash(str(self))


def split_image(image):
    """(registry, repository, reference): the reference is the digest when there is one,
    else the tag, else ""."""
    d = _json_call("dockreg_split_image", _text(image))
    return d["registry"], d["repository"], d["reference"]


# ---- Callbacks ------------------------------------------------------------------------------

class _Call:
    """The C callbacks of one call, and the first Python exception raised in them. The
    CFUNCTYPE objects live as long as this object, which outlives the C call."""

    def __init__(self, progress=None, source=None, sink=None):
        self.error = None
        self.progress = _PROGRESS(self._progress) if progress else _PROGRESS()
        self._progress_fn = progress
        self.read = _READ(self._read) if source is not None else None
        self._source = source
        self.write = _WRITE(self._write) if sink is not None else None
        self._sink = sink

    def _progress(self, _ctx, done, total):
        try:
            return 1 if self._progress_fn(done, total) is False else 0
        except BaseException as e:  # noqa: B036 - nothing may cross into C
            self.error = self.error or e
            return 1

    def _read(self, _ctx, buf, cap):
        try:
            n = self._source(buf, cap)
            return n if 0 <= n <= cap else _SIZE_MAX
        except BaseException as e:  # noqa: B036
            self.error = self.error or e
            return _SIZE_MAX

    def _write(self, _ctx, buf, length):
        try:
            self._sink(ctypes.string_at(buf, length))
            return length
        except BaseException as e:  # noqa: B036
            self.error = self.error or e
            return 0

    def finish(self, status, out):
        """After the C call: the callback's exception first (it is why the call failed), then
        the status, then the result."""
        if self.error is not None:
            if status == 0:
                _c().dockreg_string_free(out)
                raise self.error
            err = _error_class(status)(status, status_name(status), last_error_json() or {})
            if hasattr(self.error, "add_note"):
                self.error.add_note(f"dockreg stopped the transfer: {err}")
            raise self.error.with_traceback(self.error.__traceback__) from None
        _check(status)
        return _take_json(out)


def _reader(source):
    """A function (buf address, cap) -> bytes written, from bytes, a binary file or a
    callable(cap) -> bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = memoryview(source).cast("B")
        pos = [0]

        def read(buf, cap):
            chunk = data[pos[0]:pos[0] + cap]
            ctypes.memmove(buf, bytes(chunk), len(chunk))
            pos[0] += len(chunk)
            return len(chunk)
        return read, len(data)
    if hasattr(source, "readinto"):
        def read(buf, cap):
            view = memoryview((ctypes.c_char * cap).from_address(buf)).cast("B")
            n = source.readinto(view)
            return 0 if n is None else n
        return read, None
    fetch = source.read if hasattr(source, "read") else source
    if not callable(fetch):
        raise TypeError("source must be bytes, a binary file or a callable(cap) -> bytes")

    def read(buf, cap):
        chunk = fetch(cap)
        if len(chunk) > cap:
            raise ValueError(f"the source returned {len(chunk)} bytes for {cap} asked")
        ctypes.memmove(buf, bytes(chunk), len(chunk))
        return len(chunk)
    return read, None


class ExactBytes:
    """Bytes exactly as the registry stores them (a manifest, a small blob), with their digest
    and (for a manifest) media type. `bytes(x)` and `x.data` give the bytes."""

    __slots__ = ("data", "digest", "media_type")

    def __init__(self, data, digest, media_type):
        self.data, self.digest, self.media_type = data, digest, media_type

    def __bytes__(self):
        return self.data

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        return f"ExactBytes({len(self.data)} bytes, {self.digest}, {self.media_type})"


def _take_bytes(handle):
    """Copies and frees a dockreg_bytes buffer."""
    lib = _c()
    try:
        n = lib.dockreg_bytes_len(handle)
        data = ctypes.string_at(lib.dockreg_bytes_data(handle), n) if n else b""
        media_type = lib.dockreg_bytes_media_type(handle)
        return ExactBytes(data, lib.dockreg_bytes_digest(handle).decode(),
                          None if media_type is None else media_type.decode())
    finally:
        lib.dockreg_bytes_free(handle)


# ---- Cancel and Client ----------------------------------------------------------------------

class Cancel:
    """A cancel switch: trigger() (from any thread) ends every call of the clients made with
    it (Client.with_cancel) with Cancelled. It cannot be reset."""

    def __init__(self):
        self._handle = ctypes.c_void_p()
        _check(_c().dockreg_cancel_new(ctypes.byref(self._handle)))

    def trigger(self):
        _c().dockreg_cancel_trigger(self._handle)

    @property
    def triggered(self):
        return bool(_c().dockreg_cancel_is_triggered(self._handle))

    def close(self):
        """Frees the handle; clients made with it keep its state."""
        if self._handle:
            _c().dockreg_cancel_free(self._handle)
            self._handle = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if _lib is not None:
            self.close()


def _push_options(digest, size, chunk_size, mount_from, skip_existing, resume_attempts):
    o = {"digest": digest, "size": size, "chunk_size": chunk_size, "mount_from": mount_from,
         "skip_existing": skip_existing, "resume_attempts": resume_attempts}
    return {k: v for k, v in o.items() if v is not None}


class Client:
    """A registry client. `options`: None for the defaults, or the options of
    dockreg_client_new as a dict (or JSON text). One client may be used by many threads at
    once; close() it (or use `with`) when no call uses it any more."""

    def __init__(self, options=None, _handle=None):
        if _handle is not None:
            self._handle = _handle
            return
        self._handle = ctypes.c_void_p()
        _check(_c().dockreg_client_new(_options(options), ctypes.byref(self._handle)))

    def close(self):
        if self._handle:
            _c().dockreg_client_free(self._handle)
            self._handle = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if _lib is not None and getattr(self, "_handle", None):
            self.close()

    def _h(self):
        if not self._handle:
            raise ValueError("the client is closed")
        return self._handle

    def with_cancel(self, cancel=None, timeout_ms=0):
        """A client sharing this one's connections whose calls obey `cancel` (a Cancel, or
        None) and fail with TimedOut `timeout_ms` from now (0: no deadline)."""
        handle = ctypes.c_void_p()
        _check(_c().dockreg_client_with_cancel(
            self._h(), cancel._handle if cancel else None, timeout_ms, ctypes.byref(handle)))
        return Client(_handle=handle)

    def with_timeout(self, timeout_ms):
        """A client sharing this one's connections whose every call fails with TimedOut
        `timeout_ms` (at least 1) after it started."""
        handle = ctypes.c_void_p()
        _check(_c().dockreg_client_with_timeout(self._h(), timeout_ms, ctypes.byref(handle)))
        return Client(_handle=handle)

    # Manifests and configs.
    def get_manifest_bytes(self, image):
        """The manifest's exact bytes (an index stays an index) as ExactBytes: what
        put_manifest takes back with the same digest."""
        handle = ctypes.c_void_p()
        _check(_c().dockreg_client_get_manifest_bytes(self._h(), _text(image),
                                                       ctypes.byref(handle)))
        return _take_bytes(handle)

    def get_manifest(self, image):
        return _json_call("dockreg_client_get_manifest", self._h(), _text(image))

    def get_raw_manifest(self, image):
        return _json_call("dockreg_client_get_raw_manifest", self._h(), _text(image))

    def head_manifest(self, image):
        return _json_call("dockreg_client_head_manifest", self._h(), _text(image))

    def get_digest(self, image):
        return _json_call("dockreg_client_get_digest", self._h(), _text(image))

    def get_digests(self, images):
        """The digests of many images, resolved in parallel: a list with one dict per image,
        in order, {"digest": ...} or {"error": {...}} (one image's failure does not raise)."""
        return _json_call("dockreg_client_get_digests", self._h(),
                          _text(json.dumps([str(i) for i in images])))

    def get_config(self, repository, config_digest):
        return _json_call("dockreg_client_get_config", self._h(), _text(repository),
                          _text(config_digest))

    def get_image_config(self, image):
        return _json_call("dockreg_client_get_image_config", self._h(), _text(image))

    def put_manifest(self, image, manifest, media_type=None):
        """`manifest`: the exact bytes (a str is UTF-8 encoded); `media_type` defaults to
        the document's own `mediaType`."""
        data, media_type = _manifest_args(manifest, media_type)
        return _json_call("dockreg_client_put_manifest", self._h(), _text(image), data,
                          len(data), _text(media_type))

    def set_tag(self, image, new_tag):
        return _json_call("dockreg_client_set_tag", self._h(), _text(image), _text(new_tag))

    def delete_manifest(self, image):
        _check(_c().dockreg_client_delete_manifest(self._h(), _text(image)))

    def delete_tag(self, image):
        _check(_c().dockreg_client_delete_tag(self._h(), _text(image)))

    # Listings.
    def list_tags(self, repository):
        return _json_call("dockreg_client_list_tags", self._h(), _text(repository))

    def list_repositories(self, registry):
        return _json_call("dockreg_client_list_repositories", self._h(), _text(registry))

    def list_instances(self, repository):
        return _json_call("dockreg_client_list_instances", self._h(), _text(repository))

    def list_platforms(self, image):
        return _json_call("dockreg_client_list_platforms", self._h(), _text(image))

    # Whole images and referrers.
    def copy_image(self, src, dst, platform=None, all_tags=None):
        o = {k: v for k, v in (("platform", platform), ("all_tags", all_tags)) if v is not None}
        return _json_call("dockreg_client_copy_image", self._h(), _text(src), _text(dst),
                          _options(o))

    def list_referrers(self, image, artifact_type=None):
        return _json_call("dockreg_client_list_referrers", self._h(), _text(image),
                          _text(artifact_type))

    def push_referrer(self, repository, manifest, media_type=None):
        data, media_type = _manifest_args(manifest, media_type)
        return _json_call("dockreg_client_push_referrer", self._h(), _text(repository), data,
                          len(data), _text(media_type))

    # Blobs.
    def head_blob(self, repository, digest):
        return _json_call("dockreg_client_head_blob", self._h(), _text(repository),
                          _text(digest))

    def get_blob(self, repository, digest, sink=None, progress=None):
        """Streams the blob into `sink` (a binary file, or a callable(bytes)), verified as it
        arrives: after a failure, discard what was written. Without `sink`, returns the bytes
        (for small blobs); with one, the result dict {"digest", "size"}."""
        parts = []
        write = parts.append if sink is None else getattr(sink, "write", sink)
        call = _Call(progress=progress, sink=write)
        out = ctypes.c_void_p()
        status = _c().dockreg_client_get_blob(self._h(), _text(repository), _text(digest),
                                              call.write, None, call.progress, None,
                                              ctypes.byref(out))
        result = call.finish(status, out)
        return b"".join(parts) if sink is None else result

    def get_blob_bytes(self, repository, digest, max_size=0):
        """A small blob (a config, a signature) as ExactBytes, verified; `max_size` 0 for
        16 MiB, TooLarge beyond."""
        handle = ctypes.c_void_p()
        _check(_c().dockreg_client_get_blob_bytes(self._h(), _text(repository), _text(digest),
                                                   max_size, ctypes.byref(handle)))
        return _take_bytes(handle)

    def get_blob_to_file(self, repository, digest, path, progress=None):
        call = _Call(progress=progress)
        out = ctypes.c_void_p()
        status = _c().dockreg_client_get_blob_to_file(
            self._h(), _text(repository), _text(digest), os.fsencode(path), call.progress, None,
            ctypes.byref(out))
        return call.finish(status, out)

    def push_blob(self, repository, source, *, digest=None, size=None, chunk_size=None,
                  mount_from=None, skip_existing=None, resume_attempts=None, progress=None):
        """Uploads `source` (bytes, a binary file, or a callable(cap) -> bytes returning b""
        at the end) as a blob. `progress(done, total)` returning False stops the upload
        (Cancelled). An exception from the source or progress aborts the upload, which is then
        not committed, and is raised again here."""
        read, known_size = _reader(source)
        if size is None:
            size = known_size
        options = _push_options(digest, size, chunk_size, mount_from, skip_existing,
                                resume_attempts)
        call = _Call(progress=progress, source=read)
        out = ctypes.c_void_p()
        status = _c().dockreg_client_push_blob(self._h(), _text(repository), call.read, None,
                                               _options(options), call.progress, None,
                                               ctypes.byref(out))
        return call.finish(status, out)

    def push_blob_from_file(self, repository, path, *, digest=None, chunk_size=None,
                            mount_from=None, skip_existing=None, resume_attempts=None,
                            progress=None):
        options = _push_options(digest, None, chunk_size, mount_from, skip_existing,
                                resume_attempts)
        call = _Call(progress=progress)
        out = ctypes.c_void_p()
        status = _c().dockreg_client_push_blob_from_file(
            self._h(), _text(repository), os.fsencode(path), _options(options), call.progress,
            None, ctypes.byref(out))
        return call.finish(status, out)

    def mount_blob(self, repository, digest, from_repository):
        """`from_repository`: a repository path of the same registry, without the host."""
        return _json_call("dockreg_client_mount_blob", self._h(), _text(repository),
                          _text(digest), _text(from_repository))

    def delete_blob(self, repository, digest):
        _check(_c().dockreg_client_delete_blob(self._h(), _text(repository), _text(digest)))


def _manifest_args(manifest, media_type):
    data = manifest.encode() if isinstance(manifest, str) else bytes(manifest)
    if media_type is None:
        media_type = json.loads(data).get("mediaType")
        if not media_type:
            raise ValueError("the manifest has no mediaType: give media_type")
    return data, media_type
