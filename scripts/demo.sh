#!/usr/bin/env bash
# The main job, end to end on a fresh Debian machine with Rust: starts a local registry (CNCF
# distribution) on a free port, pushes a two-platform image built by the library, shows what
# the dockreg CLI does with it (push, tags, digest per platform, manifest, config, instances,
# platforms, tag, copy, pull, export, referrers, delete), then reads the same image from C and
# from Python through the C ABI. Exits non-zero on the first failure; removes everything it made
# (temp dir, registry) however it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The CLI, and libdockreg.so for the C and Python examples.
cargo build --quiet --lib --example dockreg
# Wherever cargo puts its build (CARGO_TARGET_DIR, a config file, a workspace).
read -r target_dir major < <(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; m = json.load(sys.stdin)
print(m["target_directory"], m["packages"][0]["version"].split(".")[0])')
cli=$target_dir/debug/examples/dockreg

work=$(mktemp -d)
reg_pid=
cleanup() {
  local status=$?
  # The registry dies by our signal: its exit status is not the demo's.
  if [ -n "$reg_pid" ]; then
    kill "$reg_pid" 2>/dev/null || true
    wait "$reg_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  if [ "$status" -ne 0 ]; then echo "demo: FAILED (exit status $status)" >&2; fi
  exit "$status"
}
trap cleanup EXIT
# Interrupted or terminated: exit, so that the EXIT trap cleans up too.
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/config.yml" <<YML
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage:
  filesystem: {rootdirectory: $work/storage}
  delete: {enabled: true}
http: {addr: 127.0.0.1:$port}
YML
# distribution reads every REGISTRY_* variable as a config override: start it without them.
env $(env | grep -o '^REGISTRY_[^=]*' | sed 's/^/-u /') docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
ready=
for _ in $(seq 150); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/v2/', timeout=1)" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "demo: the registry did not start; its log:" >&2
  cat "$work/registry.log" >&2
  exit 1
fi
registry=127.0.0.1:$port
echo "== registry $registry (storage $work/storage)"

run() { echo; echo "\$ dockreg $*"; "$cli" "$@"; }
# A command that must fail with exit status $1; its message is shown.
run_fails() {
  local want=$1 status=0
  shift
  echo; echo "\$ dockreg $*   # must fail with exit status $want"
  "$cli" "$@" || status=$?
  if [ "$status" -ne "$want" ]; then
    echo "demo: expected exit status $want, got $status" >&2
    exit 1
  fi
}
image=$registry/demo/hello:v1

# Push: an index with linux/amd64 and linux/arm64 images, built by the library.
run demo-image "$image"
# Push: a plain directory as a one-layer image.
mkdir -p "$work/rootfs/etc"
echo "hello from a directory" > "$work/rootfs/etc/hello.txt"
run push "$work/rootfs" "$registry/demo/files:v1"

run ls "$registry/demo/hello"
run digest "$image" "$registry/demo/files:v1"
run digest --platform linux/amd64 "$image"
run digest "$image" --platform linux/arm64
run manifest "$image"
echo; echo "\$ dockreg manifest --raw $image | sha256sum   # the bytes the index digest is of"
"$cli" manifest --raw "$image" | sha256sum
run manifest --platform linux/arm64 "$image"
run config --platform linux/arm64 "$image"
run platforms "$image"
run tag "$image" stable
run instances "$registry/demo/hello"
run cp "$image" "$registry/mirror/hello:v1"
run copy --platform linux/arm64 "$image" "$registry/mirror/hello:v1-arm64"
run platforms "$registry/mirror/hello:v1-arm64"

# Pull into an OCI image layout, which skopeo (another client) reads.
run pull "$image" "$work/layout"
echo; echo "\$ skopeo inspect oci:$work/layout:v1   # the layout dockreg wrote"
skopeo inspect --format '{{.Digest}} {{.Os}}/{{.Architecture}}' "oci:$work/layout:v1"

# Export: the arm64 image's filesystem as one tar.
run export --platform linux/arm64 "$image" "$work/rootfs-arm64.tar"
echo; echo "\$ tar -xOf rootfs-arm64.tar hello.txt"
tar -xOf "$work/rootfs-arm64.tar" hello.txt

# Referrers: attach an SBOM-like artifact, then list it.
echo '{"spdxVersion":"SPDX-2.3","name":"demo"}' > "$work/sbom.json"
run attach --artifact-type application/spdx+json "$image" "$work/sbom.json"
run referrers "$image"

# Delete: this registry refuses a tag-only delete (and dockreg never falls back to deleting the
# digest); a delete by digest removes the manifest and every tag on it.
run_fails 1 delete "$registry/demo/hello:stable"
mirror_digest=$("$cli" digest --format json "$registry/mirror/hello:v1" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["digest"])')
run delete "$registry/mirror/hello@$mirror_digest"
run_fails 3 digest "$registry/mirror/hello:v1"
run catalog "$registry"

# The same registry from C and from Python, through libdockreg.so.
# A copy of the library just built, under the name programs load it by (its SONAME).
lib_dir=$work/lib
mkdir -p "$lib_dir"
cp "$target_dir/debug/libdockreg.so" "$lib_dir/"
ln -s libdockreg.so "$lib_dir/libdockreg.so.$major"
echo; echo "== C: examples/c/inspect.c against $image"
cc -std=c99 -Wall -I include examples/c/inspect.c -L "$lib_dir" -ldockreg \
  -Wl,-rpath,"$lib_dir" -o "$work/inspect"
"$work/inspect" "$image"
echo; echo "== Python: examples/python/inspect.py against $image"
DOCKREG_LIBRARY=$lib_dir/libdockreg.so python3 examples/python/inspect.py "$image"

echo
echo "== skopeo sees the new tag at: $(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$registry/demo/hello:stable")"
echo "demo: every step worked"
