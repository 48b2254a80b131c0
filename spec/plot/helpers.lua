-- Shared by the lurn.plot specs: the script sent to gnuplot (its data blocks read back as
-- numbers), the text drawn in the terminal, and PNG and SVG files checked by their headers.
local assert = require "luassert"
local gnuplot = require "lurn.plot.gnuplot"

local helpers = {}

function helpers.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read "a"
  f:close()
  return s
end

function helpers.write(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
end

function helpers.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

function helpers.temp_dir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p '" .. dir .. "'"))
  return dir
end

function helpers.remove_dir(dir)
  assert(dir:match("^/tmp/"), dir)
  os.execute("rm -rf '" .. dir .. "'")
end

-- The names in a folder.
function helpers.list(dir)
  local p = assert(io.popen("ls -A '" .. dir .. "'"))
  local names = {}
  for line in p:lines() do names[#names + 1] = line end
  p:close()
  table.sort(names)
  return names
end

--- fn() run with the scripts sent to gnuplot recorded: returns the list of scripts, then fn's results.
function helpers.scripts(fn)
  local scripts = {}
  gnuplot.on_script = function(s) scripts[#scripts + 1] = s end
  local res = table.pack(pcall(fn))
  gnuplot.on_script = nil
  assert(res[1], res[2])
  return scripts, table.unpack(res, 2, res.n)
end

--- The data blocks of a script: name -> rows of numbers (NaN read as nan).
function helpers.blocks(script)
  local blocks = {}
  for name, body in script:gmatch("%$([%w_]+) << EOD\n(.-)\nEOD\n") do
    local rows = {}
    for line in (body .. "\n"):gmatch("(.-)\n") do
      local row = {}
      for cell in line:gmatch("%S+") do row[#row + 1] = cell == "NaN" and 0 / 0 or assert(tonumber(cell), cell) end
      rows[#rows + 1] = row
    end
    blocks[name] = rows
  end
  return blocks
end

--- The column `j` of rows.
function helpers.column(rows, j)
  local out = {}
  for i, row in ipairs(rows) do out[i] = row[j] end
  return out
end

--- The text fn() writes with io.write (the terminal drawing), and fn's first result.
function helpers.drawn(fn)
  local path = os.tmpname()
  local saved = io.output()
  io.output(path)
  local ok, res = pcall(fn)
  io.output():close()
  io.output(saved)
  local text = helpers.read(path)
  os.remove(path)
  assert(ok, res)
  return text, res
end

--- What fn() writes to io.stderr (gnuplot's forwarded warnings), and fn's first result.
function helpers.stderr(fn)
  local saved, written = io.stderr, {}
  io.stderr = {write = function(self, ...)
    for _, s in ipairs{...} do written[#written + 1] = tostring(s) end
    return self
  end}
  local ok, res = pcall(fn)
  io.stderr = saved
  assert(ok, res)
  return table.concat(written), res
end

--- width, height of a PNG file, after checking its signature and IHDR chunk.
function helpers.png_size(path)
  local bytes = helpers.read(path)
  assert.equal("\137PNG\r\n\26\n", bytes:sub(1, 8), path .. " is not a PNG file")
  assert.equal("IHDR", bytes:sub(13, 16))
  local w, h = string.unpack(">I4>I4", bytes, 17)
  assert.is_true(#bytes > 1000, path .. " is too small for a drawing")
  assert.equal("IEND", bytes:sub(-8, -5), path .. " does not end in IEND")
  return w, h
end

--- width, height of an SVG file, after checking its root element.
function helpers.svg_size(path)
  local text = helpers.read(path)
  assert.matches("^<%?xml", text)
  local svg = assert(text:match("<svg[^>]*>"), path .. " has no <svg> root")
  assert.matches("</svg>%s*$", text)
  local w = tonumber(svg:match('width="(%d+)"'))
  local h = tonumber(svg:match('height="(%d+)"'))
  return w, h
end

return helpers
