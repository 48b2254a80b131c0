--- The wide MLP: 784-1024-relu-dropout(0.25)-1024-relu-dropout(0.25)-10-softmax, batch 256,
-- against cblas_sgemm. It is scripts/benchmarks/mlp.lua --config wide; see there.
--   build/lurn scripts/benchmarks/mlp_wide.lua [--threads T] [mlp.lua's options]
table.insert(arg, 1, "--config")
table.insert(arg, 2, "wide")
dofile((arg[0]:match("^(.*)/") or ".") .. "/mlp.lua")
