# tools/bench/lib.sh — shell helpers the benchmark scripts share (sourced).

# The median of the numbers on stdin, one per line; with an even count,
# the mean of the two middle ones.
median() {
	sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'
}
