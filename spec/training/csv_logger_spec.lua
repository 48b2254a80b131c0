-- CSVLogger writes what Keras 2's does (tf.keras 2.x callbacks.py, Python's csv module
-- with the excel dialect): "epoch" then the first epoch's log keys sorted, val_<key> added
-- for each key when no key begins with val_, "NA" for a key missing later, floats as
-- Python's repr, fields with the separator, a quote or a line break quoted (quotes
-- doubled), lines ending in "\r\n"; append = true writes the header only to a missing or
-- empty file.
local lurn = require "lurn"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function lines(text)
  local out = {}
  for line in text:gmatch("(.-)\r\n") do out[#out + 1] = line end
  return out
end

local function split(line, sep)
  local out = {}
  for field in (line .. sep):gmatch("(.-)" .. sep:gsub("%p", "%%%0")) do out[#out + 1] = field end
  return out
end

-- A small classifier; fits `epochs` epochs with the callbacks (extra fit options in more).
local function fit(callbacks, epochs, more)
  lurn.manual_seed(3)
  local x = lurn.randn{12, 3}
  local y = lurn.tensor{0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0}
  local m = lurn.Sequential{lurn.layers.Dense(2, {input_shape = {3}, activation = "softmax"})}
  m:compile{optimizer = "sgd", loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
  local opts = {epochs = epochs or 2, batch_size = 4, verbose = 0, callbacks = callbacks}
  for k, v in pairs(more or {}) do opts[k] = v end
  return m:fit(x, y, opts), m
end

local path
before_each(function() path = os.tmpname() end)
after_each(function() os.remove(path) end)

describe("CSVLogger", function()
  it("writes epoch then the sorted keys, one row per epoch, the numbers as the history has them", function()
    local h = fit({lurn.callbacks.CSVLogger(path)}, 2, {validation_data = {lurn.randn{4, 3}, lurn.tensor{0, 1, 1, 0}}})
    local text = read(path)
    local rows = lines(text)
    assert.equal(#text, #table.concat(rows, "\r\n") + 2)  -- every line ends in \r\n
    assert.same({"epoch,accuracy,loss,val_accuracy,val_loss", "0", "1"},
      {rows[1], split(rows[2], ",")[1], split(rows[3], ",")[1]})
    assert.equal(3, #rows)
    local columns = split(rows[1], ",")
    for e = 1, 2 do
      local fields = split(rows[e + 1], ",")
      for i = 2, #columns do
        assert.equal(h.history[columns[i]][e], tonumber(fields[i]))  -- exact: the shortest text that reads back
        assert.is_nil(fields[i]:find("e%-0%d%d"))
      end
    end
  end)

  it("adds val_ columns (NA) when the first epoch has no val_ key, as Keras 2", function()
    fit({lurn.callbacks.CSVLogger(path)}, 1)
    local rows = lines(read(path))
    assert.equal("epoch,accuracy,loss,val_accuracy,val_loss", rows[1])
    assert.truthy(rows[2]:match("^0,[^,]+,[^,]+,NA,NA$"), rows[2])
  end)

  it("writes floats as Python does, quotes what must be, NA for a key gone later", function()
    local inject = lurn.callbacks.LambdaCallback{on_epoch_end = function(epoch, logs)
      logs.loss, logs.accuracy = nil, nil
      if epoch == 0 then
        logs.a, logs.b, logs.c, logs.d, logs.e, logs.f = 1.0, 1e-05, 0.1, 0 / 0, math.huge, 123456789.0
        logs.g, logs.h, logs.i = 'say "hi"', "x;y", 7
      end
      logs.val_z = 0.25
    end}
    fit({inject, lurn.callbacks.CSVLogger(path, {separator = ";"})}, 2)
    local rows = lines(read(path))
    assert.same({"epoch;a;b;c;d;e;f;g;h;i;val_z",
                 '0;1.0;1e-05;0.1;nan;inf;123456789.0;"say ""hi""";"x;y";7;0.25',
                 "1;NA;NA;NA;NA;NA;NA;NA;NA;NA;0.25"}, rows)
  end)

  it("takes the lr key ReduceLROnPlateau adds, and the 0-based epochs after initial_epoch", function()
    fit({lurn.callbacks.ReduceLROnPlateau{monitor = "loss"}, lurn.callbacks.CSVLogger(path)}, 3,
        {initial_epoch = 1, validation_data = {lurn.randn{4, 3}, lurn.tensor{0, 1, 1, 0}}})
    local rows = lines(read(path))
    assert.equal("epoch,accuracy,loss,lr,val_accuracy,val_loss", rows[1])
    assert.equal("1", split(rows[2], ",")[1])
    assert.equal("0.009999999776482582", split(rows[2], ",")[4])  -- the float32 rate SGD(0.01) uses, in full
    assert.equal(3, #rows)
  end)

  it("appends without a second header, and writes one to a missing or empty file", function()
    os.remove(path)
    fit({lurn.callbacks.CSVLogger(path, {append = true})}, 1)
    fit({lurn.callbacks.CSVLogger(path, {append = true})}, 2)
    local rows = lines(read(path))
    assert.equal(4, #rows)
    assert.equal("epoch,accuracy,loss,val_accuracy,val_loss", rows[1])
    assert.same({"0", "0", "1"}, {rows[2]:sub(1, 1), rows[3]:sub(1, 1), rows[4]:sub(1, 1)})
    write(path, "")
    fit({lurn.callbacks.CSVLogger(path, {append = true})}, 1)
    assert.equal(2, #lines(read(path)))
    -- a file whose first line is blank is not empty: Keras writes no header either
    write(path, "\r\n")
    fit({lurn.callbacks.CSVLogger(path, {append = true})}, 1)
    rows = lines(read(path))
    assert.same({"", "0"}, {rows[1], rows[2]:sub(1, 1)})
    -- append = false replaces the file
    fit({lurn.callbacks.CSVLogger(path)}, 1)
    assert.equal(2, #lines(read(path)))
  end)

  it("refuses bad options at the caller's line, and names a file it cannot write", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(lurn.callbacks.CSVLogger, path, {separator = ";;"})
    assert.is_false(ok)
    assert.truthy(err:find(("csv_logger_spec.lua:%d: CSVLogger: separator must be a 1-character string, got ';;'")
      :format(line), 1, true), err)
    assert.error_matches(function() lurn.callbacks.CSVLogger() end, "CSVLogger: filename must be a path")
    assert.error_matches(function() lurn.callbacks.CSVLogger(path, {append = "yes"}) end,
      "append must be true or false")
    assert.error_matches(function() lurn.callbacks.CSVLogger(path, {separator = '"'}) end, "cannot be a quote")
    assert.error_matches(function() lurn.callbacks.CSVLogger(path, {sep = ";"}) end,
      "CSVLogger: unknown option 'sep' %(known: append, filename, separator%)")
    local cb = lurn.callbacks.CSVLogger{filename = path, separator = "\t"}
    assert.same({path, "\t", false}, {cb.filename, cb.separator, cb.append})
    local missing = "/nonexistent-lurn-dir/log.csv"
    ok, err = pcall(fit, {lurn.callbacks.CSVLogger(missing)}, 1)
    assert.is_false(ok)
    local pattern = "^[^\n]-csv_logger_spec.lua:%d+: CSVLogger: cannot write " .. missing:gsub("%p", "%%%0")
    assert.truthy(err:find(pattern), err)
  end)
end)
