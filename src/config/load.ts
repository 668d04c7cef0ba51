// Loads config/switchboard.yaml (or another file), validates it against the schema and returns
// a typed SwitchboardConfig. Every problem is a ConfigError naming file:line:col.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigError } from '../lib/errors.js';
import { configSchema, type FieldSchema } from './schema.js';
import type { SwitchboardConfig } from './types.js';

export const DEFAULT_CONFIG_PATH = 'config/switchboard.yaml';

export function loadConfigFile(file: string = DEFAULT_CONFIG_PATH): SwitchboardConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, 1, 1, `cannot read config: ${(err as Error).message}`);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file: string): SwitchboardConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0] ?? { line: 1, col: 1 };
    throw new ConfigError(file, pos.line, pos.col, first.message.split('\n')[0] ?? first.message);
  }
  const at = (node: Node | null | undefined): { line: number; col: number } => {
    const offset = node?.range?.[0] ?? 0;
    return lineCounter.linePos(offset);
  };
  const fail = (node: Node | null | undefined, path: string, detail: string): never => {
    const p = at(node);
    throw new ConfigError(file, p.line, p.col, path ? `${path}: ${detail}` : detail);
  };

  const walk = (schema: FieldSchema, node: Node | null | undefined, path: string, parent: Node | null | undefined): unknown => {
    if (node === undefined || node === null || (isScalar(node) && node.value === null)) {
      switch (schema.kind) {
        case 'object':
          if (schema.optional) return undefined;
          return walk(schema, emptyMap, path, parent);
        case 'array':
          if (schema.default !== undefined) return schema.default;
          return fail(node ?? parent, path, 'is required');
        default:
          if ('default' in schema) return schema.default;
          return fail(node ?? parent, path, 'is required');
      }
    }
    switch (schema.kind) {
      case 'object': {
        if (!isMap(node)) return fail(node, path, 'must be a mapping');
        const out: Record<string, unknown> = {};
        const seen = new Set<string>();
        for (const pair of node.items) {
          const keyNode = pair.key as Node;
          const key = isScalar(keyNode) ? String(keyNode.value) : '';
          const fieldSchema = schema.fields[key];
          if (!fieldSchema) {
            const known = Object.keys(schema.fields).join(', ');
            return fail(keyNode, path ? `${path}.${key}` : key, `unknown key (expected one of: ${known})`);
          }
          seen.add(key);
          const v = walk(fieldSchema, pair.value as Node, path ? `${path}.${key}` : key, keyNode);
          if (v !== undefined) out[key] = v;
        }
        for (const [key, fieldSchema] of Object.entries(schema.fields)) {
          if (seen.has(key)) continue;
          const v = walk(fieldSchema, undefined, path ? `${path}.${key}` : key, node);
          if (v !== undefined) out[key] = v;
        }
        const problem = schema.check?.(out);
        if (problem) return fail(node, path, problem);
        return out;
      }
      case 'array': {
        if (!isSeq(node)) return fail(node, path, 'must be a list');
        if (schema.minItems !== undefined && node.items.length < schema.minItems) {
          return fail(node, path, `needs at least ${schema.minItems} item(s)`);
        }
        const items = node.items.map((item, i) => walk(schema.items, item as Node, `${path}[${i}]`, node));
        const problem = schema.check?.(items);
        if (problem) {
          const item = node.items[problem.index] as Node | undefined;
          const field = problem.key && isMap(item) ? (item.get(problem.key, true) as Node | undefined) : undefined;
          const where = problem.key ? `${path}[${problem.index}].${problem.key}` : `${path}[${problem.index}]`;
          return fail(field ?? item ?? node, where, problem.detail);
        }
        return items;
      }
      default: {
        if (!isScalar(node)) return fail(node, path, `must be a ${schema.kind === 'int' ? 'number' : schema.kind}`);
        const value = node.value;
        switch (schema.kind) {
          case 'string':
            if (typeof value !== 'string') return fail(node, path, `must be a string, got ${JSON.stringify(value)}`);
            if (schema.nonEmpty && value.length === 0) return fail(node, path, 'must not be empty');
            if (schema.pattern && !schema.pattern.test(value)) {
              return fail(node, path, `must be ${schema.patternHint ?? `matching ${schema.pattern}`}, got ${JSON.stringify(value)}`);
            }
            return value;
          case 'int':
            if (typeof value !== 'number' || !Number.isInteger(value)) {
              return fail(node, path, `must be an integer, got ${JSON.stringify(value)}`);
            }
            if (schema.min !== undefined && value < schema.min) return fail(node, path, `must be >= ${schema.min}, got ${value}`);
            if (schema.max !== undefined && value > schema.max) return fail(node, path, `must be <= ${schema.max}, got ${value}`);
            return value;
          case 'bool':
            if (typeof value !== 'boolean') return fail(node, path, `must be true or false, got ${JSON.stringify(value)}`);
            return value;
          case 'enum':
            if (typeof value !== 'string' || !schema.values.includes(value)) {
              return fail(node, path, `must be one of ${schema.values.join(', ')}, got ${JSON.stringify(value)}`);
            }
            return value;
        }
      }
    }
  };

  const emptyMap = parseDocument('{}').contents as Node;
  return walk(configSchema, doc.contents as Node, '', doc.contents as Node) as SwitchboardConfig;
}
