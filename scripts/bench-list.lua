-- wrk script for scripts/bench-list: sends the request it is given (path
-- and headers from the command line) and, with WALK=1 in the environment,
-- follows each answer's next_cursor, so that every request after the
-- first is a cursor page further down the list (back to the first page at
-- the end). It prints the count of answers that were not 2xx and the
-- latency percentiles in microseconds as one line the script reads.
local walk = os.getenv("WALK") == "1"
local first, path

function init(args)
	first = wrk.path
	path = first
end

function request()
	return wrk.format(nil, path)
end

function response(status, headers, body)
	if walk then
		local cursor = body:match('"next_cursor":"([^"]+)"')
		if cursor then
			local sep = first:find("?", 1, true) and "&" or "?"
			path = first .. sep .. "cursor=" .. cursor
		else
			path = first
		end
	end
end

function done(summary, latency, requests)
	io.write(string.format("RESULT requests=%d errors=%d non200=%d p50=%d p95=%d p99=%d max=%d\n",
		summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
		summary.errors.status, latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
