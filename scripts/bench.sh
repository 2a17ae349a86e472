#!/usr/bin/env bash
# The project's benchmark (WORKLOADS.md and BENCHMARKS.md): starts two registries
# (distribution) with their storage on tmpfs, seeds the first as WORKLOADS.md says (bench/app:
# 2000 tags over 4 small images, tags 0-3 pushed by skopeo, the rest raw PUTs of the same
# manifest bytes; bench/blob:big with a 256 MiB random layer; bench/push empty) plus bench/inst
# (300 tags over the same 4 images) and bench/layered:v1 (16 random layers of 1 MiB), builds the
# bench, the CLI example and the C program examples/c/bench_resolve.c, then runs every workload
# of examples/bench.rs in its own process, once with dockreg and once as its raw-HTTP floor
# (--floor), at each round trip of --rtts (default "0 20" ms, through the bench's delaying
# relay). blob-push also runs its variant `--monolithic`; copy also runs with --jobs 1 (one at a
# time); instances also runs at --jobs 4, 8 and 32 (the measurement behind the default of 16).
# Prints the JSON lines, then a table with the ratios (scripts/bench_table.py).
#
#   scripts/bench.sh [--rtts "0 20"] [--n N] [--iters N] [--size-mb S] [--tags T] [WORKLOAD...]
#
# Extra options are passed to the bench binary; WORKLOADs default to all of them.
set -euo pipefail
cd "$(dirname "$0")/.."

opts=()
workloads=()
rtts="0 20"
while [ $# -gt 0 ]; do
  case "$1" in
    --monolithic) shift ;;  # always run as a variant of blob-push, see below
    --rtts) rtts=$2; shift 2 ;;
    --*) opts+=("$1" "$2"); shift 2 ;;
    *) workloads+=("$1"); shift ;;
  esac
done
[ ${#workloads[@]} -gt 0 ] || workloads=(resolve manifest tags blob-push blob-pull
  resolve-parallel resolve-many instances copy cold c-resolve)
tags=2000
for ((i = 0; i < ${#opts[@]}; i += 2)); do
  [ "${opts[i]}" = "--tags" ] && tags=${opts[i+1]}
done

cargo build --quiet --release --lib --example bench --example dockreg
bin=target/release/examples/bench
cli=target/release/examples/dockreg
# The library's SONAME is libdockreg.so.MAJOR (build.rs): the program loads it by that name, so
# it gets a directory holding that link (make install lays out the same names).
soname=$(readelf -d target/release/libdockreg.so | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
mkdir -p target/release/bench-lib
ln -sf ../libdockreg.so "target/release/bench-lib/$soname"
cc -O2 -std=c99 -Wall -Iinclude examples/c/bench_resolve.c -Ltarget/release -ldockreg \
  -Wl,-rpath,"$PWD/target/release/bench-lib" -o target/release/bench_resolve
cres=target/release/bench_resolve

work=$(mktemp -d /dev/shm/dockreg-bench.XXXXXX)
reg_pids=()
cleanup() {
  for p in "${reg_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# start_registry NAME: a registry with its storage in $work/NAME; prints its address.
start_registry() {
  local name=$1 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat > "$work/$name.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage:
  filesystem: {rootdirectory: $work/$name}
  delete: {enabled: true}
http: {addr: 127.0.0.1:$port}
YML
  # distribution reads every REGISTRY_* variable as a config override: start it without them.
  env $(env | grep -o '^REGISTRY_[^=]*' | sed 's/^/-u /') docker-registry serve "$work/$name.yml" >"$work/$name.log" 2>&1 &
  reg_pids+=($!)
  for _ in $(seq 200); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/v2/')" 2>/dev/null && break
    sleep 0.05
  done
  registry_addr=127.0.0.1:$port
}
start_registry storage; registry=$registry_addr
start_registry storage2; registry2=$registry_addr

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

# 16 layers of 1 MiB of random bytes (uncompressed tar media type; the bytes are what moves).
lay = f"{work}/layered"; layout(lay)
layers = [blob(lay, os.urandom(1 << 20)) for _ in range(16)]
cfg = json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
    "rootfs": {"type": "layers", "diff_ids": layers}}, separators=(",", ":")).encode()
cd = blob(lay, cfg)
m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": 1 << 20}
               for d in layers]}, separators=(",", ":")).encode()
md = blob(lay, m)
open(f"{lay}/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(m),
     "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}))
PY

sk() { env $(env | grep -o '^REGISTRY_[^=]*' | sed 's/^/-u /') skopeo --insecure-policy copy --quiet --dest-tls-verify=false --preserve-digests "$@"; }
for i in 0 1 2 3; do
  sk "oci:$work/small:img-$i" "docker://$registry/bench/app:tag-000$i"
  sk "oci:$work/small:img-$i" "docker://$registry/bench/inst:tag-000$i"
done
sk "oci:$work/big:big" "docker://$registry/bench/blob:big"
sk "oci:$work/layered:v1" "docker://$registry/bench/layered:v1"
rm -rf "$work/big" "$work/layered"

# Tags 4..T-1: raw PUTs of the same manifest bytes, over one keep-alive connection.
seed_tags() {
python3 - "$work/small" "$registry" "$1" "$2" <<'PY'
import http.client, json, sys
d, registry, repo, tags = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
index = json.load(open(f"{d}/index.json"))
bodies = [open(f"{d}/blobs/sha256/{m['digest'][7:]}", "rb").read() for m in index["manifests"]]
host, port = registry.split(":")
c = http.client.HTTPConnection(host, int(port))
for i in range(4, tags):
    c.request("PUT", f"/v2/{repo}/manifests/tag-{i:04d}", body=bodies[i % 4],
              headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    r = c.getresponse(); r.read()
    if r.status != 201:
        sys.exit(f"PUT tag-{i:04d}: {r.status}")
PY
}
seed_tags bench/app "$tags"
seed_tags bench/inst 300
echo "# registries $registry (seeded) and $registry2 (copy destination), storage on tmpfs: $work" >&2
echo "# machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

status=0
results=$work/results.jsonl
run() {
  local line
  line=$("$bin" --registry "$registry" --registry2 "$registry2" --cli "$cli" --c-resolve "$cres" \
    "${opts[@]}" "$@") || status=1
  echo "$line" | tee -a "$results"
  case " $* " in *" blob-push "*)
    # The runner's clean-up: delete the pushed blob again.
    digest=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("digest",""))' "$line")
    [ -n "$digest" ] && python3 -c "import urllib.request as u; u.urlopen(u.Request('http://$registry/v2/bench/push/blobs/$digest', method='DELETE'))" || true
  esac
}
for rtt in $rtts; do
  for w in "${workloads[@]}"; do
    run --rtt-ms "$rtt" "$w"
    # c-resolve's floor is resolve's (the same raw HEADs); cold's is a process doing one HEAD.
    [ "$w" = c-resolve ] || run --rtt-ms "$rtt" --floor "$w"
    case $w in
      blob-push) run --rtt-ms "$rtt" --monolithic --label dockreg-monolithic blob-push ;;
      copy) run --rtt-ms "$rtt" --jobs 1 --label dockreg-jobs1 copy ;;
      instances) for j in 4 8 32; do run --rtt-ms "$rtt" --jobs "$j" --label "dockreg-jobs$j" instances; done ;;
    esac
  done
done
echo "# load after the run: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 scripts/bench_table.py "$results"
exit $status
