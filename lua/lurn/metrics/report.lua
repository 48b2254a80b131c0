--- scikit-learn's classification_report (1.2), to the character: precision, recall, F1 and
-- support of each label, then the accuracy (or micro average), macro and weighted averages.
local core = require "lurn.core"
local options = require "lurn.options"
local at_user_line = require "lurn.at_user_line"
local classification = require "lurn.metrics.classification"

local report = {}

local prfs = classification.precision_recall_fscore_support

-- Python's str(float): the shortest digits that read back the same number, in fixed notation
-- from 1e-4 to 1e16 (with ".0" for a whole number), else with an exponent.
local function python_float(v)
  if v ~= v then return "nan" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
  local p = 1
  while p < 17 and tonumber(("%." .. (p - 1) .. "e"):format(v)) ~= v do p = p + 1 end
  local exp = v == 0 and 0 or tonumber(("%." .. (p - 1) .. "e"):format(v):match("e([-+]%d+)$"))
  if exp < -4 or exp >= 16 then return ("%." .. (p - 1) .. "e"):format(v) end
  local s = ("%." .. math.max(p - 1 - exp, 0) .. "f"):format(v)
  if not s:find("%.") then s = s .. ".0" end
  return s
end

-- A support as scikit-learn prints it: an integer count, or a float when samples are weighted.
local function support_text(v, weighted)
  if weighted then return python_float(v) end
  return ("%d"):format(math.tointeger(v) or v)
end

local function text_width(s)
  return utf8.len(s) or #s
end

local function pad_left(s, width)
  return (" "):rep(width - text_width(s)) .. s
end

local function sum(list)
  local s = 0
  for _, v in ipairs(list) do s = s + v end
  return s
end

local function same_set(a, b)
  local in_a, in_b = {}, {}
  for _, v in ipairs(a) do in_a[v] = true end
  for _, v in ipairs(b) do in_b[v] = true end
  for k in pairs(in_a) do if not in_b[k] then return false end end
  for k in pairs(in_b) do if not in_a[k] then return false end end
  return true
end

--- classification_report(y_true, y_pred, {labels=, target_names=, sample_weight=, digits=2,
-- output_dict=false, zero_division="warn"}) -> the text, or with output_dict a table
-- {[name] = {precision=, recall=, ["f1-score"]=, support=}, accuracy = number | ["micro avg"] =
-- {...}, ["macro avg"] = {...}, ["weighted avg"] = {...}}.
report.classification_report = at_user_line(function(y_true, y_pred, opts)
  local who = "classification_report"
  options.check(opts, {"labels", "target_names", "sample_weight", "digits", "output_dict", "zero_division"}, who, 2)
  opts = opts or {}
  local digits = opts.digits or 2
  if math.type(digits) ~= "integer" or digits < 0 or digits > 30 then
    error(("%s: digits must be a whole number from 0 to 30, got %s"):format(who, tostring(digits)), 2)
  end
  local present = core.labels_present(who, y_true, y_pred)
  local labels = classification._label_list(who, opts.labels, 2)
  local micro_is_accuracy = labels == nil or same_set(labels, present)
  labels = labels or present
  local names = opts.target_names
  if names ~= nil then
    if type(names) ~= "table" then error(who .. ": target_names must be a list of strings", 2) end
    if #names ~= #labels and opts.labels == nil then
      error(("%s: %d classes but %d target_names (pass labels = {...} to name a subset)"):format(who, #labels,
        #names), 2)
    end
  else
    names = {}
    for i, l in ipairs(labels) do names[i] = ("%d"):format(math.tointeger(l) or l) end
  end
  local common = {labels = labels, sample_weight = opts.sample_weight, zero_division = opts.zero_division}
  local function with(average)
    local t = {average = average}
    for k, v in pairs(common) do t[k] = v end
    return t
  end
  local p, r, f, s = prfs(y_true, y_pred, with(false))
  local rows = math.min(#names, #labels)  -- scikit-learn zips them: the shorter list decides
  local total = sum(s)
  local weighted = opts.sample_weight ~= nil
  local averages = {}
  for _, average in ipairs {"micro", "macro", "weighted"} do
    local ap, ar, af = prfs(y_true, y_pred, with(average))
    local heading = (average == "micro" and micro_is_accuracy) and "accuracy" or average .. " avg"
    averages[#averages + 1] = {heading, ap, ar, af}
  end

  if opts.output_dict then
    local out = {}
    for i = 1, rows do
      out[tostring(names[i])] = {precision = p[i], recall = r[i], ["f1-score"] = f[i],
                                 support = weighted and s[i] or math.tointeger(s[i])}
    end
    for _, a in ipairs(averages) do
      if a[1] == "accuracy" then out.accuracy = a[4]
      else
        out[a[1]] = {precision = a[2], recall = a[3], ["f1-score"] = a[4],
                     support = weighted and total or math.tointeger(total)}
      end
    end
    return out
  end

  local width = math.max(text_width("weighted avg"), digits)
  for i = 1, rows do width = math.max(width, text_width(tostring(names[i]))) end
  local number = "%9." .. digits .. "f"
  local lines = {pad_left("", width) .. " " .. (" %9s"):rep(4):format("precision", "recall", "f1-score", "support"),
                 "", ""}
  local out = table.concat(lines, "\n")
  local function row(name, a, b, c, support)
    return pad_left(name, width) .. " " .. " " .. number:format(a) .. " " .. number:format(b) .. " "
      .. number:format(c) .. " " .. pad_left(support, 9) .. "\n"
  end
  for i = 1, rows do out = out .. row(tostring(names[i]), p[i], r[i], f[i], support_text(s[i], weighted)) end
  out = out .. "\n"
  for _, a in ipairs(averages) do
    if a[1] == "accuracy" then
      out = out .. pad_left("accuracy", width) .. " " .. (" %9s"):rep(2):format("", "") .. " " .. number:format(a[4])
        .. " " .. pad_left(support_text(total, weighted), 9) .. "\n"
    else
      out = out .. row(a[1], a[2], a[3], a[4], support_text(total, weighted))
    end
  end
  return out
end)

return report
