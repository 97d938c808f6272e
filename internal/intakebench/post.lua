-- wrk script: POST the form body in /tmp/intakebench.body
-- (made with go run ./internal/intakebench -body <fixture> -print).
local f = assert(io.open("/tmp/intakebench.body", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
