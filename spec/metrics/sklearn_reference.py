"""scikit-learn's answers for the cases of sklearn_cases.lua, printed as a Lua table.

Reads the cases as JSON on stdin ([{"name", "fn", "args", "opts"}]) and prints
`return { [name] = result, ... }` where result is what sklearn.metrics.<fn> returns, arrays
as lists, tuples as lists, None as false, NaN as 0/0. Run through sklearn_reference.lua.
"""
import json
import math
import sys
import warnings

import numpy as np
import sklearn.metrics as metrics

warnings.simplefilter("ignore")


def lua(v):
    if isinstance(v, np.ndarray):
        return lua(v.tolist())
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    if isinstance(v, dict):
        return "{" + ", ".join("[%s] = %s" % (lua(k), lua(x)) for k, x in v.items()) + "}"
    if v is None:
        return "false"
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if math.isnan(v):
        return "0/0"
    if math.isinf(v):
        return "math.huge" if v > 0 else "-math.huge"
    return repr(v)


def call(case):
    opts = dict(case.get("opts") or {})
    if opts.get("average", 0) is False:
        opts["average"] = None
    args = [np.asarray(a) for a in case["args"]]
    return getattr(metrics, case["fn"])(*args, **opts)


cases = json.load(sys.stdin)
print("return {")
for case in cases:
    print("  [%s] = %s," % (json.dumps(case["name"]), lua(call(case))))
print("}")
