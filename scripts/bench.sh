#!/usr/bin/env bash
# The project's benchmark column (/work/shared/WORKLOADS.md): starts a registry (distribution)
# with its storage on tmpfs, seeds it as WORKLOADS.md says (bench/app: 2000 tags over 4 small
# images, tags 0-3 pushed by skopeo, the rest raw PUTs of the same manifest bytes; bench/blob:big
# with a 256 MiB random layer; bench/push empty), runs every workload of examples/bench.rs in its
# own process and prints their JSON lines. blob-push also runs its variant `--monolithic` (hash
# first, then one PUT with the bytes) as a separate column, labelled `dockreg-monolithic`.
#
#   scripts/bench.sh [--n N] [--iters N] [--size-mb S] [--tags T] [WORKLOAD...]
#
# Extra options are passed to the bench binary; WORKLOADs default to all five.
set -euo pipefail
cd "$(dirname "$0")/.."

opts=()
workloads=()
while [ $# -gt 0 ]; do
  case "$1" in
    --monolithic) shift ;;  # always run as a variant of blob-push, see below
    --*) opts+=("$1" "$2"); shift 2 ;;
    *) workloads+=("$1"); shift ;;
  esac
done
[ ${#workloads[@]} -gt 0 ] || workloads=(resolve manifest tags blob-push blob-pull)
tags=2000
for ((i = 0; i < ${#opts[@]}; i += 2)); do
  [ "${opts[i]}" = "--tags" ] && tags=${opts[i+1]}
done

cargo build --quiet --release --example bench
bin=target/release/examples/bench

work=$(mktemp -d /dev/shm/dockreg-bench.XXXXXX)
reg_pid=
cleanup() {
  if [ -n "$reg_pid" ]; then kill "$reg_pid" 2>/dev/null || true; wait "$reg_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage:
  filesystem: {rootdirectory: $work/storage}
  delete: {enabled: true}
http: {addr: 127.0.0.1:$port}
YML
# distribution reads every REGISTRY_* variable as a config override: start it without them.
env $(env | grep -o '^REGISTRY_[^=]*' | sed 's/^/-u /') docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
registry=127.0.0.1:$port
for _ in $(seq 200); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://$registry/v2/')" 2>/dev/null && break
  sleep 0.05
done

# Two OCI layouts: the 4 small images, and the big one.
python3 - "$work" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
work = sys.argv[1]

def layout(d):
    os.makedirs(f"{d}/blobs/sha256", exist_ok=True)
    open(f"{d}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')

def blob(d, data):
    h = hashlib.sha256(data).hexdigest()
    open(f"{d}/blobs/sha256/{h}", "wb").write(data)
    return "sha256:" + h

def image(d, config, layer_digest, layer_size, layer_type):
    cd = blob(d, config)
    m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(config)},
        "layers": [{"mediaType": layer_type, "digest": layer_digest, "size": layer_size}]},
        separators=(",", ":")).encode()
    return blob(d, m), len(m)

def config(diff_id, i):
    return json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {"Env": [f"BENCH={i}"]}, "rootfs": {"type": "layers", "diff_ids": [diff_id]}},
        separators=(",", ":")).encode()

small = f"{work}/small"; layout(small)
refs = []
for i in range(4):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        data = f"bench image {i}\n".encode()
        info = tarfile.TarInfo(f"bench-{i}.txt"); info.size = len(data); info.mtime = 0
        t.addfile(info, io.BytesIO(data))
    tar = buf.getvalue()
    gz = gzip.compress(tar, mtime=0)
    ld = blob(small, gz)
    md, ms = image(small, config("sha256:" + hashlib.sha256(tar).hexdigest(), i), ld, len(gz),
                   "application/vnd.oci.image.layer.v1.tar+gzip")
    refs.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
                 "annotations": {"org.opencontainers.image.ref.name": f"img-{i}"}})
open(f"{small}/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": refs}))

big = f"{work}/big"; layout(big)
h = hashlib.sha256(); size = 256 * 1024 * 1024
tmp = f"{big}/blobs/sha256/layer.tmp"
with open(tmp, "wb") as f:
    left = size
    while left:
        chunk = os.urandom(min(left, 1 << 20)); h.update(chunk); f.write(chunk); left -= len(chunk)
ld = "sha256:" + h.hexdigest()
os.rename(tmp, f"{big}/blobs/sha256/{h.hexdigest()}")
md, ms = image(big, config(ld, "big"), ld, size, "application/vnd.oci.image.layer.v1.tar")
open(f"{big}/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
     "annotations": {"org.opencontainers.image.ref.name": "big"}}]}))
PY

sk() { env $(env | grep -o '^REGISTRY_[^=]*' | sed 's/^/-u /') skopeo --insecure-policy copy --quiet --dest-tls-verify=false --preserve-digests "$@"; }
for i in 0 1 2 3; do
  sk "oci:$work/small:img-$i" "docker://$registry/bench/app:tag-000$i"
done
sk "oci:$work/big:big" "docker://$registry/bench/blob:big"
rm -rf "$work/big"

# Tags 4..T-1: raw PUTs of the same manifest bytes, over one keep-alive connection.
python3 - "$work/small" "$registry" "$tags" <<'PY'
import http.client, json, sys
d, registry, tags = sys.argv[1], sys.argv[2], int(sys.argv[3])
index = json.load(open(f"{d}/index.json"))
bodies = [open(f"{d}/blobs/sha256/{m['digest'][7:]}", "rb").read() for m in index["manifests"]]
host, port = registry.split(":")
c = http.client.HTTPConnection(host, int(port))
for i in range(4, tags):
    c.request("PUT", f"/v2/bench/app/manifests/tag-{i:04d}", body=bodies[i % 4],
              headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    r = c.getresponse(); r.read()
    if r.status != 201:
        sys.exit(f"PUT tag-{i:04d}: {r.status}")
PY
echo "# registry $registry seeded (storage on tmpfs: $work/storage)" >&2

status=0
run() {
  local line
  line=$("$bin" --registry "$registry" "${opts[@]}" "$@") || status=1
  echo "$line"
  if [ "${!#}" = blob-push ]; then
    # The runner's clean-up: delete the pushed blob again.
    digest=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("digest",""))' "$line")
    [ -n "$digest" ] && python3 -c "import urllib.request as u; u.urlopen(u.Request('http://$registry/v2/bench/push/blobs/$digest', method='DELETE'))" || true
  fi
}
for w in "${workloads[@]}"; do
  run "$w"
  [ "$w" = blob-push ] && run --monolithic --label dockreg-monolithic blob-push
done
exit $status
