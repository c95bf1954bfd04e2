/*
 * media_backup.h — the blobs a store backup needs: every recording its
 * rows name, copied from the live blob store into the backup's own
 * (<backup>.blobs), each hashed while it is copied.
 */
#ifndef CV_MEDIA_BACKUP_H
#define CV_MEDIA_BACKUP_H

#include <stdint.h>

#include "common.h"

/*
 * Copy the blobs the store copy at copy_path names, from the blob store
 * of live_store to that of out_path. A copy whose bytes do not hash to
 * their name, or a blob that is gone (purged since the snapshot), fails
 * it, naming the blob; then the backup's blob directory is removed.
 * *n and *bytes count the blobs and bytes copied. A store without
 * recordings creates nothing.
 */
enum cv_err media_backup(const char *live_store, const char *copy_path,
	const char *out_path, int64_t *n, int64_t *bytes,
	char **errmsg) CV_MUST_CHECK;

/* Remove the blob directory a backup at out_path wrote (its audit entry
 * could not be written: an unaudited copy is not kept). */
void media_backup_discard(const char *out_path);

#endif
