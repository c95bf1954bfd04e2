/*
 * bench_s3put.c — upload a file through callvault's own S3 path (the
 * s3_upload_* calls `archive --to` feeds: 16 MiB parts, each with its
 * SHA-256 and Content-MD5, complete, PUT ?retention, HEAD), for
 * bench_s3.sh to time against `curl --aws-sigv4 -T` of the same bytes.
 *
 * usage: bench_s3put ENDPOINT BUCKET KEY FILE ACCESS_KEY_FILE
 *                    SECRET_KEY_FILE
 */
#include <stdio.h>
#include <stdlib.h>

#include "s3.h"
#include "util.h"

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: bench_s3put ENDPOINT BUCKET KEY FILE "
				"ACCESS_KEY_FILE SECRET_KEY_FILE\n");
		return 2;
	}
	struct s3_target t = { .endpoint = argv[1],
		.bucket = argv[2],
		.path_style = true,
		.access_key_file = argv[5],
		.secret_key_file = argv[6] };
	FILE *f = fopen(argv[4], "rb");
	if (!f) {
		perror(argv[4]);
		return 1;
	}
	struct s3 *c = NULL;
	struct s3_upload *u = NULL;
	struct s3_obj o;
	char *err = NULL;
	static char chunk[1 << 16];
	size_t n;
	enum cv_err rc = s3_create(&c, &t, &err);
	if (rc == CV_OK)
		rc = s3_upload_begin(c, argv[3], S3_LOCK_COMPLIANCE,
			cv_now_ms() + 86400000, S3_PART_MIN, &u, &err);
	while (rc == CV_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		rc = s3_upload_write(u, chunk, n, &err);
	if (rc == CV_OK)
		rc = s3_upload_finish(u, &o, &err);
	if (rc != CV_OK)
		fprintf(stderr, "bench_s3put: %s\n", err ? err : "failed");
	free(err);
	s3_upload_destroy(u);
	s3_destroy(c);
	fclose(f);
	return rc == CV_OK ? 0 : 1;
}
