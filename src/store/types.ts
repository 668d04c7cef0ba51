// Public types of the persistent store: the rows the repositories read and write.
// Kept free of SQL so that src/call can use them without knowing the storage.

/** One registered contact of an address-of-record (RFC 3261 §10.3). Key: (aor, contact). */
export interface Binding {
  /** Canonical address-of-record, e.g. "sip:1001@switchboard.local". */
  aor: string;
  /** Contact URI as the UA sent it (addr-spec, no angle brackets). */
  contact: string;
  /** Absolute expiry, epoch milliseconds. */
  expiresAt: number;
  /** Contact preference 0..1 (RFC 3261 §10.2.1.2), null when the UA gave none. */
  q: number | null;
  callId: string;
  cseq: number;
  /** Path header URIs (RFC 3327), in order, to reach the UA through edge proxies. */
  path: string[];
  /** Where the REGISTER really came from when it differs from the Contact (NAT), as a SIP URI. */
  received: string | null;
  /** Transport the REGISTER arrived on: udp, tcp, tls, ws, wss. */
  transport: string;
  sourceAddress: string;
  sourcePort: number;
  /** RFC 5626 +sip.instance (the URN, without the surrounding quotes / angle brackets). */
  instanceId: string | null;
  /** RFC 5626 reg-id. */
  regId: number | null;
  userAgent: string | null;
  /** Last change, epoch milliseconds. */
  updatedAt: number;
}

export interface RegistrationRepository {
  /** Inserts or replaces the binding with the same (aor, contact). */
  upsert(binding: Binding): void;
  /** Applies several changes atomically (RFC 3261 §10.3 step 8: all or nothing). */
  apply(changes: { upsert: readonly Binding[]; remove: readonly Pick<Binding, 'aor' | 'contact'>[] }): void;
  /** Returns true when a binding was removed. */
  remove(aor: string, contact: string): boolean;
  /** Removes every binding of `aor`; returns how many. */
  removeAll(aor: string): number;
  /** Bindings of one AOR, unexpired or not, ordered by q descending then contact. */
  list(aor: string): Binding[];
  listAll(): Binding[];
  /** Deletes bindings whose expiresAt <= now (epoch ms); returns the removed rows. */
  purgeExpired(now: number): Binding[];
}

/** A row of the append-only event log. */
export interface StoredEvent {
  id: number;
  /** Epoch milliseconds. */
  at: number;
  /** Dotted kind, e.g. "registrar.registered", "registrar.banned". */
  kind: string;
  /** What the event is about: an AOR, an IP address, a call id. */
  subject: string | null;
  data: Record<string, unknown>;
}

export interface EventRepository {
  /** Appends one event; returns its id. */
  append(event: { at: number; kind: string; subject?: string | null; data?: Record<string, unknown> }): number;
  /** Events with id > sinceId, oldest first, at most `limit`. Use the last id as the next cursor. */
  list(sinceId?: number, limit?: number): StoredEvent[];
}

export interface Store {
  readonly path: string;
  readonly registrations: RegistrationRepository;
  readonly events: EventRepository;
  /** Highest migration version applied. */
  readonly schemaVersion: number;
  /** Connection settings as SQLite reports them (health checks, tests). */
  settings(): { journalMode: string; foreignKeys: boolean };
  /** Idempotent. */
  close(): void;
}
