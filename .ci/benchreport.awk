# Reads `go test -bench` output and prints the targets wxemu holds itself to.
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 2; i < NF; i++) {
		if ($(i+1) == "ns/op") ns[name] = $i
		if ($(i+1) == "bytes/user") perUser[name] = $i
		if ($(i+1) == "plain-vs-bare-%") plainPct = $i
		if ($(i+1) == "safe-vs-plain-%") safePct = $i
		if ($(i+1) == "send-vs-bare-%") sendPct = $i
		if ($(i+1) == "load-vs-bare-%") loadPct[name] = $i
		if ($(i+1) ~ /-(ms|MiB)$/) metric[name, $(i+1)] = $i
		if ($(i+1) == "behind") metric[name, "behind"] = $i
	}
}
function verdict(ok) { return ok ? "ok" : "BELOW TARGET" }
function ratio(label, fast, slow, target,    r) {
	if (!(fast in ns) || !(slow in ns)) { printf "%-48s missing (%s, %s)\n", label, fast, slow; return }
	r = 100 * ns[fast] / ns[slow]
	printf "%-48s %8.1f %%     target >= %d %%      %s\n", label, r, target, verdict(r >= target)
}
END {
	print ""
	print "wxemu benchmark report"
	# The push ratios come from BenchmarkPushInterleaved, which runs the three loops in turn so
	# that a noisy machine slows them alike; BenchmarkPush's separate runs are shown for reference.
	if (plainPct != "") printf "%-48s %8.1f %%     target >= 90 %%      %s\n", "push plaintext, full verdict / bare loop", plainPct, verdict(plainPct >= 90)
	else print "push plaintext, full verdict / bare loop         missing"
	if (safePct != "") printf "%-48s %8.1f %%     target >= 75 %%      %s\n", "push safe mode / plaintext", safePct, verdict(safePct >= 75)
	else print "push safe mode / plaintext                       missing"
	ratio("  (separate runs) plaintext / bare loop", "BenchmarkPush/baseline", "BenchmarkPush/plain", 90)
	ratio("  (separate runs) safe / plaintext", "BenchmarkPush/plain", "BenchmarkPush/safe", 75)
	if (sendPct != "") printf "%-48s %8.1f %%     target >= 80 %%      %s\n", "custom/send / bare gorilla/mux handler", sendPct, verdict(sendPct >= 80)
	else print "custom/send / bare gorilla/mux handler           missing"
	ratio("  (separate runs) custom/send / bare handler", "BenchmarkCustomSend/baseline", "BenchmarkCustomSend/wxemu", 80)
	if ("BenchmarkUserMemory" in perUser) {
		b = perUser["BenchmarkUserMemory"]
		printf "%-48s %8.0f B      target <= 1073 B (1 M users < 1 GiB)  %s\n", "memory per user with a window", b, verdict(b <= 1073)
	} else print "memory per user with a window                    missing"
	# BenchmarkFunctionInvoke: a warm cloud-function invocation (kf, one customerServiceMessage.send);
	# wxemu's own part is the gateway's handler plus the verdict and the platform's work around it.
	fn = "BenchmarkFunctionInvoke"
	if ((fn, "wxemu-ms") in metric) {
		ms = metric[fn, "wxemu-ms"]
		printf "%-48s %8.2f ms     target < 2 ms        %s\n", "cloud function invocation: wxemu's own part", ms, verdict(ms < 2)
		printf "%-48s %8.2f ms     (gateway %.2f ms, verdict + platform %.2f ms)\n", "  of which", ms, metric[fn, "gateway-ms"], metric[fn, "verdict+platform-ms"]
		printf "%-48s %8.2f ms     (the function in Node, the SDK, the pipe)\n", "  the function's run, for reference", metric[fn, "node-ms"]
		printf "%-48s %8.2f ms     (for reference)\n", "  whole round trip", metric[fn, "total-ms"]
	} else print "cloud function invocation: wxemu's own part      missing"
	if ("BenchmarkFunctionColdStart" in ns) {
		ms = ns["BenchmarkFunctionColdStart"] / 1e6
		printf "%-48s %8.1f ms     (for reference; first invocation then %.1f ms)\n", "cloud function cold start: worker start to ready", ms, metric["BenchmarkFunctionColdStart", "first-ms"]
	} else print "cloud function cold start: worker start to ready missing"
	if ("BenchmarkStart" in ns) {
		ms = ns["BenchmarkStart"] / 1e6
		printf "%-48s %8.1f ms     target < 100 ms      %s\n", "wxemu serve: start to ready", ms, verdict(ms < 100)
	} else print "wxemu serve: start to ready                      missing"
	# BenchmarkLoadInterleaved: wxemu load with full verdicts against a bare sign/POST/parse loop,
	# batches in turn against the same in-process bot; BenchmarkLoadMemory: a one-minute load run,
	# the live heap after a 10 s warm-up against the heap at the end.
	lp = "BenchmarkLoadInterleaved/samplebot"
	if (lp in loadPct) printf "%-48s %8.1f %%     target >= 80 %%      %s\n", "wxemu load, full verdicts / bare loop", loadPct[lp], verdict(loadPct[lp] >= 80)
	else print "wxemu load, full verdicts / bare loop            missing"
	lp = "BenchmarkLoadInterleaved/trivialbot"
	if (lp in loadPct) printf "%-48s %8.1f %%     (for reference: a bot that does nothing)\n", "  against a trivial bot", loadPct[lp]
	if (("BenchmarkLoadMemory", "growth-MiB") in metric) {
		g = metric["BenchmarkLoadMemory", "growth-MiB"]
		printf "%-48s %8.1f MiB    target < 16 MiB      %s\n", "wxemu load, 1 min: heap growth after warm-up", g, verdict(g < 16)
		printf "%-48s %8.1f MiB    (at 10 s; %.1f MiB at the end)\n", "  live heap", metric["BenchmarkLoadMemory", "start-heap-MiB"], metric["BenchmarkLoadMemory", "end-heap-MiB"]
	} else print "wxemu load, 1 min: heap growth after warm-up     missing"
	# BenchmarkSoak: 3,000 pushes to a bot answering 1 MiB bodies, each journaled, in a process of
	# their own; once the journal is full its peak resident set must stop growing.
	if (("BenchmarkSoak", "peak-rss-MiB") in metric) {
		peak = metric["BenchmarkSoak", "peak-rss-MiB"]; mid = metric["BenchmarkSoak", "half-way-peak-rss-MiB"]
		bound = metric["BenchmarkSoak", "journal-bound-MiB"]
		printf "%-48s %8.1f MiB    target <= 1.1 x half-way %.1f MiB  %s\n", "soak: peak RSS against 1 MiB answers", peak, mid, verdict(peak <= 1.1 * mid)
		printf "%-48s %8.1f MiB    (for reference; held %.1f MiB, start RSS %.1f MiB)\n", "  journal byte bound", bound, metric["BenchmarkSoak", "journal-MiB"], metric["BenchmarkSoak", "start-rss-MiB"]
	} else print "soak: peak RSS against 1 MiB answers            missing"
	# BenchmarkConsoleLoad: the web console in headless chromium, 10,000 journal entries held.
	c = "BenchmarkConsoleLoad"
	if ((c, "load-ms") in metric) {
		ms = metric[c, "load-ms"]
		printf "%-48s %8.1f ms     target < 1000 ms     %s\n", "console: open with 10,000 journal entries", ms, verdict(ms < 1000)
		gap = metric[c, "frame-gap-ms"]; behind = metric[c, "behind"]
		printf "%-48s %8.1f ms     target < 200 ms, 0 behind (%d)  %s\n", "console: longest frame at 1,000 entries/s", gap, behind, verdict(gap < 200 && behind == 0)
	} else print "console: open with 10,000 journal entries       missing (needs chromium)"
}
