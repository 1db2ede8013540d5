#!/usr/bin/env bash
# Builds the `FROM scratch` image deploy/Dockerfile describes: a static musl `sluice`
# (stripped), the CA bundle, the pattern library and the shipped settings and pipelines.
# Prints the image's name. Needs podman and musl-gcc (installed here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
image=${SLUICE_IMAGE:-localhost/sluice:$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)}

missing=()
command -v podman >/dev/null || missing+=(podman runc)
command -v musl-gcc >/dev/null || missing+=(musl-tools)
[ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq >&2 && apt-get install -y -qq "${missing[@]}" >&2
fi
rustup target add x86_64-unknown-linux-musl >&2

# Stripped, no debug info: the image budget is 25 MB.
CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_STRIP=symbols \
    cargo build --release --locked --target x86_64-unknown-linux-musl --bin sluice >&2

context=target/container
rm -rf "$context"
mkdir -p "$context/data"
cp target/x86_64-unknown-linux-musl/release/sluice "$context/"
cp /etc/ssl/certs/ca-certificates.crt "$context/"
cp -r grok-patterns config pipelines "$context/"
podman --runtime runc build --quiet --format docker -f deploy/Dockerfile -t "$image" "$context" >&2
echo "$image"
