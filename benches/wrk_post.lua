-- wrk script for the throughput ceiling (README, Performance): POSTs distinct SnapBill deliveries
-- to a `hooksim receiver`, as benches/throughput.rs's bare loop does.
--   hooksim receiver --listen 127.0.0.1:8080 &
--   wrk -t1 -c64 -d5s -s benches/wrk_post.lua -H 'Connection: close' http://127.0.0.1:8080/webhook
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  local body = string.format(
    '{"uuid":"00000000-0000-4000-8000-%012d","body":{"id":%d,"path":"/client/add","details":"",' ..
    '"client":{"id":%d,"name":"client %d","email":"c%d@example.com"}}}', n, n, n, n, n)
  return wrk.format(nil, nil, nil, body)
end
