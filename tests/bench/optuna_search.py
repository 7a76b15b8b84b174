#!/usr/bin/python3
"""The search a user would run instead of edgenas: Optuna's NSGA-II with PyTorch.

Searches a MobileNet-like space like edgenas's mobile space (a stem conv, 2-6 blocks, each a
depthwise-separable block, an MBConv with optional squeeze-and-excite, or a Fire block, at
stride 1 or 2 while the map stays at least 4x4), for validation accuracy up and multiply-adds
down, each trial trained as edgenas's proxy: one epoch of SGD (momentum 0.9, weight decay
5e-4, learning rate 0.05 on a cosine schedule, batch 64) on a 12,000-image subset of
Fashion-MNIST's training split, scored on 10% of that split held out. Writes one JSON line per
finished trial (val_accuracy, flops) to --out, for search_vs_optuna.sh to score.

  optuna_search.py --minutes 30 --seed 1 --out trials.jsonl [--threads 2]
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"
WIDTHS = [16, 24, 32, 48, 64, 96]
STEM_WIDTHS = [8, 16, 24]
KERNELS = [3, 5]
EXPANDS = [1, 3, 6]
SE_RATIOS = [0.0, 0.25]
SQUEEZE_RATIOS = [0.125, 0.25, 0.5]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(seed, max_train, validation_fraction):
    images = read_idx(os.path.join(DATA, "train-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    labels = read_idx(os.path.join(DATA, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(images))
    n_val = int(round(validation_fraction * len(images)))
    val, train = order[:n_val], order[n_val:n_val + max_train]
    mean, std = images[train].mean(), images[train].std()
    norm = lambda x: ((x - mean) / std)[:, None, :, :]
    return norm(images[train]), labels[train], norm(images[val]), labels[val]


def sample_arch(trial):
    """An architecture of the space; stride-2 blocks limited as edgenas limits them."""
    n = trial.suggest_int("blocks", 2, 6)
    arch = {"stem": trial.suggest_categorical("stem", STEM_WIDTHS), "blocks": []}
    downsamples, side = 0, 28
    for i in range(n):
        p = f"b{i}_"
        block = {"type": trial.suggest_categorical(p + "type", ["dw_separable", "mbconv", "fire"]),
                 "out": trial.suggest_categorical(p + "out", WIDTHS),
                 "stride": trial.suggest_categorical(p + "stride", [1, 2])}
        if block["stride"] == 2 and side < 8:
            block["stride"] = 1  # the map would fall below 4x4
        if block["stride"] == 2:
            side = (side + 1) // 2
            downsamples += 1
        if block["type"] in ("dw_separable", "mbconv"):
            block["kernel"] = trial.suggest_categorical(p + "kernel", KERNELS)
        if block["type"] == "mbconv":
            block["expand"] = trial.suggest_categorical(p + "expand", EXPANDS)
            block["se"] = trial.suggest_categorical(p + "se", SE_RATIOS)
        if block["type"] == "fire":
            block["squeeze"] = trial.suggest_categorical(p + "squeeze", SQUEEZE_RATIOS)
        arch["blocks"].append(block)
    return arch


def build(arch, torch):
    nn = torch.nn

    def conv_bn(cin, cout, k, stride=1, groups=1, act=True):
        layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
        if act:
            layers.append(nn.ReLU6())
        return layers

    class SE(nn.Module):
        def __init__(self, c, r):
            super().__init__()
            self.f = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, r, 1), nn.ReLU(),
                                   nn.Conv2d(r, c, 1), nn.Hardsigmoid())

        def forward(self, x):
            return x * self.f(x)

    class MBConv(nn.Module):
        def __init__(self, cin, cout, expand, k, stride, se):
            super().__init__()
            hidden = cin * expand
            layers = conv_bn(cin, hidden, 1) if expand != 1 else []
            layers += conv_bn(hidden, hidden, k, stride, hidden)
            if se > 0:
                layers.append(SE(hidden, max(1, int(cin * se))))
            layers += conv_bn(hidden, cout, 1, act=False)
            self.f = nn.Sequential(*layers)
            self.residual = stride == 1 and cin == cout

        def forward(self, x):
            y = self.f(x)
            return x + y if self.residual else y

    class Fire(nn.Module):
        def __init__(self, cin, cout, squeeze_ratio, stride):
            super().__init__()
            s = max(1, round(cout * squeeze_ratio))
            e1 = cout // 2
            self.pool = nn.MaxPool2d(3, 2, 1) if stride == 2 else nn.Identity()
            self.squeeze = nn.Sequential(nn.Conv2d(cin, s, 1), nn.ReLU())
            self.e1 = nn.Sequential(nn.Conv2d(s, e1, 1), nn.ReLU())
            self.e3 = nn.Sequential(nn.Conv2d(s, cout - e1, 3, padding=1), nn.ReLU())

        def forward(self, x):
            x = self.squeeze(self.pool(x))
            return torch.cat([self.e1(x), self.e3(x)], 1)

    layers = conv_bn(1, arch["stem"], 3)
    c = arch["stem"]
    for b in arch["blocks"]:
        if b["type"] == "dw_separable":
            layers += conv_bn(c, c, b["kernel"], b["stride"], c) + conv_bn(c, b["out"], 1)
        elif b["type"] == "mbconv":
            layers.append(MBConv(c, b["out"], b["expand"], b["kernel"], b["stride"], b["se"]))
        else:
            layers.append(Fire(c, b["out"], b["squeeze"], b["stride"]))
        c = b["out"]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10)]
    return nn.Sequential(*layers)


def mult_adds(model, torch):
    """Multiply-adds of one 28x28 image through the convolutions and dense layers."""
    total = [0]

    def hook(m, inputs, out):
        if isinstance(m, torch.nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups
            total[0] += out.numel() * k
        elif isinstance(m, torch.nn.Linear):
            total[0] += m.in_features * m.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    for h in handles:
        h.remove()
    return total[0]


def train_and_score(model, data, torch, seed):
    xtr, ytr, xval, yval = data
    torch.manual_seed(seed)
    batch = 64
    steps = len(xtr) // batch
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    order = torch.randperm(len(xtr))
    x, y = torch.from_numpy(xtr), torch.from_numpy(ytr)
    model.train()
    loss_fn = torch.nn.CrossEntropyLoss()
    for s in range(steps):
        idx = order[s * batch:(s + 1) * batch]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        if not torch.isfinite(loss):
            return 0.0
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    right = 0
    with torch.no_grad():
        xv, yv = torch.from_numpy(xval), torch.from_numpy(yval)
        for i in range(0, len(xv), 500):
            right += (model(xv[i:i + 500]).argmax(1) == yv[i:i + 500]).sum().item()
    return right / len(xval)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--images", type=int, default=12000)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    import optuna
    import torch
    torch.set_num_threads(a.threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = load(a.seed, a.images, 0.1)
    start = time.time()
    out = open(a.out, "w")

    def objective(trial):
        model = build(sample_arch(trial), torch)
        flops = mult_adds(model, torch)
        acc = train_and_score(model, data, torch, a.seed + trial.number)
        out.write(json.dumps({"trial": trial.number, "val_accuracy": acc, "flops": flops,
                              "seconds": time.time() - start}) + "\n")
        out.flush()
        print(f"\roptuna: trial {trial.number + 1}: {100 * acc:.2f}% at {flops / 1e6:.2f} M "
              f"mult-adds, {time.time() - start:.0f} s", end="", file=sys.stderr, flush=True)
        return acc, flops

    study = optuna.create_study(directions=["maximize", "minimize"],
                                sampler=optuna.samplers.NSGAIISampler(seed=a.seed))
    study.optimize(objective, timeout=a.minutes * 60)
    print(file=sys.stderr)


if __name__ == "__main__":
    main()
