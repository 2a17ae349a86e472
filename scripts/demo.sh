#!/usr/bin/env bash
# The main job, end to end on a fresh Debian machine with Rust: starts a local registry (CNCF
# distribution) on a free port, has skopeo push a small OCI image built here, then uses the
# dockreg CLI to read it back, re-tag it and list what the registry holds.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --quiet --example dockreg
# Wherever cargo puts its build (CARGO_TARGET_DIR, a config file, a workspace).
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
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
  exit "$status"
}
trap cleanup EXIT

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
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
  python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/v2/')" 2>/dev/null && break
  sleep 0.1
done
registry=127.0.0.1:$port
echo "== registry $registry (storage $work/storage)"

# A one-layer OCI image layout, built by hand so a second client (skopeo) pushes it.
layout=$work/layout
mkdir -p "$layout/blobs/sha256" "$work/rootfs"
echo "hello from dockreg" > "$work/rootfs/hello.txt"
tar --sort=name --mtime=@0 --owner=0 --group=0 -C "$work/rootfs" -cf "$work/layer.tar" hello.txt
put_blob() { local d; d=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$layout/blobs/sha256/$d"; echo "$d"; }
layer=$(put_blob "$work/layer.tar")
layer_size=$(stat -c %s "$work/layer.tar")
printf '{"architecture":"amd64","os":"linux","created":"2026-01-02T03:04:05Z","config":{"Env":["PATH=/bin"],"Cmd":["cat","/hello.txt"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"2026-01-02T03:04:05Z","created_by":"demo"}]}' "$layer" > "$work/config.json"
config=$(put_blob "$work/config.json")
config_size=$(stat -c %s "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" > "$work/manifest.json"
manifest=$(put_blob "$work/manifest.json")
manifest_size=$(stat -c %s "$work/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}' \
  "$manifest" "$manifest_size" > "$layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
skopeo copy --quiet --dest-tls-verify=false "oci:$layout:v1" "docker://$registry/demo/hello:v1"
echo "== skopeo pushed $registry/demo/hello:v1 (manifest sha256:$manifest)"

run() { echo; echo "\$ dockreg $*"; "$cli" "$@"; }
run parse "$registry/demo/hello:v1"
run digest "$registry/demo/hello:v1"
run manifest "$registry/demo/hello:v1"; echo
run config "$registry/demo/hello:v1"
run tag "$registry/demo/hello:v1" stable
run tags "$registry/demo/hello"
run instances "$registry/demo/hello"
run push "$work/rootfs" "$registry/demo/pushed:v1"
run copy "$registry/demo/hello:v1" "$registry/mirror/hello:v1"
run platforms "$registry/mirror/hello:v1"
echo; echo "\$ dockreg delete $registry/demo/hello:stable   # distribution cannot delete a tag alone"
"$cli" delete "$registry/demo/hello:stable" || echo "(exit status $?: refused, and no digest was deleted)"
run catalog "$registry"
echo
echo "== skopeo sees the new tag at: $(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$registry/demo/hello:stable")"
