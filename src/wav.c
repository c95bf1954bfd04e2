/* wav.c — see wav.h */
#include "wav.h"

#include <string.h>

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

bool wav_parse(const void *buf, size_t n, struct wav_info *out,
	const char **why)
{
	const unsigned char *p = buf;
	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (n < 12 || memcmp(p, "RIFF", 4) || memcmp(p + 8, "WAVE", 4)) {
		*why = "not a RIFF/WAVE file";
		return false;
	}
	bool have_fmt = false;
	size_t off = 12;
	/* walk the chunks in the bytes we have: fmt first, then data */
	while (off + 8 <= n) {
		uint32_t len = le32(p + off + 4);
		if (!memcmp(p + off, "fmt ", 4)) {
			if (len < 16 || off + 8 + 16 > n) {
				*why = "WAVE fmt chunk too short";
				return false;
			}
			const unsigned char *f = p + off + 8;
			out->format = le16(f);
			out->channels = le16(f + 2);
			out->sample_rate = (int)le32(f + 4);
			out->bits = le16(f + 14);
			have_fmt = true;
		} else if (!memcmp(p + off, "data", 4)) {
			if (!have_fmt) {
				*why = "WAVE data chunk before its fmt chunk";
				return false;
			}
			out->data_offset = (int64_t)off + 8;
			out->data_bytes = len;
			break;
		}
		/* chunks are padded to an even length */
		uint64_t next = (uint64_t)off + 8 + len + (len & 1);
		if (next > SIZE_MAX)
			break;
		off = (size_t)next;
	}
	if (!have_fmt) {
		*why = "no WAVE fmt chunk in the header";
		return false;
	}
	if (out->channels < 1 || out->channels > 16 ||
		out->sample_rate < 1000 || out->sample_rate > 384000 ||
		out->bits < 1 || out->bits > 64) {
		*why = "impossible WAVE format fields";
		return false;
	}
	if (!out->data_offset) {
		*why = "no WAVE data chunk in the header";
		return false;
	}
	return true;
}

int64_t wav_duration_ms(const struct wav_info *w, int64_t file_size)
{
	if (!w->sample_rate || !w->channels || !w->bits || !w->data_offset)
		return -1;
	int64_t avail = file_size - w->data_offset;
	if (avail < 0)
		avail = 0;
	int64_t data = w->data_bytes;
	/* 0xFFFFFFFF and 0 are what streaming writers leave: use the file */
	if (data == 0 || data == 0xFFFFFFFFLL || data > avail)
		data = avail;
	int64_t frame = (int64_t)w->channels * ((w->bits + 7) / 8);
	int64_t per_s = (int64_t)w->sample_rate * frame;
	return per_s ? data * 1000 / per_s : -1;
}
