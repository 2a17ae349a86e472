#!/usr/bin/env bash
# Installs what the tests and the demo need on a Debian machine with Rust (run as root).
set -euo pipefail

need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
command -v htpasswd >/dev/null || need+=(apache2-utils)
command -v valgrind >/dev/null || need+=(valgrind)
command -v cc >/dev/null || need+=(gcc)
command -v c++ >/dev/null || need+=(g++)
command -v openssl >/dev/null || need+=(openssl)
command -v python3 >/dev/null || need+=(python3)
# tests/ffi_examples.rs pip-installs python/ offline: setuptools with wheel, in python3 or Debian's.
python3 -c 'import setuptools, wheel, pip' 2>/dev/null || /usr/bin/python3 -c 'import setuptools, wheel, pip' 2>/dev/null \
  || need+=(python3-setuptools python3-wheel python3-pip)
command -v make >/dev/null || need+=(make)
command -v pkg-config >/dev/null || need+=(pkg-config)

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The registry must not be started by the package's service on this machine: tests start
# their own on free ports.
if command -v systemctl >/dev/null 2>&1; then
  systemctl stop docker-registry >/dev/null 2>&1 || true
fi
command -v cargo >/dev/null || { echo "setup: cargo not found: install Rust (rustup) first" >&2; exit 1; }
