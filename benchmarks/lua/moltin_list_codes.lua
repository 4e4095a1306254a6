-- Moltin: list a promotion's codes (the first page). args: token, promotion id.
dofile("common.lua")

function init(args)
   wrk.method = "GET"
   wrk.path = "/v2/promotions/" .. args[2] .. "/codes"
   wrk.headers["Authorization"] = "Bearer " .. args[1]
end
