import { Inject, Injectable, Logger } from '@nestjs/common';
import { EventConflictError, OnEvent, type EventContext, type StoredEvent } from '@app/event-bus';
import { APP_CONFIG, type ResolvedAppConfig } from '../../infrastructure/config/app-config.js';
import { NodeExecutor } from '../nodes/node-executor.js';
import { WorkflowEvents, type NodeCompleted, type NodeFailed, type NodeTriggered } from '../workflow-events.js';
import { WorkflowPublisher } from '../workflow-publisher.js';

/**
 * Runs a triggered node. It declares no retry policy, so the bus's `defaultRetry` applies — the
 * app sets it from NODE_MAX_ATTEMPTS and NODE_RETRY_DELAY_MS. Each failed try is published as
 * `workflow.node.failed` and rethrown, so the bus retries it; the last one is marked `final`.
 * Nodes have side effects, so the runner takes no part in replays.
 */
@Injectable()
export class NodeRunner {
  private readonly logger = new Logger(NodeRunner.name);

  constructor(
    private readonly executor: NodeExecutor,
    private readonly publisher: WorkflowPublisher,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {}

  @OnEvent(WorkflowEvents.nodeTriggered, { replay: false })
  async run(event: StoredEvent<NodeTriggered>, context: EventContext): Promise<void> {
    const { workflowId, nodeIndex, node } = event.payload;
    let output: Record<string, unknown>;
    try {
      output = await this.executor.execute(event.payload);
    } catch (error) {
      const failed: NodeFailed = {
        workflowId,
        nodeIndex,
        node,
        attempt: context.attempt,
        error: error instanceof Error ? error.message : String(error),
        final: context.attempt >= this.config.nodeRetry.maxAttempts,
      };
      this.logger.warn(`${workflowId} node ${node.id} try ${context.attempt} failed${failed.final ? ' (final)' : ''}`);
      // One event per try: the job id tells a re-drive's tries from the first run's.
      await this.publishOnce(() =>
        this.publisher.follow(
          event,
          `failed/${context.jobId ?? 'job'}/${context.attempt}`,
          WorkflowEvents.nodeFailed,
          failed,
        ),
      );
      throw error;
    }
    const completed: NodeCompleted = { workflowId, nodeIndex, node, attempt: context.attempt, output };
    await this.publishOnce(() => this.publisher.follow(event, 'completed', WorkflowEvents.nodeCompleted, completed));
  }

  /**
   * A run of this handler that an earlier run already published for (a redelivery after a crash)
   * may describe the same outcome a little differently; the first description stands.
   */
  private async publishOnce(publish: () => Promise<unknown>): Promise<void> {
    try {
      await publish();
    } catch (error) {
      if (!(error instanceof EventConflictError)) throw error;
      this.logger.log(`Event ${error.eventId} was already published by an earlier run; keeping it`);
    }
  }
}
