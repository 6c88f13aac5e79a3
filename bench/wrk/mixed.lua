-- The soak's traffic: one create in four, three reads of the first page, as
-- TOKEN's user, or as each of TOKENS (comma-separated) in turn; with DELAY_MS,
-- each connection pauses that long between requests (make soak-abuse's
-- well-behaved users, each inside its budgets).
local tokens = {}
for token in string.gmatch(os.getenv("TOKENS") or os.getenv("TOKEN") or "", "[^,]+") do
  tokens[#tokens + 1] = token
end
local pause = tonumber(os.getenv("DELAY_MS") or "0")
local n = 0

if pause > 0 then
  delay = function()
    return pause
  end
end

request = function()
  n = n + 1
  local headers = { ["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1] }
  if n % 4 == 0 then
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", "/v1/tasks", headers, '{"title":"Soak task","tags":["soak"]}')
  end
  return wrk.format("GET", "/v1/tasks?limit=20", headers)
end
