import { eventBusMigrations } from '@app/event-bus/migrations';
import { CreateWorkflowRuns1764300100000 } from './1764300100000-create-workflow-runs.js';

/** The library's migrations (the event store), then the app's own. Run at start-up, never `synchronize`. */
export const appMigrations = [...eventBusMigrations, CreateWorkflowRuns1764300100000];
