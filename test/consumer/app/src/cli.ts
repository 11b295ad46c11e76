// The operator commands on this app's own AppModule (`./cli`, with its optional peers installed).
import 'reflect-metadata';
import { runEventBusCli } from 'nestjs-durable-events/cli';
import { AppModule } from './app.module.js';

await runEventBusCli(AppModule);
