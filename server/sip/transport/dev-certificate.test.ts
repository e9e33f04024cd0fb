import { describe, expect, it } from 'vitest';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { devCertificate, generateDevCertificate } from './dev-certificate';

describe('the development certificate', () => {
  it('is for localhost, 127.0.0.1 and ::1, and its key matches', async () => {
    const pems = await generateDevCertificate(2);
    const x509 = new X509Certificate(pems.cert);
    expect(x509.subject).toBe('CN=localhost');
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x509.checkIP('::1')).toBe('::1');
    expect(x509.checkPrivateKey(createPrivateKey(pems.key))).toBe(true);
    const days = (Date.parse(x509.validTo) - Date.parse(x509.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(2);
  });

  it('is generated once per process', async () => {
    const [a, b] = await Promise.all([devCertificate(), devCertificate()]);
    expect(a).toBe(b);
  });

  it('rejects a nonsensical validity', async () => {
    await expect(generateDevCertificate(0)).rejects.toThrow(/positive number of days/);
  });
});
