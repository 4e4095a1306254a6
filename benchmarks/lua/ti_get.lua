-- Thought Industries: get one group. args: API key, group id.
dofile("common.lua")

function init(args)
   wrk.method = "GET"
   wrk.path = "/incoming/v2/redemptionCodes/" .. args[2]
   wrk.headers["Authorization"] = "Bearer " .. args[1]
end
