-- lurn.data.read_csv: the data frame it returns (columns, column, to_tensor, nrows), its
-- options, the errors that name the file and line, and the data sets in examples/data/.
local lurn = require "lurn"

local ROOT = os.getenv("LURN_SOURCE_DIR") or "."
local DATA = ROOT .. "/examples/data/"

local dir
local function temp_file(name, text)
  if not dir then
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p '" .. dir .. "'"))
  end
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

-- The error message of f(...), which must fail.
local function error_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

local function isnan(x) return x ~= x end

local function count(list, value)
  local n = 0
  for _, v in ipairs(list) do if v == value then n = n + 1 end end
  return n
end

describe("lurn.data.read_csv", function()
  teardown(function()
    if dir then os.execute("rm -rf '" .. dir .. "'") end
  end)

  it("returns a data frame of float tensors and string lists", function()
    local df = lurn.data.read_csv(temp_file("basic.csv", "x,name,y\n1,a,2.5\n-3e2,b c,0.125\n"))
    assert.same({"x", "name", "y"}, df.columns)
    assert.equal(2, df:nrows())
    assert.equal(3, df:ncols())
    assert.same({x = "float", name = "string", y = "float"}, df.dtypes)
    assert.is_true(lurn.is_tensor(df:column("x")))
    assert.same({1, -300}, df:column("x"):totable())
    assert.same({"a", "b c"}, df:column("name"))
    assert.same({2.5, 0.125}, df:column(3):totable())
    assert.matches("DataFrame: 2 rows x 3 columns: x, name %(string%), y", tostring(df))
  end)

  it("stacks float columns into an (N, k) tensor with to_tensor", function()
    local df = lurn.data.read_csv(temp_file("stack.csv", "a,b,c,s\n1,2,3,x\n4,5,6,y\n"))
    local x = df:to_tensor{columns = {"c", 1}}
    assert.same({2, 2}, x:shape())
    assert.same({{3, 1}, {6, 4}}, x:totable())
    assert.same({{1, 2, 3}, {4, 5, 6}}, df:to_tensor{columns = {"a", "b", "c"}}:totable())
    assert.matches("to_tensor: column 's' holds strings", error_of(df.to_tensor, df))
    assert.matches("no column 'z' %(columns: 'a', 'b', 'c', 's'%)", error_of(df.to_tensor, df, {columns = {"z"}}))
    assert.matches("no column 9: there are 4 columns", error_of(df.column, df, 9))
  end)

  it("reads quoted fields with delimiters, doubled quotes and line breaks inside", function()
    local text = 'id,comment\n1,"a, b"\n2,"say ""hi"""\n3,"two\nlines"\n'
    local df = lurn.data.read_csv(temp_file("quoted.csv", text))
    assert.same({"a, b", 'say "hi"', "two\nlines"}, df:column("comment"))
    assert.same({1, 2, 3}, df:column("id"):totable())
  end)

  it("reads CRLF files, drops a UTF-8 BOM and keeps UTF-8 text", function()
    local df = lurn.data.read_csv(temp_file("crlf.csv", "\239\187\191caf\195\169,n\r\n\195\169t\195\169,1\r\nx,2\r\n"))
    assert.same({"caf\195\169", "n"}, df.columns)
    assert.same({"\195\169t\195\169", "x"}, df:column("caf\195\169"))
    assert.same({1, 2}, df:column("n"):totable())
  end)

  it("keeps CRLF line breaks inside quoted fields and counts CRLF lines once", function()
    local path = temp_file("crlf_quoted.csv", 'id,note,v\r\n1,"a\r\nb, c",2\r\n\r\n3,"x",4\r\n5,6\r\n')
    -- line 1 header, 2-3 the quoted break, 4 blank, 5 a row, 6 the ragged row
    assert.matches("crlf_quoted.csv:6: ragged row: 2 fields where the header on line 1 has 3",
      error_of(lurn.data.read_csv, path))
    local df = lurn.data.read_csv(temp_file("crlf_ok.csv", 'id,note,v\r\n1,"a\r\nb, c",2\r\n\r\n3,"x",4\r\n'))
    assert.same({"a\r\nb, c", "x"}, df:column("note"))
    assert.same({{1, 2}, {3, 4}}, df:to_tensor{columns = {"id", "v"}}:totable())
  end)

  it("reads missing values as NaN in float columns and false in string columns", function()
    local df = lurn.data.read_csv(temp_file("na.csv", "x,s\n1,a\n,b\nNA,NA\nNaN,?\n?,e\n"))
    local x = df:column("x"):totable()
    assert.equal(1, x[1])
    for i = 2, 5 do assert.is_true(isnan(x[i])) end
    assert.equal(4, df:column("x"):isnan():sum())
    assert.same({"a", "b", false, false, "e"}, df:column("s"))
    -- Own na_values replace the defaults.
    df = lurn.data.read_csv(temp_file("na2.csv", "x,s\n-1,NA\n2,b\n"), {na_values = {"-1"}})
    assert.is_true(isnan(df:column("x"):get(1)))
    assert.same({"NA", "b"}, df:column("s"))
  end)

  it("keeps the columns asked for, by name or position, in that order", function()
    local path = temp_file("pick.csv", "a,b,c\n1,2,3\n4,5,6\n")
    local df = lurn.data.read_csv(path, {columns = {"c", 1}})
    assert.same({"c", "a"}, df.columns)
    assert.same({{3, 1}, {6, 4}}, df:to_tensor():totable())
    assert.matches("pick.csv: columns names column 'z', which the header does not have %(columns: 'a', 'b', 'c'%)",
      error_of(lurn.data.read_csv, path, {columns = {"z"}}))
    assert.matches("pick.csv: columns names column 4, but the file has 3 columns",
      error_of(lurn.data.read_csv, path, {columns = {4}}))
  end)

  it("forces column types with dtype and rejects text in a float column", function()
    local path = temp_file("dtype.csv", "zip,v\n01234,1\n99999,x\n")
    local df = lurn.data.read_csv(path, {dtype = {zip = "string", v = "string"}})
    assert.same({"01234", "99999"}, df:column("zip"))
    assert.matches("dtype.csv:3: column 'v' is float %(dtype%) but holds the non%-numeric value 'x'",
      error_of(lurn.data.read_csv, path, {dtype = {[2] = "float"}}))
    assert.matches('dtype values are "float" or "string", got "int"',
      error_of(lurn.data.read_csv, path, {dtype = {v = "int"}}))
  end)

  it("takes dtype positions in the file, whatever columns keeps", function()
    local path = temp_file("dtype_pos.csv", "a,b,c\n1,2,3\n4,5,6\n")
    local df = lurn.data.read_csv(path, {columns = {"c", "a"}, dtype = {[3] = "string"}})
    assert.same({c = "string", a = "float"}, df.dtypes)
    assert.same({"3", "6"}, df:column(1)) -- df:column takes positions in the frame
    assert.same({1, 4}, df:column(2):totable())
    -- a dtype for a column left out is allowed; one the file lacks is an error
    df = lurn.data.read_csv(path, {columns = {"a"}, dtype = {b = "string"}})
    assert.same({a = "float"}, df.dtypes)
    assert.matches("dtype_pos.csv: dtype names column 'd', which the header does not have",
      error_of(lurn.data.read_csv, path, {dtype = {d = "float"}}))
  end)

  it("reads files without a header, other delimiters and no quoting", function()
    local df = lurn.data.read_csv(temp_file("nohead.csv", "1;a\n2;b\n"), {header = false, delimiter = ";"})
    assert.same({"1", "2"}, df.columns)
    assert.same({1, 2}, df:column(1):totable())
    assert.same({"a", "b"}, df:column("2"))
    df = lurn.data.read_csv(temp_file("tab.tsv", 'a\tb\n"x\t1\n'), {delimiter = "\t", quote = false})
    assert.same({'"x'}, df:column("a"))
  end)

  it("names the line of a ragged row, counting the header and blank lines", function()
    local path = temp_file("ragged.csv", 'a,b,c\n1,2,3\n\n4,"five\nlines",6\n7,8\n')
    assert.matches("ragged.csv:6: ragged row: 2 fields where the header on line 1 has 3",
      error_of(lurn.data.read_csv, path))
  end)

  it("fails on empty files, unterminated quotes, missing files and unknown options", function()
    assert.matches("empty.csv: empty file", error_of(lurn.data.read_csv, temp_file("empty.csv", "")))
    assert.matches("open.csv:3: unterminated quoted field",
      error_of(lurn.data.read_csv, temp_file("open.csv", 'a,b\n1,2\n3,"never\nclosed\n')))
    assert.matches("absent.csv: cannot open: No such file or directory",
      error_of(lurn.data.read_csv, ROOT .. "/absent.csv"))
    assert.matches("unknown option 'colums'", error_of(lurn.data.read_csv, DATA .. "iris.csv", {colums = {1}}))
    assert.matches("delimiter must be a one%-character string",
      error_of(lurn.data.read_csv, DATA .. "iris.csv", {delimiter = ", "}))
  end)

  it("names duplicate columns as pandas does, keeping every column's data", function()
    local df = lurn.data.read_csv(temp_file("dup.csv", "a,b,a,a.1,a\n1,2,3,4,5\n"))
    assert.same({"a", "b", "a.1", "a.1.1", "a.2"}, df.columns)
    assert.same({{1, 2, 3, 4, 5}}, df:to_tensor():totable())
  end)

  it("fails on a NUL byte in a header name, naming the file and line, and keeps NULs in fields", function()
    -- "a\0x" and "a\0y" used to read as two columns "a", one replacing the other
    local path = temp_file("nul.csv", "k,a\0x,a\0y\n1,2,3\n")
    assert.matches("nul.csv:1: the name of column 2 in the header holds a NUL byte", error_of(lurn.data.read_csv, path))
    local df = lurn.data.read_csv(temp_file("nul_field.csv", "a,b\nx\0y,1\n"))
    assert.same({"x\0y"}, df:column("a"))
    assert.matches("na_values%[2%] holds a NUL byte",
      error_of(lurn.data.read_csv, temp_file("plain.csv", "a\n1\n"), {na_values = {"x", "a\0b"}}))
    assert.matches("columns: a column name holds a NUL byte",
      error_of(lurn.data.read_csv, temp_file("plain.csv", "a\n1\n"), {columns = {"a\0b"}}))
  end)

  it("drops spaces around unquoted fields, so a field of spaces is missing (libcsv; documented)", function()
    local df = lurn.data.read_csv(temp_file("spaces.csv", "a,b\n 1 , x y \n   ,z\n"))
    assert.same({"x y", "z"}, df:column("b"))
    local a = df:column("a"):totable()
    assert.equal(1, a[1])
    assert.is_true(isnan(a[2]))
  end)

  it("stops a line that never ends at max_field_bytes, from a FIFO fed by a writer", function()
    local fifo = temp_file("placeholder", "") .. ".fifo"
    assert(os.execute("mkfifo '" .. fifo .. "'"))
    -- 80 MB of 'x' and no line end: more than the default 64 MiB field limit
    local writer = "yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | tr -d '\\n' | head -c 80000000"
    assert(os.execute("(timeout 20 sh -c \"" .. writer .. "\" > '" .. fifo .. "') 2>/dev/null &"))
    assert.matches("fifo:1: a field longer than 67108864 bytes %(max_field_bytes%)", error_of(lurn.data.read_csv, fifo))
    assert(os.execute("(timeout 20 sh -c \"" .. writer .. "\" > '" .. fifo .. "') 2>/dev/null &"))
    assert.matches("fifo:1: a field longer than 1000 bytes",
      error_of(lurn.data.read_csv, fifo, {max_field_bytes = 1000}))
  end)

  it("takes limits as options and names the line that passes one", function()
    local path = temp_file("limits.csv", "a,b,c\n1,2,3\n" .. string.rep("9", 50) .. ",1,2\n")
    assert.matches("limits.csv:3: a field longer than 20 bytes", error_of(lurn.data.read_csv, path, {max_field_bytes = 20}))
    assert.matches("limits.csv:3: a line longer than 40 bytes", error_of(lurn.data.read_csv, path, {max_line_bytes = 40}))
    assert.matches("limits.csv:1: more than 2 columns %(max_columns%)", error_of(lurn.data.read_csv, path, {max_columns = 2}))
    assert.equal(2, lurn.data.read_csv(path, {max_field_bytes = 50, max_line_bytes = 60}):nrows())
    assert.matches("max_columns must be an integer from 1", error_of(lurn.data.read_csv, path, {max_columns = 0}))
    assert.matches("max_field_bytes must be an integer from 1", error_of(lurn.data.read_csv, path, {max_field_bytes = "x"}))
  end)

  it("keeps option strings from proxy tables alive while the file is read (collectgarbage pressure)", function()
    local long = string.rep("m", 60) -- long strings are not interned: each is a new object
    local function fresh_list(n, make)
      return setmetatable({}, {
        __len = function() return n end,
        __index = function(_, i)
          collectgarbage("collect") -- frees the string handed out before, unless it is kept
          for _ = 1, 200 do local _ = string.rep("z", 60) .. math.random() end -- reuses its memory
          return make(i)
        end,
      })
    end
    local path = temp_file("proxy.csv", "k," .. long .. "1," .. long .. "2\n" ..
      long .. "A,1,2\n" .. long .. "B,3,4\n")
    local opts = setmetatable({}, {__index = function(_, key)
      if key == "na_values" then return fresh_list(2, function(i) return long .. string.char(64 + i) end) end
      if key == "columns" then return fresh_list(2, function(i) return long .. (3 - i) end) end
    end})
    local df = lurn.data.read_csv(path, opts)
    collectgarbage("collect")
    assert.same({long .. "2", long .. "1"}, df.columns)
    assert.same({{2, 1}, {4, 3}}, df:to_tensor():totable())
    df = lurn.data.read_csv(path, {na_values = opts.na_values, columns = {"k"}, dtype = {k = "string"}})
    assert.same({false, false}, df:column("k"))
  end)

  it("reads a header alone as no rows", function()
    local df = lurn.data.read_csv(temp_file("header.csv", "a,b\n"))
    assert.equal(0, df:nrows())
    assert.same({"a", "b"}, df.columns)
  end)
end)

describe("examples/data", function()
  it("breast_cancer.csv: 569 tumours x 30 features + target, 212 malignant (0) and 357 benign (1)", function()
    local df = lurn.data.read_csv(DATA .. "breast_cancer.csv")
    assert.equal(569, df:nrows())
    assert.equal(31, df:ncols())
    assert.equal("mean radius", df.columns[1])
    assert.equal("worst fractal dimension", df.columns[30])
    assert.equal("target", df.columns[31])
    local y = df:column("target")
    assert.equal(212, y:eq(0):sum())
    assert.equal(357, y:eq(1):sum())
    local x = df:to_tensor{columns = table.move(df.columns, 1, 30, 1, {})}
    assert.same({569, 30}, x:shape())
    assert.equal(0, x:isnan():sum())
    assert.near(17.99, x:get(1, 1), 1e-5)
    assert.near(6.981, df:column("mean radius"):min(), 1e-5)
    assert.near(4254, df:column("worst area"):max(), 1e-3)
  end)

  it("iris.csv: 150 flowers x 4 measurements + target, 50 of each species", function()
    local df = lurn.data.read_csv(DATA .. "iris.csv")
    assert.equal(150, df:nrows())
    assert.same({"sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)", "target"},
      df.columns)
    local y = df:column("target")
    for c = 0, 2 do assert.equal(50, y:eq(c):sum()) end
    assert.near(5.8433, df:column(1):mean(), 1e-3)
  end)

  it("wine.csv: 178 wines x 13 measurements + target, classes of 59, 71 and 48", function()
    local df = lurn.data.read_csv(DATA .. "wine.csv")
    assert.equal(178, df:nrows())
    assert.equal(14, df:ncols())
    assert.equal("alcohol", df.columns[1])
    assert.equal("proline", df.columns[13])
    local y = df:column("target")
    assert.same({59, 71, 48}, {y:eq(0):sum(), y:eq(1):sum(), y:eq(2):sum()})
  end)

  it("penguins.csv: 344 penguins with text columns and missing values", function()
    local df = lurn.data.read_csv(DATA .. "penguins.csv")
    assert.equal(344, df:nrows())
    assert.same({"species", "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g",
      "sex", "year"}, df.columns)
    assert.same({species = "string", island = "string", bill_length_mm = "float", bill_depth_mm = "float",
      flipper_length_mm = "float", body_mass_g = "float", sex = "string", year = "float"}, df.dtypes)
    for _, name in ipairs{"bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"} do
      assert.equal(2, df:column(name):isnan():sum())
    end
    local species = df:column("species")
    assert.same({152, 68, 124}, {count(species, "Adelie"), count(species, "Chinstrap"), count(species, "Gentoo")})
    local sex = df:column("sex")
    assert.equal(344, #sex)
    assert.same({165, 168, 11}, {count(sex, "female"), count(sex, "male"), count(sex, false)})
  end)
end)
