-- wrk script: POST personer/bulkoppslag with 1000 random ids from $IDS_FILE (16 bodies per
-- thread, built once, so the client spends its time sending, not building).
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
local bodies = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter * 104729)
end
function init(args)
  math.randomseed(seed or 1)
  for b = 1, 16 do
    local parts = {}
    for i = 1, 1000 do parts[i] = '"' .. ids[math.random(#ids)] .. '"' end
    bodies[b] = '{"foedselsEllerDNummer":[' .. table.concat(parts, ",") .. ']}'
  end
end
function request()
  return wrk.format("POST", os.getenv("PATH_BULK"),
    { ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "") }, bodies[math.random(#bodies)])
end
