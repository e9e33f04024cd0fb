/**
 * A self-signed certificate for tls/wss listeners in development and tests, when none is configured:
 * CN `localhost`, subjectAltName DNS `localhost`, IP `127.0.0.1` and IP `::1` (so that clients verifying
 * against this certificate as their CA accept a connection to either loopback address).
 * Never use it in production: the key is generated at run time and trusted by nobody.
 */
import { generate } from 'selfsigned';
import type { TlsCredentials } from './transport-options';

/** A generated certificate and its key, PEM. */
export interface DevCertificate extends TlsCredentials {
  key: string;
  cert: string;
  /** SHA-256 fingerprint, as printed by the generator (`AB:CD:…`). */
  fingerprint: string;
}

let shared: Promise<DevCertificate> | undefined;

/** Generate a fresh development certificate (EC P-256, SHA-256, valid for `days`, default 30). */
export async function generateDevCertificate(days = 30): Promise<DevCertificate> {
  if (!Number.isInteger(days) || days < 1) throw new RangeError(`certificate validity must be a positive number of days, got ${days}`);
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + days * 86_400_000);
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert, fingerprint: pems.fingerprint };
}

/** The process-wide development certificate, generated on first use. */
export function devCertificate(): Promise<DevCertificate> {
  shared ??= generateDevCertificate().catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}
