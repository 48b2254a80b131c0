-- lurn.preprocessing.image: exact results on tiny images (flips, one-pixel shifts in each
-- fill mode, rotations by 90 degrees), the bilinear warp against scipy.ndimage, every
-- augmented image still paired with its label through epochs, featurewise statistics
-- against hand values, seeds that repeat batches at any thread count, and the errors.
local lurn = require "lurn"
local helpers = require "helpers.image_helpers"
local image = require "lurn.preprocessing.image"

local ImageDataGenerator = image.ImageDataGenerator

local function flat(t) return t:reshape{-1}:totable() end

local assert_all_close = helpers.assert_all_close

-- One image (h, w, 1) from a table of rows.
local function img(rows) return lurn.tensor(rows):reshape{#rows, #rows[1], 1} end

local function error_matching(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error matching " .. pattern)
  assert.truthy(tostring(err):find(pattern), ("error '%s' does not match '%s'"):format(tostring(err), pattern))
end

-- 4 x 4 image 1..16, row by row.
local x44 = lurn.arange(1, 17):reshape{4, 4, 1}

describe("apply_affine_transform", function()
  it("rotates by multiples of 90 degrees exactly, about the image centre", function()
    local x = img{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}
    -- As Keras (keras-preprocessing 1.1): out(r, c) = x(M (r, c)) with M a rotation in
    -- (row, col) coordinates, so theta = 90 gives out[i][j] = x[n - 1 - j][i].
    assert.same({7, 4, 1, 8, 5, 2, 9, 6, 3}, flat(image.apply_affine_transform(x, {theta = 90})))
    assert.same({9, 8, 7, 6, 5, 4, 3, 2, 1}, flat(image.apply_affine_transform(x, {theta = 180})))
    assert.same({3, 6, 9, 2, 5, 8, 1, 4, 7}, flat(image.apply_affine_transform(x, {theta = -90})))
    -- even sizes turn about the corner between the four middle pixels
    assert.same({13, 9, 5, 1, 14, 10, 6, 2, 15, 11, 7, 3, 16, 12, 8, 4},
      flat(image.apply_affine_transform(x44, {theta = 90, fill_mode = "constant", cval = -1})))
  end)

  it("shifts by one pixel with each fill mode", function()
    local x = img{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}
    -- ty = 1: each output pixel reads the one to its right, so the image moves left and
    -- the last column is filled.
    local cases = {
      constant = {2, 3, -1, 5, 6, -1, 8, 9, -1},
      nearest = {2, 3, 3, 5, 6, 6, 8, 9, 9},
      reflect = {2, 3, 3, 5, 6, 6, 8, 9, 9},
      wrap = {2, 3, 1, 5, 6, 4, 8, 9, 7},
    }
    for mode, want in pairs(cases) do
      assert.same(want, flat(image.apply_affine_transform(x, {ty = 1, fill_mode = mode, cval = -1})), mode)
    end
    -- tx = -1: each output pixel reads the one above, so the image moves down.
    local down = {
      constant = {-1, -1, -1, 1, 2, 3, 4, 5, 6},
      nearest = {1, 2, 3, 1, 2, 3, 4, 5, 6},
      reflect = {1, 2, 3, 1, 2, 3, 4, 5, 6},
      wrap = {7, 8, 9, 1, 2, 3, 4, 5, 6},
    }
    for mode, want in pairs(down) do
      assert.same(want, flat(image.apply_affine_transform(x, {tx = -1, fill_mode = mode, cval = -1})), mode)
    end
    -- two pixels beyond a 3-pixel edge: reflect mirrors (c b a | a b c), nearest repeats
    local row = img{{1, 2, 3}}
    assert.same({3, 3, 2}, flat(image.apply_affine_transform(row, {ty = 2, fill_mode = "reflect"})))
    assert.same({3, 3, 3}, flat(image.apply_affine_transform(row, {ty = 2, fill_mode = "nearest"})))
    assert.same({3, 1, 2}, flat(image.apply_affine_transform(row, {ty = 2, fill_mode = "wrap"})))
  end)

  it("interpolates bilinearly as scipy.ndimage.affine_transform(order = 1) in each fill mode", function()
    -- scipy 1.10, matrix built as Keras builds it, centre ((h-1)/2, (w-1)/2); "wrap"
    -- against scipy's "grid-wrap" (period = size, as Keras documents wrap).
    local p = {theta = 30, tx = 0.3, shear = 10, zx = 1.2, zy = 0.9, cval = -1}
    local want = {
      constant = {-1, 3.366145, -1, -1, 9.747663, 8.123067, 6.498472, 4.873876, -1, 12.879989, 11.255394,
                  9.630798, -1, -1, -1, -1},
      nearest = {5.274901, 3.366145, 2.094720, 2.784160, 9.747663, 8.123067, 6.498472, 4.873876, 13.915840,
                 12.879989, 11.255394, 9.630798, 14.515840, 15.205280, 15.894720, 13.803560},
      reflect = {5.274901, 3.366145, 2.094720, 2.784160, 9.747663, 8.123067, 6.498472, 4.873876, 13.915840,
                 12.879989, 11.255394, 9.630798, 13.770174, 15.205280, 15.894720, 13.803560},
      wrap = {6.127381, 3.366145, 3.154230, 10.785777, 9.747663, 8.123067, 6.498472, 4.873876, 12.149606,
              12.879989, 11.255394, 9.630798, 3.261506, 7.910387, 15.541933, 12.051080},
    }
    for mode, values in pairs(want) do
      p.fill_mode = mode
      assert_all_close(values, flat(image.apply_affine_transform(x44, p)), 1e-5)
    end
  end)

  it("treats rows and columns apart on a non-square image with two channels", function()
    local x = lurn.arange(30):reshape{3, 5, 2}
    local y = image.apply_affine_transform(x, {theta = -20, ty = -0.7, zx = 0.8, zy = 1.1})
    assert.same({3, 5, 2}, y:shape())
    assert_all_close({0, 1, 1.164339, 2.164339, 3.319981, 4.319981, 9.149526, 10.149526, 14.979071, 15.979071,
                      0.081416, 1.081416, 4.460744, 5.460744, 10.290289, 11.290289, 16.119835, 17.119835,
                      21.949380, 22.949380, 7.598957, 8.598957, 11.431053, 12.431053, 17.260598, 18.260598,
                      23.090143, 24.090143, 26.271846, 27.271846}, flat(y), 1e-5)
  end)

  it("samples the nearest pixel with order = 0", function()
    local y = image.apply_affine_transform(x44, {theta = 30, zx = 1.3, zy = 0.7, order = 0})
    assert.same({1, 1, 2, 2, 5, 6, 6, 3, 14, 11, 11, 12, 15, 15, 16, 16}, flat(y))
  end)

  it("returns a copy and leaves the input alone", function()
    local x = x44:clone()
    local y = image.apply_affine_transform(x, {})
    assert.same(flat(x44), flat(y))
    y:fill(0)
    assert.same(flat(x44), flat(x))
  end)
end)

describe("ImageDataGenerator:apply_transform", function()
  local gen = ImageDataGenerator()
  local x = img{{1, 2, 3}, {4, 5, 6}}

  it("flips horizontally and vertically", function()
    assert.same({3, 2, 1, 6, 5, 4}, flat(gen:apply_transform(x, {flip_horizontal = true})))
    assert.same({4, 5, 6, 1, 2, 3}, flat(gen:apply_transform(x, {flip_vertical = true})))
    assert.same({6, 5, 4, 3, 2, 1}, flat(gen:apply_transform(x, {flip_horizontal = true, flip_vertical = true})))
  end)

  it("flips after the warp, as Keras", function()
    -- shift left by one (nearest fill), then mirror: 2 3 3 -> 3 3 2
    assert.same({3, 3, 2, 6, 6, 5}, flat(gen:apply_transform(x, {ty = 1, flip_horizontal = true})))
  end)

  it("scales brightness and clips to the image's range", function()
    local y = img{{0, 1, 2, 4}}
    assert.same({0, 2, 4, 4}, flat(gen:apply_transform(y, {brightness = 2})))
    assert.same({0, 0.5, 1, 2}, flat(gen:apply_transform(y, {brightness = 0.5})))
  end)

  it("shifts every channel by the same intensity, clipped to the image's range", function()
    local y = lurn.tensor{0, 10, 1, 11, 2, 12}:reshape{1, 3, 2}
    assert.same({1, 11, 2, 12, 3, 12}, flat(gen:apply_transform(y, {channel_shift_intensity = 1})))
  end)
end)

describe("ImageDataGenerator:get_random_transform", function()
  it("draws each parameter in its range, as Keras", function()
    local gen = ImageDataGenerator{rotation_range = 10, width_shift_range = 0.1, height_shift_range = 3,
                                   shear_range = 5, zoom_range = 0.2, horizontal_flip = true,
                                   brightness_range = {0.5, 1.5}}
    local flips = 0
    for s = 1, 200 do
      local p = gen:get_random_transform({20, 30, 1}, s)
      assert(p.theta >= -10 and p.theta <= 10)
      assert(math.abs(p.ty) <= 3)           -- 0.1 of the width 30
      assert(p.tx == math.floor(p.tx) and math.abs(p.tx) <= 2) -- an integer 3: one of -2..2 pixels
      assert(p.shear >= -5 and p.shear <= 5)
      assert(p.zx >= 0.8 and p.zx <= 1.2 and p.zy >= 0.8 and p.zy <= 1.2 and p.zx ~= p.zy)
      assert(p.brightness >= 0.5 and p.brightness <= 1.5)
      assert.is_false(p.flip_vertical)
      assert.is_nil(p.channel_shift_intensity)
      if p.flip_horizontal then flips = flips + 1 end
    end
    assert(flips > 60 and flips < 140, "flips about half the time: " .. flips)
  end)

  it("picks from a list of shifts with a random sign", function()
    local gen = ImageDataGenerator{width_shift_range = {2, 5}}
    local seen = {}
    for s = 1, 100 do seen[gen:get_random_transform({8, 8, 1}, s).ty] = true end
    assert.same({[-5] = true, [-2] = true, [2] = true, [5] = true}, seen)
  end)

  it("repeats with a seed", function()
    local gen = ImageDataGenerator{rotation_range = 30, zoom_range = 0.3}
    assert.same(gen:get_random_transform({8, 8, 1}, 7), gen:get_random_transform({8, 8, 1}, 7))
    assert.are_not.same(gen:get_random_transform({8, 8, 1}, 7), gen:get_random_transform({8, 8, 1}, 8))
  end)

  it("random_transform applies what it draws", function()
    local gen = ImageDataGenerator{rotation_range = 30, width_shift_range = 0.2, fill_mode = "reflect"}
    local want = gen:apply_transform(x44, gen:get_random_transform({4, 4, 1}, 3))
    assert.same(flat(want), flat(gen:random_transform(x44, 3)))
  end)
end)

-- n images of 5 x 6 x c whose every pixel holds the label i - 1 (plus 100 * channel):
-- any warp with nearest fill keeps such an image constant, so an image says its label.
local function labelled(n, c)
  local x = lurn.arange(n):reshape{n, 1, 1, 1} + lurn.zeros{n, 5, 6, c or 1}
  if c and c > 1 then x = x + lurn.arange(c):reshape{1, 1, 1, c} * 100 end
  return x:contiguous(), lurn.arange(n)
end

local AUGMENT = {rotation_range = 40, width_shift_range = 0.2, height_shift_range = 2, zoom_range = 0.3,
                 shear_range = 10, horizontal_flip = true, vertical_flip = true}

describe("ImageDataGenerator:flow", function()
  it("keeps every image paired with its label and weight through an augmented epoch", function()
    local x, y = labelled(20, 3)
    local w = y * 10
    local gen = ImageDataGenerator(AUGMENT):flow(x, y, {batch_size = 6, seed = 1, sample_weight = w})
    assert.equal(4, gen:len())
    local seen, sizes = {}, {}
    for b = 1, gen:len() do
      local xb, yb, wb = gen()
      sizes[b] = xb:size(1)
      assert.same({sizes[b], 5, 6, 3}, xb:shape())
      for i = 1, xb:size(1) do
        local label = yb:get(i)
        local im = xb:select(1, i)
        for c = 1, 3 do
          local ch = im:select(3, c)
          assert.equal(label + 100 * (c - 1), ch:min())
          assert.equal(label + 100 * (c - 1), ch:max())
        end
        assert.equal(label * 10, wb:get(i))
        assert.is_nil(seen[label])
        seen[label] = true
      end
    end
    assert.same({6, 6, 6, 2}, sizes)
    for i = 0, 19 do assert.is_true(seen[i], "label " .. i .. " missing from the epoch") end
  end)

  it("pairs labels with images that are not constant too (one-pixel shifts)", function()
    -- image i is a ramp along the width whose first column holds i; a shift of at most
    -- one pixel with nearest fill keeps the pixel (middle row, middle column) within 1 of
    -- i + 2 and the labels still find their images.
    local n = 12
    local ramp = lurn.arange(7):reshape{1, 1, 7, 1}
    local x = (lurn.arange(n):reshape{n, 1, 1, 1} * 100 + ramp + lurn.zeros{n, 5, 7, 1}):contiguous()
    local gen = ImageDataGenerator{width_shift_range = 2}:flow(x, lurn.arange(n), {batch_size = 5, seed = 3})
    local moved = 0
    for _ = 1, gen:len() do
      local xb, yb = gen()
      for i = 1, xb:size(1) do
        local label, v = yb:get(i), xb:get(i, 3, 4, 1)
        assert(math.abs(v - (label * 100 + 3)) <= 1, ("label %d with pixel %g"):format(label, v))
        if v ~= label * 100 + 3 then moved = moved + 1 end
      end
    end
    assert(moved > 0, "some images were shifted")
  end)

  it("cycles through epochs, reshuffling each, as Keras' Iterator", function()
    local x, y = labelled(10)
    local gen = ImageDataGenerator():flow(x, y, {batch_size = 4, seed = 5})
    local epochs = {}
    for e = 1, 2 do
      local order = {}
      for _ = 1, gen:len() do
        local _, yb = gen()
        for _, v in ipairs(yb:totable()) do order[#order + 1] = v end
      end
      local sorted = table.move(order, 1, #order, 1, {})
      table.sort(sorted)
      assert.same(lurn.arange(10):totable(), sorted)
      epochs[e] = order
    end
    assert.are_not.same(epochs[1], epochs[2])
    local third = gen()
    assert.equal(10, x:size(1))
    assert.equal(4, third:size(1)) -- a new epoch starts with a full batch
  end)

  it("goes in order without shuffle, and returns images only without y", function()
    local x = labelled(5)
    local gen = ImageDataGenerator():flow(x, nil, {batch_size = 2, shuffle = false})
    assert.same({0, 1}, flat(gen():select(4, 1):select(3, 1):select(2, 1)))
    assert.same({2, 3}, flat(gen():select(4, 1):select(3, 1):select(2, 1)))
    assert.same({4}, flat(gen():select(4, 1):select(3, 1):select(2, 1)))
    assert.same({0, 1}, flat(gen():select(4, 1):select(3, 1):select(2, 1)))
  end)

  it("repeats the batches with a seed, at any thread count", function()
    local x = lurn.rand{40, 12, 12, 3}
    local y = lurn.arange(40)
    local gen = ImageDataGenerator(AUGMENT)
    local threads = lurn.get_num_threads()
    local function batches(seed, nthreads)
      lurn.set_num_threads(nthreads)
      local it = gen:flow(x, y, {batch_size = 16, seed = seed})
      local out = {}
      for b = 1, 5 do
        local xb, yb = it()
        out[b] = {flat(xb), yb:totable()}
      end
      return out
    end
    local one = batches(42, 1)
    assert.same(one, batches(42, 4))
    assert.same(one, batches(42, 1))
    assert.are_not.same(one, batches(43, 1))
    lurn.set_num_threads(threads)
  end)

  it("follows lurn.manual_seed without a seed", function()
    local x, y = labelled(8)
    local gen = ImageDataGenerator{rotation_range = 90, fill_mode = "constant", cval = -1}
    local function first()
      lurn.manual_seed(11)
      local xb, yb = gen:flow(x, y, {batch_size = 8})()
      return {flat(xb), yb:totable()}
    end
    assert.same(first(), first())
  end)

  it("feeds model:fit as a generator", function()
    lurn.manual_seed(2)
    local x, y = labelled(32)
    y = (y:ge(16)):contiguous() -- two classes: dark and bright images
    local model = lurn.Sequential{lurn.layers.Flatten{input_shape = {5, 6, 1}},
                                  lurn.layers.Dense(2, {activation = "softmax"})}
    model:compile{optimizer = lurn.optimizers.Adam{learning_rate = 0.05},
                  loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
    local gen = ImageDataGenerator{rotation_range = 20, horizontal_flip = true, rescale = 1 / 32}
      :flow(x, y, {batch_size = 8, seed = 1})
    local history = model:fit(gen, {epochs = 15, steps_per_epoch = gen:len(), verbose = 0})
    assert.equal(15, #history.history.loss)
    assert(history.history.accuracy[15] >= 0.9, "accuracy " .. history.history.accuracy[15])
    -- without steps_per_epoch an epoch is gen:len() batches, as Keras does for a Sequence
    local seen = gen.total_batches_seen
    model:fit(gen, {epochs = 1, verbose = 0})
    assert.equal(seen + gen:len(), gen.total_batches_seen)
  end)

  it("gives model:fit steps_per_epoch batches an epoch, weighted by class_weight", function()
    local L = lurn.layers
    local x, y = labelled(10)
    y = y:ge(4):contiguous() -- 4 of class 0, 6 of class 1
    local function train(opts)
      lurn.manual_seed(1)
      local model = lurn.Sequential{L.Flatten{input_shape = {5, 6, 1}}, L.Dense(2, {activation = "softmax"})}
      -- learning rate 0: every batch sees the same model, so the losses compare exactly
      model:compile{optimizer = lurn.optimizers.SGD{learning_rate = 0}, loss = "sparse_categorical_crossentropy"}
      local gen = ImageDataGenerator{rescale = 1 / 10}:flow(x, y, {batch_size = 4, shuffle = false})
      opts.verbose = 0
      local history = model:fit(gen, opts)
      return history, gen
    end
    local h, gen = train{epochs = 3, steps_per_epoch = 2}
    assert.equal(3, #h.history.loss)
    assert.equal(6, gen.total_batches_seen) -- 2 a epoch, not gen:len() = 3
    assert.equal(3, gen:len())
    -- class weights scale each sample's loss: all doubled doubles the mean loss (Keras'
    -- sum over the batch size), and a zero weight leaves that class out
    local plain = train{epochs = 1, steps_per_epoch = 3}.history.loss[1]
    local doubled = train{epochs = 1, steps_per_epoch = 3, class_weight = {[0] = 2, [1] = 2}}.history.loss[1]
    assert.near(2 * plain, doubled, 1e-5 * plain)
    local only1 = train{epochs = 1, steps_per_epoch = 3, class_weight = {[0] = 0, [1] = 1}}.history.loss[1]
    assert.is_true(math.abs(only1 - plain) > 1e-6)
  end)

  it("splits off the validation subset first, as Keras", function()
    local x, y = labelled(10)
    local gen = ImageDataGenerator{validation_split = 0.3}
    local val = gen:flow(x, y, {subset = "validation", shuffle = false, batch_size = 10})
    local train = gen:flow(x, y, {subset = "training", shuffle = false, batch_size = 10})
    assert.same({0, 1, 2}, select(2, val()):totable())
    assert.same({3, 4, 5, 6, 7, 8, 9}, select(2, train()):totable())
  end)
end)

describe("ImageDataGenerator:standardize and fit", function()
  -- 2 images of 1 x 2 pixels, 2 channels: channel 1 holds 1 2 3 4, channel 2 10 20 30 40.
  local x = lurn.tensor{1, 10, 2, 20, 3, 30, 4, 40}:reshape{2, 1, 2, 2}

  it("fit computes the per-channel mean and std over images, rows and columns", function()
    local gen = ImageDataGenerator{featurewise_center = true, featurewise_std_normalization = true}
    gen:fit(x)
    assert.same({1, 1, 2}, gen.mean:shape())
    assert_all_close({2.5, 25}, flat(gen.mean))
    assert_all_close({math.sqrt(1.25), math.sqrt(125)}, flat(gen.std))
    local s = gen:standardize(x:clone())
    assert_all_close({-1.5 / math.sqrt(1.25), -15 / math.sqrt(125)}, {s:get(1, 1, 1, 1), s:get(1, 1, 1, 2)}, 1e-5)
    local c1 = s:select(4, 1)
    assert(math.abs(c1:mean()) < 1e-6 and math.abs(c1:std() - 1) < 1e-5)
  end)

  it("rescales before everything else, in fit too", function()
    local gen = ImageDataGenerator{rescale = 0.5, featurewise_center = true}
    gen:fit(x)
    assert_all_close({1.25, 12.5}, flat(gen.mean))
    local s = gen:standardize(x:clone())
    assert_all_close({0.5 - 1.25, 5 - 12.5, 1 - 1.25, 10 - 12.5}, table.move(flat(s), 1, 4, 1, {}))
  end)

  it("rescales the batches of flow", function()
    local xs = lurn.rand{6, 4, 4, 3} * 255
    local gen = ImageDataGenerator{rescale = 1 / 255}:flow(xs, nil, {shuffle = false})
    assert_all_close(flat(xs / 255), flat(gen()), 1e-6)
  end)

  it("centres and scales each image on its own with the samplewise options", function()
    local xs = lurn.rand{3, 4, 5, 2} * 7 + 3
    local s = ImageDataGenerator{samplewise_std_normalization = true}:standardize(xs:clone())
    for i = 1, 3 do
      local im = s:select(1, i)
      assert(math.abs(im:mean()) < 1e-5)
      assert(math.abs(im:std() - 1) < 1e-4)
    end
  end)

  it("fits on augmented copies with augment = true", function()
    local gen = ImageDataGenerator{featurewise_center = true, horizontal_flip = true}
    gen:fit(x, {augment = true, rounds = 3, seed = 1})
    assert_all_close({2.5, 25}, flat(gen.mean)) -- flips do not move the mean
  end)
end)

describe("ImageDataGenerator errors", function()
  it("rejects unknown options and fill modes", function()
    error_matching("unknown option 'rotation'", ImageDataGenerator, {rotation = 10})
    error_matching("unknown fill_mode 'mirror'", ImageDataGenerator, {fill_mode = "mirror"})
    error_matching("unknown fill_mode 'edge'", image.apply_affine_transform, x44, {fill_mode = "edge"})
    error_matching("interpolation_order", ImageDataGenerator, {interpolation_order = 3})
    error_matching("channels%-last", ImageDataGenerator, {data_format = "channels_first"})
    error_matching("zca_whitening is not implemented", ImageDataGenerator, {zca_whitening = true})
  end)

  it("rejects negative ranges", function()
    error_matching("rotation_range must be a number >= 0", ImageDataGenerator, {rotation_range = -5})
    error_matching("width_shift_range must be a number >= 0", ImageDataGenerator, {width_shift_range = -0.1})
    error_matching("height_shift_range", ImageDataGenerator, {height_shift_range = -2})
    error_matching("shear_range", ImageDataGenerator, {shear_range = -1})
    error_matching("zoom_range must be a number in %[0, 1%]", ImageDataGenerator, {zoom_range = -0.2})
    error_matching("zoom_range must be {lower, upper}", ImageDataGenerator, {zoom_range = {1.2, 0.8}})
    error_matching("brightness_range must be {lower, upper}", ImageDataGenerator, {brightness_range = {-1, 1}})
    error_matching("brightness_range", ImageDataGenerator, {brightness_range = 0.5})
  end)

  it("asks for rank-4 images and says how to add the channel", function()
    local gen = ImageDataGenerator()
    local x3 = lurn.zeros{10, 28, 28}
    error_matching("rank 4 %(N, height, width, channels%), got shape %(10, 28, 28%); for one%-channel images use "
      .. "x:reshape{10, 28, 28, 1}", gen.flow, gen, x3, lurn.zeros{10})
    error_matching("fit: x must have rank 4", gen.fit, gen, x3)
    error_matching("random_transform: x must have rank 3", gen.random_transform, gen, lurn.zeros{1, 4, 4, 1})
  end)

  it("checks labels, weights and batch sizes against the images", function()
    local gen = ImageDataGenerator()
    local x = lurn.zeros{4, 3, 3, 1}
    error_matching("one label per image %(4%)", gen.flow, gen, x, lurn.zeros{5})
    error_matching("sample_weight", gen.flow, gen, x, lurn.zeros{4}, {sample_weight = lurn.zeros{3}})
    error_matching("batch_size must be a positive integer", gen.flow, gen, x, lurn.zeros{4}, {batch_size = 0})
    error_matching("unknown option 'batchsize'", gen.flow, gen, x, lurn.zeros{4}, {batchsize = 2})
  end)

  it("asks for fit() before featurewise standardization", function()
    local gen = ImageDataGenerator{featurewise_center = true}
    error_matching("call fit%(x_train%) first", gen.standardize, gen, lurn.zeros{3, 3, 1})
    local it = gen:flow(lurn.zeros{4, 3, 3, 1}, lurn.zeros{4})
    error_matching("call fit%(x_train%) first", it)
  end)

  it("rejects images with other channels than fit() saw", function()
    local gen = ImageDataGenerator{featurewise_std_normalization = true}
    gen:fit(lurn.rand{4, 3, 3, 3})
    error_matching("standardize: fit%(%) saw 3 channels, x has 1", gen.standardize, gen, lurn.zeros{3, 3, 1})
    local it = gen:flow(lurn.zeros{4, 3, 3, 1}, lurn.zeros{4})
    error_matching("ImageDataGenerator: flow: fit%(%) saw 3 channels, x has 1", it)
  end)
end)

describe("ImageDataGenerator:get_state", function()
  local state_check = require "helpers.state_check"
  local from_state = lurn.preprocessing.from_state

  local function batches(gen, x, y)
    local it = gen:flow(x, y, {batch_size = 3, seed = 7})
    local out = {}
    for b = 1, 3 do out[b] = {it()} end
    return out
  end

  it("is plain data that rebuilds the options and the featurewise statistics bit for bit", function()
    lurn.manual_seed(4)
    local x, y = lurn.rand{8, 5, 6, 2} * 255, lurn.arange(8)
    local gen = ImageDataGenerator{rotation_range = 30, width_shift_range = 2, height_shift_range = 0.1,
      zoom_range = 0.2, shear_range = 5, brightness_range = {0.5, 1.5}, horizontal_flip = true,
      fill_mode = "reflect", rescale = 1 / 255, featurewise_center = true, featurewise_std_normalization = true}
    gen:fit(x)
    local state = gen:get_state()
    assert.equal("ImageDataGenerator", state.class)
    assert.is_true(state.fitted)
    local ok, where = state_check.plain(state)
    assert(ok, "the state must be plain data: " .. tostring(where))
    assert.is_nil(state.unsaved)
    local again = from_state((state_check.through_text(state)))
    assert.equal(ImageDataGenerator, getmetatable(again))
    state_check.assert_same_bits(gen.mean, again.mean)
    state_check.assert_same_bits(gen.std, again.std)
    state_check.assert_same_bits(gen._config, again._config)
    state_check.assert_same_bits(gen:standardize(x:clone()), again:standardize(x:clone()))
    state_check.assert_same_bits(batches(gen, x, y), batches(again, x, y))
  end)

  it("keeps an unfitted generator unfitted", function()
    local state = ImageDataGenerator{featurewise_center = true}:get_state()
    assert.is_false(state.fitted)
    local again = from_state(state)
    error_matching("call fit%(x_train%) first", again.standardize, again, lurn.zeros{3, 3, 1})
  end)

  it("names a preprocessing_function it cannot hold and takes it again in from_state", function()
    local function negate(im) return -im end
    local gen = ImageDataGenerator{preprocessing_function = negate}
    local state = gen:get_state()
    assert.same({"preprocessing_function"}, state.unsaved)
    assert.is_true(state_check.plain(state))
    error_matching("this ImageDataGenerator had a function as preprocessing_function, which a state cannot hold: "
      .. "give it again, from_state%(state, {preprocessing_function = ...}%)", from_state, state)
    local again = from_state(state, {preprocessing_function = negate})
    state_check.assert_same_bits(gen:standardize(x44:clone()), again:standardize(x44:clone()))
  end)
end)
