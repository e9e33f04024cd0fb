/**
 * `application/reginfo+xml` documents for the `reg` event package (RFC 3680 §5.3), with the GRUU extension
 * (RFC 5628 `gr:pub-gruu`, `gr:temp-gruu`) and the contact parameters a CPM device list needs as
 * `unknown-param` elements (`+sip.instance`, `+cpm.device-name`, the CPM feature tag): PROFILE.md,
 * "Registration and the device list".
 */

/** One contact as the registry knows it. */
export interface RegContact {
  /** Stable id of the contact within the document (RFC 3680 §5.3: unique per registration). */
  id: string;
  uri: string;
  state: 'active' | 'terminated';
  event: 'registered' | 'created' | 'refreshed' | 'shortened' | 'expired' | 'deactivated' | 'probation' | 'unregistered' | 'rejected';
  /** Seconds left, for active contacts. */
  expires?: number;
  callId?: string;
  cseq?: number;
  /** Contact parameters reported as unknown-param (name → value as sent, quotes included, or null). */
  params: Record<string, string | null>;
  pubGruu?: string;
  tempGruu?: { uri: string; firstCseq: number };
}

/** One registration (one AOR) in a reginfo document. */
export interface RegRegistration {
  aor: string;
  id: string;
  state: 'init' | 'active' | 'terminated';
  contacts: RegContact[];
}

/** The parameters that go into the document as unknown-param (the rest are dropped). */
export const REGINFO_PARAMS: readonly string[] = ['+sip.instance', '+cpm.device-name', '+g.3gpp.icsi-ref', 'reg-id'];

/** Serialize a reginfo document (RFC 3680 §5.4 schema, RFC 5628 §4 extension). */
export function buildReginfo(version: number, state: 'full' | 'partial', registrations: RegRegistration[]): string {
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(
    `<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" xmlns:gr="urn:ietf:params:xml:ns:gruuinfo" version="${version}" state="${state}">`,
  );
  for (const reg of registrations) {
    out.push(`  <registration aor="${xmlAttr(reg.aor)}" id="${xmlAttr(reg.id)}" state="${reg.state}">`);
    for (const c of reg.contacts) {
      const attrs = [`id="${xmlAttr(c.id)}"`, `state="${c.state}"`, `event="${c.event}"`];
      if (c.expires !== undefined) attrs.push(`expires="${Math.max(0, Math.floor(c.expires))}"`);
      if (c.callId !== undefined) attrs.push(`callid="${xmlAttr(c.callId)}"`);
      if (c.cseq !== undefined) attrs.push(`cseq="${c.cseq}"`);
      out.push(`    <contact ${attrs.join(' ')}>`);
      out.push(`      <uri>${xmlText(c.uri)}</uri>`);
      for (const name of REGINFO_PARAMS) {
        if (!(name in c.params)) continue;
        const value = c.params[name];
        out.push(
          value === null || value === undefined
            ? `      <unknown-param name="${xmlAttr(name)}"/>`
            : `      <unknown-param name="${xmlAttr(name)}">${xmlText(value)}</unknown-param>`,
        );
      }
      if (c.pubGruu) out.push(`      <gr:pub-gruu uri="${xmlAttr(c.pubGruu)}"/>`);
      if (c.tempGruu) out.push(`      <gr:temp-gruu uri="${xmlAttr(c.tempGruu.uri)}" first-cseq="${c.tempGruu.firstCseq}"/>`);
      out.push('    </contact>');
    }
    out.push('  </registration>');
  }
  out.push('</reginfo>');
  return out.join('\r\n') + '\r\n';
}

function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
