import { describe, expect, it } from 'vitest';
import { InMemoryApprovals } from '../doubles/in-memory-approvals.ts';
import { sampleNewRequest } from '../doubles/sample-approvals.ts';
import { describeApprovalRepositoryContract } from './approval-repository.contract.ts';

describeApprovalRepositoryContract('in memory', async () => ({
  repository: new InMemoryApprovals(),
  cleanup: async () => undefined,
}));

describe('the in-memory approvals double', () => {
  it('hands out copies, so changing a returned request leaves the stored one as it was', async () => {
    const approvals = new InMemoryApprovals();
    const created = await approvals.create(sampleNewRequest());
    (created.votes as unknown[]).push({ identity: 'console:mallory' });
    (created.environments as string[]).push('staging');
    const stored = await approvals.get(created.id);
    expect(stored?.votes).toEqual([]);
    expect(stored?.environments).toEqual(['production']);
  });
});
