// The closed set of error classes the whole engine throws. Callers switch on the class
// (and on `status` for SipError), never on message text.

/** Anything that becomes a SIP final response (4xx–6xx) to the peer. */
export class SipError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message?: string,
  ) {
    super(message ?? `${status} ${reason}`);
    this.name = 'SipError';
  }
}

/** A configuration problem, located in the file that holds it. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}:${col}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** An operation that the object's current state does not allow (e.g. using a closed socket). */
export class InvalidStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidStateError';
  }
}

/** A lookup for something that does not exist (dialog, transaction, binding, …). */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}
