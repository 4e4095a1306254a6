-- Shared by every benchmark script: one JSON line with what benchmarks/run.py reads.
-- wrk counts a status of 400 or more under errors.status, so a run that was refused shows it.

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f, ' ..
      '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
      e.connect, e.read, e.write, e.status, e.timeout))
end

-- Each wrk thread gets its own number, so generated values never repeat across threads.
local threads = 0
function setup(thread)
   threads = threads + 1
   thread:set("thread_number", threads)
end
