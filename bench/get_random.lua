-- wrk script: GET a random person from the id list in $IDS_FILE under the path prefix $PREFIX,
-- with `Authorization: Bearer $TOKEN` when TOKEN is set.
local ids = {}
local prefix = os.getenv("PREFIX") or "/"
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter * 7919)
end
function init(args)
  math.randomseed(seed or 1)
end
if os.getenv("TOKEN") then wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN") end
function request()
  return wrk.format("GET", prefix .. ids[math.random(#ids)])
end
