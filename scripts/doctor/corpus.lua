--- The doctor's development corpus (issue 19): broken cases, each with the code it must
-- get, their fixed twins, and healthy models on the shipped data sets. For each case the
-- doctor runs (lurn.doctor.diagnose, or check_data for a data-only case); the runner
-- measures detection (each broken case gets its code, any severity), false positives (no
-- healthy case or fixed twin gets a warning or an error) and the repair rate (a broken
-- case's model repaired by report:repair reaches its fixed twin's validation metric
-- within 2 points), and prints them as Markdown for docs/doctor.md.
--
--   build/lurn scripts/doctor/corpus.lua [--tiny] [--only NAME,...]
--
-- The cases live in scripts/doctor/cases/ by kind (kit.lua holds what they share).
-- A case: {name =, code = (the expected code) | healthy = true, twin_of = (the broken
-- case this one fixes), data_only = true (check_data only), tiny = true (in --tiny),
-- build = function(epochs) return model, x, y, {validation_data = {xv, yv}, epochs =,
-- batch_size =} end}. A case whose check is not written yet is "not available", not a
-- failure.
local lurn = rawget(_G, "lurn") or require "lurn"

local args = {...}
local tiny, only = false, nil
for i, a in ipairs(args) do
  if a == "--tiny" then tiny = true end
  if a == "--only" and args[i + 1] then
    only = {}
    for n in args[i + 1]:gmatch("[^,]+") do only[n] = true end
  end
end

local ROOT = (arg and arg[0] and arg[0]:match("^(.*)/scripts/doctor/[^/]*$")) or "."
local EPOCHS = tiny and 3 or 40
local kit = dofile(ROOT .. "/scripts/doctor/cases/kit.lua")
kit.ROOT = ROOT
local SEED = kit.SEED

-- The cases, by kind, in scripts/doctor/cases/: data, model, gradients, training, healthy.
local CASES = {}
for _, kind in ipairs{"data", "model", "gradients", "training", "healthy"} do
  for _, case in ipairs(dofile(("%s/scripts/doctor/cases/%s.lua"):format(ROOT, kind))(kit)) do
    case.kind = kind
    CASES[#CASES + 1] = case
  end
end

-- The doctor's entry point `name` (from `doctor`, lurn.doctor unless the runner is given
-- another), or nil when it is not written yet.
local function entry(name, doctor)
  local ok, fn = pcall(function() return (doctor or lurn.doctor)[name] end)
  return ok and fn or nil
end

-- The report of the doctor on a case, the entry point used, or nil and why not.
local function examine(case, model, x, y, opts, doctor)
  local check_data, diagnose = entry("check_data", doctor), entry("diagnose", doctor)
  if case.data_only or (case.healthy and not diagnose) then
    if not check_data then return nil, "check_data not available" end
    return check_data(x, y, {validation_data = opts.validation_data, class_weight = opts.class_weight}), case.data_only and "check_data"
      or "check_data (diagnose not available)"
  end
  if not diagnose then return nil, "diagnose not available" end
  return diagnose(model, x, y, {validation_data = opts.validation_data, epochs = opts.epochs,
                                batch_size = opts.batch_size, class_weight = opts.class_weight}), "diagnose"
end

-- The last validation metric of a fit (accuracy), with x and the validation x mapped.
-- The generator is seeded first: the twin and the repaired model see the same shuffling.
local function train(model, x, y, opts, fit_extra, transform)
  local xv, yv = opts.validation_data[1], opts.validation_data[2]
  if transform then x, xv = transform(x), transform(xv) end
  local fit_opts = {epochs = opts.epochs, batch_size = opts.batch_size, verbose = 0, validation_data = {xv, yv},
                    class_weight = opts.class_weight}
  lurn.manual_seed(SEED)
  for k, v in pairs(fit_extra or {}) do fit_opts[k] = v end
  model:fit(x, y, fit_opts)
  -- measured on the model as fit leaves it (a repair's EarlyStopping may restore weights)
  local r = model:evaluate(xv, yv, {verbose = 0, return_dict = true})
  return r.accuracy
end

local function warnings_of(report)
  local list = {}
  for _, f in ipairs(report:sorted()) do
    if f.severity ~= "info" then list[#list + 1] = f.code end
  end
  return list
end

-- Whether case fixes the case named `name` (twin_of: a name or a list of names).
local function twin_of(case, name)
  if type(case.twin_of) == "table" then
    for _, n in ipairs(case.twin_of) do
      if n == name then return true end
    end
    return false
  end
  return case.twin_of == name
end

local corpus = {}

--- Runs the cases -> rows and totals. opts: tiny (the tiny cases only), only (a set of
-- names), epochs, no_repair, doctor (a table with check_data and diagnose, in place of
-- lurn.doctor's).
function corpus.run(cases, opts)
  opts = opts or {}
  local rows, by_name = {}, {}
  local totals = {detected = 0, broken = 0, clean = 0, healthy = 0, repaired = 0, repairable = 0, unavailable = 0}
  for _, case in ipairs(cases) do
    if (not opts.tiny or case.tiny) and (not opts.only or opts.only[case.name]) then
      local row = {name = case.name, expected = case.code or (case.twin_of and ("twin of " .. (type(case.twin_of) == "table"
                   and table.concat(case.twin_of, ", ") or case.twin_of)))
                   or "healthy", case = case}
      local model, x, y, o = case.build(opts.epochs or (case.epochs and math.min(case.epochs, EPOCHS)) or EPOCHS)
      row.data = {model = model, x = x, y = y, opts = o}
      local ok, report, by = pcall(examine, case, model, x, y, o, opts.doctor)
      if not ok then
        row.status, row.note = "failed", tostring(report)
      elseif not report then
        row.status, row.note = "not available", by
        totals.unavailable = totals.unavailable + 1
      else
        row.report, row.by = report, by
        row.warnings = warnings_of(report)
        if case.code then
          totals.broken = totals.broken + 1
          row.status = report:has(case.code) and "detected" or "missed"
          if row.status == "detected" then totals.detected = totals.detected + 1 end
        else
          totals.healthy = totals.healthy + 1
          row.status = #row.warnings == 0 and "clean" or "false positive"
          if row.status == "clean" then totals.clean = totals.clean + 1 end
        end
      end
      rows[#rows + 1] = row
      by_name[case.name] = row
    end
  end
  -- the repair rate: each broken case with a fixed twin, both examined
  if not opts.no_repair then
    for _, row in ipairs(rows) do
      local twin
      for _, r in ipairs(rows) do
        if twin_of(r.case, row.name) then twin = r end
      end
      if row.case.code and row.report and twin then
        local ok, err = pcall(function()
          local d = row.data
          local repaired, result = row.report:repair(d.model, {x = d.x, y = d.y, seed = SEED})
          local transform = result.transform  -- the fitted input steps (imputer, scaler), in order
          row.repaired_metric = train(repaired, d.x, d.y, d.opts, result.fit_opts, transform)
          local t = twin.data
          twin.metric = twin.metric or train(t.model, t.x, t.y, t.opts)
          row.twin_metric = twin.metric
          totals.repairable = totals.repairable + 1
          if row.repaired_metric and twin.metric and row.repaired_metric >= twin.metric - 0.02 then
            row.repair = "yes"
            totals.repaired = totals.repaired + 1
          else
            row.repair = "no"
          end
        end)
        if not ok then row.repair = "failed: " .. tostring(err):gsub("\n.*", "") end
      end
    end
  end
  return rows, totals
end

local function pct(a, b) return b > 0 and ("%d/%d (%.0f%%)"):format(a, b, 100 * a / b) or "0/0" end

--- The Markdown table and totals.
function corpus.markdown(rows, totals)
  local out = {"| case | expected | checked by | outcome | warnings and errors | repair (val acc: repaired / twin) |",
               "| --- | --- | --- | --- | --- | --- |"}
  for _, r in ipairs(rows) do
    local repair = ""
    if r.repair then
      repair = r.repair
      if r.repaired_metric and r.twin_metric then
        repair = ("%s (%.3f / %.3f)"):format(r.repair, r.repaired_metric, r.twin_metric)
      end
    end
    out[#out + 1] = ("| %s | %s | %s | %s | %s | %s |"):format(r.name, r.expected, r.by or r.note or "",
      r.status, r.warnings and table.concat(r.warnings, ", ") or "", repair)
  end
  out[#out + 1] = ""
  out[#out + 1] = ("- detection: %s of the broken cases examined get their code"):format(pct(totals.detected,
    totals.broken))
  out[#out + 1] = ("- false positives: %d of %d healthy cases and fixed twins get a warning or an error"):format(
    totals.healthy - totals.clean, totals.healthy)
  out[#out + 1] = ("- repair rate: %s of the broken cases with a twin reach the twin's validation accuracy "
    .. "within 2 points"):format(pct(totals.repaired, totals.repairable))
  out[#out + 1] = ("- not available (check not written yet): %d"):format(totals.unavailable)
  return table.concat(out, "\n")
end

corpus.CASES = CASES

-- run as a script (build/lurn scripts/doctor/corpus.lua): the table on stdout
if arg and arg[0] and arg[0]:match("corpus%.lua$") then
  local t0 = os.clock()
  local rows, totals = corpus.run(CASES, {tiny = tiny, only = only})
  print(("## Corpus (%s, %d epochs, seed %d)"):format(tiny and "tiny slice" or "all cases", EPOCHS, SEED))
  print("")
  print(corpus.markdown(rows, totals))
  io.stderr:write(("corpus: %d case(s) in %.1f s of CPU\n"):format(#rows, os.clock() - t0))
end

return corpus
