/*
 * wav.h — what a RIFF/WAVE header says: format, rate, channels, sample
 * size and the length of the audio, read from the first bytes of a file
 * without trusting them (every field bounded, the data length clipped to
 * the bytes actually present).
 */
#ifndef CV_WAV_H
#define CV_WAV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wav_info {
	int format; /* 1 PCM, 3 float, 6 A-law, 7 µ-law, … */
	int channels;
	int sample_rate;     /* Hz */
	int bits;            /* per sample */
	int64_t data_offset; /* where the samples start */
	int64_t data_bytes;  /* as the header says */
};

/*
 * Parse the header in the first n bytes of a file (a few hundred bytes
 * cover every header seen in practice). false, with *why set to a static
 * reason, when it is not a RIFF/WAVE file or its fields are impossible.
 */
bool wav_parse(const void *p, size_t n, struct wav_info *out, const char **why);
/* Duration in ms of the audio given the file's real size (the header's
 * data length clipped to what the file holds); -1 when unknown. */
int64_t wav_duration_ms(const struct wav_info *w, int64_t file_size);

#endif
