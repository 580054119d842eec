-- wrk script: POST the file $BODY_FILE to $PATH_POST as JSON, with `Authorization: Bearer $TOKEN`.
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
local body = f:read("*a")
f:close()
function request()
  return wrk.format("POST", os.getenv("PATH_POST"),
    { ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "") }, body)
end
