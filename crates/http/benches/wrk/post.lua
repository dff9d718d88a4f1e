-- wrk script: POST the file named by $BODY with Content-Type $CT (default application/json).
-- BODY=score100.json wrk -t1 -c2 -d20s --latency -s post.lua http://127.0.0.1:8080/v1/score
wrk.method = "POST"
wrk.headers["Content-Type"] = os.getenv("CT") or "application/json"
local f = assert(io.open(os.getenv("BODY"), "r"))
wrk.body = f:read("*a")
f:close()

-- $DELAY_MS: pause between a connection's requests (a paced, moderate load instead of
-- back-to-back requests).
local pause = tonumber(os.getenv("DELAY_MS") or "0")
if pause > 0 then
  function delay()
    return pause
  end
end
