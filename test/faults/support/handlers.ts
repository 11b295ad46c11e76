/** Which handlers of test/faults/children/worker.ts match an event type: what the oracle expects to have run. */
export function expectedHandlers(type: string): string[] {
  const handlers = type.startsWith('fault.') ? ['effect'] : [];
  if (type === 'fault.tick') handlers.push('audit');
  if (type === 'fault.order.placed') handlers.push('ship');
  return handlers;
}
