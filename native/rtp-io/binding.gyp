{
  "targets": [
    {
      "target_name": "rtp_io",
      "sources": ["rtp_io.c", "media_timer.c", "realtime.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall"],
      "cflags_c": ["-std=gnu11"],
      "configurations": {
        "Release": {
          "cflags!": ["-O3"]
        }
      }
    }
  ]
}
