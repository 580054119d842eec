-- wrk script: GET $PATH_TO_GET with `Authorization: Bearer <token>`, the tokens of $TOKENS_FILE
-- (one a line, e.g. one per organisation) taken in turn, each thread starting elsewhere.
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
local path = os.getenv("PATH_TO_GET") or "/"
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("start", counter * 7)
end
local i = 0
function init(args)
  i = start or 0
end
function request()
  i = i % #tokens + 1
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. tokens[i] })
end
