/*
 * realtime.c - realtime scheduling for the media threads (the JS thread
 * that runs the media clock and relays, and rtp_io's I/O thread).
 *
 * Why: on a host shared with other busy processes the media threads wait
 * for CPU behind them under the normal scheduler, for milliseconds at a
 * time. bench:media on 2 vCPUs with its load generator and capture: at 500
 * bridged pairs the relay's added delay variation (p99) was 3-6 ms without
 * realtime and 0.6-1.8 ms with both threads on SCHED_FIFO. Telephony servers
 * commonly run their media threads at realtime priority (Asterisk -p,
 * FreeSWITCH -rp); it needs root or CAP_SYS_NICE, so failure is reported
 * (-EPERM), never fatal.
 *
 * SCHED_RESET_ON_FORK: threads and processes created afterwards by a
 * realtime thread (libuv's thread pool, worker threads such as the
 * recording worker, child processes) start on the normal scheduler instead
 * of inheriting realtime priority for bulk work.
 * Linux keeps 5 % of each second for normal tasks (sched_rt_runtime_us), so
 * a saturated media thread cannot lock up the host.
 */
#define _GNU_SOURCE
#include <node_api.h>

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "realtime.h"

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

static _Atomic int rt_priority;  /* 0: normal scheduling */
static _Atomic pid_t io_tid;     /* 0: no I/O thread running */

static int apply(pid_t tid, int prio) {
  struct sched_param p;
  memset(&p, 0, sizeof p);
  p.sched_priority = prio;
  int policy = prio > 0 ? SCHED_FIFO | SCHED_RESET_ON_FORK : SCHED_OTHER;
  return sched_setscheduler(tid, policy, &p) == 0 ? 0 : -errno;
}

void media_rt_io_thread_started(void) {
  pid_t tid = (pid_t)syscall(SYS_gettid);
  atomic_store(&io_tid, tid);
  int prio = atomic_load(&rt_priority);
  if (prio > 0) apply(tid, prio);
}

void media_rt_io_thread_stopped(void) { atomic_store(&io_tid, 0); }

/* setRealtime(priority: 0..99): { main: 0 | -errno, io: 0 | -errno | null }
 * Applies to the calling (JS) thread and to the I/O thread (now, or when it
 * starts: io is then null). 0 returns both to normal scheduling. */
static napi_value js_set_realtime(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t prio;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &prio) != napi_ok || prio < 0 || prio > 99) {
    napi_throw_range_error(env, NULL, "priority must be an integer 0..99");
    return NULL;
  }
  int main_rc = apply(0, prio);
  if (main_rc == 0) atomic_store(&rt_priority, prio);
  pid_t tid = atomic_load(&io_tid);
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_int32(env, main_rc, &v);
  napi_set_named_property(env, o, "main", v);
  if (tid != 0 && main_rc == 0) napi_create_int32(env, apply(tid, prio), &v);
  else napi_get_null(env, &v);
  napi_set_named_property(env, o, "io", v);
  return o;
}

napi_status media_rt_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "setRealtime", NULL, js_set_realtime, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  return napi_define_properties(env, exports, 1, props);
}
