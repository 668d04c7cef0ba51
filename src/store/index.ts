// src/store public surface: openStore() and the repository types. Imports only src/lib.
export { openStore, type OpenStoreOptions } from './store.js';
export { appliedMigrations, type AppliedMigration } from './migrate.js';
export { MIGRATIONS, type Migration } from './migrations/index.js';
export type { Binding, EventRepository, RegistrationRepository, Store, StoredEvent } from './types.js';
