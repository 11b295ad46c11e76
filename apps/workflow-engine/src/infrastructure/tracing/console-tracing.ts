/**
 * `OTEL_TRACES_CONSOLE=1`: registers the OpenTelemetry Node SDK (AsyncLocalStorage context, W3C
 * propagator) with a console exporter, so the event bus's spans (`publish <type>`, `handle <handler>`)
 * are printed as they end. The library itself depends on `@opentelemetry/api` only; an app wires the
 * SDK and the exporter it wants (OTLP in production) the same way, before Nest starts.
 */
import { ConsoleSpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** Registers the SDK when the variable asks for it; resolves to the provider to shut down, if any. */
export function startConsoleTracing(env: NodeJS.ProcessEnv = process.env): NodeTracerProvider | undefined {
  if (env.OTEL_TRACES_CONSOLE !== '1') return undefined;
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] });
  provider.register();
  return provider;
}
