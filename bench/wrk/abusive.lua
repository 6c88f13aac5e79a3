-- make soak's abusive client (SOAK_MODE=abuse): one user's token (TOKEN)
-- creating tasks as fast as its connections go, far past its write budget.
request = function()
  local headers = { ["Authorization"] = "Bearer " .. os.getenv("TOKEN"), ["Content-Type"] = "application/json" }
  return wrk.format("POST", "/v1/tasks", headers, '{"title":"Abusive task"}')
end
