import { describe, expect, it } from '@jest/globals';
import {
  buildCommittedExists,
  buildEventSelect,
  buildFirstUnread,
  buildStreamPage,
  buildStreamStart,
} from './event-query.sql.js';
import { GAP_SAFE_HORIZON, gapSafeVisibility, GAP_SAFE_VISIBILITY } from './gap-safe-visibility.js';

describe('buildEventSelect', () => {
  it('selects everything in sequence order without a filter', () => {
    const { sql, params } = buildEventSelect({}, { gapSafe: false });
    expect(sql).toMatch(/^SELECT id, .* FROM event_store ORDER BY sequence_number$/);
    expect(params).toEqual([]);
  });

  it('puts every value in a parameter', () => {
    const hostile = "x' OR 1=1 --";
    const { sql, params } = buildEventSelect(
      {
        types: [hostile],
        tenantId: '11111111-1111-4111-8111-111111111111',
        workflowId: hostile,
        from: new Date(0),
        to: new Date(1000),
        statuses: ['pending', 'failed'],
        afterSequence: 10,
        limit: 5,
      },
      { gapSafe: true },
    );
    expect(sql).not.toContain(hostile);
    expect(sql).toContain(
      'WHERE event_type = $1 AND tenant_id = $2::uuid AND workflow_id = $3 AND timestamp >= $4::timestamptz ' +
        'AND timestamp < $5::timestamptz AND status = ANY($6::varchar[]) AND sequence_number > $7 ' +
        'ORDER BY sequence_number LIMIT $8) AS page',
    );
    expect(params).toEqual([
      hostile,
      '11111111-1111-4111-8111-111111111111',
      hostile,
      '1970-01-01T00:00:00.000Z',
      '1970-01-01T00:00:01.000Z',
      ['pending', 'failed'],
      10,
      5,
    ]);
  });

  it('uses ANY for several types and = for one status', () => {
    const { sql, params } = buildEventSelect({ types: ['a', 'b'], statuses: ['failed'] }, { gapSafe: false });
    expect(sql).toContain('WHERE event_type = ANY($1::varchar[]) AND status = $2 ORDER BY');
    expect(params).toEqual([['a', 'b'], 'failed']);
  });

  it('adds the gap-safe cut only when asked: the page in sequence order up to its first row not below the horizon', () => {
    expect(buildEventSelect({ limit: 1 }, { gapSafe: false }).sql).not.toContain('pg_current_snapshot');
    const { sql } = buildEventSelect({ afterSequence: 3, limit: 2 }, { gapSafe: true });
    expect(sql).toContain(`every(${GAP_SAFE_VISIBILITY}) OVER (ORDER BY sequence_number) AS final`);
    expect(sql).toContain('WHERE sequence_number > $1 ORDER BY sequence_number LIMIT $2) AS page');
    expect(sql).toMatch(/\) AS page WHERE final ORDER BY sequence_number$/);
  });
});

describe('buildStreamPage', () => {
  it('pages by (transaction_id, sequence_number) below the horizon, which it returns with every row', () => {
    const { sql, params } = buildStreamPage(
      { tenantId: '11111111-1111-4111-8111-111111111111', afterSequence: 4 },
      { transactionId: 9_007_199_254_740_993n, sequenceNumber: 12 },
      100,
    );
    expect(sql).toContain(
      `SELECT horizon.xid::text AS horizon, page.* FROM (SELECT ${GAP_SAFE_HORIZON} AS xid) AS horizon`,
    );
    expect(sql).toContain(
      'WHERE tenant_id = $1::uuid AND sequence_number > $2 AND ' +
        '(transaction_id, sequence_number) > ($3::xid8, $4::bigint) AND transaction_id < horizon.xid ' +
        'ORDER BY transaction_id, sequence_number LIMIT $5) AS page ON true',
    );
    // A transaction id travels as text: xid8 goes past Number.MAX_SAFE_INTEGER.
    expect(params).toEqual(['11111111-1111-4111-8111-111111111111', 4, '9007199254740993', 12, 100]);
  });

  it('starts at the beginning without a position', () => {
    const { sql, params } = buildStreamPage({}, undefined, 10);
    expect(sql).toContain('WHERE transaction_id < horizon.xid ORDER BY transaction_id, sequence_number LIMIT $1)');
    expect(params).toEqual([10]);
  });
});

describe('buildStreamStart', () => {
  it('takes the oldest transaction holding a matching row after afterSequence, or the horizon if older', () => {
    const { sql, params } = buildStreamStart({ types: ['a.b'], afterSequence: 7 });
    expect(sql).toBe(
      'SELECT least((SELECT min(transaction_id::text::bigint) FROM event_store ' +
        `WHERE event_type = $1 AND sequence_number > $2), (${GAP_SAFE_HORIZON})::text::bigint)::text AS start`,
    );
    expect(params).toEqual(['a.b', 7]);
  });
});

describe('buildFirstUnread', () => {
  it('takes the lowest sequence number after a stream position, over a materialized set', () => {
    const { sql, params } = buildFirstUnread({ workflowId: 'wf' }, { transactionId: 5n, sequenceNumber: 0 });
    expect(sql).toBe(
      'WITH unread AS MATERIALIZED (SELECT sequence_number FROM event_store WHERE workflow_id = $1 AND ' +
        '(transaction_id, sequence_number) > ($2::xid8, $3::bigint)) SELECT min(sequence_number) AS min FROM unread',
    );
    expect(params).toEqual(['wf', '5', 0]);
  });
});

describe('buildCommittedExists', () => {
  it('asks for a committed row of the filter up to a position, without the horizon', () => {
    const { sql, params } = buildCommittedExists(
      { tenantId: '11111111-1111-4111-8111-111111111111', afterSequence: 4 },
      9,
    );
    expect(sql).toBe(
      'SELECT EXISTS (SELECT FROM event_store WHERE tenant_id = $1::uuid AND sequence_number > $2 ' +
        'AND sequence_number <= $3) AS found',
    );
    expect(params).toEqual(['11111111-1111-4111-8111-111111111111', 4, 9]);
  });

  it('counts only rows after a stream position when given', () => {
    const { sql, params } = buildCommittedExists({}, 9, { transactionId: 700n, sequenceNumber: 0 });
    expect(sql).toBe(
      'SELECT EXISTS (SELECT FROM event_store WHERE sequence_number <= $1 AND ' +
        '(transaction_id, sequence_number) > ($2::xid8, $3::bigint)) AS found',
    );
    expect(params).toEqual([9, '700', 0]);
  });
});

describe('gapSafeVisibility', () => {
  it('compares the transaction id, qualified with an alias when given, with the horizon', () => {
    expect(gapSafeVisibility()).toBe(`transaction_id < ${GAP_SAFE_HORIZON}`);
    expect(gapSafeVisibility('e')).toBe(`e.transaction_id < ${GAP_SAFE_HORIZON}`);
  });

  it('takes the oldest running transaction of the snapshot, leaving out those of other databases', () => {
    expect(GAP_SAFE_HORIZON).toContain('pg_snapshot_xip(pg_current_snapshot())');
    expect(GAP_SAFE_HORIZON).toContain('pg_snapshot_xmax(pg_current_snapshot())');
    expect(GAP_SAFE_HORIZON).toContain(
      'backend.datid <> (SELECT oid FROM pg_database WHERE datname = current_database())',
    );
  });
});
