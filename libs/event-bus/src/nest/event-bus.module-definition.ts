import { ConfigurableModuleBuilder } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource, DataSourceOptions } from 'typeorm';
import { EVENT_BUS_MODULE_OPTIONS } from './event-bus.constants.js';
import type { EventBusCoreOptions } from '../core/event-bus.options.js';
import { EVENT_BUS_EXPORTS, eventBusProviders } from './event-bus.providers.js';
import { eventBusEntities } from '../store/typeorm/event-store.entity.js';

/** Options of `EventBusModule.forRoot()`, or what the factory of `forRootAsync()` returns. */
export type EventBusModuleOptions = EventBusCoreOptions;

/** What must be known when the module is defined, so it sits beside the options rather than inside them. */
export interface EventBusModuleExtras {
  /** Register the module globally, so `EventBus` can be injected anywhere. @default true */
  isGlobal?: boolean;
  /**
   * The TypeORM data source holding the event store: its name, or the `DataSource`/options given to
   * `TypeOrmModule.forRoot` (as for `TypeOrmModule.forFeature`). @default the default data source
   */
  dataSource?: string | DataSource | DataSourceOptions;
}

/**
 * `forRoot(options & extras)` and `forRootAsync({ imports, inject, useFactory, ...extras })`.
 * The data source is needed here, at definition time: it names the TypeORM feature registration
 * and the DataSource the store and the queue are built from.
 */
export const { ConfigurableModuleClass, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<EventBusModuleOptions>({ optionsInjectionToken: EVENT_BUS_MODULE_OPTIONS })
    .setClassMethodName('forRoot')
    .setExtras<EventBusModuleExtras>({ isGlobal: true, dataSource: undefined }, (definition, extras) => ({
      ...definition,
      global: extras.isGlobal ?? true,
      imports: [...(definition.imports ?? []), TypeOrmModule.forFeature(eventBusEntities, extras.dataSource)],
      providers: [...(definition.providers ?? []), ...eventBusProviders(getDataSourceToken(extras.dataSource))],
      exports: [...(definition.exports ?? []), ...EVENT_BUS_EXPORTS],
    }))
    .build();
