// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include "internal.h"

int uptrkv_read_file(const char *path, size_t max, void **buf, size_t *len, struct uptrkv_error *e)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	int fd, err = 0;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return uptrkv_errno(e, -errno, "open %s", path);
	if (fstat(fd, &st)) {
		err = uptrkv_errno(e, -errno, "stat %s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		err = uptrkv_err(e, -EFBIG, "%s: not a regular file of at most %zu bytes", path, max);
		goto out;
	}
	data = malloc(st.st_size + 1);
	if (!data) {
		err = uptrkv_err(e, -ENOMEM, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, st.st_size - got);

		if (n <= 0) {
			err = n ? uptrkv_errno(e, -errno, "read %s", path)
				: uptrkv_err(e, -EIO, "%s: shorter than its size", path);
			goto out;
		}
		got += n;
	}
	data[got] = '\0';
	*buf = data;
	*len = got;
	data = NULL;
out:
	free(data);
	close(fd);
	return err;
}
