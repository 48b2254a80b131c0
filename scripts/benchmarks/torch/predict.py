"""PyTorch twin of scripts/benchmarks/predict.lua: the latency of one sample through the
seeds' MLP or CNN, model(x) under torch.no_grad() in eval mode, as a host application
would call it. A rep times `inner` predictions of the same sample; a round's figure is
the median rep, per prediction; the best of `rounds` rounds is reported:
  torch_predict model=mlp threads=1 latency_us=...
OMP_WAIT_POLICY=passive unless the environment sets it (scripts/benchmarks/torch/mlp.py
says why), before torch is imported.
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import torch  # noqa: E402
from torch import nn  # noqa: E402


def build(name):
    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.25), nn.Linear(256, 128), nn.ReLU(),
                             nn.Dropout(0.25), nn.Linear(128, 10), nn.Softmax(dim=1)), torch.rand(1, 784)
    return nn.Sequential(nn.Conv2d(1, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(64, 128, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(128 * 5 * 5, 10),
                         nn.Softmax(dim=1)), torch.rand(1, 1, 28, 28)


def main():
    p = argparse.ArgumentParser()
    for opt, default in (("threads", 1), ("reps", 21), ("warmup", 3), ("rounds", 1), ("inner", 200)):
        p.add_argument("--" + opt, type=int, default=default)
    p.add_argument("--model", default="mlp", choices=("mlp", "cnn"))
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    model, x = build(a.model)
    model.eval()
    best = None
    with torch.no_grad():
        for _ in range(a.rounds):
            for _ in range(a.warmup):
                for _ in range(a.inner):
                    model(x)
            times = []
            for _ in range(a.reps):
                t0 = time.perf_counter()
                for _ in range(a.inner):
                    model(x)
                times.append((time.perf_counter() - t0) / a.inner)
            m = statistics.median(times)
            best = m if best is None else min(best, m)
    print(f"torch_predict model={a.model} threads={a.threads} latency_us={best * 1e6:.4g}")


if __name__ == "__main__":
    main()
