/* media_timer.h - the media clock's precise timer (media_timer.c), exported
 * from the rtp_io module. */
#ifndef MEDIA_TIMER_H
#define MEDIA_TIMER_H
#include <node_api.h>

/* Adds timerInit/timerArm/timerCancel/timerStats to `exports`. */
napi_status media_timer_define(napi_env env, napi_value exports);

/* Runs the timer's callback now if its deadline has passed (rtp_io calls it
 * between socket batches so that the media clock does not wait behind them). */
void media_timer_service(void);

#endif
