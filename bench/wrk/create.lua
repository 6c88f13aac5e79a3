-- POST /v1/tasks: one task row and its outbox event, in one transaction; in
-- the list LIST_ID names when it is set, else the caller's Inbox.
local list = os.getenv("LIST_ID")
wrk.method = "POST"
if list then
    wrk.body = '{"title":"Benchmark task","priority":"high","list_id":"' .. list .. '"}'
else
    wrk.body = '{"title":"Benchmark task","priority":"high"}'
end
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
