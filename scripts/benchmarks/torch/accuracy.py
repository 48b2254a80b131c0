"""The seeds' models in PyTorch with Keras' defaults, for comparing test accuracies with
lurn's examples (examples/fashion_mnist_mlp.lua, examples/fashion_mnist_cnn.lua) over
several seeds: glorot_uniform kernels and zero biases (Keras' initialisers), Adam(lr=0.001,
eps=1e-7), batch 32, a new shuffle each epoch, softmax cross-entropy on the logits.
  mlp: 784-256-relu-dropout(0.25)-128-relu-dropout(0.25)-10
  cnn: Conv2d(64, 3) ReLU MaxPool(2) Conv2d(128, 3) ReLU MaxPool(2) Flatten Linear(3200, 10)
Prints one line per run: `torch_accuracy model=... seed=... epochs=... test_acc=a1,a2,...`
(the test accuracy after each epoch).
  /usr/bin/python3 scripts/benchmarks/torch/accuracy.py --model mlp --epochs 5 --seed 1
"""
import argparse
import gzip
import os

import numpy as np
import torch
from torch import nn


def read_idx(name):
    root = os.environ.get("LURN_DATA")
    folder = os.path.join(root, "fashion-mnist") if root else "/usr/share/datasets/fashion-mnist"
    with gzip.open(os.path.join(folder, name + ".gz")) as f:
        data = f.read()
    return np.frombuffer(data, np.uint8, offset=4 + 4 * data[3])


def model_for(name):
    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.25), nn.Linear(256, 128), nn.ReLU(),
                             nn.Dropout(0.25), nn.Linear(128, 10))
    return nn.Sequential(nn.Conv2d(1, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(64, 128, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3200, 10))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    shape = (-1, 784) if a.model == "mlp" else (-1, 1, 28, 28)
    x = torch.from_numpy(read_idx("train-images-idx3-ubyte").reshape(shape).astype(np.float32) / 255)
    y = torch.from_numpy(read_idx("train-labels-idx1-ubyte").astype(np.int64))
    xt = torch.from_numpy(read_idx("t10k-images-idx3-ubyte").reshape(shape).astype(np.float32) / 255)
    yt = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte").astype(np.int64))
    model = model_for(a.model)
    for m in model:
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)  # Keras' glorot_uniform: same fans for conv kernels
            nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    accs = []
    for _ in range(a.epochs):
        model.train()
        order = torch.randperm(x.shape[0])
        for i in range(0, x.shape[0], 32):
            idx = order[i:i + 32]
            opt.zero_grad()
            loss_fn(model(x.index_select(0, idx)), y.index_select(0, idx)).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            accs.append(float((model(xt).argmax(1) == yt).float().mean()))
    print("torch_accuracy model=%s seed=%d epochs=%d test_acc=%s" %
          (a.model, a.seed, a.epochs, ",".join("%.4f" % v for v in accs)), flush=True)


if __name__ == "__main__":
    main()
