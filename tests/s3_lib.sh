# s3_lib.sh — for the tests against a real S3 engine (sourced after
# lib.sh): start a throwaway Ceph RGW (tools/rgw), or skip (exit 77) when
# its packages are not installed; key files $T/ak and $T/sk (0600);
# $EP the endpoint; s3 METHOD PATH [curl args…], a signed request that
# prints the HTTP status (the body in $T/s3.body).
RGW="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools/rgw"
if ! "$RGW" available; then
	echo "SKIP: ceph-mon, ceph-osd and radosgw are not installed" \
		"(tools/bootstrap --s3 installs them)"
	exit 77
fi
"$RGW" start "$T/rgw" >"$T/rgw.env" 2>"$T/rgw.err" ||
	{ cat "$T/rgw.err" >&2; bad "tools/rgw start"; exit 1; }
cleanup_hooks+=("'$RGW' stop '$T/rgw'")
. "$T/rgw.env"
EP=$RGW_ENDPOINT
umask 077
printf '%s\n' "$RGW_ACCESS_KEY" >"$T/ak"
printf '%s\n' "$RGW_SECRET_KEY" >"$T/sk"

s3() {
	local m=$1 p=$2; shift 2
	curl -s -o "$T/s3.body" -w '%{http_code}' -X "$m" \
		--aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$RGW_ACCESS_KEY:$RGW_SECRET_KEY" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@" "$EP/$p"
}
