-- Thought Industries: create a group with one code. args: API key.
-- The key is fresh for each run; 12-character codes leave room for millions of groups.
dofile("common.lua")

function init(args)
   wrk.method = "POST"
   wrk.path = "/incoming/v2/redemptionCodes"
   wrk.headers["Authorization"] = "Bearer " .. args[1]
   wrk.headers["Content-Type"] = "application/json"
   wrk.body = '{"label": "Benchmark group", "codeLength": 12, "totalCodesCount": 1, ' ..
      '"courses": ["8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"]}'
end
