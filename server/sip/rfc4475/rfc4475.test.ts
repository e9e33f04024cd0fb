import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../message/parse';
import { SipParseError } from '../message/parse-error';
import { type ReceiverRole, screenMessage } from '../message/request-check';
import { RFC4475_TABLE, TORTURE_ROLE_OPTIONS, type TortureOutcome } from './rfc4475-table';

/** The torture files live in the shared folder beside the repository. */
const DIR = fileURLToPath(new URL('../../../../shared/sip-torture/rfc4475/', import.meta.url));
const read = (file: string): Uint8Array => new Uint8Array(readFileSync(DIR + file));

function outcomeOf(bytes: Uint8Array, role: ReceiverRole): { outcome: string; status?: number } {
  const screening = screenMessage(bytes, TORTURE_ROLE_OPTIONS[role]);
  if (screening.action === 'reject') return { outcome: 'reject', status: screening.rejection.status };
  return { outcome: screening.action };
}

function expected(row: TortureOutcome): { outcome: string; status?: number } {
  return row.outcome === 'reject' ? { outcome: 'reject', status: row.status } : { outcome: row.outcome };
}

describe('RFC 4475 torture messages', () => {
  it('the table covers every file of the archive exactly once', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.dat')).sort();
    expect(files).toHaveLength(49);
    expect(RFC4475_TABLE.map((r) => r.file).sort()).toEqual(files);
  });

  for (const row of RFC4475_TABLE) {
    for (const role of ['proxy', 'registrar', 'uas'] as const) {
      it(`${row.file} (§${row.section}) received by a ${role}: ${row[role].outcome}${row[role].outcome === 'reject' ? ` ${(row[role] as { status: number }).status}` : ''}`, () => {
        expect(outcomeOf(read(row.file), role)).toEqual(expected(row[role]));
      });
    }
  }

  it('nothing but SipParseError comes out of the parser for any torture file', () => {
    for (const row of RFC4475_TABLE) {
      try {
        parseMessage(read(row.file));
      } catch (e) {
        expect(e).toBeInstanceOf(SipParseError);
      }
    }
  });

  it('a bext01 rejection lists the unsupported tags of the right header for each role', () => {
    const bytes = read('bext01.dat');
    const proxy = screenMessage(bytes, TORTURE_ROLE_OPTIONS.proxy);
    const uas = screenMessage(bytes, TORTURE_ROLE_OPTIONS.uas);
    expect(proxy.action === 'reject' && proxy.rejection.headers).toEqual([{ name: 'Unsupported', value: 'noProxiesSupportThis, norDoAnyProxiesSupportThis' }]);
    expect(uas.action === 'reject' && uas.rejection.headers).toEqual([{ name: 'Unsupported', value: 'nothingSupportsThis, nothingSupportsThisEither' }]);
  });

  it('dblreq keeps only the REGISTER: the INVITE octets after its empty body are ignored', () => {
    const message = parseMessage(read('dblreq.dat'));
    expect(message.type === 'request' && message.method).toBe('REGISTER');
    expect(message.body).toHaveLength(0);
  });

  it('a 400 for a request that did not parse can still be built from its headers (clerr)', () => {
    const screening = screenMessage(read('clerr.dat'), TORTURE_ROLE_OPTIONS.uas);
    expect(screening.action).toBe('reject');
    if (screening.action !== 'reject') return;
    expect(screening.headers.get('Call-ID')).toBe('clerr.0ha0isndaksdjweiafasdk3');
    expect(screening.headers.get('Via')).toBe('SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523');
  });
});
