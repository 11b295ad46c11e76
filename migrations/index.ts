import { CreateEventStore1764300000000 } from './1764300000000-create-event-store.js';
import { CreateHandlerDeliveries1764300001000 } from './1764300001000-create-handler-deliveries.js';
import { AddEventStoreTransactionOrderIndex1764300002000 } from './1764300002000-add-event-store-transaction-order-index.js';
import { MakeStatusUpdatesHot1764300003000 } from './1764300003000-make-status-updates-hot.js';

/** Every migration of the library, oldest first. Append new ones; never edit an applied one. */
export const migrations = [
  CreateEventStore1764300000000,
  CreateHandlerDeliveries1764300001000,
  AddEventStoreTransactionOrderIndex1764300002000,
  MakeStatusUpdatesHot1764300003000,
];
