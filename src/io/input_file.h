/* Opening a file to read: the one door of lurn's readers (CSV, NPY, IDX). Internal to the
 * C core: not part of lurn.h. */
#ifndef LURN_INPUT_FILE_H
#define LURN_INPUT_FILE_H

#include <sys/stat.h>

/* A read-only descriptor of `path` and its fstat in *st, or -1 with the error set naming
 * the file. A directory is refused here: open(2) takes one, and the first read(2) would
 * fail with a less helpful message. */
int lurn_open_input(const char *path, struct stat *st);

#endif
