// Splitting comma-separated header values (RFC 3261 §7.3.1) at top-level commas only:
// commas inside quoted strings ("Doe, John") and inside <...> URIs stay put.

/** Index of the first top-level comma at or after `start`, or -1. */
export function topLevelComma(s: string, start: number = 0): number {
  // Most values hold no comma at all: let the native search rule that out.
  if (s.indexOf(',', start) < 0) return -1;
  let angle = false;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 44 /* , */) {
      if (!angle) return i;
    } else if (c === 34 /* " */) {
      // Skip the quoted string, honouring quoted-pairs.
      for (i++; i < s.length; i++) {
        const q = s.charCodeAt(i);
        if (q === 92) i++;
        else if (q === 34) break;
      }
    } else if (c === 60 /* < */) angle = true;
    else if (c === 62 /* > */) angle = false;
  }
  return -1;
}

/** First list element, trimmed; allocation-free when the value holds a single element. */
export function firstElement(s: string): string {
  const comma = topLevelComma(s);
  return comma < 0 ? trimWs(s) : trimWs(s.slice(0, comma));
}

/**
 * Split a list value into trimmed elements. With `keepEmpty` the empty elements of
 * "a,,b" are returned too, so strict validators can reject them.
 */
export function splitList(s: string, out: string[], keepEmpty: boolean = false): string[] {
  let start = 0;
  for (;;) {
    const comma = topLevelComma(s, start);
    const end = comma < 0 ? s.length : comma;
    const el = trimWs(s.slice(start, end));
    if (el.length > 0 || keepEmpty) out.push(el);
    if (comma < 0) return out;
    start = comma + 1;
  }
}

export function trimWs(s: string): string {
  const n = s.length;
  if (n === 0) return s;
  const a = s.charCodeAt(0);
  const b = s.charCodeAt(n - 1);
  if (a !== 32 && a !== 9 && b !== 32 && b !== 9) return s;
  return s.replace(/^[ \t]+|[ \t]+$/g, '');
}
