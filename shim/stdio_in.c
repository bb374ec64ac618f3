/* stdio_in.c: the stdio calls that read a stream — fgets, getc and its
 * kin, fread, getline, getdelim, the scanf family, the wide ones, their
 * _unlocked, _chk and __isoc99_ forms, and __uflow and __underflow, which
 * the getc_unlocked macros call when the buffer is empty. Each is glibc's
 * own call under the stream's lock (stdio.c: a stream the shim took over
 * has no glibc lock, and may park inside); the _unlocked forms take it too,
 * so that their waits may park. */
#define _GNU_SOURCE
#include "shim.h"

#include <stdarg.h>
#include <wchar.h>

/* Removed from <stdio.h> with C11; still in glibc for old programs. */
char *gets(char *s);

GP_EXPORT char *fgets(char *s, int n, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, char *, gp__real_fgets(s, n, fp));
}

GP_EXPORT char *fgets_unlocked(char *s, int n, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, char *, gp__real_fgets_unlocked(s, n, fp));
}

GP_EXPORT char *__fgets_chk(char *s, size_t size, int n, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, char *,
                 gp__real___fgets_chk(s, size, n, fp));
}

GP_EXPORT char *__fgets_unlocked_chk(char *s, size_t size, int n, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, char *,
                 gp__real___fgets_unlocked_chk(s, size, n, fp));
}

GP_EXPORT int fgetc(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, int, gp__real_fgetc(fp));
}

GP_EXPORT int fgetc_unlocked(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, int, gp__real_fgetc_unlocked(fp));
}

GP_EXPORT int getc(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, int, gp__real_getc(fp));
}

GP_EXPORT int getc_unlocked(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, int, gp__real_getc_unlocked(fp));
}

/* What getc was in programs built with glibc before 2.28. */
GP_EXPORT int _IO_getc(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, int, gp__real__IO_getc(fp));
}

GP_EXPORT int getchar(void)
{
  GP__STDIO_CALL(stdin, GP__STDIO_IN, int, gp__real_getchar());
}

GP_EXPORT int getchar_unlocked(void)
{
  GP__STDIO_CALL(stdin, GP__STDIO_IN, int, gp__real_getchar_unlocked());
}

GP_EXPORT int __uflow(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, int, gp__real___uflow(fp));
}

GP_EXPORT int __underflow(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, int, gp__real___underflow(fp));
}

GP_EXPORT int _IO_peekc_locked(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, int, gp__real__IO_peekc_locked(fp));
}

GP_EXPORT size_t fread(void *p, size_t size, size_t n, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, size_t, gp__real_fread(p, size, n, fp));
}

#undef fread_unlocked /* a macro of <stdio.h> when optimizing */
GP_EXPORT size_t fread_unlocked(void *p, size_t size, size_t n, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, size_t,
                 gp__real_fread_unlocked(p, size, n, fp));
}

GP_EXPORT size_t __fread_chk(void *p, size_t plen, size_t size, size_t n,
                             FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, size_t,
                 gp__real___fread_chk(p, plen, size, n, fp));
}

GP_EXPORT size_t __fread_unlocked_chk(void *p, size_t plen, size_t size,
                                      size_t n, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, size_t,
                 gp__real___fread_unlocked_chk(p, plen, size, n, fp));
}

GP_EXPORT ssize_t getline(char **line, size_t *cap, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, ssize_t, gp__real_getline(line, cap, fp));
}

GP_EXPORT ssize_t getdelim(char **line, size_t *cap, int delim, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, ssize_t,
                 gp__real_getdelim(line, cap, delim, fp));
}

GP_EXPORT ssize_t __getdelim(char **line, size_t *cap, int delim, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, ssize_t,
                 gp__real___getdelim(line, cap, delim, fp));
}

GP_EXPORT char *gets(char *s)
{
  GP__STDIO_CALL(stdin, GP__STDIO_IN, char *, gp__real_gets(s));
}

GP_EXPORT char *__gets_chk(char *s, size_t size)
{
  GP__STDIO_CALL(stdin, GP__STDIO_IN, char *, gp__real___gets_chk(s, size));
}

GP_EXPORT int ungetc(int c, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, int, gp__real_ungetc(c, fp));
}

GP_EXPORT int getw(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, int, gp__real_getw(fp));
}

/* ---- scanf: the variadic forms go through the va_list ones ----
 *
 * A C99 program calls the __isoc99_ forms (<stdio.h> renames them); the
 * plain names are glibc's GNU scanf (%a as an allocation flag), which
 * older programs call. Declared under other C names, as the headers give
 * the plain ones the __isoc99_ symbols. */

GP_EXPORT int gnu_vfscanf(FILE *fp, const char *fmt,
                          va_list ap) __asm__("vfscanf");
GP_EXPORT int gnu_vscanf(const char *fmt, va_list ap) __asm__("vscanf");
GP_EXPORT int gnu_fscanf(FILE *fp, const char *fmt, ...) __asm__("fscanf");
GP_EXPORT int gnu_scanf(const char *fmt, ...) __asm__("scanf");

GP_EXPORT int gnu_vfscanf(FILE *fp, const char *fmt, va_list ap)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, int, gp__real_vfscanf(fp, fmt, ap));
}

GP_EXPORT int __isoc99_vfscanf(FILE *fp, const char *fmt, va_list ap)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, int, gp__real___isoc99_vfscanf(fp, fmt, ap));
}

GP_EXPORT int gnu_vscanf(const char *fmt, va_list ap)
{
  return gnu_vfscanf(stdin, fmt, ap);
}

GP_EXPORT int __isoc99_vscanf(const char *fmt, va_list ap)
{
  return __isoc99_vfscanf(stdin, fmt, ap);
}

GP_EXPORT int gnu_fscanf(FILE *fp, const char *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = gnu_vfscanf(fp, fmt, ap);
  va_end(ap);
  return r;
}

GP_EXPORT int gnu_scanf(const char *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = gnu_vfscanf(stdin, fmt, ap);
  va_end(ap);
  return r;
}

GP_EXPORT int __isoc99_fscanf(FILE *fp, const char *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = __isoc99_vfscanf(fp, fmt, ap);
  va_end(ap);
  return r;
}

GP_EXPORT int __isoc99_scanf(const char *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = __isoc99_vfscanf(stdin, fmt, ap);
  va_end(ap);
  return r;
}

/* ---- wide characters ---- */

GP_EXPORT wint_t fgetwc(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, wint_t, gp__real_fgetwc(fp));
}

GP_EXPORT wint_t fgetwc_unlocked(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, wint_t, gp__real_fgetwc_unlocked(fp));
}

GP_EXPORT wint_t getwc(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, wint_t, gp__real_getwc(fp));
}

GP_EXPORT wint_t getwc_unlocked(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, wint_t, gp__real_getwc_unlocked(fp));
}

GP_EXPORT wint_t getwchar(void)
{
  GP__STDIO_CALL(stdin, GP__STDIO_IN, wint_t, gp__real_getwchar());
}

GP_EXPORT wint_t getwchar_unlocked(void)
{
  GP__STDIO_CALL(stdin, GP__STDIO_IN, wint_t, gp__real_getwchar_unlocked());
}

GP_EXPORT wchar_t *fgetws(wchar_t *ws, int n, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, wchar_t *, gp__real_fgetws(ws, n, fp));
}

GP_EXPORT wchar_t *fgetws_unlocked(wchar_t *ws, int n, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, wchar_t *,
                 gp__real_fgetws_unlocked(ws, n, fp));
}

GP_EXPORT wchar_t *__fgetws_chk(wchar_t *ws, size_t size, int n, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, wchar_t *,
                 gp__real___fgetws_chk(ws, size, n, fp));
}

GP_EXPORT wchar_t *__fgetws_unlocked_chk(wchar_t *ws, size_t size, int n,
                                         FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, wchar_t *,
                 gp__real___fgetws_unlocked_chk(ws, size, n, fp));
}

GP_EXPORT wint_t ungetwc(wint_t wc, FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_CTL, wint_t, gp__real_ungetwc(wc, fp));
}

GP_EXPORT wint_t __wuflow(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, wint_t, gp__real___wuflow(fp));
}

GP_EXPORT wint_t __wunderflow(FILE *fp)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, wint_t, gp__real___wunderflow(fp));
}

GP_EXPORT int gnu_vfwscanf(FILE *fp, const wchar_t *fmt,
                           va_list ap) __asm__("vfwscanf");
GP_EXPORT int gnu_vwscanf(const wchar_t *fmt, va_list ap) __asm__("vwscanf");
GP_EXPORT int gnu_fwscanf(FILE *fp, const wchar_t *fmt, ...) __asm__("fwscanf");
GP_EXPORT int gnu_wscanf(const wchar_t *fmt, ...) __asm__("wscanf");

GP_EXPORT int gnu_vfwscanf(FILE *fp, const wchar_t *fmt, va_list ap)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, int, gp__real_vfwscanf(fp, fmt, ap));
}

GP_EXPORT int __isoc99_vfwscanf(FILE *fp, const wchar_t *fmt, va_list ap)
{
  GP__STDIO_CALL(fp, GP__STDIO_IN, int,
                 gp__real___isoc99_vfwscanf(fp, fmt, ap));
}

GP_EXPORT int gnu_vwscanf(const wchar_t *fmt, va_list ap)
{
  return gnu_vfwscanf(stdin, fmt, ap);
}

GP_EXPORT int __isoc99_vwscanf(const wchar_t *fmt, va_list ap)
{
  return __isoc99_vfwscanf(stdin, fmt, ap);
}

GP_EXPORT int gnu_fwscanf(FILE *fp, const wchar_t *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = gnu_vfwscanf(fp, fmt, ap);
  va_end(ap);
  return r;
}

GP_EXPORT int gnu_wscanf(const wchar_t *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = gnu_vfwscanf(stdin, fmt, ap);
  va_end(ap);
  return r;
}

GP_EXPORT int __isoc99_fwscanf(FILE *fp, const wchar_t *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = __isoc99_vfwscanf(fp, fmt, ap);
  va_end(ap);
  return r;
}

GP_EXPORT int __isoc99_wscanf(const wchar_t *fmt, ...)
{
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = __isoc99_vfwscanf(stdin, fmt, ap);
  va_end(ap);
  return r;
}
