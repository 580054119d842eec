-- wrk script: POST /inbound/upload, a multipart upload (a Melding and one small attachment) with a
-- Melding id of its own per request (32 hex digits: the thread's number, then a counter), as
-- organisation $ORG with $TOKEN.
local org = os.getenv("ORG")
local boundary = "soakbench5c2a"
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
local n = 0
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
function request()
  n = n + 1
  local melding = string.format("%08x%024x", id or 0, n)
  local xml = '<?xml version="1.0" encoding="UTF-8"?>\n' ..
      '<Melding xmlns="http://schema.brreg.no/postmottak/henvendelse" versjon="1.0" id="' ..
      melding .. '" tjeneste="Tinglysing" tjenestehandling="innsending">' ..
      '<Mottaker id="974760673" idType="orgnr">Brreg</Mottaker>' ..
      '<Avsender id="' .. org .. '" idType="orgnr">Avsender AS</Avsender>' ..
      '<Innhold><Data format="text/plain">Soknad</Data></Innhold></Melding>'
  local body = "--" .. boundary .. '\r\nContent-Disposition: form-data; name="payload"; ' ..
      'filename="melding.xml"\r\nContent-Type: application/xml\r\n\r\n' .. xml .. "\r\n--" ..
      boundary .. '\r\nContent-Disposition: form-data; name="attachments"; filename="v.pdf"\r\n' ..
      "Content-Type: application/pdf\r\n\r\n%PDF-" .. melding .. "\r\n--" .. boundary .. "--\r\n"
  return wrk.format(nil, "/inbound/upload", nil, body)
end
