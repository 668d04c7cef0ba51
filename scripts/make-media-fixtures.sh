#!/usr/bin/env bash
# Regenerates the audio fixtures under src/media/fixtures/ (recipe: src/media/fixtures/VECTOR_SOURCE.md).
# Needs espeak-ng and sox (Debian packages). Output is deterministic for a given espeak-ng/sox version.
set -euo pipefail
cd "$(dirname "$0")/../src/media/fixtures"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- speech-8k.wav: ~15 s of varied speech, several voices and pitches, 8 kHz mono PCM16 ---
say() { # voice pitch speed text out
  espeak-ng -v "$1" -p "$2" -s "$3" -w "$tmp/$5.raw.wav" "$4"
  sox -R -D "$tmp/$5.raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$tmp/$5.wav" norm -3
}
say en-us 50 190 "Thank you for calling. Please hold for the next agent." s1
say en-gb 80 200 "For sales, press one. For support, press two." s2
say en-us+f3 70 190 "Zero, one, two, three, four, five, six, seven, eight, nine." s3
say en-gb-scotland 30 200 "Hello? I would like to check my order, number four nine seven." s4
say en-us+f4 90 210 "Sorry, could you repeat your account number?" s5
sox -R -D "$tmp/s1.wav" "$tmp/s2.wav" "$tmp/s3.wav" "$tmp/s4.wav" "$tmp/s5.wav" speech-8k.wav

# --- music-8k.wav: ~3 s of synthetic chords (C, F, G, C major), 8 kHz mono PCM16 ---
chord() { # out dur f1 f2 f3
  sox -R -D -n -r 8000 -c 1 -b 16 -e signed-integer "$tmp/$1.wav" synth "$2" pluck "$3" pluck "$4" pluck "$5" remix - fade 0.02 "$2" 0.2 vol 0.5
}
chord c1 0.75 261.63 329.63 392.00
chord f1 0.75 349.23 440.00 523.25
chord g1 0.75 392.00 493.88 587.33
chord c2 0.75 523.25 659.25 783.99
sox -R -D "$tmp/c1.wav" "$tmp/f1.wav" "$tmp/g1.wav" "$tmp/c2.wav" music-8k.wav norm -3

# --- prompt-{16k,44k1,48k}-stereo.wav: a 0.2 s prompt (left 440 Hz, right 660 Hz) at wideband rates, stereo PCM16 ---
for r in 16000:16k 44100:44k1 48000:48k; do
  rate=${r%%:*}; tag=${r##*:}
  sox -R -D -n -r "$rate" -c 2 -b 16 -e signed-integer "prompt-$tag-stereo.wav" synth 0.2 sine 440 sine 660 vol 0.5
done

# --- prompt-8k-ulaw.wav / prompt-8k-alaw.wav: G.711 WAV files (format tags 7 / 6), 0.5 s of 1 kHz ---
sox -R -D -n -r 8000 -c 1 -e u-law "prompt-8k-ulaw.wav" synth 0.5 sine 1000 vol 0.5
sox -R -D -n -r 8000 -c 1 -e a-law "prompt-8k-alaw.wav" synth 0.5 sine 1000 vol 0.5

ls -l
