-- POST /v1/tasks: one task row and its outbox event, in one transaction.
wrk.method = "POST"
wrk.body = '{"title":"Benchmark task","priority":"high"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
