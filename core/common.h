/* common.h: what every file of the runtime shares — the export marker, the
 * invariant check, the sanitizer and valgrind switches, and process-wide
 * set-up.
 *
 * Conventions of core/: functions return 0 or a negative errno and never
 * touch errno (each coroutine's errno is saved and restored by the switch);
 * times are nanoseconds on CLOCK_MONOTONIC (clock.h). core/ never calls an
 * interposed name: every libc call it makes that the shim interposes goes
 * through real.h, or is a raw system call. */
#ifndef GP_COMMON_H
#define GP_COMMON_H

/* Defined when built with AddressSanitizer (gcc or clang), which must be
 * told about every stack switch. */
#if defined(__SANITIZE_ADDRESS__)
#define GP__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GP__ASAN 1
#endif
#endif

/* Defined when built with ThreadSanitizer, which must be told about every
 * stack switch (its fiber API). */
#if defined(__SANITIZE_THREAD__)
#define GP__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GP__TSAN 1
#endif
#endif

/* Defined when valgrind's client requests are available: every coroutine
 * stack is registered with it. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#define GP__VALGRIND 1
#endif
#endif

/* Marks what the library exports: gp_* and the interposed libc names. */
#define GP_EXPORT __attribute__((visibility("default")))

/* Aborts with a message when a runtime invariant fails; kept in release
 * builds. Never used for anything the host program can cause. */
#define GP__ASSERT(cond)                                                       \
  ((cond) ? (void)0 : gp__assert_fail(#cond, __FILE__, __LINE__))
_Noreturn void gp__assert_fail(const char *expr, const char *file, int line);

/* The same, for a check on a hot path too costly for release builds: on in
 * the sanitizer builds and with make DEBUG=1 (-DGP_DEBUG). */
#if defined(GP_DEBUG) || defined(GP__ASAN) || defined(GP__TSAN)
#define GP__DEBUG_ASSERT(cond) GP__ASSERT(cond)
#else
#define GP__DEBUG_ASSERT(cond) ((void)0)
#endif

/* Process-wide set-up: the real-function table, the configuration, the
 * context mechanism. Idempotent, and safe from any thread. */
void gp__runtime_init(void);

#endif /* GP_COMMON_H */
