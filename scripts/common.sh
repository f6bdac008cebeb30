# Shell functions the scripts beside this file share; sourced, not run.

# free_port prints a loopback port nothing listens on (other benchmarks
# may be running on this machine).
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}
