/* realtime.h - realtime scheduling of the media threads (realtime.c). */
#ifndef MEDIA_REALTIME_H
#define MEDIA_REALTIME_H
#include <node_api.h>

/* Adds setRealtime to `exports`. */
napi_status media_rt_define(napi_env env, napi_value exports);
/* Called by the I/O thread when it starts and stops (it takes the priority set). */
void media_rt_io_thread_started(void);
void media_rt_io_thread_stopped(void);

#endif
