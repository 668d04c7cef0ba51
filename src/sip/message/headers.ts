// Headers: an ordered, case-insensitive multimap of header fields. Values are stored as they
// arrived (after line unfolding); comma lists are split only when getAll() asks, so parsing
// a message costs one string per header line and no structured parsing.
import { SipError } from '../../lib/errors.js';
import { TOKEN } from './chars.js';
import { headerName } from './names.js';
import { firstElement, splitList } from './split.js';

/** RFC 3261 §7.3: a header value we emit must not smuggle CR/LF (header injection). */
function checkValue(value: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 13 || c === 10) throw new SipError(500, 'Server Internal Error - CR/LF in header value');
  }
}

function checkName(name: string): void {
  if (name.length === 0) throw new SipError(500, 'Server Internal Error - empty header name');
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) throw new SipError(500, 'Server Internal Error - invalid header name');
  }
}

export class Headers {
  #names: string[];
  #keys: string[];
  #values: string[];
  #version = 0;

  constructor(init?: Iterable<[string, string]>) {
    this.#names = [];
    this.#keys = [];
    this.#values = [];
    if (init) for (const [n, v] of init) this.append(n, v);
  }

  /**
   * Adopt arrays built by the parser (canonical names, lower-case keys, unfolded values) without
   * copying or re-checking: parsed values cannot hold CR/LF.
   * @internal
   */
  static fromParsed(names: string[], keys: string[], values: string[]): Headers {
    const h = new Headers();
    h.#names = names;
    h.#keys = keys;
    h.#values = values;
    return h;
  }

  /** Incremented on every mutation; messages use it to invalidate cached parsed headers. */
  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#keys.length;
  }

  /** First value; for comma-list headers the first element of the first line. */
  get(name: string): string | undefined {
    const h = headerName(name);
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === h.key) return h.list ? firstElement(this.#values[i]) : this.#values[i];
    }
    return undefined;
  }

  /** Every value in order; comma-list headers are split respecting quotes and <...>. */
  getAll(name: string): string[] {
    const h = headerName(name);
    const out: string[] = [];
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== h.key) continue;
      if (h.list) splitList(this.#values[i], out);
      else out.push(this.#values[i]);
    }
    return out;
  }

  /** Every header line's value for `name`, unsplit (as on the wire after unfolding). */
  getLines(name: string): string[] {
    const key = headerName(name).key;
    const out: string[] = [];
    for (let i = 0; i < this.#keys.length; i++) if (this.#keys[i] === key) out.push(this.#values[i]);
    return out;
  }

  has(name: string): boolean {
    return this.#keys.indexOf(headerName(name).key) >= 0;
  }

  /** Replace every occurrence with one value, at the position of the first occurrence. */
  set(name: string, value: string): void {
    checkName(name);
    checkValue(value);
    const h = headerName(name);
    const at = this.#keys.indexOf(h.key);
    if (at < 0) {
      this.#push(h.name, h.key, value);
      return;
    }
    this.#values[at] = value;
    this.#names[at] = h.name;
    for (let i = this.#keys.length - 1; i > at; i--) if (this.#keys[i] === h.key) this.#remove(i);
    this.#version++;
  }

  append(name: string, value: string): void {
    checkName(name);
    checkValue(value);
    const h = headerName(name);
    this.#push(h.name, h.key, value);
  }

  /** Insert before the first occurrence of `name` (or at the top), e.g. a new top Via. */
  prepend(name: string, value: string): void {
    checkName(name);
    checkValue(value);
    const h = headerName(name);
    let at = this.#keys.indexOf(h.key);
    if (at < 0) at = 0;
    this.#names.splice(at, 0, h.name);
    this.#keys.splice(at, 0, h.key);
    this.#values.splice(at, 0, value);
    this.#version++;
  }

  delete(name: string): void {
    const key = headerName(name).key;
    for (let i = this.#keys.length - 1; i >= 0; i--) if (this.#keys[i] === key) this.#remove(i);
  }

  /**
   * Remove the first list element of `name` (e.g. pop the top Via or Route, RFC 3261 §16.12,
   * §18.1.2). Other elements sharing its header line are kept.
   */
  shift(name: string): string | undefined {
    const h = headerName(name);
    const at = this.#keys.indexOf(h.key);
    if (at < 0) return undefined;
    const v = this.#values[at];
    if (!h.list) {
      this.#remove(at);
      return v;
    }
    const els = splitList(v, []);
    const first = els.shift();
    if (els.length === 0) this.#remove(at);
    else {
      this.#values[at] = els.join(', ');
      this.#version++;
    }
    return first;
  }

  /** Canonical names, in order, with repeats. */
  names(): string[] {
    return this.#names.slice();
  }

  *[Symbol.iterator](): Iterator<[string, string]> {
    for (let i = 0; i < this.#keys.length; i++) yield [this.#names[i], this.#values[i]];
  }

  clone(): Headers {
    return Headers.fromParsed(this.#names.slice(), this.#keys.slice(), this.#values.slice());
  }

  /** @internal raw access for the serializer and validator: no copies. */
  rawNames(): readonly string[] {
    return this.#names;
  }
  /** @internal */
  rawKeys(): readonly string[] {
    return this.#keys;
  }
  /** @internal */
  rawValues(): readonly string[] {
    return this.#values;
  }

  #push(name: string, key: string, value: string): void {
    this.#names.push(name);
    this.#keys.push(key);
    this.#values.push(value);
    this.#version++;
  }

  #remove(i: number): void {
    this.#names.splice(i, 1);
    this.#keys.splice(i, 1);
    this.#values.splice(i, 1);
    this.#version++;
  }
}
