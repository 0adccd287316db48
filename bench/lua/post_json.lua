-- POST the same JSON body (BENCH_BODY) to the URL given to wrk: login, contact create.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers = common.headers()
wrk.headers["Content-Type"] = "application/json"
setup = common.setup
common.install_status_counter()
done = common.done
