// A small declarative schema for the YAML config: each field says its type, limits and default.
// The walker in load.ts reports every violation with the YAML position of the offending node.

export type FieldSchema =
  | { kind: 'string'; default?: string; nonEmpty?: boolean; pattern?: RegExp; patternHint?: string }
  | { kind: 'int'; default?: number; min?: number; max?: number }
  | { kind: 'bool'; default?: boolean }
  | { kind: 'enum'; values: readonly string[]; default?: string }
  | { kind: 'object'; fields: Record<string, FieldSchema>; optional?: boolean; check?: (v: any) => string | undefined }
  | { kind: 'array'; items: FieldSchema; default?: unknown[]; minItems?: number; check?: (items: any[]) => ItemProblem | undefined };

/** A problem with one list item, reported at that item (or at its `key` field when given). */
export interface ItemProblem {
  index: number;
  key?: string;
  detail: string;
}

const transports = ['udp', 'tcp', 'tls', 'ws', 'wss'] as const;
const a = (v: unknown): string => JSON.stringify(v);

export const listenSchema: FieldSchema = {
  kind: 'object',
  fields: {
    transport: { kind: 'enum', values: transports },
    address: { kind: 'string', nonEmpty: true, pattern: /^[0-9a-fA-F.:]+$/, patternHint: 'an IPv4 or IPv6 address' },
    port: { kind: 'int', min: 0, max: 65535 },
    tls: {
      kind: 'object',
      optional: true,
      fields: {
        cert: { kind: 'string', nonEmpty: true },
        key: { kind: 'string', nonEmpty: true },
        ca: { kind: 'string', nonEmpty: true, default: undefined },
      },
    },
    path: { kind: 'string', pattern: /^\//, patternHint: 'an absolute HTTP path such as /', default: undefined },
  },
  check: (v: { transport: string; tls?: unknown }) =>
    (v.transport === 'tls' || v.transport === 'wss') && !v.tls
      ? `transport ${v.transport} needs tls: { cert, key }`
      : undefined,
};

/** One agent phone / softphone that may REGISTER (digest username = extension). */
export const extensionSchema: FieldSchema = {
  kind: 'object',
  fields: {
    // Quoted in YAML ('1001'): an unquoted number is not a string and is reported as such.
    user: { kind: 'string', nonEmpty: true, pattern: /^[A-Za-z0-9._~!$&'()*+,;=-]{1,64}$/, patternHint: 'a SIP user part (letters, digits, . _ - ...; at most 64)' },
    password: { kind: 'string', nonEmpty: true },
    name: { kind: 'string', nonEmpty: true, default: undefined },
  },
};

export const registrarSchema: FieldSchema = {
  kind: 'object',
  fields: {
    // Digest realm (RFC 3261 §22.1) and the domain of every AOR we register.
    realm: { kind: 'string', nonEmpty: true, pattern: /^[^"\\\r\n]+$/, patternHint: 'text without quotes, backslashes or line breaks', default: 'switchboard.local' },
    minExpires: { kind: 'int', min: 1, max: 86_400, default: 60 },
    maxExpires: { kind: 'int', min: 1, max: 2 ** 31 - 1, default: 3600 },
    defaultExpires: { kind: 'int', min: 1, max: 2 ** 31 - 1, default: 3600 },
    nonceTtlSeconds: { kind: 'int', min: 10, max: 86_400, default: 300 },
    ban: {
      kind: 'object',
      fields: {
        maxFailures: { kind: 'int', min: 1, max: 10_000, default: 5 },
        windowSeconds: { kind: 'int', min: 1, max: 86_400, default: 60 },
        banSeconds: { kind: 'int', min: 1, max: 30 * 86_400, default: 300 },
      },
    },
    database: { kind: 'string', nonEmpty: true, default: 'data/switchboard.db' },
    extensions: {
      kind: 'array',
      items: extensionSchema,
      default: [],
      check: (items: { user: string }[]) => {
        const seen = new Set<string>();
        for (let i = 0; i < items.length; i++) {
          const user = items[i]!.user;
          if (seen.has(user)) return { index: i, key: 'user', detail: `duplicate extension ${JSON.stringify(user)}` };
          seen.add(user);
        }
        return undefined;
      },
    },
    // One challenge per algorithm, in this order (RFC 8760 §2.4: the client takes the first it
    // supports). MD5 only by default: SIPp answers only the first challenge, SIP.js 0.21 only the
    // last, and both abort on SHA-256 — offering both locks one of them out.
    digestAlgorithms: {
      kind: 'array',
      items: { kind: 'enum', values: ['MD5', 'SHA-256'] },
      default: ['MD5'],
      minItems: 1,
      check: (items: string[]) => {
        const i = items.findIndex((a, k) => items.indexOf(a) !== k);
        return i >= 0 ? { index: i, detail: `duplicate algorithm ${a(items[i])}` } : undefined;
      },
    },
    purgeIntervalSeconds: { kind: 'int', min: 1, max: 86_400, default: 60 },
  },
  check: (r: { minExpires: number; maxExpires: number; defaultExpires: number }) =>
    r.maxExpires < r.minExpires
      ? 'maxExpires must not be smaller than minExpires'
      : r.defaultExpires < r.minExpires || r.defaultExpires > r.maxExpires
        ? 'defaultExpires must lie between minExpires and maxExpires'
        : undefined,
};

/** Addresses that only this host can reach: the one place the demo secret is acceptable. */
const LOOPBACK_ADDRESS = /^(127\.\d+\.\d+\.\d+|::1)$/;
/** drachtio's well-known default secret; refused on a reachable address. */
export const DEMO_DRACHTIO_SECRET = 'cymru';

export const drachtioSchema: FieldSchema = {
  kind: 'object',
  fields: {
    // '|' separates wire-protocol fields, CR/LF ends the meta line: neither may be in the secret.
    secret: { kind: 'string', nonEmpty: true, pattern: /^[^|\r\n]+$/, patternHint: 'text without | or line breaks', default: DEMO_DRACHTIO_SECRET },
    embedded: {
      kind: 'object',
      fields: {
        address: { kind: 'string', nonEmpty: true, pattern: /^[0-9a-fA-F.:]+$/, patternHint: 'an IPv4 or IPv6 address', default: '127.0.0.1' },
        port: { kind: 'int', min: 0, max: 65535, default: 9022 },
      },
    },
    external: {
      kind: 'object',
      optional: true,
      fields: {
        host: { kind: 'string', nonEmpty: true },
        port: { kind: 'int', min: 1, max: 65535, default: 9022 },
      },
    },
  },
  check: (d: { secret: string; embedded: { address: string }; external?: unknown }) =>
    d.external === undefined && d.secret === DEMO_DRACHTIO_SECRET && !LOOPBACK_ADDRESS.test(d.embedded.address)
      ? `the demo secret ${a(DEMO_DRACHTIO_SECRET)} is only allowed on a loopback address; set drachtio.secret`
      : undefined,
};

export const callsSchema: FieldSchema = {
  kind: 'object',
  fields: {
    ringTimeoutSeconds: { kind: 'int', min: 1, max: 3600, default: 60 },
  },
};

export const configSchema: FieldSchema = {
  kind: 'object',
  fields: {
    sip: {
      kind: 'object',
      fields: {
        listen: { kind: 'array', items: listenSchema, minItems: 1 },
        timers: {
          kind: 'object',
          fields: {
            t1: { kind: 'int', min: 10, max: 10_000, default: 500 },
            t2: { kind: 'int', min: 100, max: 60_000, default: 4000 },
            t4: { kind: 'int', min: 100, max: 60_000, default: 5000 },
          },
          check: (t: { t1: number; t2: number }) => (t.t2 < t.t1 ? 't2 must not be smaller than t1' : undefined),
        },
        limits: {
          kind: 'object',
          fields: {
            maxUdpBytes: { kind: 'int', min: 512, max: 65535, default: 65535 },
            maxStreamBytes: { kind: 'int', min: 1024, max: 16 * 1024 * 1024, default: 65536 },
            idleTimeoutSeconds: { kind: 'int', min: 1, max: 86_400, default: 300 },
          },
        },
        userAgent: { kind: 'string', nonEmpty: true, default: 'Switchboard' },
      },
    },
    registrar: registrarSchema,
    drachtio: drachtioSchema,
    media: {
      kind: 'object',
      fields: {
        address: { kind: 'string', nonEmpty: true, pattern: /^[0-9a-fA-F.:]+$/, patternHint: 'an IPv4 or IPv6 address', default: '0.0.0.0' },
        rtpPortMin: { kind: 'int', min: 1024, max: 65534, default: 20000 },
        rtpPortMax: { kind: 'int', min: 1025, max: 65535, default: 29999 },
        inactivitySeconds: { kind: 'int', min: 1, max: 3600, default: 30 },
        recordingsDir: { kind: 'string', nonEmpty: true, default: 'data/recordings' },
        promptsDir: { kind: 'string', nonEmpty: true, default: 'config/prompts' },
        ioThread: { kind: 'enum', values: ['off', 'recv', 'all'], default: 'off' },
        realtimePriority: { kind: 'int', min: 0, max: 99, default: 0 },
      },
      check: (m: { rtpPortMin: number; rtpPortMax: number }) =>
        m.rtpPortMax - m.rtpPortMin < 3 ? 'rtpPortMax must leave room for at least two RTP/RTCP pairs above rtpPortMin' : undefined,
    },
    api: {
      kind: 'object',
      fields: {
        address: { kind: 'string', nonEmpty: true, pattern: /^[0-9a-fA-F.:]+$/, patternHint: 'an IPv4 or IPv6 address', default: '127.0.0.1' },
        port: { kind: 'int', min: 0, max: 65535, default: 8080 },
      },
    },
    calls: callsSchema,
    log: {
      kind: 'object',
      fields: {
        level: {
          kind: 'enum',
          values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
          default: 'info',
        },
      },
    },
  },
};
