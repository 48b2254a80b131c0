--- scaling_check(build, x, y, opts): the model trained on the raw features, then on
-- features scaled by StandardScaler and by MinMaxScaler (each fitted on the training split
-- only, then applied to both splits), from the same seed; with the spread of the raw
-- features' standard deviations, the mechanism: features of disparate magnitudes make
-- some weights learn far faster than others.
local runs = require "lurn.experiments.runs"
local report = require "lurn.experiments.report"
local variants = require "lurn.experiments.variants"
local preprocessing = require "lurn.preprocessing"

local WHO = "scaling_check"

local function default_scalers()
  return {{name = "raw"}, {name = "StandardScaler", scaler = preprocessing.StandardScaler},
          {name = "MinMaxScaler", scaler = preprocessing.MinMaxScaler}}
end

-- The raw training features' standard deviations: smallest and largest above 0, and
-- the number of constant features.
local function spread(x)
  local std = x:reshape(x:size(1), -1):std(1):totable()
  local lo, hi, constant = nil, nil, 0
  for _, s in ipairs(std) do
    if s > 0 then
      lo, hi = math.min(lo or s, s), math.max(hi or s, s)
    else
      constant = constant + 1
    end
  end
  return {min_std = lo, max_std = hi, ratio = lo and hi / lo, constant = constant, features = #std}
end

local function conclude(result)
  local out = variants.conclude(result.runs)
  local raw, best_scaled
  for _, r in ipairs(result.runs) do
    if r.name == "raw" then
      raw = r
    elseif not r.diverged and r.best_val_loss and (best_scaled == nil or r.best_val_loss < best_scaled.best_val_loss) then
      best_scaled = r
    end
  end
  local s = result.feature_spread
  local disparate = s.ratio and s.ratio >= 10
  out[#out + 1] = s.ratio and ("The raw features' standard deviations range from %s to %s (%.3g x)%s."):format(
    report.number(s.min_std), report.number(s.max_std), s.ratio,
    s.constant > 0 and (", and " .. s.constant .. " feature(s) are constant") or "")
    or "Every raw feature is constant."
  if not raw or not best_scaled then return out end
  local raw_loss = (not raw.diverged) and raw.best_val_loss or math.huge
  local gain = raw_loss == math.huge and 1 or (raw_loss - best_scaled.best_val_loss) / math.abs(raw_loss)
  if gain > 0.05 then
    out[#out + 1] = ("Scaling helped: %s's best validation loss is %s below raw's%s."):format(best_scaled.name,
      raw_loss == math.huge and "far" or report.percent(gain), raw.diverged and " (raw diverged)" or "")
    if not disparate then
      out[#out + 1] = "It helped although the raw scales are within 10 x of each other: the offset (mean) of the features may be what mattered."
    end
  elseif disparate then
    out[#out + 1] = ("Scaling did not help here (best scaled %s against raw %s) although the raw scales differ by "
      .. "%.3g x: the expected effect is not shown by this evidence (more epochs, or another learning rate, may "
      .. "show it)."):format(report.number(best_scaled.best_val_loss), report.number(raw_loss), s.ratio)
  else
    out[#out + 1] = ("Scaling made no clear difference (best scaled %s against raw %s), as expected with raw scales "
      .. "already within 10 x of each other."):format(report.number(best_scaled.best_val_loss),
      report.number(raw_loss))
  end
  return out
end

local function scaling_check(build, x, y, opts)
  opts = runs.options(WHO, opts, {"scalers", "diverge_factor"})
  local list = opts.scalers or default_scalers()
  if type(list) ~= "table" or #list == 0 then
    error(WHO .. ": scalers must be a list of {name =, scaler =} (scaler nil for the raw features)", 0)
  end
  local entries = {}
  for i, s in ipairs(list) do
    if type(s) ~= "table" or s.name == nil then error(("%s: scalers[%d] must be {name =, scaler =}"):format(WHO, i), 0) end
    runs.scaler(("%s: scalers[%d]"):format(WHO, i), s.scaler or preprocessing.StandardScaler)  -- checked now
    entries[i] = {name = s.name, scaler = s.scaler}
  end
  local make = runs.maker(WHO, build)
  local train, val = runs.split(WHO, x, y, opts)
  local result = {feature_spread = spread(train.x)}
  result.runs = variants.train(WHO, make, entries, train, val, opts)
  local draw
  draw, result.plots = report.plotter(WHO, opts)
  variants.plot(draw, result.runs)
  result.conclusion = conclude(result)
  local names = {}
  for i, e in ipairs(entries) do names[i] = tostring(e.name) end
  result.report = report.section("Feature scaling",
    ("The same model on %s features, each scaler fitted on the %d training samples only and applied to them and to "
      .. "the %d validation samples; %d epochs from the same seed (%d)."):format(table.concat(names, " / "),
      train.x:size(1), val.x:size(1), opts.epochs, opts.seed),
    variants.table(result.runs), result.conclusion, result.plots)
  return result
end

return scaling_check
