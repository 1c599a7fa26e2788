# Reads `go test -bench` output and prints the targets wxemu holds itself to.
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 2; i < NF; i++) {
		if ($(i+1) == "ns/op") ns[name] = $i
		if ($(i+1) == "bytes/user") perUser[name] = $i
		if ($(i+1) == "plain-vs-bare-%") plainPct = $i
		if ($(i+1) == "safe-vs-plain-%") safePct = $i
		if ($(i+1) == "send-vs-bare-%") sendPct = $i
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
	if ("BenchmarkStart" in ns) {
		ms = ns["BenchmarkStart"] / 1e6
		printf "%-48s %8.1f ms     target < 100 ms      %s\n", "wxemu serve: start to ready", ms, verdict(ms < 100)
	} else print "wxemu serve: start to ready                      missing"
}
