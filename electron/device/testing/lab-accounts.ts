/**
 * Accounts of the lab network (`npm run lab`'s description line) for DeviceAgents run by tests, the demo and
 * the benches. Structural: it reads the description's JSON shape and never imports `server/`.
 */
import type { DeviceAccount } from '../device-agent';

/** The parts of the lab's description that a device needs. */
export interface LabDescriptionLike {
  domains: readonly {
    domain: string;
    ws: string;
    wss: string;
    transferService: string;
    mode: string;
    store: string;
  }[];
  users: readonly { uri: string; password: string }[];
  certificate: string;
}

/**
 * The account of `user` on the lab: its domain's WebSocket URL (or WSS with the lab's certificate), transfer
 * service URI, Message Store, and deposit on when the domain's Conversation Server is a proxy (PROFILE.md
 * "History continuity": in proxy mode each device deposits what it sends and receives).
 */
export function labAccount(lab: LabDescriptionLike, user: string, options: { secure?: boolean } = {}): DeviceAccount {
  const host = user.replace(/^sips?:/i, '').split('@')[1] ?? '';
  const domain = lab.domains.find((d) => d.domain === host);
  if (!domain) throw new Error(`labAccount: the lab has no domain ${JSON.stringify(host)}`);
  const password = lab.users.find((u) => u.uri === user)?.password;
  if (password === undefined) throw new Error(`labAccount: the lab has no user ${JSON.stringify(user)}`);
  return {
    uri: user,
    password,
    wsUrl: options.secure ? domain.wss : domain.ws,
    transferServiceUri: domain.transferService,
    messageStoreUrl: domain.store,
    depositHistory: domain.mode === 'proxy',
    ...(options.secure ? { trustedCertificatePem: lab.certificate } : {}),
  };
}
