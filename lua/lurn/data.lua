--- lurn.data: tabular data for training.
--
--   local df = lurn.data.read_csv("examples/data/breast_cancer.csv")
--   df.columns                       -- {"mean radius", ..., "target"}, in file order
--   df:nrows(), df:ncols()
--   df:column("target")              -- float32 tensor (N,), NaN where a value is missing
--   df:column("species")             -- text columns: a list of N strings, false where missing
--   df.dtypes["species"]             -- "float" or "string"
--   df:to_tensor{columns = {...}}    -- (N, k) float32 of the named (or all) float columns
--
-- read_csv(path, opts) parses with libcsv in C (src/io/csv.c). opts:
--   header = true         the first row names the columns; false: they are named "1", "2", ...
--   delimiter = ","       one character ("\t", ";", ...)
--   quote = '"'           one character; false: no quoting
--   columns = {...}       keep only these columns (names or 1-based positions), in this order
--   na_values = {...}     texts read as missing; default {"", "NA", "NaN", "?"}
--   dtype = {name = "float" | "string"}   force a column's type (also by its position
--                         in the file, not in `columns`)
--   max_field_bytes = 64 MiB, max_line_bytes = 256 MiB, max_columns = 1048576   limits
-- A column is "float" when every value that is not missing is a number, else "string".
-- Blank lines are skipped, a UTF-8 BOM is dropped, CRLF line ends are fine, and quoted
-- fields may hold delimiters, quotes (doubled) and line breaks. Spaces around unquoted
-- fields are dropped (libcsv), so a field of spaces is missing. Duplicate names become
-- "a", "a.1", "a.2" as in pandas. Errors name the file and the line: a ragged row, an
-- unterminated quote, text in a "float" column, a NUL byte in a name, a limit passed.
local core = require "lurn.core"
local class = require "lurn.class"
local options = require "lurn.options"

local data = {}

local DataFrame = class()
DataFrame.class_name = "DataFrame"
data.DataFrame = DataFrame

local OPTIONS = {header = true, delimiter = true, quote = true, columns = true, na_values = true, dtype = true,
  max_field_bytes = true, max_line_bytes = true, max_columns = true}

--- read_csv(path[, opts]) -> DataFrame.
function data.read_csv(path, opts)
  if type(path) ~= "string" then error("read_csv: path must be a file name, got " .. type(path), 2) end
  if opts ~= nil and type(opts) ~= "table" then
    error("read_csv: options must be a table, got " .. type(opts), 2)
  end
  options.check(opts, OPTIONS, "read_csv", 2)
  local ok, names, columns, nrows = pcall(core.read_csv, path, opts)
  if not ok then
    local msg = tostring(names)
    if msg:sub(1, 9) ~= "read_csv:" then msg = "read_csv: " .. msg end
    error(msg, 2)
  end
  return DataFrame.new(names, columns, nrows)
end

--- DataFrame.new(names, columns, nrows): columns[i] is a float tensor (nrows,) or a list
-- of nrows strings (false where missing).
function DataFrame.new(names, columns, nrows)
  local self = setmetatable({columns = names, dtypes = {}, _data = {}, _nrows = nrows}, DataFrame)
  for i, name in ipairs(names) do
    self._data[name] = columns[i]
    self.dtypes[name] = core.is_tensor(columns[i]) and "float" or "string"
  end
  return self
end

function DataFrame:nrows() return self._nrows end
function DataFrame:ncols() return #self.columns end

-- The name of a column given by name or 1-based position; an error names what exists.
local function column_name(self, key, level)
  if math.type(key) == "integer" then
    local name = self.columns[key]
    if not name then
      error(("DataFrame: no column %d: there are %d columns"):format(key, #self.columns), level + 1)
    end
    return name
  end
  if type(key) ~= "string" then
    error("DataFrame: a column is a name or a 1-based position, got " .. type(key), level + 1)
  end
  if self._data[key] == nil then
    local shown = {}
    for i = 1, math.min(#self.columns, 12) do shown[i] = "'" .. self.columns[i] .. "'" end
    if #self.columns > 12 then shown[#shown + 1] = "..." end
    error(("DataFrame: no column '%s' (columns: %s)"):format(key, table.concat(shown, ", ")), level + 1)
  end
  return key
end

--- df:column(name or position): a float32 tensor (N,) with NaN where missing, or for a
-- string column a list of N strings with false where missing. Not a copy.
function DataFrame:column(key)
  return self._data[column_name(self, key, 2)]
end

--- df:to_tensor{columns = {...}}: the float columns side by side, (N, k) float32, in
-- the order given (default: every column, all of which must then be float).
function DataFrame:to_tensor(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("to_tensor: expected {columns = {...}}, got " .. type(opts), 2) end
  local keys = opts.columns or self.columns
  if type(keys) ~= "table" or #keys == 0 then error("to_tensor: columns must be a non-empty list", 2) end
  local parts = {}
  for i, key in ipairs(keys) do
    local name = column_name(self, key, 2)
    if self.dtypes[name] ~= "float" then
      error(("to_tensor: column '%s' holds strings; leave it out (columns = {...}) or encode it as numbers"):format(name), 2)
    end
    parts[i] = self._data[name]
  end
  return core.stack(parts, 2)
end

function DataFrame:__tostring()
  local cols = {}
  for i = 1, math.min(#self.columns, 8) do
    local name = self.columns[i]
    cols[i] = self.dtypes[name] == "string" and name .. " (string)" or name
  end
  if #self.columns > 8 then cols[#cols + 1] = "..." end
  return ("DataFrame: %d rows x %d columns: %s"):format(self._nrows, #self.columns, table.concat(cols, ", "))
end

return data
