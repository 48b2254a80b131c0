--- The doctor's report (issue 19): the findings of lurn.doctor's checks, most severe
-- first, each with its evidence (numbers) and its fix in the user's vocabulary.
--
-- A finding is {code =, severity = "error" | "warning" | "info", layer = (a layer name or
-- nil), evidence = {plain numbers and strings}, message =, fix =}; codes are stable and
-- documented in docs/doctor.md. Every check adds its findings with report:add(finding);
-- report:has(code), tostring(report), report:write_html(path) and report:repair(...) read
-- them. Internal layout: findings in the order added; sorted views made when asked.
local at_user_line = require "lurn.at_user_line"

local Report = {}
Report.__index = Report

local SEVERITIES = {error = 1, warning = 2, info = 3}
Report.SEVERITIES = SEVERITIES

--- The stable codes (docs/doctor.md, "Findings"), by kind.
Report.CODES = {
  data = {"unscaled_features", "missing_values", "constant_feature", "outliers", "class_imbalance",
          "split_missing_class", "train_test_overlap", "label_noise", "label_encoding_mismatch"},
  model = {"loss_output_mismatch", "symmetric_initialization", "no_nonlinearity", "bottleneck"},
  training = {"lr_too_high", "lr_too_low", "exploding_gradients", "vanishing_gradients", "dead_relu", "saturation",
              "nan_loss", "overfitting", "underfitting"},
}
local KNOWN = {}
for _, kind in pairs(Report.CODES) do
  for _, code in ipairs(kind) do KNOWN[code] = true end
end

-- A misspelt code would answer "not found" forever: it is an error instead.
local function check_code(code, who)
  if KNOWN[code] then return end
  local names = {}
  for _, kind in ipairs{"data", "model", "training"} do
    for _, c in ipairs(Report.CODES[kind]) do names[#names + 1] = c end
  end
  error(("report:%s: unknown code '%s' (codes: %s)"):format(who, tostring(code), table.concat(names, ", ")), 3)
end

--- An empty report.
function Report.new()
  return setmetatable({findings = {}}, Report)
end

--- Adds a finding (checked: a code, a known severity, a message and a fix).
function Report:add(f)
  assert(type(f) == "table" and type(f.code) == "string" and SEVERITIES[f.severity]
    and type(f.message) == "string", "doctor: a finding needs code, severity (error|warning|info) and message")
  assert(KNOWN[f.code], "doctor: unknown finding code " .. tostring(f.code))
  f.evidence = f.evidence or {}
  self.findings[#self.findings + 1] = f
  return f
end

--- Whether a finding of `code` is there (any severity, or the given one).
function Report:has(code, severity)
  check_code(code, "has")
  if severity ~= nil and not SEVERITIES[severity] then
    error(("report:has: severity must be error, warning or info, got %s"):format(tostring(severity)), 2)
  end
  for _, f in ipairs(self.findings) do
    if f.code == code and (severity == nil or f.severity == severity) then return true end
  end
  return false
end

--- The findings of `code` (a list, maybe empty: a code can be found at several layers or
-- splits; report:get(code)[1] is the first).
function Report:get(code)
  check_code(code, "get")
  local out = {}
  for _, f in ipairs(self.findings) do
    if f.code == code then out[#out + 1] = f end
  end
  return out
end

--- The findings most severe first (stable: the order added within a severity).
function Report:sorted()
  local list = {}
  for i, f in ipairs(self.findings) do list[i] = {f = f, i = i} end
  table.sort(list, function(a, b)
    local sa, sb = SEVERITIES[a.f.severity], SEVERITIES[b.f.severity]
    if sa ~= sb then return sa < sb end
    return a.i < b.i
  end)
  for i, e in ipairs(list) do list[i] = e.f end
  return list
end

--- Findings of every report in `others` added to this one (a diagnosis gathers its parts).
function Report:merge(other)
  for _, f in ipairs(other.findings) do self.findings[#self.findings + 1] = f end
  return self
end

--- The evidence fields only the page's plots read (docs/doctor.md, "Plottable evidence"):
-- their numbers are drawn there, not listed in the text or the evidence table.
Report.PLOT_FIELDS = {loss_curve = true, val_loss_curve = true, loss_steps = true, loss_x_label = true,
                      baseline_loss = true, baseline_label = true, lr_curve = true, rate_curves = true,
                      layer_curves = true, layer_curves_label = true, per_layer = true, per_layer_label = true,
                      per_feature = true, per_feature_label = true, per_class = true, per_class_label = true,
                      split_class_counts = true}

local function evidence_text(e)
  local keys = {}
  for k in pairs(e) do
    if not Report.PLOT_FIELDS[k] then keys[#keys + 1] = tostring(k) end
  end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = e[k]
    if math.type(v) == "float" then v = ("%.4g"):format(v) end
    if type(v) == "table" then
      local items = {}
      for i, x in ipairs(v) do
        if type(x) == "table" then  -- a row such as per_layer's {layer =, value =}
          local val = x.value
          x = ("%s: %s"):format(tostring(x.layer or x.name or x[1] or "?"),
            math.type(val) == "float" and ("%.4g"):format(val) or tostring(val or x[2]))
        end
        items[i] = math.type(x) == "float" and ("%.4g"):format(x) or tostring(x)
      end
      v = "{" .. table.concat(items, ", ") .. "}"
    end
    parts[#parts + 1] = ("%s = %s"):format(k, tostring(v))
  end
  return table.concat(parts, ", ")
end

--- A readable summary: a line per finding, most severe first, with evidence and fix.
function Report:__tostring()
  if #self.findings == 0 then return "lurn doctor: no findings" end
  local counts = {error = 0, warning = 0, info = 0}
  for _, f in ipairs(self.findings) do counts[f.severity] = counts[f.severity] + 1 end
  local lines = {("lurn doctor: %d error(s), %d warning(s), %d note(s)"):format(counts.error, counts.warning,
    counts.info)}
  for _, f in ipairs(self:sorted()) do
    lines[#lines + 1] = ("[%s] %s%s: %s"):format(f.severity, f.code, f.layer and (" (" .. f.layer .. ")") or "",
      f.message)
    if next(f.evidence) then lines[#lines + 1] = "    evidence: " .. evidence_text(f.evidence) end
    if f.fix then lines[#lines + 1] = "    fix: " .. f.fix end
  end
  return table.concat(lines, "\n")
end

--- report:write_html(path [, opts]): the findings as a self-contained page with their
-- plots (report_html.lua). report:repair(build_or_model [, opts]): the mechanical fixes
-- applied (repair.lua). Both loaded when first called.
function Report:write_html(path, opts) return require("lurn.doctor.report_html").write(self, path, opts) end
function Report:repair(build_or_model, opts) return require("lurn.doctor.repair").repair(self, build_or_model, opts) end

-- The methods a user calls report their argument errors at the user's line, however they
-- are called (a tail call, a call from a builder inside repair).
for _, name in ipairs{"has", "get", "write_html", "repair"} do Report[name] = at_user_line(Report[name]) end

return Report
