-- Moltin: add one code to a promotion. args: token, a prefix unique to this run, a file of
-- promotion ids (one a line). Every request adds a code no request has added before; the
-- requests go round the promotions so that none passes the vendor's 1000 codes.
dofile("common.lua")

local counter = 0
local ids = {}
local prefix, token

function init(args)
   token = "Bearer " .. args[1]
   prefix = args[2] .. "-" .. (thread_number or 1) .. "-"
   for line in io.lines(args[3]) do
      if #line > 0 then ids[#ids + 1] = line end
   end
end

function request()
   counter = counter + 1
   local id = ids[counter % #ids + 1]
   local body = '{"data": {"type": "promotion_codes", "codes": [{"code": "' .. prefix .. counter .. '"}]}}'
   return wrk.format("POST", "/v2/promotions/" .. id .. "/codes",
      {["Authorization"] = token, ["Content-Type"] = "application/json"}, body)
end
