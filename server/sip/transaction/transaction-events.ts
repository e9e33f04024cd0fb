/** Event maps shared by the transaction state machines. */
import type { SipResponse } from '../message/sip-message';

/** Events of a client transaction (INVITE or non-INVITE). */
export type ClientTransactionEvents<S extends string> = {
  /** Every state change, after the entry actions of `to` ran. */
  stateChange: [from: S, to: S];
  /** A response the TU must see (provisional, final, and for INVITE every 2xx). */
  response: [response: SipResponse];
  /** Timer B or F fired: no final response (the TU treats it as 408, §8.1.3.1). */
  timeout: [];
  /** The request could not be sent (§8.1.3.1: treat as 503). */
  transportError: [error: Error];
};

/** Events of a server transaction (INVITE or non-INVITE). */
export type ServerTransactionEvents<S extends string> = {
  stateChange: [from: S, to: S];
  /** Timer H fired: the ACK for a non-2xx final response never came (§17.2.1). */
  timeout: [];
  /** A response could not be sent (§17.2.4). */
  transportError: [error: Error];
};
