"""PyTorch reference for spec/torch_reference_spec.lua.

    torch_reference.py DIR

DIR/cases.json lists the cases the spec wrote: {"cases": [{"id": ..., "class_name": ...,
"config": {...}, "training": bool, "weights": n}, ...]}. Case `id` has DIR/id/x.npy (the
channels-last input), w1.npy .. wn.npy (the layer's weights in Keras order and layout)
and dy.npy (the upstream gradient). For each case this script builds the same layer in
PyTorch, runs it forward and backward in float64 (the float32 inputs convert exactly, so
the reference carries no rounding of its own worth speaking of) and writes, as float64,
ref_y.npy, ref_dx.npy, ref_g1.npy .. (gradients of the trainable weights, Keras layout)
and, for BatchNormalization in training, ref_moving_mean.npy (torch's running_mean, which
is Keras' moving mean) and ref_moving_variance.npy (Keras' update) beside
torch_running_var.npy (PyTorch's own, see below).

Exits 77 when torch or numpy cannot be imported, so that the spec can skip.

Translation from Keras (channels-last) to PyTorch (channels-first):
- images (N, H, W, C) -> (N, C, H, W); Conv2D kernels (kh, kw, in, out) -> (out, in, kh, kw).
- "same" padding is TensorFlow's: out = ceil(in / stride), total padding
  max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0), the odd pixel at the
  bottom/right. PyTorch pads symmetrically, so the input is padded explicitly (F.pad)
  and the convolution or pooling then runs "valid".
- AveragePooling2D "same" averages over the elements inside the image only. PyTorch's
  count_include_pad=False does that only for its own symmetric padding (at most k // 2
  a side), which cannot express TensorFlow's asymmetric one; so the window sums of the
  zero-padded input are divided by the window sums of a padded mask of ones.
- MaxPooling2D "same" pads with -inf.
- BatchNormalization momentum m (Keras: moving = m * moving + (1 - m) * batch) is PyTorch's
  momentum 1 - m. PyTorch updates running_var with the unbiased batch variance
  (n / (n - 1) times the biased one); Keras (2's non-fused path and 3) and lurn use the
  biased variance, so the expected moving variance is computed here from the biased
  variance of the same batch; torch's own running_var is written beside it.
"""
import json
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:  # the spec reports "skipped"
    print(f"torch_reference: {e}", file=sys.stderr)
    sys.exit(77)

torch.set_num_threads(1)
DT = torch.float64


def load(d, name, grad=False):
    t = torch.from_numpy(np.load(os.path.join(d, name)).astype(np.float64))
    return t.requires_grad_(grad)


def save(d, name, t):
    np.save(os.path.join(d, name), t.detach().cpu().numpy().astype(np.float64))


def nchw(t):
    return t.permute(0, 3, 1, 2)


def nhwc(t):
    return t.permute(0, 2, 3, 1)


def tf_same(size, k, stride, dilation=1):
    """(before, after) padding of TensorFlow's "same" along one dimension."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def pad_same(x, k, stride, dilation, value=0.0):
    """Pads an NCHW tensor as TensorFlow's "same" does."""
    top, bottom = tf_same(x.shape[2], k[0], stride[0], dilation[0])
    left, right = tf_same(x.shape[3], k[1], stride[1], dilation[1])
    return F.pad(x, (left, right, top, bottom), value=value)


def activate(y, name, dim):
    if name in (None, "linear"):
        return y
    if name == "relu":
        return F.relu(y)
    if name == "tanh":
        return torch.tanh(y)
    if name == "sigmoid":
        return torch.sigmoid(y)
    if name == "softmax":
        return torch.softmax(y, dim=dim)
    if name == "gelu":
        return F.gelu(y)
    raise ValueError(f"no reference for activation {name!r}")


def conv2d(case, x, w):
    c = case["config"]
    k, s, dl = c["kernel_size"], c["strides"], c["dilation_rate"]
    kernel = w[0].permute(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
    bias = w[1] if c["use_bias"] else None
    xi = nchw(x)
    if c["padding"] == "same":
        xi = pad_same(xi, k, s, dl)
    y = F.conv2d(xi, kernel, bias, stride=s, dilation=dl)
    return nhwc(activate(y, c["activation"], 1))


def conv1d(case, x, w):
    """Keras' Conv1D through nn.functional.conv1d: kernel (k, in, out) -> (out, in, k)."""
    c = case["config"]
    k, s, dl = c["kernel_size"][0], c["strides"][0], c["dilation_rate"][0]
    kernel = w[0].permute(2, 1, 0)
    bias = w[1] if c["use_bias"] else None
    xi = x.permute(0, 2, 1)  # (N, steps, C) -> (N, C, steps)
    if c["padding"] == "same":
        xi = F.pad(xi, tf_same(xi.shape[2], k, s, dl))
    elif c["padding"] == "causal":
        xi = F.pad(xi, ((k - 1) * dl, 0))
    y = F.conv1d(xi, kernel, bias, stride=s, dilation=dl)
    return activate(y, c["activation"], 1).permute(0, 2, 1)


def pool1d(case, x, w):
    """A sequence (N, steps, C) as an image (N, 1, steps, C) one row high."""
    c = dict(case["config"])
    c["pool_size"], c["strides"] = (1, c["pool_size"][0]), (1, c["strides"][0])
    kind = case["class_name"].replace("1D", "2D")
    return pool2d({"config": c, "class_name": kind}, x.unsqueeze(1), w).squeeze(1)


def pool2d(case, x, w):
    c, kind = case["config"], case["class_name"]
    k, s = c["pool_size"], c["strides"]
    xi = nchw(x)
    if kind == "MaxPooling2D":
        if c["padding"] == "same":
            xi = pad_same(xi, k, s, (1, 1), value=float("-inf"))
        return nhwc(F.max_pool2d(xi, k, s))
    if c["padding"] == "valid":
        return nhwc(F.avg_pool2d(xi, k, s))
    ones = torch.ones_like(xi[:1, :1])
    total = F.avg_pool2d(pad_same(xi, k, s, (1, 1)), k, s)
    count = F.avg_pool2d(pad_same(ones, k, s, (1, 1)), k, s)
    return nhwc(total / count)


def global_pool(case, x, w):
    keep = case["config"].get("keepdims", False)
    if case["class_name"] == "GlobalAveragePooling2D":
        return x.mean(dim=(1, 2), keepdim=keep)
    return x.amax(dim=(1, 2), keepdim=keep)


def dense(case, x, w):
    c = case["config"]
    y = F.linear(x, w[0].t(), w[1] if c["use_bias"] else None)
    return activate(y, c["activation"], -1)


def batchnorm(case, x, w, out_dir):
    c = case["config"]
    gamma, beta = w[0], w[1]
    moving_mean, moving_var = w[2].detach().clone(), w[3].detach().clone()
    xi = nchw(x) if x.dim() == 4 else x
    m = c["momentum"]
    y = F.batch_norm(xi, moving_mean, moving_var, gamma, beta, training=case["training"],
                     momentum=1 - m, eps=c["epsilon"])
    if case["training"]:
        dims = [d for d in range(xi.dim()) if d != 1]
        with torch.no_grad():
            mean = xi.mean(dim=dims)
            var = xi.var(dim=dims, unbiased=False)
            if not torch.allclose(moving_mean, m * w[2] + (1 - m) * mean, rtol=1e-12, atol=1e-12):
                raise ValueError(f"{case['id']}: torch's running_mean is not Keras' moving mean")
            save(out_dir, "ref_moving_mean.npy", moving_mean)
            save(out_dir, "ref_moving_variance.npy", m * w[3] + (1 - m) * var)
            save(out_dir, "torch_running_var.npy", moving_var)
    return nhwc(y) if x.dim() == 4 else y


# class name -> (forward, indices of the trainable weights, in Keras order)
LAYERS = {
    "Conv2D": (conv2d, lambda c: [0, 1] if c["use_bias"] else [0]),
    "Conv1D": (conv1d, lambda c: [0, 1] if c["use_bias"] else [0]),
    "MaxPooling1D": (pool1d, lambda c: []),
    "AveragePooling1D": (pool1d, lambda c: []),
    "Dense": (dense, lambda c: [0, 1] if c["use_bias"] else [0]),
    "MaxPooling2D": (pool2d, lambda c: []),
    "AveragePooling2D": (pool2d, lambda c: []),
    "GlobalMaxPooling2D": (global_pool, lambda c: []),
    "GlobalAveragePooling2D": (global_pool, lambda c: []),
    "BatchNormalization": (None, lambda c: [0, 1]),
}


def run_case(root, case):
    d = os.path.join(root, case["id"])
    forward, trainable = LAYERS[case["class_name"]]
    trained = trainable(case["config"])
    x = load(d, "x.npy", grad=True)
    w = [load(d, f"w{i + 1}.npy", grad=i in trained) for i in range(case["weights"])]
    if case["class_name"] == "BatchNormalization":
        y = batchnorm(case, x, w, d)
    else:
        y = forward(case, x, w)
    dy = load(d, "dy.npy")
    if tuple(dy.shape) != tuple(y.shape):
        raise ValueError(f"{case['id']}: dy has shape {tuple(dy.shape)}, the output {tuple(y.shape)}")
    y.backward(dy)
    save(d, "ref_y.npy", y)
    save(d, "ref_dx.npy", x.grad)
    for i in trained:
        save(d, f"ref_g{i + 1}.npy", w[i].grad)


def main():
    if len(sys.argv) != 2:
        print("usage: torch_reference.py DIR", file=sys.stderr)
        return 2
    root = sys.argv[1]
    with open(os.path.join(root, "cases.json")) as f:
        cases = json.load(f)["cases"]
    for case in cases:
        run_case(root, case)
    print(f"torch_reference: {len(cases)} cases, torch {torch.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
