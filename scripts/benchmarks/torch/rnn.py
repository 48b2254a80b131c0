"""PyTorch twin of scripts/benchmarks/rnn.lua: one training epoch of nn.LSTM(28, 128) or
nn.GRU(28, 128) (batch_first) over Fashion-MNIST images read as 28 timesteps of 28
pixels, the last step's output into Linear(128, 10), CrossEntropyLoss on the logits,
Adam(lr=0.001, eps=1e-7), batch 64, in the fastest honest PyTorch loop (pre-made float32
tensors, a shuffled index per epoch, no DataLoader). `warmup` untimed epochs on 3200
samples, then `reps` timed epochs; the median of the best of `rounds` rounds. Prints:
  torch_rnn threads=T median_s=... test_acc=... version=...
"""
import argparse
import gzip
import os
import statistics
import time

import numpy as np
import torch
from torch import nn


def read_idx(name):
    root = os.environ.get("LURN_DATA")
    folder = os.path.join(root, "fashion-mnist") if root else "/usr/share/datasets/fashion-mnist"
    with gzip.open(os.path.join(folder, name + ".gz")) as f:
        data = f.read()
    dims = data[3]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims)


class Classifier(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = {"LSTM": nn.LSTM, "GRU": nn.GRU}[cell](28, 128, batch_first=True)
        self.out = nn.Linear(128, 10)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.out(y[:, -1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cell", choices=["LSTM", "GRU"], default="LSTM")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=1)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--train_samples", type=int, default=60000)
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x = torch.from_numpy(read_idx("train-images-idx3-ubyte").reshape(-1, 28, 28).astype(np.float32) / 255)
    y = torch.from_numpy(read_idx("train-labels-idx1-ubyte").astype(np.int64))
    xt = torch.from_numpy(read_idx("t10k-images-idx3-ubyte").reshape(-1, 28, 28).astype(np.float32) / 255)
    yt = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte").astype(np.int64))
    x, y = x[:a.train_samples], y[:a.train_samples]

    def epoch(model, opt, xs, ys):
        model.train()
        perm = torch.randperm(xs.shape[0])
        lossf = nn.CrossEntropyLoss()
        for i in range(0, xs.shape[0], 64):
            idx = perm[i:i + 64]
            opt.zero_grad(set_to_none=True)
            loss = lossf(model(xs.index_select(0, idx)), ys.index_select(0, idx))
            loss.backward()
            opt.step()

    best, acc = None, None
    for _ in range(a.rounds):
        model = Classifier(a.cell)
        opt = torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-7)
        for _ in range(a.warmup):
            epoch(model, opt, x[:3200], y[:3200])
        times = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            epoch(model, opt, x, y)
            times.append(time.perf_counter() - t0)
        m = statistics.median(times)
        if best is None or m < best:
            best = m
            model.eval()
            with torch.no_grad():
                correct = sum(int((model(xt[i:i + 1000]).argmax(1) == yt[i:i + 1000]).sum())
                              for i in range(0, xt.shape[0], 1000))
            acc = correct / xt.shape[0]
    print("torch_rnn threads=%d median_s=%.4f test_acc=%.4f version=%s" % (a.threads, best, acc, torch.__version__))


if __name__ == "__main__":
    main()
