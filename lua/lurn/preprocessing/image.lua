--- lurn.preprocessing.image: real-time image augmentation, as Keras 2's
-- keras.preprocessing.image.ImageDataGenerator.
--
--   local image = require "lurn.preprocessing.image"   -- or lurn.preprocessing.image
--   local datagen = image.ImageDataGenerator{rotation_range = 10, width_shift_range = 0.1,
--     height_shift_range = 0.1, zoom_range = 0.1, horizontal_flip = true, rescale = 1 / 255}
--   datagen:fit(x_train)                              -- only for the featurewise options
--   local gen = datagen:flow(x_train, y_train, {batch_size = 32, seed = 1})
--   model:fit(gen, {epochs = 10, steps_per_epoch = gen:len()})
--
-- Images are channels-last: batches (N, height, width, channels), one image (height,
-- width, channels). Each image of a batch gets its own random transform, then
-- standardize (rescale first); labels and sample weights pass through untouched, each
-- staying with its image. The warps, value changes and statistics run in C
-- (src/preprocessing/augment.c), in parallel over the batch; the random parameters are
-- drawn serially from the iterator's own generator, so a seed repeats the batches at any
-- thread count, and without one lurn.manual_seed does.
--
-- Transforms, in Keras' order: rotation (degrees), shift, shear (degrees) and zoom as one
-- affine warp about the image centre with bilinear sampling (interpolation_order = 1;
-- 0: nearest pixel), the points outside the image filled by fill_mode (scipy.ndimage's
-- modes); channel shift; flips; brightness. Where lurn differs from Keras 2, and why:
--   * fill_mode = "wrap" repeats the image with period width (a b c d | a b c d), as
--     Keras documents it; scipy's "wrap", which Keras calls, repeats with period width - 1.
--   * The centre is ((h - 1) / 2, (w - 1) / 2), the middle of the pixel grid, as in Keras
--     2.9+; keras-preprocessing 1.1.2 turned about a point one pixel off.
--   * brightness multiplies the values by the factor and clips them to the image's own
--     range [min, max]; Keras converts to an 8-bit image (stretched to 0..255, rounded),
--     brightens, and returns values in 0..255 whatever the input's range.
--   * featurewise_center or featurewise_std_normalization before fit() is an error (Keras
--     warns and skips the step); zca_whitening is not implemented.
local core = require "lurn.core"
local class = require "lurn.class"
local base = require "lurn.preprocessing.base"

local image = {}

local shape_text = require("lurn.text").shape

-- The options of ImageDataGenerator and their defaults (Keras 2's); `false` stands for
-- None where None is the default.
local DEFAULTS = {
  featurewise_center = false, samplewise_center = false, featurewise_std_normalization = false,
  samplewise_std_normalization = false, zca_whitening = false, zca_epsilon = 1e-6, rotation_range = 0,
  width_shift_range = 0.0, height_shift_range = 0.0, brightness_range = false, shear_range = 0.0,
  zoom_range = 0.0, channel_shift_range = 0.0, fill_mode = "nearest", cval = 0.0, horizontal_flip = false,
  vertical_flip = false, rescale = false, preprocessing_function = false, data_format = "channels_last",
  validation_split = 0.0, interpolation_order = 1, dtype = "float32",
}

local FILL_MODES = {constant = true, nearest = true, reflect = true, wrap = true}

local function option_names()
  local names = {}
  for k in pairs(DEFAULTS) do names[#names + 1] = k end
  table.sort(names)
  return table.concat(names, ", ")
end

local function fail(msg, level) error("ImageDataGenerator: " .. msg, (level or 1) + 1) end

local function is_number(v) return type(v) == "number" and v == v and v > -math.huge and v < math.huge end

local function check_boolean(o, name)
  if type(o[name]) ~= "boolean" then fail(("%s must be true or false, got %s"):format(name, tostring(o[name])), 3) end
end

local function check_range(o, name)
  local v = o[name]
  if not is_number(v) or v < 0 then
    fail(("%s must be a number >= 0, got %s"):format(name, tostring(v)), 3)
  end
end

-- {lower, upper} with 0 <= lower <= upper.
local function check_pair(v, name)
  if type(v) ~= "table" or #v ~= 2 or not is_number(v[1]) or not is_number(v[2]) or v[1] < 0 or v[1] > v[2] then
    fail(("%s must be {lower, upper} with 0 <= lower <= upper, got %s"):format(name,
      type(v) == "table" and "{" .. table.concat(v, ", ") .. "}" or tostring(v)), 3)
  end
  return {v[1], v[2]}
end

-- Keras' shift ranges: a float (uniform in (-r, r); a fraction of the size below 1, else
-- pixels), an integer n (one of 0..n-1 pixels, with a random sign) or a list of values
-- (one of them, with a random sign). Returns what core.augmenter takes.
local function shift_range(v, name)
  if type(v) == "table" then
    if #v == 0 then fail(name .. " must not be an empty list", 3) end
    for _, s in ipairs(v) do
      if not is_number(s) then fail(("%s must be a list of numbers, got %s"):format(name, tostring(s)), 3) end
    end
    return {table.unpack(v)}
  end
  if not is_number(v) or v < 0 then
    fail(("%s must be a number >= 0 or a list of numbers, got %s"):format(name, tostring(v)), 3)
  end
  if math.type(v) == "integer" then
    if v <= 1 then return 0 end -- Keras: 0 is off, and 1 picks from {0}
    local list = {}
    for i = 0, v - 1 do list[#list + 1] = i end
    return list
  end
  return v
end

local ImageDataGenerator = class()
ImageDataGenerator.class_name = "ImageDataGenerator"
ImageDataGenerator._attributes = {"mean", "std"} -- what fit sets, for from_state
image.ImageDataGenerator = ImageDataGenerator
base.registry.ImageDataGenerator = ImageDataGenerator

--- ImageDataGenerator{rotation_range = 0, width_shift_range = 0, height_shift_range = 0,
--   shear_range = 0, zoom_range = 0, channel_shift_range = 0, brightness_range = nil,
--   horizontal_flip = false, vertical_flip = false, fill_mode = "nearest", cval = 0,
--   interpolation_order = 1, rescale = nil, featurewise_center = false,
--   featurewise_std_normalization = false, samplewise_center = false,
--   samplewise_std_normalization = false, preprocessing_function = nil,
--   validation_split = 0}
function ImageDataGenerator.new(opts)
  if opts ~= nil and type(opts) ~= "table" then fail("options must be a table, got " .. type(opts), 2) end
  opts = opts or {}
  for k in pairs(opts) do
    if DEFAULTS[k] == nil then fail(("unknown option '%s' (options: %s)"):format(tostring(k), option_names()), 2) end
  end
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for k, v in pairs(opts) do o[k] = v end
  if o.brightness_range == nil then o.brightness_range = false end
  if o.rescale == nil then o.rescale = false end
  if o.preprocessing_function == nil then o.preprocessing_function = false end

  for _, name in ipairs {"featurewise_center", "samplewise_center", "featurewise_std_normalization",
                         "samplewise_std_normalization", "zca_whitening", "horizontal_flip", "vertical_flip"} do
    check_boolean(o, name)
  end
  for _, name in ipairs {"rotation_range", "shear_range", "channel_shift_range"} do check_range(o, name) end
  if o.zca_whitening then
    fail("zca_whitening is not implemented; featurewise_center with featurewise_std_normalization "
      .. "standardizes each channel instead", 2)
  end
  if o.data_format ~= "channels_last" then
    fail(("images are channels-last (N, height, width, channels); data_format = '%s' is not supported: "
      .. "turn (N, C, H, W) into (N, H, W, C) with x:permute{1, 3, 4, 2}"):format(tostring(o.data_format)), 2)
  end
  if o.dtype ~= "float32" then fail(("dtype must be \"float32\", got %s"):format(tostring(o.dtype)), 2) end
  if type(o.fill_mode) ~= "string" or not FILL_MODES[o.fill_mode] then
    fail(("unknown fill_mode '%s' (one of constant, nearest, reflect, wrap)"):format(tostring(o.fill_mode)), 2)
  end
  if not is_number(o.cval) then fail("cval must be a number, got " .. tostring(o.cval), 2) end
  if o.interpolation_order ~= 0 and o.interpolation_order ~= 1 then
    fail(("interpolation_order must be 0 (nearest) or 1 (bilinear), got %s"):format(tostring(o.interpolation_order)), 2)
  end
  if o.rescale ~= false and not is_number(o.rescale) then
    fail("rescale must be a number (or nil), got " .. tostring(o.rescale), 2)
  end
  if o.preprocessing_function ~= false and type(o.preprocessing_function) ~= "function"
    and not (getmetatable(o.preprocessing_function) or {}).__call then
    fail("preprocessing_function must be a function of one image, got " .. type(o.preprocessing_function), 2)
  end
  if not is_number(o.validation_split) or o.validation_split < 0 or o.validation_split >= 1 then
    fail("validation_split must be a number in [0, 1), got " .. tostring(o.validation_split), 2)
  end

  local zoom = o.zoom_range
  if type(zoom) == "number" then
    if not is_number(zoom) or zoom < 0 or zoom > 1 then
      fail(("zoom_range must be a number in [0, 1] (or {lower, upper}), got %s"):format(tostring(zoom)), 2)
    end
    zoom = {1 - zoom, 1 + zoom}
  else
    zoom = check_pair(zoom, "zoom_range")
  end
  local brightness = o.brightness_range and check_pair(o.brightness_range, "brightness_range") or nil

  -- As Keras: normalizing by the std implies centring.
  if o.featurewise_std_normalization then o.featurewise_center = true end
  if o.samplewise_std_normalization then o.samplewise_center = true end

  local self = setmetatable({}, ImageDataGenerator)
  for k, v in pairs(o) do self[k] = v end
  self.zoom_range, self.brightness_range = zoom, brightness
  self.rescale = o.rescale ~= 0 and o.rescale or nil -- as Keras: 0 and None both mean no rescale
  self.preprocessing_function = o.preprocessing_function or nil
  self.mean, self.std = nil, nil -- set by fit: (1, 1, C) tensors, as Keras
  self._config = {
    rotation_range = o.rotation_range, width_shift_range = shift_range(o.width_shift_range, "width_shift_range"),
    height_shift_range = shift_range(o.height_shift_range, "height_shift_range"), shear_range = o.shear_range,
    zoom_range = zoom, horizontal_flip = o.horizontal_flip, vertical_flip = o.vertical_flip,
    channel_shift_range = o.channel_shift_range, brightness_range = brightness, fill_mode = o.fill_mode,
    cval = o.cval, interpolation_order = o.interpolation_order,
  }
  self._aug = core.augmenter(self._config) -- random_transform's own generator
  return self
end

local function check_images(x, what, rank)
  if not core.is_tensor(x) then fail(("%s: x must be a tensor, got %s"):format(what, type(x)), 3) end
  local s = x:shape()
  if #s == rank then return x end
  local hint = ""
  if #s == rank - 1 then
    local one = table.move(s, 1, #s, 1, {})
    one[#one + 1] = 1
    hint = ("; for one-channel images use x:reshape{%s}"):format(table.concat(one, ", "))
  end
  local want = rank == 4 and "rank 4 (N, height, width, channels)" or "rank 3: one image (height, width, channels)"
  fail(("%s: x must have %s, got shape %s%s"):format(what, want, shape_text(s), hint), 3)
end

local function augmenter_for(self, seed, what)
  if seed == nil then return self._aug end
  if math.type(seed) ~= "integer" then fail(what .. ": seed must be an integer", 3) end
  return core.augmenter(self._config, seed)
end

--- get_random_transform(img_shape, seed) -> params {theta =, tx =, ty =, shear =, zx =, zy =,
-- flip_horizontal =, flip_vertical =, channel_shift_intensity =, brightness =}.
function ImageDataGenerator:get_random_transform(img_shape, seed)
  if type(img_shape) ~= "table" or #img_shape < 2 then
    fail("get_random_transform: img_shape must be {height, width, channels}", 2)
  end
  local aug = augmenter_for(self, seed, "get_random_transform")
  local p = aug:draw(img_shape[1], img_shape[2])
  if self.channel_shift_range == 0 then p.channel_shift_intensity = nil end
  if not self.brightness_range then p.brightness = nil end
  return p
end

local NUMBER_PARAMS = {"theta", "tx", "ty", "shear", "zx", "zy", "channel_shift_intensity", "brightness"}

local function check_params(params, what)
  if type(params) ~= "table" then fail(what .. ": params must be a table", 3) end
  for _, k in ipairs(NUMBER_PARAMS) do
    if params[k] ~= nil and not is_number(params[k]) then
      fail(("%s: %s must be a finite number, got %s"):format(what, k, tostring(params[k])), 3)
    end
  end
end

--- apply_transform(x, params) -> a transformed copy of one image x (H, W, C).
function ImageDataGenerator:apply_transform(x, params)
  check_images(x, "apply_transform", 3)
  check_params(params, "apply_transform")
  return core.image_apply_transform(x:contiguous(), params, self.fill_mode, self.cval, self.interpolation_order)
end

--- random_transform(x, seed) -> a randomly transformed copy of one image x (H, W, C).
function ImageDataGenerator:random_transform(x, seed)
  check_images(x, "random_transform", 3)
  return self:apply_transform(x, self:get_random_transform(x:shape(), seed))
end

function ImageDataGenerator:_standardize_config(what)
  if self.featurewise_center and not self.mean then
    fail(what .. ": featurewise_center needs the training set's statistics: call fit(x_train) first", 3)
  end
  if self.featurewise_std_normalization and not self.std then
    fail(what .. ": featurewise_std_normalization needs the training set's statistics: call fit(x_train) first", 3)
  end
  return {rescale = self.rescale, samplewise_center = self.samplewise_center,
          samplewise_std_normalization = self.samplewise_std_normalization,
          mean = self.featurewise_center and self.mean or nil,
          std = self.featurewise_std_normalization and self.std or nil}
end

-- The featurewise statistics must have one value per channel of the images.
local function check_channels(cfg, channels, what)
  local stats = cfg.mean or cfg.std
  if stats and stats:numel() ~= channels then
    fail(("%s: fit() saw %d channels, x has %d"):format(what, stats:numel(), channels), 3)
  end
end

--- standardize(x) -> x normalized in place (one image (H, W, C) or a batch (N, H, W, C)):
-- preprocessing_function, rescale, samplewise (per image), then featurewise (per channel).
function ImageDataGenerator:standardize(x)
  if not core.is_tensor(x) or (x:dim() ~= 3 and x:dim() ~= 4) then
    fail("standardize: x must be one image (H, W, C) or a batch (N, H, W, C)", 2)
  end
  local cfg = self:_standardize_config("standardize")
  if self.preprocessing_function then x = self.preprocessing_function(x) end
  if not x:is_contiguous() then fail("standardize: x must be a packed tensor (it is changed in place)", 2) end
  check_channels(cfg, x:size(x:dim()), "standardize")
  return core.image_standardize(x, cfg)
end

--- fit(x, {augment = false, rounds = 1, seed = nil}): the per-channel mean and std of x
-- (N, H, W, C) after rescale, over samples, rows and columns, for the featurewise options.
function ImageDataGenerator:fit(x, opts)
  check_images(x, "fit", 4)
  opts = opts or {}
  local rounds = opts.rounds or 1
  if math.type(rounds) ~= "integer" or rounds < 1 then fail("fit: rounds must be a positive integer", 2) end
  local xs = x:clone()
  if self.rescale then xs:mul_(self.rescale) end
  if opts.augment then
    local aug = augmenter_for(self, opts.seed, "fit")
    local copies = {}
    for r = 1, rounds do copies[r] = aug:augment(xs, core.zeros(xs:shape())) end
    xs = core.cat(copies, 1)
  end
  local c = xs:size(4)
  local flat = xs:reshape{-1, c}
  if self.featurewise_center then self.mean = flat:mean(1):reshape{1, 1, c} end
  if self.featurewise_std_normalization then self.std = flat:std(1):reshape{1, 1, c} end
  return self
end

--- get_state() -> plain data for saving (lurn.preprocessing.from_state rebuilds it): the
-- options and, once fit, the featurewise mean and std. A preprocessing_function cannot be
-- stored: the state names it in `unsaved` and from_state(state, {preprocessing_function =
-- f}) takes it again. The random generators are not part of it.
function ImageDataGenerator:get_state()
  local params = {}
  for k in pairs(DEFAULTS) do params[k] = self[k] end
  return base.make_state(self, params, {mean = self.mean, std = self.std}, self.mean ~= nil or self.std ~= nil)
end

--- flow(x, y, {batch_size = 32, shuffle = true, seed = nil, sample_weight = nil,
--   subset = nil}) -> a NumpyArrayIterator: call it for the next batch xb, yb[, wb].
-- y may be nil: the iterator then returns images only.
function ImageDataGenerator:flow(x, y, opts)
  if opts == nil and type(y) == "table" and not core.is_tensor(y) then y, opts = nil, y end
  return image.NumpyArrayIterator(x, y, self, opts)
end

setmetatable(ImageDataGenerator, {__call = function(_, opts) return ImageDataGenerator.new(opts) end})

-- ---- the iterator ----------------------------------------------------------------------

local NumpyArrayIterator = class()
NumpyArrayIterator.class_name = "NumpyArrayIterator"
image.NumpyArrayIterator = NumpyArrayIterator

local FLOW_OPTIONS = {batch_size = true, shuffle = true, seed = true, sample_weight = true, subset = true}

--- NumpyArrayIterator(x, y, generator, opts): batches of augmented images, as Keras' Iterator:
-- each epoch goes once through the samples (reshuffled at its start when shuffle), the
-- last batch holding what is left; then the next epoch begins.
function NumpyArrayIterator.new(x, y, gen, opts)
  opts = opts or {}
  if type(opts) ~= "table" then fail("flow: options must be a table", 3) end
  for k in pairs(opts) do
    if not FLOW_OPTIONS[k] then
      fail(("flow: unknown option '%s' (options: batch_size, sample_weight, seed, shuffle, subset)"):format(
        tostring(k)), 3)
    end
  end
  check_images(x, "flow", 4)
  local n = x:size(1)
  if y ~= nil and (not core.is_tensor(y) or y:dim() < 1 or y:size(1) ~= n) then
    fail(("flow: y must be a tensor with one label per image (%d), got %s"):format(n,
      core.is_tensor(y) and shape_text(y:shape()) or type(y)), 3)
  end
  local w = opts.sample_weight
  if w ~= nil and (not core.is_tensor(w) or w:dim() ~= 1 or w:size(1) ~= n) then
    fail(("flow: sample_weight must be a 1-D tensor with one weight per image (%d)"):format(n), 3)
  end
  local batch_size = opts.batch_size or 32
  if math.type(batch_size) ~= "integer" or batch_size < 1 then fail("flow: batch_size must be a positive integer", 3) end
  if opts.shuffle ~= nil and type(opts.shuffle) ~= "boolean" then fail("flow: shuffle must be true or false", 3) end
  if opts.seed ~= nil and math.type(opts.seed) ~= "integer" then fail("flow: seed must be an integer", 3) end
  if opts.subset ~= nil then
    if opts.subset ~= "training" and opts.subset ~= "validation" then
      fail(("flow: subset must be \"training\" or \"validation\", got %s"):format(tostring(opts.subset)), 3)
    end
    -- As Keras: the first validation_split of the samples is the validation subset.
    local split = math.floor(n * gen.validation_split)
    local first, count = 1, split
    if opts.subset == "training" then first, count = split + 1, n - split end
    x = x:narrow(1, first, count)
    y = y and y:narrow(1, first, count)
    w = w and w:narrow(1, first, count)
    n = count
  end
  if n == 0 then fail("flow: no images to iterate over", 3) end
  local self = setmetatable({}, NumpyArrayIterator)
  self.x, self.y, self.sample_weight = x:contiguous(), y and y:contiguous(), w and w:contiguous()
  self.image_data_generator = gen
  self.n, self.batch_size = n, batch_size
  self.shuffle = opts.shuffle ~= false
  self.seed = opts.seed
  self.batch_index, self.total_batches_seen = 0, 0
  self._aug = core.augmenter(gen._config, opts.seed)
  return self
end

--- Batches per epoch: ceil(n / batch_size).
function NumpyArrayIterator:len() return (self.n + self.batch_size - 1) // self.batch_size end
NumpyArrayIterator.__len = NumpyArrayIterator.len

--- Starts the next call at the beginning of an epoch (reshuffled).
function NumpyArrayIterator:reset() self.batch_index = 0 end
NumpyArrayIterator.on_epoch_end = NumpyArrayIterator.reset

-- The positions of the next batch, as Keras' Iterator._flow_index.
function NumpyArrayIterator:_next_index()
  if self.batch_index == 0 then
    self._order = self.shuffle and self._aug:randperm(self.n) or core.arange(1, self.n + 1)
  end
  local start = self.batch_index * self.batch_size
  local size = math.min(self.batch_size, self.n - start)
  if self.n > start + self.batch_size then
    self.batch_index = self.batch_index + 1
  else
    self.batch_index = 0
  end
  self.total_batches_seen = self.total_batches_seen + 1
  return self._order:narrow(1, start + 1, size)
end

--- The next batch: xb[, yb[, wb]] (new tensors).
function NumpyArrayIterator:next()
  local gen = self.image_data_generator
  local cfg = gen:_standardize_config("flow")
  check_channels(cfg, self.x:size(4), "flow")
  local idx = self:_next_index()
  local xs = self.x:index(1, idx)
  local xb = self._aug:augment(xs, core.zeros(xs:shape()))
  if gen.preprocessing_function then
    for i = 1, xb:size(1) do
      local img = gen.preprocessing_function(xb:select(1, i))
      if img ~= nil then xb:select(1, i):copy(img) end
    end
  end
  core.image_standardize(xb, cfg)
  if not self.y then return xb end
  return xb, self.y:index(1, idx), self.sample_weight and self.sample_weight:index(1, idx)
end

NumpyArrayIterator.__call = NumpyArrayIterator.next

setmetatable(NumpyArrayIterator, {__call = function(_, ...) return NumpyArrayIterator.new(...) end})

--- apply_affine_transform(x, {theta = 0, tx = 0, ty = 0, shear = 0, zx = 1, zy = 1,
--   fill_mode = "nearest", cval = 0, order = 1}) -> a transformed copy of one image
-- (H, W, C): Keras' function of that name (angles in degrees, tx along rows).
function image.apply_affine_transform(x, opts)
  check_images(x, "apply_affine_transform", 3)
  opts = opts or {}
  check_params(opts, "apply_affine_transform")
  local mode = opts.fill_mode or "nearest"
  if not FILL_MODES[mode] then
    fail(("apply_affine_transform: unknown fill_mode '%s' (one of constant, nearest, reflect, wrap)"):format(
      tostring(mode)), 2)
  end
  local params = {theta = opts.theta, tx = opts.tx, ty = opts.ty, shear = opts.shear, zx = opts.zx, zy = opts.zy}
  return core.image_apply_transform(x:contiguous(), params, mode, opts.cval or 0, opts.order or 1)
end

return image
