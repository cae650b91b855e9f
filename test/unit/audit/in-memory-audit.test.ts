import { describe, expect, it } from 'vitest';
import { auditEvent } from '../../../src/audit/audit-recorder.ts';
import { InMemoryAudit } from '../../doubles/in-memory-audit.ts';

/** The double chains with the catalog's code, so tests that tamper with it see real verdicts. */
describe('the in-memory audit log', () => {
  const at = (hour: number) => new Date(Date.UTC(2026, 10, 22, hour));

  async function logOf(count: number): Promise<InMemoryAudit> {
    let hour = 0;
    const audit = new InMemoryAudit({ now: () => at(hour++) });
    for (let n = 1; n <= count; n++) {
      await audit.append(
        auditEvent({
          identity: 'console:alice',
          platform: 'console',
          action: 'command',
          outcome: `n${n}`,
        }),
      );
    }
    return audit;
  }

  it('chains its entries so that they verify, and reads them since a time', async () => {
    const audit = await logOf(4);
    expect(audit.log.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(await audit.verify()).toMatchObject({
      ok: true,
      entries: 4,
      head: { seq: 4, hash: audit.log[3]?.hash },
    });
    const since: number[] = [];
    for await (const entry of audit.entries({ since: at(2) })) since.push(entry.seq);
    expect(since).toEqual([3, 4]);
  });

  it('shows tampering with its entries as the catalog would', async () => {
    const audit = await logOf(4);
    const second = audit.log[1];
    if (!second) throw new Error('no second entry');
    audit.log[1] = { ...second, outcome: 'refused' };
    expect(await audit.verify()).toMatchObject({ ok: false, brokenAt: 2, entries: 1 });
  });

  it('throws on append when failing, recording nothing', async () => {
    const audit = await logOf(1);
    audit.failing = true;
    await expect(
      audit.append(
        auditEvent({ identity: 'x:y', platform: 'cli', action: 'command', outcome: 'ok' }),
      ),
    ).rejects.toThrow('the audit log is down');
    expect(audit.log).toHaveLength(1);
  });
});
