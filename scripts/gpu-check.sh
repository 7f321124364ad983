#!/usr/bin/env bash
# GPU checks and benchmarks in one call, for a machine with an NVIDIA GPU (and no Rust).
#
#   scripts/gpu-check.sh [DIR]
#
# DIR (default: gpu/) holds pangaea binaries built elsewhere, each optional:
#   DIR/pangaea-tch     built with `--features tch` (LibTorch; runs on CUDA when the machine's
#                       libtorch is the 2.9.0 it was built against: DIR/libtorch or the torch of
#                       the `python3` on PATH)
#   DIR/pangaea-vulkan  built with `--features vulkan` (wgpu on Vulkan; needs the Vulkan loader)
# For each GPU backend that can run here it
#   1. trains the tiny net a few steps on synthetic data on the GPU and on the CPU (flex) and
#      checks that the first epoch's training loss agrees within 5 % (GPU kernels round
#      differently; a broken backend is off by far more);
# (GPU_DEVICE_TCH=cpu runs check 1 and 2 of the tch binary on the CPU: a dry run of this
# script on a machine without a GPU, with a fake nvidia-smi.)
#   2. times a WRN-10-4 training step at batch 128 (`pangaea bench train`, ReLU and the 5-node
#      parametric expression);
# and times the same step in PyTorch eager on the GPU (bench/pytorch_reference.py --device
# cuda) for the ratio. Prints a summary to paste into BENCHMARKS.md; exits 1 when a check fails,
# 0 when every check that could run passed (a backend that cannot run here is reported, not
# failed). Writes its logs to $OUT (the device tool's output folder) or ./gpu-check-out.
set -u -o pipefail
DIR="${1:-gpu}"
OUT="${OUT:-gpu-check-out}"
mkdir -p "$OUT"
status=0
say() { echo "$@" | tee -a "$OUT/summary.txt"; }

say "== $(date -u +%F) gpu-check on $(hostname)"
if ! command -v nvidia-smi >/dev/null 2>&1; then
    say "no nvidia-smi: not a GPU machine; nothing to check"
    exit 0
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$OUT/summary.txt"
grep -m1 "model name" /proc/cpuinfo | tee -a "$OUT/summary.txt"

# The training request of check 1: tiny net, synthetic 3x16x16 images, one epoch of 4 steps.
tiny=(--dataset synthetic --arch tiny --act "alpha * x * sigmoid(beta * x)" --epochs 1
      --limit-train 128 --limit-val 64 --batch-size 32 --seed 1)

loss_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["epochs"][0]["train_loss"])' "$1"; }

check_backend() { # NAME BINARY DEVICE
    local name=$1 bin=$2 device=$3
    say "-- $name ($bin --device $device)"
    if ! "$bin" train "${tiny[@]}" --device flex --out "$OUT/$name-cpu.json" >"$OUT/$name-cpu.log" 2>&1; then
        say "   cannot run at all: $(tail -1 "$OUT/$name-cpu.log")"
        return
    fi
    if ! "$bin" train "${tiny[@]}" --device "$device" --out "$OUT/$name-gpu.json" >"$OUT/$name-gpu.log" 2>&1; then
        say "   FAILED to train on the GPU: $(tail -2 "$OUT/$name-gpu.log" | tr '\n' ' ')"
        status=1
        return
    fi
    local cpu gpu
    cpu=$(loss_of "$OUT/$name-cpu.json"); gpu=$(loss_of "$OUT/$name-gpu.json")
    if python3 -c "import sys; c,g=float(sys.argv[1]),float(sys.argv[2]); sys.exit(abs(c-g) > 0.05*abs(c))" "$cpu" "$gpu"; then
        say "   first-epoch training loss: GPU $gpu, CPU $cpu: agree"
    else
        say "   first-epoch training loss: GPU $gpu, CPU $cpu: DISAGREE (more than 5 %)"
        status=1
    fi
    "$bin" bench train --arch wrn-10-4 --batch-size 128 --steps 10 --device "$device" \
        >"$OUT/$name-bench.txt" 2>&1 || status=1
    sed 's/^/   /' "$OUT/$name-bench.txt" | tee -a "$OUT/summary.txt"
}

if [ -x "$DIR/pangaea-tch" ]; then
    if [ -d "$DIR/libtorch/lib" ]; then
        export LD_LIBRARY_PATH="$DIR/libtorch/lib:${LD_LIBRARY_PATH:-}"
    else
        torch_lib=$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null || true)
        torch_version=$(python3 -c 'import torch; print(torch.__version__)' 2>/dev/null || true)
        case "$torch_version" in
            2.9.0*) export LD_LIBRARY_PATH="$torch_lib:${LD_LIBRARY_PATH:-}" ;;
            *) say "-- libtorch: this machine's torch is ${torch_version:-absent}, pangaea-tch needs 2.9.0 (put its lib/ in $DIR/libtorch)" ;;
        esac
    fi
    check_backend libtorch-cuda "$DIR/pangaea-tch" "${GPU_DEVICE_TCH:-cuda}"
else
    say "-- no $DIR/pangaea-tch: LibTorch on CUDA not checked"
fi
if [ -x "$DIR/pangaea-vulkan" ]; then
    check_backend vulkan "$DIR/pangaea-vulkan" auto
else
    say "-- no $DIR/pangaea-vulkan: Vulkan not checked"
fi

say "-- PyTorch eager on the GPU (the reference)"
for act in relu "alpha * x * sigmoid(beta * abs(x))"; do
    python3 "$(dirname "$0")/../bench/pytorch_reference.py" wrn-step --act "$act" --device cuda \
        --steps 10 2>/dev/null | tee -a "$OUT/summary.txt" || say "   PyTorch reference failed for $act"
done
exit $status
