# Reads `go test -bench` output and prints the targets wxemu holds itself to.
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 2; i < NF; i++) if ($(i+1) == "ns/op") ns[name] = $i
}
function ratio(label, fast, slow, target,    r) {
	if (!(fast in ns) || !(slow in ns)) { printf "%-44s missing (%s, %s)\n", label, fast, slow; return }
	r = ns[fast] / ns[slow]
	printf "%-44s %6.1f%%   target >= %d%%   %s\n", label, 100 * r, target, (100 * r >= target ? "ok" : "BELOW TARGET")
}
END {
	print ""
	print "wxemu benchmark report (throughput ratios; higher is better)"
	ratio("push plaintext, full verdict / bare loop", "BenchmarkPush/baseline", "BenchmarkPush/plain", 90)
	ratio("push safe mode / plaintext", "BenchmarkPush/plain", "BenchmarkPush/safe", 75)
}
