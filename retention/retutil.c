/*
 * retutil.c — small helpers of the retention module: months, file-name
 * safe ids, a file's SHA-256, directories.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "retention.h"
#include "rebuild.h"

bool retention_month_bounds(const char *month, int64_t *from, int64_t *to)
{
	if (!month || strlen(month) != 7 || month[4] != '-')
		return false;
	char day[32];
	snprintf(day, sizeof(day), "%.7s-01", month);
	if (!cv_parse_iso8601(day, from))
		return false;
	int y = atoi(month), m = atoi(month + 5);
	if (m == 12) {
		y++;
		m = 1;
	} else {
		m++;
	}
	snprintf(day, sizeof(day), "%04d-%02d-01", y % 10000, m % 100);
	return cv_parse_iso8601(day, to);
}

void retention_month_back(int64_t now_ms, int n, char out[8])
{
	char m[8];
	cv_format_month(now_ms, m);
	int y = atoi(m), mo = atoi(m + 5) - n;
	while (mo < 1) {
		mo += 12;
		y--;
	}
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%04d-%02d", y % 10000, mo % 100);
	memcpy(out, tmp, 7);
	out[7] = '\0';
}

char *retention_safe_name(const char *id)
{
	struct buf b;
	buf_init(&b);
	if (!id || !*id)
		return xstrdup("_none");
	for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
		bool keep = (*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '_' ||
			    *p == '-' ||
			    (*p == '.' && p != (const unsigned char *)id);
		if (keep)
			buf_putc(&b, (char)*p);
		else
			buf_printf(&b, "%%%02X", *p);
	}
	return buf_steal(&b);
}

bool retention_file_sha256(const char *path, char out[CV_SHA256_HEX])
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	struct cv_hash *h = cv_hash_create("sha256");
	static char chunk[1 << 16];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		cv_hash_update(h, chunk, n);
	char hex[CV_SHA512_HEX];
	cv_hash_final_hex(h, hex);
	bool ok = !ferror(f);
	fclose(f);
	memcpy(out, hex, CV_SHA256_HEX);
	return ok;
}

enum cv_err retention_mkdirs(const char *path, char **errmsg)
{
	char *p = xstrdup(path);
	enum cv_err rc = CV_OK;
	for (char *q = p + 1;; q++) {
		if (*q != '/' && *q)
			continue;
		char c = *q;
		*q = '\0';
		if (mkdir(p, (mode_t)cv_data_dir_mode()) != 0 &&
			errno != EEXIST) {
			rc = cv_error(errmsg, CV_EIO, "cannot create %s: %s", p,
				strerror(errno));
			break;
		}
		*q = c;
		if (!c)
			break;
	}
	free(p);
	return rc;
}
