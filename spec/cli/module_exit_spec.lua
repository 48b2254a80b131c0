-- Plain lua5.4 unloads C modules when it exits; lurn.core must stay loaded while
-- OpenMP's worker threads live, or the process crashes at exit after threaded work.
describe("lurn.core in plain lua5.4", function()
  it("exits cleanly after multi-threaded work", function()
    local code = "local lurn = require 'lurn'; lurn.set_num_threads(2); local a = lurn.randn{256, 256}; "
      .. "for _ = 1, 3 do a = lurn.matmul(a, a) / 256 end; io.write(a:numel())"
    for _ = 1, 8 do
      local p = io.popen("lua5.4 -e \"" .. code .. "\" 2>&1; echo \" rc=$?\"")
      local out = p:read("a")
      p:close()
      assert.equal("65536 rc=0", out:gsub("%s+$", ""))
    end
  end)
end)
