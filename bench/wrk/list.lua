-- GET /v1/tasks?limit=20: the first page of the caller's tasks, newest first.
wrk.method = "GET"
wrk.path = "/v1/tasks?limit=20"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
