#!/usr/bin/env python3
"""Writes the NumPy-made fixtures that tests/data/test_npy.cpp reads.

Real numpy output is the check of the .npz/.npy readers that a hand-written
writer cannot give (np.savez forces zip64 extra fields into its local headers,
for one). Every value is a formula of its index, restated in the test:

    pixel(n, c, h, w) = (50 * n + 40 * c + 7 * h + w) % 256     label(n) = (3 * n) % 7

    /usr/bin/python3 tests/testdata/npz/make_fixtures.py   # needs numpy
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def pixels(n, c, h, w):
    i = np.arange(n).reshape(n, 1, 1, 1)
    j = np.arange(c).reshape(1, c, 1, 1)
    k = np.arange(h).reshape(1, 1, h, 1)
    m = np.arange(w).reshape(1, 1, 1, w)
    return (50 * i + 40 * j + 7 * k + m) % 256  # [N, C, H, W]


def labels(n):
    return (3 * np.arange(n)) % 7


# 7 training images so that label 6 (the largest) occurs; 3 test images; 5 x 6 pixels, so that
# neither H nor W looks like a channel count (1, 3 or 4) to layout detection.
NCHW_TRAIN = pixels(7, 3, 5, 6)
NCHW_TEST = pixels(3, 3, 5, 6)

# np.savez (stored entries): uint8 NHWC, int64 labels.
np.savez(os.path.join(HERE, "savez_uint8_nhwc.npz"),
         x_train=NCHW_TRAIN.transpose(0, 2, 3, 1).astype(np.uint8), y_train=labels(7).astype(np.int64),
         x_test=NCHW_TEST.transpose(0, 2, 3, 1).astype(np.uint8), y_test=labels(3).astype(np.int64))

# np.savez_compressed (deflated entries): float32 NCHW scaled by 1/256, int32 labels of shape (N, 1)
# (as Keras's CIFAR loaders give them), and an extra array that the reader ignores.
np.savez_compressed(os.path.join(HERE, "savez_compressed_float32_nchw.npz"),
                    x_train=(NCHW_TRAIN / 256).astype(np.float32), y_train=labels(7).astype(np.int32).reshape(7, 1),
                    x_test=(NCHW_TEST / 256).astype(np.float32), y_test=labels(3).astype(np.int32).reshape(3, 1),
                    class_names=np.array(["a", "b", "c", "d", "e", "f", "g"]))

# A folder of .npy files: one channel (N, H, W) uint8, uint8 labels; x_test in format version 2.0
# and y_test in 3.0 (np.save picks 1.0 for any header this small).
folder = os.path.join(HERE, "npy_folder_grey")
os.makedirs(folder, exist_ok=True)
np.save(os.path.join(folder, "x_train.npy"), NCHW_TRAIN[:, 0].astype(np.uint8))
np.save(os.path.join(folder, "y_train.npy"), labels(7).astype(np.uint8))
with open(os.path.join(folder, "x_test.npy"), "wb") as f:
    np.lib.format.write_array(f, NCHW_TEST[:, 0].astype(np.uint8), version=(2, 0))
with open(os.path.join(folder, "y_test.npy"), "wb") as f:
    np.lib.format.write_array(f, labels(3).astype(np.uint8), version=(3, 0))
