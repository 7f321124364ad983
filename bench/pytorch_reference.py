#!/usr/bin/env python3
"""The PyTorch reference for pangaea's training benchmarks: the same networks, written in PyTorch
eager, timed the same way. Used by bench/side_by_side.py; prints one JSON object.

  python3 bench/pytorch_reference.py wrn-step --act relu --steps 5 --threads 2
  python3 bench/pytorch_reference.py tiny-epoch --act "alpha * x * sigmoid(beta * x)" --threads 2

`wrn-step`: WRN-10-4 (pangaea's `wrn-10-4`: pre-activation, widths 16/64/128/256, 1 block per
stage, 1,198,810 weights), one training step (forward, cross-entropy, backward, SGD with Nesterov
momentum) on a batch of random 3x32x32 images; median seconds of the timed steps after one
warm-up step.

`tiny-epoch`: pangaea's `tiny` net (conv 16/32/64/64, 61,338 weights for 3 channels) for one
epoch over 10,000 Fashion-MNIST training images (batch 32, no augmentation), read from Debian's
dataset-fashion-mnist package; training images per second over the training steps only, as
pangaea's result field `images_per_second` counts them.

Activations: `relu`, or one of the two parametric expressions pangaea's benchmarks use, with
per-channel parameters initialised to 1: `alpha * x * sigmoid(beta * abs(x))` and
`alpha * x * sigmoid(beta * x)`.
"""

import argparse
import gzip
import json
import statistics
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

FASHION = "/usr/share/datasets/fashion-mnist"


class Act(nn.Module):
    """One activation site: ReLU, or a parametric expression with per-channel parameters."""

    def __init__(self, act, channels):
        super().__init__()
        self.act = act
        if act != "relu":
            self.alpha = nn.Parameter(torch.ones(channels))
            self.beta = nn.Parameter(torch.ones(channels))

    def forward(self, x):
        if self.act == "relu":
            return F.relu(x)
        a = self.alpha.view(1, -1, 1, 1)
        b = self.beta.view(1, -1, 1, 1)
        if self.act == "alpha * x * sigmoid(beta * abs(x))":
            return a * x * torch.sigmoid(b * x.abs())
        if self.act == "alpha * x * sigmoid(beta * x)":
            return a * x * torch.sigmoid(b * x)
        raise ValueError(f"unknown activation {self.act!r}")


def he_conv(cin, cout, k, stride):
    conv = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False)
    nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
    return conv


class Block(nn.Module):
    def __init__(self, cin, cout, stride, act):
        super().__init__()
        self.bn1, self.act1 = nn.BatchNorm2d(cin), Act(act, cin)
        self.conv1 = he_conv(cin, cout, 3, stride)
        self.bn2, self.act2 = nn.BatchNorm2d(cout), Act(act, cout)
        self.conv2 = he_conv(cout, cout, 3, 1)
        self.shortcut = he_conv(cin, cout, 1, stride) if (stride != 1 or cin != cout) else None

    def forward(self, x):
        pre = self.act1(self.bn1(x))
        y = self.conv2(self.act2(self.bn2(self.conv1(pre))))
        return y + (self.shortcut(pre) if self.shortcut is not None else x)


class Wrn(nn.Module):
    """WRN-10-4 as pangaea builds it."""

    def __init__(self, act, in_channels=3, classes=10):
        super().__init__()
        self.stem = he_conv(in_channels, 16, 3, 1)
        blocks, c = [], 16
        for stage in range(3):
            width = 64 << stage
            blocks.append(Block(c, width, 1 if stage == 0 else 2, act))
            c = width
        self.blocks = nn.Sequential(*blocks)
        self.bn, self.act = nn.BatchNorm2d(c), Act(act, c)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        x = self.act(self.bn(self.blocks(self.stem(x))))
        return self.fc(x.mean(dim=(2, 3)))


class Tiny(nn.Module):
    """pangaea's tiny net."""

    def __init__(self, act, in_channels=1, classes=10):
        super().__init__()
        layers, c = [], in_channels
        for i, w in enumerate([16, 32, 64, 64]):
            layers += [he_conv(c, w, 3, 1 if i == 0 else 2), nn.BatchNorm2d(w), Act(act, w)]
            c = w
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        return self.fc(self.body(x).mean(dim=(2, 3)))


def weights(net):
    return sum(p.numel() for n, p in net.named_parameters() if not n.endswith(("alpha", "beta")))


def optimizer(net, lr, wd):
    acts = [p for n, p in net.named_parameters() if n.endswith(("alpha", "beta"))]
    rest = [p for n, p in net.named_parameters() if not n.endswith(("alpha", "beta"))]
    groups = [{"params": rest, "weight_decay": wd}]
    if acts:
        groups.append({"params": acts, "weight_decay": 0.0})
    return torch.optim.SGD(groups, lr=lr, momentum=0.9, nesterov=True)


def step(net, opt, images, labels):
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(net(images), labels)
    loss.backward()
    opt.step()
    return loss.item()


def wrn_step(args):
    torch.manual_seed(0)
    device = torch.device(args.device)
    net = Wrn(args.act).train().to(device)
    opt = optimizer(net, 0.01, 5e-4)
    images = torch.randn(args.batch_size, 3, 32, 32, device=device)
    labels = (torch.arange(args.batch_size) % 10).to(device)
    times = []
    for _ in range(args.steps + 1):
        start = time.perf_counter()
        step(net, opt, images, labels)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return {
        "benchmark": "wrn-step",
        "weights": weights(net),
        "warmup_seconds": times[0],
        "step_seconds": times[1:],
        "median_seconds": statistics.median(times[1:]),
    }


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    dims = [struct.unpack(">I", data[8 + 4 * i : 12 + 4 * i])[0] for i in range((magic & 0xFF) - 1)]
    offset = 8 + 4 * len(dims)
    return torch.frombuffer(bytearray(data[offset:]), dtype=torch.uint8).reshape(count, *dims)


def tiny_epoch(args):
    torch.manual_seed(0)
    images = read_idx(f"{FASHION}/train-images-idx3-ubyte.gz")[: args.images].float() / 255.0
    labels = read_idx(f"{FASHION}/train-labels-idx1-ubyte.gz")[: args.images].long()
    images = ((images - images.mean()) / images.std()).unsqueeze(1)
    net = Tiny(args.act).train()
    opt = optimizer(net, 0.1, 5e-4)
    order = torch.randperm(len(images))
    seen, seconds = 0, 0.0
    for i in range(0, len(images) - args.batch_size + 1, args.batch_size):
        idx = order[i : i + args.batch_size]
        x, y = images[idx], labels[idx]
        start = time.perf_counter()
        step(net, opt, x, y)
        seconds += time.perf_counter() - start
        seen += len(idx)
    return {
        "benchmark": "tiny-epoch",
        "weights": weights(net),
        "images": seen,
        "train_seconds": seconds,
        "images_per_second": seen / seconds,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("benchmark", choices=["wrn-step", "tiny-epoch"])
    p.add_argument("--act", default="relu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda (wrn-step only)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.batch_size is None:
        args.batch_size = 128 if args.benchmark == "wrn-step" else 32
    out = wrn_step(args) if args.benchmark == "wrn-step" else tiny_epoch(args)
    out.update(act=args.act, threads=args.threads, device=args.device,
               torch=torch.__version__, engine="pytorch eager")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
