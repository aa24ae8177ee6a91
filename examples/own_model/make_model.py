#!/usr/bin/env python3
"""Your own network and data for nesgd: a small CNN with batch norm, scripted, and a CIFAR-like .npz.

    python3 make_model.py [--out DIR] [--train N] [--test N]

writes DIR/small_cnn.pt (torch.jit.save of torch.jit.script(SmallCnn())) and DIR/data.npz
(x_train, y_train, x_test, y_test: uint8 images N x 32 x 32 x 3, int64 labels 0..9), then prints
the nesgd commands that train, sweep, report and measure it (README.md, "Your own network").

The images are synthetic (each class a coloured block at its own place, plus noise) so that the
example needs nothing but PyTorch and NumPy; put your own arrays in the same four keys instead.
Save the model with a PyTorch no newer than the LibTorch nesgd was built with: a TorchScript file
from a newer PyTorch may use operators an older LibTorch does not know (on Debian, nesgd's default
build has LibTorch 1.13: run this with /usr/bin/python3 and Debian's python3-torch).
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn


class SmallCnn(nn.Module):
    """x: [N, 3, 32, 32] in [0, 1] -> logits [N, 10]."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 16
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # 8 x 8
        )
        self.head = nn.Linear(32 * 8 * 8, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


def images(n: int, rng: np.random.Generator):
    """Class k lights a 8 x 8 block at its own place in its own colour, over uniform noise."""
    y = rng.integers(0, 10, size=n)
    x = rng.integers(0, 90, size=(n, 32, 32, 3), dtype=np.int64)
    for i, k in enumerate(y):
        r, c = 8 * (k // 4), 8 * (k % 4)
        x[i, r:r + 8, c:c + 8, k % 3] += 150
    return x.clip(0, 255).astype(np.uint8), y.astype(np.int64)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=".", help="folder for small_cnn.pt and data.npz")
    p.add_argument("--train", type=int, default=2000, help="training images")
    p.add_argument("--test", type=int, default=500, help="test images")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    model_path = os.path.join(args.out, "small_cnn.pt")
    data_path = os.path.join(args.out, "data.npz")

    torch.jit.save(torch.jit.script(SmallCnn()), model_path)
    rng = np.random.default_rng(1)
    x_train, y_train = images(args.train, rng)
    x_test, y_test = images(args.test, rng)
    np.savez(data_path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    print(f"wrote {model_path} (PyTorch {torch.__version__}) and {data_path}")
    print(f"""
nesgd train --model torchscript:{model_path} --dataset npz:{data_path} --batch-size 100 --alpha 1.5 \\
    --seed 1 --checkpoint run.ckpt --out run.json
nesgd sweep --configs torchscript:{model_path} --dataset npz:{data_path} --batch-sizes 100,500 \\
    --alphas 1,1.5 --seeds 1..3 --store runs/own
nesgd report --store runs/own --out report/own
nesgd noise --model torchscript:{model_path} --dataset npz:{data_path} --batch-size 100 \\
    --alphas 1,1.5,2 --draws 100 --out noise.json""")


if __name__ == "__main__":
    main()
