--- Image augmentation throughput: ImageDataGenerator{rotation_range = 15,
-- width_shift_range = 0.1, height_shift_range = 0.1, zoom_range = 0.1, horizontal_flip = true}
-- on batches of BATCH images, 28x28x1 (MNIST-like) and 32x32x3 (CIFAR-like), in
-- images per second: the C augmentation alone (draw + warp of a batch), and a whole
-- batch from flow() (gather by a shuffled index, augment, rescale, labels).
-- Target: flow() at no less than 20,000 28x28x1 images/s per thread used, so that
-- augmentation never holds back training a small network.
--   build/lurn scripts/benchmarks/augment.lua [--threads T] [--batch 32] [--images 4096]
--                                             [--reps 21] [--warmup 3] [--rounds 3]
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local lurn = lurn or require "lurn"
local harness = require "harness"

local TARGET_PER_THREAD = 20000

local o = harness.options {batch = 32, images = 4096}
local image = lurn.preprocessing.image
local options = {rotation_range = 15, width_shift_range = 0.1, height_shift_range = 0.1, zoom_range = 0.1,
                 horizontal_flip = true}

local shapes = {{28, 28, 1}, {32, 32, 3}}
lurn.manual_seed(1)
local rows, fields = {}, {{"batch", o.batch}}
for _, s in ipairs(shapes) do
  local h, w, c = s[1], s[2], s[3]
  local x = lurn.rand {o.images, h, w, c} * 255
  local y = lurn.arange(o.images)
  local datagen = image.ImageDataGenerator(options)
  local batch = x:narrow(1, 1, o.batch):contiguous()
  local out = lurn.zeros(batch:shape())
  local aug = lurn.core.augmenter(datagen._config, 1)
  local with_rescale = {rescale = 1 / 255}
  for k, v in pairs(options) do with_rescale[k] = v end
  local it = image.ImageDataGenerator(with_rescale):flow(x, y, {batch_size = o.batch, seed = 1})
  local best = harness.rounds(o, {
    {"augment", function() return harness.time(function() aug:augment(batch, out) end, o).median end},
    {"flow", function() return harness.time(function() it() end, o).median end},
  })
  local name = ("%dx%dx%d"):format(h, w, c)
  rows[#rows + 1] = {name, o.batch / best.augment, o.batch / best.flow, best.flow}
  fields[#fields + 1] = {"augment_" .. name .. "_img_per_s", o.batch / best.augment}
  fields[#fields + 1] = {"flow_" .. name .. "_img_per_s", o.batch / best.flow}
end

local target = TARGET_PER_THREAD * o.threads
local verdict = rows[1][3] >= target and "PASS" or "FAIL"
print(("augment: rotation + shift + zoom + flip, batches of %d, %d thread(s), median of %d, best of %d round(s)")
  :format(o.batch, o.threads, o.reps, o.rounds))
for _, r in ipairs(rows) do
  print(("  %-9s  augment %10.0f images/s   flow() %10.0f images/s  (%.3f ms a batch)"):format(r[1], r[2], r[3],
    r[4] * 1e3))
end
print(("  target: flow() 28x28x1 >= %d images/s (%d per thread): %s"):format(target, TARGET_PER_THREAD, verdict))
fields[#fields + 1] = {"target", target}
fields[#fields + 1] = {"verdict", verdict}
harness.result("augment", o.threads, fields)
