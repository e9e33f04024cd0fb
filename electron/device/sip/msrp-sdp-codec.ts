/**
 * The SDP seam of the MSRP peer connection: it builds and reads SDP only through `MsrpSdpCodec`, whose
 * implementation is protocol/sdp/msrp-sdp.ts `msrpSdpCodec` (RFC 4975 §8, RFC 6135; PROFILE.md
 * "A CPM session"). Tests or a future profile may inject another codec.
 */
import type { MsrpSdpDescription, SetupRole } from '../../../protocol/sdp/msrp-sdp';

export type { MsrpSdpDescription };

/** The `a=setup` values (RFC 4145 §4; RFC 6135 for MSRP). */
export type MsrpSetup = SetupRole;

/** Builds and parses MSRP SDP. `parse` throws an Error saying what is wrong with the text. */
export interface MsrpSdpCodec {
  build(description: MsrpSdpDescription, session: { id: string; version: number }): string;
  parse(sdp: string): MsrpSdpDescription;
}
