-- The soak's traffic: one create in four, three reads of the first page.
local n = 0
request = function()
  n = n + 1
  local headers = { ["Authorization"] = "Bearer " .. os.getenv("TOKEN") }
  if n % 4 == 0 then
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", "/v1/tasks", headers, '{"title":"Soak task","tags":["soak"]}')
  end
  return wrk.format("GET", "/v1/tasks?limit=20", headers)
end
