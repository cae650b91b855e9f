import { describe, expect, it } from 'vitest';
import { networkReason, postgresReason } from '../../../src/core/network-errors.ts';

function refused(address: string, port: number): NodeJS.ErrnoException {
  return Object.assign(new Error(`connect ECONNREFUSED ${address}:${port}`), {
    code: 'ECONNREFUSED',
    address,
    port,
  });
}

describe('networkReason', () => {
  it('names the address and port it could not reach', () => {
    expect(networkReason(refused('127.0.0.1', 6390), 2000)).toBe(
      'connection refused (ECONNREFUSED 127.0.0.1:6390): nothing listens there',
    );
  });

  it('names the first of several attempts (IPv6 then IPv4)', () => {
    const error = Object.assign(
      new AggregateError([refused('::1', 5432), refused('127.0.0.1', 5432)]),
      {
        code: 'ECONNREFUSED',
      },
    );
    expect(networkReason(error, 2000)).toContain('ECONNREFUSED [::1]:5432');
  });

  it('stays short without an address', () => {
    expect(networkReason(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 2000)).toBe(
      'connection refused (ECONNREFUSED): nothing listens there',
    );
  });
});

describe('postgresReason', () => {
  it('says a password authentication failed, and where the password comes from', () => {
    const error = Object.assign(new Error('password authentication failed for user "lifeboat"'), {
      code: '28P01',
    });
    const reason = postgresReason(error, 2000, 'DATABASE_URL');
    expect(reason).toContain(
      'authentication failed (password authentication failed for user "lifeboat")',
    );
    expect(reason).toContain('the password in DATABASE_URL');
    expect(reason).toContain('pg_hba.conf');
  });

  it('gives the network reason with the address otherwise', () => {
    expect(postgresReason(refused('127.0.0.1', 1), 2000, 'DATABASE_URL')).toContain(
      'ECONNREFUSED 127.0.0.1:1',
    );
  });
});
