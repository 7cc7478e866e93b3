/*
 * sctl_json.h: the small JSON pieces sensorctl needs: a strict pull reader
 * for capture sidecars (untrusted: a forensic copy may have been edited)
 * and a string writer for -j output.
 *
 * The reader walks one buffer through a struct cur with a sticky error:
 * the caller asks for what it expects next (an object, a key, a number)
 * and the first mismatch is kept in j->err; every later call fails too, so
 * a parser may check once at the end.  Nesting is bounded (SJ_DEPTH_MAX),
 * strings decode to printable ASCII only (a sidecar is written in ASCII by
 * spool.c; anything else is refused, so a tampered file can never put
 * terminal escapes in front of the analyst), numbers follow RFC 8259 §6.
 */
#ifndef SENSORD_SCTL_JSON_H
#define SENSORD_SCTL_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cursor.h"

#define SJ_DEPTH_MAX 16
#define SJ_NUM_MAX 64 /* longest number token accepted */

enum sj_type {
	SJ_NONE = 0, /* end of input or not a value */
	SJ_OBJECT,
	SJ_ARRAY,
	SJ_STRING,
	SJ_NUMBER,
	SJ_BOOL,
	SJ_NULL
};

struct sj {
	struct cur  c;
	int	    depth;
	uint32_t    is_first; /* bit d: nothing read yet at depth d */
	const char *err;      /* sticky: the first error, or NULL */
};

void sj_init(struct sj *j, const uint8_t *p, size_t len);
/* Record an error (the first one stays); returns -1. */
int sj_fail(struct sj *j, const char *why);

/* The type of the next value, without consuming it. */
enum sj_type sj_peek(struct sj *j);

/* '{' or '[': 0, or -1. */
int sj_object(struct sj *j);
int sj_array(struct sj *j);
/*
 * In an object: 1 and the next key in key (NUL-terminated, ':' consumed),
 * 0 when the object ended ('}' consumed), -1 on error.
 */
int sj_key(struct sj *j, char *key, size_t size);
/* In an array: 1 when an element follows, 0 at ']' (consumed), -1. */
int sj_more(struct sj *j);

/* Scalars: 0, or -1 (and the sticky error). */
int sj_string(struct sj *j, char *buf, size_t size);
int sj_u64(struct sj *j, uint64_t *v);
int sj_double(struct sj *j, double *v);
int sj_bool(struct sj *j, int *v);
/* 1 when the next value is null (consumed), 0 when it is not. */
int sj_null(struct sj *j);
/* Any value, nested ones included (depth-bounded). */
int sj_skip(struct sj *j);
/* 0 when only white space is left and no error happened. */
int sj_end(struct sj *j);

/*
 * Write n bytes as a JSON string: '"', '\' and control bytes escaped, valid
 * UTF-8 as is, any other byte as \u00XX (as flowlog.c writes them).
 */
void sj_put_str(FILE *f, const uint8_t *s, size_t n);

#endif /* SENSORD_SCTL_JSON_H */
