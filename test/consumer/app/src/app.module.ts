import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventBusModule } from 'nestjs-durable-events';
import { GreetingHandlers } from './greeting.handlers.js';

@Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'postgres',
      url: process.env.DATABASE_URL,
      autoLoadEntities: true,
      installExtensions: false,
    }),
    EventBusModule.forRoot({ connection: process.env.REDIS_URL, prefix: process.env.EVENT_BUS_PREFIX }),
  ],
  providers: [GreetingHandlers],
})
export class AppModule {}
