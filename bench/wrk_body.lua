-- wrk_body.lua: POST the body in $BODY_FILE with $CONTENT_TYPE to the URL's path (bench/*.sh).
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "application/json"
