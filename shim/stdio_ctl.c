/* stdio_ctl.c: the stdio calls that neither read nor write a stream but
 * use its state under its lock — buffering (setvbuf and kin), positions
 * (fseek, ftell, fgetpos …), end-of-file and error flags, orientation — and
 * the calls that print to stderr themselves: perror, psignal, psiginfo,
 * herror, the err/warn family, error and error_at_line. glibc writes
 * those through stderr without taking its lock when it is the shim's (or,
 * perror, through a stream of its own on a dup of fd 2), so they run here
 * under stderr's lock; perror, error and error_at_line are written again
 * over the interposed calls, as glibc 2.36 writes them. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <error.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

GP_EXPORT void setbuf(FILE *fp, char *buf)
{
  GP__STDIO_CALL_VOID(fp, GP__STDIO_CTL, gp__real_setbuf(fp, buf));
}

GP_EXPORT void setbuffer(FILE *fp, char *buf, size_t size)
{
  GP__STDIO_CALL_VOID(fp, GP__STDIO_CTL, gp__real_setbuffer(fp, buf, size));
}

GP_EXPORT void setlinebuf(FILE *fp)
{
  GP__STDIO_CALL_VOID(fp, GP__STDIO_CTL, gp__real_setlinebuf(fp));
}

GP_EXPORT int setvbuf(FILE *fp, char *buf, int mode, size_t size)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, int, gp__real_setvbuf(fp, buf, mode, size));
}

GP_EXPORT int fseek(FILE *fp, long off, int whence)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, int, gp__real_fseek(fp, off, whence));
}

GP_EXPORT int fseeko(FILE *fp, off_t off, int whence)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, int, gp__real_fseeko(fp, off, whence));
}

GP_EXPORT int fseeko64(FILE *fp, off64_t off, int whence)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, int, gp__real_fseeko64(fp, off, whence));
}

GP_EXPORT long ftell(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, long, gp__real_ftell(fp));
}

GP_EXPORT off_t ftello(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, off_t, gp__real_ftello(fp));
}

GP_EXPORT off64_t ftello64(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, off64_t, gp__real_ftello64(fp));
}

GP_EXPORT int fgetpos(FILE *fp, fpos_t *pos)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, int, gp__real_fgetpos(fp, pos));
}

GP_EXPORT int fgetpos64(FILE *fp, fpos64_t *pos)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, int, gp__real_fgetpos64(fp, pos));
}

GP_EXPORT int fsetpos(FILE *fp, const fpos_t *pos)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, int, gp__real_fsetpos(fp, pos));
}

GP_EXPORT int fsetpos64(FILE *fp, const fpos64_t *pos)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, int, gp__real_fsetpos64(fp, pos));
}

GP_EXPORT void rewind(FILE *fp)
{
  GP__STDIO_CALL_VOID(fp, GP__STDIO_CTL, gp__real_rewind(fp));
}

GP_EXPORT int feof(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, int, gp__real_feof(fp));
}

GP_EXPORT int ferror(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, int, gp__real_ferror(fp));
}

GP_EXPORT int _IO_feof(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, int, gp__real__IO_feof(fp));
}

GP_EXPORT int _IO_ferror(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, int, gp__real__IO_ferror(fp));
}

GP_EXPORT void clearerr(FILE *fp)
{
  GP__STDIO_CALL_VOID(fp, GP__STDIO_CTL, gp__real_clearerr(fp));
}

GP_EXPORT int fwide(FILE *fp, int mode)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, int, gp__real_fwide(fp, mode));
}

/* ---- what prints to stderr by itself ---- */

GP_EXPORT void psignal(int sig, const char *s)
{
  GP__STDIO_CALL_VOID(stderr, GP__STDIO_OUT, gp__real_psignal(sig, s));
}

GP_EXPORT void psiginfo(const siginfo_t *info, const char *s)
{
  GP__STDIO_CALL_VOID(stderr, GP__STDIO_OUT, gp__real_psiginfo(info, s));
}

GP_EXPORT void herror(const char *s)
{
  GP__STDIO_CALL_VOID(stderr, GP__STDIO_OUT, gp__real_herror(s));
}

GP_EXPORT void vwarn(const char *fmt, va_list ap)
{
  GP__STDIO_CALL_VOID(stderr, GP__STDIO_OUT, gp__real_vwarn(fmt, ap));
}

GP_EXPORT void vwarnx(const char *fmt, va_list ap)
{
  GP__STDIO_CALL_VOID(stderr, GP__STDIO_OUT, gp__real_vwarnx(fmt, ap));
}

/* verr and verrx exit with stderr's lock held, as glibc's do. */
GP_EXPORT void verr(int status, const char *fmt, va_list ap)
{
  struct gp__stdio_call c;
  gp__stdio_enter(&c, stderr, GP__STDIO_OUT);
  gp__real_verr(status, fmt, ap);
  abort(); /* not reached */
}

GP_EXPORT void verrx(int status, const char *fmt, va_list ap)
{
  struct gp__stdio_call c;
  gp__stdio_enter(&c, stderr, GP__STDIO_OUT);
  gp__real_verrx(status, fmt, ap);
  abort(); /* not reached */
}

GP_EXPORT void warn(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vwarn(fmt, ap);
  va_end(ap);
}

GP_EXPORT void warnx(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vwarnx(fmt, ap);
  va_end(ap);
}

GP_EXPORT void err(int status, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  verr(status, fmt, ap);
}

GP_EXPORT void errx(int status, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  verrx(status, fmt, ap);
}

/* glibc's __vfxprintf: fp locked, and a wide stream gets the format as
 * wide characters. */
static int vfxprintf(FILE *fp, const char *fmt, va_list ap)
{
  int r;
  flockfile(fp);
  if (fwide(fp, 0) <= 0) {
    r = vfprintf(fp, fmt, ap);
  } else {
    size_t len = strlen(fmt) + 1;
    wchar_t *wfmt = malloc(len * sizeof(wchar_t));
    mbstate_t st;
    const char *f = fmt;
    memset(&st, 0, sizeof(st));
    r = wfmt == NULL ? -1 : (int)mbsrtowcs(wfmt, &f, len, &st);
    if (r != -1)
      r = vfwprintf(fp, wfmt, ap);
    free(wfmt);
  }
  funlockfile(fp);
  return r;
}

static int fxprintf(FILE *fp, const char *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = vfxprintf(fp, fmt, ap);
  va_end(ap);
  return r;
}

/* perror(3). glibc does not orient stderr if it is not yet: it writes
 * through a stream of its own on a dup of stderr's fd. */
GP_EXPORT void perror(const char *s)
{
  int errnum = errno, fd = -1;
  const char *colon = ": ";
  char buf[1024];
  FILE *fp = NULL;

  if (s == NULL || *s == '\0')
    s = colon = "";
  if (stderr->_mode != 0 || (fd = fileno(stderr)) == -1 ||
      (fd = dup(fd)) == -1 || (fp = fdopen(fd, "w+")) == NULL) {
    if (fd != -1)
      close(fd);
    fxprintf(stderr, "%s%s%s\n", s, colon,
             strerror_r(errnum, buf, sizeof(buf)));
    return;
  }
  fxprintf(fp, "%s%s%s\n", s, colon, strerror_r(errnum, buf, sizeof(buf)));
  if (fp->_flags & _IO_ERR_SEEN)
    stderr->_flags |= _IO_ERR_SEEN;
  fclose(fp);
}

/* The end of error and error_at_line, stderr locked. */
static void error_tail(int status, int errnum, const char *fmt, va_list ap)
{
  char buf[1024];

  if (vfxprintf(stderr, fmt, ap) < 0 && errno == ENOMEM && fwide(stderr, 0) > 0)
    fputws_unlocked(L"out of memory\n", stderr);
  ++error_message_count;
  if (errnum)
    fxprintf(stderr, ": %s", strerror_r(errnum, buf, sizeof(buf)));
  fxprintf(stderr, "\n");
  fflush(stderr);
  if (status)
    exit(status);
}

/* What error and error_at_line do first: cancellation off, stdout
 * flushed, stderr locked, the program's name (or error_print_progname's
 * output) and sep. Returns the old cancel state, for error_end. */
static int error_begin(const char *sep)
{
  int state;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
  fflush(stdout);
  flockfile(stderr);
  if (error_print_progname)
    error_print_progname();
  else
    fxprintf(stderr, "%s%s", program_invocation_name, sep);
  return state;
}

static void error_end(int state)
{
  funlockfile(stderr);
  pthread_setcancelstate(state, NULL);
}

GP_EXPORT void error(int status, int errnum, const char *fmt, ...)
{
  int state = error_begin(": ");
  va_list ap;

  va_start(ap, fmt);
  error_tail(status, errnum, fmt, ap);
  va_end(ap);
  error_end(state);
}

GP_EXPORT void error_at_line(int status, int errnum, const char *file,
                             unsigned int line, const char *fmt, ...)
{
  static const char *old_file;
  static unsigned int old_line;
  va_list ap;
  int state;

  if (error_one_per_line) {
    if (old_line == line &&
        (file == old_file ||
         (old_file != NULL && file != NULL && strcmp(old_file, file) == 0)))
      return; /* the same place again: nothing */
    old_file = file;
    old_line = line;
  }
  state = error_begin(":");
  fxprintf(stderr, file != NULL ? "%s:%u: " : " ", file, line);
  va_start(ap, fmt);
  error_tail(status, errnum, fmt, ap);
  va_end(ap);
  error_end(state);
}
