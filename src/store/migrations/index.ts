// The numbered schema migrations, oldest first. Each runs once, inside a transaction, and is
// recorded in the `migrations` table. Never edit a released migration: add the next number.
import { registrations001 } from './001_registrations.js';
import { events002 } from './002_events.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [registrations001, events002];
