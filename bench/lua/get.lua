-- GET the URL given to wrk, with BENCH_AUTH as the Authorization header (if set).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

wrk.method = "GET"
wrk.headers = common.headers()
setup = common.setup
common.install_status_counter()
done = common.done
