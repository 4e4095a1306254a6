-- Thought Industries: list groups (the first page). args: API key.
dofile("common.lua")

function init(args)
   wrk.method = "GET"
   wrk.path = "/incoming/v2/redemptionCodes"
   wrk.headers["Authorization"] = "Bearer " .. args[1]
end
