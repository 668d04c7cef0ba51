/*
 * media_timer.c - a sub-millisecond one-shot timer on libuv's loop, for the
 * media clock.
 *
 * Why: Node's setTimeout has a resolution of one millisecond (libuv keeps
 * loop time in ms and epoll_wait() takes its timeout in ms), so a media
 * clock driven by it fires 0-1 ms after its deadline, differently from tick
 * to tick. bench:media captures showed exactly that at low load: every
 * stream of a clock slot deviating together by 0.4-1 ms from its 20 ms
 * interval, which used up half of the 2 ms p99 budget before any load. A
 * timerfd expires on a kernel hrtimer at the nanosecond deadline we give it
 * and makes libuv's epoll_wait() return at once, so the JS callback runs
 * within microseconds of the deadline when the loop is idle.
 *
 * API (exported from the rtp_io module, independent of its sockets):
 *   timerInit(onTimer: () => void): void   once per process; not ref'd, so a
 *                                          pending timer never keeps the
 *                                          process alive (like systemClock's)
 *   timerArm(delayMs: number): void        (re)arms the single timer to fire
 *                                          delayMs from now (<= 0: at once)
 *   timerCancel(): void
 * Socket batches come first otherwise: libuv runs the callbacks of one
 * epoll_wait() in its order, and rtp_io's socket callback may go on for
 * several rounds while datagrams keep arriving; so rtp_io calls
 * media_timer_service() before each round, which runs an expired timer
 * right there (a clock_gettime() when nothing is due).
 * One timer only: the media clock has one deadline at a time; the JS
 * wrapper (src/media/precise-timer.ts) multiplexes if it ever needs more.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "media_timer.h"

static struct {
  napi_env env;
  bool initialized;
  int fd;
  uv_poll_t poll;
  napi_ref cb_ref;
  napi_async_context actx;
  /* CLOCK_MONOTONIC ns of the armed expiry; 0 = not armed. */
  int64_t due_ns;
  double fired, spurious, serviced;
} t = { .fd = -1 };

static int64_t mono_now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

static void on_closed(uv_handle_t *h) {
  (void)h;
  if (t.fd >= 0) close(t.fd);
  t.fd = -1;
}

static void cleanup(void *arg) {
  (void)arg;
  if (!t.initialized) return;
  t.initialized = false;
  uv_poll_stop(&t.poll);
  uv_close((uv_handle_t *)&t.poll, on_closed);
  if (t.cb_ref) napi_delete_reference(t.env, t.cb_ref);
  if (t.actx) napi_async_destroy(t.env, t.actx);
  t.cb_ref = NULL;
  t.actx = NULL;
}

/* Reads the expiry and calls onTimer; false when nothing had expired. */
static bool run_expired(void) {
  uint64_t expirations;
  /* EAGAIN: re-armed or cancelled after it became readable; nothing due. */
  if (read(t.fd, &expirations, sizeof expirations) != sizeof expirations) return false;
  t.due_ns = 0;
  t.fired++;
  napi_env env = t.env;
  napi_handle_scope scope;
  napi_value cb, recv, result;
  bool pending = false;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return true;
  if (napi_get_reference_value(env, t.cb_ref, &cb) == napi_ok && cb != NULL &&
      napi_get_global(env, &recv) == napi_ok)
    napi_make_callback(env, t.actx, recv, cb, 0, NULL, &result);
  /* A throwing callback must not unwind through libuv. */
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value exc;
    if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
  return true;
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)h;
  (void)status;
  (void)events;
  if (t.initialized && !run_expired()) t.spurious++;
}

void media_timer_service(void) {
  if (!t.initialized || t.due_ns == 0 || mono_now_ns() < t.due_ns) return;
  if (run_expired()) t.serviced++;
}

static bool usable(napi_env env) {
  if (!t.initialized || t.env != env) {
    napi_throw_error(env, NULL, "media timer: timerInit() has not been called in this environment");
    return false;
  }
  return true;
}

static napi_value js_timer_init(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (t.initialized || t.fd >= 0) {
    napi_throw_error(env, NULL, "media timer: timerInit() already called");
    return NULL;
  }
  napi_valuetype vt;
  if (napi_typeof(env, argv[0], &vt) != napi_ok || vt != napi_function) {
    napi_throw_type_error(env, NULL, "onTimer must be a function");
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    napi_throw_error(env, NULL, "media timer: cannot get the libuv loop");
    return NULL;
  }
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) {
    napi_throw_error(env, NULL, "media timer: timerfd_create failed");
    return NULL;
  }
  if (uv_poll_init(loop, &t.poll, fd) != 0) {
    close(fd);
    napi_throw_error(env, NULL, "media timer: uv_poll_init failed");
    return NULL;
  }
  t.fd = fd;
  t.env = env;
  uv_unref((uv_handle_t *)&t.poll);
  napi_value name;
  if (uv_poll_start(&t.poll, UV_READABLE, on_readable) != 0 ||
      napi_create_reference(env, argv[0], 1, &t.cb_ref) != napi_ok ||
      napi_create_string_utf8(env, "media-timer", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &t.actx) != napi_ok ||
      napi_add_env_cleanup_hook(env, cleanup, NULL) != napi_ok) {
    t.initialized = true; /* so cleanup() releases what was made */
    cleanup(NULL);
    napi_throw_error(env, NULL, "media timer: init failed");
    return NULL;
  }
  t.initialized = true;
  return NULL;
}

static napi_value js_timer_arm(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (!usable(env)) return NULL;
  double ms;
  if (napi_get_value_double(env, argv[0], &ms) != napi_ok || isnan(ms)) {
    napi_throw_type_error(env, NULL, "delayMs must be a number");
    return NULL;
  }
  /* An all-zero it_value disarms a timerfd, so "now" is one ns after now.
   * Delays are capped at a day: the media clock's are at most 20 ms. */
  int64_t ns = ms <= 0 ? 1 : ms >= 86400e3 ? (int64_t)86400e9 : (int64_t)(ms * 1e6);
  if (ns < 1) ns = 1;
  int64_t at = mono_now_ns() + ns;
  struct itimerspec its;
  memset(&its, 0, sizeof its);
  its.it_value.tv_sec = at / 1000000000;
  its.it_value.tv_nsec = at % 1000000000;
  if (timerfd_settime(t.fd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
    napi_throw_error(env, NULL, "media timer: timerfd_settime failed");
    return NULL;
  }
  t.due_ns = at;
  return NULL;
}

static napi_value js_timer_cancel(napi_env env, napi_callback_info info) {
  (void)info;
  if (!usable(env)) return NULL;
  struct itimerspec its;
  memset(&its, 0, sizeof its);
  timerfd_settime(t.fd, 0, &its, NULL);
  t.due_ns = 0;
  /* An expiry already read by epoll but not yet by us is dropped too. */
  uint64_t drop;
  ssize_t r = read(t.fd, &drop, sizeof drop);
  (void)r;
  return NULL;
}

/* timerStats(): { fired, spurious, serviced } */
static napi_value js_timer_stats(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_double(env, t.fired, &v);
  napi_set_named_property(env, o, "fired", v);
  napi_create_double(env, t.spurious, &v);
  napi_set_named_property(env, o, "spurious", v);
  napi_create_double(env, t.serviced, &v);
  napi_set_named_property(env, o, "serviced", v);
  return o;
}

napi_status media_timer_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "timerInit", NULL, js_timer_init, NULL, NULL, NULL, napi_enumerable, NULL },
    { "timerArm", NULL, js_timer_arm, NULL, NULL, NULL, napi_enumerable, NULL },
    { "timerCancel", NULL, js_timer_cancel, NULL, NULL, NULL, napi_enumerable, NULL },
    { "timerStats", NULL, js_timer_stats, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
