import { describe, expect, it } from 'vitest';
import { CPM_ACCEPT_CONTACT, CPM_FEATURE_TAG, CpmHeaderError, formatDeviceNameParam, hasCpmFeatureTag, isValidCpmId, parseDeviceNameParam } from './cpm-headers';
import { newContributionId, newConversationId, newImdnMessageId } from './cpm-ids';

describe('CPM names (PROFILE.md)', () => {
  it('spells the feature tag and Accept-Contact exactly as the profile does', () => {
    expect(CPM_FEATURE_TAG).toBe('+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"');
    expect(CPM_ACCEPT_CONTACT).toBe('*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"');
  });

  it('recognizes the feature tag among others, encoded or not, and not a different ICSI', () => {
    expect(hasCpmFeatureTag(`<sip:a@1.2.3.4;ob>;expires=600;${CPM_FEATURE_TAG};+sip.instance="<urn:uuid:1>"`)).toBe(true);
    expect(hasCpmFeatureTag('<sip:a@h>;+G.3GPP.ICSI-REF="urn:urn-7:3gpp-service.ims.icsi.oma.cpm.session,urn%3Aother"')).toBe(true);
    expect(hasCpmFeatureTag('<sip:a@h>;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"')).toBe(false);
    expect(hasCpmFeatureTag('<sip:a@h>;+g.3gpp.icsi-ref="%E0%A4%A"')).toBe(false);
  });

  it('writes device names as RFC 3840 string values and reads them back', () => {
    const param = formatDeviceNameParam(' Alice\'s "work" <laptop> ');
    expect(param).toBe('+cpm.device-name="<Alice\'s \\"work\\" \\<laptop\\>>"');
    expect(parseDeviceNameParam(`<sip:a@h>;${param};expires=3600`)).toBe('Alice\'s "work" <laptop>');
    expect(parseDeviceNameParam('<sip:a@h>;+cpm.device-name="Desktop"')).toBe('Desktop');
    expect(parseDeviceNameParam('<sip:a@h>;expires=1')).toBeUndefined();
    expect(parseDeviceNameParam(`<sip:a@h>;${formatDeviceNameParam('Bürö 🖥')}`)).toBe('Bürö 🖥');
  });

  it('refuses empty, overlong, control-character and unquoted device names', () => {
    expect(() => formatDeviceNameParam('   ')).toThrow(CpmHeaderError);
    expect(() => formatDeviceNameParam('x'.repeat(65))).toThrow(CpmHeaderError);
    expect(() => formatDeviceNameParam('a\r\nVia: evil')).toThrow(CpmHeaderError);
    expect(() => parseDeviceNameParam('<sip:a@h>;+cpm.device-name=Laptop')).toThrow(CpmHeaderError);
    expect(() => parseDeviceNameParam('<sip:a@h>;+cpm.device-name="<>"')).toThrow(CpmHeaderError);
  });

  it('generates distinct, valid ids', () => {
    const ids = new Set(Array.from({ length: 200 }, () => newConversationId()));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isValidCpmId(newContributionId())).toBe(true);
    expect(newImdnMessageId()).toMatch(/^[A-Za-z0-9]{17}$/);
    expect(isValidCpmId('a b')).toBe(false);
  });
});
