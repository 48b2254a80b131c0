"""PyTorch twin of scripts/benchmarks/mlp.lua: one training epoch of a multilayer
perceptron on Fashion-MNIST, in the fastest honest PyTorch loop.

The model of the seeds (--config seed) or its wide variant (--config wide):
  seed: 784-256-relu-dropout(0.25)-128-relu-dropout(0.25)-10, batch 32
  wide: 784-1024-relu-dropout(0.25)-1024-relu-dropout(0.25)-10, batch 256
nn.Linear/ReLU/Dropout, CrossEntropyLoss on the logits (softmax + sparse categorical
cross-entropy in one), Adam(lr=0.001, eps=1e-7: Keras' epsilon). The data are read
from the same IDX files as lurn reads (Debian's dataset-fashion-mnist, or
LURN_DATA/fashion-mnist/) with gzip and numpy, scaled to [0, 1] once, and held as
float32 tensors; each epoch draws a shuffled index and gathers its batches with
index_select: no DataLoader, no per-sample Python. The running loss and accuracy are
kept as lurn's fit keeps them (metrics = {"accuracy"}), as tensors, without a
per-batch .item().

Debian's torch runs its operators on an OpenMP pool and its matrix products on
OpenBLAS's own pthreads pool (libopenblas0-pthread). With OpenMP's default active
waiting, the idle OpenMP threads spin while OpenBLAS works and the two pools fight
over the cores: at 2 threads on 2 cores an epoch took 1.8 to 3 times longer than
with passive waiting on a quiet machine, up to 6 times with other jobs running
(docs/benchmarks.md). So that lurn is compared with the fastest
PyTorch, this script sets OMP_WAIT_POLICY=passive unless the environment sets it;
it has to be set before torch is imported.

Timed as scripts/benchmarks/mlp.lua times lurn: `warmup` untimed epochs on the first
WARMUP_SAMPLES samples, then `reps` full epochs each timed on its own; a round's figure
is their median, the best of `rounds` rounds is reported. Prints one line:
  torch_mlp config=seed threads=1 ... median_s=... gflops=... test_acc=... peak_rss_mb=...
"""
import argparse
import gzip
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np  # noqa: E402 (after the environment is set)
import torch  # noqa: E402
from torch import nn  # noqa: E402

CONFIGS = {
    "seed": {"hidden": (256, 128), "batch_size": 32},
    "wide": {"hidden": (1024, 1024), "batch_size": 256},
}


def data_dir():
    root = os.environ.get("LURN_DATA")
    return os.path.join(root, "fashion-mnist") if root else "/usr/share/datasets/fashion-mnist"


def read_idx(name):
    path = os.path.join(data_dir(), name)
    with (gzip.open(path + ".gz") if os.path.exists(path + ".gz") else open(path, "rb")) as f:
        raw = f.read()
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_data():
    def images(name):
        return torch.from_numpy(read_idx(name).reshape(-1, 784).astype(np.float32) / 255)

    def labels(name):
        return torch.from_numpy(read_idx(name).astype(np.int64))

    return (images("train-images-idx3-ubyte"), labels("train-labels-idx1-ubyte"),
            images("t10k-images-idx3-ubyte"), labels("t10k-labels-idx1-ubyte"))


def build(hidden, rate=0.25):
    layers, width = [], 784
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(rate)]
        width = h
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def train_flops_per_sample(hidden):
    """GEMM floating-point operations of one training step, per sample: 2*in*out for
    each Dense forward, twice that backward (dW and dx), less the first layer's dx."""
    widths = (784,) + tuple(hidden) + (10,)
    forward = sum(2 * a * b for a, b in zip(widths, widths[1:]))
    return 3 * forward - 2 * widths[0] * widths[1]


def epoch(model, opt, loss_fn, x, y, batch_size):
    model.train()
    n = x.shape[0]
    order = torch.randperm(n)
    loss_sum = torch.zeros(())
    correct = torch.zeros((), dtype=torch.int64)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        xb, yb = x.index_select(0, idx), y.index_select(0, idx)
        logits = model(xb)
        loss = loss_fn(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            loss_sum += loss.detach() * xb.shape[0]
            correct += (logits.argmax(1) == yb).sum()
    return loss_sum.item() / n, correct.item() / n


def test_accuracy(model, x, y, batch_size):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            correct += (model(x[start:start + batch_size]).argmax(1) == y[start:start + batch_size]).sum().item()
    return correct / x.shape[0]


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", choices=sorted(CONFIGS), default="seed")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--reps", type=int, default=1)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--warmup_samples", type=int, default=6400)
    p.add_argument("--seed", type=int, default=42)
    o = p.parse_args()
    cfg = CONFIGS[o.config]
    torch.set_num_threads(o.threads)
    torch.manual_seed(o.seed)
    x_train, y_train, x_test, y_test = load_data()
    n, batch_size = x_train.shape[0], cfg["batch_size"]
    loss_fn = nn.CrossEntropyLoss()

    best = acc = None
    for _ in range(o.rounds):
        model = build(cfg["hidden"])
        opt = torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-7)
        for _ in range(o.warmup):
            epoch(model, opt, loss_fn, x_train[:o.warmup_samples], y_train[:o.warmup_samples], batch_size)
        times = []
        for _ in range(o.reps):
            t0 = time.perf_counter()
            epoch(model, opt, loss_fn, x_train, y_train, batch_size)
            times.append(time.perf_counter() - t0)
        s = statistics.median(times)
        if best is None or s < best:
            best, acc = s, test_accuracy(model, x_test, y_test, batch_size)

    gflops = train_flops_per_sample(cfg["hidden"]) * n / best / 1e9
    print(f"torch_mlp config={o.config} threads={torch.get_num_threads()} batch_size={batch_size} "
          f"reps={o.reps} rounds={o.rounds} median_s={best:.6g} samples_per_s={n / best:.1f} "
          f"gflops={gflops:.2f} test_acc={acc:.4f} peak_rss_mb={peak_rss_mb():.1f} "
          f"omp_wait_policy={os.environ['OMP_WAIT_POLICY']} version={torch.__version__}")


if __name__ == "__main__":
    main()
