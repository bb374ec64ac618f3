/* stdio_out.c: the stdio calls that write a stream — fputs, putc and its
 * kin, fwrite, the printf family, the wide ones, their _unlocked and _chk
 * forms, and __overflow, which the putc_unlocked macros call when the
 * buffer is full — each glibc's own under the stream's lock (stdio.c). And
 * dprintf, which glibc writes through a stream of its own on the stack
 * that no one else can reach: here it formats first and writes with the
 * shim's write. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <wchar.h>

GP_EXPORT int fputs(const char *s, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, int, gp__real_fputs(s, fp));
}

GP_EXPORT int fputs_unlocked(const char *s, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, int, gp__real_fputs_unlocked(s, fp));
}

GP_EXPORT int puts(const char *s)
{
  GP__STDIO_CALL(stdout, GP__STDIO_OUT, int, gp__real_puts(s));
}

GP_EXPORT int fputc(int c, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, int, gp__real_fputc(c, fp));
}

GP_EXPORT int fputc_unlocked(int c, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, int, gp__real_fputc_unlocked(c, fp));
}

GP_EXPORT int putc(int c, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, int, gp__real_putc(c, fp));
}

GP_EXPORT int putc_unlocked(int c, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, int, gp__real_putc_unlocked(c, fp));
}

/* What putc was in programs built with glibc before 2.28. */
GP_EXPORT int _IO_putc(int c, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, int, gp__real__IO_putc(c, fp));
}

GP_EXPORT int putchar(int c)
{
  GP__STDIO_CALL(stdout, GP__STDIO_OUT, int, gp__real_putchar(c));
}

GP_EXPORT int putchar_unlocked(int c)
{
  GP__STDIO_CALL(stdout, GP__STDIO_OUT, int, gp__real_putchar_unlocked(c));
}

GP_EXPORT int __overflow(FILE *fp, int c)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, int, gp__real___overflow(fp, c));
}

GP_EXPORT size_t fwrite(const void *p, size_t size, size_t n, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, size_t, gp__real_fwrite(p, size, n, fp));
}

#undef fwrite_unlocked /* a macro of <stdio.h> when optimizing */
GP_EXPORT size_t fwrite_unlocked(const void *p, size_t size, size_t n, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, size_t,
                 gp__real_fwrite_unlocked(p, size, n, fp));
}

GP_EXPORT int putw(int w, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, int, gp__real_putw(w, fp));
}

/* ---- printf: the variadic forms go through the va_list ones ---- */

GP_EXPORT int vfprintf(FILE *fp, const char *fmt, va_list ap)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, int, gp__real_vfprintf(fp, fmt, ap));
}

GP_EXPORT int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, int,
                 gp__real___vfprintf_chk(fp, flag, fmt, ap));
}

GP_EXPORT int vprintf(const char *fmt, va_list ap)
{
  return vfprintf(stdout, fmt, ap);
}

GP_EXPORT int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
  return __vfprintf_chk(stdout, flag, fmt, ap);
}

GP_EXPORT int fprintf(FILE *fp, const char *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = vfprintf(fp, fmt, ap);
  va_end(ap);
  return r;
}

GP_EXPORT int printf(const char *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = vfprintf(stdout, fmt, ap);
  va_end(ap);
  return r;
}

GP_EXPORT int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = __vfprintf_chk(fp, flag, fmt, ap);
  va_end(ap);
  return r;
}

GP_EXPORT int __printf_chk(int flag, const char *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = __vfprintf_chk(stdout, flag, fmt, ap);
  va_end(ap);
  return r;
}

/* ---- wide characters ---- */

GP_EXPORT wint_t fputwc(wchar_t wc, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, wint_t, gp__real_fputwc(wc, fp));
}

GP_EXPORT wint_t fputwc_unlocked(wchar_t wc, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, wint_t, gp__real_fputwc_unlocked(wc, fp));
}

GP_EXPORT wint_t putwc(wchar_t wc, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, wint_t, gp__real_putwc(wc, fp));
}

GP_EXPORT wint_t putwc_unlocked(wchar_t wc, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, wint_t, gp__real_putwc_unlocked(wc, fp));
}

GP_EXPORT wint_t putwchar(wchar_t wc)
{
  GP__STDIO_CALL(stdout, GP__STDIO_OUT, wint_t, gp__real_putwchar(wc));
}

GP_EXPORT wint_t putwchar_unlocked(wchar_t wc)
{
  GP__STDIO_CALL(stdout, GP__STDIO_OUT, wint_t, gp__real_putwchar_unlocked(wc));
}

GP_EXPORT int fputws(const wchar_t *ws, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, int, gp__real_fputws(ws, fp));
}

GP_EXPORT int fputws_unlocked(const wchar_t *ws, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, int, gp__real_fputws_unlocked(ws, fp));
}

GP_EXPORT wint_t __woverflow(FILE *fp, wint_t wc)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, wint_t, gp__real___woverflow(fp, wc));
}

GP_EXPORT int vfwprintf(FILE *fp, const wchar_t *fmt, va_list ap)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, int, gp__real_vfwprintf(fp, fmt, ap));
}

GP_EXPORT int __vfwprintf_chk(FILE *fp, int flag, const wchar_t *fmt,
                              va_list ap)
{
  GP__STDIO_CALL(fp, GP__STDIO_OUT, int,
                 gp__real___vfwprintf_chk(fp, flag, fmt, ap));
}

GP_EXPORT int vwprintf(const wchar_t *fmt, va_list ap)
{
  return vfwprintf(stdout, fmt, ap);
}

GP_EXPORT int __vwprintf_chk(int flag, const wchar_t *fmt, va_list ap)
{
  return __vfwprintf_chk(stdout, flag, fmt, ap);
}

GP_EXPORT int fwprintf(FILE *fp, const wchar_t *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = vfwprintf(fp, fmt, ap);
  va_end(ap);
  return r;
}

GP_EXPORT int wprintf(const wchar_t *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = vfwprintf(stdout, fmt, ap);
  va_end(ap);
  return r;
}

GP_EXPORT int __fwprintf_chk(FILE *fp, int flag, const wchar_t *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = __vfwprintf_chk(fp, flag, fmt, ap);
  va_end(ap);
  return r;
}

GP_EXPORT int __wprintf_chk(int flag, const wchar_t *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = __vfwprintf_chk(stdout, flag, fmt, ap);
  va_end(ap);
  return r;
}

/* ---- dprintf ---- */

/* Formats (with __vasprintf_chk's checks when flag > 0) and writes all of
 * it to fd: the bytes glibc's vdprintf writes, and its result — their
 * count, or -1 when formatting or a write fails. */
static int print_fd(int fd, int flag, const char *fmt, va_list ap)
{
  char *s;
  int n = flag > 0 ? gp__real___vasprintf_chk(&s, flag, fmt, ap)
                   : vasprintf(&s, fmt, ap);
  size_t done = 0;

  if (n < 0)
    return -1;
  while (done < (size_t)n) {
    ssize_t w = write(fd, s + done, (size_t)n - done);
    if (w <= 0)
      break;
    done += (size_t)w;
  }
  free(s);
  return done == (size_t)n ? n : -1;
}

GP_EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
  gp__real_init();
  if (!gp__shim_active(GP__PATCH_SOCKET))
    return gp__real_vdprintf(fd, fmt, ap);
  return print_fd(fd, 0, fmt, ap);
}

GP_EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
  gp__real_init();
  if (!gp__shim_active(GP__PATCH_SOCKET))
    return gp__real___vdprintf_chk(fd, flag, fmt, ap);
  return print_fd(fd, flag, fmt, ap);
}

GP_EXPORT int dprintf(int fd, const char *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = vdprintf(fd, fmt, ap);
  va_end(ap);
  return r;
}

GP_EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = __vdprintf_chk(fd, flag, fmt, ap);
  va_end(ap);
  return r;
}
