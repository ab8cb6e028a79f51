#!/usr/bin/env bash
# Builds the hooksim image (Containerfile): a static musl binary plus a static busybox shell.
# Needs the musl target (`rustup target add x86_64-unknown-linux-musl`), musl-tools (ring's C
# and assembly build with musl-gcc), busybox-static and podman, all from rustup and Debian.
# Then checks what it can without running a container (running one is not possible everywhere
# this is built): the binary is static and runs as is, and the image holds what it should.
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-hooksim:latest}"
target=x86_64-unknown-linux-musl
cargo build --release --locked --target "$target" --bin hooksim
mkdir -p target/container
cp "target/$target/release/hooksim" target/container/hooksim
strip target/container/hooksim
cp "$(command -v busybox)" target/container/busybox
cp target/container/busybox target/container/sh
echo "== the binary"
file target/container/hooksim
# A static-pie binary: ldd says "statically linked" (or "not a dynamic executable"), never a library.
linked="$(ldd target/container/hooksim 2>&1 || true)"
case "$linked" in
  *"statically linked"*|*"not a dynamic executable"*) echo "static: $linked" ;;
  *) echo "not static: $linked"; exit 1 ;;
esac
ls -l target/container/hooksim
# Run as is, outside any container: the version, and the scenario library on the model engine.
target/container/hooksim --version
target/container/hooksim run scenarios --engine model | tail -n 1
echo "== the image"
podman build --quiet -t "$tag" -f Containerfile .
podman image inspect "$tag" --format 'size: {{.Size}} bytes'
