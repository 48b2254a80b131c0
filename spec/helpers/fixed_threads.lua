-- Loaded before every busted spec (spec/CMakeLists.txt, busted --helper): the thread count
-- fixed at the machine's default. A spec that compares two runs bit for bit must not have
-- the automatic count (src/core/threads.c, lurn_threads_adapt) change between them when the
-- machine gets busy (ctest -j, another build): a different count may sum in another order.
-- Specs of the automatic count set "auto" themselves.
local lurn = require "lurn"
lurn.set_num_threads((lurn.get_num_threads()))
