--- lurn.data.check_splits{train = y_train, val = y_val, test = y_test [, classes =,
-- verbose = false]}: how many samples of each class every split holds, and which classes
-- a split lacks (a class seen in no split at all is only known when `classes` lists the
-- expected ones, or when one-hot labels have a column for it). Labels are in any form
-- lurn takes: a tensor (N,) or (N, 1) of class numbers, one-hot rows (N, C) (classes 0 to
-- C - 1), or a Lua list of strings. Any key other than classes and
-- verbose names a split.
--
-- Returns {ok = true | false, classes = {sorted classes}, splits = {names, in order},
--          counts = {split = {[class] = n}}, totals = {split = n},
--          missing = {split = {classes absent from it}}} (missing is empty when ok);
-- with verbose = true it also prints a table of counts and shares per split.
local core = require "lurn.core"
local labels = require "lurn.preprocessing.labels"

local ORDER = {"train", "training", "val", "valid", "validation", "dev", "test"}

local function split_names(splits)
  local names, seen = {}, {}
  for _, name in ipairs(ORDER) do
    if splits[name] ~= nil then names[#names + 1], seen[name] = name, true end
  end
  local rest = {}
  for name in pairs(splits) do
    if not seen[name] and name ~= "classes" and name ~= "verbose" then rest[#rest + 1] = name end
  end
  table.sort(rest, function(a, b) return tostring(a) < tostring(b) end)
  for _, name in ipairs(rest) do names[#names + 1] = name end
  return names
end

-- The sorted union of the class lists (tensors, or lists of strings).
local function union(class_lists, kind)
  if kind == "number" then return (core.unique(core.cat(class_lists, 1))) end
  local all = {}
  for _, list in ipairs(class_lists) do table.move(list, 1, #list, #all + 1, all) end
  return (core.unique_strings(all))
end

local function class_text(v) return v == false and "(missing)" or tostring(v) end

local function print_table(result)
  local header = {"class"}
  for _, name in ipairs(result.splits) do header[#header + 1] = tostring(name) end
  local rows = {header}
  for _, c in ipairs(result.classes) do
    local row = {class_text(c)}
    for _, name in ipairs(result.splits) do
      local n, total = result.counts[name][c], result.totals[name]
      row[#row + 1] = ("%d (%.1f%%)"):format(n, total > 0 and 100 * n / total or 0)
    end
    rows[#rows + 1] = row
  end
  local total_row = {"total"}
  for _, name in ipairs(result.splits) do total_row[#total_row + 1] = tostring(result.totals[name]) end
  rows[#rows + 1] = total_row
  local widths = {}
  for _, row in ipairs(rows) do
    for j, cell in ipairs(row) do widths[j] = math.max(widths[j] or 0, #cell) end
  end
  for _, row in ipairs(rows) do
    local cells = {}
    for j, cell in ipairs(row) do cells[j] = j == 1 and ("%-" .. widths[j] .. "s"):format(cell)
      or ("%" .. widths[j] .. "s"):format(cell) end
    print(table.concat(cells, "  "))
  end
  for _, name in ipairs(result.splits) do
    local miss = result.missing[name]
    if miss then
      local texts = {}
      for i, c in ipairs(miss) do texts[i] = class_text(c) end
      print(("missing from %s: %s"):format(tostring(name), table.concat(texts, ", ")))
    end
  end
end

return function(splits)
  local who = "check_splits"
  if type(splits) ~= "table" then
    error(who .. ": expected a table of splits, e.g. {train = y_train, val = y_val, test = y_test}", 2)
  end
  local names = split_names(splits)
  if #names == 0 then error(who .. ": no split given, e.g. {train = y_train, test = y_test}", 2) end
  local per_split, class_lists, kind = {}, {}, nil
  for _, name in ipairs(names) do
    local lab = labels.of(splits[name], ("%s: split '%s'"):format(who, tostring(name)), 2)
    if kind and lab.kind ~= kind then error(("%s: split '%s' has %s labels, the others %s labels"):format(
      who, tostring(name), lab.kind, kind), 2) end
    kind = lab.kind
    per_split[name] = lab
    class_lists[#class_lists + 1] = lab.classes
    local y = splits[name]
    if core.is_tensor(y) and y:dim() == 2 and y:size(2) > 1 then
      -- one-hot rows name every class by their width, even one no row holds
      class_lists[#class_lists + 1] = core.arange(0, y:size(2))
    end
  end
  if splits.classes ~= nil then
    local expected, ekind = labels.values(splits.classes, who .. ": classes", 2)
    if ekind ~= kind then error(("%s: classes are %ss but the labels are %ss"):format(who, ekind, kind), 2) end
    class_lists[#class_lists + 1] = expected
  end
  local all = union(class_lists, kind)
  local k = kind == "number" and all:size(1) or #all
  if kind == "number" and all:get(k) ~= all:get(k) then error(who .. ": the labels hold NaN", 2) end
  local result = {ok = true, classes = {}, splits = names, counts = {}, totals = {}, missing = {}}
  for i = 1, k do result.classes[i] = labels.class_value(all, i) end
  for _, name in ipairs(names) do
    local lab, counts = per_split[name], {}
    for _, c in ipairs(result.classes) do counts[c] = 0 end
    local split_counts = lab.counts:totable()
    for i = 1, lab.k do counts[labels.class_value(lab.classes, i)] = math.tointeger(split_counts[i]) end
    result.counts[name], result.totals[name] = counts, labels.count(lab.codes)
    for _, c in ipairs(result.classes) do
      if counts[c] == 0 then
        result.missing[name] = result.missing[name] or {}
        table.insert(result.missing[name], c)
        result.ok = false
      end
    end
  end
  if splits.verbose then print_table(result) end
  return result
end
