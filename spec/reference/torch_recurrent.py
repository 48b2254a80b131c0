"""PyTorch reference for spec/reference/torch_recurrent_spec.lua.

    torch_recurrent.py DIR

DIR/cases.json lists the cases: {"cases": [{"id":, "class_name": "SimpleRNN" | "LSTM" |
"GRU", "units":, "features":, "activation":, "use_bias":, "return_sequences":,
"go_backwards":, "states":}, ...]}. Case `id` has DIR/id/x.npy (batch, timesteps, features), dy.npy
and PyTorch's own weights weight_ih_l0.npy, weight_hh_l0.npy (and bias_ih_l0.npy,
bias_hh_l0.npy): lurn got the same ones through its conversion helper
(weights_from_torch). This script runs nn.RNN / nn.LSTM / nn.GRU (batch_first) in float64
and writes ref_y.npy, ref_dx.npy and ref_<weight name>.npy, the gradients in PyTorch's
layout. Keras' go_backwards is PyTorch on the input reversed in time (the output sequence
in the order processed); without return_sequences the output is the last step's. With
"states", DIR/id/h0.npy (and c0.npy for the LSTM) are the initial states (batch, units):
lurn's output packs, per sample, y flattened then h_n (and c_n), and its input the
sequence flattened then h_0 (and c_0), so ref_y.npy and ref_dx.npy are packed the same way
(dy.npy is the packed output's gradient).

Exits 77 when torch or numpy cannot be imported, so that the spec can skip.
"""
import json
import os
import sys

try:
    import numpy as np
    import torch
except ImportError as e:  # the spec reports "skipped"
    print(f"torch_recurrent: {e}", file=sys.stderr)
    sys.exit(77)

torch.set_num_threads(1)


def load(d, name, grad=False):
    t = torch.from_numpy(np.load(os.path.join(d, name)).astype(np.float64))
    return t.requires_grad_(grad)


def save(d, name, t):
    np.save(os.path.join(d, name), t.detach().cpu().numpy().astype(np.float64))


def run_case(root, case):
    d = os.path.join(root, case["id"])
    kind, units, features = case["class_name"], case["units"], case["features"]
    if kind == "SimpleRNN":
        m = torch.nn.RNN(features, units, batch_first=True, bias=case["use_bias"],
                         nonlinearity=case["activation"])
    else:
        m = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[kind](features, units, batch_first=True,
                                                               bias=case["use_bias"])
    m = m.double()
    names = ["weight_ih_l0", "weight_hh_l0"] + (["bias_ih_l0", "bias_hh_l0"] if case["use_bias"] else [])
    with torch.no_grad():
        for name in names:
            getattr(m, name).copy_(load(d, name + ".npy"))
    x = load(d, "x.npy", grad=True)
    xi = torch.flip(x, [1]) if case["go_backwards"] else x
    if not case.get("states"):
        out, _ = m(xi)
        y = out if case["return_sequences"] else out[:, -1]
        y.backward(load(d, "dy.npy"))
        save(d, "ref_y.npy", y)
        save(d, "ref_dx.npy", x.grad)
    else:
        h0 = load(d, "h0.npy", grad=True)
        c0 = load(d, "c0.npy", grad=True) if kind == "LSTM" else None
        init = (h0.unsqueeze(0), c0.unsqueeze(0)) if c0 is not None else h0.unsqueeze(0)
        out, final = m(xi, init)
        y = out if case["return_sequences"] else out[:, -1]
        finals = [final[0][0], final[1][0]] if c0 is not None else [final[0]]
        n = x.shape[0]
        packed = torch.cat([y.reshape(n, -1)] + finals, 1)
        packed.backward(load(d, "dy.npy"))
        save(d, "ref_y.npy", packed)
        grads = [x.grad.reshape(n, -1), h0.grad] + ([c0.grad] if c0 is not None else [])
        save(d, "ref_dx.npy", torch.cat(grads, 1))
    for name in names:
        save(d, f"ref_{name}.npy", getattr(m, name).grad)


def main():
    if len(sys.argv) != 2:
        print("usage: torch_recurrent.py DIR", file=sys.stderr)
        return 2
    root = sys.argv[1]
    with open(os.path.join(root, "cases.json")) as f:
        cases = json.load(f)["cases"]
    for case in cases:
        run_case(root, case)
    return 0


if __name__ == "__main__":
    sys.exit(main())
