-- make soak's well-behaved users (SOAK_MODE=abuse): each request as the next
-- of TOKENS (comma-separated, one per user), one create in four, three reads of
-- the first page, each connection pausing DELAY_MS between requests, so that
-- every user stays well inside the default budgets.
local tokens = {}
for token in string.gmatch(os.getenv("TOKENS") or "", "[^,]+") do
  tokens[#tokens + 1] = token
end
local pause = tonumber(os.getenv("DELAY_MS") or "200")
local n = math.random(1, 1000)

delay = function()
  return pause
end

request = function()
  n = n + 1
  local headers = { ["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1] }
  if n % 4 == 0 then
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", "/v1/tasks", headers, '{"title":"Polite task"}')
  end
  return wrk.format("GET", "/v1/tasks?limit=20", headers)
end
