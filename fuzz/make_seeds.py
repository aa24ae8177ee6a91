#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/.

Every seed is small and made here: tiny valid files in each format, and a few
typical ways they go wrong (truncated, wrong magic, bad labels, wrong types).
The fuzzer starts from these and mutates them. Inputs that once crashed a
target are added to its folder by hand (named crash-*, never regenerated here)
so every later run replays them.

    python3 fuzz/make_seeds.py      # rewrites the generated seeds, keeps crash-*
"""
import gzip
import io
import json
import os
import struct
import tarfile
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def gz(data):
    # mtime 0: the same bytes on every run of this script.
    return gzip.compress(data, compresslevel=6, mtime=0)


# --- IDX ------------------------------------------------------------------------------------------------

def idx(dims, payload=None, magic=None):
    magic = magic if magic is not None else 0x00000800 | len(dims)
    n = 1
    for d in dims:
        n *= d
    if payload is None:
        payload = bytes(i % 10 for i in range(n))
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload


labels = idx([5])
images = idx([2, 3, 3])
put("idx", "labels-raw", labels)
put("idx", "images-raw", images)
put("idx", "labels-gzip", gz(labels))
put("idx", "images-gzip", gz(images))
put("idx", "gzip-no-trailer", gz(images)[:-8])
put("idx", "truncated-payload", images[:-3])
put("idx", "truncated-header", images[:9])
put("idx", "trailing-bytes", labels + b"\x07\x07")
put("idx", "wrong-magic", b"\x08\x08\x00\x00" + labels[4:])
put("idx", "float-type", b"\x00\x00\x0d\x01" + labels[4:])
put("idx", "zero-dimension", idx([0, 28, 28], payload=b""))
put("idx", "claims-2e31-images", idx([1 << 31], payload=b"\x01\x02"))
put("idx", "four-dims", idx([1, 2, 1, 2]))

# The gzip target compresses its input itself: control byte, then IDX content.
put("idx_gzip", "labels", b"\x00" + labels)
put("idx_gzip", "images", b"\x00" + images)
put("idx_gzip", "images-cut-8", b"\x88" + images)
put("idx_gzip", "claims-2e31-images", b"\x00" + idx([1 << 31], payload=b"\x01"))
put("idx_gzip", "trailing", b"\x00" + labels + b"\x00")

# --- CIFAR binary records ----------------------------------------------------------------------------------

PIXELS = 3 * 32 * 32


def cifar10_record(label, shade=0):
    return bytes([label]) + bytes((shade + i // 97) % 256 for i in range(PIXELS))


def cifar100_record(coarse, fine, shade=0):
    return bytes([coarse, fine]) + bytes((shade + i // 89) % 256 for i in range(PIXELS))


put("cifar", "cifar10-one", cifar10_record(3))
put("cifar", "cifar10-two", cifar10_record(0) + cifar10_record(9, 50))
put("cifar", "cifar100-one", cifar100_record(19, 99))
put("cifar", "cifar10-bad-label", cifar10_record(10))
put("cifar", "cifar100-bad-coarse", cifar100_record(20, 5))
put("cifar", "short", cifar10_record(1)[:100])
put("cifar", "record-and-a-bit", cifar10_record(1) + b"\x05")

# --- NumPy .npy and .npz (--dataset npz:PATH) ----------------------------------------------------------------

def npy(descr, shape, payload, version=1, fortran=False):
    """An .npy image as NumPy's write_array makes it (header padded to a multiple of 64 bytes)."""
    shape_text = "(%s)" % (", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else ""))
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape_text)
    preamble = 10 if version == 1 else 12
    header += " " * ((64 - (preamble + len(header) + 1) % 64) % 64) + "\n"
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode() + payload


def npz(arrays, compression=zipfile.ZIP_STORED):
    """arrays: list of (name, npy bytes). Written as np.savez does: zip64 extras forced in local headers."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as z:
        for name, data in arrays:
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compression
            with z.open(info, "w", force_zip64=True) as f:
                f.write(data)
    return buf.getvalue()


def dataset(x_descr="|u1", x_train_shape=(3, 2, 5), x_test_shape=(2, 2, 5), y_descr="<i8", y_train=(0, 2, 1),
            y_test=(1, 0), y_column=False, x_payload=None):
    size = int(x_descr[2:])
    fmt_code = {"<i8": "<q", "<i4": "<i", "|u1": "B", "<i2": "<h", "<u2": "<H", ">i8": ">q"}[y_descr]

    def x(shape):
        n = 1
        for d in shape:
            n *= d
        if x_payload is not None:
            return x_payload(n)
        if x_descr == "<f4":
            return struct.pack("<%df" % n, *[(i % 11) / 8 - 0.5 for i in range(n)])
        return bytes(i % 251 for i in range(n * size))

    def y(values):
        shape = (len(values), 1) if y_column else (len(values),)
        return npy(y_descr, shape, b"".join(struct.pack(fmt_code, v) for v in values))

    return [("x_train", npy(x_descr, x_train_shape, x(x_train_shape))), ("y_train", y(y_train)),
            ("x_test", npy(x_descr, x_test_shape, x(x_test_shape))), ("y_test", y(y_test))]


put("npz", "savez-uint8-grey.npz", npz(dataset()))
put("npz", "savez-compressed-float32-nhwc.npz",
    npz(dataset("<f4", (3, 2, 5, 1), (2, 2, 5, 1), "<i4"), zipfile.ZIP_DEFLATED))
put("npz", "savez-uint8-nchw-column-labels.npz",
    npz(dataset("|u1", (2, 3, 2, 5), (2, 3, 2, 5), "<u2", (1, 0), (0, 1), y_column=True)))
put("npz", "ambiguous-layout.npz", npz(dataset("|u1", (3, 3, 2, 3), (2, 3, 2, 3))))
put("npz", "extra-array.npz", npz(dataset("|u1", y_descr="|u1") + [("names", npy("<U1", (2,), "ab".encode("utf-32-le")))]))
put("npz", "missing-y-test.npz", npz(dataset()[:3]))
put("npz", "big-endian-labels.npz", npz(dataset(y_descr=">i8")))
put("npz", "float-nan.npz", npz(dataset("<f4", (3, 2, 5, 1), (2, 2, 5, 1),
                                        x_payload=lambda n: struct.pack("<%df" % n, *([float("nan")] * n)))))
put("npz", "test-label-out-of-range.npz", npz(dataset(y_test=(1, 3))))
put("npz", "truncated.npz", npz(dataset())[:-30])
put("npz", "x.npy", npy("|u1", (2, 3), bytes(range(6))))
put("npz", "v2.npy", npy("<i2", (3,), struct.pack("<3h", -1, 0, 7), version=2))
put("npz", "v3.npy", npy("<f4", (2, 2), struct.pack("<4f", 1, 2, 3, 4), version=3))
put("npz", "fortran.npy", npy("<f4", (2, 2), struct.pack("<4f", 1, 2, 3, 4), fortran=True))
put("npz", "object.npy", npy("|O", (1,), b"\x80\x04N."))
put("npz", "claims-2e40-bytes.npy", npy("|u1", (1 << 20, 1 << 20), b"\x01"))

# --- archives (CIFAR's .tar.gz) -----------------------------------------------------------------------------

def tar(members, mode="w"):
    """members: list of (name, bytes, kind) with kind 'file', 'dir' or 'symlink'."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.GNU_FORMAT) as t:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = data.decode()
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


FOLDER = "cifar-10-batches-bin/"
train_bin = cifar10_record(4)
test_bin = cifar10_record(7, 30)
good = [(FOLDER, b"", "dir"), (FOLDER + "data_batch_1.bin", train_bin, "file"),
        (FOLDER + "test_batch.bin", test_bin, "file"), (FOLDER + "readme.html", b"<p>hi</p>", "file")]
put("archive", "good.tar", tar(good))
put("archive", "good.tar.gz", gz(tar(good)))
put("archive", "good.tar.bz2", tar(good, "w:bz2"))
put("archive", "good.tar.xz", tar(good, "w:xz"))
put("archive", "dot-slash-names.tar.gz",
    gz(tar([("./" + FOLDER + "data_batch_1.bin", train_bin, "file"), ("./" + FOLDER + "test_batch.bin", test_bin, "file")])))
put("archive", "missing-member.tar.gz", gz(tar(good[:2])))
put("archive", "wrong-size.tar.gz",
    gz(tar([(FOLDER + "data_batch_1.bin", train_bin + b"x", "file"), (FOLDER + "test_batch.bin", test_bin, "file")])))
put("archive", "symlink-member.tar.gz",
    gz(tar([(FOLDER + "data_batch_1.bin", b"/etc/passwd", "symlink"), (FOLDER + "test_batch.bin", test_bin, "file")])))
put("archive", "truncated.tar.gz", gz(tar(good))[:300])
put("archive", "not-an-archive", b"hello, this is not a tar file\n")

# --- sweep files -------------------------------------------------------------------------------------------

put("sweep_json", "preset-quick.json", '{"preset": "f1-fig2", "quick": true}\n')
put("sweep_json", "preset-override.json", json.dumps({
    "preset": "f1-fig2", "quick": True, "name": "mine", "batch_sizes": "50..150:50", "alphas": [1, "2..3"],
    "seeds": [1, 2], "loss_measure": "full", "optimizer": {"lr": 0.0005}}, indent=1))
put("sweep_json", "custom.json", json.dumps({
    "name": "custom-study", "configs": ["f1", "c1"], "batch_sizes": [100, 200], "alphas": "1..2:0.5", "seeds": "1..3",
    "dataset": "fashion-mnist", "train_subset": 1000, "max_iterations": 500, "eval_every": 10, "sampling": "iid",
    "l_star": 0.02, "l_stop": 0.002, "device": "cpu", "threads": 1, "blas_threads": 2, "init_model": "",
    "log_noise_scale": False, "bn_convention": "pytorch", "ghost_batch_size": 100,
    "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.0001, "beta1": 0.9, "beta2": 0.999,
                  "eps": 1e-7}}, indent=1))
put("sweep_json", "configs-string.json", '{"configs": "f1, C2", "batch_sizes": 500, "alphas": 1.5, "seeds": 0}')
put("sweep_json", "unknown-key.json", '{"batch_sise": [1]}')
put("sweep_json", "crossed-key.json", '{"alpha": 2}')
put("sweep_json", "wrong-type.json", '{"train_subset": "many"}')
put("sweep_json", "not-an-object.json", '[1, 2, 3]')
put("sweep_json", "broken.json", '{"alphas": [1, 2')

put("sweep_toml", "study.toml",
    'name = "lr-study"\nconfigs = ["f1"]\nbatch_sizes = [100, 1000]\nalphas = "1..2:0.5"\nseeds = "1..3"\n'
    'train_subset = 5000\n\n[optimizer]\nlr = 5e-4\n')
put("sweep_toml", "preset.toml", 'preset = "c1-table3"\nquick = true\nseeds = [1, 2]\nloss_measure = "full"\n')
put("sweep_toml", "inline.toml",
    'configs = "f1,c1"\nbatch_sizes = [100, "200..400:100"]\nalphas = [1.0, 1.5]\nseeds = 7\n'
    'optimizer = { name = "adamw", weight_decay = 0.01 }\nsampling = "iid"\n')
put("sweep_toml", "date.toml", 'name = 2026-11-28\n')
put("sweep_toml", "special-floats.toml", 'alphas = [nan, inf]\nl_star = -inf\n')
put("sweep_toml", "broken.toml", 'batch_sizes = [100,\n')
# The rest of TOML 1.0 that nesgd's reader (exp/toml.h) handles: every kind of
# string and escape, integer bases and separators, dotted keys, headers and
# arrays of tables, multi-line arrays with comments, CRLF, letters beyond ASCII.
put("sweep_toml", "toml-syntax.toml",
    '# a comment \u00e9\n"name" = "t\\u00e9\\t\\U0001F600\\"\\\\"\nconfigs = [\'f1\', """c1""", \'\'\'c2\'\'\',]\n'
    'seeds = [\n  0x1, 0o2, 0b11, # hex, octal, binary\n  1_000,\n]\nalphas = [+1.5, 2e0, 2_5.0e-1]\n'
    'optimizer.name = "adam"\noptimizer.lr = 1e-3\n[a.b]\nc = """\nx \\\n  y"""\n[[t]]\nk = {x = 1, y.z = [true]}\n'
    '[[t]]\r\n"\u00e9" = \'\'\'\nr\'\'\'\r\n')

# --- result store ------------------------------------------------------------------------------------------

config = {"model": "f1", "dataset": "fashion-mnist", "batch_size": 200, "alpha": 1.5, "seed": 2, "train_subset": 4000,
          "l_star": 0.01, "l_stop": 0.001, "loss_measure": "epoch-mean", "eval_every": 0, "max_iterations": 20000,
          "sampling": "epoch", "optimizer": {"name": "adam", "lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-7,
                                             "momentum": 0.0, "weight_decay": 0.0},
          "device": "cpu", "threads": 0, "blas_threads": 0}
run = {"run_id": "0123456789abcdef", "setting_id": "89abcdef", "config_name": "F1", "batch_size": 200, "alpha": 1.5,
       "seed": 2, "sweep": "f1-fig2-quick", "status": "converged", "iterations": 2100, "iterations_to_l_star": 1500,
       "test_accuracy": 0.846, "test_loss": 0.61, "train_loss": 0.0009, "wall_seconds": 12.5, "config": config,
       "environment": {"host": "vm", "threads": {"aten_threads": 1, "blas_threads": 2}},
       "worker": {"host": "vm", "pid": 1234},
       "curve": [{"iteration": 66, "lr": 0.001, "minibatch_loss": 0.46, "seconds": 9.6, "train_loss": 0.72}]}
put("store", "run.json", json.dumps(run, indent=2))
put("store", "run-minimal.json", json.dumps({"status": "not_converged", "config": {"model": "c1", "batch_size": 500}}))
put("store", "run-diverged.json", json.dumps(dict(run, status="diverged", test_accuracy=None)))
put("store", "sweep.json", json.dumps({"name": "f1-fig2-quick", "configs": ["f1"], "batch_sizes": [50, 100, 200],
                                       "alphas": [1, 1.5], "seeds": [1, 2, 3], "dataset": "", "base": config,
                                       "runs": 18, "run_ids": ["0123456789abcdef", "fedcba9876543210"]}, indent=2))
put("store", "marker.json", '{"format": "nesgd-store", "version": 1}\n')
put("store", "marker-newer.json", '{"format": "nesgd-store", "version": 99}\n')
put("store", "no-config.json", '{"run_id": "x", "status": "converged"}')
put("store", "array.json", '[{"run_id": "x"}]')
put("store", "broken.json", '{"run_id": "0123')

# --- model files: the model spec a LibTorch archive carries ----------------------------------------------------

put("model_spec", "f1.json", json.dumps({"name": "f1", "in_channels": 1, "height": 28, "width": 28, "num_classes": 10,
                                         "bn_convention": "keras", "ghost_batch_size": 100}))
put("model_spec", "c2.json", json.dumps({"name": "c2", "in_channels": 3, "height": 32, "width": 32, "num_classes": 100,
                                         "bn_convention": "pytorch", "ghost_batch_size": 50}))
put("model_spec", "old-c1.json", '{"name":"c1","in_channels":3,"height":32,"width":32,"num_classes":10}')
put("model_spec", "huge-input.json", '{"name":"f1","in_channels":3,"height":100000,"width":100000,"num_classes":10}')
put("model_spec", "wrong-type.json", '{"name":"f1","in_channels":"1","height":28,"width":28,"num_classes":10}')
put("model_spec", "missing.json", '{"name":"f1"}')
put("model_spec", "unknown.json", '{"name":"resnet50","in_channels":3,"height":224,"width":224,"num_classes":1000}')

# --- checkpoints: the training state a LibTorch archive carries ------------------------------------------------

MASK64 = (1 << 64) - 1


def mt19937_64_text(seed):
    """The text std::mt19937_64 writes with operator<< right after seeding."""
    mt = [seed & MASK64]
    for i in range(1, 312):
        mt.append((6364136223846793005 * (mt[-1] ^ (mt[-1] >> 62)) + i) & MASK64)
    return " ".join(str(v) for v in mt) + " 312"


def stream_state(n, batch, sampling, cursor, epoch, drawn, seed, order=None):
    order = order if order is not None else list(range(n))
    return (f"nesgd-stream-v1 {n} {batch} {sampling} {cursor} {epoch} {drawn}\n{mt19937_64_text(seed)}\n"
            + "".join(f"{v} " for v in order))


def checkpoint(stream_b, stream_b_prime, **extra):
    state = {"version": 1, "config": config, "iterations": 12, "iterations_to_l_star": -1, "samples_processed": 4800,
             "step_seconds": 1.5, "elapsed": 2.25, "last_train_loss": 0.75, "epoch_mean": [0.8, 0.7],
             "stream_b": stream_b, "stream_b_prime": stream_b_prime,
             "noise_tracker": "0x1.fae147ae147aep-1 0x0p+0 0x0p+0 0x0p+0 0",
             "curve": [[6, 0.9, 0.85, 0.001, 1.0, None, None, None], [12, 0.75, None, 0.001, 2.0, 3.5, 0.25, 0.875]]}
    state.update(extra)
    return json.dumps(state)


put("checkpoint", "ne-epoch.json",
    checkpoint(stream_state(8, 2, "epoch", 4, 3, 12, 11, [3, 1, 7, 0, 5, 2, 6, 4]), stream_state(8, 2, "epoch", 2, 3, 12, 12)))
put("checkpoint", "plain-iid.json", checkpoint(stream_state(6, 3, "iid", 0, 2, 12, 5), ""))
put("checkpoint", "noise-logged.json",
    checkpoint(stream_state(4, 4, "epoch", 4, 1, 1, 3), "", noise_tracker="0x1.fae147ae147aep-1 0x1.8p+0 0x1p-2 0x1.47ae147ae147cp-6 2",
               iterations_to_l_star=10))
put("checkpoint", "cursor-out-of-range.json", checkpoint(stream_state(8, 2, "epoch", -6, 3, 12, 11), ""))
put("checkpoint", "order-not-a-permutation.json",
    checkpoint(stream_state(4, 2, "epoch", 0, 1, 0, 11, [0, 0, 9, 1]), ""))
put("checkpoint", "old-version.json", checkpoint("", "", version=0))
put("checkpoint", "missing-fields.json", '{"version": 1, "config": {}}')
