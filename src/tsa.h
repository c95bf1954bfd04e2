/*
 * tsa.h — RFC 3161 timestamps: ask a timestamp authority for a token
 * over some bytes (libcurl for the HTTP POST, OpenSSL's TS_* API for the
 * request and the response), and check a token against the bytes. The
 * token kept is the whole TimeStampResp (DER), which
 *
 *   openssl ts -verify -in tagmanifest-sha256.txt.tsr \
 *       -data tagmanifest-sha256.txt -CAfile tsa-ca.pem
 *
 * reads as it is.
 */
#ifndef CV_TSA_H
#define CV_TSA_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define TSA_TOKEN_FILE "tagmanifest-sha256.txt.tsr"
#define TSA_TOKEN_MAX (64 * 1024) /* a response larger is refused */

/*
 * POST a timestamp request (SHA-256 imprint of data, a random nonce,
 * the TSA's certificate asked for) to url and check the answer is a
 * granted token for exactly that imprint and nonce. *token (DER,
 * caller frees) and *len on success; CV_EHTTP when the TSA cannot be
 * reached or answers with an error status, CV_EPARSE when it answers
 * garbage or a token for something else. timeout_s bounds the exchange.
 */
enum cv_err tsa_fetch(const char *url, const void *data, size_t len,
	long timeout_s, unsigned char **token, size_t *token_len,
	char **errmsg) CV_MUST_CHECK;

/*
 * Check token (a TimeStampResp, DER) against data: granted, and its
 * message imprint is data's. With ca_file, also its signature and
 * certificate chain up to that CA (and the signer's timeStamping
 * purpose). *gen_time gets the token's time, epoch ms. CV_EINTEGRITY
 * naming what does not hold.
 */
enum cv_err tsa_check(const unsigned char *token, size_t token_len,
	const void *data, size_t len, const char *ca_file, int64_t *gen_time,
	char **errmsg) CV_MUST_CHECK;

#endif
