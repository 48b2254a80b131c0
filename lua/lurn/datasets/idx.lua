--- Data sets stored as four IDX files in one folder, the layout of MNIST and of the
-- data sets made to replace it:
--   train-images-idx3-ubyte  train-labels-idx1-ubyte  t10k-images-idx3-ubyte  t10k-labels-idx1-ubyte
-- each gzip'd (name.gz, looked for first) or plain. The files are read in C
-- (lurn.core.load_idx); this file finds them, checks that they belong together and
-- turns every failure into an error that names the file and what to do about it.
--
-- Where the folder is, first that applies:
--   load_data{path = FOLDER}   the four files are in FOLDER itself;
--   LURN_DATA=ROOT             they are in ROOT/<name>/ (ROOT/fashion-mnist/, ROOT/mnist/),
--                              the layout of /usr/share/datasets;
--   the data set's default     for Fashion-MNIST, Debian's /usr/share/datasets/fashion-mnist.
local core = require "lurn.core"

local idx = {}

local FILES = {
  {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
  {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
}

local function readable(file)
  local f = io.open(file, "rb")
  if f then f:close() end
  return f ~= nil
end

-- The folder to read, and a note on where that choice came from (for messages).
local function find_folder(ds, opts)
  if opts.path ~= nil then
    if type(opts.path) ~= "string" or opts.path == "" then
      error(("%s.load_data: path must be a folder name, got %s"):format(ds.name, type(opts.path)), 0)
    end
    return opts.path, " (folder given by path=)"
  end
  local root = os.getenv "LURN_DATA"
  if root and root ~= "" then return root .. "/" .. ds.folder, " (folder from LURN_DATA=" .. root .. ")" end
  if ds.default then return ds.default, "" end
  error(("%s.load_data: no folder given: pass path= a folder holding %s.gz and the other three IDX files, "
    .. "or set LURN_DATA to a folder that has %s/ in it"):format(ds.name, FILES[1][1], ds.folder), 0)
end

local function locate(ds, folder, origin, base)
  local gz = folder .. "/" .. base .. ".gz"
  if readable(gz) then return gz end
  if readable(folder .. "/" .. base) then return folder .. "/" .. base end
  error(("%s.load_data: %s not found%s; %s"):format(ds.name, gz, origin, ds.missing_hint), 0)
end

local function load_file(ds, file)
  local ok, t = pcall(core.load_idx, file)
  if not ok then error(("%s.load_data: %s; %s"):format(ds.name, t, ds.damaged_hint), 0) end
  return t
end

local function shape_str(t)
  return "(" .. table.concat(t:shape(), ", ") .. (t:dim() == 1 and ",)" or ")")
end

-- Images (N, rows, cols) and labels (N) in 0..classes-1, read from one pair of files.
local function load_split(ds, folder, origin, names)
  local image_file, label_file = locate(ds, folder, origin, names[1]), locate(ds, folder, origin, names[2])
  local x, y = load_file(ds, image_file), load_file(ds, label_file)
  local function fail(fmt, ...) error(("%s.load_data: " .. fmt):format(ds.name, ...), 0) end
  if x:dim() ~= 3 then fail("%s holds %s values; expected images (N, rows, cols)", image_file, shape_str(x)) end
  if y:dim() ~= 1 then fail("%s holds %s values; expected labels (N,)", label_file, shape_str(y)) end
  if x:size(1) ~= y:size(1) then
    fail("%s has %d images but %s has %d labels", image_file, x:size(1), label_file, y:size(1))
  end
  if y:numel() > 0 then
    local lo, hi = y:min(), y:max()
    if lo < 0 or hi > ds.classes - 1 or y:ne(y:floor()):sum() > 0 then
      fail("%s has labels from %g to %g; expected whole numbers 0..%d", label_file, lo, hi, ds.classes - 1)
    end
  end
  return x, y, image_file
end

--- Loads data set `ds` as Keras does: x_train, y_train, x_test, y_test, with images as
-- float32 (N, rows, cols) of 0..255 and labels 0-based. `ds` describes the data set:
-- name (for messages), folder (under LURN_DATA), default (folder or nil), classes,
-- missing_hint and damaged_hint (what to do when a file is missing or damaged).
function idx.load_data(ds, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error(("%s.load_data: expected a table of options {path = ...}, got %s"):format(ds.name, type(opts)), 0)
  end
  local folder, origin = find_folder(ds, opts or {})
  local x_train, y_train, train_file = load_split(ds, folder, origin, FILES[1])
  local x_test, y_test, test_file = load_split(ds, folder, origin, FILES[2])
  if x_train:size(2) ~= x_test:size(2) or x_train:size(3) ~= x_test:size(3) then
    error(("%s.load_data: images of %s are %dx%d but those of %s are %dx%d"):format(ds.name, train_file,
      x_train:size(2), x_train:size(3), test_file, x_test:size(2), x_test:size(3)), 0)
  end
  return x_train, y_train, x_test, y_test
end

return idx
