/**
 * What the core's service routing recognizes as a CPM session (PROFILE.md, "A CPM session"): an INVITE whose
 * Accept-Contact carries the CPM session ICSI (3GPP TS 24.229 §7.9.2 feature tag, OMA CPM).
 */

/** The URN inside `+g.3gpp.icsi-ref`, as it is escaped in the feature-tag value. */
export const CPM_FEATURE_TAG_VALUE = 'urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session';
