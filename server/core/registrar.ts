/**
 * The registrar of one domain (RFC 3261 §10.3) with digest authentication (§22, RFC 8760 for SHA-256),
 * device instances and flows (RFC 5626 §6), and GRUUs (RFC 5627 §7.1.2).
 *
 * `register()` takes a REGISTER addressed to this domain and returns the response to send; it never throws
 * on client input. Bindings live in the {@link LocationService}.
 */
import { DigestAuthenticator, type DigestAlgorithm } from '../auth/digest';
import { getParam, getParamText } from '../sip/message/header-params';
import { sharedContactList, sharedNameAddr, type NameAddr } from '../sip/message/name-addr';
import { SipParseError } from '../sip/message/parse-error';
import type { SipHeader, SipRequest, SipResponse } from '../sip/message/sip-message';
import { serializeUri, type SipUri } from '../sip/message/sip-uri';
import { buildResponse } from '../sip/transaction/response-builder';
import type { ReceivedMessage } from '../sip/transport/transport-types';
import { paramsText, paramsTextEquals } from './compact-text';
import type { Binding, BindingChange, LocationService } from './location-service';

/** A user of the domain. */
export interface DomainUser {
  /** The user part of the AOR (`alice` for `sip:alice@a.example`); also the digest username. */
  user: string;
  password: string;
}

/** Options of the registrar. */
export interface RegistrarOptions {
  domain: string;
  users: (user: string) => DomainUser | undefined;
  location: LocationService;
  /** Digest algorithms offered, most preferred first. Default MD5 (what JsSIP speaks). */
  algorithms?: readonly DigestAlgorithm[];
  /** Default expiry when the request gives none (s). */
  defaultExpires?: number;
  /** Shortest accepted expiry (s); shorter non-zero values get 423 (§10.3 step 7). */
  minExpires?: number;
  /** Longest granted expiry (s). */
  maxExpires?: number;
  /** A random To tag per response. */
  newTag: () => string;
  /** Clock, for tests. */
  now?: () => number;
}

/** The outcome of one REGISTER: the response, and the AOR it changed (when it did). */
export interface RegisterResult {
  response: SipResponse;
  /** Set when the REGISTER authenticated as this user (so the core can assert the identity). */
  authenticatedAor?: string;
  changes: BindingChange[];
}

/** Registrar for one domain. */
export class Registrar {
  private readonly digest: DigestAuthenticator;
  private readonly now: () => number;
  private readonly date = new DateHeader();

  constructor(private readonly options: RegistrarOptions) {
    this.digest = new DigestAuthenticator({ realm: options.domain, algorithms: options.algorithms ?? ['MD5'] });
    this.now = options.now ?? Date.now;
  }

  /** The digest authenticator (the core reuses it for requests it authenticates with 407). */
  get authenticator(): DigestAuthenticator {
    return this.digest;
  }

  /** Verify digest credentials for any request from a local user; undefined means authenticated as `user`. */
  authenticate(request: SipRequest, header: 'Authorization' | 'Proxy-Authorization'): { user: string } | { stale: boolean } {
    const verdict = this.digest.verify(
      { method: request.method, authorization: request.headers.getAll(header) },
      (username) => this.options.users(username)?.password,
    );
    return verdict.ok ? { user: verdict.username } : { stale: verdict.stale };
  }

  /** Process a REGISTER (§10.3 steps 1–8). */
  register(request: SipRequest, received: ReceivedMessage): RegisterResult {

    // Step 3: authenticate (§22.2).
    const auth = this.authenticate(request, 'Authorization');
    if (!('user' in auth)) {
      return this.reply(request, 401, this.digest.challenges({ stale: auth.stale }).map((value) => ({ name: 'WWW-Authenticate', value })));
    }

    // Step 5: the AOR from To; step 4: the authenticated user may register only their own AOR.
    // The UAS checks parsed To and Contact moments ago: the shared parses are not repeated.
    let to: Readonly<NameAddr>;
    try {
      to = sharedNameAddr(request.headers.get('To') ?? '');
    } catch (error) {
      return this.reply(request, 400, [], error instanceof SipParseError ? `Bad To: ${error.reason}` : 'Bad To');
    }
    if (to.uri.kind !== 'sip') return this.reply(request, 404, [], 'Not Found: To is not a SIP URI');
    const user = to.uri.user === undefined ? undefined : decodeURIComponentSafe(to.uri.user);
    if (user === undefined || to.uri.host.toLowerCase() !== this.options.domain.toLowerCase()) {
      return this.reply(request, 404, [], 'Not Found: not a user of this domain');
    }
    if (!this.options.users(user)) return this.reply(request, 404, [], 'Not Found: unknown user');
    if (user !== auth.user) return this.reply(request, 403, [], 'Forbidden: may register only your own address');
    const aor = `sip:${user}@${this.options.domain}`;

    // Step 6: Contacts.
    const contactLines = request.headers.getAll('Contact');
    const contacts: Readonly<NameAddr>[] = [];
    let wildcard = false;
    try {
      for (const line of contactLines) {
        const parsed = sharedContactList(line);
        if (parsed === '*') wildcard = true;
        else contacts.push(...parsed);
      }
    } catch (error) {
      return this.reply(request, 400, [], error instanceof SipParseError ? `Bad Contact: ${error.reason}` : 'Bad Contact');
    }
    const headerExpires = parseExpires(request.headers.get('Expires'));
    if (headerExpires === 'invalid') return this.reply(request, 400, [], 'Bad Expires');
    const callId = request.headers.get('Call-ID') ?? '';
    const cseq = Number.parseInt(request.headers.get('CSeq') ?? '', 10);

    const changes: BindingChange[] = [];
    const location = this.options.location;
    if (wildcard) {
      // §10.3 step 6: "*" only alone and only with Expires: 0.
      if (contacts.length > 0 || contactLines.length !== 1 || headerExpires !== 0) return this.reply(request, 400, [], 'Invalid wildcard Contact');
      for (const b of location.bindings(aor)) {
        if (b.callId === callId && cseq <= b.cseq) continue;
        location.remove(b);
        changes.push({ binding: b, event: 'unregistered' });
      }
      return { response: this.ok(request, aor, undefined), authenticatedAor: aor, changes };
    }

    const defaultExpires = this.options.defaultExpires ?? 3600;
    const minExpires = this.options.minExpires ?? 60;
    const maxExpires = this.options.maxExpires ?? 7200;
    const supportsGruu = request.headers.values('Supported').some((t) => t.toLowerCase() === 'gruu');
    const plans: { contact: Readonly<NameAddr>; expires: number; instance: string | undefined; regId: number | undefined }[] = [];
    for (const contact of contacts) {
      if (contact.uri.kind === 'absolute') return this.reply(request, 400, [], 'Bad Contact: unsupported URI scheme');
      const expParam = getParam(contact.params, 'expires');
      let expires = headerExpires ?? defaultExpires;
      if (expParam !== undefined) {
        const n = expParam === null ? NaN : Number(expParam);
        if (!Number.isInteger(n) || n < 0) return this.reply(request, 400, [], 'Bad Contact expires');
        expires = n;
      }
      if (expires > 0 && expires < minExpires) return this.reply(request, 423, [{ name: 'Min-Expires', value: String(minExpires) }]);
      expires = Math.min(expires, maxExpires);
      const instanceRaw = getParamText(contact.params, '+sip.instance');
      const instance = instanceRaw ? instanceRaw.replace(/^<|>$/g, '') : undefined;
      const regIdRaw = getParam(contact.params, 'reg-id');
      let regId: number | undefined;
      if (regIdRaw !== undefined) {
        regId = regIdRaw === null ? NaN : Number(regIdRaw);
        if (!Number.isInteger(regId) || regId < 1) return this.reply(request, 400, [], 'Bad reg-id');
        // RFC 5626 §6: reg-id without +sip.instance is an error.
        if (!instance) return this.reply(request, 400, [], 'reg-id without +sip.instance');
      }
      plans.push({ contact, expires, instance: instance || undefined, regId });
    }

    // Step 7: apply, honouring Call-ID/CSeq ordering.
    const now = this.now();
    for (const plan of plans) {
      const contactUri = serializeUri(plan.contact.uri);
      const existing = location.find(aor, { instance: plan.instance, regId: plan.regId, contact: contactUri });
      if (existing && existing.callId === callId && cseq <= existing.cseq) {
        return this.reply(request, 500, [{ name: 'Retry-After', value: '1' }], 'Out-of-order REGISTER');
      }
      if (plan.expires === 0) {
        if (existing) {
          location.remove(existing);
          changes.push({ binding: existing, event: 'unregistered' });
        }
        continue;
      }
      // A refresh usually repeats the parameters: then the binding's own text is reused, not rebuilt.
      const params = plan.contact.params;
      const paramText = existing !== undefined && paramsTextEquals(params, NOT_KEPT, existing.paramText) ? existing.paramText : paramsText(params, NOT_KEPT);
      const { binding, event } = location.upsert({
        aor,
        contact: contactUri,
        instance: plan.instance,
        regId: plan.regId,
        paramText,
        flowId: received.flowId || undefined,
        source: received.source,
        callId,
        cseq,
        expiresAt: now + plan.expires * 1000,
      });
      changes.push({ binding, event });
    }
    return { response: this.ok(request, aor, supportsGruu ? 'gruu' : undefined), authenticatedAor: aor, changes };
  }

  /** A response that changes nothing. */
  private reply(request: SipRequest, status: number, extra: SipHeader[] = [], reason?: string): RegisterResult {
    return { response: buildResponse(request, status, { toTag: this.options.newTag(), headers: extra, ...(reason ? { reason } : {}) }), changes: [] };
  }

  /** §10.3 step 8: 200 with every current binding and its remaining time; GRUUs per RFC 5627 §7.1.2.1. */
  private ok(request: SipRequest, aor: string, gruu: 'gruu' | undefined): SipResponse {
    const now = this.now();
    const headers: SipHeader[] = [];
    for (const b of this.options.location.bindings(aor)) {
      headers.push({ name: 'Contact', value: contactValue(b, now, gruu !== undefined) });
    }
    headers.push({ name: 'Date', value: this.date.format(now) });
    if (gruu) headers.push({ name: 'Supported', value: 'gruu' });
    return buildResponse(request, 200, { toTag: this.options.newTag(), headers });
  }
}

/** The Contact value of a binding in a 200 to REGISTER. */
function contactValue(b: Binding, now: number, withGruu: boolean): string {
  let value = `<${b.contact}>${b.paramText};expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`;
  if (withGruu && b.instance !== undefined) value += `;pub-gruu="${b.pubGruu ?? ''}";temp-gruu="${b.tempGruu ?? ''}"`;
  return value;
}

/** Contact parameters not kept on the binding: expiry and preference are the registrar's, GRUUs are minted here. */
const NOT_KEPT: ReadonlySet<string> = new Set(['expires', 'q', 'pub-gruu', 'temp-gruu']);

/**
 * The text of an HTTP-date (RFC 3261 §20.17) for a time, formatted once per second: every 200 to REGISTER
 * carries one and `toUTCString()` is not free.
 */
class DateHeader {
  private second = -1;
  private text = '';

  format(now: number): string {
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.text = new Date(second * 1000).toUTCString();
    }
    return this.text;
  }
}

function parseExpires(value: string | undefined): number | undefined | 'invalid' {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!/^\d{1,10}$/.test(trimmed)) return 'invalid';
  return Number(trimmed);
}

function decodeURIComponentSafe(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** The AOR (`sip:user@host`) of a SIP URI, without parameters or port. */
export function aorOf(uri: SipUri): string {
  return `sip:${uri.user ?? ''}@${uri.host.toLowerCase()}`;
}
