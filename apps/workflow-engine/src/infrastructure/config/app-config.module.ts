import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_CONFIG, type ResolvedAppConfig } from './app-config.js';

/** Makes the app's configuration injectable everywhere (`@Inject(APP_CONFIG)`). */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(config: ResolvedAppConfig): DynamicModule {
    return { module: AppConfigModule, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}
