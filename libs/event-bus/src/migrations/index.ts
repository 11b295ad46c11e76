/**
 * The library's schema, as TypeORM migration classes: the `./migrations` entry point of the package.
 * Users list them in their own DataSource, before their own:
 * `new DataSource({ ..., migrations: [...eventBusMigrations, ...own] })`.
 */
import type { MigrationInterface } from 'typeorm';
import { CreateEventStore1764300000000 } from './1764300000000-create-event-store.js';
import { CreateHandlerDeliveries1764300001000 } from './1764300001000-create-handler-deliveries.js';
import { AddEventStoreTransactionOrderIndex1764300002000 } from './1764300002000-add-event-store-transaction-order-index.js';
import { MakeStatusUpdatesHot1764300003000 } from './1764300003000-make-status-updates-hot.js';
import { AddEventVersions1764300004000 } from './1764300004000-add-event-versions.js';
import { CreateOrderedHandlerTables1764300006000 } from './1764300006000-create-ordered-handler-tables.js';
import { CreateHandlerInbox1764300005000 } from './1764300005000-create-handler-inbox.js';

/**
 * Every migration of the library, oldest first. Append new ones; never edit, rename or renumber an
 * applied one: TypeORM records each by class name and timestamp in the user's `migrations` table.
 */
export const eventBusMigrations: (new () => MigrationInterface)[] = [
  CreateEventStore1764300000000,
  CreateHandlerDeliveries1764300001000,
  AddEventStoreTransactionOrderIndex1764300002000,
  MakeStatusUpdatesHot1764300003000,
  AddEventVersions1764300004000,
  CreateHandlerInbox1764300005000,
  CreateOrderedHandlerTables1764300006000,
];
