export { migrateToLatest, migrationStatus, type OpenStorageOptions, openStorage } from './sql/sql-storage.js';
export { parseStorageUrl, redactUrl, type StorageLocation } from './sql/dialects.js';
