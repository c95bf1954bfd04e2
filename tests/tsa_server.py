#!/usr/bin/env python3
"""tsa_server.py DIR MODE: a timestamp authority on loopback for the
tests, built on `openssl ts -reply` with the CA and TSA certificate the
test made in DIR (DIR/tsa.cnf). Binds port 0 and prints the port.
MODE: ok (RFC 3161 replies), garbage (200 with random bytes), error
(HTTP 500)."""
import http.server, os, subprocess, sys, tempfile

DIR, MODE = sys.argv[1], sys.argv[2]

class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(min(n, 1 << 16))
        if MODE == "error":
            self.send_response(500)
            self.end_headers()
            return
        if MODE == "garbage":
            out = os.urandom(300)
        else:
            with tempfile.TemporaryDirectory(dir=DIR) as d:
                q = os.path.join(d, "req.tsq")
                r = os.path.join(d, "resp.tsr")
                open(q, "wb").write(body)
                subprocess.run(["openssl", "ts", "-reply", "-config",
                                os.path.join(DIR, "tsa.cnf"), "-queryfile",
                                q, "-out", r], check=True,
                               stderr=subprocess.DEVNULL)
                out = open(r, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass

s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
