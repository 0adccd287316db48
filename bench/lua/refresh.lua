-- POST {"refresh": <token>} walking a pool of pre-minted refresh tokens (BENCH_TOKENS, one per
-- line, minted by bench/measure.py right before this run): refresh tokens are single-use, so every
-- request presents a fresh one. Thread i of n takes lines i, i+n, ...; a thread that runs out
-- wraps around, which is reuse (401 and a revoked family), so the bench mints a generous pool and
-- reports any non-2xx.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

setup = common.setup
common.install_status_counter()
done = common.done

function init(args)
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  bodies = {}
  local i = 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if line ~= "" and i % nthreads == tid then
      table.insert(bodies, '{"refresh":"' .. line .. '"}')
    end
    i = i + 1
  end
  pos = 0
  headers = common.headers()
  headers["Content-Type"] = "application/json"
end

function request()
  pos = pos + 1
  if pos > #bodies then
    pos = 1
  end
  return wrk.format("POST", nil, headers, bodies[pos])
end
