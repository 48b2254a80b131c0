-- The automatic thread count under mpirun: the ranks on one machine (Open MPI's
-- OMPI_COMM_WORLD_LOCAL_SIZE) share its cores, unless OMP_NUM_THREADS says how many each
-- takes. Run through the lurn command with the variable set (no job is started: that
-- takes OMPI_COMM_WORLD_SIZE too).
local function threads_with(env)
  local lurn_command = assert(os.getenv("LURN_BUILD_DIR"), "LURN_BUILD_DIR") .. "/lurn"
  local cmd = ("env -u OMP_NUM_THREADS -u OMPI_COMM_WORLD_LOCAL_SIZE %s '%s' -e 'io.write((lurn.get_num_threads()))'")
    :format(env, lurn_command)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return tonumber(out)
end

describe("threads per rank", function()
  local cores = threads_with("")

  it("shares the cores between the ranks on this machine", function()
    assert.equal(cores, threads_with("OMPI_COMM_WORLD_LOCAL_SIZE=1"))
    assert.equal(math.max(1, cores // 2), threads_with("OMPI_COMM_WORLD_LOCAL_SIZE=2"))
    assert.equal(1, threads_with("OMPI_COMM_WORLD_LOCAL_SIZE=" .. (cores + 1)))
  end)

  it("leaves OMP_NUM_THREADS and a count it cannot read as they are", function()
    assert.equal(3, threads_with("OMP_NUM_THREADS=3 OMPI_COMM_WORLD_LOCAL_SIZE=2"))
    assert.equal(cores, threads_with("OMPI_COMM_WORLD_LOCAL_SIZE=two"))
  end)
end)
