#!/usr/bin/env python3
"""s3_fault.py — a minimal S3 endpoint on 127.0.0.1 that misbehaves on
purpose, for tests/integration/test_s3_faults.sh (no signature checks: the real
engine is tests/integration/test_s3.sh's RGW).

usage: s3_fault.py MODE PORTFILE LOGFILE
  flaky   the first request's connection is reset without an answer, the
          second gets 503 SlowDown, then it answers what `storage check`
          asks (object-lock config, a locked PUT, HEAD, a refused DELETE)
  skew    every request: 403 RequestTimeTooSkewed
  down    every request: 500 InternalError
  stall   a GET gets its headers and 100 bytes of a 1 MiB body, then
          nothing; any other request never gets an answer
  trickle a GET gets its headers, then 16 bytes every half second
          (32 B/s) of a 1 MiB body; any other request: as stall
  parts   a multipart upload whose part 3 always gets 500 InternalError;
          the other parts are answered after 0.3 s (so a writer outruns
          the senders), the abort with 204
  listempty  a ListObjectsV2 GET gets 200 with no body
  listloop   a ListObjectsV2 GET gets one key and IsTruncated=true with
             the same continuation token every time
  listlong   a ListObjectsV2 GET gets a page with a 2,000-byte key
Each request is logged as "METHOD PATH?QUERY" to LOGFILE.
"""
import http.server
import socket
import sys
import time

MODE, PORTFILE, LOGFILE = sys.argv[1:4]
count = 0
lock = {}


def error(h, status, code):
    body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s"
            "</Code><Message></Message></Error>" % code).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/xml")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(body)


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def handle_one(self):
        global count
        count += 1
        with open(LOGFILE, "a") as f:
            f.write("%s %s\n" % (self.command, self.path))
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        if MODE == "skew":
            return error(self, 403, "RequestTimeTooSkewed")
        if MODE == "down":
            return error(self, 500, "InternalError")
        if MODE in ("stall", "trickle"):
            return self.slow()
        if MODE == "parts":
            return self.parts()
        if MODE.startswith("list"):
            return self.listing()
        if count == 1:
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if count == 2:
            return error(self, 503, "SlowDown")
        path, _, query = self.path.partition("?")
        if "object-lock=" in query:
            body = (b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled"
                    b"</ObjectLockEnabled></ObjectLockConfiguration>")
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return self.wfile.write(body)
        if self.command == "PUT":
            lock[path] = (self.headers.get("x-amz-object-lock-mode"),
                          self.headers.get(
                              "x-amz-object-lock-retain-until-date"))
            self.send_response(200)
            self.send_header("ETag", '"abc"')
            self.send_header("x-amz-version-id", "v1")
            self.send_header("Content-Length", "0")
            return self.end_headers()
        if self.command == "HEAD" and path in lock:
            self.send_response(200)
            self.send_header("x-amz-version-id", "v1")
            self.send_header("x-amz-object-lock-mode", lock[path][0])
            self.send_header("x-amz-object-lock-retain-until-date",
                             lock[path][1])
            self.send_header("Content-Length", "24")
            return self.end_headers()
        if self.command == "DELETE":
            return error(self, 403, "AccessDenied")
        return error(self, 404, "NoSuchKey")

    def slow(self):
        try:
            if self.command != "GET":
                time.sleep(600)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 20))
            self.send_header("x-amz-version-id", "v1")
            self.end_headers()
            if MODE == "stall":
                self.wfile.write(b"x" * 100)
                self.wfile.flush()
                time.sleep(600)
            for _ in range(1200):
                self.wfile.write(b"y" * 16)
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass  # the client gave up: what the test wants
        self.close_connection = True
    def listing(self):
        body = b""
        if MODE == "listloop":
            body = (b"<ListBucketResult><IsTruncated>true</IsTruncated>"
                    b"<Contents><Key>p/2026-01.tar.zst</Key></Contents>"
                    b"<NextContinuationToken>same</NextContinuationToken>"
                    b"</ListBucketResult>")
        elif MODE == "listlong":
            body = (b"<ListBucketResult><IsTruncated>false</IsTruncated>"
                    b"<Contents><Key>" + b"k" * 2000 + b"</Key></Contents>"
                    b"</ListBucketResult>")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def parts(self):
        path, _, query = self.path.partition("?")
        q = dict(kv.partition("=")[::2] for kv in query.split("&"))
        if self.command == "POST" and "uploads" in q:
            body = b"<InitiateMultipartUploadResult><UploadId>u1</UploadId>" \
                b"</InitiateMultipartUploadResult>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return self.wfile.write(body)
        if self.command == "PUT" and "partNumber" in q:
            if q["partNumber"] == "3":
                return error(self, 500, "InternalError")
            time.sleep(0.3)
            self.send_response(200)
            self.send_header("ETag", '"p%s"' % q["partNumber"])
            self.send_header("Content-Length", "0")
            return self.end_headers()
        if self.command == "DELETE" and "uploadId" in q:
            self.send_response(204)
            return self.end_headers()
        return error(self, 400, "InvalidRequest")

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = handle_one


http.server.ThreadingHTTPServer.daemon_threads = True
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(PORTFILE, "w") as f:
    f.write(str(srv.server_address[1]))
srv.serve_forever()
