#!/usr/bin/env bash
# Integration test of issue 21's signed archives: key init, signed bags
# checked with openssl alone (the block of docs/archives.md), a
# consistent rewrite and a removed or foreign signature caught by
# verify, rebuild keeping the signature. `tsa` part: RFC 3161 tokens
# from a local timestamp authority built on `openssl ts -reply`.
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
GEN="$SRC/tools/bench/gencalls.py"
A="$T/archives"
PART=${1:-sign}
K="$CALLVAULT_DB.secrets"

python3 "$GEN" 40 --seed 5 --locations 2 --start 2026-01 --months 2 \
	--with-location >"$T/calls.jsonl"
cv init >/dev/null
cv import "$T/calls.jsonl" >/dev/null
sed -n '/<!-- sign-begin -->/,/<!-- sign-end -->/p' "$SRC/docs/archives.md" |
	sed '/^<!--/d; /^```/d' >"$T/stock-sign.sh"

# unpack ARCHIVE into DIR (its one top directory becomes DIR)
unpack() {
	rm -rf "$2" "$2.x"
	mkdir -p "$2.x"
	tar --zstd -xf "$1" -C "$2.x" && mv "$2.x"/* "$2" && rmdir "$2.x"
}
# pack DIR as ARCHIVE (top directory NAME) with a fresh .sha256
pack() {
	local dir=$1 out=$2 name=$3
	rm -rf "$T/pk" && mkdir -p "$T/pk" && cp -a "$dir" "$T/pk/$name"
	tar --zstd -cf "$out" -C "$T/pk" "$name"
	(cd "$(dirname "$out")" && sha256sum "$(basename "$out")" >"$out.sha256")
}

sign_part() {
	# ---- key init ----
	expect_exit "key init" 0 cv key init
	expect "prints the public key" grep -q "BEGIN PUBLIC KEY" "$T/out"
	expect "printed = site.pub" cmp -s "$T/out" "$K/site.pub"
	expect_eq "private key 0600" "$(stat -c %a "$K/site.key")" 600
	expect "openssl reads the private key" \
		openssl pkey -in "$K/site.key" -noout
	expect_exit "a second key init is refused" 2 cv key init
	expect "and names why" grep -q "already holds a site key" "$T/err"
	expect_exit "key init --out" 0 cv key init --out "$T/other"
	expect "other key written" test -s "$T/other/site.key"

	# a key others can read is refused, naming the fix
	chmod 640 "$K/site.key"
	expect_exit "archive with a 0640 key" 2 cv archive --out "$A" \
		--through 2026-02
	expect "names chmod 600" grep -q "chmod 600 $K/site.key" "$T/err"
	expect "nothing written" test ! -e "$A"
	chmod 600 "$K/site.key"

	# ---- signed bags ----
	expect_exit "archive (signed)" 0 cv archive --out "$A" --through 2026-02
	expect_eq "each archive says it is signed" \
		"$(grep -c 'tag manifest signed with the site key' "$T/out")" 4
	one=$(ls "$A"/*/2026-01.tar.zst | head -1)
	expect "the bag holds the signature" \
		bash -c "tar --zstd -tf '$one' | grep -q '/tagmanifest-sha256.txt.sig$'"
	expect "stock openssl verifies (docs block)" \
		env ARCHIVE="$one" PUBKEY="$K/site.pub" bash "$T/stock-sign.sh"
	expect "stock docs block (issue 6) still passes" bash -c "
		sed -n '/<!-- verify-begin -->/,/<!-- verify-end -->/p' '$SRC/docs/archives.md' |
		sed '/^<!--/d; /^\`\`\`/d' | ARCHIVE='$one' bash"
	expect "bagit_check.py accepts signed bags" \
		python3 "$SRC/tests/bagit_check.py" "$A"/*/*.tar.zst
	expect_exit "verify (signed)" 0 cv verify "$A"/*/*.tar.zst
	expect_eq "each signature good" \
		"$(grep -c 'signature good (site key)' "$T/out")" 4
	expect_exit "verify --no-store (signed)" 0 cv verify --no-store "$one"
	expect_exit "verify with a foreign key" 3 cv verify --no-store \
		--pubkey "$T/other/site.pub" "$one"
	expect "names the signature" \
		grep -q "BAD tagmanifest-sha256.txt.sig: does not verify" "$T/out"
	expect "openssl agrees (foreign key)" bash -c "! env ARCHIVE='$one' \
		PUBKEY='$T/other/site.pub' bash '$T/stock-sign.sh' >/dev/null 2>&1"
	expect_exit "verify --pubkey garbage" 2 cv verify --pubkey \
		"$T/calls.jsonl" "$one"

	# ---- a consistent rewrite: caught without the store ----
	name=$(tar --zstd -tf "$one" | head -1 | cut -d/ -f1)
	unpack "$one" "$T/bag"
	sed -i '1s/"summary":"/"summary":"FORGED /' "$T/bag/data/calls.jsonl"
	python3 "$SRC/tests/rebag.py" "$T/bag"
	mkdir -p "$T/forged"
	pack "$T/bag" "$T/forged/2026-01.tar.zst" "$name"
	expect "the rewrite changed the payload" \
		bash -c "tar --zstd -xOf '$T/forged/2026-01.tar.zst' '$name/data/calls.jsonl' | grep -q FORGED"
	expect "the stock BagIt block passes the rewrite" bash -c "
		sed -n '/<!-- verify-begin -->/,/<!-- verify-end -->/p' '$SRC/docs/archives.md' |
		sed '/^<!--/d; /^\`\`\`/d' | ARCHIVE='$T/forged/2026-01.tar.zst' bash >/dev/null"
	expect_exit "verify --no-store: rewrite caught" 3 cv verify --no-store \
		"$T/forged/2026-01.tar.zst"
	expect "names the signature" \
		grep -q "forged/2026-01.tar.zst: BAD tagmanifest-sha256.txt.sig: does not verify" "$T/out"
	expect "openssl rejects the rewrite" bash -c "! env \
		ARCHIVE='$T/forged/2026-01.tar.zst' PUBKEY='$K/site.pub' \
		bash '$T/stock-sign.sh' >/dev/null 2>&1"
	# restore into a new store: with the public key the rewrite is
	# refused (nothing loaded), a genuine bag is loaded
	expect_exit "restore the rewrite with --pubkey: refused" 3 \
		cv --db "$T/r1.db" restore --pubkey "$K/site.pub" \
		"$T/forged/2026-01.tar.zst"
	expect "restore names the signature" grep -q \
		"BAD tagmanifest-sha256.txt.sig: does not verify" "$T/err"
	calls_in() { python3 -c "import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM calls').fetchone()[0])" "$1"; }
	expect_eq "nothing loaded" "$(calls_in "$T/r1.db")" 0
	expect_exit "restore a genuine bag with --pubkey" 0 \
		cv --db "$T/r2.db" restore --pubkey "$K/site.pub" "$one"
	expect "it loaded its calls" test "$(calls_in "$T/r2.db")" -gt 0
	# the same rewrite without its signature
	rm "$T/bag/tagmanifest-sha256.txt.sig"
	pack "$T/bag" "$T/forged/2026-01.tar.zst" "$name"
	expect_exit "verify: signature removed" 3 cv verify --no-store \
		"$T/forged/2026-01.tar.zst"
	expect "names it missing" grep -q "BAD tagmanifest-sha256.txt.sig: missing" "$T/out"
	# without a public key, an unsigned bag is not required to be
	expect_exit "no public key: not required" 0 env \
		CALLVAULT_SIGNING_PUBKEY= "$CALLVAULT" --db "$T/none.db" verify \
		--no-store "$T/forged/2026-01.tar.zst"

	# ---- rebuild keeps the signature ----
	unpack "$one" "$T/orig"
	rm "$one"
	expect_exit "rebuild the lost month" 0 cv archive --rebuild 2026-01 \
		--out "$A"
	unpack "$one" "$T/rebuilt"
	expect "the same signature" cmp -s "$T/orig/tagmanifest-sha256.txt.sig" \
		"$T/rebuilt/tagmanifest-sha256.txt.sig"
	expect "the same tag manifest" cmp -s "$T/orig/tagmanifest-sha256.txt" \
		"$T/rebuilt/tagmanifest-sha256.txt"
	expect_exit "verify the rebuilt month" 0 cv verify "$one"
	expect "its signature good" grep -q "signature good" "$T/out"
	check_store

	# ---- archives written before the site key existed ----
	export CALLVAULT_DB="$T/old.db"
	O="$T/oldarch"
	cv init >/dev/null
	cv import "$T/calls.jsonl" >/dev/null
	expect_exit "archive without a key" 0 cv archive --month 2026-01 --out "$O"
	expect "says it is not signed" grep -q "no site key at .*: not signed" "$T/err"
	expect_exit "archive with the key" 0 env CALLVAULT_SIGNING_KEY="$K/site.key" \
		"$CALLVAULT" archive --month 2026-02 --out "$O"
	old=$(ls "$O"/*/2026-01.tar.zst | head -1)
	new=$(ls "$O"/*/2026-02.tar.zst | head -1)
	expect_exit "verify: the unsigned month as recorded" 0 cv verify \
		--pubkey "$K/site.pub" "$old" "$new"
	expect "a note for the month written unsigned" grep -q \
		"2026-01.tar.zst: note: not signed: the store recorded it as written before the site key existed" "$T/out"
	expect "the signed one checked" grep -q "2026-02.tar.zst: signature good" "$T/out"
	expect_exit "without the store the unsigned month is BAD" 3 cv verify \
		--no-store --pubkey "$K/site.pub" "$old"
	# a signature the store recorded, stripped from the bag
	name=$(tar --zstd -tf "$new" | head -1 | cut -d/ -f1)
	unpack "$new" "$T/strip"
	rm "$T/strip/tagmanifest-sha256.txt.sig"
	pack "$T/strip" "$new" "$name"
	expect_exit "a recorded signature stripped" 3 cv verify \
		--pubkey "$K/site.pub" "$new"
	expect "named missing" grep -q "BAD tagmanifest-sha256.txt.sig: missing" "$T/out"
}

# A throwaway CA and timestamping certificate, and the openssl ts
# configuration the local authority replies with.
make_tsa_ca() {
	local d=$1 cn=$2
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
		-subj "/CN=$cn CA" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/tsa.key" -out "$d/tsa.csr" -subj "/CN=$cn" 2>/dev/null
	printf '%s\n' 'basicConstraints=CA:FALSE' \
		'keyUsage=critical,digitalSignature' \
		'extendedKeyUsage=critical,timeStamping' >"$d/ext.cnf"
	openssl x509 -req -in "$d/tsa.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
		-CAcreateserial -out "$d/tsa.crt" -days 2 \
		-extfile "$d/ext.cnf" 2>/dev/null
	echo 01 >"$d/serial"
	cat >"$d/tsa.cnf" <<CNF
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
serial = $d/serial
signer_cert = $d/tsa.crt
certs = $d/ca.crt
signer_key = $d/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ess_cert_id_alg = sha256
CNF
}

# start_tsa MODE: a local authority; its URL in $TSA_URL
start_tsa() {
	coproc TSA { exec python3 "$SRC/tests/tsa_server.py" "$T/tsa" "$1"; }
	local pid=$TSA_PID port
	read -r port <&"${TSA[0]}"
	cleanup_hooks+=("kill $pid 2>/dev/null")
	TSA_URL="http://127.0.0.1:$port/tsa"
	LAST_TSA_PID=$pid
}
stop_tsa() { kill "$LAST_TSA_PID" 2>/dev/null; wait "$LAST_TSA_PID" 2>/dev/null; }

tsa_part() {
	make_tsa_ca "$T/tsa" "Test TSA"
	make_tsa_ca "$T/tsa2" "Other TSA"
	expect "throwaway CA made" test -s "$T/tsa/tsa.crt"
	cv key init >/dev/null 2>&1
	start_tsa ok
	expect_exit "archive --tsa" 0 cv archive --out "$A" --month 2026-01 \
		--tsa "$TSA_URL"
	expect_eq "each archive timestamped" \
		"$(grep -c 'RFC 3161 timestamp kept' "$T/out")" 2
	one=$(ls "$A"/*/2026-01.tar.zst | head -1)
	two=$(ls "$A"/*/2026-01.tar.zst | tail -1)
	unpack "$one" "$T/bag"
	cp "$T/bag/tagmanifest-sha256.txt.tsr" "$T/orig.tsr"
	expect "stock openssl ts -verify" openssl ts -verify \
		-in "$T/bag/tagmanifest-sha256.txt.tsr" \
		-data "$T/bag/tagmanifest-sha256.txt" -CAfile "$T/tsa/ca.crt"
	expect "stock docs block with a timestamp" env ARCHIVE="$one" \
		PUBKEY="$K/site.pub" TSA_CA="$T/tsa/ca.crt" bash "$T/stock-sign.sh"
	expect "openssl ts rejects another authority's CA" bash -c "! openssl \
		ts -verify -in '$T/bag/tagmanifest-sha256.txt.tsr' \
		-data '$T/bag/tagmanifest-sha256.txt' -CAfile '$T/tsa2/ca.crt' \
		>/dev/null 2>&1"
	expect_exit "verify --tsa-ca" 0 cv verify --tsa-ca "$T/tsa/ca.crt" \
		"$one" "$two"
	expect_eq "both timestamps good" "$(grep -c 'timestamp good: .*the CA file trusts' "$T/out")" 2
	expect_exit "verify, CA from the environment" 0 env \
		CALLVAULT_TSA_CA="$T/tsa/ca.crt" "$CALLVAULT" verify "$one"
	expect_exit "verify with another CA" 3 cv verify --tsa-ca \
		"$T/tsa2/ca.crt" "$one"
	expect "names the token" grep -q "BAD tagmanifest-sha256.txt.tsr: the timestamp does not verify" "$T/out"
	expect_exit "verify without a CA: imprint only" 0 cv verify "$one"
	expect "says the authority was not checked" \
		grep -q "not checked: no --tsa-ca" "$T/out"

	# another bag's token (a valid token, for another tag manifest)
	name=$(tar --zstd -tf "$one" | head -1 | cut -d/ -f1)
	unpack "$two" "$T/bag2"
	cp "$T/bag2/tagmanifest-sha256.txt.tsr" "$T/bag/"
	mkdir -p "$T/swap"
	pack "$T/bag" "$T/swap/2026-01.tar.zst" "$name"
	expect_exit "verify: a token for another manifest" 3 cv verify \
		--no-store "$T/swap/2026-01.tar.zst"
	expect "names the token" grep -q "BAD tagmanifest-sha256.txt.tsr" "$T/out"
	expect "openssl agrees" bash -c "! openssl ts -verify -in \
		'$T/bag/tagmanifest-sha256.txt.tsr' -data \
		'$T/bag/tagmanifest-sha256.txt' -CAfile '$T/tsa/ca.crt' \
		>/dev/null 2>&1"

	# rebuild keeps the token it had
	rm "$one"
	expect_exit "rebuild" 0 cv archive --rebuild 2026-01 --out "$A"
	unpack "$one" "$T/rebuilt"
	expect "the same token" cmp -s "$T/rebuilt/tagmanifest-sha256.txt.tsr" \
		"$T/orig.tsr"
	expect_exit "the rebuilt month verifies" 0 cv verify --tsa-ca \
		"$T/tsa/ca.crt" "$one"
	stop_tsa

	# an authority that cannot be reached: written without, exit 1
	expect_exit "TSA unreachable" 1 cv archive --out "$A" --month 2026-02 \
		--tsa "$TSA_URL"
	expect "the archives are written" test -e "$(dirname "$one")/2026-02.tar.zst"
	expect "says so" grep -q "written without a timestamp" "$T/err"
	expect "and how to accept it" grep -q -- "--tsa-optional" "$T/err"
	expect_exit "they verify (signed, no token)" 0 cv verify "$A"/*/2026-02.tar.zst
	# garbage, and an error status, from the config key, --tsa-optional
	rm -rf "$A" "$CALLVAULT_DB"*
	cv init >/dev/null && cv import "$T/calls.jsonl" >/dev/null
	start_tsa garbage
	expect_exit "TSA answering garbage, optional" 0 env \
		CALLVAULT_TSA_URL="$TSA_URL" "$CALLVAULT" archive --out "$A" \
		--month 2026-01 --tsa-optional
	expect "says it is not a timestamp response" \
		grep -q "not a timestamp response" "$T/err"
	expect_eq "no token kept" "$(tar --zstd -tf "$one" | grep -c '\.tsr$')" 0
	stop_tsa
	start_tsa error
	expect_exit "TSA answering 500" 1 env CALLVAULT_TSA_URL="$TSA_URL" \
		"$CALLVAULT" archive --out "$A" --month 2026-02
	expect "names the status" grep -q "answered HTTP 500" "$T/err"
	stop_tsa
	check_store
}

case $PART in
sign) sign_part ;;
tsa) tsa_part ;;
*) echo "unknown part $PART" >&2; exit 2 ;;
esac
