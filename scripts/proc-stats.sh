# Sourced by the end-to-end benches: what a process has cost so far, read from /proc.

# CPU seconds (user + system) PID has spent; the fields after the command name of its stat.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"; }

# Peak resident memory of PID (VmHWM), in MiB.
peak_rss_mib() { awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
